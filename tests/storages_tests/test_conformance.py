"""The shipped storage conformance suite, run against InMemoryStorage."""

from __future__ import annotations

from skipjack.storages._base import BaseStorage
from skipjack.storages._in_memory import InMemoryStorage
from skipjack.testing.storages import StorageConformance


class TestInMemoryStorage(StorageConformance):
    def create_storage(self) -> BaseStorage:
        return InMemoryStorage()
