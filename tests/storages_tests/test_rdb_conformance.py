"""The storage conformance suite against RDBStorage on every backend."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

from skipjack.storages._base import BaseStorage
from skipjack.storages._rdb import RDBStorage
from skipjack.testing.storages import StorageConformance


def _load_helper(name: str) -> ModuleType:
    """Import a sibling test module by path (tests run with --import-mode=importlib)."""
    key = f"_skipjack_tests_{name}"
    if key not in sys.modules:
        path = pathlib.Path(__file__).with_name(f"{name}.py")
        spec = importlib.util.spec_from_file_location(key, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


_servers = _load_helper("test_rdb_servers")
postgres_url = _servers.postgres_url
mysql_url = _servers.mysql_url


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
        _servers.empty_tables(storage)


class TestPostgreSQL(_ServerConformance):
    url_fixture = "postgres_url"


class TestMariaDB(_ServerConformance):
    url_fixture = "mysql_url"
