"""RDBStorage's commit guarantees and round-trip savings, checked against real databases.

* PostgreSQL: a write that finishes a trial (or touches a study) commits with the server's
  ``synchronous_commit``; a write to a running trial commits without waiting for the disk; other
  users of ``storage.engine`` never inherit the storage's session setting.
* Every backend: a running trial's data is visible to another process as soon as the call
  returns; a write to a trial that another worker finished is refused and writes nothing.
* SQLite: a writer that finds the database locked waits instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
import datetime
import multiprocessing
import pathlib
import sqlite3
import threading
from typing import Any
import uuid

import pytest
import sqlalchemy
from sqlalchemy import event

from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages._rdb import RDBStorage
from skipjack.storages._rdb import _engine
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState
from tests.storages_tests.rdb_servers import POSTGRES_URL
from tests.storages_tests.rdb_servers import server_database

_X = FloatDistribution(0.0, 1.0)


@pytest.fixture(scope="module")
def durable_postgres_url() -> Iterator[str]:
    """A PostgreSQL database whose sessions keep the server's synchronous_commit (the shared
    test databases turn it off for speed, which would hide what these tests look at)."""
    with server_database(POSTGRES_URL) as url:
        parsed = sqlalchemy.engine.make_url(url)
        yield parsed.difference_update_query(["options"]).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    fixture = "postgres_url" if request.param == "postgresql" else "mysql_url"
    return str(request.getfixturevalue(fixture))


def _new_study(storage: RDBStorage) -> int:
    return storage.create_new_study([StudyDirection.MINIMIZE], f"s-{uuid.uuid4().hex}")


def _template(state: TrialState, **fields: Any) -> FrozenTrial:
    finished = state.is_finished()
    now = datetime.datetime.now()
    values: dict[str, Any] = {
        "number": 0,
        "state": state,
        "value": None,
        "datetime_start": None if state == TrialState.WAITING else now,
        "datetime_complete": now if finished else None,
        "params": {},
        "distributions": {},
        "user_attrs": {},
        "system_attrs": {},
        "intermediate_values": {},
        "trial_id": 0,
    }
    values.update(fields)
    return FrozenTrial(**values)


# ---- PostgreSQL: which commits wait for the disk ------------------------------------------


def _record_commit_levels(storage: RDBStorage) -> list[tuple[str, str]]:
    """From now on, note each INSERT/UPDATE/DELETE statement the storage runs with the
    ``synchronous_commit`` level in force on its connection at that moment (the level its
    commit will use)."""
    seen: list[tuple[str, str]] = []

    @event.listens_for(storage.engine, "after_cursor_execute")
    def _note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        verb = words[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            table = words[1] if verb == "UPDATE" else words[2]
            level = cursor.connection.execute("SHOW synchronous_commit").fetchone()[0]
            seen.append((f"{verb} {table}", level))

    return seen


def test_postgres_finishing_a_trial_is_durable_and_running_writes_are_not(
    durable_postgres_url: str,
) -> None:
    storage = RDBStorage(durable_postgres_url)
    study_id = _new_study(storage)
    seen = _record_commit_levels(storage)

    trial_id = storage.create_new_trial(study_id)
    storage.set_trial_param(trial_id, "x", 0.5, _X)
    storage.set_trial_intermediate_value(trial_id, 0, 1.0)
    storage.set_trial_user_attr(trial_id, "u", 1)
    storage.set_trial_system_attr(trial_id, "s", 2)
    running = list(seen)
    seen.clear()
    storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [0.25])
    finishing = list(seen)
    seen.clear()
    storage.set_study_user_attr(study_id, "k", "v")
    study_level = list(seen)
    storage.engine.dispose()

    assert {table for table, _ in running} == {
        "INSERT trials",
        "INSERT trial_params",
        "INSERT trial_intermediate_values",
        "INSERT trial_user_attributes",
        "INSERT trial_system_attributes",
    }
    assert {level for _, level in running} == {"off"}
    assert "UPDATE trials" in {table for table, _ in finishing}
    assert {level for _, level in finishing} == {"on"}
    assert study_level and {level for _, level in study_level} == {"on"}


def test_postgres_finished_template_trial_is_durable(durable_postgres_url: str) -> None:
    storage = RDBStorage(durable_postgres_url)
    study_id = _new_study(storage)
    seen = _record_commit_levels(storage)
    complete = _template(TrialState.COMPLETE, value=1.0, params={"x": 0.5}, distributions={"x": _X})
    storage.create_new_trial(study_id, template_trial=complete)
    waiting = _template(TrialState.WAITING, system_attrs={"fixed_params": {"x": 0.5}})
    complete_levels = {level for _, level in seen}
    seen.clear()
    storage.create_new_trial(study_id, template_trial=waiting)
    waiting_levels = {level for _, level in seen}
    storage.engine.dispose()
    assert complete_levels == {"on"}
    assert waiting_levels == {"off"}


def test_postgres_other_users_of_the_engine_keep_durable_commits(
    durable_postgres_url: str,
) -> None:
    storage = RDBStorage(durable_postgres_url, engine_kwargs={"pool_size": 1, "max_overflow": 0})
    study_id = _new_study(storage)
    storage.set_trial_param(storage.create_new_trial(study_id), "x", 0.5, _X)
    # The pool's only connection is the one the storage just used.
    with storage.engine.connect() as conn:
        level = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
    assert level == "on"
    # ...and the storage's next running-trial write is asynchronous again.
    seen = _record_commit_levels(storage)
    storage.set_trial_param(storage.create_new_trial(study_id), "x", 0.5, _X)
    storage.engine.dispose()
    assert {level for _, level in seen} == {"off"}


# ---- every backend: what other processes see, and refusals ------------------------------


def _read_in_child(url: str, trial_id: int, out: Any) -> None:
    storage = RDBStorage(url)
    trial = storage.get_trial(trial_id)
    out.put((trial.state.name, trial.params, trial.intermediate_values, trial.user_attrs))
    storage.engine.dispose()


def test_running_trial_data_is_visible_to_another_process_at_once(url: str) -> None:
    storage = RDBStorage(url)
    study_id = _new_study(storage)
    trial_id = storage.create_new_trial(study_id)
    storage.set_trial_param(trial_id, "x", 0.25, _X)
    storage.set_trial_param(trial_id, "n", 3, IntDistribution(1, 5))
    storage.set_trial_intermediate_value(trial_id, 2, 0.5)
    storage.set_trial_user_attr(trial_id, "note", "hi")
    storage.engine.dispose()  # the child must not share our sockets

    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_read_in_child, args=(url, trial_id, out))
    child.start()
    try:
        seen = out.get(timeout=60)
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    assert seen == ("RUNNING", {"x": 0.25, "n": 3}, {2: 0.5}, {"note": "hi"})


def test_writes_to_a_trial_finished_by_another_worker_are_refused(url: str) -> None:
    mine = RDBStorage(url)
    other = RDBStorage(url)
    study_id = _new_study(mine)
    trial_id = mine.create_new_trial(study_id)
    mine.set_trial_param(trial_id, "x", 0.25, _X)  # this object now knows the trial's study
    assert other.set_trial_state_values(trial_id, TrialState.FAIL)

    with pytest.raises(UpdateFinishedTrialError):
        mine.set_trial_param(trial_id, "y", 0.5, _X)
    with pytest.raises(UpdateFinishedTrialError):
        mine.set_trial_intermediate_value(trial_id, 1, 0.5)
    with pytest.raises(UpdateFinishedTrialError):
        mine.set_trial_user_attr(trial_id, "k", 1)
    with pytest.raises(UpdateFinishedTrialError):
        mine.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])
    with pytest.raises(KeyError):
        mine.set_trial_param(trial_id + 1000, "x", 0.5, _X)
    trial = other.get_trial(trial_id)
    assert trial.state == TrialState.FAIL
    assert trial.params == {"x": 0.25}
    assert trial.intermediate_values == {} and trial.user_attrs == {} and trial.values is None
    mine.engine.dispose()
    other.engine.dispose()


def test_waiting_trial_enqueued_elsewhere_is_found_after_many_finished(url: str) -> None:
    reader = RDBStorage(url)
    writer = RDBStorage(url)
    study_id = _new_study(reader)
    for _ in range(3):
        trial_id = reader.create_new_trial(study_id)
        reader.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])
        assert reader.get_all_trials(study_id, states=(TrialState.WAITING,)) == []
    running = writer.create_new_trial(study_id)
    waiting = _template(TrialState.WAITING)
    enqueued = writer.create_new_trial(study_id, template_trial=waiting)
    found = reader.get_all_trials(study_id, states=(TrialState.WAITING, TrialState.RUNNING))
    assert [(t._trial_id, t.number, t.state) for t in found] == [
        (running, 3, TrialState.RUNNING),
        (enqueued, 4, TrialState.WAITING),
    ]
    reader.engine.dispose()
    writer.engine.dispose()


def test_numbers_continue_from_a_trial_without_number(url: str) -> None:
    """A trial row whose number is NULL (a writer died between its two statements, as an
    old Optuna could) makes the next number fall back to Optuna's count."""
    storage = RDBStorage(url)
    study_id = _new_study(storage)
    storage.create_new_trial(study_id)
    with storage.engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO trials (number, study_id, state) VALUES (NULL, {study_id}, 'FAIL')"
        )
    trial_id = storage.create_new_trial(study_id)
    assert storage.get_trial(trial_id).number == 2
    storage.engine.dispose()


# ---- SQLite: waiting for the lock ----------------------------------------------------------


def test_sqlite_writer_waits_for_a_locked_database(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "db.sqlite3"
    storage = RDBStorage(f"sqlite:///{path}")
    study_id = _new_study(storage)
    trial_id = storage.create_new_trial(study_id)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    released = threading.Event()

    def release() -> None:
        released.wait(timeout=0.5)
        blocker.execute("COMMIT")

    thread = threading.Thread(target=release)
    thread.start()
    try:
        storage.set_trial_param(trial_id, "x", 0.5, _X)
        storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [0.5])
    finally:
        released.set()
        thread.join(timeout=10)
        blocker.close()
    assert storage.get_trial(trial_id).params == {"x": 0.5}
    storage.engine.dispose()


# ---- server connections: pinged only after idling ------------------------------------------


@pytest.mark.parametrize("fixture", ["postgres_url", "mysql_url"])
def test_idle_connection_is_pinged_and_replaced(
    fixture: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = RDBStorage(request.getfixturevalue(fixture))
    study_id = _new_study(storage)
    pings: list[int] = []
    do_ping = storage.engine.dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        pings.append(1)
        return do_ping(dbapi_connection)

    monkeypatch.setattr(storage.engine.dialect, "do_ping", counting_ping)
    storage.get_study_directions(study_id)
    storage.get_all_trials(study_id)
    assert pings == []  # a connection used a moment ago is trusted
    monkeypatch.setattr(_engine, "_IDLE_PING_SECONDS", 0.0)
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
    assert pings  # the stale connection was pinged, found dead, and replaced
    assert storage.get_trial(trial_id).state == TrialState.RUNNING
    storage.engine.dispose()
