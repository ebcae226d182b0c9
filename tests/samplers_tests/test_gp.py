"""GPSampler: bounds, seeding, constraints, parallel proposals, numerics and convergence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest
import scipy.optimize
from scipy.stats import norm

import skipjack
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.samplers import RandomSampler
from skipjack.samplers._gp import GPSampler
from skipjack.samplers._gp._acqf import LogEI
from skipjack.samplers._gp._acqf import log_h
from skipjack.samplers._gp._gpr import _neg_objective
from skipjack.samplers._gp._gpr import _sq_dist
from skipjack.samplers._gp._gpr import fit_gp
from skipjack.trial import TrialState

skipjack.logging.set_verbosity(skipjack.logging.ERROR)


def sphere(trial: Any, dim: int = 5) -> float:
    return float(sum((trial.suggest_float(f"x{i}", -5.0, 5.0) - 1.0) ** 2 for i in range(dim)))


def optimize(sampler: Any, objective: Any, n_trials: int, **kwargs: Any) -> skipjack.Study:
    study = skipjack.create_study(sampler=sampler, **kwargs)
    study.optimize(objective, n_trials=n_trials)
    return study


distribution = st.one_of(
    st.builds(lambda lo, w: FloatDistribution(lo, lo + w), st.floats(-50, 50), st.floats(0.01, 50)),
    st.builds(
        lambda lo, w: FloatDistribution(lo, lo + w, log=True),
        st.floats(1e-4, 1),
        st.floats(0.01, 100),
    ),
    st.builds(
        lambda lo, n, s: FloatDistribution(lo * s, (lo + n) * s, step=s),
        st.integers(-20, 20),
        st.integers(1, 10),
        st.sampled_from([0.25, 0.5, 2.0]),
    ),
    st.builds(
        lambda lo, n, s: IntDistribution(lo, lo + n * s, step=s),
        st.integers(-20, 20),
        st.integers(1, 20),
        st.integers(1, 3),
    ),
    st.builds(
        lambda lo, w: IntDistribution(lo, lo + w, log=True), st.integers(1, 9), st.integers(1, 500)
    ),
    st.builds(lambda n: CategoricalDistribution(list(range(n))), st.integers(2, 4)),
)


@settings(max_examples=10, deadline=None)
@given(dists=st.lists(distribution, min_size=1, max_size=4), seed=st.integers(0, 100))
def test_values_stay_in_bounds(dists: list[Any], seed: int) -> None:
    def objective(trial: Any) -> float:
        total = 0.0
        for i, dist in enumerate(dists):
            value = trial._suggest(f"p{i}", dist)
            assert dist._contains(dist.to_internal_repr(value)), (dist, value)
            total += float(dist.to_internal_repr(value)) * (i + 1)
        return total

    study = optimize(GPSampler(seed=seed, n_startup_trials=2), objective, 6)
    proposed = [t for t in study.trials if "skipjack:gp:relative_params" in t.system_attrs]
    assert len(proposed) == 4
    for trial in proposed:
        assert json.loads(trial.system_attrs["skipjack:gp:relative_params"]) == trial.params


def test_seed_makes_runs_identical() -> None:
    runs = [optimize(GPSampler(seed=s, n_startup_trials=3), sphere, 8) for s in (1, 1, 2)]
    params = [[t.params for t in run.trials] for run in runs]
    assert params[0] == params[1]
    assert params[0][3:] != params[2][3:]


def test_sphere_converges_and_beats_random() -> None:
    # Sphere in 5-d on [-5, 5]^5 (optimum 0): 40 trials must reach regret 0.05, and random
    # search with the same budget stays above 1 (its expected best at 40 trials is ~10).
    gp = optimize(GPSampler(seed=0), sphere, 40)
    rand = optimize(RandomSampler(seed=0), sphere, 40)
    assert gp.best_value < 0.05
    assert gp.best_value < rand.best_value / 20


def test_maximize_with_mixed_parameters() -> None:
    def objective(trial: Any) -> float:
        c = trial.suggest_categorical("c", ["low", "best", "mid"])
        n = trial.suggest_int("n", 0, 20)
        x = trial.suggest_float("x", 1e-3, 10.0, log=True)
        bonus = {"low": 0.0, "best": 3.0, "mid": 1.0}[c]
        return bonus - (n - 7) ** 2 / 10 - np.log10(x / 0.1) ** 2

    study = optimize(GPSampler(seed=0, n_startup_trials=5), objective, 30, direction="maximize")
    assert study.best_params["c"] == "best"
    assert abs(study.best_params["n"] - 7) <= 1
    late = [t.params["c"] for t in study.trials[15:]]
    assert late.count("best") >= 10


def test_constraints_are_honoured() -> None:
    # Maximize x + y subject to x + y <= 1 on [0, 1]^2: the best feasible value is 1.
    def objective(trial: Any) -> float:
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        trial.set_user_attr("c", x + y - 1.0)
        return x + y

    with pytest.warns(FutureWarning, match="constraints_func"):
        sampler = GPSampler(
            seed=0, n_startup_trials=5, constraints_func=lambda t: [t.user_attrs["c"]]
        )
    study = optimize(sampler, objective, 25, direction="maximize")
    feasible = [t for t in study.trials if t.user_attrs["c"] <= 0]
    assert max(t.value for t in feasible if t.value is not None) > 0.97
    late = study.trials[10:]
    assert sum(t.user_attrs["c"] <= 0.02 for t in late) >= 0.8 * len(late)


def test_running_trials_push_proposals_apart() -> None:
    study = skipjack.create_study(sampler=GPSampler(seed=0, n_startup_trials=5))
    study.optimize(lambda t: sphere(t, 2), n_trials=12)
    first = study.ask()
    for name in ("x0", "x1"):
        first.suggest_float(name, -5.0, 5.0)
    second = study.ask()
    values = [second.suggest_float(name, -5.0, 5.0) for name in ("x0", "x1")]
    assert np.hypot(values[0] - first.params["x0"], values[1] - first.params["x1"]) > 1e-2
    assert study.get_trials(states=(TrialState.RUNNING,))[0].system_attrs[
        "skipjack:gp:relative_params"
    ]


def _hypervolume_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Area dominated by ``points`` (minimisation) up to ``ref``, by brute force on a grid."""
    grid = np.stack(np.meshgrid(np.linspace(0, ref[0], 300), np.linspace(0, ref[1], 300)), -1)
    grid = grid.reshape(-1, 2)
    dominated = np.zeros(len(grid), dtype=bool)
    for p in points:
        dominated |= (grid >= p).all(axis=1)
    return float(dominated.mean() * ref[0] * ref[1])


@pytest.mark.parametrize("n_objectives", [2, 3])
def test_multi_objective_proposes_on_the_front(n_objectives: int) -> None:
    # f1 = x², f2 = (x - 2)² (and f3 = (x - 1)² + 0.1): the Pareto set is x in [0, 2].
    def objective(trial: Any) -> tuple[float, ...]:
        x = trial.suggest_float("x", -10, 10)
        return (x**2, (x - 2) ** 2, (x - 1) ** 2 + 0.1)[:n_objectives]

    sampler = GPSampler(seed=0, n_startup_trials=5)
    study = optimize(sampler, objective, 20, directions=["minimize"] * n_objectives)
    late = [t.params["x"] for t in study.trials[5:]]
    # Random search would put about 2 of these 15 there.
    assert sum(-0.2 <= x <= 2.2 for x in late) >= 9


def test_ehvi_beats_random_hypervolume() -> None:
    # Two objectives on [0, 1]^2 with a convex front; hypervolume up to (1.5, 1.5).
    def objective(trial: Any) -> tuple[float, float]:
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        return x + 0.5 * y**2, (1 - x) ** 2 + 0.5 * y

    ref = np.array([1.5, 1.5])
    volumes = {}
    for name, sampler in (("gp", GPSampler(seed=0)), ("random", RandomSampler(seed=0))):
        study = optimize(sampler, objective, 25, directions=["minimize"] * 2)
        values = np.array([t.values for t in study.trials])
        volumes[name] = _hypervolume_2d(values, ref)
    # The true front (y = 0, f2 = (1 - f1)²) dominates about 1.92 of the 2.25 box.
    assert volumes["gp"] > volumes["random"]
    assert volumes["gp"] > 1.78  # random search reaches about 1.6


def test_pareto_front_and_ehvi_match_brute_force() -> None:
    from skipjack.samplers._gp._ehvi import LogEHVI2D
    from skipjack.samplers._gp._ehvi import pareto_front_2d

    rng = np.random.RandomState(0)
    y = rng.rand(40, 2)
    front = pareto_front_2d(y)
    brute = [p for p in y if not any((q >= p).all() and (q > p).any() for q in y)]
    assert sorted(map(tuple, front)) == sorted(map(tuple, brute))

    class Certain:  # a "GP" that knows the value exactly
        def __init__(self, value: float) -> None:
            self.value = value

        def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, None, None]:
            return np.full(len(x), self.value), np.full(len(x), 1e-24), None, None

    target = np.array([0.9, 0.95])
    acqf = LogEHVI2D([Certain(0.9), Certain(0.95)], y, seed=0, n_samples=4)  # type: ignore[list-item]
    ref = y.min(axis=0) - 0.1 * (y.max(axis=0) - y.min(axis=0))

    def exact_volume(points: np.ndarray) -> float:
        # Union of the boxes [ref, p], summed over the cells of the coordinate grid.
        xs = np.unique(np.append(points[:, 0], ref[0]))
        ys = np.unique(np.append(points[:, 1], ref[1]))
        total = 0.0
        for x0, x1 in zip(xs[:-1], xs[1:]):
            for y0, y1 in zip(ys[:-1], ys[1:]):
                if ((points[:, 0] >= x1) & (points[:, 1] >= y1)).any():
                    total += (x1 - x0) * (y1 - y0)
        return total

    expected = exact_volume(np.vstack([y, target])) - exact_volume(y)
    assert np.exp(acqf(np.zeros((1, 1)))[0]) == pytest.approx(expected, rel=1e-6)


def test_works_with_journal_storage(tmp_path: Path) -> None:
    storage = skipjack.storages.JournalStorage(
        skipjack.storages.journal.JournalFileBackend(str(tmp_path / "log"))
    )
    study = optimize(
        GPSampler(seed=0, n_startup_trials=3), lambda t: sphere(t, 2), 8, storage=storage
    )
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 8


def test_warnings() -> None:
    with pytest.warns(ExperimentalWarning, match="deterministic_objective"):
        GPSampler(deterministic_objective=True)


def test_deterministic_objective_interpolates() -> None:
    with pytest.warns(ExperimentalWarning):
        sampler = GPSampler(seed=0, n_startup_trials=5, deterministic_objective=True)
    study = optimize(sampler, lambda t: sphere(t, 3), 25)
    assert study.best_value < 0.5


def test_log_h_matches_direct_formula_and_stays_finite() -> None:
    z = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(log_h(z), np.log(norm.pdf(z) + z * norm.cdf(z)), rtol=1e-9)
    far = log_h(np.array([-1e3, -1e2, -40.0, -20.0]))
    assert np.isfinite(far).all() and (np.diff(far) > 0).all()


def test_marginal_likelihood_gradient_is_exact() -> None:
    rng = np.random.RandomState(0)
    x = rng.rand(15, 3)
    x[:, 2] = rng.randint(0, 3, 15)
    is_cat = np.array([False, False, True])
    y = np.sin(3 * x[:, 0]) + x[:, 1] + 0.3 * x[:, 2]
    y = (y - y.mean()) / y.std()
    dists = _sq_dist(x, x, is_cat)
    theta = rng.randn(5) * 0.5
    err = scipy.optimize.check_grad(
        lambda t: _neg_objective(t, dists, y, False)[0],
        lambda t: _neg_objective(t, dists, y, False)[1],
        theta,
    )
    assert err < 1e-4 * max(1.0, float(np.abs(_neg_objective(theta, dists, y, False)[1]).max()))
    # The acquisition's gradient in x agrees with finite differences too.
    gpr, _ = fit_gp(x, y, is_cat)
    acqf = LogEI(gpr, float(y.max()), [(gpr, 0.5)])

    def value(v: np.ndarray) -> float:
        return float(acqf(np.array([[v[0], v[1], 1.0]]))[0])

    def grad(v: np.ndarray) -> np.ndarray:
        return acqf.value_and_grad(np.array([[v[0], v[1], 1.0]]))[1][0, :2]

    point = np.array([0.3, 0.6])
    fd = scipy.optimize.approx_fprime(point, value, 1e-7)
    np.testing.assert_allclose(grad(point), fd, rtol=1e-3, atol=1e-4)
