"""Numerically careful kernels of the standard normal distribution truncated to ``[a, b]``.

Everything works on standardized bounds (``a = (low - mu) / sigma``). The probability mass
``Phi(b) - Phi(a)`` is evaluated in log space on whichever side of zero keeps it away from the
cancellation of two values close to one: by the symmetry ``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)``
an interval whose centre is positive is mirrored into the lower tail first, where ``log_ndtr`` is
accurate to the last bits even far out (e.g. ``a = 30``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "log_gauss_mass",
    "log_gauss_mass_fast",
    "log_ndtr",
    "logpdf",
    "ndtr",
    "sample",
    "sample_bounds",
    "sample_prepared",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LN2 = math.log(2.0)
# The fast difference is trusted when the mass exceeds this fraction of the smaller ``ndtr``
# value: its relative error is then below ~1e-10.
_CANCELLATION = 1e-6


_special: Any = None


def _scipy_special() -> Any:
    """``scipy.special``, imported on first use so that ``import skipjack`` stays light."""
    global _special
    if _special is None:
        import scipy.special

        _special = scipy.special
    return _special


def ndtr(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF, elementwise."""
    result: np.ndarray = _scipy_special().ndtr(x)
    return result


def log_ndtr(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``log Phi(x)``, elementwise, accurate far into both tails; into ``out`` if given."""
    result: np.ndarray = _scipy_special().log_ndtr(x, out=out)
    return result


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate on both sides of ``-log 2`` (Maechler 2012)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -_LN2, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _mirror(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mirror intervals centred right of zero to the left; return (flipped, lo, hi)."""
    flip = a > -b
    return flip, np.where(flip, -b, a), np.where(flip, -a, b)


def log_gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return ``log(Phi(b) - Phi(a))`` elementwise for ``a <= b`` (``-inf`` when ``a == b``)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    _, lo, hi = _mirror(a, b)
    log_hi = _scipy_special().log_ndtr(hi)
    return log_hi + _log1mexp(_scipy_special().log_ndtr(lo) - log_hi)


def log_gauss_mass_fast(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same as :func:`log_gauss_mass`, from one ``ndtr`` difference where that is accurate.

    After mirroring, ``Phi(lo)`` and ``Phi(hi)`` carry relative errors of a few ulps, so their
    difference has relative error about ``eps * Phi(lo) / (Phi(hi) - Phi(lo))``: tiny unless
    the interval is very narrow for how far out in the tail it lies, or the mass underflows.
    Only those (rare) entries are recomputed with the log-space formula.
    """
    # The interval is mirrored when its centre is positive: Phi(b) - Phi(a) = Phi(-a) - Phi(-b).
    sign = np.where(a + b > 0, -1.0, 1.0)
    at_a = _scipy_special().ndtr(sign * a)
    at_b = _scipy_special().ndtr(sign * b)
    mass = sign * (at_b - at_a)
    suspect = ~(mass > _CANCELLATION * np.minimum(at_a, at_b))
    out = np.log(np.where(suspect, 1.0, mass))
    if suspect.any():
        a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
        out[suspect] = log_gauss_mass(a[suspect], b[suspect])
    return out


def logpdf(z: np.ndarray, log_mass: np.ndarray) -> np.ndarray:
    """Log-density at standardized point ``z`` of a truncated standard normal whose interval
    carries ``log_mass``; the caller subtracts ``log(sigma)`` and handles points outside."""
    return -0.5 * z * z - _LOG_SQRT_2PI - log_mass


def sample_bounds(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """What :func:`sample` needs of the bounds ``[a, b]`` alone, elementwise, stacked along a
    new first axis of length 3 (into ``out`` if given): ``log Phi`` of the lower and of the
    upper end of the interval mirrored to a non-positive centre (see :func:`_mirror`), and the
    sign that undoes the mirroring (-1.0 where mirrored). Uses no random number, so it can be
    computed once per kernel and reused across draws."""
    if out is None:
        out = np.empty((3, *a.shape))
    lo, hi, sign = out
    # The mirrored ends are min(a, -b) and min(b, -a): equal, up to the sign of a zero (which
    # log_ndtr ignores), to _mirror's choice between the ends.
    np.negative(b, out=sign)
    flip = a > sign
    np.minimum(a, sign, out=lo)
    np.negative(a, out=sign)
    np.minimum(b, sign, out=hi)
    log_ndtr(out[:2], out=out[:2])
    np.multiply(flip, -2.0, out=sign)
    sign += 1.0
    return out


def sample_prepared(
    log_lo: np.ndarray,
    log_hi: np.ndarray,
    sign: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """:func:`sample`'s draw for uniforms ``u`` and :func:`sample_bounds`' output (all arrays of
    ``u``'s shape); a new array. Every operation is one of :func:`sample`'s, so the values are
    the same bits."""
    # u == 0 (probability ~1e-16) would make log(u) -inf; the floor changes nothing else.
    lower = np.negative(u)
    np.log1p(lower, out=lower)
    lower += log_lo
    upper = np.maximum(u, 1e-300)
    np.log(upper, out=upper)
    upper += log_hi
    z = np.logaddexp(lower, upper, out=lower)
    _scipy_special().ndtri_exp(z, out=z)
    z *= sign  # exact: a sign flip (or nothing)
    # ``np.clip``'s result, at a third of its call overhead.
    np.maximum(z, a, out=z)
    return np.minimum(z, b, out=z)


def sample(a: np.ndarray, b: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Draw one standard normal value truncated to ``[a[i], b[i]]`` per element (inverse CDF).

    With ``u`` uniform, the draw solves ``Phi(z) = Phi(lo) + u (Phi(hi) - Phi(lo))``; in log
    space the right-hand side is ``logaddexp(log Phi(lo) + log(1 - u), log Phi(hi) + log u)``
    and ``ndtri_exp`` inverts it without leaving log space.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
    if a.ndim == 0:  # ufuncs return scalars for 0-d input: draw from a 1-element array
        return sample(a.reshape(1), b.reshape(1), rng)[0]
    u = rng.random_sample(a.shape)
    log_lo, log_hi, sign = sample_bounds(a, b)
    return sample_prepared(log_lo, log_hi, sign, a, b, u)
