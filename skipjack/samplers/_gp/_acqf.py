"""Acquisition functions in log space, with gradients.

Log expected improvement follows Ament et al. 2023 ("Unexpected Improvements to Expected
Improvement for Bayesian Optimization", eq. 9): EI = σ h(z) with z = (μ - f*)/σ and
h(z) = φ(z) + z Φ(z); log h is computed without underflow for very negative z through the scaled
complementary error function. Constraints multiply EI by the probability that each constraint GP
is at or below its threshold (Gardner et al. 2014), i.e. add log Φ terms.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from skipjack.samplers._gp._gpr import GPRegressor

__all__ = ["LogEI", "log_h"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_SQRT_PI_2 = 0.5 * math.log(math.pi / 2.0)


def log_h(z: np.ndarray) -> np.ndarray:
    """log(φ(z) + z Φ(z)), accurate for all z (Ament et al. 2023, eq. 9)."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu * zu - _LOG_SQRT_2PI) + zu * special.ndtr(zu))
    zl = z[~upper]
    # h(z) = φ(z) (1 - |z| √(π/2) erfcx(|z|/√2)) for z < 0; log1mexp keeps the difference.
    t = np.log(special.erfcx(-zl / math.sqrt(2.0)) * np.abs(zl)) + _LOG_SQRT_PI_2
    out[~upper] = -0.5 * zl * zl - _LOG_SQRT_2PI + _log1mexp(t)
    return out


def _log1mexp(t: np.ndarray) -> np.ndarray:
    """log(1 - exp(t)) for t < 0 (Mächler 2012)."""
    t = np.minimum(t, -1e-300)
    return np.where(t > -math.log(2.0), np.log(-np.expm1(t)), np.log1p(-np.exp(t)))


class LogEI:
    """log EI of the objective GP over ``threshold`` (maximisation), plus log P(c_i ≤ t_i) for
    each constraint GP ``constraints[i]`` with threshold ``thresholds[i]``."""

    def __init__(
        self,
        gpr: GPRegressor | None,
        threshold: float,
        constraints: list[tuple[GPRegressor, float]] | None = None,
    ) -> None:
        self._gpr = gpr
        self._threshold = threshold
        self._constraints = constraints or []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Values at the rows of ``x``."""
        return self.value_and_grad(x, with_grad=False)[0]

    def length_scales(self) -> np.ndarray:
        """Length scales ℓ_d = λ_d^-½ of the objective GP (of the first constraint GP when
        there is no objective GP): the natural unit of each coordinate."""
        gpr = self._gpr if self._gpr is not None else self._constraints[0][0]
        return np.asarray(1.0 / np.sqrt(gpr.inv_sq_lengthscales))

    def value_and_grad(
        self, x: np.ndarray, with_grad: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values at the rows of ``x`` and (when asked) their gradients, shape ``(m, d)``."""
        value = np.zeros(len(x))
        grad = np.zeros_like(x)
        if self._gpr is not None:
            mean, var, dmean, dvar = self._gpr.posterior(x, with_grad)
            sigma = np.sqrt(var)
            z = (mean - self._threshold) / sigma
            lh = log_h(z)
            value += np.log(sigma) + lh
            if with_grad:
                assert dmean is not None and dvar is not None
                dsigma = dvar / (2.0 * sigma)[:, None]
                # d log h / dz = Φ(z) / h(z)
                dlh = np.exp(special.log_ndtr(z) - lh)
                grad += dsigma / sigma[:, None]
                grad += (dlh / sigma)[:, None] * (dmean - z[:, None] * dsigma)
        for gpr, threshold in self._constraints:
            mean, var, dmean, dvar = gpr.posterior(x, with_grad)
            sigma = np.sqrt(var)
            u = (threshold - mean) / sigma
            log_cdf = special.log_ndtr(u)
            value += log_cdf
            if with_grad:
                assert dmean is not None and dvar is not None
                dsigma = dvar / (2.0 * sigma)[:, None]
                ratio = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - log_cdf)  # φ(u)/Φ(u)
                grad += (ratio / sigma)[:, None] * (-dmean - u[:, None] * dsigma)
        return value, grad
