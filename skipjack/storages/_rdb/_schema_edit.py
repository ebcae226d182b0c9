"""One schema edit of an upgrade step (columns to add or change, unique constraints to add or
drop), applied as ALTER statements on PostgreSQL and MySQL/MariaDB or as a table rebuild on
SQLite, which cannot alter columns in place. Every edit checks first whether it is already done,
so an interrupted upgrade can run again."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy
from sqlalchemy import Column
from sqlalchemy import Enum
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import Table
from sqlalchemy import UniqueConstraint
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine


@dataclasses.dataclass
class _Change:
    """Edits to one table. ``add`` pairs each new column with the value existing rows get."""

    table: str
    add: list[tuple[Column[Any], Any]] = dataclasses.field(default_factory=list)
    drop: list[str] = dataclasses.field(default_factory=list)
    retype: dict[str, TypeEngine[Any]] = dataclasses.field(default_factory=dict)
    nullable: dict[str, bool] = dataclasses.field(default_factory=dict)
    add_unique: list[tuple[str, tuple[str, ...]]] = dataclasses.field(default_factory=list)
    drop_unique: list[tuple[str, ...]] = dataclasses.field(default_factory=list)


def _apply(conn: Connection, change: _Change) -> None:
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite_table(conn, change)
    else:
        _alter_server_table(conn, change)


def _columns(conn: Connection, table: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: dict(c) for c in sqlalchemy.inspect(conn).get_columns(table)}


def _has_table(conn: Connection, table: str) -> bool:
    return sqlalchemy.inspect(conn).has_table(table)


def _rebuild_sqlite_table(conn: Connection, change: _Change) -> None:
    """SQLite cannot alter a column: copy the table into a new one of the wanted shape, drop
    the old one and rename the copy (foreign keys elsewhere name the table, so they follow)."""
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("Upgrading SQLite needs `PRAGMA foreign_keys` off (the default).")
    inspector = sqlalchemy.inspect(conn)
    name = change.table
    temporary = f"_skipjack_rebuild_{name}"
    metadata = MetaData()
    columns, copied, fills = _rebuilt_columns(inspector.get_columns(name), change)
    kept = {c.name for c in columns}
    constraints = _rebuilt_constraints(inspector, change, kept, metadata)
    indexes = [
        index
        for index in inspector.get_indexes(name)
        if index.get("name") and set(index["column_names"]) <= kept
    ]

    new_table = Table(temporary, metadata, *columns, *constraints)
    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{temporary}"')
    new_table.create(conn)
    source = Table(name, MetaData(), *(Column(c) for c in copied))
    selected: list[Any] = [source.c[c] for c in copied]
    selected += [literal(fill, column.type) for column, fill in fills]
    targets = copied + [column.name for column, _ in fills]
    conn.execute(new_table.insert().from_select(targets, select(*selected)))
    conn.exec_driver_sql(f'DROP TABLE "{name}"')
    conn.exec_driver_sql(f'ALTER TABLE "{temporary}" RENAME TO "{name}"')
    for index in indexes:
        kind = "UNIQUE INDEX" if index.get("unique") else "INDEX"
        on = ", ".join(f'"{c}"' for c in index["column_names"])
        conn.exec_driver_sql(f'CREATE {kind} "{index["name"]}" ON "{name}" ({on})')


def _rebuilt_columns(
    old_columns: list[Any], change: _Change
) -> tuple[list[Column[Any]], list[str], list[tuple[Column[Any], Any]]]:
    """The new table's columns, the old columns copied over, and the added ones with their
    fill values."""
    columns: list[Column[Any]] = []
    copied: list[str] = []
    for col in old_columns:
        cname = col["name"]
        if cname in change.drop:
            continue
        default = col.get("default")
        columns.append(
            Column(
                cname,
                change.retype.get(cname, col["type"]),
                nullable=change.nullable.get(cname, col["nullable"]),
                server_default=None if default is None else sqlalchemy.text(default),
            )
        )
        copied.append(cname)
    fills = [(new._copy(), fill) for new, fill in change.add if new.name not in copied]
    columns += [column for column, _ in fills]
    return columns, copied, fills


def _rebuilt_constraints(
    inspector: Any, change: _Change, kept: set[str], metadata: MetaData
) -> list[Any]:
    """Primary key, foreign keys and unique constraints of the rebuilt table (no CHECKs)."""
    name = change.table
    primary = inspector.get_pk_constraint(name)["constrained_columns"]
    constraints: list[Any] = [PrimaryKeyConstraint(*primary)] if primary else []
    for fk in inspector.get_foreign_keys(name):
        if not set(fk["constrained_columns"]) <= kept:
            continue
        referred = fk["referred_table"]
        if referred not in metadata.tables:  # a stub so that the REFERENCES clause resolves
            Table(referred, metadata, *(Column(c, Integer) for c in fk["referred_columns"]))
        remote = [f"{referred}.{c}" for c in fk["referred_columns"]]
        constraints.append(ForeignKeyConstraint(fk["constrained_columns"], remote))
    dropped = {tuple(cols) for cols in change.drop_unique}
    for unique in inspector.get_unique_constraints(name):
        cols = tuple(unique["column_names"])
        if cols not in dropped and set(cols) <= kept:
            constraints.append(UniqueConstraint(*cols, name=unique.get("name")))
    constraints += [UniqueConstraint(*cols, name=uname) for uname, cols in change.add_unique]
    return constraints


def _alter_server_table(conn: Connection, change: _Change) -> None:
    """PostgreSQL and MySQL/MariaDB: ALTER statements, each skipped when already done."""
    _add_server_columns(conn, change)
    _edit_server_uniques(conn, change)
    table = _quote(conn, change.table)
    present = _columns(conn, change.table)
    for cname in change.drop:
        if cname in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {_quote(conn, cname)}")
    for cname in sorted(set(change.retype) | set(change.nullable)):
        type_ = change.retype.get(cname, present[cname]["type"])
        nullable = change.nullable.get(cname, present[cname]["nullable"])
        column = _quote(conn, cname)
        type_sql = type_.compile(dialect=conn.dialect)
        if conn.dialect.name == "mysql":
            null = "NULL" if nullable else "NOT NULL"
            conn.exec_driver_sql(f"ALTER TABLE {table} MODIFY {column} {type_sql} {null}")
            continue
        if cname in change.retype:
            conn.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_sql}")
        if cname in change.nullable:
            verb = "DROP" if nullable else "SET"
            conn.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN {column} {verb} NOT NULL")


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _add_server_columns(conn: Connection, change: _Change) -> None:
    table = _quote(conn, change.table)
    present = _columns(conn, change.table)
    for new, fill in change.add:
        if new.name in present:
            continue
        if isinstance(new.type, Enum) and conn.dialect.name == "postgresql":
            new.type.create(conn, checkfirst=True)
        column = _quote(conn, new.name)
        type_sql = new.type.compile(dialect=conn.dialect)
        null = "NULL" if new.nullable else "NOT NULL"
        default = "" if fill is None else " DEFAULT " + _sql_literal(fill)
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {type_sql} {null}{default}")
        if fill is not None:  # the default only filled the existing rows
            conn.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")


def _edit_server_uniques(conn: Connection, change: _Change) -> None:
    table = _quote(conn, change.table)

    def uniques() -> dict[tuple[str, ...], str]:
        found = sqlalchemy.inspect(conn).get_unique_constraints(change.table)
        return {tuple(u["column_names"]): str(u["name"]) for u in found}

    for uname, cols in change.add_unique:
        if cols not in uniques():
            names = ", ".join(_quote(conn, c) for c in cols)
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {_quote(conn, uname)} UNIQUE ({names})"
            )
    kind = "INDEX" if conn.dialect.name == "mysql" else "CONSTRAINT"
    for cols in change.drop_unique:
        existing = uniques().get(tuple(cols))
        if existing is not None:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP {kind} {_quote(conn, existing)}")


def _sql_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)
