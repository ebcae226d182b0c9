"""The storage conformance suite against RDBStorage on every backend."""

from __future__ import annotations

import pathlib

import pytest

from skipjack.storages._base import BaseStorage
from skipjack.storages._rdb import RDBStorage
from skipjack.testing.storages import StorageConformance
from tests.storages_tests.rdb_servers import empty_tables


class TestSQLiteFile(StorageConformance):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: pathlib.Path) -> None:
        self._path = tmp_path

    def create_storage(self) -> BaseStorage:
        return RDBStorage(f"sqlite:///{self._path}/db.sqlite3")


class TestSQLiteMemory(StorageConformance):
    def create_storage(self) -> BaseStorage:
        return RDBStorage("sqlite:///:memory:")


class _ServerConformance(StorageConformance):
    url_fixture = ""

    @pytest.fixture(autouse=True)
    def _url(self, request: pytest.FixtureRequest) -> None:
        self._server_url = request.getfixturevalue(self.url_fixture)

    def create_storage(self) -> BaseStorage:
        return RDBStorage(self._server_url)

    def dispose_storage(self, storage: BaseStorage) -> None:
        assert isinstance(storage, RDBStorage)
        empty_tables(storage)


class TestPostgreSQL(_ServerConformance):
    url_fixture = "postgres_url"


class TestMariaDB(_ServerConformance):
    url_fixture = "mysql_url"
