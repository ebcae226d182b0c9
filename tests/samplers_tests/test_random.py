"""RandomSampler: values in the distribution, uniform, reproducible, and Optuna's stream."""

from __future__ import annotations

import copy
import math
from typing import Any
import warnings

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna
import pytest
from scipy import stats

from skipjack import distributions as sj
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers._random import RandomSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


def draw(sampler: RandomSampler, dist: sj.BaseDistribution, name: str = "x") -> Any:
    # RandomSampler needs neither the study nor the trial.
    return sampler.sample_independent(None, None, name, dist)  # type: ignore[arg-type]


def draws(sampler: RandomSampler, dist: sj.BaseDistribution, n: int) -> list[Any]:
    return [draw(sampler, dist) for _ in range(n)]


# ---------------------------------------------------------------------------------------------
# Distributions to sample (hypothesis)
# ---------------------------------------------------------------------------------------------

_BOUND = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def float_specs(draw_: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw_(st.sampled_from(["linear", "log", "step"]))
    if kind == "log":
        low = draw_(st.floats(1e-8, 1e6))
        return "float", {"low": low, "high": draw_(st.floats(low, 1e7)), "log": True}
    a, b = sorted((draw_(_BOUND), draw_(_BOUND)))
    if kind == "linear":
        return "float", {"low": a, "high": b}
    step = draw_(st.sampled_from([0.1, 0.25, 1.0, 3.0, 1e-3]))
    # Keep the grid modest so that every grid point is representable.
    return "float", {"low": a, "high": min(b, a + 5000 * step), "step": step}


@st.composite
def int_specs(draw_: st.DrawFn) -> tuple[str, dict[str, Any]]:
    if draw_(st.booleans()):
        low = draw_(st.integers(1, 10**6))
        return "int", {"low": low, "high": draw_(st.integers(low, 10**7)), "log": True}
    low = draw_(st.integers(-(10**6), 10**6))
    high = draw_(st.integers(low, low + 10**6))
    return "int", {"low": low, "high": high, "step": draw_(st.integers(1, 7))}


_CHOICE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text())
categorical_specs = st.lists(_CHOICE, min_size=1, max_size=8).map(
    lambda c: ("categorical", {"choices": tuple(c)})
)
any_spec = st.one_of(float_specs(), int_specs(), categorical_specs)


def build(module: Any, spec: tuple[str, dict[str, Any]]) -> Any:
    """The distribution ``spec`` describes, from ``module`` (skipjack's or Optuna's)."""
    kind, kwargs = spec
    cls = {
        "float": module.FloatDistribution,
        "int": module.IntDistribution,
        "categorical": module.CategoricalDistribution,
    }[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # high moved onto the step grid
        return cls(**kwargs)


any_distribution = any_spec.map(lambda spec: build(sj, spec))


@settings(max_examples=300, deadline=None)
@given(dist=any_distribution, seed=st.integers(0, 2**32 - 1))
def test_samples_lie_in_the_distribution(dist: sj.BaseDistribution, seed: int) -> None:
    sampler = RandomSampler(seed=seed)
    for value in draws(sampler, dist, 5):
        assert dist._contains(dist.to_internal_repr(value))
        if isinstance(dist, sj.FloatDistribution):
            assert type(value) is float
            assert dist.low <= value <= dist.high
            if dist.step is None and dist.low < dist.high:
                assert value < dist.high  # the range is half-open, as in Optuna
        elif isinstance(dist, sj.IntDistribution):
            assert type(value) is int
            assert dist.low <= value <= dist.high
            assert (value - dist.low) % dist.step == 0
        else:
            assert isinstance(dist, sj.CategoricalDistribution)
            assert any(value is c or value == c for c in dist.choices)


@pytest.mark.parametrize(
    "dist",
    [
        sj.FloatDistribution(2.5, 2.5),
        sj.FloatDistribution(1e-3, 1e-3, log=True),
        sj.FloatDistribution(0.1, 0.1, step=0.3),
        sj.IntDistribution(7, 7),
        sj.IntDistribution(5, 5, log=True),
        sj.CategoricalDistribution(["only"]),
    ],
)
def test_single_point_distributions_return_that_point(dist: sj.BaseDistribution) -> None:
    assert draws(RandomSampler(seed=1), dist, 20) == [sj._get_single_value(dist)] * 20


# ---------------------------------------------------------------------------------------------
# Uniformity
# ---------------------------------------------------------------------------------------------


def _chi_square_p(observed: list[Any], support: list[Any], probabilities: np.ndarray) -> float:
    counts = np.array([sum(1 for v in observed if v == s) for s in support], dtype=float)
    assert counts.sum() == len(observed)  # nothing outside the support
    return float(stats.chisquare(counts, probabilities * len(observed)).pvalue)


def test_int_grid_values_are_equally_likely_including_the_ends() -> None:
    dist = sj.IntDistribution(-3, 9, step=3)  # -3, 0, 3, 6, 9
    values = draws(RandomSampler(seed=0), dist, 5000)
    assert _chi_square_p(values, [-3, 0, 3, 6, 9], np.full(5, 0.2)) > 1e-3


def test_float_grid_values_are_equally_likely_including_the_ends() -> None:
    dist = sj.FloatDistribution(0.0, 1.0, step=0.25)
    values = draws(RandomSampler(seed=0), dist, 5000)
    support = [0.0, 0.25, 0.5, 0.75, 1.0]
    assert _chi_square_p(values, support, np.full(5, 0.2)) > 1e-3


def test_categorical_choices_are_equally_likely() -> None:
    choices = ["a", None, 3, 2.5, False]
    values = draws(RandomSampler(seed=0), sj.CategoricalDistribution(choices), 5000)
    assert _chi_square_p(values, choices, np.full(5, 0.2)) > 1e-3


def test_log_int_is_log_uniform_over_half_integer_cells() -> None:
    low, high = 1, 20
    values = draws(RandomSampler(seed=0), sj.IntDistribution(low, high, log=True), 20000)
    support = list(range(low, high + 1))
    # Value v owns [v - 1/2, v + 1/2) of the widened range, in log scale.
    edges = np.log(np.arange(low, high + 2) - 0.5)
    probabilities = np.diff(edges) / (edges[-1] - edges[0])
    assert _chi_square_p(values, support, probabilities) > 1e-3


def test_continuous_floats_are_uniform() -> None:
    values = np.array(draws(RandomSampler(seed=0), sj.FloatDistribution(-2.0, 3.0), 4000))
    assert stats.kstest(values, stats.uniform(-2.0, 5.0).cdf).pvalue > 1e-3


def test_log_floats_are_log_uniform() -> None:
    dist = sj.FloatDistribution(1e-4, 10.0, log=True)
    logs = np.log(np.array(draws(RandomSampler(seed=0), dist, 4000)))
    lo, hi = math.log(1e-4), math.log(10.0)
    assert stats.kstest(logs, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3


# ---------------------------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------------------------

MIXED = [
    sj.FloatDistribution(-1.0, 1.0),
    sj.FloatDistribution(1e-5, 1.0, log=True),
    sj.FloatDistribution(0.0, 2.0, step=0.5),
    sj.IntDistribution(0, 10),
    sj.IntDistribution(1, 1000, log=True),
    sj.IntDistribution(-4, 8, step=4),
    sj.CategoricalDistribution(["a", "b", "c"]),
]


def sequence(sampler: RandomSampler, rounds: int = 20) -> list[Any]:
    return [draw(sampler, d) for _ in range(rounds) for d in MIXED]


def test_same_seed_same_values() -> None:
    assert sequence(RandomSampler(seed=42)) == sequence(RandomSampler(seed=42))


def test_different_seeds_different_values() -> None:
    assert sequence(RandomSampler(seed=1)) != sequence(RandomSampler(seed=2))


def test_unseeded_samplers_differ() -> None:
    assert sequence(RandomSampler()) != sequence(RandomSampler())


def test_reseed_rng_leaves_the_seeded_stream() -> None:
    sampler = RandomSampler(seed=42)
    sampler.reseed_rng()
    assert sequence(sampler) != sequence(RandomSampler(seed=42))


def test_copies_of_an_unused_unseeded_sampler_draw_independently() -> None:
    sampler = RandomSampler()
    a, b = copy.deepcopy(sampler), copy.deepcopy(sampler)
    assert sequence(a) != sequence(b)


def test_lazy_random_state_is_created_on_first_use() -> None:
    lazy = LazyRandomState()
    assert lazy._rng is None
    rng = lazy.rng
    assert isinstance(rng, np.random.RandomState)
    assert lazy.rng is rng
    seeded = LazyRandomState(7)
    assert seeded.rng.randint(2**31) == np.random.RandomState(7).randint(2**31)


@settings(max_examples=100, deadline=None)
@given(
    specs=st.lists(any_spec, min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_same_values_as_optuna_for_the_same_seed(
    specs: list[tuple[str, dict[str, Any]]], seed: int
) -> None:
    ours = RandomSampler(seed=seed)
    theirs = optuna.samplers.RandomSampler(seed=seed)
    pairs = [(build(sj, spec), build(optuna.distributions, spec)) for spec in specs]
    for _ in range(3):
        for i, (dist, reference) in enumerate(pairs):
            got = draw(ours, dist, f"p{i}")
            expected = theirs.sample_independent(None, None, f"p{i}", reference)  # type: ignore[arg-type]
            if isinstance(dist, sj.FloatDistribution) and dist.log and dist.single():
                # Optuna returns exp(log(low)) here, which can be a few ulps off ``low``.
                assert got == dist.low
                assert math.isclose(expected, got, rel_tol=1e-12)
            else:
                assert got == expected or got is expected
                if not isinstance(dist, sj.FloatDistribution):
                    assert type(got) is type(expected)


# ---------------------------------------------------------------------------------------------
# The rest of the sampler interface
# ---------------------------------------------------------------------------------------------


def test_no_relative_search_space() -> None:
    sampler = RandomSampler(seed=0)
    assert isinstance(sampler, BaseSampler)
    assert sampler.infer_relative_search_space(None, None) == {}  # type: ignore[arg-type]
    assert sampler.sample_relative(None, None, {"x": MIXED[0]}) == {}  # type: ignore[arg-type]


def test_constructor_keeps_the_seed_and_repr_rebuilds() -> None:
    assert RandomSampler(seed=3)._seed == 3
    assert repr(RandomSampler()) == "RandomSampler(seed=None)"
    rebuilt = eval(repr(RandomSampler(seed=3)), {"RandomSampler": RandomSampler})
    assert sequence(rebuilt) == sequence(RandomSampler(seed=3))
    assert str(RandomSampler(seed=3)) == "RandomSampler"


def test_unknown_distribution_is_refused() -> None:
    class Odd(sj.BaseDistribution):
        def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
            return 0.0

        def single(self) -> bool:
            return False

        def _contains(self, param_value_in_internal_repr: float) -> bool:
            return True

    with pytest.raises(TypeError, match="Odd"):
        draw(RandomSampler(seed=0), Odd())


# ---------------------------------------------------------------------------------------------
# End to end: a seeded study suggests what Optuna's does (needs skipjack's create_study)
# ---------------------------------------------------------------------------------------------


def _objective(trial: Any) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 100, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    if kind == "a":
        trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    trial.suggest_float("frac", 0.0, 1.0, step=0.1)
    trial.suggest_int("fixed", 3, 3)
    return x**2 + n


def test_seeded_study_matches_optuna() -> None:
    from skipjack.study import create_study

    ours = create_study(sampler=RandomSampler(seed=11))
    ours.optimize(_objective, n_trials=15)
    theirs = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=11))
    theirs.optimize(_objective, n_trials=15)
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]
