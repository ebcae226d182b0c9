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
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import NamedTuple

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _truncnorm

__all__ = ["_ParzenEstimator", "log_density_ratio"]

_EPS = 1e-12
# Phi(-8.5) < 1e-17: beyond this many standard deviations the truncated tail is negligible.
_FAR = 8.5
# Up to this many kernels, deduplicating them costs more than it saves.
_FEW_KERNELS = 64
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class _Numeric(NamedTuple):
    """Kernels of one numeric parameter, in the model domain (log of the value when ``log``)."""

    mu: np.ndarray
    sigma: np.ndarray
    low: float  # model-domain bounds, widened by half a step on a grid
    high: float
    log: bool
    step: float | None
    value_low: float  # the distribution's own bounds, for rounding onto the grid
    value_high: float
    log_norm: np.ndarray  # log of each kernel's mass inside [low, high]


class _Categorical(NamedTuple):
    """Kernels of one categorical parameter: row k is kernel k's probability of each choice."""

    weights: np.ndarray
    log_weights: np.ndarray


def _log(x: np.ndarray) -> np.ndarray:
    """``np.log`` that maps 0 to -inf silently (entering ``np.errstate`` costs more than
    checking whether it is needed)."""
    if (x > 0).all():
        return np.log(x)
    with np.errstate(divide="ignore"):
        return np.log(x)


def _bandwidths(
    x: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    consider_magic_clip: bool,
    consider_endpoints: bool,
) -> np.ndarray:
    """Bandwidth of each observation's kernel, row by row of ``x`` (parameters x observations):
    the larger gap to its sorted neighbours, the domain ends counting as neighbours."""
    n = x.shape[1]
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    gaps = np.diff(np.concatenate([low[:, None], ordered, high[:, None]], axis=1), axis=1)
    sorted_sigma = np.maximum(gaps[:, :-1], gaps[:, 1:])
    if not consider_endpoints and n >= 2:
        # The outermost kernels ignore the domain ends and look inward only.
        sorted_sigma[:, 0] = ordered[:, 1] - ordered[:, 0]
        sorted_sigma[:, -1] = ordered[:, -1] - ordered[:, -2]
    sigma = np.empty_like(sorted_sigma)
    np.put_along_axis(sigma, order, sorted_sigma, axis=1)
    width = (high - low)[:, None]
    # n observations + the prior = n + 1 kernels; the clip divides by n_kernels + 1.
    min_sigma = width / min(100.0, n + 2.0) if consider_magic_clip else _EPS
    return np.clip(sigma, min_sigma, width)


def _log_domain_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Log of each kernel's mass inside the domain, ``a``/``b`` the standardized ends.

    Kernels whose centre is more than ``_FAR`` standard deviations from both ends lose less
    than 1e-17 of their mass to truncation: their log mass is 0 to double precision, and only
    the others (near an end; few once there are many narrow kernels) need the normal CDF.
    """
    near = (a > -_FAR) | (b < _FAR)
    out = np.zeros(a.shape)
    if near.all():
        return _truncnorm.log_gauss_mass_fast(a, b)
    if near.any():
        out[near] = _truncnorm.log_gauss_mass_fast(a[near], b[near])
    return out


def _numeric_kernels(
    x: np.ndarray,
    dists: list[FloatDistribution | IntDistribution],
    consider_magic_clip: bool,
    consider_endpoints: bool,
) -> list[_Numeric]:
    """Kernels of several numeric parameters at once; ``x`` is (parameters, observations)."""
    steps = [None if d.step is None else float(d.step) for d in dists]
    low = np.array([d.low - (0.5 * s if s is not None else 0.0) for d, s in zip(dists, steps)])
    high = np.array([d.high + (0.5 * s if s is not None else 0.0) for d, s in zip(dists, steps)])
    log = np.array([d.log for d in dists])
    if log.any():
        x = x.copy()
        x[log] = np.log(x[log])
        low[log], high[log] = np.log(low[log]), np.log(high[log])
        # A range narrower than one ulp of its log: keep the kernels a hair wide, not zero.
        high = np.where(high > low, high, np.nextafter(low, np.inf))
    sigma = _bandwidths(x, low, high, consider_magic_clip, consider_endpoints)
    # The prior kernel: centred on the domain and as wide as it.
    mu = np.concatenate([x, (0.5 * (low + high))[:, None]], axis=1)
    sigma = np.concatenate([sigma, (high - low)[:, None]], axis=1)
    log_norm = _log_domain_mass((low[:, None] - mu) / sigma, (high[:, None] - mu) / sigma)
    return [
        _Numeric(
            mu[i],
            sigma[i],
            float(low[i]),
            float(high[i]),
            d.log,
            steps[i],
            float(d.low),
            float(d.high),
            log_norm[i],
        )
        for i, d in enumerate(dists)
    ]


def _categorical_kernels(x: np.ndarray, n_choices: int, prior_weight: float) -> _Categorical:
    n = len(x)
    if n == 0:
        weights = np.full((1, n_choices), 1.0 / n_choices)
    else:
        n_kernels = n + 1
        weights = np.full((n_kernels, n_choices), prior_weight / n_kernels)
        weights[np.arange(n), x.astype(np.intp)] += 1.0
        sums = weights.sum(axis=1, keepdims=True)
        weights /= np.where(sums == 0.0, 1.0, sums)
    return _Categorical(weights, _log(weights))


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of one representative of each distinct ``(a[i], b[i])`` pair and, per input,
    the number of its pair."""
    order = np.lexsort((b, a))
    a_sorted, b_sorted = a[order], b[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a_sorted[1:] != a_sorted[:-1]) | (b_sorted[1:] != b_sorted[:-1])
    inverse = np.empty(len(a), dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return order[first], inverse


def _logsumexp_rows(joint: np.ndarray) -> np.ndarray:
    """``log(sum(exp(joint), axis=1))``, overwriting ``joint``.

    After the row maximum is taken out every term is in (0, 1]; their exponentials are summed
    in single precision (a relative error of ~1e-7 in the density, far below what ranking
    candidates needs) because ``exp`` dominates the cost of a large mixture.
    """
    peak = joint.max(axis=1, keepdims=True)
    peak[~np.isfinite(peak)] = 0.0
    joint -= peak
    terms = joint.astype(np.float32)
    np.exp(terms, out=terms)
    return _log(terms.sum(axis=1, dtype=np.float64)) + peak[:, 0]


class _ContinuousBlock:
    """All continuous numeric parameters' kernels, evaluated together.

    With each parameter scaled to its domain (``u = (x - centre) / width``) the summed squared
    distances become one matrix product: for kernel k,
    ``sum_d ((u_d - m_kd) / s_kd)^2 = sum_d [u_d^2 a_kd + u_d b_kd + c_kd]`` with
    ``a = 1/s^2``, ``b = -2 m/s^2``, ``c = m^2/s^2``. Expanding the square loses accuracy when a
    bandwidth is tiny next to the domain, so below ``1e-3`` of it (only possible without the
    magic clip) the direct form is used instead.
    """

    def __init__(self, kernels: dict[str, _Numeric]) -> None:
        self._names = list(kernels)
        self._log = [k.log for k in kernels.values()]
        if not kernels:
            return
        values = list(kernels.values())
        self._centre = np.array([0.5 * (k.low + k.high) for k in values])
        self._width = np.array([k.high - k.low for k in values])
        mu = (np.array([k.mu for k in values]) - self._centre[:, None]) / self._width[:, None]
        sigma = np.array([k.sigma for k in values]) / self._width[:, None]  # (d, K)
        # Per kernel: log of its normalising constants over all these parameters.
        self._offset = (
            -(
                np.log(np.array([k.sigma for k in values])) + np.array([k.log_norm for k in values])
            ).sum(axis=0)
            - len(values) * _LOG_SQRT_2PI
        )
        self._expand = bool(sigma.min() >= 1e-3)
        if self._expand:
            inv_var = 1.0 / (sigma * sigma)
            self._coef = np.concatenate([inv_var, -2.0 * mu * inv_var]).T.copy()  # (K, 2d)
            self._offset = self._offset - 0.5 * (mu * mu * inv_var).sum(axis=0)
        else:
            self._mu, self._sigma = mu, sigma

    def log_terms(
        self, samples: Mapping[str, np.ndarray], m: int, log_mixture: np.ndarray
    ) -> np.ndarray:
        """Fresh ``(m, K)`` array: log mixture weight + log continuous density per kernel."""
        if not self._names:
            return np.broadcast_to(log_mixture, (m, len(log_mixture))).copy()
        x = np.array(
            [
                np.log(samples[n]) if log else np.asarray(samples[n], dtype=float)
                for n, log in zip(self._names, self._log)
            ]
        )
        u = (x - self._centre[:, None]) / self._width[:, None]  # (d, m)
        if self._expand:
            joint = np.concatenate([u * u, u]).T @ self._coef.T
            joint *= -0.5
        else:
            joint = np.zeros((m, self._mu.shape[1]))
            for row in range(len(u)):
                z = (u[row][:, None] - self._mu[row]) / self._sigma[row]
                z *= z
                joint -= 0.5 * z
        joint += self._offset + log_mixture
        return joint


class _ParzenEstimator:
    """A mixture of product kernels fitted to observations of the parameters of a search space.

    Args:
        observations: Internal values per parameter, all of the same length ``n``.
        search_space: The parameters' distributions (numeric or categorical, not single-valued).
        weights: Non-negative weight of each of the ``n`` observations' kernels.
        prior_weight: Weight of the prior kernel, relative to ``weights``.
        consider_magic_clip: Clip bandwidths below by ``range / min(100, n + 2)``.
        consider_endpoints: Let the outermost kernels' bandwidths reach to the domain ends.
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
    ) -> None:
        if prior_weight < 0:
            raise ValueError(f"prior_weight must be non-negative, got {prior_weight}.")
        weights = np.asarray(weights, dtype=float)
        n = len(weights)
        mixture = np.append(weights, prior_weight) if n else np.ones(1)
        self._mixture = mixture / mixture.sum()
        self._log_mixture = _log(self._mixture)
        self._names = list(search_space)
        self._kernels: dict[str, _Numeric | _Categorical] = {}
        numeric_names: list[str] = []
        numeric_dists: list[FloatDistribution | IntDistribution] = []
        for name, dist in search_space.items():
            x = np.asarray(observations[name], dtype=float)
            if len(x) != n:
                raise ValueError(
                    f"{len(x)} observations of {name!r} for {n} weights; they must match."
                )
            if isinstance(dist, CategoricalDistribution):
                self._kernels[name] = _categorical_kernels(x, len(dist.choices), prior_weight)
            elif isinstance(dist, (FloatDistribution, IntDistribution)):
                numeric_names.append(name)
                numeric_dists.append(dist)
            else:
                raise TypeError(f"Cannot model {name!r} with distribution {dist!r}.")
        if numeric_names:
            x = np.array([observations[name] for name in numeric_names], dtype=float)
            x = x.reshape(len(numeric_names), n)
            built = _numeric_kernels(x, numeric_dists, consider_magic_clip, consider_endpoints)
            self._kernels.update(zip(numeric_names, built))
        self._kernels = {name: self._kernels[name] for name in search_space}
        self._numeric = {n: k for n, k in self._kernels.items() if isinstance(k, _Numeric)}
        self._continuous: _ContinuousBlock | None = None  # built on first evaluation

    @property
    def n_kernels(self) -> int:
        """Number of kernels, the prior's included."""
        return len(self._mixture)

    def sample(self, rng: np.random.RandomState, size: int) -> dict[str, np.ndarray]:
        """Draw ``size`` points; returns internal values per parameter."""
        active = rng.choice(len(self._mixture), p=self._mixture, size=size)
        out: dict[str, np.ndarray] = {}
        if self._numeric:
            numeric = list(self._numeric.values())
            mu = np.array([k.mu for k in numeric])[:, active]
            sigma = np.array([k.sigma for k in numeric])[:, active]
            lows = np.array([[k.low] for k in numeric])
            highs = np.array([[k.high] for k in numeric])
            z = _truncnorm.sample((lows - mu) / sigma, (highs - mu) / sigma, rng)
            draws = mu + sigma * z
            for row, (name, numeric_kernels) in enumerate(self._numeric.items()):
                out[name] = self._to_value(numeric_kernels, draws[row])
        for name in self._names:
            kernels = self._kernels[name]
            if isinstance(kernels, _Categorical):
                cdf = np.cumsum(kernels.weights[active], axis=1)
                u = rng.random_sample(size)[:, None] * cdf[:, -1:]
                index = (cdf < u).sum(axis=1)
                out[name] = np.minimum(index, cdf.shape[1] - 1).astype(float)
        return {name: out[name] for name in self._names}

    @staticmethod
    def _to_value(kernels: _Numeric, draws: np.ndarray) -> np.ndarray:
        values = np.exp(draws) if kernels.log else draws
        if kernels.step is not None:
            lo = kernels.value_low
            values = lo + np.round((values - lo) / kernels.step) * kernels.step
        return np.clip(values, kernels.value_low, kernels.value_high)

    def log_pdf(self, samples: Mapping[str, np.ndarray]) -> np.ndarray:
        """Log-density of the mixture at each point (internal values inside the domain).

        Numeric parameters contribute densities in the model domain (per unit of the log of
        the value for ``log=True``); grid parameters and categoricals contribute probabilities.
        """
        return _logsumexp_rows(self._joint(samples))

    def _joint(self, samples: Mapping[str, np.ndarray]) -> np.ndarray:
        """``joint[i, k]``: log of kernel k's weight times its density at point i."""
        m = len(np.asarray(samples[self._names[0]])) if self._names else 0
        if self._continuous is None:
            self._continuous = _ContinuousBlock(
                {
                    n: k
                    for n, k in self._kernels.items()
                    if isinstance(k, _Numeric) and k.step is None
                }
            )
        joint = self._continuous.log_terms(samples, m, self._log_mixture)
        for name in self._names:
            kernels = self._kernels[name]
            x = np.asarray(samples[name], dtype=float)
            if isinstance(kernels, _Categorical):
                joint += kernels.log_weights.T[x.astype(np.intp)]
            elif kernels.step is not None:
                joint += self._grid_log_mass(kernels, x)
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
        merged._continuous = None
        kernels: dict[str, _Numeric | _Categorical] = {}
        for name, a in first._kernels.items():
            b = second._kernels[name]
            if isinstance(a, _Numeric) and isinstance(b, _Numeric):
                kernels[name] = a._replace(
                    mu=np.concatenate([a.mu, b.mu]),
                    sigma=np.concatenate([a.sigma, b.sigma]),
                    log_norm=np.concatenate([a.log_norm, b.log_norm]),
                )
            elif isinstance(a, _Categorical) and isinstance(b, _Categorical):
                kernels[name] = _Categorical(
                    np.concatenate([a.weights, b.weights]),
                    np.concatenate([a.log_weights, b.log_weights]),
                )
            else:
                raise ValueError(f"Parameter {name!r} is modelled differently in the two.")
        merged._kernels = kernels
        merged._numeric = {n: k for n, k in kernels.items() if isinstance(k, _Numeric)}
        return merged

    @staticmethod
    def _grid_log_mass(kernels: _Numeric, x: np.ndarray) -> np.ndarray:
        """``log P(value in [x - step/2, x + step/2])`` for each point and kernel.

        Observations sit on the grid and many kernels share their (mu, sigma), so with many
        kernels the masses are computed for distinct kernels only and then spread out.
        """
        assert kernels.step is not None
        left, right = x - 0.5 * kernels.step, x + 0.5 * kernels.step
        if kernels.log:
            left, right = np.log(left), np.log(right)
        if len(kernels.mu) <= _FEW_KERNELS:
            mu, sigma = kernels.mu, kernels.sigma
            mass = _truncnorm.log_gauss_mass_fast(
                (left[:, None] - mu) / sigma, (right[:, None] - mu) / sigma
            )
            mass -= kernels.log_norm
            return mass
        representative, k_inverse = _unique_pairs(kernels.mu, kernels.sigma)
        mu, sigma = kernels.mu[representative], kernels.sigma[representative]
        mass = _truncnorm.log_gauss_mass_fast(
            (left[:, None] - mu) / sigma, (right[:, None] - mu) / sigma
        )
        mass -= kernels.log_norm[representative]
        return mass.take(k_inverse, axis=1)


def log_density_ratio(
    good: _ParzenEstimator, bad: _ParzenEstimator, samples: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``good.log_pdf(samples) - bad.log_pdf(samples)``, both mixtures in one pass."""
    joint = _ParzenEstimator._merged(good, bad)._joint(samples)
    split = good.n_kernels
    return _logsumexp_rows(joint[:, :split]) - _logsumexp_rows(joint[:, split:])
