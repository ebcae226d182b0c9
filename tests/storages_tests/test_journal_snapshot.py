"""Replay snapshots: a reader starting from one sees exactly what a full replay sees."""

from __future__ import annotations

import os

import optuna
import pytest

import skipjack
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.storages.journal import _storage
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

from .test_journal_interop import Opener
from .test_journal_interop import open_storage  # noqa: F401 -- a fixture
from .test_journal_interop import populate
from .test_journal_interop import redis_prefix  # noqa: F401 -- a fixture
from .test_journal_interop import snapshot


def test_snapshot_gives_the_same_state_as_a_full_replay(open_storage: Opener) -> None:  # noqa: F811
    writer = open_storage(skipjack)
    populate(skipjack, writer)
    writer.claim(1, "grid-3", 2)
    writer._save_snapshot()
    covered = writer._n_read
    # Records after the snapshot are replayed on top of it.
    late = writer.create_new_trial(1)
    writer.set_trial_state_values(late, TrialState.COMPLETE, [7.0])

    reader = open_storage(skipjack)
    assert reader._snapshot_at == covered  # it started from the snapshot
    full = snapshot(optuna, open_storage(optuna))
    assert snapshot(skipjack, reader) == full
    assert reader.get_claims(1) == {"grid-3": 2}
    assert reader.get_best_trial(1).values == writer.get_best_trial(1).values
    trials, watermark = reader.get_finished_trials_since(1, 0)
    assert [t._trial_id for t in trials] == [
        t._trial_id for t in writer.get_finished_trials_since(1, 0)[0]
    ]
    # The reader keeps working normally: it writes, and other readers see its writes.
    reader.set_trial_user_attr(reader.create_new_trial(1), "after", True)
    assert snapshot(skipjack, open_storage(skipjack)) == snapshot(optuna, open_storage(optuna))


def test_snapshot_of_another_log_is_ignored(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    storage = JournalStorage(JournalFileBackend(path))
    storage.create_new_study([StudyDirection.MINIMIZE], "old")
    storage._save_snapshot()
    assert os.path.exists(path + ".skipjack-snapshot")
    os.unlink(path)  # the log is replaced by a new one; its stale snapshot stays behind
    fresh = JournalStorage(JournalFileBackend(path))
    fresh.create_new_study([StudyDirection.MINIMIZE], "new")
    reopened = JournalStorage(JournalFileBackend(path))
    assert reopened._snapshot_at == 0
    assert [s.study_name for s in reopened.get_all_studies()] == ["new"]


def test_unreadable_snapshot_is_ignored(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    storage = JournalStorage(JournalFileBackend(path))
    storage.create_new_study([StudyDirection.MINIMIZE], "s")
    storage._save_snapshot()
    with open(path + ".skipjack-snapshot", "r+b") as f:
        header = f.readline()
        f.write(b"{garbage")
    assert header.startswith(b"{")
    reopened = JournalStorage(JournalFileBackend(path))
    assert [s.study_name for s in reopened.get_all_studies()] == ["s"]


def test_snapshots_are_saved_as_the_log_grows(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_storage, "_SNAPSHOT_RECORDS", 20)
    path = os.path.join(tmp_path, "log")
    storage = JournalStorage(JournalFileBackend(path))
    study_id = storage.create_new_study([StudyDirection.MINIMIZE])
    for _ in range(10):
        storage.create_new_trial(study_id)
    assert not os.path.exists(path + ".skipjack-snapshot")
    for _ in range(10):
        storage.create_new_trial(study_id)
    assert os.path.exists(path + ".skipjack-snapshot")
    assert storage._snapshot_at == 20  # the study record and 19 trials
    reopened = JournalStorage(JournalFileBackend(path))
    assert reopened._snapshot_at == 20
    assert reopened.get_n_trials(study_id) == 20
