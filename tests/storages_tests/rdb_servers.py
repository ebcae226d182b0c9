"""Helpers for tests on the local PostgreSQL and MariaDB servers: a uniquely named database per
use (dropped afterwards), the session fixtures ``postgres_url`` and ``mysql_url`` (registered for
this directory by its conftest.py), and a table cleaner."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import uuid

import pytest
import sqlalchemy

from skipjack.storages._rdb import RDBStorage
from skipjack.storages._rdb import _schema
from tests.conftest import MYSQL_URL
from tests.conftest import POSTGRES_URL
from tests.conftest import unavailable_service

__all__ = [
    "MYSQL_URL",
    "POSTGRES_URL",
    "empty_tables",
    "mysql_url",
    "postgres_url",
    "server_database",
]


@contextlib.contextmanager
def server_database(base_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server of ``base_url``; yield its URL."""
    url = sqlalchemy.engine.make_url(base_url)
    name = f"skipjack_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sqlalchemy.exc.OperationalError as error:
        admin.dispose()
        unavailable_service(url.get_backend_name(), str(error).splitlines()[0])
    test_url = url.set(database=name)
    if url.get_backend_name() == "postgresql":
        # Tests need no durability; skipping the WAL flush per commit makes them much faster.
        test_url = test_url.update_query_dict({"options": "-c synchronous_commit=off"})
    try:
        yield test_url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if url.get_backend_name() == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    with server_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """A fresh MariaDB/MySQL database for this test session."""
    with server_database(MYSQL_URL) as url:
        yield url


def empty_tables(storage: RDBStorage) -> None:
    """Delete every row of every table except the version markers (children first)."""
    keep = {"version_info", "alembic_version"}
    with storage.engine.begin() as conn:
        for table in reversed(_schema.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())
    storage.engine.dispose()
