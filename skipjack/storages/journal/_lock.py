"""Inter-process locks for the journal file, compatible with Optuna's lock-file protocol.

Both locks create ``<log path>.lock`` atomically (a symlink, or a file opened with ``O_EXCL``)
and release it by renaming it to a unique name and unlinking that, as Optuna does, so Optuna and
skipjack writers exclude each other. skipjack records who holds the lock (host, pid, a unique
token) so a waiter can tell a dead holder from a slow one:

* holder on this host, process gone: the lock is broken at once;
* holder on this host, process alive: never broken, however long it takes;
* holder on another host, or unknown (a lock written by Optuna): broken when the lock has stayed
  the same for ``grace_period`` seconds of the waiter's clock, as Optuna does.

Breaking renames the lock away, then checks it renamed the lock it judged; if another waiter
re-acquired in between, the fresh lock is put back.
"""

from __future__ import annotations

import abc
import errno
import hashlib
import os
import socket
import time
import uuid
import warnings
import weakref

from skipjack import logging

__all__ = ["BaseJournalFileLock", "JournalFileOpenLock", "JournalFileSymlinkLock"]

_logger = logging.get_logger(__name__)

LOCK_FILE_SUFFIX = ".lock"
RENAME_FILE_SUFFIX = ".rename"
# Symlink targets name the owner file ``skipjack-lock.<pid>.<token>.<host>``. Kept under 60
# bytes so ext4 stores the target in the inode ("fast symlink"): unlinking a symlink with a
# data block waits for the journal commit an fsync just started, ~3 ms per release.
_OWNER_PREFIX = "skipjack-lock."
# Targets of locks taken by earlier versions: ``<log name>.skipjack-lock.<owner>``.
_OLD_OWNER_MARK = ".skipjack-lock."
_MAX_HOST = 20
_TOKEN_HEX = 12
_WARNING_INTERVAL = 10.0
_MAX_SLEEP = 1.0


class BaseJournalFileLock(abc.ABC):
    """A lock that excludes other processes (and hosts sharing the file system)."""

    @abc.abstractmethod
    def acquire(self) -> bool:
        """Block until the lock is held; return True."""

    @abc.abstractmethod
    def release(self) -> None:
        """Release the lock; RuntimeError if it was not held."""


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (True when it cannot be told)."""
    if os.name == "nt" or pid <= 0:
        return True  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. EPERM: it exists but belongs to someone else
    return True


def _host_tag(host: str) -> str:
    """The host as lock owners name it: the host name, or a hash of a long one."""
    if len(host) <= _MAX_HOST:
        return host
    return hashlib.sha256(host.encode()).hexdigest()[:_MAX_HOST]


def _is_this_host(name: str) -> bool:
    """Whether a lock owner's host part names this host (a full name: an older lock)."""
    host = socket.gethostname()
    return name == host or name == _host_tag(host)


def _owner_text() -> str:
    token = uuid.uuid4().hex[:_TOKEN_HEX]
    return f"{os.getpid()}.{token}.{_host_tag(socket.gethostname())}"


def _parse_owner(text: str) -> tuple[str, int] | None:
    """(host, pid) from ``<pid>.<token>.<host>``; None for anything else (e.g. Optuna's)."""
    parts = text.split(".", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2]:
        return None
    return parts[2], int(parts[0])


class _OwnedLock(BaseJournalFileLock):
    """Shared waiting logic; subclasses create, describe and restore the lock file."""

    # The owner text of the lock this object holds, None while it holds none.
    _held: str | None = None
    # Unique names to rename the lock to: a random token per object and process, and a count
    # (cheaper than a uuid4 per release).
    _rename_for: tuple[int, int] = (-1, -1)
    _rename_token = ""
    _rename_count = 0

    def __init__(self, filepath: str, grace_period: int | None = 30) -> None:
        if grace_period is not None:
            if grace_period <= 0:
                raise ValueError(
                    f"grace_period must be a positive number of seconds or None, got "
                    f"{grace_period!r}."
                )
            if grace_period < 3:
                warnings.warn(
                    f"grace_period={grace_period} s might be too small: a slow holder on "
                    "another host could lose the lock.",
                    UserWarning,
                    stacklevel=2,
                )
        self._lock_target_file = filepath
        self._lock_file = filepath + LOCK_FILE_SUFFIX
        self.grace_period = grace_period

    @abc.abstractmethod
    def _create(self) -> bool:
        """Try once to create the lock; False if it exists."""

    @abc.abstractmethod
    def _owner_of(self, path: str) -> str | None:
        """The owner text recorded in the lock at ``path``; None if unreadable."""

    @abc.abstractmethod
    def _restore(self, renamed: str) -> bool:
        """Put a wrongly broken lock back in place; False if another lock now exists."""

    def _describe(self) -> tuple[tuple[int, int, str | None], str | None] | None:
        """The lock's identity and owner text, or None when there is no lock now."""
        try:
            st = os.lstat(self._lock_file)
            owner = self._owner_of(self._lock_file)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, owner), owner

    def acquire(self) -> bool:
        """Block until the lock is held, breaking locks of dead or long-silent holders."""
        sleep = 0.001
        watched: tuple[int, int, str | None] | None = None
        watched_since = last_warning = time.monotonic()
        while True:
            if self._create():
                return True
            described = self._describe()
            if described is None:
                continue  # released meanwhile: retry at once
            identity, owner_text = described
            owner = None if owner_text is None else _parse_owner(owner_text)
            now = time.monotonic()
            if identity != watched:
                watched, watched_since = identity, now
            if owner is not None and _is_this_host(owner[0]):
                if not _pid_alive(owner[1]):
                    reason = f"its holder (pid {owner[1]} on this host) is gone"
                    self._break(identity, reason, owner_dead=True)
                    sleep = 0.001
                    continue
            elif self.grace_period is not None and now - watched_since > self.grace_period:
                self._break(identity, f"it has not changed for {self.grace_period} s")
                watched = None
                sleep = 0.001
                continue
            if now - last_warning > _WARNING_INTERVAL:
                _logger.warning(
                    f"Waiting more than {_WARNING_INTERVAL:.0f} s for the lock file "
                    f"{self._lock_file}; retrying."
                )
                last_warning = now
            time.sleep(sleep)
            sleep = min(sleep * 2, _MAX_SLEEP)

    def _forget_dead_owner(self, renamed: str) -> None:
        """Clean up what a dead holder left besides the lock itself (nothing by default)."""

    def _rename_target(self) -> str:
        """A name no other process or object uses, ``<lock><token>-<n>.rename``."""
        key = (os.getpid(), id(self))
        if self._rename_for != key:
            self._rename_for, self._rename_token = key, uuid.uuid4().hex
        self._rename_count += 1
        return f"{self._lock_file}{self._rename_token}-{self._rename_count}{RENAME_FILE_SUFFIX}"

    def _break(
        self, identity: tuple[int, int, str | None], reason: str, owner_dead: bool = False
    ) -> None:
        renamed = self._rename_target()
        try:
            os.rename(self._lock_file, renamed)
        except OSError:
            return  # someone else released or broke it
        try:
            st = os.lstat(renamed)
            current = (st.st_ino, st.st_mtime_ns, self._owner_of(renamed))
        except OSError:
            current = None
        if current != identity:
            # Another waiter broke the stale lock and re-acquired between our look and our
            # rename: this is a live lock, so give it back.
            if not self._restore(renamed):
                _logger.warning(f"Could not restore the lock file {self._lock_file}.")
            self._discard(renamed)
            return
        _logger.warning(f"Breaking the lock file {self._lock_file}: {reason}.")
        if owner_dead:
            self._forget_dead_owner(renamed)
        self._discard(renamed)

    def _discard(self, renamed: str) -> None:
        try:
            os.unlink(renamed)
        except OSError:
            pass

    def release(self) -> None:
        """Release the lock by renaming it to a unique name and unlinking that.

        If the lock was broken meanwhile (a holder on another host past the grace period) and
        another process now holds it, that lock is put back and left to its holder.
        """
        held, self._held = self._held, None
        renamed = self._rename_target()
        try:
            os.rename(self._lock_file, renamed)
        except OSError:
            raise RuntimeError(f"The lock {self._lock_file} was not held.") from None
        if held is not None:
            try:
                owner = self._owner_of(renamed)
            except OSError:
                owner = None
            if owner != held:
                if not self._restore(renamed):
                    _logger.warning(f"Could not restore the lock file {self._lock_file}.")
                _logger.warning(
                    f"The lock file {self._lock_file} was broken while this process held it; "
                    "another process holds it now."
                )
        self._discard(renamed)


class JournalFileSymlinkLock(_OwnedLock):
    """Lock by creating the symlink ``<filepath>.lock``; works on NFSv2 and later.

    The symlink points to an empty owner file beside the log,
    ``skipjack-lock.<pid>.<token>.<host>`` (a long host name is hashed, so the target stays
    short enough to live in the symlink's inode), created once per process and lock object and
    removed when the object is collected or the process exits. Its name tells waiters who
    holds the lock, read atomically with the lock itself; that the file exists keeps Optuna's
    waiters, which ``stat`` through the link, working as with their own locks.

    Args:
        filepath: The path of the file the lock protects.
        grace_period: Seconds a lock held from another host (or of unknown holder) may stay
            unchanged before it is broken; None never breaks such locks.
    """

    _target: str | None = None
    _target_pid = -1

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_target", None)
        state.pop("_target_pid", None)
        return state

    def _owner_target(self) -> str:
        """The relative symlink target naming this process, creating its owner file."""
        if self._target is None or self._target_pid != os.getpid():
            target = _OWNER_PREFIX + _owner_text()
            path = os.path.join(os.path.dirname(self._lock_file), target)
            open(path, "wb").close()
            weakref.finalize(self, _remove_quietly, path)
            self._target, self._target_pid = target, os.getpid()
        return self._target

    def _create(self) -> bool:
        target = self._owner_target()
        try:
            os.symlink(target, self._lock_file)
        except FileExistsError:
            return False
        self._held = target[len(_OWNER_PREFIX) :]
        return True

    def _owner_of(self, path: str) -> str | None:
        return _owner_in_target(os.readlink(path))

    def _restore(self, renamed: str) -> bool:
        try:
            os.symlink(os.readlink(renamed), self._lock_file)
        except OSError:
            return False
        return True

    def _forget_dead_owner(self, renamed: str) -> None:
        try:
            target = os.readlink(renamed)
        except OSError:
            return
        if _owner_in_target(target) is not None and os.path.basename(target) == target:
            _remove_quietly(os.path.join(os.path.dirname(self._lock_file), target))


def _owner_in_target(target: str) -> str | None:
    """The owner text a symlink target names; None for a target not made by skipjack."""
    if target.startswith(_OWNER_PREFIX):
        return target[len(_OWNER_PREFIX) :]
    _, mark, owner = target.partition(_OLD_OWNER_MARK)
    return owner if mark else None


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class JournalFileOpenLock(_OwnedLock):
    """Lock by creating ``<filepath>.lock`` with ``O_CREAT | O_EXCL``; NFSv3+ and Windows.

    The holder writes ``<pid>.<token>.<host>`` into the lock file.

    Args:
        filepath: The path of the file the lock protects.
        grace_period: Seconds a lock held from another host (or of unknown holder) may stay
            unchanged before it is broken; None never breaks such locks.
    """

    def _create(self) -> bool:
        try:
            fd = os.open(self._lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except OSError as error:
            if error.errno == errno.EEXIST:
                return False
            raise
        text = _owner_text()
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
        self._held = text
        return True

    def _owner_of(self, path: str) -> str | None:
        with open(path, "rb") as f:
            text = f.read(512).decode(errors="replace")
        return text or None

    def _restore(self, renamed: str) -> bool:
        try:
            os.link(renamed, self._lock_file)
        except OSError:
            return False
        return True
