"""RDBStorage's schema and version markers match Optuna 5.0's, and it refuses what it should."""

from __future__ import annotations

import pathlib
from typing import Any
import uuid

import optuna
import pytest
import sqlalchemy

from skipjack.storages._rdb import RDBStorage
from skipjack.study._study_direction import StudyDirection
from tests.storages_tests.rdb_servers import MYSQL_URL
from tests.storages_tests.rdb_servers import POSTGRES_URL
from tests.storages_tests.rdb_servers import server_database


def _shape(url: str) -> dict[str, Any]:
    """Tables, columns (type, nullability), unique constraints and indexes, as reflected."""
    engine = sqlalchemy.create_engine(url)
    inspector = sqlalchemy.inspect(engine)
    out: dict[str, Any] = {}
    for table in inspector.get_table_names():
        if table.startswith("skipjack_"):
            continue
        columns = [
            (c["name"], repr(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
        ]
        uniques = sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table))
        indexes = sorted(
            (i["name"], tuple(i["column_names"]), bool(i["unique"]))
            for i in inspector.get_indexes(table)
        )
        out[table] = (columns, uniques, indexes)
    engine.dispose()
    return out


def _two_databases(backend: str, tmp_path: pathlib.Path) -> Any:
    if backend == "sqlite":
        import contextlib

        @contextlib.contextmanager
        def pair() -> Any:
            yield f"sqlite:///{tmp_path}/optuna.db", f"sqlite:///{tmp_path}/skipjack.db"

        return pair()
    import contextlib

    base = POSTGRES_URL if backend == "postgresql" else MYSQL_URL

    @contextlib.contextmanager
    def servers() -> Any:
        with server_database(base) as a, server_database(base) as b:
            yield a, b

    return servers()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_schema_matches_optuna(backend: str, tmp_path: pathlib.Path) -> None:
    with _two_databases(backend, tmp_path) as (optuna_url, skipjack_url):
        optuna.storages.RDBStorage(optuna_url).engine.dispose()
        RDBStorage(skipjack_url).engine.dispose()
        theirs, ours = _shape(optuna_url), _shape(skipjack_url)
        assert ours == theirs
        engine = sqlalchemy.create_engine(skipjack_url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
                ("v3.2.0.a",)
            ]
            assert conn.exec_driver_sql(
                "SELECT version_info_id, schema_version FROM version_info"
            ).all() == [(1, 12)]
        engine.dispose()


def _set_revision(url: str, revision: str | None) -> None:
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM alembic_version")
        if revision is not None:
            conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{revision}')")
    engine.dispose()


def test_unknown_revision_is_refused_like_optuna(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    RDBStorage(url).engine.dispose()
    _set_revision(url, "v9.9.9.z")
    with pytest.raises(RuntimeError, match="update skipjack"):
        RDBStorage(url)
    with pytest.raises(RuntimeError):
        optuna.storages.RDBStorage(url)
    RDBStorage(url, skip_compatibility_check=True).create_new_study([StudyDirection.MINIMIZE])


def test_older_revision_asks_for_an_upgrade(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    RDBStorage(url).engine.dispose()
    _set_revision(url, "v3.0.0.d")
    with pytest.raises(RuntimeError, match="storage upgrade"):
        RDBStorage(url)


def test_missing_revision_is_stamped_again(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    RDBStorage(url).engine.dispose()
    _set_revision(url, None)
    storage = RDBStorage(url)
    assert storage.get_current_version() == "v3.2.0.a"
    optuna.storages.RDBStorage(url).engine.dispose()  # Optuna accepts it too


def test_optuna_database_opens_and_ours_opens_in_optuna(tmp_path: pathlib.Path) -> None:
    theirs = f"sqlite:///{tmp_path}/optuna.db"
    optuna.create_study(storage=theirs, study_name="s")
    assert RDBStorage(theirs).get_study_id_from_name("s") == 1
    ours = f"sqlite:///{tmp_path}/ours.db"
    RDBStorage(ours).create_new_study([StudyDirection.MAXIMIZE], "t")
    assert optuna.load_study(study_name="t", storage=ours).direction.name == "MAXIMIZE"


def test_long_study_name_is_refused_before_any_write(tmp_path: pathlib.Path) -> None:
    storage = RDBStorage(f"sqlite:///{tmp_path}/db.sqlite3")
    with pytest.raises(ValueError, match="512"):
        storage.create_new_study([StudyDirection.MINIMIZE], "x" * 513)
    assert storage.get_all_studies() == []
    name = "y" * 512
    study_id = storage.create_new_study([StudyDirection.MINIMIZE], name)
    assert storage.get_study_name_from_id(study_id) == name


def test_database_url_string_gives_rdb_storage(tmp_path: pathlib.Path) -> None:
    from skipjack.storages._get import get_storage

    storage = get_storage(f"sqlite:///{tmp_path}/db.sqlite3")
    assert isinstance(storage, RDBStorage)


def test_bare_server_urls_pick_an_installed_driver() -> None:
    from skipjack.storages._rdb._engine import normalize_url

    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("postgres://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("postgresql+psycopg2://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("mysql://u@h/db") == "mysql+pymysql://u@h/db"
    assert normalize_url("mysql+mysqldb://u@h/db") == "mysql+pymysql://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_url("sqlite:///{SCHEMA_VERSION}.db") == "sqlite:///12.db"


def test_storage_pickles_and_reconnects(tmp_path: pathlib.Path) -> None:
    import pickle

    storage = RDBStorage(f"sqlite:///{tmp_path}/db.sqlite3", heartbeat_interval=5)
    study_id = storage.create_new_study([StudyDirection.MINIMIZE], f"p-{uuid.uuid4()}")
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.get_study_directions(study_id) == [StudyDirection.MINIMIZE]
    assert clone.get_heartbeat_interval() == 5


def test_rows_hold_naive_utc_and_names(tmp_path: pathlib.Path) -> None:
    import datetime
    import math

    from skipjack.trial._state import TrialState

    url = f"sqlite:///{tmp_path}/db.sqlite3"
    storage = RDBStorage(url)
    study_id = storage.create_new_study([StudyDirection.MAXIMIZE])
    trial_id = storage.create_new_trial(study_id)
    storage.set_trial_intermediate_value(trial_id, 0, math.nan)
    storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [-math.inf])
    utc_now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        state, start = conn.exec_driver_sql("SELECT state, datetime_start FROM trials").one()
        values = conn.exec_driver_sql("SELECT value, value_type FROM trial_values").all()
        inter = conn.exec_driver_sql(
            "SELECT intermediate_value, intermediate_value_type FROM trial_intermediate_values"
        ).all()
        direction = conn.exec_driver_sql("SELECT direction FROM study_directions").scalar()
    engine.dispose()
    assert state == "COMPLETE" and direction == "MAXIMIZE"
    assert values == [(None, "INF_NEG")] and inter == [(None, "NAN")]
    stored = datetime.datetime.fromisoformat(start)
    assert abs((utc_now - stored).total_seconds()) < 60
    # Read back as naive local time, as Optuna 5.0 does.
    local = stored.replace(tzinfo=datetime.timezone.utc).astimezone().replace(tzinfo=None)
    assert storage.get_trial(trial_id).datetime_start == local


def test_skip_table_creation_and_version_queries(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    RDBStorage(url).engine.dispose()
    storage = RDBStorage(url, skip_table_creation=True)
    assert storage.get_current_version() == storage.get_head_version() == "v3.2.0.a"
    assert storage.get_all_versions()[0] == "v3.2.0.a"
    assert storage.get_all_versions()[-1] == "v0.9.0.a"
    storage.upgrade()  # already at head: nothing to do
    empty = f"sqlite:///{tmp_path}/empty.db"
    with pytest.raises(sqlalchemy.exc.OperationalError):
        RDBStorage(empty, skip_table_creation=True)
    engine = sqlalchemy.create_engine(empty)
    assert sqlalchemy.inspect(engine).get_table_names() == []
    engine.dispose()
