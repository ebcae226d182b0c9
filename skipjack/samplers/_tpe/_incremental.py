"""The bad ("above") Parzen estimator of a long study, kept up to date across suggestions.

From one suggestion to the next the bad set of a single-process study changes by a trial or
two (the newest trial, or a trial pushed out of the good set), while rebuilding its estimator
costs many passes over every kernel: sorting, bandwidths, domain masses, the coefficients of
the evaluation. :class:`IncrementalMixture` keeps the kernels of the last bad set, one per
history row, and applies the difference: it inserts kernels into (and retires them from) each
parameter's sorted order, recomputes the bandwidths around each change (a kernel's bandwidth
depends on its sorted neighbours only), and redoes the expensive per-kernel work only for
kernels whose bandwidth changed (the new ones and their neighbours). A retired kernel keeps
its place with zero weight until a large change rebuilds everything.

The model is :class:`~skipjack.samplers._tpe._parzen_estimator._ParzenEstimator`'s, kernel
for kernel: the same bandwidth rule (ties in sorted order broken by trial number), the same
prior kernel, the same weights. Kernels are summed in another order and, for large mixtures,
in single precision after the matrix product, so log-densities agree to about 1e-6.

Kernels are stored in arrival order with the prior at index 0: a kernel's weight comes from
its trial's rank in the current bad set, passed in with each update.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
import math
import threading
from typing import NamedTuple

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _truncnorm
from skipjack.samplers._tpe._blas import matmul_on_this_thread
from skipjack.samplers._tpe._grid_masses import _GRID_CACHE_CELLS
from skipjack.samplers._tpe._grid_table import GridTable
from skipjack.samplers._tpe._parzen_estimator import _FAR
from skipjack.samplers._tpe._parzen_estimator import _LOG_SQRT_2PI
from skipjack.samplers._tpe._parzen_estimator import _log
from skipjack.samplers._tpe._parzen_estimator import _log_domain_mass
from skipjack.samplers._tpe._parzen_estimator import _logsumexp_rows
from skipjack.samplers._tpe._parzen_estimator import _model_bounds
from skipjack.samplers._tpe._parzen_estimator import _sorted_bandwidths
from skipjack.samplers._tpe._scratch import _JOINT
from skipjack.samplers._tpe._scratch import _JOINT32
from skipjack.samplers._tpe._scratch import _buffer
from skipjack.samplers._tpe._sorted_run import SortedRun

__all__ = ["IncrementalMixture"]

# Below this many observations a rebuild from scratch is cheap, and the magic clip (which
# depends on the count) still moves every bandwidth at each trial.
MIN_OBSERVATIONS = 256
# A difference of more kernels than this is applied by rebuilding.
_MAX_CHANGES = 32
# With fewer observations than this the magic clip depends on their number: always rebuild.
_MIN_KEPT = 100
# Up to this many (parameter, kernel) pairs, per-kernel work runs on Python floats.
_FEW = 48
# From this many (point, kernel) terms on, the evaluation after the matrix product runs in
# single precision.
_SINGLE_FROM = 4096


class _Points(NamedTuple):
    """Points prepared for evaluation by :meth:`IncrementalMixture.points`."""

    u: np.ndarray  # (points, coefficient rows)
    cells: list[tuple[int, np.ndarray, np.ndarray]]  # (grid parameter, cells, point's cell)


class IncrementalMixture:
    """A Parzen estimator over ``space`` whose observations are history rows, updated by
    difference. Not thread-safe: keep one per thread.

    Args:
        space: Numeric (continuous or on a grid of at most ``_GRID_CACHE_CELLS`` cells) and
            categorical parameters; see :meth:`supports`.
        prior_weight, consider_endpoints: As for ``_ParzenEstimator``; the magic clip is on.
    """

    def __init__(
        self, space: Mapping[str, BaseDistribution], prior_weight: float, consider_endpoints: bool
    ) -> None:
        self._prior_weight = prior_weight
        self._consider_endpoints = consider_endpoints
        self._numeric = [n for n, d in space.items() if not isinstance(d, CategoricalDistribution)]
        dists = [space[n] for n in self._numeric]
        steps, low, high, log_rows = _model_bounds(tuple(dists))  # type: ignore[arg-type]
        self._low, self._high = low, high
        self._log_rows = log_rows
        self._continuous = [i for i, s in enumerate(steps) if s is None]
        self._continuous_rows = np.array(self._continuous, dtype=np.intp)[:, None]
        self._grids = {
            i: GridTable(dists[i])  # type: ignore[arg-type]
            for i, s in enumerate(steps)
            if s is not None
        }
        self._categorical = {
            n: len(d.choices)  # type: ignore[attr-defined]
            for n, d in space.items()
            if isinstance(d, CategoricalDistribution)
        }
        # Rows of the evaluation's coefficient matrix: per continuous parameter a quadratic and
        # a linear row, one row of per-kernel constants, then per categorical parameter one
        # indicator row per choice (1 where the kernel's observation took it).
        self._offset_row = 2 * len(self._continuous)
        self._choice_row: dict[str, int] = {}
        next_row = self._offset_row + 1
        for name, n_choices in self._categorical.items():
            self._choice_row[name] = next_row
            next_row += n_choices
        self._n_coef = next_row
        self._n_observations = 0
        self._last_rows: np.ndarray | None = None
        self._clear()

    @staticmethod
    def supports(
        space: Mapping[str, BaseDistribution], consider_magic_clip: bool, prior_weight: float
    ) -> bool:
        """Whether this class can model ``space`` (otherwise build estimators afresh)."""
        if not consider_magic_clip or not space:
            return False
        if prior_weight <= 0 and any(
            isinstance(d, CategoricalDistribution) for d in space.values()
        ):
            return False  # an observation's kernel gives other choices no mass at all
        for dist in space.values():
            if isinstance(dist, CategoricalDistribution):
                continue
            if not isinstance(dist, (FloatDistribution, IntDistribution)):
                return False
            if dist.step is not None:
                if round((dist.high - dist.low) / float(dist.step)) + 1 > _GRID_CACHE_CELLS:
                    return False
        return True

    def _clear(self, capacity: int = 64) -> None:
        """Drop every observation kernel; keep room for ``capacity`` kernels."""
        d = len(self._numeric)
        self._k = 1  # kernels in use, the prior (index 0) included
        self._last_rows = None
        self._n_dead = 0
        # Per kernel (columns up to the capacity): history row (-1: the prior), whether it
        # is still an observation of the set, and per numeric parameter its centre (model
        # domain), bandwidth and log domain mass.
        self._rows = np.full(capacity, -1, dtype=np.intp)
        self._kernel_rank = np.full(capacity, -1, dtype=np.intp)  # rank among the rows
        self._alive = np.zeros(capacity, dtype=bool)
        self._alive[0] = True
        self._mu = np.empty((d, capacity))
        self._mu[:, 0] = 0.5 * (self._low + self._high)
        self._sigma = np.full((d, capacity), np.nan)
        self._sigma[:, 0] = self._high - self._low
        self._log_norm = np.empty((d, capacity))
        self._coef = np.zeros((self._n_coef, capacity))
        self._constant = np.zeros(capacity)  # everything in the offset row but the weight
        self._grid_rows = {i: np.zeros(capacity, dtype=np.intp) for i in self._grids}
        # Per numeric parameter, the live kernels in (value, trial number) order, and values.
        self._sorted = [SortedRun() for _ in self._numeric]
        self._refresh_kernels([(i, np.zeros(1, dtype=np.intp)) for i in range(d)])
        self._log_mixture = np.zeros(1)

    def _reserve(self, needed: int) -> None:
        capacity = self._rows.shape[0]
        if needed <= capacity:
            return
        size = max(needed, 2 * capacity)

        def grown(array: np.ndarray, fill: float | int | bool) -> np.ndarray:
            out = np.full((*array.shape[:-1], size), fill, dtype=array.dtype)
            out[..., :capacity] = array
            return out

        self._rows, self._alive = grown(self._rows, -1), grown(self._alive, False)
        self._kernel_rank = grown(self._kernel_rank, -1)
        self._mu, self._sigma = grown(self._mu, 0.0), grown(self._sigma, np.nan)
        self._log_norm, self._coef = grown(self._log_norm, 0.0), grown(self._coef, 0.0)
        self._constant = grown(self._constant, 0.0)
        self._grid_rows = {i: grown(r, 0) for i, r in self._grid_rows.items()}

    # ---- updating ---------------------------------------------------------------------------
    def update(
        self,
        rows: np.ndarray,
        values: Callable[[np.ndarray], Mapping[str, np.ndarray]],
        weights: np.ndarray,
    ) -> None:
        """Make the kernels those of the observations named by ``rows`` (in increasing trial
        number order, as ``weights``; any names that stay with their observation: history
        rows, or trial numbers when running trials are among them); ``values(positions)``
        gives the internal values of the observations at those positions of ``rows``, per
        parameter (only new ones are asked for)."""
        n, k = len(rows), self._k
        before = self._n_observations
        last = self._last_rows
        if last is not None and n >= before and np.array_equal(rows[:before], last):
            # Only rows after the last ones joined (the common case): every kernel keeps
            # its rank, the new ones take the next.
            added = np.arange(before, n)
            gone = np.zeros(0, dtype=np.intp)
            self._reserve(k + len(added))
            kernel_rank = self._kernel_rank
            kernel_rank[k : k + len(added)] = added
        else:
            live_rows = self._rows[1:k]
            extent = int(max(rows.max(initial=-1), live_rows.max(initial=-1))) + 1
            rank = np.full(extent, -1, dtype=np.intp)
            rank[rows] = np.arange(n)
            alive = self._alive[1:k]
            gone = np.flatnonzero(alive & (rank[live_rows] < 0)) + 1
            known = np.zeros(extent, dtype=bool)
            known[live_rows[alive]] = True
            added = np.flatnonzero(~known[rows])
            self._reserve(k + len(added))
            kernel_rank = self._kernel_rank
            kernel_rank[1:k] = rank[live_rows]
            kernel_rank[k : k + len(added)] = added  # positions in ``rows`` are ranks
        # Few observations: the magic clip still moves with their number (and so does every
        # bandwidth), and a rebuild is cheap.
        if (
            len(gone) + len(added) > _MAX_CHANGES
            or self._n_dead + len(gone) > k // 4
            or min(n, before) < _MIN_KEPT
        ):
            self._clear(max(64, 2 * (n + 1)))
            added = np.arange(n)
            gone = np.zeros(0, dtype=np.intp)
            kernel_rank = self._kernel_rank
            kernel_rank[: n + 1] = np.arange(-1, n)
        moved: list[tuple[int, np.ndarray]] = []
        for kernel in gone.tolist():
            self._alive[kernel] = False
            self._kernel_rank[kernel] = -1
            self._n_dead += 1
            moved += self._unlink(kernel)
        if len(added):
            moved += self._append(rows[added], values(added), kernel_rank, self._k == 1)
        self._refresh_kernels(moved)
        self._n_observations = n
        self._last_rows = rows
        k = self._k
        mixture = np.zeros(k)
        mixture[0] = self._prior_weight if n else 1.0
        if self._n_dead:
            live = np.flatnonzero(self._alive[1:k]) + 1
            mixture[live] = weights[kernel_rank[live]]
        else:
            np.take(weights, kernel_rank[1:k], out=mixture[1:])
        mixture /= mixture.sum()
        self._log_mixture = _log(mixture)

    def _unlink(self, kernel: int) -> list[tuple[int, np.ndarray]]:
        """Take ``kernel`` out of every sorted order; return ``(parameter, kernels)`` pairs
        of the kernels whose bandwidth changed."""
        changed = []
        for i in range(len(self._numeric)):
            run = self._sorted[i]
            values = run.values
            lo = int(values.searchsorted(self._mu[i, kernel], side="left"))
            hi = int(values.searchsorted(self._mu[i, kernel], side="right"))
            at = lo + int(np.flatnonzero(run.kernels[lo:hi] == kernel)[0])
            run.delete(at)
            changed.append((i, self._rebandwidth(i, at - 1, at + 1)))
        return changed

    def _append(
        self,
        rows: np.ndarray,
        observations: Mapping[str, np.ndarray],
        kernel_rank: np.ndarray,
        bulk: bool,
    ) -> list[tuple[int, np.ndarray]]:
        """Add kernels for ``rows``; return ``(parameter, kernels)`` pairs of the kernels whose
        bandwidth changed."""
        count = len(rows)
        start = self._k
        self._reserve(start + count)
        new = np.arange(start, start + count)
        self._k = start + count
        self._rows[new] = rows
        self._alive[new] = True
        d = len(self._numeric)
        x = np.array([observations[name] for name in self._numeric], dtype=float).reshape(d, count)
        if self._log_rows is not None:
            x[self._log_rows] = np.log(x[self._log_rows])
        self._mu[:, new] = x
        self._sigma[:, new] = np.nan
        for name, first in self._choice_row.items():
            choice = np.asarray(observations[name]).astype(np.intp)
            self._coef[first + choice, new] = 1.0
        if bulk:
            live = np.flatnonzero(self._alive[1 : self._k]) + 1
            for i in range(d):
                order = np.lexsort((kernel_rank[live], self._mu[i, live]))
                self._sorted[i].reset(live[order], self._mu[i, live][order])
            if d:
                sorted_sigma = _sorted_bandwidths(
                    np.array([run.values for run in self._sorted]),
                    self._low,
                    self._high,
                    True,
                    self._consider_endpoints,
                )
                for i in range(d):
                    self._sigma[i, self._sorted[i].kernels] = sorted_sigma[i]
            return [(i, live) for i in range(d)]
        changed = []
        for i in range(d):
            for kernel in new.tolist():
                value, k_rank = self._mu[i, kernel], kernel_rank[kernel]
                run = self._sorted[i]
                values = run.values
                lo = int(values.searchsorted(value, side="left"))
                hi = int(values.searchsorted(value, side="right"))
                if hi > lo:  # ties: by trial number
                    lo += int(np.searchsorted(kernel_rank[run.kernels[lo:hi]], k_rank))
                run.insert(lo, kernel, value)
                changed.append((i, self._rebandwidth(i, lo - 1, lo + 2)))
        return changed

    def _rebandwidth(self, i: int, start: int, stop: int) -> np.ndarray:
        """Recompute the bandwidths of parameter ``i``'s kernels at sorted places
        ``start .. stop - 1`` (clipped to the order) from their neighbours, by the rule of
        ``_sorted_bandwidths`` (the same floating-point operations, on Python floats: the
        window is a few kernels); return the kernels whose bandwidth changed."""
        run = self._sorted[i]
        values = run.values
        n = len(values)
        start, stop = max(start, 0), min(stop, n)
        if start >= stop:
            return np.zeros(0, dtype=np.intp)
        low, high = float(self._low[i]), float(self._high[i])
        padded = values[max(start - 1, 0) : stop + 1].tolist()
        if start == 0:
            padded.insert(0, low)
        if stop == n:
            padded.append(high)
        width = high - low
        min_sigma = width / min(100.0, n + 2.0)
        kernels = run.kernels[start:stop]
        row = self._sigma[i]
        moved = []
        for j, kernel in enumerate(kernels.tolist()):
            left = padded[j + 1] - padded[j]
            right = padded[j + 2] - padded[j + 1]
            place = start + j
            if not self._consider_endpoints and n >= 2 and place in (0, n - 1):
                # The outermost kernels look inward only.
                sigma = right if place == 0 else left
            else:
                sigma = max(left, right)
            sigma = min(max(sigma, min_sigma), width)
            if not sigma == row[kernel]:
                row[kernel] = sigma
                moved.append(kernel)
        return np.array(moved, dtype=np.intp)

    def _refresh_few(self, moved: list[tuple[int, np.ndarray]]) -> None:
        """:meth:`_refresh_kernels` for a few kernels, on Python floats (the same formulas;
        NumPy's per-call overhead would dominate arrays this small)."""
        touched: set[int] = set()
        for i, kernels in moved:
            if not len(kernels):
                continue
            low, high = float(self._low[i]), float(self._high[i])
            grid = self._grids.get(i)
            mu_row, sigma_row, norm_row = self._mu[i], self._sigma[i], self._log_norm[i]
            for kernel in kernels.tolist():
                mu, sigma = float(mu_row[kernel]), float(sigma_row[kernel])
                norm_row[kernel] = _scalar_log_domain_mass(mu, sigma, low, high)
                if grid is not None:
                    self._grid_rows[i][kernel] = grid.row_of(mu, sigma)
                touched.add(kernel)
        d = len(self._continuous)
        for kernel in touched:
            constant = 0.0
            for j, i in enumerate(self._continuous):
                low, high = float(self._low[i]), float(self._high[i])
                width = high - low
                raw_sigma = float(self._sigma[i, kernel])
                mu = (float(self._mu[i, kernel]) - 0.5 * (low + high)) / width
                sigma = raw_sigma / width
                inv_var = 1.0 / (sigma * sigma)
                self._coef[j, kernel] = -0.5 * inv_var
                self._coef[d + j, kernel] = mu * inv_var
                constant -= math.log(raw_sigma) + float(self._log_norm[i, kernel])
                constant -= _LOG_SQRT_2PI + 0.5 * (mu * mu * inv_var)
            for i in self._grids:
                constant -= float(self._log_norm[i, kernel])
            self._constant[kernel] = constant

    def _refresh_kernels(self, moved: list[tuple[int, np.ndarray]]) -> None:
        """Redo the per-kernel work after bandwidths moved (``(parameter, kernels)`` pairs):
        domain masses, grid cells' masses, and the evaluation coefficients (see
        ``_choice_row``) of every kernel concerned. Retired kernels are left as they are."""
        parts = [kernels for _, kernels in moved if len(kernels)]
        if not parts:
            return
        if sum(len(part) for part in parts) <= _FEW:
            self._refresh_few(moved)
            return
        # Every (parameter, kernel) pair at once; a pair listed twice is just computed twice.
        param = np.concatenate([np.full(len(kernels), i) for i, kernels in moved if len(kernels)])
        where = np.concatenate(parts)
        mu, sigma = self._mu[param, where], self._sigma[param, where]
        self._log_norm[param, where] = _log_domain_mass(
            mu, sigma, self._low[param], self._high[param]
        )
        for i, grid in self._grids.items():
            mine = param == i
            if mine.any():
                self._grid_rows[i][where[mine]] = grid.rows_of(mu[mine], sigma[mine])
        kernels = np.unique(where) if len(where) > len(parts[0]) else parts[0]
        constant = np.zeros(len(kernels))
        rows = self._continuous
        if rows:
            low, high = self._low[rows, None], self._high[rows, None]
            centre, width = 0.5 * (low + high), high - low
            block = (self._continuous_rows, kernels)
            raw_sigma = self._sigma[block]
            mu = (self._mu[block] - centre) / width
            sigma = raw_sigma / width
            inv_var = 1.0 / (sigma * sigma)
            d = len(rows)
            self._coef[:d, kernels] = -0.5 * inv_var
            self._coef[d : 2 * d, kernels] = mu * inv_var
            constant -= (np.log(raw_sigma) + self._log_norm[block]).sum(axis=0)
            constant -= d * _LOG_SQRT_2PI + 0.5 * (mu * mu * inv_var).sum(axis=0)
        for i in self._grids:
            constant -= self._log_norm[i, kernels]
        self._constant[kernels] = constant

    # ---- evaluating -------------------------------------------------------------------------
    def points(self, samples: Mapping[str, np.ndarray]) -> _Points:
        """The evaluation's view of ``samples`` (internal values), shareable by mixtures over
        the same space: per-point features of the matrix product (categoricals as 1 on
        their choice's row; see ``_choice_row``) and, per grid, the distinct cells and each
        point's cell among them."""
        first = next(iter(samples.values()))
        m = len(first)
        d = len(self._continuous)
        u = np.zeros((m, self._n_coef))
        for j, i in enumerate(self._continuous):
            x = np.asarray(samples[self._numeric[i]], dtype=float)
            if self._log_rows is not None and self._log_rows[i]:
                x = np.log(x)
            centre = 0.5 * (self._low[i] + self._high[i])
            u[:, d + j] = (x - centre) / (self._high[i] - self._low[i])
        np.multiply(u[:, d : 2 * d], u[:, d : 2 * d], out=u[:, :d])
        u[:, self._offset_row] = 1.0
        everyone = np.arange(m)
        for name, row in self._choice_row.items():
            u[everyone, row + np.asarray(samples[name]).astype(np.intp)] = 1.0
        cells = []
        for i, grid in self._grids.items():
            x = np.asarray(samples[self._numeric[i]], dtype=float)
            cell = np.rint((x - grid.value_low) / grid.step).astype(np.intp)
            # Points come rounded onto the grid; the bounds only guard the indexing.
            cell = np.minimum(np.maximum(cell, 0), len(grid.grid) - 1)
            # The distinct cells, and each point's place among them (``np.unique``'s answer
            # without its sort).
            present = np.zeros(len(grid.grid), dtype=bool)
            present[cell] = True
            cells.append((i, np.flatnonzero(present), (np.cumsum(present) - 1)[cell]))
        return _Points(u, cells)

    def log_pdf(self, samples: Mapping[str, np.ndarray] | _Points) -> np.ndarray:
        """Log-density of the mixture at each point (internal values, or :meth:`points` of
        them), as ``_ParzenEstimator.log_pdf``."""
        points = samples if isinstance(samples, _Points) else self.points(samples)
        u = points.u
        m, k = len(u), self._k
        offset = np.add(self._constant[:k], self._log_mixture, out=self._coef[self._offset_row, :k])
        if self._categorical:
            u = u.copy()
            n = self._n_observations
            for name, n_choices in self._categorical.items():
                # An observation's kernel gives its own choice (share + 1) / total and every
                # other share / total; the prior kernel is uniform.
                share = self._prior_weight / (n + 1)
                total = n_choices * share + 1.0
                offset[1:] += math.log(share / total)
                offset[0] -= math.log(n_choices)
                row = self._choice_row[name]
                u[:, row : row + n_choices] *= math.log((share + 1.0) / share)
        joint = matmul_on_this_thread(u, self._coef[:, :k], _buffer(_JOINT, (m, k)))
        if m * k < _SINGLE_FROM:
            for i, cells, point_cell in points.cells:
                mass = self._grids[i].by_cell[cells].take(self._grid_rows[i][:k], axis=1)
                joint += mass[point_cell]
            return _logsumexp_rows(joint, overwrite=True)
        # The product is taken in double precision (its terms cancel); what follows, in
        # single: the terms that matter are within 80 of their row's largest, where single
        # precision is good to about 1e-5, and the passes move half the bytes.
        joint32 = _buffer(_JOINT32, (m, k), np.float32)
        joint32[...] = joint
        for i, cells, point_cell in points.cells:
            mass = self._grids[i].by_cell32[cells].take(self._grid_rows[i][:k], axis=1)
            joint32 += mass[point_cell]
        return _logsumexp_rows(joint32, overwrite=True)


def _scalar_log_domain_mass(mu: float, sigma: float, low: float, high: float) -> float:
    """``_log_domain_mass`` of one kernel: log of its normal's mass inside ``[low, high]``
    (the tails beyond ``_FAR`` standard deviations are below 1e-17 and skipped)."""
    a = (low - mu) / sigma
    b = (high - mu) / sigma
    ndtr = _truncnorm._scipy_special().ndtr
    tails = 0.0
    if a > -_FAR:
        tails += float(ndtr(a))
    if b < _FAR:
        tails += float(ndtr(-b))
    return math.log1p(-tails)


class MixtureCache:
    """Per thread, the :class:`IncrementalMixture` of each search space of one history."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(
        self,
        history: object,
        space: Mapping[str, BaseDistribution],
        prior_weight: float,
        consider_endpoints: bool,
    ) -> IncrementalMixture:
        """The mixture of ``space`` (created empty on first use)."""
        cached: dict[object, IncrementalMixture] | None = getattr(self._local, "mixtures", None)
        if cached is None or getattr(self._local, "history", None) is not history:
            cached = self._local.mixtures = {}
            self._local.history = history
        key = tuple(space.items())
        mixture = cached.get(key)
        if mixture is None:
            if len(cached) >= 64:
                cached.clear()
            mixture = cached[key] = IncrementalMixture(space, prior_weight, consider_endpoints)
        return mixture
