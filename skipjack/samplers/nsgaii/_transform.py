"""Numeric parameters as a continuous box, for crossovers and mutations.

A log-scaled parameter is represented by its logarithm. A stepped float or an integer gets a
continuous range widened by half a step at each end, so that after rounding every grid point,
the end points included, owns an interval of the same width.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution

__all__ = ["NumericTransform"]


class NumericTransform:
    """Map Float/Int parameters of a search space to and from a continuous box.

    Args:
        search_space: Parameter name to FloatDistribution or IntDistribution.
    """

    def __init__(self, search_space: dict[str, BaseDistribution]) -> None:
        self.names = list(search_space)
        self._dists = [search_space[n] for n in self.names]
        bounds = np.empty((len(self._dists), 2))
        self._log = np.zeros(len(self._dists), dtype=bool)
        self._low = np.array([float(d.low) for d in self._dists])  # type: ignore[attr-defined]
        self._high = np.array([float(d.high) for d in self._dists])  # type: ignore[attr-defined]
        # Grid to round onto: the step, 1 for log-scaled ints, 0 for continuous floats.
        self._step = np.zeros(len(self._dists))
        self._is_int = [isinstance(d, IntDistribution) for d in self._dists]
        for i, dist in enumerate(self._dists):
            if not isinstance(dist, (FloatDistribution, IntDistribution)):
                raise TypeError(f"{self.names[i]!r} is not numeric: {dist!r}.")
            step = 0.0 if dist.step is None else float(dist.step)
            if isinstance(dist, IntDistribution) and dist.log:
                step = 1.0
            self._step[i] = step
            half = 0.5 * step
            low, high = dist.low - half, dist.high + half
            if dist.log:
                self._log[i] = True
                low, high = math.log(low), math.log(high)
            bounds[i] = (low, high)
        self.bounds = bounds
        self._lower, self._upper = bounds[:, 0].copy(), bounds[:, 1].copy()
        self._log_idx = np.flatnonzero(self._log)
        self._step_idx = np.flatnonzero(self._step > 0)
        self._step_low = self._low[self._step_idx]
        self._step_size = self._step[self._step_idx]
        # Continuous floats on a linear scale come back as they are, once inside the bounds.
        self._plain = not self._log_idx.size and not self._step_idx.size
        self._any_int = any(self._is_int)

    def transform(self, params: dict[str, Any]) -> np.ndarray:
        """Return the transformed vector of ``params`` (which must hold every name)."""
        x = np.array([float(params[n]) for n in self.names])
        if self._log_idx.size:
            x[self._log_idx] = np.log(x[self._log_idx])
        return x

    def transform_many(self, params: list[dict[str, Any]]) -> np.ndarray:
        """Return the ``(len(params), n_names)`` matrix of transformed vectors."""
        names = self.names
        x = np.array([[float(p[n]) for n in names] for p in params], dtype=float)
        x = x.reshape(len(params), len(names))
        if self._log_idx.size:
            x[:, self._log_idx] = np.log(x[:, self._log_idx])
        return x

    def untransform(self, x: np.ndarray) -> dict[str, Any]:
        """Return parameters (external values) for a transformed vector, inside the bounds."""
        # np.minimum/np.maximum rather than np.clip: same result, a fraction of the call cost.
        x = np.minimum(np.maximum(x, self._lower), self._upper)
        if not self._plain:
            if self._log_idx.size:
                x[self._log_idx] = np.exp(x[self._log_idx])
            if self._step_idx.size:
                low, step = self._step_low, self._step_size
                x[self._step_idx] = low + np.round((x[self._step_idx] - low) / step) * step
            # exp(log(high)) and grid rounding may land a hair outside the range.
            x = np.minimum(np.maximum(x, self._low), self._high)
        values = x.tolist()
        if not self._any_int:
            return dict(zip(self.names, values))
        return {
            name: int(round(value)) if is_int else value
            for name, is_int, value in zip(self.names, self._is_int, values)
        }
