"""JournalFileBackend: the journal as a file of JSON lines, shared through a file system."""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import threading
from typing import Any
import uuid
import warnings

from skipjack import logging
from skipjack.storages.journal._base import BaseJournalBackend
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


class JournalFileBackend(BaseJournalBackend, SnapshotSupport):
    """A journal kept in one file, one JSON record per line, in Optuna's format.

    Appends take an inter-process lock, write every record in one ``write``, and ``fsync``.
    Reads take no lock: they read only the bytes added since the last read and only complete
    lines, so a record still being written is picked up by a later read. If a writer was killed
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
        self._offsets_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"_file_path": self._file_path, "_lock": self._lock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_offsets()

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        """Return the complete records numbered ``log_number_from`` and later."""
        with self._offsets_lock:
            if log_number_from >= self._next[0]:
                number, position = self._next
            else:
                i = bisect.bisect_right(self._checkpoints, log_number_from) - 1
                number, position = self._checkpoints[i], self._checkpoint_offsets[i]
            with open(self._file_path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if position >= size:
                    return []
                f.seek(position)
                data = f.read(size - position)
            end = data.rfind(b"\n") + 1
            if end == 0:
                return []
            lines = data[:end].split(b"\n")
            lines.pop()  # the empty piece after the last newline
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
        """Parse complete lines; return (record, byte offset after its line) pairs.

        A line that is not a JSON object is skipped with a warning when a record follows it;
        as the last line it is left for a later read, as Optuna's reader does.
        """
        try:
            parsed = json.loads(b"[" + b",".join(lines) + b"]")
        except ValueError:
            parsed = None
        out: list[tuple[dict[str, Any], int]] = []
        offset = position
        bad: list[int] = []
        for i, line in enumerate(lines):
            offset += len(line) + 1
            if parsed is not None and len(parsed) == len(lines):
                record = parsed[i]
            else:
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
        """Append records under the lock: one write, flush and fsync."""
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()
        self._lock.acquire()
        try:
            fd = os.open(self._file_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                self._cut_torn_line(fd)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        finally:
            self._lock.release()

    def _cut_torn_line(self, fd: int) -> None:
        """Truncate an unterminated last line (left by a killed writer). Lock held."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        os.lseek(fd, size - 1, os.SEEK_SET)
        if os.read(fd, 1) == b"\n":
            return
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
