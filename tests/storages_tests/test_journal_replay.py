"""Replay rules of the journal, on hand-written records (Optuna's and other tools' logs)."""

from __future__ import annotations

from typing import Any

import pytest

from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import DuplicatedStudyError
from skipjack.exceptions import StorageInternalError
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages.journal import BaseJournalBackend
from skipjack.storages.journal import JournalStorage
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

START = "2024-05-06T07:08:09.000000+00:00"
END = "2024-05-06T07:09:10.000000+00:00"
X = '{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 1.0, "log": false}}'  # noqa: E501


class ListBackend(BaseJournalBackend):
    """A journal in a Python list: enough to test replay."""

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self.records = list(records or [])

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        return self.records[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self.records.extend(logs)


def rec(op: int, worker: str = "other", **fields: Any) -> dict[str, Any]:
    return {"op_code": op, "worker_id": worker, **fields}


def study_record(name: str = "s") -> dict[str, Any]:
    return rec(0, study_name=name, directions=[1])


def trial_record(study_id: int = 0) -> dict[str, Any]:
    return rec(4, study_id=study_id, datetime_start=START)


def finish_record(trial_id: int, value: float) -> dict[str, Any]:
    return rec(6, trial_id=trial_id, state=1, values=[value], datetime_complete=END)


def test_ids_follow_log_order_and_deleted_studies_keep_trial_ids() -> None:
    backend = ListBackend(
        [
            study_record("a"),
            trial_record(0),
            rec(1, study_id=0),
            study_record("b"),
            trial_record(1),
            trial_record(7),  # unknown study: skipped, takes no id
            trial_record(1),
        ]
    )
    storage = JournalStorage(backend)
    assert storage.get_study_id_from_name("b") == 1
    trials = storage.get_all_trials(1)
    assert [(t._trial_id, t.number) for t in trials] == [(1, 0), (2, 1)]
    with pytest.raises(KeyError):
        storage.get_study_id_from_name("a")
    # The name of a deleted study is free again; the id is not reused.
    assert storage.create_new_study([StudyDirection.MINIMIZE], "a") == 2


def test_other_workers_conflicting_records_are_skipped() -> None:
    backend = ListBackend(
        [
            study_record(),
            study_record(),  # duplicate name
            trial_record(),
            finish_record(0, 1.0),
            finish_record(0, 2.0),  # already finished
            rec(8, trial_id=0, user_attr={"late": 1}),
            rec(8, trial_id=99, user_attr={"ghost": 1}),
        ]
    )
    storage = JournalStorage(backend)
    assert len(storage.get_all_studies()) == 1
    trial = storage.get_trial(0)
    assert trial.values == [1.0]
    assert trial.user_attrs == {}


def test_own_conflicting_records_raise_after_replay() -> None:
    backend = ListBackend([study_record(), trial_record()])
    storage = JournalStorage(backend)
    other = JournalStorage(backend)
    # Another worker finishes the trial after our last look; our write then conflicts.
    other.set_trial_state_values(0, TrialState.COMPLETE, [1.0])
    with pytest.raises(UpdateFinishedTrialError):
        storage.set_trial_user_attr(0, "k", "v")
    assert storage.get_trial(0).user_attrs == {}
    with pytest.raises(DuplicatedStudyError):
        storage.create_new_study([StudyDirection.MINIMIZE], "s")


def test_first_running_record_wins() -> None:
    waiting = rec(4, study_id=0, datetime_start=None, state=int(TrialState.WAITING))
    backend = ListBackend([study_record(), waiting])
    mine, theirs = JournalStorage(backend), JournalStorage(backend)
    assert theirs.set_trial_state_values(0, TrialState.RUNNING) is True
    assert mine.set_trial_state_values(0, TrialState.RUNNING) is False
    # Both RUNNING records reach the log when the writers race; the first one counts.
    backend.append_logs([rec(6, "late", trial_id=0, state=0, values=None, datetime_start=END)])
    assert JournalStorage(backend).get_trial(0).datetime_start == theirs.get_trial(0).datetime_start


def test_incompatible_param_of_another_worker_is_dropped() -> None:
    ints = (
        '{"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": 0, "high": 3}}'
    )
    backend = ListBackend(
        [
            study_record(),
            trial_record(),
            trial_record(),
            rec(5, trial_id=0, param_name="x", param_value_internal=0.5, distribution=X),
            rec(5, trial_id=1, param_name="x", param_value_internal=2, distribution=ints),
        ]
    )
    storage = JournalStorage(backend)
    assert storage.get_trial(0).params == {"x": 0.5}
    assert storage.get_trial(1).params == {}
    with pytest.raises(ValueError):
        storage.set_trial_param(1, "x", 2, IntDistribution(0, 3))


def test_unknown_fields_naive_datetimes_and_abbreviated_distributions_are_read() -> None:
    backend = ListBackend(
        [
            study_record(),
            rec(4, study_id=0, datetime_start="2024-05-06T07:08:09", user_attr_str="extra"),
            rec(
                5,
                trial_id=0,
                param_name="c",
                param_value_internal=1,
                distribution='{"type": "categorical", "choices": ["a", "b"]}',
                extra_field=[1, 2],
            ),
            rec(10, trial_ids=[0]),  # Rustuna's DISCARD_TRIALS: skipped, as Optuna 5.0 does
        ]
    )
    trial = JournalStorage(backend).get_trial(0)
    assert trial.params == {"c": "b"}
    assert trial.distributions == {"c": CategoricalDistribution(["a", "b"])}
    assert trial.datetime_start is not None
    assert (trial.datetime_start.hour, trial.datetime_start.second) == (7, 9)


def test_unknown_op_code_raises_a_clear_error() -> None:
    backend = ListBackend([study_record(), rec(11, study_id=0)])
    with pytest.raises(StorageInternalError, match="op code 11"):
        JournalStorage(backend)


def test_claims_ride_on_study_system_attr_records() -> None:
    backend = ListBackend([study_record(), trial_record(), trial_record()])
    first, second = JournalStorage(backend), JournalStorage(backend)
    # Two claim records race into the log; the first in log order wins for every reader.
    backend.append_logs(
        [
            rec(3, study_id=0, system_attr={"skipjack:claim:grid-1": 1}),
            rec(3, study_id=0, system_attr={"skipjack:claim:grid-1": 0}),
        ]
    )
    assert first.claim(0, "grid-1", 0) is False
    assert second.get_claims(0) == {"grid-1": 1}
    assert first.get_study_system_attrs(0) == {}
    written = [r for r in backend.records if r["op_code"] == 3]
    assert len(written) == 2  # a lost claim that is already decided writes nothing


def test_writes_use_only_optunas_op_codes() -> None:
    backend = ListBackend()
    storage = JournalStorage(backend, heartbeat_interval=1)
    study_id = storage.create_new_study([StudyDirection.MINIMIZE])
    storage.set_study_user_attr(study_id, "a", 1)
    storage.set_study_system_attr(study_id, "b", 2)
    trial_id = storage.create_new_trial(study_id)
    storage.record_heartbeat(trial_id)
    storage.claim(study_id, "k", trial_id)
    storage.set_trial_param(trial_id, "x", 0.5, FloatDistribution(0, 1))
    storage.set_trial_intermediate_value(trial_id, 0, 1.0)
    storage.set_trial_user_attr(trial_id, "u", 1)
    storage.set_trial_system_attr(trial_id, "s", 1)
    storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])
    storage.delete_study(study_id)
    assert {r["op_code"] for r in backend.records} == set(range(10))


def test_public_names_match_optunas_journal_module() -> None:
    import optuna.storages.journal

    import skipjack.storages.journal

    assert sorted(skipjack.storages.journal.__all__) == sorted(optuna.storages.journal.__all__)
    for name in skipjack.storages.journal.__all__:
        assert hasattr(skipjack.storages.journal, name)


def test_deprecated_base_class_warns() -> None:
    from skipjack.storages.journal._base import BaseJournalLogStorage

    class Old(BaseJournalLogStorage):
        def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
            return []

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            pass

    with pytest.warns(FutureWarning, match="BaseJournalBackend"):
        backend = Old()
    assert JournalStorage(backend).get_all_studies() == []


def test_writes_to_unknown_trials_raise_before_anything_is_written() -> None:
    backend = ListBackend([study_record()])
    storage = JournalStorage(backend)
    with pytest.raises(KeyError):
        storage.set_trial_user_attr(5, "k", 1)
    with pytest.raises(KeyError):
        storage.set_trial_param(5, "x", 0.5, FloatDistribution(0, 1))
    storage.record_heartbeat(5)  # a heartbeat is never an error
    assert len(backend.records) == 1
    # A trial another worker has just created is found by reading the log first.
    backend.append_logs([trial_record()])
    storage.set_trial_user_attr(0, "k", 1)
    assert storage.get_trial(0).user_attrs == {"k": 1}
