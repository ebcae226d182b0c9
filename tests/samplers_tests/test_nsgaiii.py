"""NSGAIIISampler: reference points, niching, bounds, seeds, constraints, generations."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest

import skipjack
from skipjack._hypervolume import compute_hypervolume
from skipjack.distributions import IntDistribution
from skipjack.samplers import RandomSampler
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers._nsgaiii import NSGAIIISampler
from skipjack.samplers._nsgaiii._elite import NSGAIIIElitePopulationSelectionStrategy
from skipjack.samplers._nsgaiii._elite import _associate
from skipjack.samplers._nsgaiii._elite import _default_reference_points
from skipjack.samplers._nsgaiii._elite import _normalize
from skipjack.samplers.nsgaii import SBXCrossover
from skipjack.samplers.nsgaii._sampler import NSGAIISampler
from skipjack.trial import TrialState
from skipjack.trial import create_trial

skipjack.logging.set_verbosity(skipjack.logging.WARNING)

# Most crossovers are experimental, as in Optuna; the warning itself is tested once.
pytestmark = pytest.mark.filterwarnings("ignore::skipjack.exceptions.ExperimentalWarning")

GEN_KEY = "NSGAIIISampler:generation"


def _dtlz2(trial: skipjack.Trial) -> tuple[float, float, float]:
    """DTLZ2 with 3 objectives: the front is the positive octant of the unit sphere."""
    x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(5)])
    g = float(((x[2:] - 0.5) ** 2).sum())
    a, b = x[0] * np.pi / 2, x[1] * np.pi / 2
    r = 1.0 + g
    return r * np.cos(a) * np.cos(b), r * np.cos(a) * np.sin(b), r * np.sin(a)


def _mixed(trial: skipjack.Trial) -> tuple[float, float, float]:
    x = trial.suggest_float("x", -2.0, 2.0)
    y = trial.suggest_int("y", 1, 64, log=True)
    z = trial.suggest_float("z", 0.0, 1.0, step=0.1)
    c = trial.suggest_categorical("c", [1, 2, 3])
    return x**2 + float(c or 0), (x - 1) ** 2 + y, z - x


def test_default_reference_points_lie_on_the_simplex() -> None:
    points = _default_reference_points(3, 4)
    assert points.shape == (15, 3)  # C(3 + 4 - 1, 4)
    assert np.all(points.sum(axis=1) == 4) and np.all(points >= 0)
    assert len({tuple(p) for p in points}) == 15


def test_association_picks_the_nearest_reference_line() -> None:
    reference = np.eye(2)
    points = np.array([[2.0, 0.5], [0.1, 3.0]])
    nearest, distance = _associate(points, reference)
    assert nearest.tolist() == [0, 1]
    np.testing.assert_allclose(distance, [0.5, 0.1])


def test_normalization_maps_extreme_points_to_unit_intercepts() -> None:
    values = np.array([[10.0, 1.0], [1.0, 5.0], [4.0, 3.0]])
    normalized = _normalize(values.copy())
    # Ideal point at the origin, and the extremes on the axes at distance 1 (hyperplane x+y=1
    # through the two extremes).
    assert normalized.min(axis=0).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(normalized[0].sum(), 1.0)
    np.testing.assert_allclose(normalized[1].sum(), 1.0)


def test_niching_spreads_survivors_over_reference_directions() -> None:
    study = skipjack.create_study(directions=["minimize", "minimize"])
    # One front: a crowded cluster near the first axis and single points elsewhere.
    values = [(0.0, 1.0), (0.01, 0.99), (0.02, 0.98), (0.03, 0.97), (0.5, 0.5), (1.0, 0.0)]
    trials = [create_trial(values=list(v)) for v in values]
    strategy = NSGAIIIElitePopulationSelectionStrategy(
        population_size=3, rng=LazyRandomState(0), dividing_parameter=2
    )
    chosen = {tuple(t.values or ()) for t in strategy(study, trials)}
    assert (0.5, 0.5) in chosen and (1.0, 0.0) in chosen


def test_rejects_reference_points_of_wrong_dimension() -> None:
    sampler = NSGAIIISampler(population_size=4, reference_points=np.ones((3, 2)), seed=0)
    study = skipjack.create_study(directions=["minimize"] * 3, sampler=sampler)
    with pytest.raises(ValueError, match="reference points"):
        study.optimize(_dtlz2, n_trials=12)


def test_is_not_an_nsgaii_sampler_and_keeps_its_own_generations() -> None:
    sampler = NSGAIIISampler(population_size=4, seed=0)
    assert not isinstance(sampler, NSGAIISampler)
    study = skipjack.create_study(directions=["minimize"] * 3, sampler=sampler)
    study.optimize(_mixed, n_trials=14)
    assert [t.system_attrs[GEN_KEY] for t in study.trials] == [i // 4 for i in range(14)]
    assert all("NSGAIISampler:generation" not in t.system_attrs for t in study.trials)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), dividing_parameter=st.integers(1, 4))
def test_values_respect_bounds(seed: int, dividing_parameter: int) -> None:
    sampler = NSGAIIISampler(population_size=5, seed=seed, dividing_parameter=dividing_parameter)
    study = skipjack.create_study(directions=["minimize"] * 3, sampler=sampler)
    study.optimize(_mixed, n_trials=25)
    for trial in study.trials:
        for name, value in trial.params.items():
            dist = trial.distributions[name]
            assert dist._contains(dist.to_internal_repr(value))
            if isinstance(dist, IntDistribution):
                assert isinstance(value, int)


def test_same_seed_same_trials() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = skipjack.create_study(
            directions=["minimize"] * 3, sampler=NSGAIIISampler(population_size=5, seed=seed)
        )
        study.optimize(_mixed, n_trials=30)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_constraints_keep_best_trials_feasible() -> None:
    def objective(trial: skipjack.Trial) -> tuple[float, float, float]:
        values = _dtlz2(trial)
        trial.set_constraint("x0", 0.3 - trial.params["x0"])  # feasible when x0 >= 0.3
        return values

    study = skipjack.create_study(
        directions=["minimize"] * 3,
        sampler=NSGAIIISampler(population_size=8, seed=0, mutation_prob=0.1),
    )
    study.optimize(objective, n_trials=60)
    assert study.best_trials
    assert all(t.params["x0"] >= 0.3 for t in study.best_trials)


def test_dtlz2_beats_random_search() -> None:
    reference = np.array([1.5, 1.5, 1.5])
    n_trials = 400

    def hypervolume(study: skipjack.Study) -> float:
        values = np.array([t.values for t in study.trials if t.state == TrialState.COMPLETE])
        return compute_hypervolume(values, reference)

    nsga = skipjack.create_study(
        directions=["minimize"] * 3,
        sampler=NSGAIIISampler(population_size=20, seed=0, crossover=SBXCrossover()),
    )
    nsga.optimize(_dtlz2, n_trials=n_trials)
    rand = skipjack.create_study(directions=["minimize"] * 3, sampler=RandomSampler(seed=0))
    rand.optimize(_dtlz2, n_trials=n_trials)
    # The exact front dominates 1.5**3 - pi/6 (the cube minus the unit-sphere octant) = 2.85.
    assert hypervolume(nsga) > hypervolume(rand)
    assert hypervolume(nsga) > 2.6  # within 9% of the optimum; random search stays near 2.55


def test_threads_on_one_study() -> None:
    study = skipjack.create_study(
        directions=["minimize"] * 3, sampler=NSGAIIISampler(population_size=6, seed=0)
    )
    study.optimize(_dtlz2, n_trials=40, n_jobs=2)
    generations = [t.system_attrs[GEN_KEY] for t in study.trials]
    assert len(generations) == 40 and max(generations) >= 4
