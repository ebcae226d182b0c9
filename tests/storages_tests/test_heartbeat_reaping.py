"""Stale trials are failed by any live worker, once each, however many workers reap at once."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import pathlib
import threading
import time
from typing import Any
import warnings

import pytest

import skipjack
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages._base import BaseStorage
from skipjack.storages._callbacks import RetryHeartbeatStaleTrialCallback
from skipjack.storages._heartbeat import BaseHeartbeat
from skipjack.storages._heartbeat import HeartbeatThread
from skipjack.storages._heartbeat import _reap
from skipjack.storages._heartbeat import fail_stale_trials
from skipjack.storages._in_memory import InMemoryStorage
from skipjack.storages._rdb import RDBStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.study.study import Study
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

_Callback = Callable[[Study, FrozenTrial], None]


class _Recorder:
    """A failed-trial callback that remembers the numbers it was called with."""

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        assert trial.state == TrialState.FAIL
        with self._lock:
            self.numbers.append(trial.number)


class _FakeHeartbeatStorage(InMemoryStorage, BaseHeartbeat):
    """In-memory storage whose stale trials are whatever the test says."""

    def __init__(self, callback: _Callback | None, exclusive_fail: bool = True) -> None:
        super().__init__()
        self.stale: list[int] = []
        self.callback = callback
        self.exclusive_fail = exclusive_fail

    def record_heartbeat(self, trial_id: int) -> None:
        pass

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        return list(self.stale)

    def get_heartbeat_interval(self) -> int | None:
        return 1

    def get_failed_trial_callback(self) -> _Callback | None:
        return self.callback

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        if not self.exclusive_fail and state == TrialState.FAIL:
            # Like a log-structured storage: a second FAIL is appended and also "succeeds".
            if self.get_trial(trial_id).state == TrialState.FAIL:
                return True
        return super().set_trial_state_values(trial_id, state, values)


def _running_trial(study: Study) -> int:
    return study._storage.create_new_trial(study._study_id)


def test_a_trial_finished_meanwhile_is_skipped_without_error() -> None:
    recorder = _Recorder()
    study = skipjack.create_study(storage=_FakeHeartbeatStorage(recorder))
    storage = study._storage
    assert isinstance(storage, _FakeHeartbeatStorage)
    done, stale = _running_trial(study), _running_trial(study)
    storage.set_trial_state_values(done, TrialState.COMPLETE, [1.0])
    storage.stale = [done, stale]  # `done` finished between the stale query and the write
    fail_stale_trials(study)
    assert storage.get_trial(done).state == TrialState.COMPLETE
    assert storage.get_trial(stale).state == TrialState.FAIL
    assert recorder.numbers == [storage.get_trial(stale).number]


def test_errors_other_than_a_lost_race_are_not_swallowed() -> None:
    class Broken(_FakeHeartbeatStorage):
        def set_trial_state_values(
            self, trial_id: int, state: TrialState, values: Any = None
        ) -> bool:
            raise RuntimeError("disk on fire")

    study = skipjack.create_study(storage=Broken(_Recorder()))
    storage = study._storage
    assert isinstance(storage, Broken)
    storage.stale = [_running_trial(study)]
    with pytest.raises(RuntimeError, match="disk on fire"):
        fail_stale_trials(study)


def test_a_claim_decides_who_runs_the_callback_when_fail_writes_are_not_exclusive() -> None:
    recorder = _Recorder()
    study = skipjack.create_study(storage=_FakeHeartbeatStorage(recorder, exclusive_fail=False))
    storage = study._storage
    assert isinstance(storage, _FakeHeartbeatStorage)
    worker_a, worker_b = _running_trial(study), _running_trial(study)
    stale = [_running_trial(study) for _ in range(3)]
    storage.stale = stale
    _reap(study, claimant=worker_a)
    _reap(study, claimant=worker_b)
    assert sorted(recorder.numbers) == sorted(storage.get_trial(t).number for t in stale)
    assert storage.get_claims(study._study_id) == {f"stale:{t}": worker_a for t in stale}


def test_storages_without_heartbeats_are_left_alone() -> None:
    study = skipjack.create_study()
    trial_id = _running_trial(study)
    fail_stale_trials(study)
    assert study._storage.get_trial(trial_id).state == TrialState.RUNNING


# ---- real storages ---------------------------------------------------------------------------


def _make_storage(
    kind: str, path: pathlib.Path, callback: _Callback | None, grace: int = 1
) -> BaseStorage:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if kind == "sqlite":
            return RDBStorage(
                f"sqlite:///{path}/reap.db",
                heartbeat_interval=1,
                grace_period=grace,
                failed_trial_callback=callback,
            )
        return JournalStorage(
            JournalFileBackend(str(path / "reap.log")),
            heartbeat_interval=1,
            grace_period=grace,
            failed_trial_callback=callback,
        )


@pytest.fixture(params=["sqlite", "journal"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _dispose(storage: BaseStorage) -> None:
    if isinstance(storage, RDBStorage):
        storage.engine.dispose()


@pytest.fixture
def storages(kind: str, tmp_path: pathlib.Path) -> Iterator[list[BaseStorage]]:
    made: list[BaseStorage] = []
    yield made
    for storage in made:
        _dispose(storage)


def test_many_workers_reaping_at_once_retry_each_stale_trial_once(
    kind: str, tmp_path: pathlib.Path, storages: list[BaseStorage]
) -> None:
    n_workers, n_stale = 4, 3
    retry = RetryHeartbeatStaleTrialCallback()
    # A grace period of 2 s: SQLite stamps heartbeats to the second, and the reaping below must
    # not find the workers' own trials stale on a loaded machine.
    storages.extend(_make_storage(kind, tmp_path, retry, grace=2) for _ in range(n_workers))
    skipjack.create_study(study_name="reap", storage=storages[0])
    # Each "worker" has its own storage object (its own connection pool or log replay), as
    # separate processes would, and a trial of its own in progress.
    studies = [skipjack.load_study(study_name="reap", storage=s) for s in storages]
    own = [_running_trial(study) for study in studies]
    for study, trial_id in zip(studies, own):
        assert isinstance(study._storage, BaseHeartbeat)
        study._storage.record_heartbeat(trial_id)
    dead = [_running_trial(studies[0]) for _ in range(n_stale)]
    for study in studies:
        fail_stale_trials(study)  # a first look: nothing is stale yet
    time.sleep(3.2)

    barrier = threading.Barrier(n_workers)
    errors: list[BaseException] = []

    def work(study: Study, claimant: int) -> None:
        try:
            assert isinstance(study._storage, BaseHeartbeat)
            study._storage.record_heartbeat(claimant)
            barrier.wait(timeout=10)
            _reap(study, claimant=claimant)
        except BaseException as e:  # noqa: BLE001 -- reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work, args=args) for args in zip(studies, own)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []

    trials = skipjack.load_study(study_name="reap", storage=storages[0]).trials
    by_id = {t._trial_id: t for t in trials}
    assert all(by_id[t].state == TrialState.FAIL for t in dead)
    assert all(by_id[t].state == TrialState.RUNNING for t in own)
    retried = sorted(
        n
        for t in trials
        if (n := RetryHeartbeatStaleTrialCallback.retried_trial_number(t)) is not None
    )
    assert retried == sorted(by_id[t].number for t in dead)
    assert all(t.state == TrialState.WAITING for t in trials if t.number > max(retried))


def test_a_running_worker_reaps_while_its_trial_runs(
    kind: str, tmp_path: pathlib.Path, storages: list[BaseStorage]
) -> None:
    recorder = _Recorder()
    storages.append(_make_storage(kind, tmp_path, recorder, grace=2))
    study = skipjack.create_study(storage=storages[0])
    dead = _running_trial(study)  # its worker died before its first heartbeat
    trial = study.ask()  # starts this worker's heartbeat thread
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not recorder.numbers:
        time.sleep(0.1)
    dead_trial = study._storage.get_trial(dead)
    assert dead_trial.state == TrialState.FAIL
    assert recorder.numbers == [dead_trial.number]
    # The reaping worker's own trial, which keeps beating, is untouched.
    assert study._storage.get_trial(trial._trial_id).state == TrialState.RUNNING
    study.tell(trial, 1.0)
    assert study._storage.get_trial(trial._trial_id).state == TrialState.COMPLETE


def test_the_heartbeat_thread_survives_a_failing_callback(
    kind: str, tmp_path: pathlib.Path, storages: list[BaseStorage]
) -> None:
    calls: list[int] = []

    def broken(study: Study, trial: FrozenTrial) -> None:
        calls.append(trial.number)
        raise RuntimeError("callback bug")

    storages.append(_make_storage(kind, tmp_path, broken, grace=2))
    study = skipjack.create_study(storage=storages[0])
    own = _running_trial(study)
    first, second = _running_trial(study), None
    with HeartbeatThread(own, study):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not calls:
            time.sleep(0.1)
        second = _running_trial(study)
        while time.monotonic() < deadline and len(calls) < 2:
            time.sleep(0.1)
    storage = study._storage
    assert calls == [storage.get_trial(first).number, storage.get_trial(second).number]
    assert storage.get_trial(own).state == TrialState.RUNNING


def test_update_finished_trial_error_is_what_a_lost_race_raises(
    kind: str, tmp_path: pathlib.Path, storages: list[BaseStorage]
) -> None:
    # The reaper relies on this: failing a trial another worker already failed raises
    # UpdateFinishedTrialError or returns False, on the real storages.
    storages.append(_make_storage(kind, tmp_path, None))
    study = skipjack.create_study(storage=storages[0])
    trial_id = _running_trial(study)
    assert study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
    try:
        changed = study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
    except UpdateFinishedTrialError:
        changed = False
    assert changed is False
