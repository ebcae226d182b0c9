"""The continuous parameters of a Parzen estimator, evaluated at many points in one matrix
product (``_ParzenEstimator._joint``)."""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import TYPE_CHECKING

import numpy as np

from skipjack.samplers._tpe._blas import matmul_on_this_thread
from skipjack.samplers._tpe._scratch import _JOINT
from skipjack.samplers._tpe._scratch import _buffer

if TYPE_CHECKING:
    from skipjack.samplers._tpe._parzen_estimator import _Numeric

__all__ = ["ContinuousBlock"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class ContinuousBlock:
    """All continuous numeric parameters' kernels and the mixture weights, evaluated together.

    With each parameter scaled to its domain (``u = (x - centre) / width``) the log of kernel
    k's weight times its density is one matrix product: ``sum_d [u_d^2 a_kd + u_d b_kd] + c_k``
    with ``a = -1/(2 s^2)``, ``b = m/s^2`` and ``c_k`` the rest (normalising constants, the
    ``-m^2/(2 s^2)`` terms and the log weight). Expanding the square loses accuracy when a
    bandwidth is tiny next to the domain, so below ``1e-3`` of it (only possible without the
    magic clip) the direct form is used instead.
    """

    def __init__(self, kernels: dict[str, _Numeric], log_mixture: np.ndarray) -> None:
        self._names = list(kernels)
        self._log = [k.log for k in kernels.values()]
        self._log_mixture = log_mixture
        if not kernels:
            return
        values = list(kernels.values())
        self._centre = np.array([0.5 * (k.low + k.high) for k in values])
        self._width = np.array([k.high - k.low for k in values])
        raw_sigma = np.array([k.sigma for k in values])
        mu = (np.array([k.mu for k in values]) - self._centre[:, None]) / self._width[:, None]
        sigma = raw_sigma / self._width[:, None]  # (d, K)
        # Per kernel: log weight and log of its normalising constants over these parameters.
        offset = (
            log_mixture
            - (np.log(raw_sigma) + np.array([k.log_norm for k in values])).sum(axis=0)
            - len(values) * _LOG_SQRT_2PI
        )
        self._expand = bool(sigma.min() >= 1e-3)
        if self._expand:
            inv_var = 1.0 / (sigma * sigma)
            d = len(values)
            coef = np.empty((2 * d + 1, len(log_mixture)))
            np.multiply(inv_var, -0.5, out=coef[:d])
            np.multiply(mu, inv_var, out=coef[d : 2 * d])
            coef[2 * d] = offset - 0.5 * (mu * mu * inv_var).sum(axis=0)
            self._coef = coef
        else:
            self._offset = offset
            self._mu, self._sigma = mu, sigma

    def log_terms(self, samples: Mapping[str, np.ndarray], m: int) -> np.ndarray:
        """``(m, K)`` array (scratch ``_JOINT``): log mixture weight + log continuous density
        per kernel."""
        joint = _buffer(_JOINT, (m, len(self._log_mixture)))
        if not self._names:
            joint[:] = self._log_mixture
            return joint
        d = len(self._names)
        u = np.empty((m, 2 * d + 1))
        for row, (name, log) in enumerate(zip(self._names, self._log)):
            x = np.log(samples[name]) if log else np.asarray(samples[name], dtype=float)
            u[:, d + row] = (x - self._centre[row]) / self._width[row]
        if self._expand:
            np.multiply(u[:, d : 2 * d], u[:, d : 2 * d], out=u[:, :d])
            u[:, 2 * d] = 1.0
            return matmul_on_this_thread(u, self._coef, joint)
        joint[:] = self._offset
        for row in range(d):
            z = (u[:, d + row, None] - self._mu[row]) / self._sigma[row]
            z *= z
            z *= 0.5
            joint -= z
        return joint
