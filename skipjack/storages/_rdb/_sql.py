"""Statements shared by RDBStorage's operations: upserts, row locks, datetimes, trial loading."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
import datetime
import json
from typing import Any

from sqlalchemy import Integer
from sqlalchemy import Table
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.distributions import BaseDistribution
from skipjack.distributions import json_to_distribution
from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb._pg import LOCKED_STUDY
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

_UTC = datetime.timezone.utc
_CHUNK = 500

FINISHED_NAMES = ("COMPLETE", "PRUNED", "FAIL")
UNFINISHED_NAMES = ("RUNNING", "WAITING")


def state_in(names: Sequence[str]) -> Any:
    """``trials.state IN (names)`` written as equalities: a literal IN list becomes an
    expanding parameter that SQLAlchemy re-renders on every execution."""
    return or_(*(s.trials.c.state == name for name in names))


# ---- datetimes: naive UTC in the database, naive local time in FrozenTrial --------------------
def to_db_datetime(value: datetime.datetime | None) -> datetime.datetime | None:
    """A datetime as stored: naive UTC (a naive input is taken to be local time)."""
    if value is None:
        return None
    return value.astimezone(_UTC).replace(tzinfo=None)


def from_db_datetime(value: datetime.datetime | None) -> datetime.datetime | None:
    """A stored naive-UTC datetime as naive local time, as Optuna 5.0 reads it."""
    if value is None:
        return None
    return value.replace(tzinfo=_UTC).astimezone().replace(tzinfo=None)


# ---- distributions are immutable, so their JSON is parsed once per process -------------------
_DISTRIBUTIONS: dict[str, BaseDistribution] = {}


def parse_distribution(text: str) -> BaseDistribution:
    """``json_to_distribution`` with a cache (storages repeat the same few JSON strings)."""
    dist = _DISTRIBUTIONS.get(text)
    if dist is None:
        dist = json_to_distribution(text)
        if len(_DISTRIBUTIONS) < 10_000:
            _DISTRIBUTIONS[text] = dist
    return dist


# ---- statements are built once and reused: building them costs more than running them -------
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _upsert_statement(
    dialect: str, table: Table, keys: tuple[str, ...], values: tuple[str, ...]
) -> Any:
    cache_key = ("upsert", dialect, table.name, keys, values)
    stmt = _STATEMENTS.get(cache_key)
    if stmt is not None:
        return stmt
    row: dict[str, Any] = {k: bindparam(k) for k in (*keys, *values)}
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        sstmt = sqlite_insert(table).values(row)
        stmt = sstmt.on_conflict_do_update(
            index_elements=list(keys), set_={k: sstmt.excluded[k] for k in values}
        )
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pstmt = pg_insert(table).values(row)
        stmt = pstmt.on_conflict_do_update(
            index_elements=list(keys), set_={k: pstmt.excluded[k] for k in values}
        )
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        mstmt = mysql_insert(table).values(row)
        stmt = mstmt.on_duplicate_key_update({k: mstmt.inserted[k] for k in values})
    else:
        return None
    _STATEMENTS[cache_key] = stmt
    return stmt


def upsert(conn: Connection, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    """Insert a row, or update ``values`` on the row that has the same unique ``keys``."""
    stmt = _upsert_statement(conn.dialect.name, table, tuple(keys), tuple(values))
    if stmt is not None:
        conn.execute(stmt, {**keys, **values})
        return
    where = and_(*(table.c[k] == v for k, v in keys.items()))
    if conn.execute(table.update().where(where).values(values)).rowcount == 0:
        conn.execute(table.insert(), {**keys, **values})


_STUDY_Q = select(s.studies.c.study_id).where(s.studies.c.study_id == bindparam("study_id"))
_STUDY_LOCK_Q = _STUDY_Q.with_for_update()
_f = s.skipjack_trial_finish
# The next finish sequence number, computed by the INSERT itself; correct only with the study
# row locked (the statement then sees every finish committed before the lock was granted).
_RECORD_FINISH = _f.insert().from_select(
    ["study_id", "seq", "trial_id"],
    select(
        bindparam("study_id", type_=Integer),
        func.coalesce(func.max(_f.c.seq), 0) + 1,
        bindparam("trial_id", type_=Integer),
    ).where(_f.c.study_id == bindparam("study_id", type_=Integer)),
)


def lock_study(conn: Connection, study_id: int) -> None:
    """Take the study row's write lock (a no-op on SQLite, where BEGIN IMMEDIATE already holds
    the database's write lock); KeyError if the study does not exist."""
    if conn.execute(_STUDY_LOCK_Q, {"study_id": study_id}).first() is None:
        raise KeyError(f"No study with study_id {study_id} exists.")


def serialize_study(conn: Connection, study_id: int) -> None:
    """Make this transaction the study's only writer until it ends: the study row's lock on
    servers (unless the transaction began with it, see ``Database.run``); nothing on SQLite,
    whose BEGIN IMMEDIATE already holds the database's write lock. KeyError if the study
    does not exist (when checked here)."""
    if conn.dialect.name == "sqlite":
        return
    if conn.get_execution_options().get(LOCKED_STUDY) == study_id:
        return
    lock_study(conn, study_id)


_t0 = s.trials
# Optuna numbers a trial by counting the study's trials with a smaller id. With the study
# locked every trial of it has a smaller id, and numbers are dense, so the newest trial's
# number + 1 is that count at a cost that does not grow with the study (the count is the
# fallback for a newest trial without a number).
_NEXT_NUMBER = func.coalesce(
    select(_t0.c.number + 1)
    .where(_t0.c.study_id == bindparam("study_id"))
    .order_by(_t0.c.trial_id.desc())
    .limit(1)
    .scalar_subquery(),
    select(func.count())
    .select_from(_t0)
    .where(_t0.c.study_id == bindparam("study_id"))
    .scalar_subquery(),
)
_NEXT_NUMBER_Q = select(_NEXT_NUMBER).where(s.studies.c.study_id == bindparam("study_id"))
_TRIAL_COLUMNS = ("state", "datetime_start", "datetime_complete")
# One statement that numbers and inserts the trial, for dialects with INSERT ... RETURNING.
_INSERT_TRIAL = (
    _t0.insert()
    .from_select(
        ["study_id", "number", *_TRIAL_COLUMNS],
        select(
            s.studies.c.study_id,
            _NEXT_NUMBER,
            *(bindparam(c, type_=_t0.c[c].type) for c in _TRIAL_COLUMNS),
        ).where(s.studies.c.study_id == bindparam("study_id")),
    )
    .returning(_t0.c.trial_id, _t0.c.number)
)


def insert_trial(conn: Connection, study_id: int, row: dict[str, Any]) -> tuple[int, int]:
    """Insert a trial of a study (``row``: state, datetime_start, datetime_complete) with
    the next number; (trial id, number). Call with the study locked (:func:`serialize_study`);
    KeyError if there is no such study."""
    bind = {**row, "study_id": study_id}
    if conn.dialect.name in ("postgresql", "sqlite"):
        inserted = conn.execute(_INSERT_TRIAL, bind).first()
        if inserted is None:
            raise KeyError(f"No study with study_id {study_id} exists.")
        return int(inserted[0]), int(inserted[1])
    number = conn.execute(_NEXT_NUMBER_Q, bind).scalar()
    if number is None:
        raise KeyError(f"No study with study_id {study_id} exists.")
    key = conn.execute(_t0.insert(), {**bind, "number": number}).inserted_primary_key
    assert key is not None
    return int(key[0]), int(number)


def require_study(conn: Connection, study_id: int) -> None:
    """KeyError unless the study exists."""
    if conn.execute(_STUDY_Q, {"study_id": study_id}).first() is None:
        raise KeyError(f"No study with study_id {study_id} exists.")


def record_finish(conn: Connection, study_id: int, trial_ids: Iterable[int]) -> None:
    """Append trials to the study's finish order. Call with the study row locked (on SQLite,
    in a write transaction), so that sequence numbers are dense and become visible in order."""
    for trial_id in trial_ids:
        conn.execute(_RECORD_FINISH, {"study_id": study_id, "trial_id": trial_id})


_DELETE_VALUES = s.trial_values.delete().where(
    s.trial_values.c.trial_id == bindparam("trial_id"),
    s.trial_values.c.objective < bindparam("n"),
)


def set_values(conn: Connection, trial_id: int, values: Sequence[float]) -> None:
    """Write a trial's objective values (replacing those of the same objectives)."""
    rows = []
    for objective, value in enumerate(values):
        stored, kind = s.value_to_stored(value)
        rows.append(
            {"trial_id": trial_id, "objective": objective, "value": stored, "value_type": kind}
        )
    if not rows:
        return
    stmt = _upsert_statement(
        conn.dialect.name, s.trial_values, ("trial_id", "objective"), ("value", "value_type")
    )
    if stmt is not None:
        conn.execute(stmt, rows)
        return
    conn.execute(_DELETE_VALUES, {"trial_id": trial_id, "n": len(values)})
    conn.execute(s.trial_values.insert(), rows)


def set_intermediate(conn: Connection, trial_id: int, step: int, value: float) -> None:
    """Write (or overwrite) one intermediate value."""
    stored, kind = s.intermediate_to_stored(value)
    upsert(
        conn,
        s.trial_intermediate_values,
        {"trial_id": trial_id, "step": step},
        {"intermediate_value": stored, "intermediate_value_type": kind},
    )


_FIRST_DISTRIBUTION_Q = (
    select(s.trial_params.c.distribution_json)
    .join(s.trials, s.trials.c.trial_id == s.trial_params.c.trial_id)
    .where(
        s.trials.c.study_id == bindparam("study_id"),
        s.trial_params.c.param_name == bindparam("name"),
    )
    .order_by(s.trial_params.c.param_id)
    .limit(1)
)


def first_distribution(conn: Connection, study_id: int, name: str) -> BaseDistribution | None:
    """The distribution the study first stored for parameter ``name``, if any."""
    text = conn.execute(_FIRST_DISTRIBUTION_Q, {"study_id": study_id, "name": name}).scalar()
    return None if text is None else parse_distribution(text)


# ---- reads -----------------------------------------------------------------------------------
def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def load_trials(conn: Connection, trial_ids: Sequence[int]) -> dict[int, FrozenTrial]:
    """Build FrozenTrials for the given ids (unknown ids are left out), six queries per chunk."""
    out: dict[int, FrozenTrial] = {}
    for chunk in _chunks(list(trial_ids)):
        out.update(_load_chunk(conn, chunk))
    return out


_IDS: Any = bindparam("ids", expanding=True)
_t, _v, _p, _iv = s.trials, s.trial_values, s.trial_params, s.trial_intermediate_values
# Built once: SQLAlchemy then reuses their compiled form (the id list is an expanding bind).
_TRIALS_Q = select(
    _t.c.trial_id, _t.c.number, _t.c.state, _t.c.datetime_start, _t.c.datetime_complete
).where(_t.c.trial_id.in_(_IDS))
_VALUES_Q = select(_v.c.trial_id, _v.c.objective, _v.c.value, _v.c.value_type).where(
    _v.c.trial_id.in_(_IDS)
)
_PARAMS_Q = (
    select(_p.c.trial_id, _p.c.param_name, _p.c.param_value, _p.c.distribution_json)
    .where(_p.c.trial_id.in_(_IDS))
    .order_by(_p.c.param_id)
)
_INTERMEDIATE_Q = (
    select(_iv.c.trial_id, _iv.c.step, _iv.c.intermediate_value, _iv.c.intermediate_value_type)
    .where(_iv.c.trial_id.in_(_IDS))
    .order_by(_iv.c.step)
)


def _attrs_query(table: Table) -> Any:
    return (
        select(table.c.trial_id, table.c.key, table.c.value_json)
        .where(table.c.trial_id.in_(_IDS))
        .order_by(table.c[table.c.keys()[0]])
    )


_USER_Q = _attrs_query(s.trial_user_attributes)
_SYSTEM_Q = _attrs_query(s.trial_system_attributes)


def _load_chunk(conn: Connection, ids: Sequence[int]) -> dict[int, FrozenTrial]:
    bind = {"ids": list(ids)}
    rows = conn.execute(_TRIALS_Q, bind).all()
    if not rows:
        return {}
    values: dict[int, dict[int, float]] = {}
    for tid, objective, value, kind in conn.execute(_VALUES_Q, bind):
        values.setdefault(tid, {})[objective] = s.stored_to_value(value, kind)
    params: dict[int, dict[str, Any]] = {}
    dists: dict[int, dict[str, BaseDistribution]] = {}
    for tid, name, value, text in conn.execute(_PARAMS_Q, bind):
        dist = parse_distribution(text)
        params.setdefault(tid, {})[name] = dist.to_external_repr(value)
        dists.setdefault(tid, {})[name] = dist
    inter: dict[int, dict[int, float]] = {}
    for tid, step, value, kind in conn.execute(_INTERMEDIATE_Q, bind):
        inter.setdefault(tid, {})[step] = s.stored_to_value(value, kind)
    user = _attrs(conn, _USER_Q, bind)
    system = _attrs(conn, _SYSTEM_Q, bind)
    out = {}
    for tid, number, state, start, complete in rows:
        by_objective = values.get(tid)
        out[tid] = FrozenTrial(
            number=number,
            state=TrialState[state],
            value=None,
            values=None if not by_objective else [by_objective[k] for k in sorted(by_objective)],
            datetime_start=from_db_datetime(start),
            datetime_complete=from_db_datetime(complete),
            params=params.get(tid, {}),
            distributions=dists.get(tid, {}),
            user_attrs=user.get(tid, {}),
            system_attrs=system.get(tid, {}),
            intermediate_values=inter.get(tid, {}),
            trial_id=tid,
        )
    return out


def _attrs(conn: Connection, query: Any, bind: dict[str, Any]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for tid, key, text in conn.execute(query, bind):
        out.setdefault(tid, {})[key] = json.loads(text)
    return out


def study_attrs(conn: Connection, table: Table, study_id: int) -> dict[str, Any]:
    """A study's user or system attributes."""
    query = (
        select(table.c.key, table.c.value_json)
        .where(table.c.study_id == study_id)
        .order_by(table.c[table.c.keys()[0]])
    )
    return {key: json.loads(text) for key, text in conn.execute(query)}
