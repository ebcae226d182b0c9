"""Encode a search space as points of ``[0, 1]^d`` for the Gaussian process, and decode them.

A numeric parameter is one coordinate in ``[0, 1]`` (the log domain for ``log=True``); a grid
parameter (int, or float with ``step``) is widened by half a step on each side so that every grid
value owns an equal cell, and decoded by rounding onto the grid. A categorical parameter is one
coordinate holding the choice's index; the kernel compares such coordinates by equality (Hamming
distance), so their numeric values carry no order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution

__all__ = ["EncodedSpace"]


class EncodedSpace:
    """The encoding of one search space (parameters in the given order)."""

    def __init__(self, search_space: dict[str, BaseDistribution]) -> None:
        self.names = list(search_space)
        self.distributions = list(search_space.values())
        d = len(self.names)
        self.is_categorical = np.zeros(d, dtype=bool)
        self.n_choices = np.zeros(d, dtype=int)
        # Encoded = (internal value, or its log, - low) / width; step > 0 marks a grid.
        self._low = np.zeros(d)
        self._width = np.ones(d)
        self._log = np.zeros(d, dtype=bool)
        self.unit_step = np.zeros(d)
        for i, dist in enumerate(self.distributions):
            if isinstance(dist, CategoricalDistribution):
                self.is_categorical[i] = True
                self.n_choices[i] = len(dist.choices)
                continue
            if not isinstance(dist, (FloatDistribution, IntDistribution)):
                raise TypeError(f"Unsupported distribution {dist!r}.")
            low, high = float(dist.low), float(dist.high)
            if dist.log:
                self._log[i] = True
                half = 0.5 if isinstance(dist, IntDistribution) else 0.0
                low, high = math.log(low - half), math.log(high + half)
            elif dist.step is not None:
                half = 0.5 * dist.step
                low, high = low - half, high + half
                self.unit_step[i] = dist.step / (high - low)
            self._low[i] = low
            self._width[i] = max(high - low, 1e-300)

    @property
    def dim(self) -> int:
        """Number of encoded coordinates."""
        return len(self.names)

    def encode(self, params_list: list[dict[str, Any]]) -> np.ndarray:
        """Encode parameter dictionaries (external values) into an ``(n, d)`` array."""
        x = np.empty((len(params_list), self.dim))
        for j, (name, dist) in enumerate(zip(self.names, self.distributions)):
            column = [dist.to_internal_repr(params[name]) for params in params_list]
            x[:, j] = column
        numeric = ~self.is_categorical
        logs = self._log
        x[:, logs] = np.log(x[:, logs])
        x[:, numeric] = (x[:, numeric] - self._low[numeric]) / self._width[numeric]
        return x

    def round(self, x: np.ndarray) -> np.ndarray:
        """Snap encoded points (any leading shape) to values a decode maps one-to-one."""
        x = np.clip(x, 0.0, 1.0)
        cat = self.is_categorical
        if cat.any():
            x[..., cat] = np.clip(np.round(x[..., cat]), 0, self.n_choices[cat] - 1)
        for i in np.flatnonzero(self.unit_step > 0):
            dist = self.distributions[i]
            assert isinstance(dist, (FloatDistribution, IntDistribution)) and dist.step
            n_cells = round((dist.high - dist.low) / dist.step) + 1
            k = np.clip(np.floor(x[..., i] * n_cells), 0, n_cells - 1)
            x[..., i] = (k + 0.5) / n_cells
        return x

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """External parameter values of the encoded point ``x`` (on the grid and in range)."""
        out: dict[str, Any] = {}
        for i, (name, dist) in enumerate(zip(self.names, self.distributions)):
            if isinstance(dist, CategoricalDistribution):
                index = int(np.clip(round(float(x[i])), 0, len(dist.choices) - 1))
                out[name] = dist.to_external_repr(index)
                continue
            assert isinstance(dist, (FloatDistribution, IntDistribution))
            v = self._low[i] + float(np.clip(x[i], 0.0, 1.0)) * self._width[i]
            if self._log[i]:
                v = math.exp(v)
            if dist.step is not None and not dist.log:
                v = dist.low + round((v - dist.low) / dist.step) * dist.step
            v = min(max(v, dist.low), dist.high)
            out[name] = int(round(v)) if isinstance(dist, IntDistribution) else float(v)
            if isinstance(dist, IntDistribution):
                out[name] = min(max(out[name], dist.low), dist.high)
        return out
