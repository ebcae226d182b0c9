"""The TPE acquisition: the log density ratio ``log l(x) - log g(x)`` of the good and bad
Parzen estimators at candidate points, evaluated in one pass over both mixtures, or per cell
for a single discrete parameter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from skipjack.samplers._tpe._grid_masses import _cached_grid_masses
from skipjack.samplers._tpe._parzen_estimator import _Categorical
from skipjack.samplers._tpe._parzen_estimator import _log
from skipjack.samplers._tpe._parzen_estimator import _logsumexp_rows
from skipjack.samplers._tpe._parzen_estimator import _merged_groups
from skipjack.samplers._tpe._parzen_estimator import _Numeric
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator

__all__ = ["log_density_ratio"]


def log_density_ratio(
    good: _ParzenEstimator, bad: _ParzenEstimator, samples: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``good.log_pdf(samples) - bad.log_pdf(samples)``, both mixtures in one pass."""
    if len(good._names) == 1 and good._names == bad._names:
        name = good._names[0]
        ratio = _discrete_log_density_ratio(
            good._kernels[name], bad._kernels[name], good, bad, np.asarray(samples[name])
        )
        if ratio is not None:
            return ratio
    joint = _ParzenEstimator._merged(good, bad)._joint(samples)
    split = good.n_kernels
    return _logsumexp_rows(joint[:, :split], True) - _logsumexp_rows(joint[:, split:], True)


def _discrete_log_density_ratio(
    good_kernels: _Numeric | _Categorical,
    bad_kernels: _Numeric | _Categorical,
    good: _ParzenEstimator,
    bad: _ParzenEstimator,
    x: np.ndarray,
) -> np.ndarray | None:
    """:func:`log_density_ratio` of two estimators of one discrete parameter (a categorical,
    or a grid whose cell masses are cached), per cell rather than per point and kernel.

    Kernels that agree on every cell (same choice, same ``(mu, sigma)``) are pooled first,
    their weights summed: the mixtures shrink from one term per observation to one per
    distinct kernel. ``None`` when the parameter is of another kind.
    """
    if isinstance(good_kernels, _Categorical) and isinstance(bad_kernels, _Categorical):
        # P(choice) = sum_k w_k P(choice | k): one product per mixture, no exponent range issue
        # (the probabilities are at most one).
        p_good = np.exp(good_kernels.log_table) @ good._mixture
        p_bad = np.exp(bad_kernels.log_table) @ bad._mixture
        index = x.astype(np.intp)
        return _log(p_good[index]) - _log(p_bad[index])
    if not (isinstance(good_kernels, _Numeric) and isinstance(bad_kernels, _Numeric)):
        return None
    if good_kernels.step is None or bad_kernels.step is None:
        return None
    n_good = len(good_kernels.mu)
    groups = _merged_groups(good_kernels, bad_kernels)
    if groups is None:
        first = inverse = None
        split = n_good
    else:
        first, inverse = groups
        split = n_good if good_kernels.groups is None else len(good_kernels.groups[0])
    merged = good_kernels._replace(
        mu=np.concatenate([good_kernels.mu, bad_kernels.mu]),
        sigma=np.concatenate([good_kernels.sigma, bad_kernels.sigma]),
        log_norm=np.concatenate([good_kernels.log_norm, bad_kernels.log_norm]),
        groups=groups,
    )
    cached = _cached_grid_masses(merged, np.asarray(x, dtype=float))
    if cached is None:
        return None
    mass, point_cell = cached  # (cells, distinct kernels)
    weights = np.concatenate([good._mixture, bad._mixture])
    log_norm = merged.log_norm
    if inverse is not None:
        assert first is not None
        weights = np.bincount(inverse, weights=weights, minlength=len(first))
        log_norm = log_norm[first]
    mass -= log_norm
    mass += _log(weights)
    ratio = _logsumexp_rows(mass[:, :split]) - _logsumexp_rows(mass[:, split:])
    return ratio[point_cell]
