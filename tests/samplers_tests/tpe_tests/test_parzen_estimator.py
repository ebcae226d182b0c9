"""The Parzen estimator against brute-force numerics: normalisation, formula, sampling."""

from __future__ import annotations

from collections.abc import Mapping
import itertools
import math

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest
from scipy import integrate
from scipy import stats

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe._parzen_estimator import _Numeric
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator
from skipjack.samplers._tpe._ratio import log_density_ratio


def estimator(
    observations: dict[str, list[float]],
    space: Mapping[str, BaseDistribution],
    weights: list[float] | None = None,
    **options: object,
) -> _ParzenEstimator:
    n = len(next(iter(observations.values())))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    return _ParzenEstimator(
        {k: np.asarray(v, dtype=float) for k, v in observations.items()},
        space,
        w,
        **options,  # type: ignore[arg-type]
    )


def density(pe: _ParzenEstimator, name: str, x: np.ndarray) -> np.ndarray:
    return np.exp(pe.log_pdf({name: np.asarray(x, dtype=float)}))


OPTIONS = [
    {},
    {"prior_weight": 0.3},
    {"consider_magic_clip": False},
    {"consider_endpoints": True},
    {"prior_weight": 0.0},
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("obs", [[], [0.5], [-2.0, 0.0, 0.1, 3.9], [1.0, 1.001, 1.002]])
def test_continuous_density_integrates_to_one(options: dict, obs: list[float]) -> None:
    # Without observations the prior is the only kernel, whatever its weight.
    pe = estimator({"x": obs}, {"x": FloatDistribution(-2.0, 4.0)}, **options)

    def f(v: float) -> float:
        return float(density(pe, "x", np.array([v]))[0])

    # Integrate in pieces so that narrow kernels (no magic clip) are not stepped over.
    cuts = sorted({-2.0, 4.0, *(min(max(o + d, -2.0), 4.0) for o in obs for d in (-0.01, 0.01))})
    total = sum(integrate.quad(f, lo, hi, limit=200)[0] for lo, hi in zip(cuts, cuts[1:]))
    assert total == pytest.approx(1.0, abs=1e-6)


def test_log_density_integrates_to_one_in_the_log_domain() -> None:
    pe = estimator({"x": [0.01, 0.02, 3.0]}, {"x": FloatDistribution(1e-3, 10.0, log=True)})
    total, _ = integrate.quad(
        lambda t: density(pe, "x", np.array([math.exp(t)]))[0],
        math.log(1e-3),
        math.log(10.0),
        limit=200,
    )
    assert total == pytest.approx(1.0, abs=1e-6)


GRIDS: list[BaseDistribution] = [
    IntDistribution(0, 20),
    IntDistribution(-5, 7, step=3),
    IntDistribution(1, 1000, log=True),
    FloatDistribution(0.0, 1.0, step=0.1),
]


@pytest.mark.parametrize("options", OPTIONS[:4])
@pytest.mark.parametrize("dist", GRIDS)
def test_grid_probabilities_sum_to_one(options: dict, dist: BaseDistribution) -> None:
    grid = _grid(dist)
    obs = [grid[0], grid[len(grid) // 2], grid[len(grid) // 2], grid[-1]]
    pe = estimator({"x": obs}, {"x": dist}, **options)
    # The mixture's terms are summed in single precision: ~1e-7 relative error by design.
    assert density(pe, "x", grid).sum() == pytest.approx(1.0, abs=1e-6)


def _grid(dist: BaseDistribution) -> np.ndarray:
    assert isinstance(dist, (IntDistribution, FloatDistribution))
    step = dist.step
    assert step is not None
    return np.round(np.arange(dist.low, dist.high + step / 2, step), 12)


@pytest.mark.parametrize("options", OPTIONS)
def test_categorical_probabilities_sum_to_one(options: dict) -> None:
    pe = estimator(
        {"c": [0, 2, 2]}, {"c": CategoricalDistribution(["a", "b", "c", "d"])}, **options
    )
    p = density(pe, "c", np.arange(4))
    assert p.sum() == pytest.approx(1.0)
    # The observed choices carry more mass; the unobserved get only the prior's share.
    assert p[2] > p[0] > p[1]
    assert p[1] == pytest.approx(p[3])


def test_joint_mixed_density_is_normalised() -> None:
    space: dict[str, BaseDistribution] = {
        "x": FloatDistribution(0.0, 1.0),
        "i": IntDistribution(0, 3),
        "c": CategoricalDistribution([True, False]),
    }
    pe = estimator({"x": [0.1, 0.8], "i": [0, 3], "c": [0, 1]}, space)
    total = 0.0
    for i, c in itertools.product(range(4), range(2)):
        xs = np.linspace(0.0, 1.0, 2001)
        values = np.exp(pe.log_pdf({"x": xs, "i": np.full_like(xs, i), "c": np.full_like(xs, c)}))
        total += integrate.trapezoid(values, xs)
    assert total == pytest.approx(1.0, abs=1e-5)


def test_log_pdf_matches_a_direct_mixture_formula() -> None:
    low, high = -1.0, 3.0
    obs = np.array([-0.5, 0.2, 0.3, 2.5])
    weights = np.array([0.5, 1.0, 1.0, 2.0])
    pe = estimator({"x": list(obs)}, {"x": FloatDistribution(low, high)}, list(weights))
    # Bandwidths by hand: larger neighbour gap, edge kernels look inward, then the magic clip
    # (range / min(100, n + 2)) and the range as the upper bound.
    sigma = np.array([0.7, 0.7, 2.2, 2.2])
    sigma = np.clip(sigma, (high - low) / 6, high - low)
    mus = np.append(obs, 1.0)
    sigmas = np.append(sigma, high - low)
    w = np.append(weights, 1.0)
    w /= w.sum()
    xs = np.linspace(low, high, 9)
    expected = np.log(
        sum(
            wk * stats.truncnorm.pdf(xs, (low - m) / s, (high - m) / s, loc=m, scale=s)
            for wk, m, s in zip(w, mus, sigmas)
        )
    )
    np.testing.assert_allclose(pe.log_pdf({"x": xs}), expected, rtol=1e-6)


def test_grid_log_pdf_matches_direct_cell_masses() -> None:
    dist = IntDistribution(1, 9)
    obs = np.array([2.0, 2.0, 7.0])
    pe = estimator({"i": list(obs)}, {"i": dist}, consider_magic_clip=False)
    low, high = 0.5, 9.5
    sigma = np.array([0.0, 5.0, 5.0])  # sorted gaps with edge rule: 0, then 5 from the inner side
    sigma = np.clip(sigma, 1e-12, high - low)
    mus, sigmas = np.append(obs, 5.0), np.append(sigma, high - low)
    w = np.full(4, 0.25)
    grid = np.arange(1, 10)
    expected = sum(
        wk
        * (
            stats.truncnorm.cdf(grid + 0.5, (low - m) / s, (high - m) / s, loc=m, scale=s)
            - stats.truncnorm.cdf(grid - 0.5, (low - m) / s, (high - m) / s, loc=m, scale=s)
        )
        for wk, m, s in zip(w, mus, sigmas)
    )
    got = np.exp(pe.log_pdf({"i": grid.astype(float)}))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "dist",
    [FloatDistribution(-3.0, 3.0), FloatDistribution(0.01, 100.0, log=True), *GRIDS],
)
def test_sample_histogram_matches_density(dist: BaseDistribution) -> None:
    assert isinstance(dist, (IntDistribution, FloatDistribution))
    obs = [dist.low, dist.high, dist.low, (dist.low + dist.high) / 2]
    if dist.step is not None:
        grid = _grid(dist)
        obs = [grid[0], grid[-1], grid[0], grid[len(grid) // 2]]
    pe = estimator({"x": obs}, {"x": dist})
    samples = pe.sample(np.random.RandomState(3), 20000)["x"]
    if dist.step is not None:
        grid = _grid(dist)
        counts = np.array([np.isclose(samples, g).sum() for g in grid])
        assert counts.sum() == len(samples)  # every sample on the grid
        expected = density(pe, "x", grid) * len(samples)
        assert (
            stats.chisquare(
                counts[expected > 5],
                expected[expected > 5] / expected[expected > 5].sum() * counts[expected > 5].sum(),
            ).pvalue
            > 1e-4
        )
    else:
        log = dist.log
        t = np.log(samples) if log else samples
        lo, hi = (math.log(dist.low), math.log(dist.high)) if log else (dist.low, dist.high)

        def cdf(v: float) -> float:
            def f(u: float) -> float:
                return float(density(pe, "x", np.array([math.exp(u) if log else u]))[0])

            return integrate.quad(f, lo, v, limit=200)[0]

        edges = np.linspace(lo, hi, 11)
        probs = np.diff([cdf(e) for e in edges])
        counts = np.histogram(t, edges)[0]
        assert stats.chisquare(counts, probs / probs.sum() * counts.sum()).pvalue > 1e-4


def test_categorical_sampling_follows_probabilities() -> None:
    dist = CategoricalDistribution(["a", "b", "c"])
    pe = estimator({"c": [0, 0, 0, 1]}, {"c": dist})
    samples = pe.sample(np.random.RandomState(0), 20000)["c"]
    counts = np.bincount(samples.astype(int), minlength=3)
    probs = density(pe, "c", np.arange(3))
    assert stats.chisquare(counts, probs * len(samples)).pvalue > 1e-4


def test_magic_clip_bounds_the_bandwidth() -> None:
    # Two identical observations: without the clip their kernels would be spikes.
    pe = estimator({"x": [0.5, 0.5]}, {"x": FloatDistribution(0.0, 1.0)})
    peak = density(pe, "x", np.array([0.5]))[0]
    # Each kernel's sigma is at least 1 / min(100, 4) = 0.25: density <= 1 / (0.25 sqrt(2 pi)).
    assert peak <= 1.0 / (0.25 * math.sqrt(2 * math.pi)) / (1 - 2 * stats.norm.sf(2)) + 1e-9
    sharp = estimator(
        {"x": [0.5, 0.5]}, {"x": FloatDistribution(0.0, 1.0)}, consider_magic_clip=False
    )
    assert density(sharp, "x", np.array([0.5]))[0] > 1e6


def test_weights_shift_mass() -> None:
    space = {"x": FloatDistribution(0.0, 10.0)}
    heavy_left = estimator({"x": [1.0, 9.0]}, space, [10.0, 0.1])
    heavy_right = estimator({"x": [1.0, 9.0]}, space, [0.1, 10.0])
    points = np.array([1.0, 9.0])
    assert density(heavy_left, "x", points)[0] > density(heavy_left, "x", points)[1]
    assert density(heavy_right, "x", points)[0] < density(heavy_right, "x", points)[1]


def test_rejects_bad_input() -> None:
    space = {"x": FloatDistribution(0.0, 1.0)}
    with pytest.raises(ValueError, match="prior_weight"):
        estimator({"x": [0.5]}, space, prior_weight=-1.0)
    with pytest.raises(ValueError, match="observations"):
        _ParzenEstimator({"x": np.array([0.1, 0.2])}, space, np.ones(1))


@st.composite
def numeric_space(draw: st.DrawFn) -> BaseDistribution:
    kind = draw(st.sampled_from(["float", "log", "step", "int", "intstep", "intlog"]))
    if kind in ("float", "log", "step"):
        low = draw(st.floats(1e-3 if kind == "log" else -1e3, 1e3))
        width = draw(st.floats(1e-3, 1e3))
        if kind == "step":
            step = draw(st.sampled_from([0.5, 0.25, 1.0, 0.125]))
            low = round(low)
            return FloatDistribution(low, low + step * draw(st.integers(1, 500)), step=step)
        return FloatDistribution(low, low + width, log=kind == "log")
    low = draw(st.integers(1 if kind == "intlog" else -100, 100))
    step = draw(st.integers(1, 7)) if kind == "intstep" else 1
    high = low + step * draw(st.integers(1, 300))
    return IntDistribution(low, high, log=kind == "intlog", step=step)


@settings(max_examples=60, deadline=None)
@given(dist=numeric_space(), seed=st.integers(0, 2**31 - 1), n_obs=st.integers(0, 6))
def test_samples_are_in_bounds_and_on_the_grid(
    dist: BaseDistribution, seed: int, n_obs: int
) -> None:
    assert isinstance(dist, (IntDistribution, FloatDistribution))
    rng = np.random.RandomState(seed)
    obs = rng.uniform(dist.low, dist.high, n_obs)
    if dist.step is not None:
        obs = dist.low + np.round((obs - dist.low) / dist.step) * dist.step
        obs = np.clip(obs, dist.low, dist.high)
    pe = estimator({"x": list(obs)}, {"x": dist})
    samples = pe.sample(rng, 50)["x"]
    assert ((samples >= dist.low) & (samples <= dist.high)).all()
    for s in samples:
        assert dist._contains(float(s)), (dist, s)
    assert np.isfinite(pe.log_pdf({"x": samples})).all()


def test_range_narrower_than_its_log_resolution() -> None:
    # log(17) and log(17 + 4e-15) are (nearly) the same float: kernels must not collapse.
    dist = FloatDistribution(17.0, 17.000000000000004, log=True)
    pe = estimator({"x": [17.0, 17.000000000000004]}, {"x": dist})
    samples = pe.sample(np.random.RandomState(0), 10)["x"]
    assert ((samples >= dist.low) & (samples <= dist.high)).all()
    assert not np.isnan(pe.log_pdf({"x": samples})).any()


@pytest.mark.parametrize("gap", [1e-6, 0.3])  # narrow kernels take the direct (unexpanded) path
def test_two_dimensional_log_pdf_matches_product_kernels(gap: float) -> None:
    space = {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(1.0, 100.0, log=True)}
    obs = {"x": [0.4, 0.4 + gap, 0.9], "y": [2.0, 50.0, 50.0 * (1 + gap)]}
    pe = estimator(obs, space, consider_magic_clip=False)
    kx, ky = pe._kernels["x"], pe._kernels["y"]
    assert isinstance(kx, _Numeric) and isinstance(ky, _Numeric)
    xs, ys = np.array([0.1, 0.4, 0.95]), np.array([1.5, 50.0, 99.0])
    total = np.zeros(3)
    for k in range(4):
        px = stats.truncnorm.pdf(
            xs,
            (0 - kx.mu[k]) / kx.sigma[k],
            (1 - kx.mu[k]) / kx.sigma[k],
            loc=kx.mu[k],
            scale=kx.sigma[k],
        )
        lo, hi = math.log(1.0), math.log(100.0)
        py = stats.truncnorm.pdf(
            np.log(ys),
            (lo - ky.mu[k]) / ky.sigma[k],
            (hi - ky.mu[k]) / ky.sigma[k],
            loc=ky.mu[k],
            scale=ky.sigma[k],
        )
        total += 0.25 * px * py
    np.testing.assert_allclose(np.exp(pe.log_pdf({"x": xs, "y": ys})), total, rtol=1e-6)


def test_density_ratio_in_one_pass_equals_two_log_pdfs() -> None:
    space: dict[str, BaseDistribution] = {
        "x": FloatDistribution(-1.0, 1.0),
        "l": FloatDistribution(1e-3, 1.0, log=True),
        "i": IntDistribution(0, 9),
        "c": CategoricalDistribution(["a", "b", "c"]),
    }
    good = estimator({"x": [0.1, 0.2], "l": [0.01, 0.02], "i": [3, 4], "c": [0, 0]}, space)
    bad = estimator(
        {"x": [-0.9, 0.5, 0.7], "l": [0.5, 0.9, 0.1], "i": [9, 0, 1], "c": [1, 2, 2]},
        space,
        [0.5, 1.0, 1.0],
    )
    points = good.sample(np.random.RandomState(0), 30)
    expected = good.log_pdf(points) - bad.log_pdf(points)
    np.testing.assert_allclose(log_density_ratio(good, bad, points), expected, rtol=1e-9)
