"""TPE's default functions of the number of trials: the size of the good set (``gamma``) and
the kernels' weights, with the checks applied to user-given ``weights`` functions."""

from __future__ import annotations

from collections.abc import Callable
import functools
import math
from typing import Any
import warnings

import numpy as np

__all__ = [
    "default_gamma",
    "default_gamma_multiobjective",
    "default_weights",
    "deprecated_argument",
    "hyperopt_default_gamma",
    "hyperopt_parameters",
]


def default_gamma(x: int) -> int:
    """Size of the good set for ``x`` finished trials: 10 %, rounded up, at most 25."""
    return min(math.ceil(0.1 * x), 25)


def default_gamma_multiobjective(x: int) -> int:
    """Size of the good set with several objectives: 10 %, rounded up, uncapped."""
    return math.ceil(0.1 * x)


def hyperopt_default_gamma(x: int) -> int:
    """hyperopt's choice: a quarter of the square root, rounded up, at most 25."""
    return min(math.ceil(0.25 * x**0.5), 25)


def default_weights(x: int) -> np.ndarray:
    """Kernel weights of ``x`` observations in trial order: the newest 25 get weight 1, older
    ones a linear ramp from ``1/x`` up (Bergstra et al., 2013, Sec. 3)."""
    if x == 0:
        return np.asarray([])
    if x < 25:
        return np.ones(x)
    # ``np.concatenate([np.linspace(1 / x, 1, x - 25), np.ones(25)])``, value for value,
    # without linspace's overhead.
    weights = np.ones(x)
    ramp = x - 25
    if ramp == 1:
        weights[0] = 1.0 / x
    elif ramp > 1:
        start = 1.0 / x
        np.multiply(np.arange(ramp, dtype=float), (1.0 - start) / (ramp - 1), out=weights[:ramp])
        weights[:ramp] += start
        weights[ramp - 1] = 1.0  # linspace's last point is its end, exactly
    return weights


@functools.lru_cache(maxsize=4)
def _shared_default_weights(n: int) -> np.ndarray:
    """:func:`default_weights` as a read-only array shared by the suggestions that need it
    (every parameter of a trial, in independent sampling)."""
    weights = default_weights(n)
    weights.flags.writeable = False
    return weights


def _checked_weights(func: Callable[[int], Any], n: int) -> np.ndarray:
    if func is default_weights:
        return _shared_default_weights(n)
    weights = np.asarray(func(n), dtype=float)[:n]
    if len(weights) != n:
        raise ValueError(f"The `weights` function returned {len(weights)} values for {n} trials.")
    if (weights < 0).any():
        raise ValueError(f"The `weights` function returned negative values for {n}: {weights}.")
    if n and weights.sum() <= 0:
        raise ValueError(f"The `weights` function returned all-zero values for {n}: {weights}.")
    if not np.isfinite(weights).all():
        raise ValueError(f"The `weights` function returned non-finite values for {n}: {weights}.")
    return weights


def hyperopt_parameters() -> dict[str, Any]:
    """Deprecated: TPESampler arguments reproducing hyperopt 0.1.2's defaults."""
    warnings.warn(
        "hyperopt_parameters has been deprecated in v4.9.0. This feature will be removed in "
        "v6.0.0. See https://github.com/optuna/optuna/releases/tag/v4.9.0.",
        FutureWarning,
        stacklevel=3,
    )
    return {
        "consider_prior": True,
        "prior_weight": 1.0,
        "consider_magic_clip": True,
        "consider_endpoints": False,
        "n_startup_trials": 20,
        "n_ei_candidates": 24,
        "gamma": hyperopt_default_gamma,
        "weights": default_weights,
    }


def deprecated_argument(name: str, value: Any, default: Any, since: str, removal: str) -> Any:
    """``value``, with a FutureWarning naming the deprecated argument, when given; else
    ``default``."""
    if value is None:
        return default
    warnings.warn(
        f"`{name}` has been deprecated in v{since}. This feature will be removed in v{removal}. "
        f"See https://github.com/optuna/optuna/releases/tag/v{since}.",
        FutureWarning,
        stacklevel=3,
    )
    return value
