"""The journal's record format, shared with Optuna: op codes, reserved keys, datetimes."""

from __future__ import annotations

import datetime
import enum
import functools
from typing import Any

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import distribution_to_json
from skipjack.distributions import json_to_distribution
from skipjack.trial._frozen import FrozenTrial

__all__ = [
    "CLAIM_PREFIX",
    "HEARTBEAT_KEY",
    "Op",
    "format_datetime",
    "parse_datetime",
    "template_fields",
]

# skipjack's own data rides on existing records under these system-attribute keys, so Optuna's
# reader (which crashes on unknown op codes) reads skipjack's logs.
HEARTBEAT_KEY = "skipjack:heartbeat"
CLAIM_PREFIX = "skipjack:claim:"


class Op(enum.IntEnum):
    """Journal op codes. 0-9 are Optuna's; 10 is Rustuna's DISCARD_TRIALS, which Optuna 5.0
    skips and so do we. skipjack writes 0-9 only."""

    CREATE_STUDY = 0
    DELETE_STUDY = 1
    SET_STUDY_USER_ATTR = 2
    SET_STUDY_SYSTEM_ATTR = 3
    CREATE_TRIAL = 4
    SET_TRIAL_PARAM = 5
    SET_TRIAL_STATE_VALUES = 6
    SET_TRIAL_INTERMEDIATE_VALUE = 7
    SET_TRIAL_USER_ATTR = 8
    SET_TRIAL_SYSTEM_ATTR = 9
    DISCARD_TRIALS = 10


def format_datetime(value: datetime.datetime) -> str:
    """ISO-8601 in UTC with microseconds, as Optuna 5.0 writes; a naive value is local time."""
    return value.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")


def now_iso() -> str:
    """The current time, formatted for a record."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def parse_datetime(text: str) -> datetime.datetime:
    """Read a record's datetime as naive local time (what FrozenTrial holds).

    Aware values are converted to local time; naive ones (Optuna <= 4.9) are local already.
    """
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value
    return value.astimezone().replace(tzinfo=None)


@functools.lru_cache(maxsize=1024)
def load_distribution(text: str) -> BaseDistribution:
    """``json_to_distribution`` with a cache: a study repeats the same few distributions.

    Distributions are treated as immutable everywhere, so sharing one object is safe.
    """
    return json_to_distribution(text)


def internal_value(distribution: BaseDistribution, value: float) -> Any:
    """A parameter's internal value as the journal writes it: categorical indices as ints."""
    if isinstance(distribution, CategoricalDistribution):
        return int(value)
    return value


def template_fields(template: FrozenTrial) -> dict[str, Any]:
    """The extra CREATE_TRIAL fields that copy ``template`` (enqueue, add_trial, retry)."""
    fields: dict[str, Any] = {"state": int(template.state)}
    values = template.values
    if values is not None and len(values) > 1:
        fields["value"], fields["values"] = None, list(values)
    else:
        fields["value"], fields["values"] = (values[0] if values else None), None
    start = template.datetime_start
    fields["datetime_start"] = None if start is None else format_datetime(start)
    if template.datetime_complete is not None:
        fields["datetime_complete"] = format_datetime(template.datetime_complete)
    dists = template.distributions
    fields["distributions"] = {name: distribution_to_json(d) for name, d in dists.items()}
    fields["params"] = {
        name: internal_value(dists[name], dists[name].to_internal_repr(value))
        for name, value in template.params.items()
    }
    fields["user_attrs"] = template.user_attrs
    fields["system_attrs"] = {k: v for k, v in template.system_attrs.items() if k != HEARTBEAT_KEY}
    fields["intermediate_values"] = template.intermediate_values
    return fields
