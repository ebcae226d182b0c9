"""Fixtures giving each test session its own database on the local PostgreSQL and MariaDB
servers (created at first use, dropped at the end), and a check of that set-up."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import pathlib
import sys
from types import ModuleType
from typing import Any
import uuid

import pytest
import sqlalchemy

from skipjack.storages._rdb import RDBStorage
from skipjack.storages._rdb import _schema


def _root_conftest() -> ModuleType:
    """tests/conftest.py as pytest loaded it (tests run with --import-mode=importlib)."""
    path = pathlib.Path(__file__).resolve().parents[1] / "conftest.py"
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and pathlib.Path(file).resolve() == path:
            return module
    raise RuntimeError(f"{path} is not loaded; run these tests with pytest.")


_conftest = _root_conftest()
POSTGRES_URL: str = _conftest.POSTGRES_URL
MYSQL_URL: str = _conftest.MYSQL_URL
unavailable_service = _conftest.unavailable_service


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


@pytest.mark.parametrize("fixture", ["postgres_url", "mysql_url"])
def test_server_database_gets_optuna_enum_types(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(fixture)
    storage = RDBStorage(url)
    inspector = sqlalchemy.inspect(storage.engine)
    state: Any = {c["name"]: c["type"] for c in inspector.get_columns("trials")}["state"]
    assert sorted(state.enums) == ["COMPLETE", "FAIL", "PRUNED", "RUNNING", "WAITING"]
    if storage.engine.dialect.name == "postgresql":
        with storage.engine.connect() as conn:
            types = set(conn.exec_driver_sql("SELECT typname FROM pg_type").scalars())
        assert {"trialstate", "studydirection", "trialvaluetype"} <= types
        assert "trialintermediatevaluetype" in types
    storage.engine.dispose()


@pytest.mark.parametrize("fixture", ["postgres_url", "mysql_url"])
def test_storage_survives_a_killed_connection(fixture: str, request: pytest.FixtureRequest) -> None:
    """The server drops our pooled connection (as after a restart or an idle timeout): the next
    call still works, thanks to the retry on invalidated connections (the ping happens only
    after a connection has idled)."""
    storage = RDBStorage(request.getfixturevalue(fixture))
    study_id = storage.create_new_study([1], f"kill-{uuid.uuid4().hex}")  # type: ignore[list-item]
    with storage.engine.connect() as conn:
        if storage.engine.dialect.name == "postgresql":
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            kill = f"SELECT pg_terminate_backend({pid})"
        else:
            pid = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
            kill = f"KILL {pid}"
    admin = sqlalchemy.create_engine(request.getfixturevalue(fixture))
    with admin.connect() as conn:
        conn.exec_driver_sql(kill)
    admin.dispose()
    trial_id = storage.create_new_trial(study_id)
    assert storage.get_trial(trial_id).number == 0
    storage.engine.dispose()
