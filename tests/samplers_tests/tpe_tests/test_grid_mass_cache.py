"""Grid and categorical evaluation shortcuts: the cell-mass cache of grid parameters (on,
full or bypassed, the same bits) and the per-cell density ratio of one discrete parameter,
against kernel-by-kernel computations."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from scipy import special

from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _grid_masses
from skipjack.samplers._tpe import _parzen_estimator as pe_module
from skipjack.samplers._tpe._parzen_estimator import _Numeric
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator
from skipjack.samplers._tpe._ratio import log_density_ratio

GRIDS = [
    IntDistribution(1, 32),
    IntDistribution(16, 512, step=16),
    IntDistribution(1, 100, log=True),
    FloatDistribution(-1.0, 1.0, step=0.1),
]


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    _grid_masses._grid_mass_cache.cache_clear()
    yield
    _grid_masses._grid_mass_cache.cache_clear()


def _grid(dist: IntDistribution | FloatDistribution) -> np.ndarray:
    step = float(dist.step)  # type: ignore[arg-type]
    n = round((dist.high - dist.low) / step) + 1
    return dist.low + np.arange(n) * step


def _estimators(
    dist: IntDistribution | FloatDistribution, seed: int, n_good: int = 20, n_bad: int = 150
) -> tuple[_ParzenEstimator, _ParzenEstimator]:
    rng = np.random.RandomState(seed)
    grid = _grid(dist)
    good = rng.choice(grid[: max(2, len(grid) // 4)], size=n_good)
    bad = rng.choice(grid, size=n_bad)
    space = {"p": dist}
    return (
        _ParzenEstimator({"p": good}, space, np.ones(n_good)),
        _ParzenEstimator({"p": bad}, space, rng.uniform(0.2, 1.0, size=n_bad)),
    )


def _uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_grid_masses, "_GRID_CACHE_CELLS", 0)
    _grid_masses._grid_mass_cache.cache_clear()


def _direct_log_pdf(
    pe: _ParzenEstimator, dist: IntDistribution | FloatDistribution, points: np.ndarray
) -> np.ndarray:
    """The mixture's log-probability of each point's cell: normal CDF differences over every
    (point, kernel) pair, each kernel renormalised to the domain."""
    kernels = pe._kernels["p"]
    assert isinstance(kernels, _Numeric)
    half = 0.5 * float(dist.step)  # type: ignore[arg-type]
    tr = np.log if dist.log else (lambda v: v)
    mu, sigma = kernels.mu, kernels.sigma
    inside = special.ndtr((kernels.high - mu) / sigma) - special.ndtr((kernels.low - mu) / sigma)
    upper = special.ndtr((tr(points + half)[:, None] - mu) / sigma)
    lower = special.ndtr((tr(points - half)[:, None] - mu) / sigma)
    return np.log(((upper - lower) / inside) @ pe._mixture)


@pytest.mark.parametrize("dist", GRIDS[:3])
def test_cached_masses_are_the_truncated_cell_masses(dist: IntDistribution) -> None:
    good, bad = _estimators(dist, seed=1)
    points = _grid(dist)[::3]
    np.testing.assert_allclose(good.log_pdf({"p": points}), _direct_log_pdf(good, dist, points))
    np.testing.assert_allclose(bad.log_pdf({"p": points}), _direct_log_pdf(bad, dist, points))
    cache = _grid_masses._grid_mass_cache(
        float(dist.low), float(dist.high), float(dist.step), dist.log
    )
    assert cache is not None and len(cache._keys) > 0


@pytest.mark.parametrize("dist", GRIDS)
def test_cache_on_full_or_off_gives_the_same_bits(
    dist: IntDistribution | FloatDistribution, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.RandomState(7)
    cases = []
    for seed in range(4):  # several fits, so later ones hit rows earlier ones filled
        good, bad = _estimators(dist, seed)
        cases.append((good, bad, {"p": rng.choice(_grid(dist), size=24)}))
    cached = [_general_ratio(g, b, x["p"]) for g, b, x in cases]
    again = [_general_ratio(g, b, x["p"]) for g, b, x in cases]
    monkeypatch.setattr(_grid_masses, "_GRID_CACHE_ROWS", 40)  # forces the table to reset often
    _grid_masses._grid_mass_cache.cache_clear()
    small = [_general_ratio(g, b, x["p"]) for g, b, x in cases]
    _uncached(monkeypatch)
    plain = [_general_ratio(g, b, x["p"]) for g, b, x in cases]
    for got in (cached, again, small):
        for a, b in zip(got, plain):
            np.testing.assert_array_equal(a, b)


def test_points_off_the_grid_bypass_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    dist = IntDistribution(0, 20, step=2)
    good, bad = _estimators(dist, seed=3)
    # 3.0 and 7.0 are not grid points (values carried over from another distribution).
    points = {"p": np.array([0.0, 3.0, 7.0, 20.0])}
    got = _general_ratio(good, bad, points["p"])
    _uncached(monkeypatch)
    np.testing.assert_array_equal(got, _general_ratio(good, bad, points["p"]))
    assert np.isfinite(got).all()


def test_fine_grids_are_not_tabulated() -> None:
    assert _grid_masses._grid_mass_cache(0.0, 1e6, 1.0, False) is None


@pytest.mark.parametrize("cached", [True, False])
@pytest.mark.parametrize("dist", GRIDS[:3])
def test_distinct_unsorted_points_get_their_own_cells(
    dist: IntDistribution, cached: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every point in a different cell, in no particular order: each keeps its own mass.
    if not cached:
        _uncached(monkeypatch)
    good, _ = _estimators(dist, seed=2, n_good=90)
    points = np.random.RandomState(0).permutation(_grid(dist))[:7]
    np.testing.assert_allclose(good.log_pdf({"p": points}), _direct_log_pdf(good, dist, points))


def _general_ratio(good: _ParzenEstimator, bad: _ParzenEstimator, x: np.ndarray) -> np.ndarray:
    """The ratio from the full (points x kernels) evaluation, no per-cell shortcut."""
    joint = _ParzenEstimator._merged(good, bad)._joint({"p": x})
    split = good.n_kernels
    return pe_module._logsumexp_rows(joint[:, :split]) - pe_module._logsumexp_rows(joint[:, split:])


@pytest.mark.parametrize("prior_weight", [1.0, 0.3])
@pytest.mark.parametrize("dist", GRIDS)
def test_per_cell_ratio_of_one_grid_parameter(
    dist: IntDistribution | FloatDistribution, prior_weight: float
) -> None:
    rng = np.random.RandomState(11)
    grid = _grid(dist)
    for n_good, n_bad in [(5, 40), (30, 300), (100, 900)]:  # ungrouped and grouped kernels
        space = {"p": dist}
        good = _ParzenEstimator(
            {"p": rng.choice(grid, n_good)}, space, np.ones(n_good), prior_weight=prior_weight
        )
        bad = _ParzenEstimator({"p": rng.choice(grid, n_bad)}, space, rng.uniform(0.1, 1.0, n_bad))
        x = rng.choice(grid, 24)
        got = log_density_ratio(good, bad, {"p": x})
        expected = _direct_log_pdf(good, dist, x) - _direct_log_pdf(bad, dist, x)
        # Large mixtures sum their terms in single precision (~1e-7 relative, by design).
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("prior_weight", [1.0, 0.0])
def test_per_choice_ratio_of_one_categorical_parameter(prior_weight: float) -> None:
    rng = np.random.RandomState(4)
    dist = CategoricalDistribution(["a", "b", "c", "d"])
    space = {"p": dist}
    # Choice 3 is never observed in the good set: without a prior its probability is zero.
    good_obs = rng.choice([0.0, 1.0, 2.0], 40)
    bad_obs = rng.choice([0.0, 1.0, 2.0, 3.0], 400)
    good = _ParzenEstimator({"p": good_obs}, space, np.ones(40), prior_weight=prior_weight)
    bad = _ParzenEstimator({"p": bad_obs}, space, rng.uniform(0.1, 1.0, 400))
    x = np.array([3.0, 0.0, 2.0, 1.0, 3.0, 1.0])
    got = log_density_ratio(good, bad, {"p": x})
    # Direct: P(c) = sum_k w_k P(c | k), with Optuna's categorical kernel.
    expected = []
    for pe, obs, prior in ((good, good_obs, prior_weight), (bad, bad_obs, 1.0)):
        n = len(obs)
        w = pe._mixture
        probs = np.zeros(4)
        for c in range(4):
            kernel = (prior / (n + 1) + (obs == c)) / (4 * prior / (n + 1) + 1.0)
            probs[c] = (w[:n] * kernel).sum() + w[n] / 4
        with np.errstate(divide="ignore"):
            expected.append(np.log(probs[x.astype(int)]))
    if prior_weight == 0.0:
        assert np.isneginf(got[x == 3.0]).all()
        np.testing.assert_allclose(got, expected[0] - expected[1], rtol=1e-12)
