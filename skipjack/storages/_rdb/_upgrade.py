"""Upgrade a database written by an older Optuna schema, one alembic revision at a time.

Each step reproduces what Optuna's alembic revision of the same name did to the tables and the
data (learned from Optuna's published revision scripts; this is our own code on SQLAlchemy Core,
without alembic). A step runs in one transaction, stamps ``alembic_version`` with its target
revision and records the library version in ``version_info`` before it commits. SQLite and
PostgreSQL roll a failed step back whole; MySQL/MariaDB commit every DDL statement on their own,
so every operation inside a step first checks whether it is already done, and re-running an
interrupted upgrade picks up where it stopped.

Deviations from Optuna's scripts, all in the direction of tolerating more:

* Tables that ``create_all`` already made in their final shape (a database opened once by a
  newer library before it was upgraded) are filled in that shape instead of failing.
* Trials that have no number after v1.3.0.a get one (their rank by id within the study).
* A NULL intermediate value copied by v2.4.0.a is kept (it becomes NaN at v3.0.0.c) rather than
  aborting the upgrade on a NOT NULL column.
* SQLite tables rebuilt on the way lose the CHECK constraints that SQLAlchemy 1.3 attached to
  enum columns; Optuna 5.0 creates these columns without them.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import json
import math
from typing import Any
import warnings

import sqlalchemy
from sqlalchemy import Column
from sqlalchemy import Enum
from sqlalchemy import Float
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

from skipjack import logging
from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb._engine import Database

__all__ = ["UPGRADE_STEPS", "upgrade"]

_logger = logging.get_logger(__name__)

# Optuna 3.0 pre-releases clipped infinities to the float32 range before they stored them; the
# v3.0.0.c/d scripts turn values that close to those bounds back into infinities.
_FLOAT32_MAX = 3.4028234663852886e38
_LARGE = 1e16
# numpy.isclose(value, bound) with its default rtol=1e-5 and atol=1e-8, as those scripts used.
_CLIPPED_TOLERANCE = 1e-8 + 1e-5 * _FLOAT32_MAX
_FLOAT53 = Float(precision=53)


def _enum(template: Enum) -> Enum:
    """A fresh copy of one of the schema's enum types, bound to no table."""
    return Enum(*template.enums, name=template.name)


# ---- one schema edit, applied as ALTER statements or as an SQLite table rebuild -------------


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


# ---- the steps ------------------------------------------------------------------------------


def _reflect(conn: Connection, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=conn)


def _add_waiting_state(conn: Connection) -> None:
    """v1.2.0.a: trials.state accepts WAITING (enqueued trials)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql("ALTER TYPE trialstate ADD VALUE IF NOT EXISTS 'WAITING'")
    elif dialect == "mysql":
        states = ", ".join(_sql_literal(v) for v in s.TRIAL_STATE.enums)
        conn.exec_driver_sql(f"ALTER TABLE trials MODIFY state ENUM({states}) NOT NULL")
    else:  # the rebuild drops the CHECK constraint that listed the four older states
        _apply(conn, _Change("trials"))


def _add_trial_number(conn: Connection) -> None:
    """v1.3.0.a: the ``_number`` system attribute becomes the column trials.number."""
    _apply(conn, _Change("trials", add=[(Column("number", Integer, nullable=True), None)]))
    trials = _reflect(conn, "trials")
    attrs = _reflect(conn, "trial_system_attributes")
    rows = conn.execute(
        select(attrs.c.trial_id, attrs.c.value_json).where(attrs.c.key == "_number")
    ).all()
    if rows:
        conn.execute(
            trials.update()
            .where(trials.c.trial_id == sqlalchemy.bindparam("id"))
            .values(number=sqlalchemy.bindparam("n")),
            [{"id": trial_id, "n": json.loads(value_json)} for trial_id, value_json in rows],
        )
    conn.execute(attrs.delete().where(attrs.c.key == "_number"))
    _number_unnumbered_trials(conn, trials)


def _number_unnumbered_trials(conn: Connection, trials: Table) -> None:
    missing = conn.execute(
        select(trials.c.trial_id, trials.c.study_id).where(trials.c.number.is_(None))
    ).all()
    for trial_id, study_id in missing:
        rank = conn.execute(
            select(sqlalchemy.func.count())
            .select_from(trials)
            .where(trials.c.study_id == study_id, trials.c.trial_id < trial_id)
        ).scalar_one()
        conn.execute(trials.update().where(trials.c.trial_id == trial_id).values(number=rank))


def _split_values_by_objective(conn: Connection) -> None:
    """v2.4.0.a: multi-objective layout. Study directions move to study_directions, the old
    trial_values (step -> value) become trial_intermediate_values, and trial_values holds one
    objective value per row, taken from trials.value."""
    _ensure_table(conn, s.study_directions)
    _ensure_table(conn, _intermediate_values_v2_4())
    studies = _reflect(conn, "studies")
    directions = _reflect(conn, "study_directions")
    if "direction" in studies.c:
        has_direction = select(directions.c.study_id).where(
            directions.c.study_id == studies.c.study_id
        )
        rows = conn.execute(
            select(studies.c.study_id, studies.c.direction).where(~has_direction.exists())
        ).all()
        if rows:
            conn.execute(
                directions.insert(),
                [{"study_id": i, "direction": d, "objective": 0} for i, d in rows],
            )

    values = _reflect(conn, "trial_values")
    if "step" in values.c:
        _copy_intermediate_values(conn, values)
        conn.execute(values.delete())
        _apply(
            conn,
            _Change(
                "trial_values",
                add=[(Column("objective", Integer, nullable=False), 0)],
                add_unique=[("uq_trial_values_trial_id_objective", ("trial_id", "objective"))],
                drop_unique=[("trial_id", "step")],
                drop=["step"],
            ),
        )
        if conn.dialect.name == "mysql":
            _drop_unique_on(conn, "trial_values", ("trial_id",))

    trials = _reflect(conn, "trials")
    if "value" in trials.c:
        values = _reflect(conn, "trial_values")
        has_value = select(values.c.trial_id).where(
            values.c.trial_id == trials.c.trial_id, values.c.objective == 0
        )
        rows = conn.execute(
            select(trials.c.trial_id, trials.c.value).where(
                trials.c.value.is_not(None), ~has_value.exists()
            )
        ).all()
        if rows:
            conn.execute(
                values.insert(), [{"trial_id": i, "objective": 0, "value": v} for i, v in rows]
            )
    _apply(conn, _Change("studies", drop=["direction"]))
    _apply(conn, _Change("trials", drop=["value"]))


def _intermediate_values_v2_4() -> Table:
    # Optuna 2.4 made intermediate_value NOT NULL; NULLs (NaN on SQLite) would abort the copy.
    return Table(
        "trial_intermediate_values",
        MetaData(),
        Column("trial_intermediate_value_id", Integer, primary_key=True),
        Column("trial_id", Integer, sqlalchemy.ForeignKey("trials.trial_id"), nullable=False),
        Column("step", Integer, nullable=False),
        Column("intermediate_value", Float, nullable=True),
        UniqueConstraint("trial_id", "step"),
    )


def _ensure_table(conn: Connection, table: Table) -> None:
    if _has_table(conn, table.name):
        return
    metadata = MetaData()
    for fk in table.foreign_keys:  # stubs so that the REFERENCES clauses resolve
        target = fk.target_fullname.split(".")[0]
        if target not in metadata.tables:
            Table(target, metadata, Column(fk.target_fullname.split(".")[1], Integer))
    copy = table.to_metadata(metadata)
    for column in copy.columns:
        if isinstance(column.type, Enum):
            column.type = _enum(column.type)
    copy.create(conn, checkfirst=False)


def _copy_intermediate_values(conn: Connection, old_values: Table) -> None:
    target = _reflect(conn, "trial_intermediate_values")
    exists = select(target.c.trial_id).where(
        target.c.trial_id == old_values.c.trial_id, target.c.step == old_values.c.step
    )
    rows = conn.execute(
        select(old_values.c.trial_id, old_values.c.step, old_values.c.value).where(
            old_values.c.step.is_not(None), ~exists.exists()
        )
    ).all()
    typed = "intermediate_value_type" in target.c
    records = []
    for trial_id, step, value in rows:
        record = {"trial_id": trial_id, "step": step, "intermediate_value": value}
        if typed:  # the table already has its final shape; v3.0.0.c refines the types
            record["intermediate_value_type"] = "NAN" if value is None else "FINITE"
        records.append(record)
    if records:
        conn.execute(target.insert(), records)


def _drop_unique_on(conn: Connection, table: str, cols: tuple[str, ...]) -> None:
    # MySQL narrows a unique index when one of its columns is dropped.
    for unique in sqlalchemy.inspect(conn).get_unique_constraints(table):
        if tuple(unique["column_names"]) == cols:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP INDEX `{unique['name']}`")


def _text_attributes(conn: Connection) -> None:
    """v2.6.0.a: attribute values and distributions become TEXT (no 2048-character limit)."""
    for table in (
        "study_user_attributes",
        "study_system_attributes",
        "trial_user_attributes",
        "trial_system_attributes",
    ):
        _apply(conn, _Change(table, retype={"value_json": Text()}))
    _apply(conn, _Change("trial_params", retype={"distribution_json": Text()}))


def _unify_distributions(conn: Connection) -> None:
    """v3.0.0.a: the deprecated distribution classes become Float/IntDistribution."""
    params = _reflect(conn, "trial_params")
    stored = conn.execute(select(params.c.distribution_json).distinct()).scalars().all()
    for old in stored:
        if old is None:
            continue
        new = _converted_distribution(old)
        if new != old:
            conn.execute(
                params.update()
                .where(params.c.distribution_json == old)
                .values(distribution_json=new)
            )


def _converted_distribution(text: str) -> str:
    from skipjack.distributions import _convert_old_distribution_to_new_distribution
    from skipjack.distributions import distribution_to_json
    from skipjack.distributions import json_to_distribution

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = json_to_distribution(text)
        new = _convert_old_distribution_to_new_distribution(old, suppress_warning=True)
    return text if new is old else distribution_to_json(new)


def _double_precision(conn: Connection) -> None:
    """v3.0.0.b: floats become double precision, intermediate values may be NULL, and value
    rows without a value go away."""
    trials = _reflect(conn, "trials")
    values = _reflect(conn, "trial_values")
    broken = conn.execute(
        select(sqlalchemy.func.count())
        .select_from(values.join(trials, values.c.trial_id == trials.c.trial_id))
        .where(trials.c.state == "COMPLETE", values.c.value.is_(None))
    ).scalar_one()
    if broken:
        raise RuntimeError(
            f"Cannot upgrade: {broken} COMPLETE trial(s) have a NULL objective value."
        )
    conn.execute(values.delete().where(values.c.value.is_(None)))
    _apply(
        conn,
        _Change(
            "trial_intermediate_values",
            retype={"intermediate_value": _FLOAT53},
            nullable={"intermediate_value": True},
        ),
    )
    _apply(conn, _Change("trial_params", retype={"param_value": _FLOAT53}))
    _apply(conn, _Change("trial_values", retype={"value": _FLOAT53}, nullable={"value": False}))


def _special_value(value: float) -> str | None:
    """INF_POS/INF_NEG for an infinity or a value clipped to the float32 range, else None."""
    if value == math.inf or abs(value - _FLOAT32_MAX) <= _CLIPPED_TOLERANCE:
        return "INF_POS"
    if value == -math.inf or abs(value + _FLOAT32_MAX) <= _CLIPPED_TOLERANCE:
        return "INF_NEG"
    return None


def _intermediate_value_types(conn: Connection) -> None:
    """v3.0.0.c: intermediate_value_type tells +inf, -inf and NaN apart (stored as NULL)."""
    kind = _enum(s.INTERMEDIATE_TYPE)
    _apply(
        conn,
        _Change(
            "trial_intermediate_values",
            add=[(Column("intermediate_value_type", kind, nullable=False), "FINITE")],
        ),
    )
    table = _reflect(conn, "trial_intermediate_values")
    id_col = table.c.trial_intermediate_value_id
    value = table.c.intermediate_value
    type_col = table.c.intermediate_value_type
    conn.execute(
        table.update()
        .where(value.is_(None), type_col == "FINITE")
        .values(intermediate_value_type="NAN")
    )
    rows = conn.execute(select(id_col, value).where((value > _LARGE) | (value < -_LARGE))).all()
    for row_id, stored in rows:
        special = _special_value(float(stored))
        if special is not None:
            conn.execute(
                table.update()
                .where(id_col == row_id)
                .values(intermediate_value=None, intermediate_value_type=special)
            )


def _value_types(conn: Connection) -> None:
    """v3.0.0.d: value_type tells +inf and -inf objective values apart (stored as NULL)."""
    kind = _enum(s.VALUE_TYPE)
    _apply(
        conn,
        _Change(
            "trial_values",
            add=[(Column("value_type", kind, nullable=False), "FINITE")],
            nullable={"value": True},
        ),
    )
    table = _reflect(conn, "trial_values")
    value = table.c.value
    rows = conn.execute(
        select(table.c.trial_value_id, value).where((value > _LARGE) | (value < -_LARGE))
    ).all()
    for row_id, stored in rows:
        special = _special_value(float(stored))
        if special is not None:
            conn.execute(
                table.update()
                .where(table.c.trial_value_id == row_id)
                .values(value=None, value_type=special)
            )


def _index_trials_by_study(conn: Connection) -> None:
    """v3.2.0.a: an index on trials.study_id."""
    names = {index["name"] for index in sqlalchemy.inspect(conn).get_indexes("trials")}
    if "trials_study_id_key" not in names:
        trials = _reflect(conn, "trials")
        sqlalchemy.Index("trials_study_id_key", trials.c.study_id).create(conn)


@dataclasses.dataclass(frozen=True)
class UpgradeStep:
    """One revision step: ``source`` -> ``target``, applied by ``apply`` in one transaction."""

    source: str
    target: str
    summary: str
    apply: Callable[[Connection], None]


_STEP_BODIES: tuple[tuple[Callable[[Connection], None], str], ...] = (
    (_add_waiting_state, "trial state WAITING"),
    (_add_trial_number, "trial numbers in trials.number"),
    (
        _split_values_by_objective,
        "study_directions, trial_values per objective, intermediate values",
    ),
    (_text_attributes, "TEXT attribute and distribution columns"),
    (_unify_distributions, "Float/IntDistribution instead of the deprecated classes"),
    (_double_precision, "double-precision floats"),
    (_intermediate_value_types, "intermediate_value_type for inf/NaN"),
    (_value_types, "value_type for inf objective values"),
    (_index_trials_by_study, "index on trials.study_id"),
)

UPGRADE_STEPS: tuple[UpgradeStep, ...] = tuple(
    UpgradeStep(source, target, summary, apply)
    for source, target, (apply, summary) in zip(
        s.KNOWN_REVISIONS, s.KNOWN_REVISIONS[1:], _STEP_BODIES
    )
)
"""Every step, oldest first; step i upgrades ``KNOWN_REVISIONS[i]`` to the next revision."""


# ---- driver ---------------------------------------------------------------------------------


def _revision(conn: Connection) -> str | None:
    if not _has_table(conn, "alembic_version"):
        return None
    return conn.execute(select(s.alembic_version.c.version_num)).scalar()


def upgrade(
    db: Database,
    *,
    library_version: str,
    on_step: Callable[[UpgradeStep], None] | None = None,
) -> list[UpgradeStep]:
    """Bring the database to :data:`~skipjack.storages._rdb._schema.ALEMBIC_HEAD`.

    Returns the steps applied (none for a database already at the head, or one without any
    schema yet, which the caller creates). ``on_step`` is called after each step commits.

    Raises:
        RuntimeError: if the database carries a revision this library does not know (written
            by a newer library), or has tables but no revision stamp.
    """
    revision = db.run(_revision, write=False)
    if revision is None:
        if db.run(lambda conn: _has_table(conn, "studies"), write=False):
            raise RuntimeError(
                "The database has Optuna tables but no `alembic_version` stamp, so its schema "
                "revision is unknown; it cannot be upgraded."
            )
        return []
    if revision not in s.KNOWN_REVISIONS:
        raise RuntimeError(
            f"The database schema revision {revision!r} is newer than this skipjack knows "
            f"(its newest is {s.ALEMBIC_HEAD!r}); it was written by a newer library. Update "
            "skipjack to open it."
        )
    applied = []
    for step in UPGRADE_STEPS[s.KNOWN_REVISIONS.index(revision) :]:
        if _run_step(db, step, library_version):
            applied.append(step)
            _logger.info(
                f"Upgraded the storage schema {step.source} -> {step.target} ({step.summary})."
            )
            if on_step is not None:
                on_step(step)
    return applied


def _run_step(db: Database, step: UpgradeStep, library_version: str) -> bool:
    def body(conn: Connection) -> bool:
        if _revision(conn) != step.source:
            return False  # another process applied this step meanwhile
        step.apply(conn)
        conn.execute(s.alembic_version.update().values(version_num=step.target))
        conn.execute(
            s.version_info.update().values(
                schema_version=s.SCHEMA_VERSION, library_version=library_version
            )
        )
        return True

    return db.run(body)
