from __future__ import annotations

import copy
import datetime
from typing import Any

import optuna
import pytest

from skipjack.study._frozen import FrozenStudy
from skipjack.study._study_direction import StudyDirection
from skipjack.study._study_summary import StudySummary
from skipjack.study._study_summary import _build_summaries
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)

MIN = StudyDirection.MINIMIZE
MAX = StudyDirection.MAXIMIZE


class FakeStorage:
    """The two reads _build_summaries makes, over studies held in memory."""

    def __init__(self) -> None:
        self.studies: list[FrozenStudy] = []
        self.trials: dict[int, list[FrozenTrial]] = {}
        self.deepcopy_args: list[bool] = []

    def add_study(
        self, name: str, directions: list[StudyDirection], user_attrs: dict[str, Any] | None = None
    ) -> int:
        study_id = len(self.studies)
        direction = directions[0] if len(directions) == 1 else None
        self.studies.append(
            FrozenStudy(
                name,
                direction,
                user_attrs or {},
                {},
                study_id,
                directions=None if direction else directions,
            )
        )
        self.trials[study_id] = []
        return study_id

    def add_trial(self, study_id: int, trial: FrozenTrial) -> None:
        trial.number = len(self.trials[study_id])
        trial._trial_id = 100 * study_id + trial.number
        self.trials[study_id].append(trial)

    def get_all_studies(self) -> list[FrozenStudy]:
        return list(self.studies)

    def get_all_trials(
        self, study_id: int, deepcopy: bool = True, states: Any = None
    ) -> list[FrozenTrial]:
        self.deepcopy_args.append(deepcopy)
        trials = [t for t in self.trials[study_id] if states is None or t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials


def at(minute: int) -> datetime.datetime:
    return datetime.datetime(2024, 5, 1, 12, minute)


def timed(trial: FrozenTrial, minute: int | None) -> FrozenTrial:
    trial.datetime_start = None if minute is None else at(minute)
    return trial


# ---- StudySummary ----------------------------------------------------------------------------
def test_attributes_and_direction() -> None:
    best = create_trial(value=1.0)
    summary = StudySummary("s", MAX, best, {"k": 1}, 4, at(0), 7)
    assert summary.study_name == "s"
    assert summary.direction == MAX
    assert summary.directions == [MAX]
    assert summary.best_trial is best
    assert summary.user_attrs == {"k": 1}
    assert summary.n_trials == 4
    assert summary.datetime_start == at(0)
    assert summary._study_id == 7


def test_multi_objective_has_no_direction() -> None:
    summary = StudySummary("s", None, None, {}, 0, None, 0, directions=[MIN, MAX])
    assert summary.directions == [MIN, MAX]
    with pytest.raises(RuntimeError):
        _ = summary.direction


def test_needs_a_direction() -> None:
    with pytest.raises(ValueError):
        StudySummary("s", None, None, {}, 0, None, 0)


def test_directions_win_over_direction_like_optuna() -> None:
    ours = StudySummary("s", MIN, None, {}, 0, None, 0, directions=[MAX, MAX])
    theirs = optuna.study.StudySummary(
        "s",
        optuna.study.StudyDirection.MINIMIZE,
        None,
        {},
        0,
        None,
        0,
        directions=[optuna.study.StudyDirection.MAXIMIZE] * 2,
    )
    assert [d.value for d in ours.directions] == [d.value for d in theirs.directions]


def test_equality_and_ordering() -> None:
    a = StudySummary("a", MIN, None, {}, 1, at(0), 1)
    assert a == StudySummary("a", MIN, None, {}, 1, at(0), 1)
    assert a != StudySummary("a", MIN, None, {}, 2, at(0), 1)
    assert a != StudySummary("a", MAX, None, {}, 1, at(0), 1)
    assert a != "a"
    b = StudySummary("0", MIN, None, {}, 1, at(0), 2)
    assert a < b and a <= b and not b < a and b >= a
    assert sorted([b, a]) == [a, b]
    with pytest.raises(TypeError):
        _ = a < 3  # type: ignore[operator]
    with pytest.raises(TypeError):
        hash(a)


# ---- _build_summaries ------------------------------------------------------------------------
def populated_storage() -> FakeStorage:
    storage = FakeStorage()
    single = storage.add_study("single", [MAX], {"owner": "me"})
    for value, minute in [(1.0, 5), (3.0, 2), (3.0, 9)]:
        storage.add_trial(single, timed(create_trial(value=value), minute))
    storage.add_trial(single, timed(create_trial(state=TrialState.FAIL), 1))
    storage.add_trial(single, timed(create_trial(state=TrialState.WAITING), None))
    storage.add_study("empty", [MIN])
    waiting = storage.add_study("waiting", [MIN])
    storage.add_trial(waiting, timed(create_trial(state=TrialState.WAITING), None))
    multi = storage.add_study("multi", [MIN, MAX])
    storage.add_trial(multi, timed(create_trial(values=[1.0, 2.0]), 30))
    return storage


def test_build_summaries() -> None:
    storage = populated_storage()
    summaries = _build_summaries(storage, include_best_trial=True)  # type: ignore[arg-type]
    assert [s.study_name for s in summaries] == ["single", "empty", "waiting", "multi"]

    single, empty, waiting, multi = summaries
    assert single.n_trials == 5
    assert single.datetime_start == at(1)  # the earliest start, whatever the state
    assert single.user_attrs == {"owner": "me"}
    assert single.direction == MAX
    # The maximum value; among ties the first trial, as Python's max() picks.
    assert single.best_trial is not None and single.best_trial.number == 1
    # The best trial is a copy: changing it does not reach the storage.
    assert single.best_trial is not storage.trials[0][1]
    assert single.best_trial == storage.trials[0][1]

    assert (empty.n_trials, empty.datetime_start, empty.best_trial) == (0, None, None)
    assert (waiting.n_trials, waiting.datetime_start, waiting.best_trial) == (1, None, None)
    assert multi.directions == [MIN, MAX]
    assert multi.best_trial is None
    assert multi.datetime_start == at(30)
    assert [s._study_id for s in summaries] == [0, 1, 2, 3]
    assert not any(storage.deepcopy_args)


def test_build_summaries_without_best_trial() -> None:
    summaries = _build_summaries(populated_storage(), include_best_trial=False)  # type: ignore[arg-type]
    assert all(s.best_trial is None for s in summaries)
    assert summaries[0].n_trials == 5


def test_minimize_picks_smallest_and_first_among_ties() -> None:
    storage = FakeStorage()
    sid = storage.add_study("s", [MIN])
    for value in [2.0, -1.0, 5.0, -1.0]:
        storage.add_trial(sid, timed(create_trial(value=value), 0))
    (summary,) = _build_summaries(storage, include_best_trial=True)  # type: ignore[arg-type]
    assert summary.best_trial is not None and summary.best_trial.number == 1


@pytest.mark.parametrize("include_best_trial", [True, False])
def test_matches_optuna_get_all_study_summaries(include_best_trial: bool) -> None:
    optuna_storage = optuna.storages.InMemoryStorage()
    create = optuna.trial.create_trial
    state = optuna.trial.TrialState
    s1 = optuna.create_study(storage=optuna_storage, study_name="one", direction="maximize")
    s1.set_user_attr("owner", "me")
    for v in [0.5, 4.0, -2.0, 4.0]:
        s1.add_trial(create(value=v))
    s1.add_trial(create(state=state.PRUNED))
    optuna.create_study(storage=optuna_storage, study_name="two")
    s3 = optuna.create_study(
        storage=optuna_storage, study_name="three", directions=["minimize"] * 2
    )
    s3.add_trial(create(values=[1.0, 1.0]))
    s4 = optuna.create_study(storage=optuna_storage, study_name="four")
    s4.add_trial(create(state=state.WAITING))
    expected = optuna.get_all_study_summaries(optuna_storage, include_best_trial)

    # The same studies and trials, converted field by field.
    storage = FakeStorage()
    for frozen in optuna_storage.get_all_studies():
        sid = storage.add_study(
            frozen.study_name,
            [StudyDirection(d.value) for d in frozen.directions],
            dict(frozen.user_attrs),
        )
        for t in optuna_storage.get_all_trials(frozen._study_id):
            trial = create_trial(state=TrialState(t.state.value), values=t.values)
            trial.datetime_start = t.datetime_start
            trial.datetime_complete = t.datetime_complete
            storage.add_trial(sid, trial)
    ours = _build_summaries(storage, include_best_trial)  # type: ignore[arg-type]

    assert len(ours) == len(expected)
    for a, b in zip(ours, expected):
        assert a.study_name == b.study_name
        assert a.n_trials == b.n_trials
        assert a.datetime_start == b.datetime_start
        assert a.user_attrs == b.user_attrs
        assert [d.value for d in a.directions] == [d.value for d in b.directions]
        assert (a.best_trial is None) == (b.best_trial is None)
        if a.best_trial is not None and b.best_trial is not None:
            assert a.best_trial.number == b.best_trial.number
            assert a.best_trial.value == b.best_trial.value
        if len(b.directions) == 1:
            assert a.direction.value == b.direction.value
        else:
            with pytest.raises(RuntimeError):
                _ = a.direction
