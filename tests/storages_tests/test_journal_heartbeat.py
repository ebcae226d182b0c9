"""Heartbeats on the journal: judged on the reader's own clock, carried by ordinary records."""

from __future__ import annotations

import types
from typing import Any

import pytest

import skipjack
from skipjack.storages import fail_stale_trials
from skipjack.storages.journal import JournalStorage
from skipjack.storages.journal import _replay
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

from .test_journal_replay import ListBackend

skipjack.logging.set_verbosity(skipjack.logging.WARNING)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reader(backend: ListBackend, clock: FakeClock, **kwargs: Any) -> JournalStorage:
    """A storage whose replay runs on ``clock`` (its own monotonic clock) from the start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_replay, "time", types.SimpleNamespace(monotonic=clock))
        return JournalStorage(backend, heartbeat_interval=1, grace_period=10, **kwargs)


def test_trial_that_never_beats_is_stale_after_the_grace_period() -> None:
    backend, clock = ListBackend(), FakeClock()
    worker = JournalStorage(backend)
    study_id = worker.create_new_study([StudyDirection.MINIMIZE])
    trial_id = worker.create_new_trial(study_id)
    watcher = reader(backend, clock)
    assert watcher._get_stale_trial_ids(study_id) == []
    clock.now += 9.5
    assert watcher._get_stale_trial_ids(study_id) == []
    clock.now += 1.0
    assert watcher._get_stale_trial_ids(study_id) == [trial_id]


def test_heartbeat_records_keep_a_trial_alive_whatever_their_value() -> None:
    backend, clock = ListBackend(), FakeClock()
    worker = JournalStorage(backend)
    study_id = worker.create_new_study([StudyDirection.MINIMIZE])
    trial_id = worker.create_new_trial(study_id)
    watcher = reader(backend, clock)
    watcher._get_stale_trial_ids(study_id)
    clock.now += 8
    worker.record_heartbeat(trial_id)
    assert watcher._get_stale_trial_ids(study_id) == []
    clock.now += 8
    # The value is never compared with any clock: an odd one (another machine's clock, a
    # counter that restarted) is still a sign of life.
    backend.append_logs(
        [
            {
                "op_code": 9,
                "worker_id": "elsewhere",
                "trial_id": trial_id,
                "system_attr": {"skipjack:heartbeat": "1970-01-01"},
            }
        ]
    )
    assert watcher._get_stale_trial_ids(study_id) == []
    clock.now += 9
    assert watcher._get_stale_trial_ids(study_id) == []
    clock.now += 2
    assert watcher._get_stale_trial_ids(study_id) == [trial_id]
    # Heartbeats are not attributes users see.
    assert watcher.get_trial(trial_id).system_attrs == {}


def test_only_running_trials_go_stale() -> None:
    backend, clock = ListBackend(), FakeClock()
    worker = JournalStorage(backend)
    study_id = worker.create_new_study([StudyDirection.MINIMIZE])
    done = worker.create_new_trial(study_id)
    worker.set_trial_state_values(done, TrialState.COMPLETE, [1.0])
    waiting = FrozenTrial(
        number=-1,
        state=TrialState.WAITING,
        value=None,
        datetime_start=None,
        datetime_complete=None,
        params={},
        distributions={},
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=-1,
    )
    worker.create_new_trial(study_id, waiting)
    watcher = reader(backend, clock)
    watcher._get_stale_trial_ids(study_id)
    clock.now += 100
    assert watcher._get_stale_trial_ids(study_id) == []
    n_records = len(backend.records)
    worker.record_heartbeat(done)  # a late beat of a finished trial writes nothing
    assert len(backend.records) == n_records


def test_fail_stale_trials_fails_them_and_runs_the_callback() -> None:
    backend, clock = ListBackend(), FakeClock()
    failed: list[FrozenTrial] = []
    watcher = reader(backend, clock, failed_trial_callback=lambda s, t: failed.append(t))
    study = skipjack.create_study(storage=watcher, study_name="hb")
    dead_worker = JournalStorage(backend)
    trial_id = dead_worker.create_new_trial(study._study_id)
    live_id = dead_worker.create_new_trial(study._study_id)
    fail_stale_trials(study)
    assert failed == []
    clock.now += 5
    dead_worker.record_heartbeat(live_id)
    fail_stale_trials(study)  # reads the heartbeat at t+5
    clock.now += 6
    fail_stale_trials(study)
    assert [t._trial_id for t in failed] == [trial_id]
    assert failed[0].state == TrialState.FAIL
    assert watcher.get_trial(live_id).state == TrialState.RUNNING
    # The dead worker's late write now raises, as on every storage.
    with pytest.raises(skipjack.exceptions.UpdateFinishedTrialError):
        dead_worker.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])


def test_optimize_records_heartbeats_in_the_log() -> None:
    backend = ListBackend()
    storage = JournalStorage(backend, heartbeat_interval=1)
    study = skipjack.create_study(storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    beats = [r for r in backend.records if "skipjack:heartbeat" in r.get("system_attr", {})]
    assert {r["trial_id"] for r in beats} == {t._trial_id for t in study.trials}
    assert all(r["op_code"] == 9 for r in beats)
    assert all(t.system_attrs == {} for t in study.trials)


def test_heartbeat_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="heartbeat_interval"):
        JournalStorage(ListBackend(), heartbeat_interval=0)
    with pytest.raises(ValueError, match="grace_period"):
        JournalStorage(ListBackend(), heartbeat_interval=1, grace_period=-1)
    storage = JournalStorage(ListBackend(), heartbeat_interval=3)
    assert storage.get_heartbeat_interval() == 3
    assert storage._grace_period() == 6
    assert JournalStorage(ListBackend()).get_heartbeat_interval() is None
