"""Gaussian-process regression with a Matérn-5/2 ARD kernel (Rasmussen & Williams 2006).

The kernel between encoded points ``x`` and ``x'`` is

    r² = Σ_d λ_d δ_d(x, x'),   δ_d = (x_d - x'_d)² for numeric and [x_d ≠ x'_d] for categorical
    k  = s (1 + √5 r + 5/3 r²) exp(-√5 r)                          (R&W eq. 4.17, ν = 5/2)

with inverse squared length scales ``λ`` (one per coordinate: ARD), kernel scale ``s`` and a
Gaussian noise variance ``σ_n²``. Hyperparameters maximise the log marginal likelihood (R&W
eq. 5.8) plus a weak log prior, with analytic gradients (R&W eq. 5.9) and L-BFGS-B over their
logarithms.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import scipy.linalg
import scipy.optimize

__all__ = ["GPRegressor", "fit_gp"]

_SQRT5 = math.sqrt(5.0)
MINIMUM_NOISE = 1e-6


def _sq_dist(x1: np.ndarray, x2: np.ndarray, is_cat: np.ndarray) -> np.ndarray:
    """Per-coordinate distances δ_d, shape ``(n1, n2, d)``."""
    diff = x1[:, None, :] - x2[None, :, :]
    return np.where(is_cat, (diff != 0).astype(float), diff * diff)


def _matern(r2: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """k(r²) and dk/d(r²) of the Matérn-5/2 kernel."""
    r = np.sqrt(np.maximum(r2, 0.0))
    e = np.exp(-_SQRT5 * r)
    k = scale * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e
    dk_dr2 = -(5.0 / 6.0) * scale * (1.0 + _SQRT5 * r) * e
    return k, dk_dr2


@dataclass
class GPRegressor:
    """A fitted GP: training inputs, hyperparameters and the Cholesky factor of the Gram matrix."""

    x: np.ndarray
    y: np.ndarray
    is_cat: np.ndarray
    inv_sq_lengthscales: np.ndarray
    scale: float
    noise: float

    def __post_init__(self) -> None:
        gram = self.kernel(self.x, self.x)
        eye = np.eye(len(self.x))
        jitter = self.noise
        while True:
            try:
                self._chol = scipy.linalg.cho_factor(gram + jitter * eye, lower=True)
                break
            except np.linalg.LinAlgError:
                # Repeated points with (almost) no noise: add just enough to factorise.
                jitter = max(10.0 * jitter, 1e-8)
                if jitter > 1.0:
                    raise
        self._alpha = scipy.linalg.cho_solve(self._chol, self.y)

    def kernel(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """Kernel matrix between the rows of ``x1`` and ``x2``."""
        r2 = _sq_dist(x1, x2, self.is_cat) @ self.inv_sq_lengthscales
        return _matern(r2, self.scale)[0]

    def posterior(
        self, x: np.ndarray, with_grad: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Posterior mean and variance of the latent function at the rows of ``x``.

        With ``with_grad``, also their gradients with respect to ``x`` (shape ``(m, d)``);
        categorical coordinates get a zero gradient.
        """
        delta = x[:, None, :] - self.x[None, :, :]
        dist = np.where(self.is_cat, (delta != 0).astype(float), delta * delta)
        r2 = dist @ self.inv_sq_lengthscales
        k, dk_dr2 = _matern(r2, self.scale)
        mean = k @ self._alpha
        v = scipy.linalg.cho_solve(self._chol, k.T).T  # K⁻¹ k*, shape (m, n)
        var = np.maximum(self.scale - np.einsum("mn,mn->m", k, v), 1e-12)
        if not with_grad:
            return mean, var, None, None
        # dk_i/dx_d = dk/dr² · 2 λ_d (x_d - X_id) for numeric coordinates.
        dk_dx = (
            (2.0 * dk_dr2)[:, :, None]
            * delta
            * np.where(self.is_cat, 0.0, self.inv_sq_lengthscales)
        )
        dmean = np.einsum("mnd,n->md", dk_dx, self._alpha)
        dvar = -2.0 * np.einsum("mnd,mn->md", dk_dx, v)
        return mean, var, dmean, dvar


def _log_prior(log_lam: np.ndarray, log_s: float, noise_excess: float) -> tuple[float, np.ndarray]:
    """A weak prior keeping length scales, scale and noise moderate, with its gradient in the
    optimisation variables. Length scales: -(0.1/λ + 0.1 λ); scale ~ Gamma(2, 1); noise ~
    Gamma(1.1, 30)."""
    lam = np.exp(log_lam)
    s = math.exp(log_s)
    value = -float(np.sum(0.1 / lam + 0.1 * lam)) + (math.log(s) - s)
    grad = np.empty(len(log_lam) + 2)
    grad[:-2] = 0.1 / lam - 0.1 * lam
    grad[-2] = 1.0 - s
    noise = MINIMUM_NOISE + noise_excess
    value += 0.1 * math.log(noise) - 30.0 * noise
    grad[-1] = (0.1 / noise - 30.0) * noise_excess
    return value, grad


def _neg_objective(
    theta: np.ndarray, dists: np.ndarray, y: np.ndarray, deterministic: bool
) -> tuple[float, np.ndarray]:
    """Negative (log marginal likelihood + log prior) and its gradient in ``theta``.

    ``theta = [log λ (d), log s, log(σ_n² - min)]``; the last one is ignored when
    ``deterministic``.
    """
    n, d = len(y), dists.shape[-1]
    log_lam, log_s = theta[:d], float(theta[d])
    lam, s = np.exp(log_lam), math.exp(log_s)
    noise_excess = 0.0 if deterministic else math.exp(theta[d + 1])
    noise = MINIMUM_NOISE + noise_excess
    r2 = dists @ lam
    k, dk_dr2 = _matern(r2, s)
    gram = k + noise * np.eye(n)
    try:
        chol = scipy.linalg.cho_factor(gram, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = scipy.linalg.cho_solve(chol, y, check_finite=False)
    log_det = 2.0 * float(np.sum(np.log(np.diag(chol[0]))))
    lml = -0.5 * float(y @ alpha) - 0.5 * log_det - 0.5 * n * math.log(2.0 * math.pi)
    # ∂lml/∂θ = ½ tr((ααᵀ - K⁻¹) ∂K/∂θ)   (R&W eq. 5.9)
    w = np.outer(alpha, alpha) - scipy.linalg.cho_solve(chol, np.eye(n), check_finite=False)
    grad = np.empty(d + 2)
    # ∂K/∂log λ_d = dk/dr² · λ_d · δ_d
    grad[:d] = 0.5 * lam * np.einsum("ij,ijd->d", w * dk_dr2, dists)
    grad[d] = 0.5 * float(np.sum(w * k))  # ∂K/∂log s = K
    grad[d + 1] = 0.5 * float(np.trace(w)) * noise_excess
    prior, prior_grad = _log_prior(log_lam, log_s, noise_excess)
    if deterministic:
        prior_grad[-1] = 0.0
        grad[d + 1] = 0.0
    return -(lml + prior), -(grad + prior_grad)


def fit_gp(
    x: np.ndarray,
    y: np.ndarray,
    is_cat: np.ndarray,
    deterministic: bool = False,
    warm_start: np.ndarray | None = None,
) -> tuple[GPRegressor, np.ndarray]:
    """Fit the hyperparameters on ``(x, y)`` (``y`` standardised) and return the GP and the
    optimisation variables, which the caller may pass back as ``warm_start`` next time."""
    d = x.shape[1]
    dists = _sq_dist(x, x, is_cat)
    default = np.concatenate([np.zeros(d), [0.0, math.log(1e-2)]])
    starts = [default] if warm_start is None or len(warm_start) != d + 2 else [warm_start, default]
    best: tuple[float, np.ndarray] | None = None
    bounds = [(-10.0, 10.0)] * d + [(-7.0, 5.0), (-20.0, 2.0)]
    for start in starts:
        res = scipy.optimize.minimize(
            _neg_objective,
            np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds]),
            args=(dists, y, deterministic),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 200},
        )
        if best is None or res.fun < best[0]:
            best = (float(res.fun), res.x)
        if warm_start is not None and res.success:
            break  # the warm start converged: skip the cold one
    assert best is not None
    theta = best[1]
    noise = MINIMUM_NOISE + (0.0 if deterministic else math.exp(theta[d + 1]))
    gpr = GPRegressor(x, y, is_cat, np.exp(theta[:d]), math.exp(theta[d]), noise)
    return gpr, theta
