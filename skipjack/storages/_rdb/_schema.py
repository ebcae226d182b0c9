"""The RDB schema: Optuna 5.0's tables, column for column, plus skipjack's extra tables.

Optuna (and optuna-dashboard) open databases written with this schema and we open theirs, so the
table, column, index and enum-type names below are a wire format (see FORMATS.md). skipjack-only
data lives in the ``skipjack_*`` tables, which Optuna ignores.
"""

from __future__ import annotations

import math

from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Enum
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import func

__all__ = [
    "ALEMBIC_HEAD",
    "KNOWN_REVISIONS",
    "SCHEMA_VERSION",
    "metadata",
]

# Frozen by Optuna ("don't modify anymore"); the real marker is the alembic revision.
SCHEMA_VERSION = 12
ALEMBIC_HEAD = "v3.2.0.a"
KNOWN_REVISIONS = (
    "v0.9.0.a",
    "v1.2.0.a",
    "v1.3.0.a",
    "v2.4.0.a",
    "v2.6.0.a",
    "v3.0.0.a",
    "v3.0.0.b",
    "v3.0.0.c",
    "v3.0.0.d",
    "v3.2.0.a",
)
MAX_NAME_LENGTH = 512
_FLOAT = Float(precision=53)

# Enums are stored by member name; the type names are what PostgreSQL calls the native types.
TRIAL_STATE = Enum("RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING", name="trialstate")
DIRECTION = Enum("NOT_SET", "MINIMIZE", "MAXIMIZE", name="studydirection")
VALUE_TYPE = Enum("FINITE", "INF_POS", "INF_NEG", name="trialvaluetype")
INTERMEDIATE_TYPE = Enum("FINITE", "INF_POS", "INF_NEG", "NAN", name="trialintermediatevaluetype")

metadata = MetaData()

studies = Table(
    "studies",
    metadata,
    Column("study_id", Integer, primary_key=True),
    Column("study_name", String(MAX_NAME_LENGTH), index=True, unique=True, nullable=False),
)

study_directions = Table(
    "study_directions",
    metadata,
    Column("study_direction_id", Integer, primary_key=True),
    Column("direction", DIRECTION, nullable=False),
    Column("study_id", Integer, ForeignKey("studies.study_id"), nullable=False),
    Column("objective", Integer, nullable=False),
    UniqueConstraint("study_id", "objective"),
)


def _study_attr_table(name: str, id_column: str) -> Table:
    return Table(
        name,
        metadata,
        Column(id_column, Integer, primary_key=True),
        Column("study_id", Integer, ForeignKey("studies.study_id")),
        Column("key", String(MAX_NAME_LENGTH)),
        Column("value_json", Text()),
        UniqueConstraint("study_id", "key"),
    )


study_user_attributes = _study_attr_table("study_user_attributes", "study_user_attribute_id")
study_system_attributes = _study_attr_table("study_system_attributes", "study_system_attribute_id")

trials = Table(
    "trials",
    metadata,
    Column("trial_id", Integer, primary_key=True),
    Column("number", Integer),
    Column("study_id", Integer, ForeignKey("studies.study_id"), index=True),
    Column("state", TRIAL_STATE, nullable=False),
    Column("datetime_start", DateTime),
    Column("datetime_complete", DateTime),
)


def _trial_attr_table(name: str, id_column: str) -> Table:
    return Table(
        name,
        metadata,
        Column(id_column, Integer, primary_key=True),
        Column("trial_id", Integer, ForeignKey("trials.trial_id")),
        Column("key", String(MAX_NAME_LENGTH)),
        Column("value_json", Text()),
        UniqueConstraint("trial_id", "key"),
    )


trial_user_attributes = _trial_attr_table("trial_user_attributes", "trial_user_attribute_id")
trial_system_attributes = _trial_attr_table("trial_system_attributes", "trial_system_attribute_id")

trial_params = Table(
    "trial_params",
    metadata,
    Column("param_id", Integer, primary_key=True),
    Column("trial_id", Integer, ForeignKey("trials.trial_id")),
    Column("param_name", String(MAX_NAME_LENGTH)),
    Column("param_value", _FLOAT),
    Column("distribution_json", Text()),
    UniqueConstraint("trial_id", "param_name"),
)

trial_values = Table(
    "trial_values",
    metadata,
    Column("trial_value_id", Integer, primary_key=True),
    Column("trial_id", Integer, ForeignKey("trials.trial_id"), nullable=False),
    Column("objective", Integer, nullable=False),
    Column("value", _FLOAT, nullable=True),
    Column("value_type", VALUE_TYPE, nullable=False),
    UniqueConstraint("trial_id", "objective"),
)

trial_intermediate_values = Table(
    "trial_intermediate_values",
    metadata,
    Column("trial_intermediate_value_id", Integer, primary_key=True),
    Column("trial_id", Integer, ForeignKey("trials.trial_id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("intermediate_value", _FLOAT, nullable=True),
    Column("intermediate_value_type", INTERMEDIATE_TYPE, nullable=False),
    UniqueConstraint("trial_id", "step"),
)

trial_heartbeats = Table(
    "trial_heartbeats",
    metadata,
    Column("trial_heartbeat_id", Integer, primary_key=True),
    Column("trial_id", Integer, ForeignKey("trials.trial_id"), nullable=False),
    Column("heartbeat", DateTime, nullable=False, default=func.current_timestamp()),
    UniqueConstraint("trial_id"),
)

version_info = Table(
    "version_info",
    metadata,
    Column("version_info_id", Integer, primary_key=True, autoincrement=False, default=1),
    Column("schema_version", Integer),
    Column("library_version", String(256)),
    CheckConstraint("version_info_id=1"),
)

alembic_version = Table(
    "alembic_version",
    metadata,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

# ---- skipjack-only tables (no foreign keys, so Optuna's deletes never trip over them) -------

# Atomic claims: the unique constraint makes the first INSERT win.
skipjack_claims = Table(
    "skipjack_claims",
    metadata,
    Column("claim_id", Integer, primary_key=True),
    Column("study_id", Integer, nullable=False),
    Column("claim_key", String(MAX_NAME_LENGTH), nullable=False),
    Column("trial_id", Integer, nullable=False),
    UniqueConstraint("study_id", "claim_key", name="uq_skipjack_claims_study_key"),
)

# The order in which a study's trials finished: ``seq`` counts 1, 2, 3... per study with no gaps,
# assigned under the study's row lock, so a reader that has seen seq N has seen every seq <= N.
skipjack_trial_finish = Table(
    "skipjack_trial_finish",
    metadata,
    Column("finish_id", Integer, primary_key=True),
    Column("study_id", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("trial_id", Integer, nullable=False),
    UniqueConstraint("study_id", "seq", name="uq_skipjack_trial_finish_seq"),
    UniqueConstraint("trial_id", name="uq_skipjack_trial_finish_trial"),
)


SKIPJACK_TABLES = (skipjack_claims, skipjack_trial_finish)


def value_to_stored(value: float) -> tuple[float | None, str]:
    """Split an objective value into the (value, value_type) columns."""
    if value == math.inf:
        return None, "INF_POS"
    if value == -math.inf:
        return None, "INF_NEG"
    return float(value), "FINITE"


def intermediate_to_stored(value: float) -> tuple[float | None, str]:
    """Split an intermediate value into its (value, type) columns; NaN is allowed here."""
    if math.isnan(value):
        return None, "NAN"
    return value_to_stored(value)


def stored_to_value(value: float | None, value_type: str) -> float:
    """Inverse of :func:`value_to_stored` and :func:`intermediate_to_stored`."""
    if value_type == "FINITE":
        assert value is not None
        return float(value)
    if value_type == "INF_POS":
        return math.inf
    if value_type == "INF_NEG":
        return -math.inf
    return math.nan
