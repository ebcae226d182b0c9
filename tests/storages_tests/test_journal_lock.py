"""Journal file locks: exclusion, dead holders, live holders, foreign holders."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings

import pytest

from skipjack.storages.journal import JournalFileOpenLock
from skipjack.storages.journal import JournalFileSymlinkLock
from skipjack.storages.journal._lock import _OwnedLock

LOCKS = {"symlink": JournalFileSymlinkLock, "open": JournalFileOpenLock}


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def _plant_lock(kind: str, log_path: str, owner: str | None, old_format: bool = False) -> None:
    """Leave a lock file as a holder would, with ``owner`` text (None: Optuna's bare lock).

    ``old_format``: a symlink target as skipjack wrote it before, ``<log>.skipjack-lock.<owner>``.
    """
    lock_path = log_path + ".lock"
    if kind == "symlink":
        if owner is None:
            os.symlink(log_path, lock_path)
            return
        if old_format:
            target = f"{os.path.basename(log_path)}.skipjack-lock.{owner}"
        else:
            target = f"skipjack-lock.{owner}"
        open(os.path.join(os.path.dirname(log_path), target), "wb").close()
        os.symlink(target, lock_path)
    else:
        with open(lock_path, "wb") as f:
            f.write(b"" if owner is None else owner.encode())


def _lock_text(kind: str, log_path: str) -> str:
    """What identifies the current lock: the symlink's target or the lock file's content."""
    if kind == "symlink":
        return os.readlink(log_path + ".lock")
    with open(log_path + ".lock") as f:
        return f.read()


def _start_acquiring(lock: _OwnedLock) -> threading.Event:
    """Acquire ``lock`` in a thread; the event is set once it is held."""
    done = threading.Event()

    def run() -> None:
        lock.acquire()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


def _acquire_within(lock: _OwnedLock, seconds: float) -> bool:
    return _start_acquiring(lock).wait(seconds)


def _quiet(kind: str, path: str, grace_period: int | None) -> _OwnedLock:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "grace period might be too small"
        return LOCKS[kind](path, grace_period=grace_period)


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_lock_excludes_and_releases(tmp_path: os.PathLike[str], kind: str) -> None:
    path = os.path.join(tmp_path, "log")
    open(path, "wb").close()
    first, second = LOCKS[kind](path), LOCKS[kind](path)
    assert first.acquire()
    acquired = _start_acquiring(second)
    assert not acquired.wait(0.3)
    first.release()
    assert acquired.wait(5.0)
    assert os.path.lexists(path + ".lock")
    second.release()
    with pytest.raises(RuntimeError):
        second.release()
    del first, second
    gc.collect()
    assert sorted(os.listdir(tmp_path)) == ["log"]  # nothing left behind


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_lock_of_a_dead_process_on_this_host_is_broken_at_once(
    tmp_path: os.PathLike[str], kind: str
) -> None:
    path = os.path.join(tmp_path, "log")
    open(path, "wb").close()
    _plant_lock(kind, path, f"{_dead_pid()}.{uuid.uuid4().hex}.{socket.gethostname()}")
    lock = LOCKS[kind](path, grace_period=None)  # no grace period: only liveness can break it
    started = time.monotonic()
    assert _acquire_within(lock, 5.0)
    assert time.monotonic() - started < 2.0
    lock.release()
    del lock
    gc.collect()
    assert sorted(os.listdir(tmp_path)) == ["log"]  # the dead holder's owner file went too


def test_dead_holder_of_an_old_format_lock_is_recognized(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    open(path, "wb").close()
    owner = f"{_dead_pid()}.{uuid.uuid4().hex}.{socket.gethostname()}"
    _plant_lock("symlink", path, owner, old_format=True)
    lock = JournalFileSymlinkLock(path, grace_period=None)
    assert _acquire_within(lock, 5.0)
    lock.release()
    del lock
    gc.collect()
    assert sorted(os.listdir(tmp_path)) == ["log"]


def test_symlink_target_fits_in_the_inode(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # ext4 keeps a symlink target shorter than 60 bytes in the inode; a longer one takes a data
    # block, and unlinking it then waits for the file system journal (slow after an fsync).
    host = "a-very-long-host-name-of-a-compute-node.cluster.example.org"
    monkeypatch.setattr(socket, "gethostname", lambda: host)
    path = os.path.join(tmp_path, "a-journal-file-with-a-rather-long-name-" + "x" * 40 + ".log")
    open(path, "wb").close()
    lock = JournalFileSymlinkLock(path)
    assert lock.acquire()
    target = os.readlink(path + ".lock")
    assert len(target.encode()) < 60
    assert os.path.exists(os.path.join(tmp_path, target))  # Optuna's waiters stat through it
    # The hashed host name still reads as this host: the holder is judged by its pid (alive),
    # not by the grace period, so the lock is kept past it.
    waiter = _quiet("symlink", path, 1)
    acquired = _start_acquiring(waiter)
    assert not acquired.wait(1.3)
    lock.release()
    assert acquired.wait(5.0)
    waiter.release()


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_live_holder_on_this_host_is_never_robbed(tmp_path: os.PathLike[str], kind: str) -> None:
    path = os.path.join(tmp_path, "log")
    open(path, "wb").close()
    _plant_lock(kind, path, f"{os.getpid()}.{uuid.uuid4().hex}.{socket.gethostname()}")
    waiter = _quiet(kind, path, 1)
    acquired = _start_acquiring(waiter)
    assert not acquired.wait(1.3)  # past the grace period
    os.rename(path + ".lock", path + ".released")  # the holder lets go
    assert acquired.wait(5.0)
    waiter.release()


@pytest.mark.parametrize(("kind", "owner"), [("symlink", "foreign"), ("open", "unknown")])
def test_foreign_or_unknown_holder_loses_after_grace_period(
    tmp_path: os.PathLike[str], kind: str, owner: str
) -> None:
    path = os.path.join(tmp_path, "log")
    open(path, "wb").close()
    text = f"{os.getpid()}.{uuid.uuid4().hex}.another-host" if owner == "foreign" else None
    _plant_lock(kind, path, text)
    lock = _quiet(kind, path, 1)
    started = time.monotonic()
    assert _acquire_within(lock, 6.0)
    assert time.monotonic() - started >= 1.0
    lock.release()


def test_grace_period_is_validated(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "log")
    with pytest.raises(ValueError, match="grace_period"):
        JournalFileOpenLock(path, grace_period=0)
    with pytest.warns(UserWarning, match="too small"):
        JournalFileSymlinkLock(path, grace_period=1)


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_release_leaves_a_lock_taken_over_by_another_process(
    tmp_path: os.PathLike[str], kind: str
) -> None:
    path = os.path.join(tmp_path, "log")
    open(path, "wb").close()
    slow = LOCKS[kind](path)
    assert slow.acquire()
    # Another host broke the lock after the grace period and took it.
    os.rename(path + ".lock", path + ".broken")
    _plant_lock(kind, path, f"{os.getpid()}.{uuid.uuid4().hex}.another-host")
    taken = _lock_text(kind, path)
    slow.release()
    assert _lock_text(kind, path) == taken
