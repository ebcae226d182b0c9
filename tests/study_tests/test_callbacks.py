from __future__ import annotations

from collections.abc import Iterator
import functools
from typing import Any

import optuna
import pytest

from skipjack.study._callbacks import MaxTrialsCallback
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)


class CountingStorage:
    """Answers get_n_trials from a list of states; loading trials is an error."""

    def __init__(self, states: list[TrialState]) -> None:
        self.states = states
        self.calls: list[tuple[int, Any]] = []

    def get_n_trials(self, study_id: int, state: Any = None) -> int:
        self.calls.append((study_id, state))
        if state is None:
            return len(self.states)
        wanted = (state,) if isinstance(state, TrialState) else tuple(state)
        return sum(s in wanted for s in self.states)

    def get_all_trials(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("MaxTrialsCallback must count, not load trials")


class FakeStudy:
    def __init__(self, states: list[TrialState]) -> None:
        self._storage = CountingStorage(states)
        self._study_id = 3
        self.stop_calls = 0

    def stop(self) -> None:
        self.stop_calls += 1

    def get_trials(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("MaxTrialsCallback must count through the storage")


C, P, F, R = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING


def run(callback: MaxTrialsCallback, states: list[TrialState]) -> FakeStudy:
    study = FakeStudy(states)
    callback(study, create_trial(value=0.0))  # type: ignore[arg-type]
    return study


@pytest.mark.parametrize(
    ("n_trials", "states", "trial_states", "stops"),
    [
        (3, (C,), [C, C, F, P], False),
        (3, (C,), [C, C, C], True),
        (3, (C,), [C, C, C, C], True),  # more than enough also stops
        (2, (F, P), [C, F, P], True),
        (2, (F, P), [C, C, F], False),
        (4, None, [C, F, P, R], True),
        (5, None, [C, F, P, R], False),
        (0, (C,), [], True),
    ],
)
def test_stops_when_enough_trials_are_in_states(
    n_trials: int,
    states: tuple[TrialState, ...] | None,
    trial_states: list[TrialState],
    stops: bool,
) -> None:
    study = run(MaxTrialsCallback(n_trials, states=states), trial_states)
    assert study.stop_calls == int(stops)
    ((study_id, asked),) = study._storage.calls
    assert study_id == 3
    if states is None:
        assert asked is None
    else:
        assert set(asked) == set(states)


def test_default_counts_complete_trials() -> None:
    callback = MaxTrialsCallback(2)
    assert run(callback, [C, F, F, F]).stop_calls == 0
    assert run(callback, [C, F, C]).stop_calls == 1


def test_any_container_of_states() -> None:
    class OnlyMembership:
        def __contains__(self, item: object) -> bool:
            return item in (TrialState.FAIL, TrialState.PRUNED)

        def __iter__(self) -> Iterator[TrialState]:
            raise AssertionError("states are only promised to support `in`")

    callback = MaxTrialsCallback(2, states=OnlyMembership())
    assert run(callback, [F, C, C]).stop_calls == 0
    assert run(callback, [F, C, P]).stop_calls == 1
    assert run(MaxTrialsCallback(1, states=[TrialState.COMPLETE]), [C]).stop_calls == 1
    assert run(MaxTrialsCallback(1, states={TrialState.PRUNED}), [C]).stop_calls == 0


def test_empty_states_count_nothing() -> None:
    assert run(MaxTrialsCallback(1, states=()), [C, F]).stop_calls == 0
    assert run(MaxTrialsCallback(0, states=()), [C, F]).stop_calls == 1


def test_arguments_are_kept() -> None:
    callback = MaxTrialsCallback(7, states=None)
    assert callback._n_trials == 7
    assert callback._states is None
    assert "n_trials=7" in repr(callback)


def test_same_decisions_as_optuna() -> None:
    # Optuna's callback on a real Optuna study decides the same as ours on the same states.
    sequences = [[C, F, C, P, C], [F, F, P], [C] * 4, []]
    for states in [(C,), (F, P), None, ()]:
        for n_trials in range(6):
            for seq in sequences:
                optuna_study = optuna.create_study()
                for s in seq:
                    kwargs: dict[str, Any] = {"value": 1.0} if s == C else {}
                    optuna_study.add_trial(
                        optuna.trial.create_trial(state=optuna.trial.TrialState(s.value), **kwargs)
                    )
                stopped: list[bool] = []
                optuna_study.stop = functools.partial(stopped.append, True)  # type: ignore[method-assign]
                optuna_states = (
                    None if states is None else tuple(optuna.trial.TrialState(s) for s in states)
                )
                optuna.study.MaxTrialsCallback(n_trials, states=optuna_states)(
                    optuna_study, optuna.trial.create_trial(value=1.0)
                )
                ours = run(MaxTrialsCallback(n_trials, states=states), seq)
                assert ours.stop_calls == len(stopped), (states, n_trials, seq)


def test_stops_a_real_optimize_loop() -> None:
    import skipjack

    skipjack.logging.set_verbosity(skipjack.logging.WARNING)

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number % 2:
            raise skipjack.TrialPruned()
        return x

    study = skipjack.create_study()
    study.optimize(objective, n_trials=50, callbacks=[MaxTrialsCallback(3)])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 3
    assert len(study.trials) == 5
