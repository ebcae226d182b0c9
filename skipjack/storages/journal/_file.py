"""JournalFileBackend: the journal as a file of JSON lines, shared through a file system."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import os
import threading
from typing import Any
import uuid
import warnings

from skipjack import logging
from skipjack.storages.journal._base import BaseJournalBackend
from skipjack.storages.journal._base import DeferredSyncSupport
from skipjack.storages.journal._lock import BaseJournalFileLock
from skipjack.storages.journal._lock import JournalFileOpenLock
from skipjack.storages.journal._lock import JournalFileSymlinkLock
from skipjack.storages.journal._snapshot import SnapshotSupport

__all__ = ["JournalFileBackend", "JournalFileStorage"]

_logger = logging.get_logger(__name__)

_TAIL_CHUNK = 1 << 16
_CHECKPOINT = 1024
_SNAPSHOT_SUFFIX = ".skipjack-snapshot"
_CHECKED_BYTES = 4096
# Optuna's record encoding: json.dumps with compact separators (one encoder, built once).
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


class JournalFileBackend(BaseJournalBackend, DeferredSyncSupport, SnapshotSupport):
    """A journal kept in one file, one JSON record per line, in Optuna's format.

    Appends take an inter-process lock and write their records in one ``write``, so other
    processes see them as soon as the call returns. Each record is a line of its own.

    Durability. :meth:`append_logs` also calls ``fsync`` (after releasing the lock, before
    returning). :class:`~skipjack.storages.journal.JournalStorage` uses it for the operations
    that finish a trial (state COMPLETE, PRUNED or FAIL, with its values), create or delete a
    study, create a finished or waiting trial, or change study-level data. The records of a
    running trial (its creation, parameters, intermediate values, attributes, heartbeats) go
    through :meth:`append_logs_deferred`, which writes without ``fsync``: they survive a killed
    process (the data is already in the kernel), and the next ``fsync`` of the file, by any
    process, makes them durable too, since it flushes the whole file. A power loss can thus
    lose only a tail of running trials' records written after the last durable record; such a
    trial is one that heartbeats and stale-trial reaping treat as failed anyway.

    Reads take no lock: they read only the bytes added since the last read and only complete
    lines, so a record still being written is picked up by a later read. The first read after
    this object's own append, if nothing unread came before that append, returns the log as
    it stood right after it without reading the file (records others appended since then come
    with the next read); the storage reads right after each append. If a writer was killed
    in the middle of a record, the next append cuts the torn line off (under the lock, with a
    warning naming the file and byte offset) so the file stays readable by skipjack and Optuna.

    The file suits network file systems where SQLite's locking is unreliable; write rates of a
    few hundred records per second are fine.

    Args:
        file_path: The log file; created if missing.
        lock_obj: The lock to use, :class:`JournalFileSymlinkLock` (the default) or
            :class:`JournalFileOpenLock` (needed on Windows, where symlinks need a privilege).
    """

    def __init__(self, file_path: str, lock_obj: BaseJournalFileLock | None = None) -> None:
        self._file_path = file_path
        self._lock = lock_obj if lock_obj is not None else JournalFileSymlinkLock(file_path)
        if not os.path.exists(file_path):
            open(file_path, "ab").close()
        self._init_offsets()

    def _init_offsets(self) -> None:
        # Byte offsets where some records start: record 0 and every _CHECKPOINT-th record
        # (ascending), plus the frontier, where the first record not read yet starts.
        self._checkpoints = [0]
        self._checkpoint_offsets = [0]
        self._next = (0, 0)
        # (byte offset, data) of this object's latest append when it started right at the
        # frontier: the next read takes the records from here instead of the file.
        self._own_write: tuple[int, bytes] | None = None
        self._offsets_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"_file_path": self._file_path, "_lock": self._lock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_offsets()

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        """Return the complete records numbered ``log_number_from`` and later."""
        with self._offsets_lock:
            own, self._own_write = self._own_write, None
            if log_number_from >= self._next[0]:
                number, position = self._next
                if own is not None and own[0] == position:
                    # This object's latest append started right here: the log as it stood
                    # when that append ended is known without reading. Records appended by
                    # others since then come with the next read.
                    return self._consume(own[1], number, position, log_number_from)
            else:
                i = bisect.bisect_right(self._checkpoints, log_number_from) - 1
                number, position = self._checkpoints[i], self._checkpoint_offsets[i]
            # Opened even just to learn the size: on NFS, opening revalidates the cached
            # attributes (close-to-open consistency), where a stat could be seconds stale.
            fd = os.open(self._file_path, _READ_FLAGS)
            try:
                size = os.fstat(fd).st_size
                if size <= position:
                    return []  # nothing new: the common case
                with open(fd, "rb", closefd=False) as f:
                    f.seek(position)
                    data = f.read(size - position)
            finally:
                os.close(fd)
            return self._consume(data, number, position, log_number_from)

    def _consume(
        self, data: bytes, number: int, position: int, log_number_from: int
    ) -> list[dict[str, Any]]:
        """Parse the complete lines of ``data`` (record ``number`` starts at byte
        ``position``), note offsets, and return the records from ``log_number_from`` on."""
        end = data.rfind(b"\n") + 1
        if end == 0:
            return []
        lines = data[:end].split(b"\n")
        lines.pop()  # the empty piece after the last newline
        records = _parse_well_formed(lines)
        if records is None:
            return self._consume_slowly(lines, number, position, log_number_from)
        # Byte offset after line i: position + the lengths of lines 0..i + i + 1 newlines.
        lengths = list(itertools.accumulate(map(len, lines)))
        last = number + len(records)
        checkpoint = max(self._checkpoints[-1], number - number % _CHECKPOINT) + _CHECKPOINT
        for reached in range(checkpoint, last + 1, _CHECKPOINT):
            i = reached - number - 1
            self._checkpoints.append(reached)
            self._checkpoint_offsets.append(position + lengths[i] + i + 1)
        if last > self._next[0]:
            self._next = (last, position + lengths[-1] + len(lines))
        return records[max(0, log_number_from - number) :]

    def _consume_slowly(
        self, lines: list[bytes], number: int, position: int, log_number_from: int
    ) -> list[dict[str, Any]]:
        """:meth:`_consume` for lines of which some are not JSON objects."""
        out: list[dict[str, Any]] = []
        for record, line_end in self._parse(lines, position):
            if number >= log_number_from:
                out.append(record)
            number += 1
            if number % _CHECKPOINT == 0 and number > self._checkpoints[-1]:
                self._checkpoints.append(number)
                self._checkpoint_offsets.append(line_end)
            if number > self._next[0]:
                self._next = (number, line_end)
        return out

    # ---- replay snapshots ----------------------------------------------------------------
    def _fingerprint(self, offset: int) -> list[str]:
        """Hashes of the log's first and last few KiB before ``offset``: a snapshot is used
        only while the log still starts with the bytes it was taken from."""
        with open(self._file_path, "rb") as f:
            if os.fstat(f.fileno()).st_size < offset:
                return []
            head = f.read(min(offset, _CHECKED_BYTES))
            f.seek(max(0, offset - _CHECKED_BYTES))
            tail = f.read(offset - max(0, offset - _CHECKED_BYTES))
        return [hashlib.sha256(head).hexdigest(), hashlib.sha256(tail).hexdigest()]

    def load_replay_snapshot(self) -> tuple[int, bytes] | None:
        """Read ``<log>.skipjack-snapshot`` if it matches the log; seed the read position."""
        try:
            with open(self._file_path + _SNAPSHOT_SUFFIX, "rb") as f:
                header = json.loads(f.readline())
                payload = f.read()
            n_records, offset = int(header["n_records"]), int(header["offset"])
            if header["fingerprint"] != self._fingerprint(offset):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        with self._offsets_lock:
            if n_records > self._next[0]:
                self._next = (n_records, offset)
        return n_records, payload

    def save_replay_snapshot(self, n_records: int, payload: bytes) -> None:
        """Write the snapshot beside the log (atomically, by renaming a temporary file)."""
        with self._offsets_lock:
            number, offset = self._next
        if number != n_records:
            return
        header = {
            "n_records": n_records,
            "offset": offset,
            "fingerprint": self._fingerprint(offset),
        }
        path = self._file_path + _SNAPSHOT_SUFFIX
        temporary = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "wb") as f:
                f.write(json.dumps(header).encode() + b"\n" + payload)
            os.replace(temporary, path)
        except OSError as error:
            _logger.debug(f"Could not save a replay snapshot beside {self._file_path}: {error}")
            try:
                os.unlink(temporary)
            except OSError:
                pass

    def _parse(self, lines: list[bytes], position: int) -> list[tuple[dict[str, Any], int]]:
        """Parse complete lines one by one; return (record, byte offset after its line) pairs.

        A line that is not a JSON object is skipped with a warning when a record follows it;
        as the last line it is left for a later read, as Optuna's reader does.
        """
        out: list[tuple[dict[str, Any], int]] = []
        offset = position
        bad: list[int] = []
        for line in lines:
            offset += len(line) + 1
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                bad.append(offset - len(line) - 1)
                continue
            out.append((record, offset))
        if bad:
            last_line_start = offset - len(lines[-1]) - 1
            for start in bad:
                if start == last_line_start:
                    break
                _logger.warning(
                    f"Skipped a malformed line at byte offset {start} of journal file "
                    f"{self._file_path}."
                )
        return out

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append records under the lock: one write, then ``fsync`` (durable on return)."""
        self._append(logs, sync=True)

    def append_logs_deferred(self, logs: list[dict[str, Any]]) -> None:
        """Append records under the lock in one write, without ``fsync``: visible to others
        at once, durable with the next :meth:`append_logs`."""
        self._append(logs, sync=False)

    def _append(self, logs: list[dict[str, Any]], sync: bool) -> None:
        encode = _ENCODER.encode
        data = "".join([encode(log) + "\n" for log in logs]).encode()
        self._lock.acquire()
        try:
            fd = os.open(self._file_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        except BaseException:
            self._lock.release()
            raise
        try:
            try:
                start = self._complete_size(fd)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                self._lock.release()
            with self._offsets_lock:
                self._own_write = (start, data) if start == self._next[1] else None
            # Outside the lock, so other writers need not wait for the disk. Nothing returns
            # to the caller before the records are durable.
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def _complete_size(self, fd: int) -> int:
        """The file's size once an unterminated last line (left by a killed writer) is cut
        off. Lock held."""
        size = os.fstat(fd).st_size
        if size == 0 or size == self._next[1]:
            return size  # empty, or ends where this process read a complete line
        os.lseek(fd, size - 1, os.SEEK_SET)
        if os.read(fd, 1) == b"\n":
            return size
        cut = 0
        end = size
        while end > 0:
            start = max(0, end - _TAIL_CHUNK)
            os.lseek(fd, start, os.SEEK_SET)
            chunk = os.read(fd, end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            end = start
        _logger.warning(
            f"Journal file {self._file_path}: removed a torn last line at byte offset {cut} "
            f"({size - cut} bytes), left by a writer that stopped mid-record."
        )
        os.ftruncate(fd, cut)
        return cut


def _parse_well_formed(lines: list[bytes]) -> list[dict[str, Any]] | None:
    """Every line's record, parsed in one ``json.loads``; None unless each is a JSON object."""
    try:
        # Decoded here: json.loads would first guess the encoding of bytes (UTF-8 it is).
        if len(lines) == 1:  # the common case when reading back one's own append
            parsed = [json.loads(lines[0].decode())]
        else:
            parsed = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        return None
    if len(parsed) != len(lines) or not all(type(record) is dict for record in parsed):
        return None  # e.g. a line holding two values separated by a comma
    return parsed  # type: ignore[no-any-return]


class JournalFileStorage(JournalFileBackend):
    """Deprecated name of :class:`JournalFileBackend` (renamed in Optuna 4.0)."""

    def __init__(self, file_path: str, lock_obj: BaseJournalFileLock | None = None) -> None:
        warnings.warn(
            "JournalFileStorage is deprecated; use "
            "skipjack.storages.journal.JournalFileBackend instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(file_path, lock_obj)


class DeprecatedJournalFileSymlinkLock(JournalFileSymlinkLock):
    """``skipjack.storages.JournalFileSymlinkLock``: a deprecated import path."""

    def __init__(self, filepath: str, grace_period: int | None = 30) -> None:
        warnings.warn(
            "skipjack.storages.JournalFileSymlinkLock is deprecated; import it from "
            "skipjack.storages.journal instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(filepath, grace_period)


class DeprecatedJournalFileOpenLock(JournalFileOpenLock):
    """``skipjack.storages.JournalFileOpenLock``: a deprecated import path."""

    def __init__(self, filepath: str, grace_period: int | None = 30) -> None:
        warnings.warn(
            "skipjack.storages.JournalFileOpenLock is deprecated; import it from "
            "skipjack.storages.journal instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(filepath, grace_period)
