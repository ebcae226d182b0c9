"""JournalFileBackend: incremental reads, partial and torn lines, interop of repaired files."""

from __future__ import annotations

from collections.abc import Iterator
import logging
import os

import optuna
from optuna.storages import journal as optuna_journal
import pytest

from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalFileOpenLock
from skipjack.storages.journal import JournalStorage
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState


@pytest.fixture
def messages() -> Iterator[list[str]]:
    """Warnings logged by skipjack (its library logger does not propagate to the root)."""
    texts: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            texts.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    root = logging.getLogger("skipjack")
    root.addHandler(handler)
    try:
        yield texts
    finally:
        root.removeHandler(handler)


def _record(i: int) -> dict[str, object]:
    return {"op_code": 3, "worker_id": "w", "study_id": 0, "system_attr": {"k": i}}


def test_read_returns_records_from_a_number(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    backend = JournalFileBackend(path)
    backend.append_logs([_record(0), _record(1)])
    backend.append_logs([_record(2)])
    assert [r["system_attr"] for r in backend.read_logs(0)] == [{"k": 0}, {"k": 1}, {"k": 2}]
    assert [r["system_attr"] for r in backend.read_logs(2)] == [{"k": 2}]
    assert list(backend.read_logs(3)) == []
    # A fresh backend that starts mid-log finds the offsets itself.
    assert [r["system_attr"] for r in JournalFileBackend(path).read_logs(1)] == [
        {"k": 1},
        {"k": 2},
    ]


def test_records_are_compact_json_lines(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    JournalFileBackend(path).append_logs([_record(0), {"op_code": 7, "v": float("nan")}])
    with open(path, "rb") as f:
        assert f.read() == (
            b'{"op_code":3,"worker_id":"w","study_id":0,"system_attr":{"k":0}}\n'
            b'{"op_code":7,"v":NaN}\n'
        )


def test_later_reads_touch_only_new_bytes(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    backend = JournalFileBackend(path)
    backend.append_logs([_record(0)])
    assert len(list(backend.read_logs(0))) == 1
    # Corrupt the record already read, keeping its length: a reader that re-read old bytes
    # would fail or see different data.
    with open(path, "r+b") as f:
        line = f.readline()
        f.seek(0)
        f.write(b"x" * (len(line) - 1))
    backend.append_logs([_record(1)])
    assert [r["system_attr"] for r in backend.read_logs(1)] == [{"k": 1}]


def _keys(records: list[dict[str, object]]) -> list[object]:
    return [r["system_attr"]["k"] for r in records]  # type: ignore[index]


def test_a_writer_reads_others_records_around_its_own(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    a, b = JournalFileBackend(path), JournalFileBackend(path)
    a.append_logs([_record(0)])
    b.append_logs_deferred([_record(1)])
    assert _keys(a.read_logs(0)) == [0]  # the log as it stood after a's own append
    assert _keys(a.read_logs(1)) == [1]
    a.append_logs_deferred([_record(2)])
    assert _keys(a.read_logs(2)) == [2]
    b.append_logs([_record(3)])
    a.append_logs_deferred([_record(4)])  # a has not read record 3 yet
    assert _keys(a.read_logs(3)) == [3, 4]
    a.append_logs([_record(5)])
    b.append_logs([_record(6)])  # lands after a's own record, before a reads
    # a's first read since its append shows the log as it stood right after it; then the rest.
    assert _keys(a.read_logs(5)) == [5]
    assert _keys(a.read_logs(6)) == [6]
    assert _keys(b.read_logs(0)) == list(range(7))


def test_own_append_is_read_back_from_memory(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    backend = JournalFileBackend(path)
    backend.append_logs([_record(0)])
    backend.read_logs(0)
    backend.append_logs_deferred([_record(1)])
    # Change the appended bytes (same length) behind the backend's back: a reader that read
    # them from the file would return the changed record.
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(data.rindex(b'"k":1'))
        f.write(b'"k":9')
    assert _keys(backend.read_logs(1)) == [1]
    assert _keys(JournalFileBackend(path).read_logs(1)) == [9]


def test_an_unfinished_last_line_is_left_for_later(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    backend = JournalFileBackend(path)
    backend.append_logs([_record(0)])
    with open(path, "ab") as f:
        f.write(b'{"op_code":3,"worker_id":"w","stu')
    assert len(list(backend.read_logs(0))) == 1
    with open(path, "ab") as f:
        f.write(b'dy_id":0,"system_attr":{"k":1}}\n')
    assert [r["system_attr"] for r in backend.read_logs(1)] == [{"k": 1}]


def test_a_malformed_line_before_good_ones_is_skipped(
    tmp_path: os.PathLike[str], messages: list[str]
) -> None:
    path = os.path.join(tmp_path, "log")
    backend = JournalFileBackend(path)
    backend.append_logs([_record(0)])
    garbage_at = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(b"{not json\n")
    assert len(list(JournalFileBackend(path).read_logs(0))) == 1  # last line: maybe in flux
    backend.append_logs([_record(1)])
    assert [r["system_attr"] for r in JournalFileBackend(path).read_logs(0)] == [
        {"k": 0},
        {"k": 1},
    ]
    assert any(str(garbage_at) in m and path in m for m in messages)


@pytest.mark.parametrize("lock", ["symlink", "open"])
def test_torn_last_line_is_cut_before_the_next_append(
    tmp_path: os.PathLike[str], messages: list[str], lock: str
) -> None:
    path = os.path.join(tmp_path, "log")
    lock_obj = JournalFileOpenLock(path) if lock == "open" else None
    storage = JournalStorage(JournalFileBackend(path, lock_obj=lock_obj))
    study_id = storage.create_new_study([StudyDirection.MINIMIZE], "torn")
    first = storage.create_new_trial(study_id)
    storage.set_trial_state_values(first, TrialState.COMPLETE, [1.0])
    torn_at = os.path.getsize(path)
    with open(path, "ab") as f:  # a writer killed in the middle of a record
        f.write(b'{"op_code":4,"worker_id":"dead","study_id":0,"datetime_st')

    second = storage.create_new_trial(study_id)
    storage.set_trial_state_values(second, TrialState.COMPLETE, [2.0])

    assert any(path in m and f"byte offset {torn_at}" in m for m in messages)
    with open(path, "rb") as f:
        assert b'"dead"' not in f.read()
    reread = JournalStorage(JournalFileBackend(path))
    assert [t.values for t in reread.get_all_trials(study_id)] == [[1.0], [2.0]]
    theirs = optuna.storages.JournalStorage(optuna_journal.JournalFileBackend(path))
    assert [t.values for t in theirs.get_all_trials(study_id)] == [[1.0], [2.0]]


def test_optunas_writer_can_append_after_a_repair(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    storage = JournalStorage(JournalFileBackend(path))
    study_id = storage.create_new_study([StudyDirection.MINIMIZE], "mixed")
    with open(path, "ab") as f:
        f.write(b'{"op_code":4,"wor')
    storage.create_new_trial(study_id)  # repairs, then appends
    theirs = optuna.storages.JournalStorage(optuna_journal.JournalFileBackend(path))
    theirs.create_new_trial(study_id)
    assert len(JournalStorage(JournalFileBackend(path)).get_all_trials(study_id)) == 2


def test_storage_reads_only_new_records(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    backend = JournalFileBackend(path)
    asked: list[int] = []
    original = backend.read_logs

    def spy(log_number_from: int) -> list[dict[str, object]]:
        asked.append(log_number_from)
        return original(log_number_from)

    backend.read_logs = spy  # type: ignore[method-assign]
    storage = JournalStorage(backend)
    study_id = storage.create_new_study([StudyDirection.MINIMIZE])
    for _ in range(3):
        storage.create_new_trial(study_id)
    storage.get_all_trials(study_id)
    assert asked == sorted(asked)
    assert asked[-1] == 4  # one study record and three trial records were read before


def test_pickled_storage_replays_the_file(tmp_path: os.PathLike[str]) -> None:
    import pickle

    path = os.path.join(tmp_path, "log")
    storage = JournalStorage(JournalFileBackend(path, JournalFileOpenLock(path)))
    study_id = storage.create_new_study([StudyDirection.MAXIMIZE], "p")
    storage.create_new_trial(study_id)
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.get_study_directions(study_id) == [StudyDirection.MAXIMIZE]
    assert clone._worker_id() != storage._worker_id()
    clone.create_new_trial(study_id)
    assert storage.get_n_trials(study_id) == 2


def test_deprecated_alias_warns(tmp_path: os.PathLike[str]) -> None:
    from skipjack.storages.journal._file import JournalFileStorage

    with pytest.warns(FutureWarning, match="JournalFileBackend"):
        backend = JournalFileStorage(os.path.join(tmp_path, "log"))
    assert isinstance(backend, JournalFileBackend)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform cannot fork")
def test_forked_child_writes_as_another_worker(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    storage = JournalStorage(JournalFileBackend(path))
    study_id = storage.create_new_study([StudyDirection.MINIMIZE], "fork")
    parent_worker = storage._worker_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: create a trial and report its worker id
        try:
            storage.create_new_trial(study_id)
            os.write(write, storage._worker_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    child_worker = os.read(read, 1000).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child_worker and child_worker != parent_worker
    assert storage._worker_id() == parent_worker
    own = storage.create_new_trial(study_id)
    assert storage.get_trial(own).number == 1
