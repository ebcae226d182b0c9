"""Log masses of a grid's cells under kernels, one table row per distinct kernel, kept for
the life of a kept mixture (``_incremental.py``): kernels refer to their row by number."""

from __future__ import annotations

import numpy as np

from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _truncnorm

__all__ = ["GridTable"]


class GridTable:
    """Log masses of every cell of one grid under each distinct ``(mu, sigma)`` seen; a pair
    keeps its number, so a kernel can keep it."""

    def __init__(self, dist: FloatDistribution | IntDistribution) -> None:
        assert dist.step is not None
        step = float(dist.step)
        n_cells = round((dist.high - dist.low) / step) + 1
        self.value_low = float(dist.low)
        self.step = step
        self.grid = self.value_low + np.arange(n_cells, dtype=float) * step
        self._left, self._right = self.grid - 0.5 * step, self.grid + 0.5 * step
        if dist.log:
            self._left, self._right = np.log(self._left), np.log(self._right)
        self._keys: dict[tuple[float, float], int] = {}
        # by_cell[c, r]: log mass of cell c under pair r (cell-major: a point's cell selects
        # a row, and kernels gather along it).
        self.by_cell = np.empty((n_cells, 0))
        self.by_cell32 = np.empty((n_cells, 0), dtype=np.float32)  # the same, single precision

    def row_of(self, mu: float, sigma: float) -> int:
        """Table row of the pair ``(mu, sigma)``, computing it if new."""
        row = self._keys.get((mu, sigma))
        if row is None:
            row = int(self.rows_of(np.array([mu]), np.array([sigma]))[0])
        return row

    def rows_of(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Table row of each ``(mu[i], sigma[i])``, computing the rows of new pairs."""
        out = np.empty(len(mu), dtype=np.intp)
        fresh: list[tuple[float, float]] = []
        for i, key in enumerate(zip(mu.tolist(), sigma.tolist())):
            row = self._keys.get(key)
            if row is None:
                row = self._keys[key] = len(self._keys)
                fresh.append(key)
            out[i] = row
        if fresh:
            centre = np.array([[m] for m, _ in fresh])
            width = np.array([[s] for _, s in fresh])
            masses = _truncnorm.log_gauss_mass_fast(
                (self._left - centre) / width, (self._right - centre) / width
            )
            self.by_cell = np.concatenate([self.by_cell, masses.T], axis=1)
            self.by_cell32 = self.by_cell.astype(np.float32)
        return out
