"""The Parzen estimator of TPE: a weighted mixture of product kernels over a search space.

Bergstra et al. (2011), "Algorithms for Hyper-Parameter Optimization", Sec. 4, model the good
and bad configurations each with a Parzen (kernel density) estimator; Watanabe (2023),
"Tree-Structured Parzen Estimator: Understanding Its Algorithm Components and Their Roles for
Better Empirical Performance", Sec. 2-3, describes the variant implemented here:

* one kernel per observation plus one *prior* kernel (weight ``prior_weight``);
* a kernel is a product over parameters (so a mixture over it models parameters jointly):
  a normal truncated to the domain for numeric parameters, in the log domain for ``log=True``
  and integrated over ``[x - step/2, x + step/2]`` for a grid (``step``/integers); a
  categorical distribution that puts extra mass on the observed choice for categoricals;
* the bandwidth of a numeric kernel is the larger gap to its sorted neighbours (the domain ends
  count as neighbours), clipped below by ``range / min(100, n_kernels + 1)`` ("magic clip").

Values enter and leave in the distributions' internal representation (floats; category indices
for categoricals).

Cost: fitting sorts each parameter's observations once (a linear-time radix sort for grid
parameters); evaluating ``m`` points costs a few passes over an ``(m, n_kernels)`` array.
Grid kernels repeat: observations share grid points, and tied observations share bandwidths,
so their cell masses are computed once per distinct kernel (:func:`_kernel_groups`), and on
coarse grids once per process (``_grid_masses.py``). Drawing precomputes, once per estimator,
everything that does not depend on the random numbers (``_sample_plan.SamplePlan``), so that a draw
is one gather plus a few passes over ``(parameters, size)`` arrays. The acquisition, the
density ratio of two estimators, is in ``_ratio.py``; the scratch arrays behind the
temporaries in ``_scratch.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
import functools
import math
from typing import NamedTuple

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _truncnorm
from skipjack.samplers._tpe._continuous_block import ContinuousBlock
from skipjack.samplers._tpe._grid_masses import _add_grid_log_masses
from skipjack.samplers._tpe._sample_plan import SamplePlan
from skipjack.samplers._tpe._scratch import _TERM
from skipjack.samplers._tpe._scratch import _buffer

__all__ = ["_ParzenEstimator"]

_EPS = 1e-12
# Phi(-8.5) < 1e-17: beyond this many standard deviations the truncated tail is negligible.
_FAR = 8.5
# Up to this many kernels, computing every domain mass's tails beats finding the few needed.
_FEW_TAILS = 512
# Up to this many kernels, grouping equal kernels costs more than it saves.
_FEW_KERNELS = 64
# Grids with fewer points than this sort their observations by int16 index (radix sort).
_RADIX_LIMIT = 1 << 15
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
# Below this many (point, kernel) terms a log-sum-exp is a few direct NumPy calls.
_SMALL_JOINT = 4096
# exp(-80) < 2e-35: a term this far below a sum's largest (1) is lost in its rounding, even
# added up over 1e18 kernels.
_NEGLIGIBLE = -80.0


class _Numeric(NamedTuple):
    """Kernels of one numeric parameter, in the model domain (log of the value when ``log``).

    ``groups``, for grids with many kernels, is ``(representative, inverse)``: one kernel
    index per distinct ``(mu, sigma)`` pair and, per kernel, the number of its pair.
    """

    mu: np.ndarray
    sigma: np.ndarray
    low: float  # model-domain bounds, widened by half a step on a grid
    high: float
    log: bool
    step: float | None
    value_low: float  # the distribution's own bounds, for rounding onto the grid
    value_high: float
    log_norm: np.ndarray  # log of each kernel's mass inside [low, high]
    groups: tuple[np.ndarray, np.ndarray] | None = None


class _Categorical(NamedTuple):
    """Kernels of one categorical parameter: ``log_table[c, k]`` is log P(choice c | kernel k)."""

    log_table: np.ndarray  # (n_choices, n_kernels), C-contiguous so a row gather is cheap


def _log(x: np.ndarray) -> np.ndarray:
    """``np.log`` that maps 0 to -inf silently (entering ``np.errstate`` costs more than
    checking whether it is needed)."""
    if (x > 0).all():
        return np.log(x)
    with np.errstate(divide="ignore"):
        return np.log(x)


def _argsort_row(values: np.ndarray, dist: FloatDistribution | IntDistribution) -> np.ndarray:
    """Stable sorting order of one parameter's internal values.

    Values on a grid of fewer than ``_RADIX_LIMIT`` points sort by their int16 grid index,
    which NumPy sorts in linear time; the result is checked, since values that arrived under
    another distribution may lie off the grid.
    """
    n_points = None if dist.step is None else round((dist.high - dist.low) / float(dist.step)) + 1
    if n_points is not None and n_points < _RADIX_LIMIT and len(values) > _FEW_KERNELS:
        index = np.rint((values - dist.low) / float(dist.step)).astype(np.int16)  # type: ignore[arg-type]
        order = np.argsort(index, kind="stable")
        ordered = values[order]
        if (ordered[1:] >= ordered[:-1]).all():
            return order
    return np.argsort(values, kind="stable")


def _sorted_bandwidths(
    ordered: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    consider_magic_clip: bool,
    consider_endpoints: bool,
) -> np.ndarray:
    """Bandwidths of sorted observations (rows: parameters): the larger gap to a neighbour,
    the domain ends counting as neighbours, clipped to ``[min_sigma, high - low]``."""
    d, n = ordered.shape
    padded = np.empty((d, n + 2))
    padded[:, 0] = low
    padded[:, 1:-1] = ordered
    padded[:, -1] = high
    gaps = padded[:, 1:] - padded[:, :-1]
    sigma = np.maximum(gaps[:, :-1], gaps[:, 1:])
    if not consider_endpoints and n >= 2:
        # The outermost kernels ignore the domain ends and look inward only.
        sigma[:, 0] = gaps[:, 1]
        sigma[:, -1] = gaps[:, -2]
    width = (high - low)[:, None]
    # n observations + the prior = n + 1 kernels; the clip divides by n_kernels + 1.
    min_sigma = width / min(100.0, n + 2.0) if consider_magic_clip else _EPS
    np.maximum(sigma, min_sigma, out=sigma)
    return np.minimum(sigma, width, out=sigma)


def _kernel_groups(ordered: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(representative, inverse)`` of the distinct ``(mu, sigma)`` pairs of one parameter's
    observation kernels, from the sorted observations and their order.

    Among tied observations (one run of equal sorted values) the bandwidth rule gives the
    first the gap to the left, the last the gap to the right and every other one zero (then
    clipped), so a kernel is fixed by its run and its place in the run: first, inner, last,
    or alone. The edge rule of ``consider_endpoints=False`` only touches the first and last
    positions, which are alone in their class. No floating-point key is sorted.
    """
    n = len(ordered)
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    ends = np.empty(n, dtype=bool)
    ends[-1] = True
    ends[:-1] = starts[1:]
    run = np.cumsum(starts) - 1
    key = 4 * run + starts + 2 * ends
    used = np.zeros(4 * (int(run[-1]) + 1), dtype=bool)
    used[key] = True
    number = np.cumsum(used) - 1
    sorted_inverse = number[key]
    representative = np.empty(int(number[-1]) + 1, dtype=np.intp)
    # All kernels of a class are equal, so whichever one is written last represents it.
    representative[sorted_inverse] = order
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = sorted_inverse
    return representative, inverse


def _log_domain_mass(
    mu: np.ndarray, sigma: np.ndarray, low: float | np.ndarray, high: float | np.ndarray
) -> np.ndarray:
    """Log of each kernel's mass inside ``[low, high]`` (elementwise, bounds broadcast).

    Kernel centres lie inside the domain and no bandwidth exceeds its width, so the mass
    ``1 - Phi(a) - Phi(-b)`` (``a``, ``b`` the standardized ends) is at least 0.34 and the
    two tails are at most one half each: no cancellation. A tail further than ``_FAR``
    standard deviations is below 1e-17 and skipped, so the normal CDF runs only for kernels
    near an end (few, once there are many narrow kernels).
    """
    a = (low - mu) / sigma
    b = (high - mu) / sigma
    if a.size <= _FEW_TAILS:  # filtering costs more than it saves
        tails = _truncnorm.ndtr(a)
        tails += _truncnorm.ndtr(-b)
        return np.log1p(-tails)
    tails = np.zeros(a.shape)
    near = a > -_FAR
    if near.any():
        tails[near] = _truncnorm.ndtr(a[near])
    near = b < _FAR
    if near.any():
        tails[near] += _truncnorm.ndtr(-b[near])
    return np.log1p(-tails)


@functools.lru_cache(maxsize=256)
def _model_bounds(
    dists: tuple[FloatDistribution | IntDistribution, ...],
) -> tuple[list[float | None], np.ndarray, np.ndarray, np.ndarray | None]:
    """Per parameter: the grid step, the model-domain bounds (widened by half a step on a grid,
    logged for ``log=True``) and which rows are logged (``None``: none). Cached: a search space
    recurs at every suggestion; the arrays are read-only."""
    steps = [None if dist.step is None else float(dist.step) for dist in dists]
    low = np.array(
        [dist.low - (0.5 * s if s is not None else 0.0) for dist, s in zip(dists, steps)]
    )
    high = np.array(
        [dist.high + (0.5 * s if s is not None else 0.0) for dist, s in zip(dists, steps)]
    )
    log_rows = np.array([dist.log for dist in dists])
    if log_rows.any():
        low[log_rows], high[log_rows] = np.log(low[log_rows]), np.log(high[log_rows])
        # A range narrower than one ulp of its log: keep the kernels a hair wide, not zero.
        high = np.where(high > low, high, np.nextafter(low, np.inf))
    low.flags.writeable = False
    high.flags.writeable = False
    return steps, low, high, log_rows if log_rows.any() else None


class _Constants(NamedTuple):
    """What kernel fitting needs of a tuple of numeric distributions beyond
    :func:`_model_bounds`: the prior kernel's centre and width per parameter, the bounds as
    columns and, per parameter, ``(low, high, value_low, value_high)`` as Python floats."""

    prior_mu: np.ndarray
    width: np.ndarray
    low_column: np.ndarray
    high_column: np.ndarray
    floats: list[tuple[float, float, float, float]]


@functools.lru_cache(maxsize=256)
def _constants(dists: tuple[FloatDistribution | IntDistribution, ...]) -> _Constants:
    """The :class:`_Constants` of a space's numeric distributions (cached like
    :func:`_model_bounds`; the arrays are read-only)."""
    _, low, high, _ = _model_bounds(dists)
    floats = [
        (float(low[i]), float(high[i]), float(dist.low), float(dist.high))
        for i, dist in enumerate(dists)
    ]
    constants = _Constants(0.5 * (low + high), high - low, low[:, None], high[:, None], floats)
    for array in constants[:4]:
        array.flags.writeable = False
    return constants


def _numeric_kernels(
    x: np.ndarray,
    dists: list[FloatDistribution | IntDistribution],
    consider_magic_clip: bool,
    consider_endpoints: bool,
    orders: list[np.ndarray | None] | None = None,
) -> list[_Numeric]:
    """Kernels of several numeric parameters at once; ``x`` is (parameters, observations).

    ``orders`` may give, per parameter, the stable sorting order of its row of ``x``.
    """
    d, n = x.shape
    space = tuple(dists)
    steps, low, high, log_rows = _model_bounds(space)
    constants = _constants(space)
    order = np.empty((d, n), dtype=np.intp)
    for i, dist in enumerate(dists):
        given = None if orders is None else orders[i]
        order[i] = _argsort_row(x[i], dist) if given is None else given
    if log_rows is not None:
        x = x.copy()
        x[log_rows] = np.log(x[log_rows])
    if d == 1:  # one row: index it directly
        ordered = x[:, order[0]]
    else:
        # Flat positions, so that gathering and scattering in sorted order are single operations.
        offsets = np.arange(d)[:, None]
        ordered = x.reshape(-1)[order + offsets * n]
    sorted_sigma = _sorted_bandwidths(ordered, low, high, consider_magic_clip, consider_endpoints)
    sigma = np.empty((d, n + 1))
    if d == 1:
        sigma[:, order[0]] = sorted_sigma
    else:
        sigma.reshape(-1)[order + offsets * (n + 1)] = sorted_sigma
    # The prior kernel: centred on the domain and as wide as it.
    sigma[:, n] = constants.width
    mu = np.empty((d, n + 1))
    mu[:, :n] = x
    mu[:, n] = constants.prior_mu
    grouped = [steps[i] is not None and n > _FEW_KERNELS for i in range(d)]
    # Ungrouped parameters' domain masses in one pass over their (rows, kernels) block.
    if not any(grouped):  # views, not gathered copies
        log_norm = _log_domain_mass(mu, sigma, constants.low_column, constants.high_column)
    else:
        log_norm = np.empty((d, n + 1))
        plain = [i for i in range(d) if not grouped[i]]
        if plain:
            log_norm[plain] = _log_domain_mass(
                mu[plain], sigma[plain], low[plain, None], high[plain, None]
            )
    kernels = []
    for i, dist in enumerate(dists):
        groups = None
        if grouped[i]:
            representative, inverse = _kernel_groups(ordered[i], order[i])
            # The prior is a group of its own.
            groups = (np.append(representative, n), np.append(inverse, len(representative)))
            first = groups[0]
            log_norm[i] = _log_domain_mass(mu[i, first], sigma[i, first], low[i], high[i])[
                groups[1]
            ]
        model_low, model_high, value_low, value_high = constants.floats[i]
        kernels.append(
            _Numeric(
                mu[i],
                sigma[i],
                model_low,
                model_high,
                dist.log,
                steps[i],
                value_low,
                value_high,
                log_norm[i],
                groups,
            )
        )
    return kernels


def _categorical_kernels(x: np.ndarray, n_choices: int, prior_weight: float) -> _Categorical:
    """Observation kernel k puts ``prior_weight / (n + 1)`` on every choice plus 1 on its own,
    normalised; the prior kernel is uniform."""
    n = len(x)
    table = np.empty((n_choices, n + 1))
    table[:, n] = -math.log(n_choices)
    if n:
        share = prior_weight / (n + 1)
        total = n_choices * share + 1.0
        table[:, :n] = math.log(share / total) if share > 0 else -math.inf
        table[x.astype(np.intp), np.arange(n)] = math.log((share + 1.0) / total)
    return _Categorical(table)


def _logsumexp_rows(joint: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """``log(sum(exp(joint), axis=1))`` in double precision, for a double or single precision
    ``joint``; ``overwrite`` lets it use ``joint`` as scratch.

    After the row maximum is taken out every term is in (0, 1] and the largest is 1. Terms
    below ``exp(_NEGLIGIBLE)`` cannot change such a sum in double precision, so they are
    raised to that floor before ``exp``, which is many times slower on arguments whose result
    underflows (most of a large mixture's terms at any one point are astronomically small).
    """
    peak = joint.max(axis=1, keepdims=True)
    dead = None
    if not np.isfinite(peak).all():
        dead = ~np.isfinite(peak[:, 0])  # every term is zero (-inf): so is the sum
        peak[dead] = 0.0
    if joint.size < _SMALL_JOINT:
        return _log(np.exp(joint - peak).sum(axis=1)) + peak[:, 0]
    terms = np.subtract(joint, peak, out=joint if overwrite else _buffer(_TERM, joint.shape))
    np.maximum(terms, _NEGLIGIBLE, out=terms)
    np.exp(terms, out=terms)
    # Summed in the array's precision; the log in double.
    out = _log(terms.sum(axis=1).astype(np.float64, copy=False))
    out += peak[:, 0]
    if dead is not None:
        out[dead] = -np.inf
    return out


class _ParzenEstimator:
    """A mixture of product kernels fitted to observations of the parameters of a search space.

    Args:
        observations: Internal values per parameter, all of the same length ``n``.
        search_space: The parameters' distributions (numeric or categorical, not single-valued).
        weights: Non-negative weight of each of the ``n`` observations' kernels.
        prior_weight: Weight of the prior kernel, relative to ``weights``.
        consider_magic_clip: Clip bandwidths below by ``range / min(100, n + 2)``.
        consider_endpoints: Let the outermost kernels' bandwidths reach to the domain ends.
        orders: Optionally, per numeric parameter, the stable sorting order of its
            observations (known to the caller), which spares sorting them.
    """

    def __init__(
        self,
        observations: Mapping[str, np.ndarray],
        search_space: Mapping[str, BaseDistribution],
        weights: np.ndarray,
        *,
        prior_weight: float = 1.0,
        consider_magic_clip: bool = True,
        consider_endpoints: bool = False,
        orders: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if prior_weight < 0:
            raise ValueError(f"prior_weight must be non-negative, got {prior_weight}.")
        weights = np.asarray(weights, dtype=float)
        n = len(weights)
        mixture = np.empty(n + 1)
        mixture[:n] = weights
        mixture[n] = prior_weight if n else 1.0
        self._mixture = mixture / mixture.sum()
        self._log_mixture = _log(self._mixture)
        self._names = list(search_space)
        kernels: dict[str, _Numeric | _Categorical] = {}
        numeric_names: list[str] = []
        numeric_dists: list[FloatDistribution | IntDistribution] = []
        for name, dist in search_space.items():
            x = np.asarray(observations[name], dtype=float)
            if len(x) != n:
                raise ValueError(
                    f"{len(x)} observations of {name!r} for {n} weights; they must match."
                )
            if isinstance(dist, CategoricalDistribution):
                kernels[name] = _categorical_kernels(x, len(dist.choices), prior_weight)
            elif isinstance(dist, (FloatDistribution, IntDistribution)):
                numeric_names.append(name)
                numeric_dists.append(dist)
            else:
                raise TypeError(f"Cannot model {name!r} with distribution {dist!r}.")
        if numeric_names:
            x = np.empty((len(numeric_names), n))
            for row, name in enumerate(numeric_names):
                x[row] = observations[name]
            given = [None if orders is None else orders.get(name) for name in numeric_names]
            built = _numeric_kernels(
                x, numeric_dists, consider_magic_clip, consider_endpoints, given
            )
            kernels.update(zip(numeric_names, built))
        self._set_kernels({name: kernels[name] for name in search_space})
        self._plan = None

    # What drawing needs, built on the first draw (also for merged estimators).
    _plan: SamplePlan | None = None

    def _set_kernels(self, kernels: dict[str, _Numeric | _Categorical]) -> None:
        self._kernels = kernels
        self._numeric = {n: k for n, k in kernels.items() if isinstance(k, _Numeric)}
        self._continuous: ContinuousBlock | None = None  # built on first evaluation

    @property
    def n_kernels(self) -> int:
        """Number of kernels, the prior's included."""
        return len(self._mixture)

    def sample(self, rng: np.random.RandomState, size: int) -> dict[str, np.ndarray]:
        """Draw ``size`` points; returns internal values per parameter."""
        plan = self._plan
        if plan is None:
            plan = self._plan = SamplePlan(
                self._mixture,
                self._names,
                list(self._numeric.items()),
                [(n, k.log_table) for n, k in self._kernels.items() if isinstance(k, _Categorical)],
            )
        layout = plan.layout
        d = len(layout.numeric)
        # Every uniform at once, in the order of separate draws: the kernels', the numeric
        # parameters' (row by row), then each categorical's.
        uniforms = rng.random_sample((1 + d + len(layout.categorical), size))
        # What ``rng.choice(len(p), p=p, size=size)`` draws, without its input checks.
        active = plan.cdf.searchsorted(uniforms[0], side="right")
        drawn = plan.table.take(active, axis=1)
        out: dict[str, np.ndarray] = {}
        if d:
            z = _truncnorm.sample_prepared(
                drawn[:d],
                drawn[d : 2 * d],
                drawn[2 * d : 3 * d],
                drawn[3 * d : 4 * d],
                drawn[4 * d : 5 * d],
                uniforms[1 : 1 + d],
            )
            z *= drawn[6 * d : 7 * d]  # sigma
            z += drawn[5 * d : 6 * d]  # mu
            plan.to_values(z)
            out.update(zip(layout.numeric, z))
        for u, (name, start, stop, choices) in zip(uniforms[1 + d :], layout.categorical):
            cdf = drawn[start:stop]
            u *= cdf[-1]
            # Past the last choice only by rounding: the clip maps it to the last.
            out[name] = choices.take((cdf < u).sum(axis=0), mode="clip")
        return out if layout.in_order else {name: out[name] for name in self._names}

    def log_pdf(self, samples: Mapping[str, np.ndarray]) -> np.ndarray:
        """Log-density of the mixture at each point (internal values inside the domain).

        Numeric parameters contribute densities in the model domain (per unit of the log of
        the value for ``log=True``); grid parameters and categoricals contribute probabilities.
        """
        return _logsumexp_rows(self._joint(samples), overwrite=True)

    def _joint(self, samples: Mapping[str, np.ndarray]) -> np.ndarray:
        """``joint[i, k]``: log of kernel k's weight times its density at point i (a scratch
        array, valid until the next evaluation in this thread)."""
        m = len(np.asarray(samples[self._names[0]])) if self._names else 0
        if self._continuous is None:
            self._continuous = ContinuousBlock(
                {n: k for n, k in self._numeric.items() if k.step is None}, self._log_mixture
            )
        joint = self._continuous.log_terms(samples, m)
        grids = []
        for name, kernels in self._kernels.items():
            if isinstance(kernels, _Categorical):
                index = np.asarray(samples[name]).astype(np.intp)
                joint += kernels.log_table.take(
                    index, axis=0, out=_buffer(_TERM, joint.shape), mode="clip"
                )
            elif kernels.step is not None:
                grids.append((kernels, np.asarray(samples[name], dtype=float)))
        if grids:
            _add_grid_log_masses(joint, grids)
        return joint

    @classmethod
    def _merged(cls, first: _ParzenEstimator, second: _ParzenEstimator) -> _ParzenEstimator:
        """One mixture holding both estimators' kernels and weights side by side (first's
        columns first), so that both densities come out of one evaluation pass."""
        if first._names != second._names:
            raise ValueError("Only estimators over the same search space can be merged.")
        merged = cls.__new__(cls)
        merged._names = first._names
        merged._mixture = np.concatenate([first._mixture, second._mixture])
        merged._log_mixture = np.concatenate([first._log_mixture, second._log_mixture])
        kernels: dict[str, _Numeric | _Categorical] = {}
        for name, a in first._kernels.items():
            b = second._kernels[name]
            if isinstance(a, _Numeric) and isinstance(b, _Numeric):
                kernels[name] = a._replace(
                    mu=np.concatenate([a.mu, b.mu]),
                    sigma=np.concatenate([a.sigma, b.sigma]),
                    log_norm=np.concatenate([a.log_norm, b.log_norm]),
                    groups=_merged_groups(a, b),
                )
            elif isinstance(a, _Categorical) and isinstance(b, _Categorical):
                kernels[name] = _Categorical(np.concatenate([a.log_table, b.log_table], axis=1))
            else:
                raise ValueError(f"Parameter {name!r} is modelled differently in the two.")
        merged._set_kernels(kernels)
        return merged


def _merged_groups(a: _Numeric, b: _Numeric) -> tuple[np.ndarray, np.ndarray] | None:
    """Kernel groups of ``a``'s kernels followed by ``b``'s (ungrouped ones stay singletons)."""
    if a.groups is None and b.groups is None:
        return None
    n_a, n_b = len(a.mu), len(b.mu)
    first_a, inverse_a = a.groups or (np.arange(n_a), np.arange(n_a))
    first_b, inverse_b = b.groups or (np.arange(n_b), np.arange(n_b))
    return (
        np.concatenate([first_a, first_b + n_a]),
        np.concatenate([inverse_a, inverse_b + len(first_a)]),
    )
