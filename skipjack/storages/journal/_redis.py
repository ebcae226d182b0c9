"""JournalRedisBackend: the journal kept in Redis, with Optuna's key layout."""

from __future__ import annotations

import hashlib
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
_APPEND_SCRIPT = """
redis.call('setnx', KEYS[1], -1)
for i = 2, #ARGV do
    local n = redis.call('incr', KEYS[1])
    redis.call('set', ARGV[1] .. ':log:' .. n, ARGV[i])
end
"""

_BATCH = 1000


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
        last = self._redis.get(self._counter_key)
        if last is None:
            return []
        last_number = int(last)
        out: list[dict[str, Any]] = []
        for first in range(log_number_from, last_number + 1, _BATCH):
            numbers = range(first, min(first + _BATCH, last_number + 1))
            for raw in self._redis.mget([self._record_key(n) for n in numbers]):
                if raw is None:
                    return out
                out.append(json.loads(raw))
        return out

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append records; atomically unless ``use_cluster``."""
        texts = [json.dumps(log, separators=(",", ":")) for log in logs]
        if not self._use_cluster:
            self._append(keys=[self._counter_key], args=[self._prefix, *texts])
            return
        self._redis.setnx(self._counter_key, -1)
        for text in texts:
            number = self._redis.incr(self._counter_key)
            self._redis.set(self._record_key(int(number)), text)


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
