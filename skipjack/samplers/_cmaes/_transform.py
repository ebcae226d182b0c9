"""Map numeric parameters to the unit cube CMA-ES searches, and back.

Each parameter becomes one coordinate in ``[0, 1]``: a log-scaled one is mapped in the log
domain. Without margin, a grid parameter (int or float with ``step``) is widened by half a step on
each side so the end points get full cells, and the continuous value is rounded back onto the grid.
With margin (CMA-ES with Margin, Hamano et al. 2022) the range is not widened and the optimizer is
told each coordinate's step instead.
"""

from __future__ import annotations

import math

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution

__all__ = ["UnitTransform"]


class UnitTransform:
    """Affine (or log-affine) map between ``search_space`` and ``[0, 1]^d``.

    Args:
        search_space: Float and int distributions, in a fixed order.
        widen_steps: Widen grid parameters by half a step (no margin); otherwise keep the range.
    """

    def __init__(self, search_space: dict[str, BaseDistribution], widen_steps: bool) -> None:
        self.names = list(search_space)
        self.distributions = list(search_space.values())
        lows, highs = [], []
        for dist in self.distributions:
            if not isinstance(dist, (FloatDistribution, IntDistribution)):
                raise TypeError(f"CMA-ES handles numeric parameters only, not {dist!r}.")
            low, high = float(dist.low), float(dist.high)
            half = 0.0
            if dist.log:
                half = 0.5 if isinstance(dist, IntDistribution) and widen_steps else 0.0
                low, high = math.log(low - half), math.log(high + half)
            else:
                if widen_steps and dist.step is not None:
                    half = 0.5 * dist.step
                low, high = low - half, high + half
            lows.append(low)
            highs.append(high)
        self._low = np.asarray(lows)
        self._width = np.asarray(highs) - self._low
        self._scale = np.where(self._width > 0, self._width, 1.0)
        self._low_list: list[float] = self._low.tolist()
        self._width_list: list[float] = self._width.tolist()
        self.bounds = np.tile([0.0, 1.0], (len(self.names), 1))
        # Per coordinate, as plain Python values for the per-trial loops below:
        # (name, log, grid step or None, low, high, is_int).
        self._coords = [
            (
                name,
                bool(dist.log),  # type: ignore[attr-defined]
                None if dist.log else dist.step,  # type: ignore[attr-defined]
                dist.low,  # type: ignore[attr-defined]
                dist.high,  # type: ignore[attr-defined]
                isinstance(dist, IntDistribution),
            )
            for name, dist in search_space.items()
        ]

    def unit_steps(self) -> np.ndarray:
        """Each coordinate's grid step in unit space; 0 for continuous (and log) ones."""
        steps = np.zeros(len(self.names))
        for i, dist in enumerate(self.distributions):
            assert isinstance(dist, (FloatDistribution, IntDistribution))
            if dist.step is not None and not dist.log:
                steps[i] = dist.step / (dist.high - dist.low) if dist.high > dist.low else 1.0
        return steps

    def transform(self, params: dict[str, float]) -> np.ndarray:
        """Return the unit-cube point of ``params`` (external values)."""
        x = np.array(
            [
                math.log(params[name]) if log else float(params[name])
                for name, log, _, _, _, _ in self._coords
            ]
        )
        return (x - self._low) / self._scale

    def untransform(self, x: np.ndarray) -> dict[str, float | int]:
        """Return external values for the unit-cube point ``x``, on the grid and in range."""
        out: dict[str, float | int] = {}
        for (name, log, step, low, high, is_int), unit, start, width in zip(
            self._coords, x.tolist(), self._low_list, self._width_list
        ):
            value = start + min(max(unit, 0.0), 1.0) * width
            v = math.exp(value) if log else value
            if step is not None:
                v = low + round((v - low) / step) * step
            v = min(max(v, low), high)
            out[name] = int(min(max(round(v), low), high)) if is_int else float(v)
        return out
