"""Constraint values stored in a trial's system attributes (Optuna's keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
import warnings

CONSTRAINTS_KEY = "constraints"
"""Old format: one list under this key. New format: one float per ``constraints:<name>`` key."""


def constraints_from_system_attrs(system_attrs: Mapping[str, Any]) -> dict[str, float]:
    """Read constraint values in both of Optuna's formats; the per-key format wins on a clash."""
    result: dict[str, float] = {}
    old = system_attrs.get(CONSTRAINTS_KEY)
    if old is not None:
        for i, c in enumerate(old):
            result[str(i)] = c
    prefix = CONSTRAINTS_KEY + ":"
    for key, value in system_attrs.items():
        if key.startswith(prefix):
            name = key[len(prefix) :]
            if name in result:
                warnings.warn("Overwrite an old format constraint.", UserWarning, stacklevel=2)
            result[name] = value
    return result


def checked_constraint_value(key: str, value: Any) -> float:
    """Return ``value`` as a float, or raise naming the constraint when it is not a number."""
    if not isinstance(key, str):
        raise TypeError(f"A constraint name must be a str, got {key!r} ({type(key).__name__}).")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"The value of constraint {key!r} must be a float, got {value!r} "
            f"({type(value).__name__})."
        ) from None
    if number != number:
        raise ValueError(f"The value of constraint {key!r} is NaN; NaN is not allowed.")
    return number


def is_feasible(system_attrs: Mapping[str, Any]) -> bool:
    """A trial is feasible when every constraint value is zero or less (or it has none)."""
    return all(v <= 0.0 for v in constraints_from_system_attrs(system_attrs).values())


def new_constraint_attr(
    system_attrs: Mapping[str, Any], key: str, value: Any
) -> tuple[str, float] | None:
    """Validate a ``set_constraint(key, value)`` call and return the system attribute to write.

    Returns None, with a warning, when the constraint is already set: the first value stays.
    """
    number = checked_constraint_value(key, value)
    attr = f"{CONSTRAINTS_KEY}:{key}"
    if attr in system_attrs:
        warnings.warn(
            f"The constraint {key!r} is already set; the new value is ignored.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return attr, number
