"""`skipjack storage upgrade` on databases written by real old Optuna releases.

The fixtures (``fixtures/optuna-<version>.db``) were written by each release itself, and the JSON
beside each one is what that release read back from its database; ``fixtures/
make_old_optuna_dbs.py`` regenerates both. After the upgrade, skipjack and the real optuna 5.0
must read exactly those trials.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import dataclasses
import datetime
import json
import math
import pathlib
import shutil
import sqlite3
from typing import Any

import optuna
import pytest
import sqlalchemy

import skipjack
from skipjack.cli import main
from skipjack.storages._rdb import RDBStorage
from skipjack.storages._rdb import _upgrade
from tests.storages_tests.rdb_servers import MYSQL_URL
from tests.storages_tests.rdb_servers import POSTGRES_URL
from tests.storages_tests.rdb_servers import server_database

FIXTURES = pathlib.Path(__file__).with_name("fixtures")
# Listed from the recorded expectations, so a missing database file fails instead of skipping.
VERSIONS = sorted(p.stem.removeprefix("optuna-") for p in FIXTURES.glob("optuna-*.json"))
HEAD = "v3.2.0.a"

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _expected(version: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"optuna-{version}.json").read_text())


def _copy_fixture(version: str, tmp_path: pathlib.Path) -> str:
    path = tmp_path / f"optuna-{version}.db"
    shutil.copy(FIXTURES / f"optuna-{version}.db", path)
    return f"sqlite:///{path}"


# ---- comparing what a library reads with what the old release read --------------------------


def _neutral(dist: Any) -> dict[str, Any]:
    name = type(dist).__name__
    if name == "CategoricalDistribution":
        return {"kind": "categorical", "choices": list(dist.choices)}
    assert name in ("FloatDistribution", "IntDistribution"), name
    kind = "float" if name == "FloatDistribution" else "int"
    return {"kind": kind, "low": dist.low, "high": dist.high, "log": dist.log, "step": dist.step}


def _local(stored: str | None) -> datetime.datetime | None:
    # The generator ran with TZ=UTC, and Optuna 5.0 reads naive stored times as UTC.
    if stored is None:
        return None
    utc = datetime.datetime.fromisoformat(stored).replace(tzinfo=datetime.timezone.utc)
    return utc.astimezone().replace(tzinfo=None)


def _same_float(got: float, want: float | None, rel: float) -> bool:
    if want is None or math.isnan(want):  # SQLite stored NaN as NULL; v3.0.0.c made it NaN
        return math.isnan(got)
    if math.isinf(want) or want == 0:
        return got == want
    return math.isclose(got, want, rel_tol=rel)


def _assert_reads_like_old_release(
    storage: Any, expected: dict[str, Any], *, rel: float = 0.0, exact_times: bool = True
) -> None:
    """``storage`` (skipjack's or optuna's) holds exactly the studies the old release wrote."""
    for record in expected["studies"]:
        study_id = storage.get_study_id_from_name(record["study_name"])
        assert [d.name for d in storage.get_study_directions(study_id)] == record["directions"]
        assert storage.get_study_user_attrs(study_id) == record["user_attrs"]
        assert storage.get_study_system_attrs(study_id) == record["system_attrs"]
        trials = storage.get_all_trials(study_id)
        assert [t.number for t in trials] == [t["number"] for t in record["trials"]]
        for got, want in zip(trials, record["trials"]):
            label = f"{record['study_name']} trial {want['number']}"
            assert got.state.name == want["state"], label
            if want["values"] is None:
                assert got.values is None, label
            else:
                assert len(got.values) == len(want["values"]), label
                for g, w in zip(got.values, want["values"]):
                    assert _same_float(g, w, rel), label
            assert got.params.keys() == want["params"].keys(), label
            for name, value in want["params"].items():
                if isinstance(value, float):
                    assert _same_float(got.params[name], value, rel), (label, name)
                else:
                    assert got.params[name] == value, (label, name)
            distributions = {k: _neutral(d) for k, d in got.distributions.items()}
            assert distributions == want["distributions"], label
            assert got.user_attrs == want["user_attrs"], label
            # Optuna's v1.3.0.a revision moved the `_number` attribute into trials.number.
            system_attrs = {k: v for k, v in want["system_attrs"].items() if k != "_number"}
            assert got.system_attrs == system_attrs, label
            steps = [[s, v] for s, v in sorted(got.intermediate_values.items())]
            assert [s for s, _ in steps] == [s for s, _ in want["intermediate_values"]], label
            for (_, g), (_, w) in zip(steps, want["intermediate_values"]):
                assert _same_float(g, w, rel), label
            if exact_times:
                assert got.datetime_start == _local(want["datetime_start"]), label
                assert got.datetime_complete == _local(want["datetime_complete"]), label
            else:  # MySQL DATETIME keeps whole seconds
                assert (got.datetime_start is None) == (want["datetime_start"] is None), label


def _objective(trial: skipjack.Trial) -> float:
    """The old fixtures' search space, asked through today's API."""
    x = trial.suggest_float("x", -5.0, 5.0)
    trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    trial.suggest_float("q", 0.0, 1.0, step=0.25)
    k = trial.suggest_int("k", 1, 9)
    trial.suggest_categorical("opt", ["adam", "sgd", 3, 0.5, None])
    trial.report(x, 0)
    return x**2 + k


def _check_usable(url: str, expected: dict[str, Any]) -> None:
    """The old study goes on with TPE (the enqueued trial runs first), a new study optimizes,
    and optuna 5.0 sees both."""
    sampler = skipjack.samplers.TPESampler(seed=0, n_startup_trials=2)
    old = skipjack.load_study(study_name="old-study", storage=url, sampler=sampler)
    n_old = len(old.trials)
    old.optimize(_objective, n_trials=3)
    assert len(old.trials) == n_old + 3 - int(_has_waiting(expected))
    assert all(t.state.name != "WAITING" for t in old.trials)
    new = skipjack.create_study(study_name="after-upgrade", storage=url)
    new.optimize(_objective, n_trials=3)
    assert new.best_value < math.inf

    reloaded = optuna.load_study(study_name="after-upgrade", storage=url)
    assert [t.params for t in reloaded.trials] == [t.params for t in new.trials]
    assert len(optuna.load_study(study_name="old-study", storage=url).trials) == len(old.trials)


def _has_waiting(expected: dict[str, Any]) -> bool:
    return any(t["state"] == "WAITING" for t in expected["studies"][0]["trials"])


def _assert_special_floats_stored_as_optuna_5_does(url: str) -> None:
    """Infinities and NaN are NULL plus a type; FINITE rows hold finite numbers."""
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        for table, value, kind in (
            ("trial_values", "value", "value_type"),
            ("trial_intermediate_values", "intermediate_value", "intermediate_value_type"),
        ):
            rows = conn.exec_driver_sql(f"SELECT {value}, {kind} FROM {table}").all()
            assert rows
            for stored, stored_kind in rows:
                if stored_kind == "FINITE":
                    assert stored is not None and math.isfinite(stored), (table, stored)
                else:
                    assert stored is None, (table, stored, stored_kind)
    engine.dispose()


def _sqlite_dump(url: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return list(conn.iterdump())


# ---- SQLite: one test per fixture ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_upgrade_database_of_old_release(
    version: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _expected(version)
    url = _copy_fixture(version, tmp_path)

    with pytest.raises(RuntimeError, match="skipjack storage upgrade"):
        RDBStorage(url)
    with pytest.raises(RuntimeError, match="storage upgrade"):
        optuna.storages.RDBStorage(url)

    assert main(["storage", "upgrade", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert f"from {expected['revision']} to {HEAD}" in out
    assert "up to date" in out

    storage = RDBStorage(url)
    assert storage.get_current_version() == HEAD
    _assert_special_floats_stored_as_optuna_5_does(url)
    _assert_reads_like_old_release(storage, expected)
    storage.remove_session()
    _assert_reads_like_old_release(optuna.storages.RDBStorage(url), expected)

    # Running it again changes nothing.
    before = _sqlite_dump(url)
    assert main(["storage", "upgrade", "--storage", url]) == 0
    assert "Upgrading" not in capsys.readouterr().out
    assert _sqlite_dump(url) == before

    _check_usable(url, expected)


def test_library_version_and_tables_after_upgrade(tmp_path: pathlib.Path) -> None:
    url = _copy_fixture("1.1.0", tmp_path)
    RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True).upgrade()
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT schema_version, library_version FROM version_info")
        assert tuple(row.one()) == (12, skipjack.__version__)
        tables = set(sqlalchemy.inspect(conn).get_table_names())
        assert {"trial_heartbeats", "study_directions", "trial_intermediate_values"} <= tables
        assert not any(t.startswith("_skipjack_rebuild") for t in tables)
        columns = {c["name"] for c in sqlalchemy.inspect(conn).get_columns("trials")}
        assert columns == {
            "trial_id",
            "number",
            "study_id",
            "state",
            "datetime_start",
            "datetime_complete",
        }
        # The old `_number` attributes are gone, their values live in trials.number.
        count = conn.exec_driver_sql(
            "SELECT count(*) FROM trial_system_attributes WHERE key = '_number'"
        )
        assert count.scalar() == 0
    engine.dispose()


def test_interrupted_upgrade_rolls_back_the_step_and_resumes(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _copy_fixture("1.5.0", tmp_path)
    steps = list(_upgrade.UPGRADE_STEPS)
    failing = next(i for i, step in enumerate(steps) if step.target == "v3.0.0.c")

    def crash_after(apply: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(conn: Any) -> None:
            apply(conn)
            raise RuntimeError("power cut")

        return run

    steps[failing] = dataclasses.replace(steps[failing], apply=crash_after(steps[failing].apply))
    monkeypatch.setattr(_upgrade, "UPGRADE_STEPS", tuple(steps))
    assert main(["storage", "upgrade", "--storage", url]) == 1
    assert "power cut" in capsys.readouterr().err
    storage = RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True)
    assert storage.get_current_version() == "v3.0.0.b"  # the steps before it were kept
    storage.remove_session()
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:  # and the failed step left nothing behind
        columns = sqlalchemy.inspect(conn).get_columns("trial_intermediate_values")
        assert "intermediate_value_type" not in {c["name"] for c in columns}
    engine.dispose()

    monkeypatch.undo()
    assert main(["storage", "upgrade", "--storage", url]) == 0
    assert "from v3.0.0.b to v3.2.0.a" in capsys.readouterr().out
    _assert_reads_like_old_release(RDBStorage(url), _expected("1.5.0"))


def test_newer_revision_is_refused(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/newer.db"
    RDBStorage(url).remove_session()
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'v9.0.0.a'")
    engine.dispose()
    before = _sqlite_dump(url)
    assert main(["storage", "upgrade", "--storage", url]) == 1
    err = capsys.readouterr().err
    assert "v9.0.0.a" in err and "newer" in err
    assert _sqlite_dump(url) == before


def test_upgrade_of_an_empty_database_creates_the_schema(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    assert main(["storage", "upgrade", "--storage", url]) == 0
    assert "up to date" in capsys.readouterr().out
    assert RDBStorage(url).get_current_version() == HEAD


# ---- PostgreSQL and MariaDB: the same old schemas, recreated on the server -------------------

_ENUMS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("trials", "state"): ("trialstate", ("RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING")),
    ("studies", "direction"): ("studydirection", ("NOT_SET", "MINIMIZE", "MAXIMIZE")),
    ("study_directions", "direction"): ("studydirection", ("NOT_SET", "MINIMIZE", "MAXIMIZE")),
    ("trial_values", "value_type"): ("trialvaluetype", ("FINITE", "INF_POS", "INF_NEG")),
    ("trial_intermediate_values", "intermediate_value_type"): (
        "trialintermediatevaluetype",
        ("FINITE", "INF_POS", "INF_NEG", "NAN"),
    ),
}
_FLOAT32_MAX = 3.4028234663852886e38


def _server_type(table: str, column: str, reflected: Any, revision: str) -> Any:
    """The type the old release's SQLAlchemy models gave this column on a server."""
    if (table, column) in _ENUMS:
        name, values = _ENUMS[table, column]
        if name == "trialstate" and revision == "v0.9.0.a":
            values = values[:4]  # WAITING arrived with v1.2.0.a
        return sqlalchemy.Enum(*values, name=name)
    if isinstance(reflected, sqlalchemy.Float):
        # Float() is single precision on MySQL until v3.0.0.b asked for 53 bits.
        revisions = [s.source for s in _upgrade.UPGRADE_STEPS]
        double = revision in revisions and revisions.index(revision) >= revisions.index("v3.0.0.b")
        return sqlalchemy.Float(precision=53) if double else sqlalchemy.Float()
    return reflected.as_generic()


def _recreate_on_server(version: str, server_url: str) -> None:
    """Create the fixture's old schema on an empty server database and copy its rows."""
    revision = _expected(version)["revision"]
    source = sqlalchemy.create_engine(f"sqlite:///{FIXTURES / f'optuna-{version}.db'}")
    reflected = sqlalchemy.MetaData()
    reflected.reflect(source)
    target = sqlalchemy.MetaData()
    for table in reflected.sorted_tables:
        inspector = sqlalchemy.inspect(source)
        columns = [
            sqlalchemy.Column(
                c.name,
                _server_type(table.name, c.name, c.type, revision),
                primary_key=c.primary_key,
                nullable=c.nullable,
                autoincrement=False if table.name == "version_info" else "auto",
            )
            for c in table.columns
        ]
        constraints: list[Any] = [
            sqlalchemy.ForeignKeyConstraint(
                fk["constrained_columns"],
                [f"{fk['referred_table']}.{c}" for c in fk["referred_columns"]],
            )
            for fk in inspector.get_foreign_keys(table.name)
        ]
        constraints += [
            sqlalchemy.UniqueConstraint(*u["column_names"], name=u["name"])
            for u in inspector.get_unique_constraints(table.name)
        ]
        new = sqlalchemy.Table(table.name, target, *columns, *constraints)
        for index in inspector.get_indexes(table.name):
            sqlalchemy.Index(
                index["name"], *(new.c[c] for c in index["column_names"]), unique=index["unique"]
            )
    engine = sqlalchemy.create_engine(server_url)
    mysql = engine.dialect.name == "mysql"
    with source.connect() as read, engine.begin() as write:
        target.create_all(write)
        for table in reflected.sorted_tables:
            rows = [dict(r._mapping) for r in read.execute(table.select())]
            if mysql:  # MySQL cannot store infinities: clip them as Optuna 3.0 betas did
                for row in rows:
                    for key, value in row.items():
                        if isinstance(value, float) and math.isinf(value):
                            row[key] = math.copysign(_FLOAT32_MAX, value)
            if rows:
                write.execute(target.tables[table.name].insert(), rows)
            serial = [
                c.name
                for c in target.tables[table.name].primary_key
                if c.autoincrement is not False and isinstance(c.type, sqlalchemy.Integer)
            ]
            if rows and serial and engine.dialect.name == "postgresql":
                # Rows came with their ids; move the sequence past them, as real use would.
                name, column = table.name, serial[0]
                write.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                    f"(SELECT max({column}) FROM {name}))"
                )
    source.dispose()
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
@pytest.mark.parametrize("version", ["1.1.0", "2.4.0"])
def test_upgrade_on_server(backend: str, version: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = POSTGRES_URL if backend == "postgresql" else MYSQL_URL
    with server_database(base) as url:
        _recreate_on_server(version, url)
        expected = _expected(version)
        with pytest.raises(RuntimeError, match="skipjack storage upgrade"):
            RDBStorage(url)
        assert main(["storage", "upgrade", "--storage", url]) == 0
        assert f"from {expected['revision']} to {HEAD}" in capsys.readouterr().out
        assert main(["storage", "upgrade", "--storage", url]) == 0
        assert "Upgrading" not in capsys.readouterr().out

        mysql = backend == "mysql"
        # MySQL held the old values as single-precision FLOAT, and MariaDB turns FLOAT into
        # DOUBLE through 6 significant digits; DATETIME keeps whole seconds.
        rel = 1e-5 if mysql else 0.0
        _assert_special_floats_stored_as_optuna_5_does(url)
        storage = RDBStorage(url)
        _assert_reads_like_old_release(storage, expected, rel=rel, exact_times=not mysql)
        storage.remove_session()
        theirs = optuna.storages.RDBStorage(url)
        _assert_reads_like_old_release(theirs, expected, rel=rel, exact_times=not mysql)
        theirs.remove_session()
        _check_usable(url, expected)
        optuna.storages.RDBStorage(url).remove_session()


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_every_step_can_run_again_after_a_crash_before_its_stamp(
    backend: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MySQL commits each DDL statement at once, so a step that died before stamping its
    revision runs again over its own finished work; applying each step twice must be harmless."""

    def twice(apply: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(conn: Any) -> None:
            apply(conn)
            apply(conn)

        return run

    steps = tuple(dataclasses.replace(s, apply=twice(s.apply)) for s in _upgrade.UPGRADE_STEPS)
    monkeypatch.setattr(_upgrade, "UPGRADE_STEPS", steps)
    expected = _expected("1.1.0")
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = _copy_fixture("1.1.0", tmp_path)
        else:
            url = stack.enter_context(server_database(MYSQL_URL))
            _recreate_on_server("1.1.0", url)
        storage = RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True)
        storage.upgrade()
        assert storage.get_current_version() == HEAD
        storage.remove_session()
        mysql = backend == "mysql"
        _assert_reads_like_old_release(
            RDBStorage(url), expected, rel=1e-5 if mysql else 0.0, exact_times=not mysql
        )


def test_values_clipped_to_the_float32_range_become_infinities(tmp_path: pathlib.Path) -> None:
    """Optuna 3.0 pre-releases stored +-inf as +-float32 max; v3.0.0.c/d read them as +-inf,
    while a merely large finite value stays as it is."""
    url = _copy_fixture("2.10.1", tmp_path)
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT trial_id FROM trial_values ORDER BY 1")]
        for trial_id, value in zip(ids, (_FLOAT32_MAX, -_FLOAT32_MAX * (1 - 1e-7), 1e20)):
            conn.exec_driver_sql(
                "UPDATE trial_values SET value = ? WHERE trial_id = ?", (value, trial_id)
            )
        conn.exec_driver_sql(
            "UPDATE trial_intermediate_values SET intermediate_value = ? "
            "WHERE trial_intermediate_value_id = 1",
            (-_FLOAT32_MAX,),
        )
    engine.dispose()
    assert main(["storage", "upgrade", "--storage", url]) == 0
    storage = RDBStorage(url)
    by_id = {
        t._trial_id: t for t in storage.get_all_trials(storage.get_study_id_from_name("old-study"))
    }
    assert by_id[ids[0]].values == [math.inf]
    assert by_id[ids[1]].values == [-math.inf]
    assert by_id[ids[2]].values == [1e20]
    first = min(by_id)
    assert by_id[first].intermediate_values[0] == -math.inf
