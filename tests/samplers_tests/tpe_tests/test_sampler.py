"""TPESampler: arguments, reproducibility, search spaces, constraints, liar, convergence."""

from __future__ import annotations

import inspect
import itertools
import logging
import math
import pickle
import subprocess
import sys
from typing import Any
import warnings

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna
import pytest

import skipjack
from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.samplers import RandomSampler
from skipjack.samplers._tpe._running import running_params
from skipjack.samplers._tpe._sampler import TPESampler
from skipjack.samplers._tpe._sampler import default_gamma
from skipjack.samplers._tpe._sampler import default_weights
from skipjack.trial import TrialState
from skipjack.trial import create_trial

skipjack.logging.set_verbosity(skipjack.logging.WARNING)


def quiet(**kwargs: Any) -> TPESampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TPESampler(**kwargs)


def mixed(trial: Any) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("n", 0, 20)
    s = trial.suggest_float("s", 0.0, 1.0, step=0.1)
    k = trial.suggest_int("k", 1, 1024, log=True)
    c = trial.suggest_categorical("c", ["a", "b", None])
    return x * x + abs(math.log10(lr) + 2) + abs(n - 7) + s + math.log2(k) / 10 + (c != "b")


def conditional(trial: Any) -> float:
    opt = trial.suggest_categorical("opt", ["sgd", "adam"])
    if opt == "sgd":
        m = trial.suggest_float("momentum", 0.0, 0.99, step=0.01)
        return (m - 0.9) ** 2 + trial.suggest_float("lr", 1e-4, 1.0, log=True)
    return trial.suggest_int("beta", 1, 10) / 10.0


# ---- arguments --------------------------------------------------------------------------------
def test_signature_matches_optuna() -> None:
    ours = inspect.signature(TPESampler.__init__).parameters
    theirs = inspect.signature(optuna.samplers.TPESampler.__init__).parameters
    assert list(ours) == list(theirs)
    for name, param in theirs.items():
        if name == "self":
            continue
        assert ours[name].kind == inspect.Parameter.KEYWORD_ONLY
        if param.default is None or isinstance(param.default, (bool, int, float)):
            assert ours[name].default == param.default, name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("consider_prior", True),
        ("prior_weight", 0.5),
        ("consider_magic_clip", False),
        ("consider_endpoints", True),
        ("gamma", default_gamma),
        ("weights", default_weights),
        ("warn_independent_sampling", True),
        ("constraints_func", lambda t: [0.0]),
    ],
)
def test_deprecated_arguments_warn(name: str, value: Any) -> None:
    with pytest.warns(FutureWarning, match=name):
        TPESampler(**{name: value})


def test_defaults_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TPESampler()
        TPESampler(seed=1, multivariate=True, constant_liar=False, n_startup_trials=3)


def test_group_is_experimental_and_needs_multivariate() -> None:
    with pytest.warns(ExperimentalWarning):
        TPESampler(group=True)
    with pytest.raises(ValueError, match="multivariate"):
        TPESampler(group=True, multivariate=False)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="prior_weight"):
        quiet(prior_weight=-1.0)
    with pytest.raises(ValueError, match="n_ei_candidates"):
        TPESampler(n_ei_candidates=0)
    with pytest.raises(TypeError):
        TPESampler(True)  # type: ignore[misc]


def test_hyperopt_parameters_are_accepted() -> None:
    with pytest.warns(FutureWarning):
        params = TPESampler.hyperopt_parameters()
    sampler = quiet(**params, seed=0)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=25)
    assert len(study.trials) == 25


def test_default_weights_and_gamma() -> None:
    assert default_gamma(0) == 0 and default_gamma(11) == 2 and default_gamma(10_000) == 25
    assert list(default_weights(3)) == [1.0, 1.0, 1.0]
    w = default_weights(40)
    assert len(w) == 40 and (w[-25:] == 1).all() and np.all(np.diff(w[:15]) > 0)
    assert w[0] == pytest.approx(1 / 40)


@pytest.mark.parametrize("n", [0, 1, 24, 25, 26, 27, 28, 100, 1001, 4999])
def test_default_weights_are_the_linear_ramp_value_for_value(n: int) -> None:
    # The ramp is numpy.linspace(1/n, 1, n - 25) followed by 25 ones, to the last bit.
    expected = np.ones(n)
    if n > 25:
        expected[: n - 25] = np.linspace(1.0 / n, 1.0, n - 25)
    got = default_weights(n)
    assert got.shape == expected.shape and (got == expected).all()


def test_bad_weights_function_raises() -> None:
    sampler = quiet(weights=lambda n: -np.ones(n), n_startup_trials=2, seed=0)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    with pytest.raises(ValueError, match="negative"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)


# ---- reproducibility --------------------------------------------------------------------------
def test_startup_trials_are_the_random_samplers_draws() -> None:
    a = skipjack.create_study(sampler=TPESampler(seed=7))
    a.optimize(mixed, n_trials=10)
    b = skipjack.create_study(sampler=RandomSampler(seed=7))
    b.optimize(mixed, n_trials=10)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


@pytest.mark.parametrize("multivariate", [True, False])
def test_same_seed_same_trials(multivariate: bool) -> None:
    runs = []
    for _ in range(2):
        study = skipjack.create_study(sampler=TPESampler(seed=3, multivariate=multivariate))
        study.optimize(mixed, n_trials=30)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    other = skipjack.create_study(sampler=TPESampler(seed=4, multivariate=multivariate))
    other.optimize(mixed, n_trials=30)
    assert [t.params for t in other.trials][10:] != runs[0][10:]


def test_pickle_round_trip_keeps_working() -> None:
    sampler = TPESampler(seed=0, n_startup_trials=3)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=5)
    clone = pickle.loads(pickle.dumps(sampler))
    study.sampler = clone
    study.optimize(mixed, n_trials=3)
    assert len(study.trials) == 8


# ---- every argument combination ---------------------------------------------------------------
_STRUCTURE = [
    (mv, group, liar)
    for mv, group, liar in itertools.product([None, True, False], [False, True], [True, False])
    if not (group and mv is False)
]


@pytest.mark.parametrize(("multivariate", "group", "constant_liar"), _STRUCTURE)
@pytest.mark.parametrize("objective", [mixed, conditional])
def test_structure_combinations_run(
    multivariate: bool | None, group: bool, constant_liar: bool, objective: Any
) -> None:
    sampler = quiet(
        seed=1,
        n_startup_trials=4,
        multivariate=multivariate,
        group=group,
        constant_liar=constant_liar,
    )
    study = skipjack.create_study(sampler=sampler)
    study.optimize(objective, n_trials=14)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


@pytest.mark.parametrize(
    "options",
    [
        {"consider_prior": False},
        {"prior_weight": 0.0},
        {"prior_weight": 3.0},
        {"consider_magic_clip": False},
        {"consider_endpoints": True},
        {"gamma": lambda n: n // 2},
        {"gamma": lambda n: 0},
        {"gamma": lambda n: 10 * n},
        {"weights": lambda n: np.linspace(1, 2, n)},
        {"n_ei_candidates": 1},
        {"n_startup_trials": 0},
        {"warn_independent_sampling": True},
    ],
)
@pytest.mark.parametrize("multivariate", [True, False])
def test_option_combinations_run(options: dict, multivariate: bool) -> None:
    sampler = quiet(
        seed=2,
        n_startup_trials=options.pop("n_startup_trials", 4),
        multivariate=multivariate,
        **options,
    )
    study = skipjack.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=12)
    study.optimize(conditional, n_trials=4)
    assert len(study.trials) == 16


# ---- bounds and steps (hypothesis) ------------------------------------------------------------
@st.composite
def spaces(draw: st.DrawFn) -> dict[str, BaseDistribution]:
    space: dict[str, BaseDistribution] = {}
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["float", "log", "step", "int", "intlog", "cat"]))
        if kind == "cat":
            space[f"p{i}"] = CategoricalDistribution(list(range(draw(st.integers(1, 5)))))
        elif kind == "int" or kind == "intlog":
            low = draw(st.integers(1, 50))
            step = 1 if kind == "intlog" else draw(st.integers(1, 4))
            high = low + step * draw(st.integers(0, 40))
            space[f"p{i}"] = IntDistribution(low, high, log=kind == "intlog", step=step)
        else:
            start = draw(st.floats(0.001, 100.0))
            if kind == "step":
                grid = draw(st.sampled_from([0.5, 0.25, 2.0]))
                first = float(round(start))
                space[f"p{i}"] = FloatDistribution(
                    first, first + grid * draw(st.integers(0, 30)), step=grid
                )
            else:
                end = start * draw(st.floats(1.0, 1000.0))
                space[f"p{i}"] = FloatDistribution(start, end, log=kind == "log")
    return space


@settings(max_examples=20, deadline=None)
@given(space=spaces(), seed=st.integers(0, 1000), multivariate=st.booleans())
def test_suggestions_respect_bounds_and_steps(
    space: dict[str, BaseDistribution], seed: int, multivariate: bool
) -> None:
    sampler = TPESampler(seed=seed, n_startup_trials=3, multivariate=multivariate)
    study = skipjack.create_study(sampler=sampler)

    def objective(trial: Any) -> float:
        total = 0.0
        for name, dist in space.items():
            value = trial._suggest(name, dist)
            internal = dist.to_internal_repr(value)
            assert dist._contains(internal), (name, dist, value)
            total += float(internal)
        return total

    study.optimize(objective, n_trials=10)
    assert len(study.trials) == 10


# ---- conditional spaces -----------------------------------------------------------------------
def test_group_models_conditional_parameters_jointly() -> None:
    sampler = quiet(seed=0, n_startup_trials=5, multivariate=True, group=True)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(conditional, n_trials=12)
    trial = study.ask()
    space = sampler.infer_relative_search_space(study, trial._cached_frozen_trial)
    assert {"opt", "momentum", "lr", "beta"} <= set(space)
    plain = TPESampler(seed=0, multivariate=True)
    study.sampler = plain
    # The intersection holds only what every trial has.
    assert set(plain.infer_relative_search_space(study, trial._cached_frozen_trial)) == {"opt"}
    study.tell(trial, 1.0)


def test_group_sampling_reaches_the_good_branch() -> None:
    def objective(trial: Any) -> float:
        branch = trial.suggest_categorical("branch", ["a", "b"])
        if branch == "a":
            return 10.0 + trial.suggest_float("u", 0, 1)
        x = trial.suggest_float("x", -3, 3)
        y = trial.suggest_float("y", -3, 3)
        return (x - 1) ** 2 + (y + 1) ** 2

    sampler = quiet(seed=0, n_startup_trials=10, multivariate=True, group=True)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(objective, n_trials=50)
    late = [t.params["branch"] for t in study.trials[30:]]
    assert late.count("b") >= 15
    assert study.best_value < 0.5


def test_changed_distributions_do_not_break_sampling() -> None:
    # Independent sampling re-reads old values under the new distribution where they fit.
    sampler = TPESampler(seed=0, n_startup_trials=3, multivariate=False)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("c", 0.0, 10.0), n_trials=5)
    study.optimize(lambda t: t.suggest_float("c", 5.0, 6.0), n_trials=5)
    study.optimize(lambda t: t.suggest_float("c", 2.0, 3.0), n_trials=5)
    assert len(study.trials) == 15
    assert all(2.0 <= t.params["c"] <= 3.0 for t in study.trials[10:])


def test_warn_independent_sampling_logs(caplog: pytest.LogCaptureFixture) -> None:
    sampler = quiet(seed=0, n_startup_trials=3, warn_independent_sampling=True)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(conditional, n_trials=12)
    skipjack.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            study.optimize(conditional, n_trials=6)
    finally:
        skipjack.logging.disable_propagation()
    assert "sampled independently" in caplog.text


# ---- pruned and failed trials -----------------------------------------------------------------
def test_pruned_and_failed_trials_are_handled() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 10)
        if trial.number % 5 == 3:
            raise ValueError("boom")
        trial.report(x, 0)
        if trial.number % 3 == 1:
            raise skipjack.TrialPruned()
        return x

    study = skipjack.create_study(sampler=TPESampler(seed=0, n_startup_trials=4))
    study.optimize(objective, n_trials=30, catch=(ValueError,))
    states = {t.state for t in study.trials}
    assert {TrialState.PRUNED, TrialState.FAIL, TrialState.COMPLETE} <= states
    assert study.best_value < 1.5


# ---- constraints ------------------------------------------------------------------------------
def test_constraints_via_set_constraint_make_best_trials_feasible() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_float("y", -5, 5)
        trial.set_constraint("c", 1.0 - x)  # feasible when x >= 1
        return x * x + y * y

    n_feasible_late = 0
    for seed in range(3):
        study = skipjack.create_study(sampler=TPESampler(seed=seed))
        study.optimize(objective, n_trials=50)
        assert study.best_trial.params["x"] >= 1.0
        assert study.best_value < 2.5
        n_feasible_late += sum(t.params["x"] >= 1.0 for t in study.trials[25:])
    # Random search would make 40 % of the 75 late trials feasible (30; sd ~4).
    assert n_feasible_late >= 40


def test_constraints_func_is_stored_and_used() -> None:
    with pytest.warns(FutureWarning):
        sampler = TPESampler(seed=1, constraints_func=lambda t: [t.params["x"] - 2.0])
    study = skipjack.create_study(sampler=sampler, direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 10), n_trials=40)
    stored = study.trials[0].system_attrs["constraints"]
    assert list(stored) == [study.trials[0].params["x"] - 2.0]
    assert study.best_trial.params["x"] <= 2.0
    late = [t.params["x"] <= 2.0 for t in study.trials[20:]]
    assert sum(late) >= 8  # random search: 4 of 20 expected, sd ~1.8


# ---- multi-objective --------------------------------------------------------------------------
def test_multi_objective_is_independent_by_default_and_finds_a_front() -> None:
    sampler = TPESampler(seed=0)
    study = skipjack.create_study(sampler=sampler, directions=["minimize", "minimize"])
    assert sampler.infer_relative_search_space(study, None) == {}  # type: ignore[arg-type]

    def objective(trial: Any) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_float("y", 0, 1)
        return x + y, (1 - x) + y

    study.optimize(objective, n_trials=40)
    # The front is y == 0; TPE should move y down.
    late_y = [t.params["y"] for t in study.trials[25:]]
    early_y = [t.params["y"] for t in study.trials[:10]]
    assert np.median(late_y) < np.median(early_y)
    assert len(study.best_trials) >= 2


@pytest.mark.parametrize("multivariate", [True, False])
def test_three_objectives_with_maximize_and_constraints(multivariate: bool) -> None:
    sampler = TPESampler(seed=0, n_startup_trials=5, multivariate=multivariate)
    study = skipjack.create_study(sampler=sampler, directions=["minimize", "maximize", "minimize"])

    def objective(trial: Any) -> tuple[float, float, float]:
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_int("y", 0, 5)
        c = trial.suggest_categorical("c", ["p", "q"])
        trial.set_constraint("x", x - 0.8)
        return x, x * y, float(c == "p") + y

    study.optimize(objective, n_trials=40)
    assert all(t.params["x"] <= 0.8 for t in study.best_trials)


# ---- constant liar ----------------------------------------------------------------------------
def test_running_trials_share_their_relative_sample() -> None:
    sampler = TPESampler(seed=0, n_startup_trials=3)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=5)
    first = study.ask()
    first.suggest_float("x", -5.0, 5.0)
    attrs = study._storage.get_trial(first._trial_id).system_attrs
    assert any(key.startswith("tpe:relative_params") for key in attrs)
    second = study.ask()
    running = running_params(study, second._cached_frozen_trial, multivariate=True)
    assert [number for number, _ in running] == [first.number]
    assert set(running[0][1]) == {"x", "lr", "n", "s", "k", "c"}


def test_constant_liar_spreads_concurrent_suggestions() -> None:
    def spread(constant_liar: bool) -> float:
        sampler = TPESampler(seed=0, n_startup_trials=10, constant_liar=constant_liar)
        study = skipjack.create_study(sampler=sampler)
        study.optimize(lambda t: (t.suggest_float("x", -10, 10) - 3) ** 2, n_trials=20)
        pending = [study.ask() for _ in range(8)]
        xs = np.array([t.suggest_float("x", -10, 10) for t in pending])
        return float(np.mean(np.abs(xs[:, None] - xs[None, :])))

    assert spread(True) > 1.5 * spread(False)


def test_threads_with_constant_liar() -> None:
    sampler = TPESampler(seed=0, n_startup_trials=4, constant_liar=True)
    study = skipjack.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=30, n_jobs=2)
    assert len(study.trials) == 30
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    params = [tuple(sorted(map(str, t.params.items()))) for t in study.trials]
    assert len(set(params)) == len(params)


# ---- convergence ------------------------------------------------------------------------------
def test_tpe_beats_random_search_on_a_quadratic() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -10, 10)
        y = trial.suggest_float("y", -10, 10)
        return (x - 2) ** 2 + (y + 3) ** 2

    def best(sampler: Any) -> float:
        study = skipjack.create_study(sampler=sampler)
        study.optimize(objective, n_trials=60)
        return study.best_value

    tpe = [best(TPESampler(seed=s)) for s in range(5)]
    rand = [best(RandomSampler(seed=s)) for s in range(5)]
    # Median best value of TPE at least 5x better than random search's.
    assert np.median(tpe) * 5 < np.median(rand)


def test_tpe_handles_added_trials_and_maximize() -> None:
    study = skipjack.create_study(sampler=TPESampler(seed=0), direction="maximize")
    dist: dict[str, BaseDistribution] = {"x": FloatDistribution(0, 1)}
    for v in np.linspace(0, 1, 12):
        study.add_trial(create_trial(params={"x": float(v)}, distributions=dist, value=float(v)))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=10)
    assert np.mean([t.params["x"] for t in study.trials[12:]]) > 0.6


def test_importing_the_samplers_does_not_import_scipy() -> None:
    code = (
        "import sys, skipjack.samplers._tpe._sampler, skipjack.samplers._qmc; "
        "print('scipy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
