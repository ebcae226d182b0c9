from __future__ import annotations

import logging
import math
import time
from typing import Any

import pytest

import skipjack
from skipjack.samplers import RandomSampler
from skipjack.study import MaxTrialsCallback
from skipjack.trial import TrialState


def quadratic(trial: skipjack.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


@pytest.fixture
def study() -> skipjack.Study:
    return skipjack.create_study(sampler=RandomSampler(seed=0))


def test_runs_n_trials_and_numbers_are_dense(study: skipjack.Study) -> None:
    study.optimize(quadratic, n_trials=7)
    study.optimize(quadratic, n_trials=3)
    assert [t.number for t in study.trials] == list(range(10))
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all(t.datetime_complete >= t.datetime_start for t in study.trials)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n_trials=-1), ValueError, "n_trials"),
        (dict(n_trials=2.5), ValueError, "n_trials"),
        (dict(timeout=-5), ValueError, "timeout"),
        (dict(n_jobs=0), ValueError, "n_jobs"),
        (dict(n_jobs=-2), ValueError, "n_jobs"),
        (dict(catch=[3]), TypeError, "catch"),
    ],
)
def test_invalid_arguments_raise_before_anything_runs(
    study: skipjack.Study, kwargs: dict, exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        study.optimize(quadratic, **kwargs)
    assert study.trials == []


def test_exception_fails_trial_and_propagates(study: skipjack.Study) -> None:
    def broken(trial: skipjack.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        study.optimize(broken, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.FAIL]


def test_caught_exceptions_let_the_study_continue(study: skipjack.Study) -> None:
    def broken(trial: skipjack.Trial) -> float:
        raise ValueError("bad")

    study.optimize(broken, n_trials=3, catch=(ValueError,))
    study.optimize(broken, n_trials=2, catch=ValueError)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 5


@pytest.mark.parametrize("bad", [float("nan"), "text", None, [1.0, 2.0], object()])
def test_invalid_return_fails_with_warning_and_study_goes_on(
    study: skipjack.Study, bad: Any, caplog: pytest.LogCaptureFixture
) -> None:
    returns = iter([bad, 1.0])
    skipjack.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING, logger="skipjack"):
            study.optimize(lambda t: next(returns), n_trials=2)
    finally:
        skipjack.logging.disable_propagation()
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]
    assert "Trial 0 failed" in caplog.text


def test_trial_pruned_prunes_with_last_intermediate_value(study: skipjack.Study) -> None:
    def objective(trial: skipjack.Trial) -> float:
        trial.report(0.5, 0)
        trial.report(0.25, 1)
        raise skipjack.TrialPruned()

    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert study.trials[0].value == 0.25


def test_optunas_own_trial_pruned_is_recognised(study: skipjack.Study) -> None:
    optuna = pytest.importorskip("optuna")

    def objective(trial: skipjack.Trial) -> float:
        raise optuna.TrialPruned()

    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == TrialState.PRUNED


def test_keyboard_interrupt_fails_trial_then_propagates(study: skipjack.Study) -> None:
    def objective(trial: skipjack.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=5)
    assert [t.state for t in study.trials] == [TrialState.FAIL]


def test_timeout_stops_starting_trials(study: skipjack.Study) -> None:
    def slow(trial: skipjack.Trial) -> float:
        time.sleep(0.05)
        return 1.0

    start = time.monotonic()
    study.optimize(slow, timeout=0.3)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 2.0
    assert 2 <= len(study.trials) <= 10


def test_n_jobs_threads_run_exactly_n_trials(study: skipjack.Study) -> None:
    study.optimize(quadratic, n_trials=40, n_jobs=4)
    assert sorted(t.number for t in study.trials) == list(range(40))
    study.optimize(quadratic, n_trials=4, n_jobs=-1)
    assert len(study.trials) == 44


def test_n_jobs_propagates_exceptions(study: skipjack.Study) -> None:
    def broken(trial: skipjack.Trial) -> float:
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        study.optimize(broken, n_trials=5, n_jobs=2)


def test_callbacks_get_each_finished_trial(study: skipjack.Study) -> None:
    seen: list[tuple[int, TrialState]] = []
    study.optimize(quadratic, n_trials=4, callbacks=[lambda s, t: seen.append((t.number, t.state))])
    assert seen == [(i, TrialState.COMPLETE) for i in range(4)]


def test_faq_best_value_logging_callback(study: skipjack.Study) -> None:
    printed: list[float] = []

    def logging_callback(study: skipjack.Study, frozen_trial: Any) -> None:
        previous = study.user_attrs.get("previous_best_value", None)
        if previous != study.best_value:
            study.set_user_attr("previous_best_value", study.best_value)
            printed.append(study.best_value)

    study.optimize(quadratic, n_trials=30, callbacks=[logging_callback])
    assert printed == sorted(printed, reverse=True)
    assert printed[-1] == study.best_value


def test_stop_from_callback_and_objective(study: skipjack.Study) -> None:
    def stopper(s: skipjack.Study, t: Any) -> None:
        if t.number == 2:
            s.stop()

    study.optimize(quadratic, n_trials=100, callbacks=[stopper])
    assert len(study.trials) == 3
    with pytest.raises(RuntimeError, match="stop"):
        study.stop()


def test_max_trials_callback(study: skipjack.Study) -> None:
    study.optimize(quadratic, n_trials=100, callbacks=[MaxTrialsCallback(5)])
    assert len(study.trials) == 5


def test_nested_optimize_is_refused(study: skipjack.Study) -> None:
    def nested(trial: skipjack.Trial) -> float:
        study.optimize(quadratic, n_trials=1)
        return 0.0

    with pytest.raises(RuntimeError, match="Nested"):
        study.optimize(nested, n_trials=1)


def test_gc_after_trial_and_progress_bar(study: skipjack.Study, capsys: Any) -> None:
    pytest.importorskip("tqdm")
    study.optimize(quadratic, n_trials=5, gc_after_trial=True, show_progress_bar=True)
    assert len(study.trials) == 5
    assert "5/5" in capsys.readouterr().err


def test_log_message_wording(study: skipjack.Study, caplog: pytest.LogCaptureFixture) -> None:
    skipjack.logging.enable_propagation()
    try:
        with caplog.at_level(logging.INFO, logger="skipjack"):
            study.optimize(quadratic, n_trials=2)
    finally:
        skipjack.logging.disable_propagation()
    first = study.trials[0]
    assert (
        f"Trial 0 finished with value: {first.value} and parameters: {first.params}. "
        f"Best is trial 0 with value: {first.value}." in caplog.text
    )


def test_verbosity_silences_messages(study: skipjack.Study, caplog: Any) -> None:
    skipjack.logging.set_verbosity(skipjack.logging.WARNING)
    skipjack.logging.enable_propagation()
    try:
        with caplog.at_level(logging.DEBUG):
            study.optimize(quadratic, n_trials=2)
    finally:
        skipjack.logging.disable_propagation()
        skipjack.logging.set_verbosity(skipjack.logging.INFO)
    assert "finished with value" not in caplog.text


def test_multi_objective_optimize(study: skipjack.Study) -> None:
    s = skipjack.create_study(directions=["minimize", "maximize"], sampler=RandomSampler(seed=1))
    s.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=20)
    assert all(len(t.values) == 2 for t in s.trials)
    front = s.best_trials
    assert front and all(not math.isnan(t.values[0]) for t in front)


def test_objective_with_args_recipes() -> None:
    class Objective:
        def __init__(self, lo: float, hi: float) -> None:
            self.lo, self.hi = lo, hi

        def __call__(self, trial: skipjack.Trial) -> float:
            return (trial.suggest_float("x", self.lo, self.hi) - 2) ** 2

    s = skipjack.create_study()
    s.optimize(Objective(-100, 100), n_trials=5)
    s.optimize(lambda trial: Objective(-1, 1)(trial), n_trials=5)
    assert len(s.trials) == 10
