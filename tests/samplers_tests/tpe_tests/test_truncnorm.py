"""Truncated-normal kernels against SciPy's reference implementations."""

from __future__ import annotations

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
