"""The storage conformance suite on JournalStorage, with every backend."""

from __future__ import annotations

from collections.abc import Iterator
import os
import uuid

import pytest

from skipjack.storages._base import BaseStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalFileOpenLock
from skipjack.storages.journal import JournalFileSymlinkLock
from skipjack.storages.journal import JournalRedisBackend
from skipjack.storages.journal import JournalStorage
from skipjack.testing.storages import StorageConformance
from tests.conftest import REDIS_URL
from tests.conftest import unavailable_service


class TestJournalFileSymlinkLock(StorageConformance):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: os.PathLike[str]) -> None:
        self.path = os.path.join(tmp_path, "journal.log")

    def create_storage(self) -> BaseStorage:
        lock = JournalFileSymlinkLock(self.path)
        return JournalStorage(JournalFileBackend(self.path, lock_obj=lock))


class TestJournalFileOpenLock(StorageConformance):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: os.PathLike[str]) -> None:
        self.path = os.path.join(tmp_path, "journal.log")

    def create_storage(self) -> BaseStorage:
        lock = JournalFileOpenLock(self.path)
        return JournalStorage(JournalFileBackend(self.path, lock_obj=lock))


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix unique to this test session; every key under it is deleted at the end."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        unavailable_service("Redis", str(error))
    prefix = f"skipjack-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


class TestJournalRedis(StorageConformance):
    @pytest.fixture(autouse=True)
    def _prefix(self, redis_prefix: str) -> None:
        self.prefix = f"{redis_prefix}-{uuid.uuid4().hex}"

    def create_storage(self) -> BaseStorage:
        return JournalStorage(JournalRedisBackend(REDIS_URL, prefix=self.prefix))
