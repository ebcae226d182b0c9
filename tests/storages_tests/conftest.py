"""Fixtures shared by the storage tests."""

from __future__ import annotations

from tests.storages_tests.rdb_servers import mysql_url  # noqa: F401 -- registers the fixture
from tests.storages_tests.rdb_servers import postgres_url  # noqa: F401 -- registers the fixture
