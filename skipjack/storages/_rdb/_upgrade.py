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
import warnings

import sqlalchemy
from sqlalchemy import Column
from sqlalchemy import Enum
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack import logging
from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb._engine import Database
from skipjack.storages._rdb._schema_edit import _apply
from skipjack.storages._rdb._schema_edit import _Change
from skipjack.storages._rdb._schema_edit import _has_table
from skipjack.storages._rdb._schema_edit import _sql_literal

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
