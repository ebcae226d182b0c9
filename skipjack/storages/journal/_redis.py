"""JournalRedisBackend: the journal kept in Redis, with Optuna's key layout."""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack.storages.journal._base import BaseJournalBackend
from skipjack.storages.journal._snapshot import SnapshotSupport

if TYPE_CHECKING:
    import redis

__all__ = ["JournalRedisBackend", "JournalRedisStorage"]

# Appends every record atomically: initialise the counter to -1 (so the first record is 0) and
# give each record the next number. KEYS[1] is the counter; ARGV[1] the prefix; ARGV[2..] records.
# Returns the number of the last record.
_APPEND_SCRIPT = """
redis.call('setnx', KEYS[1], -1)
local n = -1
for i = 2, #ARGV do
    n = redis.call('incr', KEYS[1])
    redis.call('set', ARGV[1] .. ':log:' .. n, ARGV[i])
end
return n
"""

# Keys asked for in one MGET: few at first (a read usually finds nothing or a record or two
# new), many once a read turns out to be long.
_FIRST_BATCH = 16
_BATCH = 1000
# Optuna's record encoding: json.dumps with compact separators.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as error:
        raise ImportError(
            "JournalRedisBackend needs the redis package: pip install redis"
        ) from error
    return redis


class JournalRedisBackend(BaseJournalBackend, SnapshotSupport):
    """A journal kept in Redis: ``<prefix>:log_number`` holds the last record number and each
    record is a JSON string at ``<prefix>:log:<n>``, as in Optuna.

    Optuna also stores a pickled snapshot at ``<prefix>:snapshot``; skipjack never reads or
    writes it (unpickling shared data is unsafe). skipjack keeps its own JSON snapshot of large
    journals at ``<prefix>:skipjack:snapshot``, which Optuna ignores.

    A read is one MGET of the next record keys (no separate look at the counter). The first
    read after this object's own append (not in cluster mode) returns the records up to that
    append, reading from the server only those it did not write: the append was atomic, so
    that is the log as it stood at that moment. Records others appended since come with the
    next read, as if this read had happened right after the append (the storage reads right
    after each append).

    Args:
        url: Redis URL, e.g. ``redis://localhost:6379/0``.
        use_cluster: Whether the server is a Redis cluster. Appends are then two commands
            (INCR, SET) and not atomic; a reader stops at a record that is not there yet.
        prefix: Prefix of every key, so that several journals share one server.
    """

    def __init__(self, url: str, use_cluster: bool = False, prefix: str = "") -> None:
        self._url = url
        self._use_cluster = use_cluster
        self._prefix = prefix
        self._connect()

    def _connect(self) -> None:
        client: redis.Redis = _import_redis().Redis.from_url(self._url)
        self._redis = client
        self._append = client.register_script(_APPEND_SCRIPT)
        # (number of the first record, their JSON texts) of this object's latest append.
        self._own_write: tuple[int, list[str]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_url": self._url, "_use_cluster": self._use_cluster, "_prefix": self._prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._connect()

    @property
    def _counter_key(self) -> str:
        return f"{self._prefix}:log_number"

    def _record_key(self, number: int) -> str:
        return f"{self._prefix}:log:{number}"

    def _get(self, key: str) -> bytes | None:
        raw: Any = self._redis.get(key)
        return None if raw is None else bytes(raw)

    def _fingerprint(self, n_records: int) -> str | None:
        raw = self._get(self._record_key(n_records - 1))
        return None if raw is None else hashlib.sha256(raw).hexdigest()

    def load_replay_snapshot(self) -> tuple[int, bytes] | None:
        """Read the snapshot if its last record is still the log's record at that number."""
        raw = self._get(f"{self._prefix}:skipjack:snapshot")
        if raw is None:
            return None
        header_text, _, payload = raw.partition(b"\n")
        try:
            header = json.loads(header_text)
            n_records = int(header["n_records"])
            if n_records <= 0 or header["fingerprint"] != self._fingerprint(n_records):
                return None
        except (ValueError, KeyError, TypeError):
            return None
        return n_records, payload

    def save_replay_snapshot(self, n_records: int, payload: bytes) -> None:
        """Store the snapshot of the first ``n_records`` records."""
        fingerprint = self._fingerprint(n_records) if n_records > 0 else None
        if fingerprint is None:
            return
        header = json.dumps({"n_records": n_records, "fingerprint": fingerprint}).encode()
        self._redis.set(f"{self._prefix}:skipjack:snapshot", header + b"\n" + payload)

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        """Return the records numbered ``log_number_from`` and later, stopping before the
        first one that is not written yet."""
        own, self._own_write = self._own_write, None
        if own is None or own[0] < log_number_from:
            return self._fetch(log_number_from, None)
        first = own[0]
        out = self._fetch(log_number_from, first) if first > log_number_from else []
        if len(out) < first - log_number_from:
            return out
        return out + _parse([text.encode() for text in own[1]])

    def _fetch(self, start: int, stop: int | None) -> list[dict[str, Any]]:
        """Records ``start`` to ``stop`` (exclusive; None: to the end), up to a missing one."""
        out: list[dict[str, Any]] = []
        batch = _FIRST_BATCH
        while stop is None or start < stop:
            end = start + batch if stop is None else min(stop, start + _BATCH)
            raws: list[Any] = self._redis.mget([self._record_key(n) for n in range(start, end)])
            present = list(itertools.takewhile(lambda raw: raw is not None, raws))
            out.extend(_parse([bytes(raw) for raw in present]))
            if len(present) < len(raws):
                break  # not written yet (or past the end); nothing after a gap is read
            start, batch = end, _BATCH
        return out

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append records; atomically unless ``use_cluster``."""
        if not logs:
            return
        texts = [_ENCODER.encode(log) for log in logs]
        if not self._use_cluster:
            last = int(self._append(keys=[self._counter_key], args=[self._prefix, *texts]))
            self._own_write = (last - len(texts) + 1, texts)
            return
        self._redis.setnx(self._counter_key, -1)
        for text in texts:
            number = self._redis.incr(self._counter_key)
            self._redis.set(self._record_key(int(number)), text)


def _parse(raws: list[bytes]) -> list[dict[str, Any]]:
    """Decode records (in one ``json.loads`` when they are all well formed)."""
    if not raws:
        return []
    try:
        parsed = json.loads(b"[" + b",".join(raws) + b"]")
    except ValueError:
        parsed = None
    if parsed is None or len(parsed) != len(raws):  # e.g. a value holding "1,2"
        parsed = [json.loads(raw) for raw in raws]  # raises at the malformed one
    return list(parsed)


class JournalRedisStorage(JournalRedisBackend):
    """Deprecated name of :class:`JournalRedisBackend` (renamed in Optuna 4.0)."""

    def __init__(self, url: str, use_cluster: bool = False, prefix: str = "") -> None:
        warnings.warn(
            "JournalRedisStorage is deprecated; use "
            "skipjack.storages.journal.JournalRedisBackend instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(url, use_cluster, prefix)
