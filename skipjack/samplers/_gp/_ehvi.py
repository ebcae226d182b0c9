"""Log expected hypervolume improvement for two objectives (Emmerich et al. 2006), by QMC.

Each objective has its own GP. For a candidate x, S fixed quasi-random normal draws give posterior
samples y_s = μ(x) + σ(x) ε_s of both objectives (maximised, standardised). The hypervolume
improvement of a sample over the current Pareto front P, relative to reference point r, is the
area of the box [r, y_s] minus the part of it already dominated by P, which is the hypervolume of
P clipped to y_s; in two dimensions that is a staircase sum. log EHVI is the log of the sample
mean, floored to stay finite where no sample improves.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from skipjack.samplers._gp._gpr import GPRegressor

__all__ = ["LogEHVI2D", "pareto_front_2d"]


def pareto_front_2d(y: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``y`` (maximisation), sorted by the first objective descending."""
    order = np.lexsort((-y[:, 1], -y[:, 0]))
    y = y[order]
    best_second = np.maximum.accumulate(y[:, 1])
    keep = np.ones(len(y), dtype=bool)
    keep[1:] = y[1:, 1] > best_second[:-1]
    return y[keep]


class LogEHVI2D:
    """log EHVI of two objective GPs over the front of ``y_train`` (``(n, 2)``, maximised)."""

    has_grad = False

    def __init__(
        self,
        gprs: list[GPRegressor],
        y_train: np.ndarray,
        seed: int,
        n_samples: int = 64,
    ) -> None:
        self._gprs = gprs
        self._front = pareto_front_2d(y_train)
        # Reference point a little below the worst observed values (a common heuristic).
        low, high = y_train.min(axis=0), y_train.max(axis=0)
        self._ref = low - 0.1 * np.maximum(high - low, 1e-12)
        sobol = qmc.Sobol(2, scramble=True, seed=seed).random(n_samples)
        from scipy.special import ndtri

        self._eps = ndtri(np.clip(sobol, 1e-9, 1 - 1e-9))  # (S, 2)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Values at the rows of ``x``."""
        means, sigmas = [], []
        for gpr in self._gprs:
            mean, var, _, _ = gpr.posterior(x)
            means.append(mean)
            sigmas.append(np.sqrt(var))
        mu = np.stack(means, axis=1)  # (m, 2)
        sd = np.stack(sigmas, axis=1)
        samples = mu[:, None, :] + sd[:, None, :] * self._eps[None, :, :]  # (m, S, 2)
        samples = np.maximum(samples, self._ref)
        box = np.prod(samples - self._ref, axis=-1)  # (m, S)
        # Front clipped to each sample; sorted by f1 descending it stays sorted.
        c1 = np.minimum(self._front[None, None, :, 0], samples[..., :1])  # (m, S, P)
        c2 = np.minimum(self._front[None, None, :, 1], samples[..., 1:])
        # Staircase area: widths between consecutive f1 values times the running max of f2.
        next_c1 = np.concatenate([c1[..., 1:], np.full(c1.shape[:-1] + (1,), self._ref[0])], -1)
        heights = np.maximum.accumulate(c2, axis=-1) - self._ref[1]
        dominated = np.sum((c1 - next_c1) * heights, axis=-1)
        hvi = np.maximum(box - dominated, 0.0)
        return np.log(hvi.mean(axis=1) + 1e-12)
