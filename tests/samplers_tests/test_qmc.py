"""QMCSampler: the sequence, the search space, categoricals, and Optuna's values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import optuna
import pytest
from scipy.stats import qmc

import skipjack
from skipjack.exceptions import ExperimentalWarning
from skipjack.samplers import RandomSampler
from skipjack.samplers._qmc import QMCSampler
from skipjack.trial import TrialState

skipjack.logging.set_verbosity(skipjack.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore::skipjack.exceptions.ExperimentalWarning")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def space(trial: Any) -> float:
    x = trial.suggest_float("x", -1.0, 3.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("n", 0, 10)
    s = trial.suggest_float("s", 0.0, 1.0, step=0.25)
    k = trial.suggest_int("k", 1, 64, log=True)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return x + lr + n + s + k + len(c)


def test_invalid_type() -> None:
    with pytest.raises(ValueError, match="qmc_type"):
        QMCSampler(qmc_type="lattice")


@pytest.mark.parametrize("qmc_type", ["sobol", "halton"])
@pytest.mark.parametrize("scramble", [False, True])
def test_same_values_as_optuna(qmc_type: str, scramble: bool) -> None:
    ours = skipjack.create_study(sampler=QMCSampler(qmc_type=qmc_type, scramble=scramble, seed=3))
    ours.optimize(space, n_trials=12)
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        sampler = optuna.samplers.QMCSampler(qmc_type=qmc_type, scramble=scramble, seed=3)
    theirs = optuna.create_study(sampler=sampler)
    theirs.optimize(space, n_trials=12)
    for a, b in zip(ours.trials, theirs.trials):
        assert a.params.keys() == b.params.keys()
        for name in a.params:
            if isinstance(a.params[name], float):
                assert a.params[name] == pytest.approx(b.params[name], rel=1e-12), name
            else:
                assert a.params[name] == b.params[name], name


def test_follows_the_unscrambled_sobol_sequence() -> None:
    study = skipjack.create_study(sampler=QMCSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 2), n_trials=9)
    points = qmc.Sobol(2, scramble=False).random(8)
    got = np.array([[t.params["x"], t.params["y"] / 2] for t in study.trials[1:]])
    np.testing.assert_allclose(got, points)
    # The first trial came from the independent sampler: RandomSampler with the same seed.
    random = skipjack.create_study(sampler=RandomSampler(seed=0))
    random.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 2), n_trials=1)
    assert study.trials[0].params == random.trials[0].params


def test_values_in_bounds_and_every_choice_used() -> None:
    study = skipjack.create_study(sampler=QMCSampler(qmc_type="halton", seed=1, scramble=True))
    study.optimize(space, n_trials=40)
    for t in study.trials:
        for name, value in t.params.items():
            dist = t.distributions[name]
            assert dist._contains(dist.to_internal_repr(value)), (name, value)
    assert {t.params["c"] for t in study.trials} == {"a", "b", "c"}
    assert {t.params["s"] for t in study.trials} == {0.0, 0.25, 0.5, 0.75, 1.0}


def test_counter_lives_in_the_study() -> None:
    study = skipjack.create_study(sampler=QMCSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    counters = [v for k, v in study.system_attrs.items() if k.startswith("qmc:")]
    assert counters == [3]  # points 0..3 used by trials 1..4
    # A fresh sampler on the same study continues the sequence instead of restarting.
    study.sampler = QMCSampler(seed=0)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    expected = qmc.Sobol(1, scramble=False).random(8)[4, 0]
    assert study.trials[-1].params["x"] == pytest.approx(expected)


def test_seeded_scrambled_runs_are_reproducible() -> None:
    runs = []
    for _ in range(2):
        study = skipjack.create_study(sampler=QMCSampler(scramble=True, seed=11))
        study.optimize(space, n_trials=6)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_dynamic_parameters_fall_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    study = skipjack.create_study(sampler=QMCSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    skipjack.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            study.optimize(
                lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("extra", 0, 3), n_trials=2
            )
    finally:
        skipjack.logging.disable_propagation()
    assert "sampled independently" in caplog.text
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_search_space_from_running_trials_when_none_finished() -> None:
    sampler = QMCSampler(seed=0)
    study = skipjack.create_study(sampler=sampler)
    first = study.ask()
    first.suggest_float("x", 0, 1)
    second = study.ask()
    assert set(sampler.infer_relative_search_space(study, second._cached_frozen_trial)) == {"x"}


def test_no_seed_scramble_warns(caplog: pytest.LogCaptureFixture) -> None:
    skipjack.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            QMCSampler(scramble=True)
            assert "No seed is provided" in caplog.text
            caplog.clear()
            QMCSampler(scramble=True, warn_asynchronous_seeding=False)
            QMCSampler(scramble=False)
            QMCSampler(scramble=True, seed=0)
            assert "No seed is provided" not in caplog.text
    finally:
        skipjack.logging.disable_propagation()


def test_is_experimental() -> None:
    with pytest.warns(ExperimentalWarning, match="QMCSampler"):
        QMCSampler(seed=0)
