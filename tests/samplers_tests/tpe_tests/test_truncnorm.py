"""Truncated-normal kernels against SciPy's reference implementations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from skipjack.samplers._tpe import _truncnorm


def reference_log_mass(a: float, b: float) -> float:
    # log(Phi(b) - Phi(a)) from SciPy's log-cdf / log-sf on the side away from 1.
    if a >= 0:
        hi, lo = stats.norm.logsf(a), stats.norm.logsf(b)
    else:
        hi, lo = stats.norm.logcdf(b), stats.norm.logcdf(a)
    return float(hi + np.log1p(-np.exp(lo - hi)))


BOUNDS = [
    (-1.0, 1.0),
    (0.2, 0.3),
    (-40.0, -39.0),
    (30.0, 31.0),
    (-3.0, 50.0),
    (5.0, 5.0001),
    (-0.001, 0.001),
    (-1e-9, 1e-9),
    (-8.0, -7.5),
    (7.5, 8.0),
    (-np.inf, 0.0),
    (2.0, np.inf),
]


@pytest.mark.parametrize(("a", "b"), BOUNDS)
def test_log_gauss_mass_matches_reference(a: float, b: float) -> None:
    expected = reference_log_mass(a, b)
    assert _truncnorm.log_gauss_mass(np.array([a]), np.array([b]))[0] == pytest.approx(
        expected, rel=1e-7, abs=1e-12
    )
    assert _truncnorm.log_gauss_mass_fast(np.array([a]), np.array([b]))[0] == pytest.approx(
        expected, rel=1e-7, abs=1e-12
    )


def test_log_gauss_mass_of_empty_interval_is_minus_infinity() -> None:
    assert _truncnorm.log_gauss_mass(np.array([0.3]), np.array([0.3]))[0] == -np.inf


@pytest.mark.parametrize(("a", "b"), [(-1.0, 2.0), (3.0, 3.5), (-12.0, -11.0), (25.0, 40.0)])
def test_logpdf_matches_scipy(a: float, b: float) -> None:
    z = np.linspace(a, b, 7)
    mass = _truncnorm.log_gauss_mass(np.full(7, a), np.full(7, b))
    got = _truncnorm.logpdf(z, mass)
    np.testing.assert_allclose(got, stats.truncnorm.logpdf(z, a, b), rtol=1e-6)


@pytest.mark.parametrize(("a", "b"), [(-2.0, 1.0), (4.0, 6.0), (-30.0, -29.0), (35.0, 36.0)])
def test_samples_stay_inside_and_follow_the_distribution(a: float, b: float) -> None:
    rng = np.random.RandomState(0)
    n = 4000
    z = _truncnorm.sample(np.full(n, a), np.full(n, b), rng)
    assert ((z >= a) & (z <= b)).all()
    # Kolmogorov-Smirnov against SciPy's truncated normal.
    result = stats.kstest(z, stats.truncnorm(a, b).cdf)
    assert result.pvalue > 1e-3


def test_sample_broadcasts_per_element_bounds() -> None:
    rng = np.random.RandomState(1)
    a = np.array([[-1.0, 10.0], [0.0, -50.0]])
    b = a + 0.5
    z = _truncnorm.sample(a, b, rng)
    assert z.shape == a.shape
    assert ((z >= a) & (z <= b)).all()


class _FixedUniforms:
    """Stands in for a RandomState whose uniforms are given in advance."""

    def __init__(self, u: np.ndarray) -> None:
        self._u = u

    def random_sample(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(self._u, shape).copy()


EXTREME_BOUNDS = [
    (-1.0, 1.0),
    (0.2, 0.3),
    (-40.0, -39.0),
    (30.0, 31.0),
    (37.0, 38.0),
    (-50.0, 3.0),
    (5.0, 5.0001),
    (8.0, 8.0 + 1e-9),
    (-8.0 - 1e-9, -8.0),
    (0.3, 0.3 + 1e-12),
    (-20.0, -19.999999),
    (10.0, 12.0),
    (0.0, 1.0),
    (-1.0, 0.0),
    (2.0, np.inf),
    (-np.inf, -30.0),
    (-np.inf, np.inf),
]


@pytest.mark.parametrize(("a", "b"), EXTREME_BOUNDS)
def test_each_draw_is_the_quantile_of_its_uniform(a: float, b: float) -> None:
    # Inverse-CDF sampling: the draws are the truncated normal's quantiles at the uniforms, read
    # from one end of the interval or the other (both give the same distribution).
    u = np.array([1e-3, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999])
    rng: Any = _FixedUniforms(u)
    z = _truncnorm.sample(np.full(u.size, a), np.full(u.size, b), rng)
    assert ((z >= a) & (z <= b)).all()
    width = min(b - a, 1.0)
    from_low = stats.truncnorm.ppf(u, a, b)
    from_high = stats.truncnorm.ppf(1.0 - u, a, b)
    # 1e-14 relative to the value: a few ulps; 1e-9 of the width: SciPy's own accuracy.
    close = {
        end: bool(np.allclose(z, ref, rtol=1e-14, atol=1e-9 * width))
        for end, ref in (("low", from_low), ("high", from_high))
    }
    assert close["low"] or close["high"], (z, from_low, from_high)


@pytest.mark.parametrize("point", [0.3, 0.0, 30.0, -30.0, -40.0])
def test_empty_interval_gives_its_point(point: float) -> None:
    z = _truncnorm.sample(np.array([point]), np.array([point]), np.random.RandomState(0))
    assert z[0] == point
