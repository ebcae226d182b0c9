"""JournalRedisBackend: Optuna's key layout, atomic appends, no pickle."""

from __future__ import annotations

from collections.abc import Iterator
import json
import pickle
import uuid

import pytest

from skipjack.storages.journal import JournalRedisBackend
from skipjack.storages.journal import JournalStorage
from skipjack.study._study_direction import StudyDirection
from tests.conftest import REDIS_URL
from tests.conftest import unavailable_service


@pytest.fixture
def client() -> Iterator[object]:
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as error:
        unavailable_service("Redis", str(error))
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: object) -> Iterator[str]:
    name = f"skipjack-redis-test-{uuid.uuid4().hex}"
    yield name
    keys = list(client.scan_iter(match=f"{name}*"))  # type: ignore[attr-defined]
    if keys:
        client.delete(*keys)  # type: ignore[attr-defined]


def _record(i: int) -> dict[str, object]:
    return {"op_code": 2, "worker_id": "w", "study_id": 0, "user_attr": {"i": i}}


@pytest.mark.parametrize("use_cluster", [False, True])
def test_keys_follow_optunas_layout(client: object, prefix: str, use_cluster: bool) -> None:
    backend = JournalRedisBackend(REDIS_URL, use_cluster=use_cluster, prefix=prefix)
    assert backend.read_logs(0) == []
    backend.append_logs([_record(0), _record(1)])
    backend.append_logs([_record(2)])
    assert int(client.get(f"{prefix}:log_number")) == 2  # type: ignore[attr-defined]
    stored = json.loads(client.get(f"{prefix}:log:0"))  # type: ignore[attr-defined]
    assert stored == _record(0)
    assert [r["user_attr"] for r in backend.read_logs(1)] == [{"i": 1}, {"i": 2}]


def test_reader_stops_at_a_record_not_written_yet(client: object, prefix: str) -> None:
    backend = JournalRedisBackend(REDIS_URL, prefix=prefix)
    backend.append_logs([_record(0)])
    client.incr(f"{prefix}:log_number")  # type: ignore[attr-defined]  # INCR done, SET pending
    assert [r["user_attr"] for r in backend.read_logs(0)] == [{"i": 0}]
    client.set(f"{prefix}:log:1", json.dumps(_record(1)))  # type: ignore[attr-defined]
    assert [r["user_attr"] for r in backend.read_logs(1)] == [{"i": 1}]


def _numbers(records: list[dict[str, object]]) -> list[object]:
    return [r["user_attr"]["i"] for r in records]  # type: ignore[index]


def test_reads_around_own_appends(
    client: object, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = JournalRedisBackend(REDIS_URL, prefix=prefix)
    b = JournalRedisBackend(REDIS_URL, prefix=prefix)
    a.append_logs([_record(0)])
    b.append_logs([_record(1)])
    # Right after its own append, a reads the log as it stood then; record 1 comes next.
    assert _numbers(a.read_logs(0)) == [0]
    assert _numbers(a.read_logs(1)) == [1]
    b.append_logs([_record(2)])
    a.append_logs([_record(3), _record(4)])
    with monkeypatch.context() as patch:
        asked: list[list[str]] = []
        original = a._redis.mget
        patch.setattr(a._redis, "mget", lambda keys: asked.append(keys) or original(keys))
        assert _numbers(a.read_logs(2)) == [2, 3, 4]
        assert asked == [[f"{prefix}:log:2"]]  # only the record a did not write itself
        a.append_logs([_record(5)])
        assert _numbers(a.read_logs(5)) == [5]
        assert len(asked) == 1  # no round trip at all
    # b's first read since its own append shows the log as it stood then; the next, the rest.
    assert _numbers(b.read_logs(0)) == [0, 1, 2]
    assert _numbers(b.read_logs(3)) == [3, 4, 5]


def test_storage_never_writes_optunas_pickle_snapshot(client: object, prefix: str) -> None:
    storage = JournalStorage(JournalRedisBackend(REDIS_URL, prefix=prefix))
    study_id = storage.create_new_study([StudyDirection.MINIMIZE])
    for _ in range(101):  # Optuna snapshots when a trial id is a multiple of 100
        storage.create_new_trial(study_id)
    storage._save_snapshot()
    assert client.get(f"{prefix}:snapshot") is None  # type: ignore[attr-defined]
    ours = client.get(f"{prefix}:skipjack:snapshot")  # type: ignore[attr-defined]
    assert ours is not None and not ours.startswith(b"\x80")  # JSON, not a pickle


def test_backend_pickles_without_its_connection(prefix: str) -> None:
    backend = JournalRedisBackend(REDIS_URL, prefix=prefix)
    backend.append_logs([_record(0)])
    clone = pickle.loads(pickle.dumps(backend))
    assert clone.read_logs(0) == [_record(0)]


def test_deprecated_alias_warns(prefix: str) -> None:
    from skipjack.storages.journal._redis import JournalRedisStorage

    with pytest.warns(FutureWarning, match="JournalRedisBackend"):
        backend = JournalRedisStorage(REDIS_URL, prefix=prefix)
    assert isinstance(backend, JournalRedisBackend)
