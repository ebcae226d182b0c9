"""TPE over one discrete parameter done per cell (``_discrete.DiscreteSpace``): its cell
probabilities against the Parzen estimator's own densities and against a kernel-by-kernel
computation with SciPy's truncated normal; when it declines; and studies it serves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import skipjack
from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _grid_masses
from skipjack.samplers._tpe._discrete import DiscreteSpace
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator

GRIDS = [
    IntDistribution(1, 32),
    IntDistribution(16, 512, step=16),
    IntDistribution(1, 100, log=True),
    FloatDistribution(-1.0, 1.0, step=0.1),
    IntDistribution(0, 1),
]
OPTIONS = [
    {"prior_weight": 1.0, "consider_magic_clip": True, "consider_endpoints": False},
    {"prior_weight": 0.5, "consider_magic_clip": False, "consider_endpoints": True},
    {"prior_weight": 2.0, "consider_magic_clip": True, "consider_endpoints": True},
]


def _space(dist: BaseDistribution, options: dict[str, float | bool]) -> DiscreteSpace:
    found = DiscreteSpace.of({"p": dist}, **options)  # type: ignore[arg-type]
    assert found is not None
    return found


def _observations(rng: np.random.Generator, cells: np.ndarray, n: int) -> np.ndarray:
    """``n`` values of ``cells``: all over the grid, or crowded into a few cells (long runs)."""
    if rng.random() < 0.5:
        cells = rng.choice(cells, size=min(len(cells), int(rng.integers(1, 4))), replace=False)
    return cells[rng.integers(0, len(cells), n)]


@pytest.mark.parametrize("dist", GRIDS)
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 70, 400])
def test_grid_probabilities_are_the_estimators_densities(
    dist: IntDistribution | FloatDistribution, options: dict[str, float | bool], n: int
) -> None:
    space = _space(dist, options)
    rng = np.random.default_rng(n)
    for _ in range(4):
        values = _observations(rng, space.values, n)
        weights = rng.uniform(0.05, 1.0, n)
        probabilities = space.probabilities(values, weights)
        assert probabilities is not None
        estimator = _ParzenEstimator({"p": values}, {"p": dist}, weights, **options)  # type: ignore[arg-type]
        expected = np.exp(estimator.log_pdf({"p": space.values}))
        np.testing.assert_allclose(probabilities, expected, rtol=1e-9)
        assert math.isclose(probabilities.sum(), 1.0, rel_tol=1e-12)


def _brute_force_cells(
    values: list[float], weights: list[float], low: float, high: float, step: float
) -> np.ndarray:
    """Cell probabilities of a grid mixture, kernel by kernel: observations sorted (ties in
    their given order), each kernel's bandwidth the larger gap to its neighbours (the domain
    ends counting, the outermost looking inward only), clipped below by the range over
    ``min(100, n + 2)`` and above by the range; a prior as wide as the domain; every kernel a
    normal truncated to the domain, its mass taken cell by cell."""
    lo, hi = low - step / 2, high + step / 2
    width = hi - lo
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i])
    ordered = [values[i] for i in order]
    sigma = [0.0] * n
    for j in range(n):
        left = ordered[j] - (ordered[j - 1] if j > 0 else lo)
        right = (ordered[j + 1] if j < n - 1 else hi) - ordered[j]
        if n >= 2 and j == 0:
            left = 0.0
        if n >= 2 and j == n - 1:
            right = 0.0
        sigma[order[j]] = min(max(left, right, width / min(100, n + 2)), width)
    kernels = [(values[i], sigma[i], weights[i]) for i in range(n)]
    kernels.append(((lo + hi) / 2, width, 1.0))
    total = sum(w for _, _, w in kernels)
    cells = np.arange(low, high + step / 2, step)
    out = np.zeros(len(cells))
    for mu, s, w in kernels:
        law = stats.truncnorm((lo - mu) / s, (hi - mu) / s, loc=mu, scale=s)
        out += w / total * (law.cdf(cells + step / 2) - law.cdf(cells - step / 2))
    return out


def test_grid_probabilities_match_a_kernel_by_kernel_computation() -> None:
    dist = IntDistribution(0, 9)
    space = _space(dist, OPTIONS[0])
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 40):
        values = rng.choice([1.0, 2.0, 2.0, 6.0, 9.0], size=n)
        weights = rng.uniform(0.1, 1.0, n)
        got = space.probabilities(values, weights)
        expected = _brute_force_cells(values.tolist(), weights.tolist(), 0.0, 9.0, 1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("n", [0, 1, 5, 300])
def test_categorical_probabilities_are_the_estimators(
    options: dict[str, float | bool], n: int
) -> None:
    dist = CategoricalDistribution(["a", "b", "c", "d"])
    space = _space(dist, options)
    rng = np.random.default_rng(n)
    values = rng.choice([0.0, 0.0, 2.0, 3.0], size=n)
    weights = rng.uniform(0.1, 1.0, n)
    got = space.probabilities(values, weights)
    estimator = _ParzenEstimator({"p": values}, {"p": dist}, weights, **options)  # type: ignore[arg-type]
    expected = np.exp(estimator.log_pdf({"p": np.arange(4.0)}))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_values_off_the_grid_are_declined() -> None:
    space = _space(IntDistribution(0, 10, step=2), OPTIONS[0])
    assert space.probabilities(np.array([0.0, 4.0, 3.0]), np.ones(3)) is None
    assert space.probabilities(np.array([0.0, 12.0]), np.ones(2)) is None
    assert space.probabilities(np.array([0.0, math.nan]), np.ones(2)) is None
    choices = _space(CategoricalDistribution(["x", "y"]), OPTIONS[0])
    assert choices.probabilities(np.array([0.0, 2.0]), np.ones(2)) is None
    assert choices.probabilities(np.array([0.0, math.nan]), np.ones(2)) is None
    assert choices.probabilities(np.array([0.5]), np.ones(1)) is None


@pytest.mark.parametrize(
    "space, prior_weight",
    [
        ({"p": FloatDistribution(0.0, 1.0)}, 1.0),  # continuous
        ({"p": IntDistribution(0, 10_000)}, 1.0),  # too fine to tabulate
        ({"p": IntDistribution(0, 10)}, 0.0),  # no prior
        ({"p": IntDistribution(0, 10), "q": IntDistribution(0, 10)}, 1.0),  # two parameters
    ],
)
def test_other_spaces_are_left_to_the_estimators(
    space: dict[str, BaseDistribution], prior_weight: float
) -> None:
    assert DiscreteSpace.of(space, prior_weight, True, False) is None


def test_candidates_are_drawn_by_the_good_mixtures_cell_probabilities() -> None:
    """With one candidate per suggestion, what TPE suggests is its draw from the good mixture:
    its frequencies must follow the good estimator's cell probabilities."""
    dist = IntDistribution(0, 6)
    sampler = skipjack.samplers.TPESampler(seed=5, n_startup_trials=0, n_ei_candidates=1)
    study = skipjack.create_study(sampler=sampler)
    rng = np.random.default_rng(5)
    for _ in range(40):
        x = int(rng.integers(0, 7))
        study.add_trial(
            skipjack.trial.create_trial(
                params={"x": x}, distributions={"x": dist}, value=float(rng.random() + x % 3)
            )
        )
    # The good set: the 4 best trials (10 % of 40, rounded up), each of weight 1.
    best = sorted(study.trials, key=lambda t: (t.value, t.number))[:4]
    good_values = np.array([float(t.params["x"]) for t in sorted(best, key=lambda t: t.number)])
    estimator = _ParzenEstimator({"x": good_values}, {"x": dist}, np.ones(4))
    expected = np.exp(estimator.log_pdf({"x": np.arange(7.0)}))
    draws = 3000
    counts = np.zeros(7)
    for _ in range(draws):
        trial = study.ask()
        counts[trial.suggest_int("x", 0, 6)] += 1
        study.tell(trial, state=skipjack.trial.TrialState.FAIL)
    assert stats.chisquare(counts, expected * draws).pvalue > 1e-3


@pytest.mark.parametrize("directions", [["minimize"], ["minimize", "minimize"]])
def test_a_study_of_one_integer_finds_its_optimum(directions: list[str]) -> None:
    sampler = skipjack.samplers.TPESampler(seed=1)
    study = skipjack.create_study(sampler=sampler, directions=directions)

    def objective(trial: skipjack.Trial) -> float | tuple[float, float]:
        x = trial.suggest_int("x", 0, 60)
        return (x - 37) ** 2 if len(directions) == 1 else ((x - 37) ** 2, abs(x - 37))

    study.optimize(objective, n_trials=150)
    values = [t.params["x"] for t in study.trials]
    assert all(0 <= v <= 60 for v in values)
    late = values[100:]
    # Random search puts about 1 value in 6 within 5 of 37; TPE, most of them.
    assert sum(abs(v - 37) <= 5 for v in late) >= 30


def test_a_study_of_one_categorical_prefers_the_best_choice() -> None:
    sampler = skipjack.samplers.TPESampler(seed=2)
    study = skipjack.create_study(sampler=sampler, directions=["minimize", "maximize"])
    costs = {"a": 3.0, "b": 1.0, "c": 2.0, "d": 4.0}

    def objective(trial: skipjack.Trial) -> tuple[float, float]:
        choice = trial.suggest_categorical("c", list(costs))
        return costs[choice], -costs[choice]

    study.optimize(objective, n_trials=120)
    late = [t.params["c"] for t in study.trials[60:]]
    assert late.count("b") > 30


def test_a_parameter_whose_grid_changed_mid_study_still_gets_valid_values() -> None:
    """Rows recorded under another grid are not cells of the new one: the estimators take
    over, and every suggestion lies on the new grid."""
    sampler = skipjack.samplers.TPESampler(seed=3, n_startup_trials=5)
    study = skipjack.create_study(sampler=sampler, directions=["minimize", "minimize"])
    study.optimize(lambda t: (t.suggest_int("x", 0, 10), 1.0), n_trials=80)
    study.optimize(lambda t: (t.suggest_int("x", 0, 10, step=2), 0.5), n_trials=30)
    late = [t.params["x"] for t in study.trials[80:]]
    assert all(v % 2 == 0 and 0 <= v <= 10 for v in late)


def test_running_trials_count_as_bad_observations_with_threads() -> None:
    """The constant liar with several threads: suggestions stay valid while other threads'
    running trials join the bad mixture."""
    sampler = skipjack.samplers.TPESampler(seed=4, n_startup_trials=5)
    study = skipjack.create_study(sampler=sampler, directions=["minimize", "minimize"])

    def objective(trial: skipjack.Trial) -> tuple[float, float]:
        x = trial.suggest_int("x", 0, 40, step=4)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        return (x - 20) ** 2, float(c == "b")

    study.optimize(objective, n_trials=120, n_jobs=2)
    assert len(study.trials) == 120
    assert all(t.params["x"] % 4 == 0 for t in study.trials)
    assert all(t.state == skipjack.trial.TrialState.COMPLETE for t in study.trials)


def test_cell_probabilities_survive_the_cache_filling_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the grid cache is full it starts afresh; probabilities computed before must not be
    served for the kernels that take over their rows."""
    monkeypatch.setattr(_grid_masses, "_GRID_CACHE_ROWS", 6)
    _grid_masses._grid_mass_cache.cache_clear()
    try:
        dist = IntDistribution(0, 9)
        space = _space(dist, OPTIONS[0])
        rng = np.random.default_rng(11)
        for n in (1, 2, 3, 5, 8, 13, 2, 1):
            values = rng.choice(np.arange(10.0), size=n)
            weights = rng.uniform(0.1, 1.0, n)
            got = space.probabilities(values, weights)
            expected = _brute_force_cells(values.tolist(), weights.tolist(), 0.0, 9.0, 1.0)
            np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-12)
    finally:
        _grid_masses._grid_mass_cache.cache_clear()
