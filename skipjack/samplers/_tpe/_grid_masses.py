"""Log probability masses of grid cells (``step`` and integer parameters) under the Parzen
estimator's kernels, with a per-process cache for coarse grids.

A grid kernel's density at a grid point is the mass of the kernel's truncated normal over that
point's cell ``[x - step/2, x + step/2]``. Coarse grids (at most ``_GRID_CACHE_CELLS`` cells)
keep the masses of every cell for each distinct (centre, bandwidth) seen, so later suggestions
reuse them; finer grids compute the masses of the points asked for.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

import numpy as np

from skipjack.samplers._tpe import _truncnorm
from skipjack.samplers._tpe._scratch import _TERM
from skipjack.samplers._tpe._scratch import _buffer

if TYPE_CHECKING:
    from skipjack.samplers._tpe._parzen_estimator import _Numeric

# Grids of at most this many cells keep their cell masses across suggestions, for up to this
# many distinct kernels and this many table entries (2 MB) each, in up to 16 grids.
_GRID_CACHE_CELLS = 128
_GRID_CACHE_ROWS = 4096
_GRID_CACHE_ENTRIES = 1 << 18


class _GridMassCache:
    """Log masses of every cell of one grid under kernels seen before, one row per distinct
    ``(mu, sigma)`` pair.

    On a grid the kernel centres are grid points and the bandwidths are multiples of the step
    or the magic clip, so the same pairs come back suggestion after suggestion; their cell
    masses (normal CDF differences) are computed once. Rows are computed exactly as the
    uncached path computes them, so cached and fresh masses agree to the bit.
    """

    def __init__(
        self, grid: np.ndarray, left: np.ndarray, right: np.ndarray, step: float, log: bool
    ) -> None:
        self.grid = grid  # the cells' values (internal representation), ``step`` apart
        self._step = step
        self._left = left  # model-domain cell edges
        self._right = right
        self._lock = threading.Lock()
        # Known pairs as complex numbers ``mu + i sigma`` (exact, and sortable), sorted, and
        # the table row of each.
        self._keys = np.zeros(0, dtype=complex)
        self._rows = np.zeros(0, dtype=np.intp)
        self._table = np.empty((64, len(grid)))
        # Per row, the cell probabilities (the masses normalised over the whole grid), filled
        # on first request: only one-parameter spaces ask for them.
        self._probabilities = np.empty((64, len(grid)))
        self._ready = np.zeros(64, dtype=bool)
        self._max_rows = min(_GRID_CACHE_ROWS, _GRID_CACHE_ENTRIES // len(grid))
        # The domain's ends and the cells' centres in the model domain (logged for ``log``).
        self.model_low = float(left[0])
        self.model_high = float(right[-1])
        self.model_grid = np.log(grid) if log else grid

    def cells(self, x: np.ndarray) -> np.ndarray | None:
        """The grid cell of each value; ``None`` when one is not a grid point."""
        if not np.isfinite(x).all():
            return None
        cell = np.rint((x - self.grid[0]) / self._step).astype(np.intp)
        # Clipped, a cell outside the grid reads an end value, which differs from the value.
        if not (self.grid.take(cell, mode="clip") == x).all():
            return None
        return cell

    def masses(self, mu: np.ndarray, sigma: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """``(len(cells), len(mu))`` log masses of grid cells ``cells`` under kernels
        ``(mu, sigma)``."""
        with self._lock:
            at = self._rows_of(mu, sigma)
            # One gather of the (kernels, cells) block, not of whole rows or columns.
            return self._table[at[:, None], cells].T

    def probabilities(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """``(len(mu), cells)``: each kernel's probability of every cell (its truncated
        normal's mass over the cell, divided by its mass over the whole grid)."""
        with self._lock:
            at = self._rows_of(mu, sigma)  # first: it may grow the table
            ready = self._ready[at]
            if not ready.all():
                todo = np.unique(at[~ready])
                # The cells tile the domain, so their masses sum to the kernel's mass in it.
                mass = np.exp(self._table[todo])
                self._probabilities[todo] = mass / mass.sum(axis=1, keepdims=True)
                self._ready[todo] = True
            return self._probabilities[at]

    def _rows_of(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Table rows of the kernels ``(mu, sigma)``, filled where new (lock held)."""
        keys = np.empty(len(mu), dtype=complex)
        keys.real, keys.imag = mu, sigma
        known = self._keys
        at = known.searchsorted(keys)
        if len(known):
            np.minimum(at, len(known) - 1, out=at)
            hit = known[at] == keys
        else:
            hit = np.zeros(len(keys), dtype=bool)
        if not hit.all():
            fresh = np.unique(keys[~hit])
            if len(known) + len(fresh) > self._max_rows:
                known, self._rows = np.zeros(0, dtype=complex), np.zeros(0, dtype=np.intp)
                fresh = np.unique(keys)
            start = len(known)
            self._add(start, fresh)
            merged = np.concatenate([known, fresh])
            order = np.argsort(merged)
            self._keys = known = merged[order]
            self._rows = np.append(self._rows, np.arange(start, start + len(fresh)))[order]
            at = known.searchsorted(keys)
        return self._rows[at]

    def _add(self, start: int, fresh: np.ndarray) -> None:
        """Fill table rows ``start, start + 1, ...`` for the pairs ``fresh``."""
        stop = start + len(fresh)
        if stop > len(self._table):
            size = max(stop, 2 * len(self._table))
            for name in ("_table", "_probabilities"):
                grown = np.empty((size, self._table.shape[1]))
                grown[:start] = getattr(self, name)[:start]
                setattr(self, name, grown)
            ready = np.zeros(size, dtype=bool)
            ready[:start] = self._ready[:start]
            self._ready = ready
        mu, sigma = fresh.real[:, None], fresh.imag[:, None]
        log_mass = _truncnorm.log_gauss_mass_fast(
            (self._left - mu) / sigma, (self._right - mu) / sigma
        )
        self._table[start:stop] = log_mass
        self._ready[start:stop] = False


@functools.lru_cache(maxsize=16)
def _grid_mass_cache(low: float, high: float, step: float, log: bool) -> _GridMassCache | None:
    """The shared cell-mass cache of one grid (``None`` for grids too fine to tabulate)."""
    n_cells = round((high - low) / step) + 1
    if n_cells > _GRID_CACHE_CELLS:
        return None
    grid = low + np.arange(n_cells, dtype=float) * step
    left, right = grid - 0.5 * step, grid + 0.5 * step
    if log:
        left, right = np.log(left), np.log(right)
    return _GridMassCache(grid, left, right, step, log)


def _cached_grid_masses(kernels: _Numeric, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(masses, point_cell)`` from the grid's cache: log masses per distinct cell and kernel
    (group) and the cell of each point; ``None`` when some point is off the grid."""
    assert kernels.step is not None
    cache = _grid_mass_cache(kernels.value_low, kernels.value_high, kernels.step, kernels.log)
    if cache is None:
        return None
    cell = cache.cells(x)
    if cell is None:
        return None
    # The distinct cells, in order, and each point's place among them (``np.unique``'s
    # result without its sort).
    present = np.zeros(len(cache.grid), dtype=bool)
    present[cell] = True
    cells = np.flatnonzero(present)
    point_cell = (np.cumsum(present) - 1)[cell]
    mu, sigma = kernels.mu, kernels.sigma
    if kernels.groups is not None:
        first = kernels.groups[0]
        mu, sigma = mu[first], sigma[first]
    return cache.masses(mu, sigma, cells), point_cell


def _add_grid_log_masses(joint: np.ndarray, grids: list[tuple[_Numeric, np.ndarray]]) -> None:
    """Add ``log P(value in [x - step/2, x + step/2])`` per point and kernel to ``joint`` for
    each grid parameter's ``(kernels, x)``.

    Each mass is computed once per distinct point and (when the kernels are grouped) distinct
    kernel. Coarse grids take their masses from a cache shared across suggestions
    (:class:`_GridMassCache`); for the others the normal CDF runs once for all of them
    together: the arrays are small, so the cost is in the number of NumPy calls.
    """
    found: list[tuple[np.ndarray, np.ndarray] | None] = []
    bounds: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for kernels, x in grids:
        assert kernels.step is not None
        cached = _cached_grid_masses(kernels, x)
        if cached is not None:
            found.append(cached)
            continue
        found.append(None)
        cells, rows = np.unique(x, return_inverse=True)
        left, right = cells - 0.5 * kernels.step, cells + 0.5 * kernels.step
        if kernels.log:
            left, right = np.log(left), np.log(right)
        mu, sigma = kernels.mu, kernels.sigma
        if kernels.groups is not None:
            first = kernels.groups[0]
            mu, sigma = mu[first], sigma[first]
        a, b = (left[:, None] - mu) / sigma, (right[:, None] - mu) / sigma
        # Rows are in sorted cell order, not point order, even when every point is distinct.
        bounds.append((a, b, rows))
    masses: list[np.ndarray] = []
    if len(bounds) == 1:
        masses = [_truncnorm.log_gauss_mass_fast(bounds[0][0], bounds[0][1])]
    elif bounds:
        flat = _truncnorm.log_gauss_mass_fast(
            np.concatenate([a.ravel() for a, *_ in bounds]),
            np.concatenate([b.ravel() for _, b, *_ in bounds]),
        )
        cuts = np.cumsum([a.size for a, *_ in bounds])[:-1]
        masses = [part.reshape(a.shape) for part, (a, *_) in zip(np.split(flat, cuts), bounds)]
    computed = iter(zip(masses, bounds))
    m = joint.shape[0]
    for (kernels, _), entry in zip(grids, found):
        if entry is None:
            mass, (_, _, point_cell) = next(computed)
        else:
            mass, point_cell = entry
        log_norm = kernels.log_norm
        if kernels.groups is not None:
            log_norm = log_norm[kernels.groups[0]]
        mass -= log_norm
        mass = mass[point_cell]
        if kernels.groups is None:
            joint += mass
        else:
            inverse = kernels.groups[1]
            joint += mass.take(inverse, axis=1, out=_buffer(_TERM, (m, len(inverse))), mode="clip")
