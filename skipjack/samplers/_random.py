"""Uniform random sampling of each parameter, independently of the history."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _IndependentOnly
from skipjack.samplers._lazy_random_state import LazyRandomState

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["RandomSampler"]


class RandomSampler(_IndependentOnly, BaseSampler):
    """Draw every parameter independently and uniformly at random.

    Float ranges are sampled uniformly, or log-uniformly with ``log=True``; a float grid
    (``step``) and integer ranges give each allowed value the same probability; a log-scaled
    integer range is sampled log-uniformly and rounded to the nearest integer; a categorical
    parameter takes each choice with the same probability.

    Given the same seed, the values drawn are the same as Optuna's ``RandomSampler`` draws for the
    same sequence of suggestions, so a seeded study reproduces across the two libraries.

    Args:
        seed: Seed of the random generator; ``None`` draws a seed from the operating system.

    Example:
        >>> import skipjack as optuna
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=10)
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._rng = LazyRandomState(seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self._seed!r})"

    def reseed_rng(self) -> None:
        """Reseed the generator from the operating system's entropy."""
        self._rng.rng.seed()

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Return a uniformly drawn value of ``param_distribution`` in external form."""
        return _draw(self._rng._rng or self._rng.rng, param_distribution)


def _draw(rng: np.random.RandomState, dist: BaseDistribution) -> Any:
    """Draw one value from ``dist``.

    Numeric ranges are widened by half a step on each side before drawing and the draw is
    rounded to the nearest grid point, so the end points get as much probability as inner
    points. The order and number of random draws match Optuna's sampler, which keeps seeded
    streams identical between the two libraries.
    """
    kind = type(dist)
    if kind is FloatDistribution:
        return _draw_float(rng, dist)  # type: ignore[arg-type]
    if kind is IntDistribution:
        return _draw_int(rng, dist)  # type: ignore[arg-type]
    if isinstance(dist, CategoricalDistribution):
        # One uniform score per choice and the best wins: uniform over choices.
        scores = rng.random_sample(len(dist.choices))
        return dist.to_external_repr(int(scores.argmax()))
    if isinstance(dist, FloatDistribution):
        return _draw_float(rng, dist)
    if isinstance(dist, IntDistribution):
        return _draw_int(rng, dist)
    raise TypeError(
        f"RandomSampler cannot sample {dist!r}; expected a FloatDistribution, IntDistribution "
        "or CategoricalDistribution."
    )


def _uniform(rng: np.random.RandomState, low: float, high: float) -> float:
    # NumPy's legacy ``uniform`` computes exactly ``low + (high - low) * u``; calling the
    # scalar generator directly skips its array machinery and keeps the stream identical.
    return low + (high - low) * rng.random_sample()


def _below(high: float) -> float:
    """The largest float smaller than ``high``."""
    return math.nextafter(high, -math.inf)


def _draw_float(rng: np.random.RandomState, dist: FloatDistribution) -> float:
    low, high = dist.low, dist.high
    if dist.log:
        x = math.exp(_uniform(rng, math.log(low), math.log(high)))
        # exp(log(x)) can miss the bounds by an ulp: clip into [low, high), or onto the one
        # value of a single-point range.
        return low if low == high else min(max(x, low), _below(high))
    if dist.step is not None:
        step = dist.step
        u = _uniform(rng, low - 0.5 * step, high + 0.5 * step)
        k = round((u - low) / step)
        return float(min(max(k * step + low, low), high))
    u = low + (high - low) * rng.random_sample()  # _uniform, inlined on the hottest path
    # The range is half-open like numpy's uniform: ``high`` itself is never returned.
    return u if low == high else min(u, _below(high))


def _draw_int(rng: np.random.RandomState, dist: IntDistribution) -> int:
    low, high = dist.low, dist.high
    if dist.log:
        # Log-uniform over [low - 1/2, high + 1/2], rounded: value v gets the mass of
        # [log(v - 1/2), log(v + 1/2)).
        u = _uniform(rng, math.log(low - 0.5), math.log(high + 0.5))
        return min(max(round(math.exp(u)), low), high)
    step = dist.step
    u = _uniform(rng, low - 0.5 * step, high + 0.5 * step)
    k = math.floor((u - low) / step + 0.5)
    return min(max(k * step + low, low), high)
