"""TPE for a search space of one discrete parameter (a categorical, or a coarse grid: ``step``
or integer), done per cell straight from the observations.

Independent sampling (the default with several objectives) models each parameter on its own,
so the estimators of a discrete parameter are mixtures of up to thousands of kernels that take
only a few distinct forms, and all TPE needs of them is each cell's probability: candidates
drawn from the good mixture land in a cell with its probability (a grid kernel's draw is
rounded to the nearest grid point, so it lands in a cell with the kernel's mass over the
cell), and the acquisition compares the two mixtures' probabilities of the candidates' cells.
Building :class:`_ParzenEstimator` objects (sorting, bandwidths, grouping, drawing each
candidate's kernel) costs far more than that.

On a grid, a run of observations with the same value has at most four kernel forms (the
bandwidth rule gives the first of the run in trial order the gap to its left neighbour, the
last the gap to its right, every other one zero, raised to the magic clip; a lone observation
the larger gap), so the mixture is one weighted kernel per (cell, form), found by counting per
cell rather than by sorting. Each cell's probability is then one product of the kernels'
weights with their cell probabilities (kept per kernel by the grid's cache); it agrees with
the estimator's log-space evaluation to rounding (the prior kernel, as wide as the domain,
keeps every cell's probability far from underflow; without a prior this path is not taken).
"""

from __future__ import annotations

from collections.abc import Callable
import threading
from typing import Any

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe._grid_masses import _grid_mass_cache
from skipjack.samplers._tpe._grid_masses import _GridMassCache
from skipjack.samplers._tpe._parzen_estimator import _EPS

__all__ = ["DiscreteSpace", "DiscreteSpaces", "best_cell"]

# A space not looked at yet (``None`` is a looked-at space this path does not handle).
_UNSEEN: Any = object()
# Kernel forms within a run of equal observations.
_INNER, _FIRST, _LAST, _ALONE = range(4)


class DiscreteSpace:
    """The cells of one discrete parameter and its estimators' probabilities of them.

    Args:
        dist: A categorical distribution, or a numeric one with a step whose grid is coarse
            enough for the grid cache. Check with :meth:`of` first.
        prior_weight: Weight of the prior kernel relative to the observations' (positive).
        consider_magic_clip: Clip bandwidths below by ``range / min(100, n + 2)``.
        consider_endpoints: Let the outermost kernels' bandwidths reach to the domain ends.
    """

    def __init__(
        self,
        n_choices: int,
        cache: _GridMassCache | None,
        prior_weight: float,
        consider_magic_clip: bool,
        consider_endpoints: bool,
    ) -> None:
        self._prior_weight = prior_weight
        self._clip = consider_magic_clip
        self._endpoints = consider_endpoints
        self._cache = cache
        # The cells' internal values: the grid points, or the choices' indices.
        self.values = cache.grid if cache is not None else np.arange(n_choices, dtype=float)

    @classmethod
    def of(
        cls,
        space: dict[str, BaseDistribution],
        prior_weight: float,
        consider_magic_clip: bool,
        consider_endpoints: bool,
    ) -> DiscreteSpace | None:
        """The :class:`DiscreteSpace` of ``space`` when it is one discrete parameter this
        path handles (a prior is needed, and a grid coarse enough to tabulate); else ``None``."""
        if len(space) != 1 or not prior_weight > 0:
            return None
        dist = next(iter(space.values()))
        options = (prior_weight, consider_magic_clip, consider_endpoints)
        if isinstance(dist, CategoricalDistribution):
            return cls(len(dist.choices), None, *options)
        if not isinstance(dist, (FloatDistribution, IntDistribution)) or dist.step is None:
            return None
        cache = _grid_mass_cache(float(dist.low), float(dist.high), float(dist.step), dist.log)
        return None if cache is None else cls(0, cache, *options)

    def probabilities(self, values: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
        """Probability of each cell (grid point or choice, in order) under the estimator of
        the observations ``values`` (internal values, in trial-number order) with ``weights``;
        ``None`` when a value is not a cell."""
        n = len(values)
        mixture = np.empty(n + 1)
        mixture[:n] = weights
        mixture[n] = self._prior_weight
        mixture /= mixture.sum()
        cell = self.cells(values)
        if cell is None:
            return None
        if self._cache is None:
            return _categorical_probabilities(cell, mixture, len(self.values), self._prior_weight)
        mu, sigma, kernel_weights = _grid_kernels(
            cell, mixture, self._cache, self._clip, self._endpoints
        )
        return kernel_weights @ self._cache.probabilities(mu, sigma)

    def cells(self, x: np.ndarray) -> np.ndarray | None:
        """Cell of each internal value; ``None`` when one is not a cell."""
        if self._cache is not None:
            return self._cache.cells(x)
        if not np.isfinite(x).all():
            return None
        cell = x.astype(np.intp)
        if not ((cell >= 0) & (cell < len(self.values)) & (cell == x)).all():
            return None
        return cell


class DiscreteSpaces:
    """One sampler's :class:`DiscreteSpace` of each one-parameter space seen (``None`` where
    this path does not apply), built once; and per thread the last good mixture of each."""

    def __init__(
        self, prior_weight: float, consider_magic_clip: bool, consider_endpoints: bool
    ) -> None:
        self._options = (prior_weight, consider_magic_clip, consider_endpoints)
        self._known: dict[tuple[str, BaseDistribution], DiscreteSpace | None] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def get(self, space: dict[str, BaseDistribution]) -> DiscreteSpace | None:
        """The :class:`DiscreteSpace` of ``space``, or ``None``."""
        if len(space) != 1:
            return None
        key = next(iter(space.items()))
        found = self._known.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = DiscreteSpace.of(space, *self._options)
            with self._lock:
                if len(self._known) > 256:
                    self._known.clear()
                self._known[key] = found
        return found

    def good(
        self, key: tuple[Any, ...], compute: Callable[[], np.ndarray | None]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The good mixture's cell probabilities and their running sum: this thread's last
        ones for the parameter while ``key`` (the parameter, its distribution and what fixes
        the good observations) is unchanged, as late in a study most trials leave the good set
        alone; else ``compute()`` (``None``: not cells)."""
        last: dict[Any, tuple[Any, np.ndarray, np.ndarray]] | None = getattr(
            self._local, "good", None
        )
        if last is None or len(last) > 64:
            last = self._local.good = {}
        kept = last.get(key[:2])
        if kept is not None and kept[0] == key:
            return kept[1], kept[2]
        found = compute()
        if found is None:
            return None
        cdf = np.cumsum(found)
        last[key[:2]] = (key, found, cdf)
        return found, cdf


def best_cell(
    good: np.ndarray, cdf: np.ndarray, bad: np.ndarray, rng: np.random.RandomState, size: int
) -> int:
    """Of ``size`` cells drawn by the good mixture's probabilities ``good`` (``cdf``, their
    running sum), the one where ``good / bad`` is largest (the first drawn among equals)."""
    drawn = cdf.searchsorted(rng.random_sample(size) * cdf[-1], side="right")
    # Past the last cell only by rounding: the minimum maps it to the last.
    np.minimum(drawn, len(cdf) - 1, out=drawn)
    score = np.log(good[drawn]) - np.log(bad[drawn])
    return int(drawn[int(np.argmax(score))])


def _categorical_probabilities(
    cell: np.ndarray, mixture: np.ndarray, n_choices: int, prior_weight: float
) -> np.ndarray:
    """P(choice) under the categorical estimator of the choices ``cell`` with normalised
    ``mixture`` (the prior's weight last): each observation's kernel gives ``share / total``
    to every choice and ``(share + 1) / total`` to its own, the prior ``1 / n_choices`` to
    each."""
    n = len(cell)
    share = prior_weight / (n + 1)
    total = n_choices * share + 1.0
    own = np.bincount(cell, weights=mixture[:n], minlength=n_choices)
    observed = mixture[:n].sum()
    return (share / total) * observed + own / total + mixture[n] / n_choices


def _grid_kernels(
    cell: np.ndarray,
    mixture: np.ndarray,
    cache: _GridMassCache,
    consider_magic_clip: bool,
    consider_endpoints: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu, sigma, weight)`` of the distinct kernels of the estimator of the observations in
    grid cells ``cell`` (trial-number order) with normalised ``mixture`` (the prior last)."""
    n = len(cell)
    n_cells = len(cache.grid)
    count = np.bincount(cell, minlength=n_cells)
    occupied = count.nonzero()[0]
    runs = count[occupied]
    # The first and last observation of each run: trial order breaks ties in the sort.
    position = np.arange(n)
    first = np.full(n_cells, n)
    np.minimum.at(first, cell, position)
    last = np.full(n_cells, -1)
    np.maximum.at(last, cell, position)
    w_first = mixture[first[occupied]]
    w_last = mixture[last[occupied]]
    total = np.bincount(cell, weights=mixture[:n], minlength=n_cells)[occupied]
    low, high = cache.model_low, cache.model_high
    width = high - low
    k = len(occupied)
    # Four kernel forms per occupied cell, then the prior (flat, so one mask picks them all).
    mu = np.empty(4 * k + 1)
    sigma = np.empty(4 * k + 1)
    weight = np.zeros(4 * k + 1)
    mu[:-1].reshape(4, k)[:] = cache.model_grid[occupied]
    mu[-1] = 0.5 * (low + high)
    # Gaps to the neighbouring occupied cells, the domain ends counting as neighbours.
    padded = np.empty(k + 2)
    padded[0], padded[-1] = low, high
    padded[1:-1] = mu[:k]
    gaps = padded[1:] - padded[:-1]
    left, right = gaps[:-1], gaps[1:]
    forms = sigma[:-1].reshape(4, k)
    forms[_INNER] = 0.0
    forms[_FIRST] = left
    forms[_LAST] = right
    np.maximum(left, right, out=forms[_ALONE])
    if not consider_endpoints and n >= 2:
        # The outermost kernels look inward only: the first observation's other neighbour is
        # the next in sorted order (zero away when its run goes on); likewise the last's.
        forms[_FIRST, 0] = 0.0
        forms[_ALONE, 0] = right[0]
        forms[_LAST, -1] = 0.0
        forms[_ALONE, -1] = left[-1]
    min_sigma = width / min(100.0, n + 2.0) if consider_magic_clip else _EPS
    np.maximum(sigma, min_sigma, out=sigma)
    np.minimum(sigma, width, out=sigma)
    sigma[-1] = width
    shares = weight[:-1].reshape(4, k)
    single = runs == 1
    several = ~single
    shares[_FIRST, several] = w_first[several]
    shares[_LAST, several] = w_last[several]
    inner = runs >= 3
    shares[_INNER, inner] = (total - w_first - w_last)[inner]
    shares[_ALONE, single] = total[single]
    weight[-1] = mixture[n]
    used = weight > 0
    return mu[used], sigma[used], weight[used]
