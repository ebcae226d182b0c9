"""Checks of the server test set-up: each session's database has Optuna's enum types, and a
storage survives a connection the server killed."""

from __future__ import annotations

from typing import Any
import uuid

import pytest
import sqlalchemy

from skipjack.storages._rdb import RDBStorage


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
