"""Maximise an acquisition function over the encoded search space.

1. Score a scrambled Sobol' sample of candidates in one vectorised call; pick local-search
   starts from it (the best, others at random weighted by exp(log EI)) plus the incumbent.
2. Refine the starts. For log EI, one L-BFGS-B run on the sum of their values: the sum is
   separable across points, so this is a batch of independent local searches in one SciPy call
   (grid coordinates stay relaxed). log EHVI has no gradient here and takes a few rounds of
   shrinking random steps instead.
3. Snap every point onto the grid, sweep each categorical coordinate over its choices, and
   return the best snapped point.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
from scipy.stats import qmc

from skipjack.samplers._gp._acqf import LogEI
from skipjack.samplers._gp._ehvi import LogEHVI2D
from skipjack.samplers._gp._search_space import EncodedSpace

__all__ = ["optimize_acqf"]

Acquisition = LogEI | LogEHVI2D


def optimize_acqf(
    acqf: Acquisition,
    space: EncodedSpace,
    rng: np.random.RandomState,
    warm_start: np.ndarray | None = None,
    n_candidates: int = 2048,
    n_local: int = 10,
) -> np.ndarray:
    """Return the encoded point (already snapped) that maximises ``acqf``."""
    d = space.dim
    sobol = qmc.Sobol(d, scramble=True, seed=rng.randint(2**31 - 1))
    candidates = sobol.random(n_candidates)
    candidates[:, space.is_categorical] *= space.n_choices[space.is_categorical]
    candidates[:, space.is_categorical] = np.floor(candidates[:, space.is_categorical])
    values = acqf(candidates)
    warm = np.empty((0, d)) if warm_start is None else warm_start.reshape(-1, d)
    starts = np.vstack([candidates[_pick_starts(values, n_local - len(warm), rng)], warm])

    numeric = np.flatnonzero(~space.is_categorical)
    if len(numeric) and isinstance(acqf, LogEI):
        refined = _refine(acqf, starts, numeric)
    elif len(numeric):
        refined = _perturb(acqf, starts, numeric, rng)
    else:
        refined = starts
    points = space.round(np.vstack([refined, starts]))
    points = _sweep_categoricals(acqf, space, points)
    return points[int(np.argmax(acqf(points)))]


def _pick_starts(values: np.ndarray, n: int, rng: np.random.RandomState) -> np.ndarray:
    """Indices of local-search starts: the best candidate, then up to ``n - 1`` more drawn
    without replacement with probability proportional to exp(value), so that the starts spread
    over several peaks of log EI instead of crowding on the highest one."""
    values = np.where(np.isfinite(values), values, -np.inf)
    best = int(np.argmax(values))
    weights = np.exp(values - values[best])
    weights[best] = 0.0
    n_more = min(n - 1, int(np.count_nonzero(weights > 0)))
    if n_more <= 0:
        return np.array([best])
    more = rng.choice(len(values), size=n_more, replace=False, p=weights / weights.sum())
    return np.concatenate([[best], more])


def _refine(acqf: LogEI, starts: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Local L-BFGS-B ascent from every start at once.

    The starts are independent, so maximising the sum of their values is a batch of separate
    local searches in one SciPy call (as BoTorch's ``gen_candidates_scipy`` does). Coordinates
    are measured in the objective GP's length scales, z = x / ℓ, so that log EI changes about
    equally fast along each and one gradient tolerance suits all of them.
    """
    m, k = len(starts), len(numeric)
    scale = acqf.length_scales()[numeric]
    fixed = starts.copy()

    def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
        x = fixed.copy()
        x[:, numeric] = flat.reshape(m, k) * scale
        value, grad = acqf.value_and_grad(x)
        value = np.where(np.isfinite(value), value, -1e10)
        return -float(value.sum()), -(np.nan_to_num(grad[:, numeric]) * scale).ravel()

    res = scipy.optimize.minimize(
        negative,
        (starts[:, numeric] / scale).ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0 / s) for s in scale] * m,
        # The summed value is loose as a stopping rule; 50 iterations settle the batch.
        options={"maxiter": 50, "ftol": 1e-9, "gtol": 1e-2},
    )
    out = fixed.copy()
    out[:, numeric] = np.clip(res.x.reshape(m, k) * scale, 0.0, 1.0)
    return out


def _perturb(
    acqf: Acquisition, starts: np.ndarray, numeric: np.ndarray, rng: np.random.RandomState
) -> np.ndarray:
    """Gradient-free local search: Gaussian steps around each start, shrinking, best kept."""
    best = starts.copy()
    best_values = acqf(best)
    for scale in (0.1, 0.03, 0.01):
        steps = rng.normal(0.0, scale, size=(64, *best[:, numeric].shape))
        trials = np.repeat(best[None], 64, axis=0)
        trials[..., numeric] = np.clip(trials[..., numeric] + steps, 0.0, 1.0)
        values = acqf(trials.reshape(-1, best.shape[1])).reshape(64, len(best))
        winner = values.argmax(axis=0)
        improved = values[winner, np.arange(len(best))] > best_values
        best[improved] = trials[winner, np.arange(len(best))][improved]
        best_values = np.maximum(best_values, values[winner, np.arange(len(best))])
    return best


def _sweep_categoricals(acqf: Acquisition, space: EncodedSpace, points: np.ndarray) -> np.ndarray:
    """Try every choice of each categorical coordinate (one coordinate at a time)."""
    for i in np.flatnonzero(space.is_categorical):
        n = int(space.n_choices[i])
        trials = np.repeat(points, n, axis=0)
        trials[:, i] = np.tile(np.arange(n), len(points))
        values = acqf(trials).reshape(len(points), n)
        points = points.copy()
        points[:, i] = values.argmax(axis=1)
    return points
