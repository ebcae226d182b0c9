"""Mutations: how one numeric parameter of a child is perturbed."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import numpy as np

from skipjack.samplers.nsgaii._crossovers import _warn_experimental

if TYPE_CHECKING:
    from skipjack.study import Study

__all__ = ["BaseMutation", "PolynomialMutation"]


class BaseMutation(abc.ABC):
    """Abstract base class of mutations of one transformed numeric parameter."""

    def __str__(self) -> str:
        return type(self).__name__

    @abc.abstractmethod
    def mutation(
        self,
        param: float,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> float:
        """Return the mutated value of ``param`` (transformed; the caller clips it).

        ``search_space_bounds`` is the pair ``(lower, upper)`` of transformed bounds.
        """
        raise NotImplementedError


class PolynomialMutation(BaseMutation):
    """Polynomial mutation (Deb and Goyal, 1996), bounded form.

    The perturbation follows a polynomial distribution scaled to the range and shrunk near
    the bounds so that the result stays inside them.

    Args:
        eta: Distribution index (>= 0); large values keep the result near ``param``.
    """

    def __init__(self, eta: float = 20.0) -> None:
        _warn_experimental(type(self), "5.0.0")
        if eta < 0:
            raise ValueError(f"`eta` must be a non-negative float value, got {eta}.")
        self._eta = eta

    def mutation(
        self,
        param: float,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> float:
        """Return ``param`` plus a polynomially distributed step within the bounds."""
        u = rng.rand()
        low, high = float(search_space_bounds[0]), float(search_space_bounds[1])
        width = high - low
        if width <= 0.0:
            return param
        power = 1.0 / (self._eta + 1.0)
        if u <= 0.5:
            slack = 1.0 - (param - low) / width
            value = 2.0 * u + (1.0 - 2.0 * u) * slack ** (self._eta + 1.0)
            delta = value**power - 1.0
        else:
            slack = 1.0 - (high - param) / width
            value = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * slack ** (self._eta + 1.0)
            delta = 1.0 - value**power
        return param + delta * width
