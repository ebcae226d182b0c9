"""One-statement writes to a running trial's rows.

Each statement is an ``INSERT ... SELECT`` (an upsert for attributes and intermediate values)
whose SELECT yields its one row only while the trial exists and is unfinished, so the usual
"is the trial still running?" query need not run first. When nothing was written the caller
asks why (no such trial, or a finished one) with a separate query, which only errors pay for.

The upsert form is built for SQLite and PostgreSQL, whose ``ON CONFLICT`` clause accepts an
``INSERT ... SELECT``; other dialects get None and fall back to checking first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb._sql import UNFINISHED_NAMES
from skipjack.storages._rdb._sql import state_in

_t = s.trials
_STILL_UNFINISHED = exists().where(
    _t.c.trial_id == bindparam("trial_id", type_=_t.c.trial_id.type),
    state_in(UNFINISHED_NAMES),
)
_STATEMENTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _build(dialect: str, table: Table, keys: tuple[str, ...], values: tuple[str, ...]) -> Any:
    columns = ["trial_id", *keys, *values]
    row = select(*(bindparam(c, type_=table.c[c].type) for c in columns)).where(_STILL_UNFINISHED)
    if not keys:
        return table.insert().from_select(columns, row)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:
        return None
    # (SQLite needs the WHERE above: without it "SELECT ... ON CONFLICT" would not parse.)
    stmt = insert(table).from_select(columns, row)
    return stmt.on_conflict_do_update(
        index_elements=["trial_id", *keys], set_={c: stmt.excluded[c] for c in values}
    )


def statement(dialect: str, table: Table, keys: tuple[str, ...], values: tuple[str, ...]) -> Any:
    """The guarded write of ``table``'s columns ``trial_id`` + ``keys`` + ``values``, or None
    where the dialect cannot express it. ``keys`` name the row (with ``trial_id``) that the
    write replaces if it exists; with no keys it is a plain INSERT, and a duplicate raises
    IntegrityError."""
    cache_key = (dialect, table.name, keys, values)
    if cache_key not in _STATEMENTS:
        stmt = _build(dialect, table, keys, values)
        # SQLAlchemy reports an INSERT's row count only when asked to keep it.
        _STATEMENTS[cache_key] = (
            None if stmt is None else stmt.execution_options(preserve_rowcount=True)
        )
    return _STATEMENTS[cache_key]


def write(conn: Connection, stmt: Any, row: dict[str, Any]) -> bool:
    """Execute a guarded write; False when the trial was missing or finished (nothing
    written)."""
    return bool(conn.execute(stmt, row).rowcount)
