"""Drawing from a Parzen estimator is bit-identical to the straightforward per-draw algorithm.

``reference_sample`` below is that algorithm written out plainly (kernel choice by the mixture
CDF, a truncated normal by inverse CDF in log space per draw, rounding onto grids, categorical
draws by cumulative probabilities), consuming the random stream in the same order. The
estimator's ``sample`` precomputes per-kernel quantities once; these tests check that it gives
the same values, to the bit, and leaves the random state where the reference does.
"""

from __future__ import annotations

from collections.abc import Mapping
import warnings

import numpy as np
import pytest
from scipy import special

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _truncnorm
from skipjack.samplers._tpe._parzen_estimator import _Categorical
from skipjack.samplers._tpe._parzen_estimator import _Numeric
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator


def reference_truncnorm(a: np.ndarray, b: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Standard normal truncated to ``[a, b]`` by inverse CDF, mirrored into the lower tail."""
    u = rng.random_sample(a.shape)
    flip = a > -b
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    target = np.logaddexp(
        special.log_ndtr(lo) + np.log1p(-u),
        special.log_ndtr(hi) + np.log(np.maximum(u, 1e-300)),
    )
    z = special.ndtri_exp(target)
    z = np.where(flip, -z, z)
    return np.clip(z, a, b)


def reference_value(kernels: _Numeric, draws: np.ndarray) -> np.ndarray:
    values = np.exp(draws) if kernels.log else draws
    if kernels.step is not None:
        low = kernels.value_low
        values = low + np.round((values - low) / kernels.step) * kernels.step
    return np.clip(values, kernels.value_low, kernels.value_high)


def reference_sample(
    pe: _ParzenEstimator, rng: np.random.RandomState, size: int
) -> dict[str, np.ndarray]:
    cdf = np.cumsum(pe._mixture)
    cdf /= cdf[-1]
    active = np.searchsorted(cdf, rng.random_sample(size), side="right")
    out: dict[str, np.ndarray] = {}
    numeric = {n: k for n, k in pe._kernels.items() if isinstance(k, _Numeric)}
    if numeric:
        mu = np.array([k.mu[active] for k in numeric.values()])
        sigma = np.array([k.sigma[active] for k in numeric.values()])
        low = np.array([[k.low] for k in numeric.values()])
        high = np.array([[k.high] for k in numeric.values()])
        z = reference_truncnorm((low - mu) / sigma, (high - mu) / sigma, rng)
        draws = mu + sigma * z
        for row, (name, k) in enumerate(numeric.items()):
            out[name] = reference_value(k, draws[row])
    for name, kernels in pe._kernels.items():
        if isinstance(kernels, _Categorical):
            probs = np.exp(kernels.log_table[:, active].T)
            cum = np.cumsum(probs, axis=1)
            u = rng.random_sample(size)[:, None] * cum[:, -1:]
            index = np.sum(cum < u, axis=1)
            out[name] = np.minimum(index, cum.shape[1] - 1).astype(float)
    return {name: out[name] for name in pe._kernels}


def random_distribution(rng: np.random.RandomState, kind: str) -> BaseDistribution:
    if kind == "float":
        low = rng.uniform(-100.0, 100.0)
        return FloatDistribution(low, low + 10.0 ** rng.uniform(-3.0, 3.0))
    if kind == "float_step":
        low = rng.uniform(-10.0, 10.0)
        step = 10.0 ** rng.uniform(-2.0, 0.0)
        with warnings.catch_warnings():  # the range is adjusted to a multiple of the step
            warnings.simplefilter("ignore")
            return FloatDistribution(low, low + step * rng.randint(1, 200), step=step)
    if kind == "log_float":
        low = 10.0 ** rng.uniform(-6.0, 1.0)
        return FloatDistribution(low, low * 10.0 ** rng.uniform(0.5, 6.0), log=True)
    if kind == "int":
        low = int(rng.randint(-50, 50))
        return IntDistribution(low, low + int(rng.randint(1, 100)))
    if kind == "int_step":
        low, step = int(rng.randint(-50, 50)), int(rng.randint(2, 20))
        return IntDistribution(low, low + step * int(rng.randint(1, 40)), step=step)
    if kind == "log_int":
        low = int(rng.randint(1, 20))
        return IntDistribution(low, low + int(rng.randint(1, 2000)), log=True)
    return CategoricalDistribution(list(range(int(rng.randint(2, 8)))))


def random_observations(rng: np.random.RandomState, dist: BaseDistribution, n: int) -> np.ndarray:
    if isinstance(dist, CategoricalDistribution):
        return rng.randint(len(dist.choices), size=n).astype(float)
    assert isinstance(dist, (FloatDistribution, IntDistribution))
    if dist.step is not None:
        cells = round((dist.high - dist.low) / dist.step) + 1
        # Few distinct cells, so that observations tie (a tied run shares bandwidths).
        index = rng.randint(min(cells, 1 + rng.randint(1, 12)), size=n)
        return dist.low + index * float(dist.step)
    if dist.log:
        return np.exp(rng.uniform(np.log(dist.low), np.log(dist.high), n))
    values = rng.uniform(dist.low, dist.high, n)
    if n and rng.rand() < 0.3:  # some at the ends of the domain
        values[rng.rand(n) < 0.3] = dist.high
    return values


KINDS = ["float", "float_step", "log_float", "int", "int_step", "log_int", "categorical"]
OPTIONS = [
    {},
    {"prior_weight": 0.3, "consider_endpoints": True},
    {"consider_magic_clip": False},
    {"prior_weight": 0.0},
]


def random_estimator(
    rng: np.random.RandomState, kinds: list[str], n: int, options: Mapping[str, object]
) -> _ParzenEstimator:
    space = {f"p{i}_{kind}": random_distribution(rng, kind) for i, kind in enumerate(kinds)}
    observations = {name: random_observations(rng, dist, n) for name, dist in space.items()}
    weights = rng.uniform(0.1, 1.0, n) if rng.rand() < 0.5 else np.ones(n)
    return _ParzenEstimator(observations, space, weights, **options)  # type: ignore[arg-type]


def assert_same_draws(pe: _ParzenEstimator, seed: int, size: int) -> None:
    ours_rng, reference_rng = np.random.RandomState(seed), np.random.RandomState(seed)
    # Twice: the second draw reuses what the first one computed.
    for _ in range(2):
        ours = pe.sample(ours_rng, size)
        expected = reference_sample(pe, reference_rng, size)
        assert list(ours) == list(expected)
        for name, values in expected.items():
            assert ours[name].shape == (size,)
            assert ours[name].dtype == np.float64
            # Bitwise: equal values and equal signs of zero.
            np.testing.assert_array_equal(ours[name].view(np.int64), values.view(np.int64))
    # The same random numbers were consumed.
    assert ours_rng.random_sample() == reference_rng.random_sample()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 25, 100])
@pytest.mark.parametrize("options", OPTIONS)
def test_one_parameter_draws_match_reference(kind: str, n: int, options: dict) -> None:
    rng = np.random.RandomState(n * 31 + KINDS.index(kind))
    for trial in range(15):
        pe = random_estimator(rng, [kind], n, options)
        assert_same_draws(pe, seed=trial, size=int(rng.choice([1, 5, 24, 100])))


@pytest.mark.parametrize("n", [0, 1, 3, 25, 90])
@pytest.mark.parametrize("options", OPTIONS)
def test_mixed_spaces_draws_match_reference(n: int, options: dict) -> None:
    rng = np.random.RandomState(1000 + n)
    for trial in range(30):
        # Random kinds in random order, so that log, grid and categorical rows interleave.
        kinds = list(rng.choice(KINDS, size=int(rng.randint(2, 7))))
        pe = random_estimator(rng, kinds, n, options)
        assert_same_draws(pe, seed=trial, size=int(rng.choice([1, 24, 64])))


def test_benchmark_space_draws_match_reference() -> None:
    space: dict[str, BaseDistribution] = {
        "x": FloatDistribution(-10.0, 10.0),
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
        "depth": IntDistribution(1, 32),
        "units": IntDistribution(16, 512, step=16),
        "activation": CategoricalDistribution(["relu", "tanh", "gelu"]),
    }
    rng = np.random.RandomState(7)
    for trial in range(50):
        n = int(rng.randint(1, 40))
        observations = {name: random_observations(rng, d, n) for name, d in space.items()}
        pe = _ParzenEstimator(observations, space, np.ones(n))
        assert_same_draws(pe, seed=trial, size=24)
        for name, dist in space.items():
            single = _ParzenEstimator({name: observations[name]}, {name: dist}, np.ones(n))
            assert_same_draws(single, seed=trial, size=24)


def test_draws_lie_in_the_domain_on_the_grid() -> None:
    rng = np.random.RandomState(3)
    for _ in range(40):
        pe = random_estimator(rng, list(rng.choice(KINDS, size=4)), 10, {})
        points = pe.sample(np.random.RandomState(0), 200)
        for name, values in points.items():
            dist = pe_space_distribution(pe, name)
            if isinstance(dist, _Categorical):
                assert set(values) <= set(range(dist.log_table.shape[0]))
                continue
            assert (values >= dist.value_low).all() and (values <= dist.value_high).all()
            if dist.step is not None:
                cells = (values - dist.value_low) / dist.step
                np.testing.assert_allclose(cells, np.round(cells), atol=1e-6)


def pe_space_distribution(pe: _ParzenEstimator, name: str) -> _Numeric | _Categorical:
    return pe._kernels[name]


@pytest.mark.parametrize("seed", range(5))
def test_truncnorm_sample_matches_reference(seed: int) -> None:
    rng = np.random.RandomState(seed)
    centre = rng.normal(0.0, 10.0, 500)
    width = 10.0 ** rng.uniform(-8.0, 1.5, 500)
    a, b = centre - width, centre + width
    ours = _truncnorm.sample(a, b, np.random.RandomState(seed))
    expected = reference_truncnorm(a, b, np.random.RandomState(seed))
    np.testing.assert_array_equal(ours.view(np.int64), expected.view(np.int64))
    # Broadcast bounds, and a single (0-d) pair.
    ours = _truncnorm.sample(np.array([[-1.0], [0.5]]), np.ones(7) * 2.0, rng_copy(seed))
    low, high = np.broadcast_arrays(np.array([[-1.0], [0.5]]), np.ones(7) * 2.0)
    expected = reference_truncnorm(low, high, rng_copy(seed))
    np.testing.assert_array_equal(ours, expected)
    scalar = _truncnorm.sample(np.array(-0.3), np.array(1.2), rng_copy(seed))
    assert float(scalar) == float(
        reference_truncnorm(np.array(-0.3), np.array(1.2), rng_copy(seed))
    )


def rng_copy(seed: int) -> np.random.RandomState:
    return np.random.RandomState(seed + 100)


@pytest.mark.parametrize("n", [0, 1, 25, 80])
def test_one_parameter_kernels_match_the_same_parameter_in_a_joint_model(n: int) -> None:
    # A numeric parameter's kernels do not depend on the other parameters: fitted alone (the
    # one-row path) they must be the same bits as fitted in a joint model (the general path).
    rng = np.random.RandomState(n)
    for _ in range(10):
        kinds = ["float", "log_float", "int", "int_step", "log_int", "float_step"]
        space = {kind: random_distribution(rng, kind) for kind in kinds}
        observations = {name: random_observations(rng, d, n) for name, d in space.items()}
        joint = _ParzenEstimator(observations, space, np.ones(n))
        for name, dist in space.items():
            alone = _ParzenEstimator({name: observations[name]}, {name: dist}, np.ones(n))
            a, b = alone._kernels[name], joint._kernels[name]
            assert isinstance(a, _Numeric) and isinstance(b, _Numeric)
            for field in ("mu", "sigma", "log_norm"):
                np.testing.assert_array_equal(
                    getattr(a, field).view(np.int64), getattr(b, field).view(np.int64)
                )
            assert (a.low, a.high, a.value_low, a.value_high) == (
                b.low,
                b.high,
                b.value_low,
                b.value_high,
            )


def test_empty_draws_and_empty_space() -> None:
    rng = np.random.RandomState(0)
    pe = random_estimator(rng, ["float", "categorical", "int"], 5, {})
    assert_same_draws(pe, seed=1, size=0)
    empty = _ParzenEstimator({}, {}, np.ones(3))
    ours_rng, reference_rng = np.random.RandomState(2), np.random.RandomState(2)
    assert empty.sample(ours_rng, 4) == reference_sample(empty, reference_rng, 4) == {}
    assert ours_rng.random_sample() == reference_rng.random_sample()
