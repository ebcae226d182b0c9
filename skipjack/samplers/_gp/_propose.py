"""One GP proposal: build the training data, fit the models, maximise the acquisition."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any
import warnings

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.samplers._gp._acqf import LogEI
from skipjack.samplers._gp._ehvi import LogEHVI2D
from skipjack.samplers._gp._gpr import GPRegressor
from skipjack.samplers._gp._gpr import fit_gp
from skipjack.samplers._gp._optim import optimize_acqf
from skipjack.samplers._gp._search_space import EncodedSpace
from skipjack.study._study_direction import StudyDirection

if TYPE_CHECKING:
    from skipjack.trial import FrozenTrial

__all__ = ["propose"]


def propose(
    search_space: dict[str, BaseDistribution],
    completed: list[FrozenTrial],
    running: list[dict[str, Any]],
    directions: list[StudyDirection],
    rng: np.random.RandomState,
    theta_cache: dict[int, np.ndarray],
    deterministic: bool,
) -> dict[str, Any]:
    """External values of the next point to evaluate.

    ``completed`` are the COMPLETE trials, ``running`` the parameters of trials still being
    evaluated; ``theta_cache`` holds warm starts for the hyperparameter fits and is updated.
    """
    space = EncodedSpace(search_space)
    x = space.encode([t.params for t in completed])
    signs = np.array([-1.0 if d == StudyDirection.MINIMIZE else 1.0 for d in directions])
    scores = _finite(signs * np.array([t.values for t in completed], dtype=float))
    y = _standardize(_parego(scores, rng) if scores.shape[1] > 1 else scores[:, 0])[0]

    feasible: np.ndarray = np.ones(len(completed), dtype=bool)
    constraint_models: list[tuple[GPRegressor, float]] = []
    constraints = _constraint_matrix(completed)
    if constraints is not None:
        feasible = np.asarray((constraints <= 0).all(axis=1))
        for i, column in enumerate(constraints.T):
            c, mean, std = _standardize(_finite(column[:, None])[:, 0])
            model, theta_cache[i + 1] = fit_gp(
                x, c, space.is_categorical, False, theta_cache.get(i + 1)
            )
            constraint_models.append((model, (0.0 - mean) / std))

    gpr: GPRegressor | None = None
    threshold = 0.0
    incumbent = None
    if feasible.any():
        x_fit, y_fit = x, y
        if running:
            # Constant liar: running points count as the worst value seen so far.
            x_run = space.encode(running)
            x_fit = np.vstack([x, x_run])
            y_fit = np.concatenate([y, np.full(len(x_run), y.min())])
        gpr, theta_cache[0] = fit_gp(
            x_fit, y_fit, space.is_categorical, deterministic, theta_cache.get(0)
        )
        best = int(np.argmax(np.where(feasible, y, -np.inf)))
        threshold = float(y[best])
        incumbent = x[best]
    acqf: LogEI | LogEHVI2D = LogEI(gpr, threshold, constraint_models)
    if scores.shape[1] == 2 and constraints is None:
        acqf = _ehvi(x, scores, space, running, rng, theta_cache, deterministic)
        incumbent = None
    point = optimize_acqf(acqf, space, rng, warm_start=incumbent)
    return space.decode(point)


def _ehvi(
    x: np.ndarray,
    scores: np.ndarray,
    space: EncodedSpace,
    running: list[dict[str, Any]],
    rng: np.random.RandomState,
    theta_cache: dict[int, np.ndarray],
    deterministic: bool,
) -> LogEHVI2D:
    """log EHVI over two objectives, one GP each; running points lie at each objective's worst."""
    y = np.stack([_standardize(column)[0] for column in scores.T], axis=1)
    x_fit = x if not running else np.vstack([x, space.encode(running)])
    gprs = []
    for i in range(2):
        y_fit = np.concatenate([y[:, i], np.full(len(x_fit) - len(x), y[:, i].min())])
        gpr, theta_cache[100 + i] = fit_gp(
            x_fit, y_fit, space.is_categorical, deterministic, theta_cache.get(100 + i)
        )
        gprs.append(gpr)
    return LogEHVI2D(gprs, y, seed=int(rng.randint(2**31 - 1)))


def _finite(values: np.ndarray) -> np.ndarray:
    """Clip ±inf to the finite extremes of each column (0 when a column has none)."""
    ok = np.isfinite(values)
    if ok.all():
        return values
    warnings.warn(
        "Clip non-finite values to the min/max finite values for GP fittings.",
        UserWarning,
        stacklevel=3,
    )
    any_ok = ok.any(axis=0)
    low = np.where(any_ok, np.min(np.where(ok, values, np.inf), axis=0), 0.0)
    high = np.where(any_ok, np.max(np.where(ok, values, -np.inf), axis=0), 0.0)
    return np.clip(np.nan_to_num(values, nan=0.0), low, high)


def _standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    mean = float(y.mean())
    std = float(y.std())
    std = std if std > 0 else 1.0
    return (y - mean) / std, mean, std


def _parego(scores: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Augmented Chebyshev scalarisation with random weights (ParEGO, Knowles 2006), for
    maximisation of every column of ``scores``."""
    low, high = scores.min(axis=0), scores.max(axis=0)
    normalized = (scores - low) / np.where(high > low, high - low, 1.0)
    weights = rng.dirichlet(np.ones(scores.shape[1]))
    weighted = weights * normalized
    return weighted.min(axis=1) + 0.05 * weighted.sum(axis=1)


def _constraint_matrix(trials: list[FrozenTrial]) -> np.ndarray | None:
    """Constraint values as an ``(n, c)`` array, or ``None`` when no trial has any."""
    rows = [list(t.constraints.values()) for t in trials]
    if not any(rows):
        return None
    if any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("The number of constraints must be the same for all trials.")
    return np.array(rows, dtype=float)
