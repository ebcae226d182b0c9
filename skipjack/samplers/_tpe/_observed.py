"""What the TPE estimators read of a search space from a history's columns: the internal
values of the observations at given rows (with other trials' running values, for the constant
liar), values by position for the kept mixtures, and sorting orders cut from the incrementally
sorted columns."""

from __future__ import annotations

from collections.abc import Callable
import math
from typing import Any

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.samplers._tpe._order import observation_orders
from skipjack.samplers._tpe._rows import RowFacts
from skipjack.samplers._tpe._rows import convert_column
from skipjack.samplers._tpe._rows import to_internal
from skipjack.study._history import HistorySnapshot

__all__ = ["merged_with_running", "observation_orders_at", "observations", "values_at"]

# Below this many observations the estimator sorts them itself (cheaper than cutting orders).
_SORT_ITSELF = 64


def values_at(
    snapshot: HistorySnapshot | None,
    space: dict[str, BaseDistribution],
    rows: np.ndarray,
    columns: dict[str, np.ndarray] | None,
) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """Observations at given positions of ``rows``: from ``columns`` (already gathered) or
    straight from the history's columns."""
    if columns is not None:
        return lambda at: {name: column[at] for name, column in columns.items()}
    assert snapshot is not None
    return lambda at: {name: snapshot.param(name)[rows[at]] for name in space}


def observations(
    snapshot: HistorySnapshot,
    facts: RowFacts,
    rows: np.ndarray,
    space: dict[str, BaseDistribution],
    running: list[tuple[int, dict[str, Any]]] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray | None, np.ndarray | None]:
    """Internal values of ``space`` at ``rows`` (in trial-number order), then ``running``,
    in trial-number order, keeping only trials that have every parameter; the rows kept,
    unless ``running`` trials were added, and then the trial numbers kept instead."""
    columns = {}
    for name, dist in space.items():
        column = snapshot.param(name)[rows]
        if name in facts.dists and not facts.same_distribution(name, dist):
            column = convert_column(column, facts.dist_id[name][rows], facts.dists[name], dist)
        columns[name] = column
    numbers = None
    if running:
        numbers = np.append(snapshot.numbers[rows], [number for number, _ in running])
        for name, dist in space.items():
            extra = [
                to_internal(dist, params[name]) if name in params else math.nan
                for _, params in running
            ]
            columns[name] = np.append(columns[name], extra)
    keep = None
    for column in columns.values():
        missing = np.isnan(column)
        if missing.any():
            keep = ~missing if keep is None else keep & ~missing
    if keep is not None:
        columns = {name: column[keep] for name, column in columns.items()}
    if numbers is not None:
        if keep is not None:
            numbers = numbers[keep]
        order = np.argsort(numbers, kind="stable")
        return {name: column[order] for name, column in columns.items()}, None, numbers[order]
    return columns, rows if keep is None else rows[keep], None


def observation_orders_at(
    snapshot: HistorySnapshot,
    facts: RowFacts,
    space: dict[str, BaseDistribution],
    rows: np.ndarray | None,
) -> dict[str, np.ndarray] | None:
    """Sorting orders of the numeric observations at ``rows``, cut from the incrementally
    sorted columns (``None``: let the estimator sort)."""
    if rows is None or len(rows) <= _SORT_ITSELF or not (rows[1:] > rows[:-1]).all():
        return None
    sorted_rows = {}
    extent = len(snapshot)
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution) or not facts.same_distribution(name, dist):
            continue
        index = facts.sorted_column(name)
        sorted_rows[name] = index.update(snapshot.param(name))
        extent = max(extent, index.n)
    return observation_orders(sorted_rows, rows, extent)


def merged_with_running(
    snapshot: HistorySnapshot,
    rows: np.ndarray,
    space: dict[str, BaseDistribution],
    running: list[tuple[int, dict[str, Any]]],
) -> tuple[np.ndarray, Callable[[np.ndarray], dict[str, np.ndarray]]]:
    """The trial numbers of ``rows`` (in trial-number order, each holding every parameter of
    ``space`` under its distribution) and of the ``running`` trials that have every
    parameter, merged in trial-number order; and a reader of their internal values by
    position. What :func:`observations` gives, without gathering every row's values: a kept
    mixture asks only for its new observations."""
    numbers = snapshot.numbers[rows]
    extra = sorted(
        (number, [to_internal(dist, params[name]) for name, dist in space.items()])
        for number, params in running
        if all(name in params for name in space)
    )
    if not extra:
        return numbers, values_at(snapshot, space, rows, None)
    extra_numbers = np.array([number for number, _ in extra], dtype=numbers.dtype)
    at = numbers.searchsorted(extra_numbers)
    merged = np.insert(numbers, at, extra_numbers)
    source = np.insert(rows, at, -1)  # -1: a running trial
    extra_positions = at + np.arange(len(extra))
    extra_values = {
        name: np.array([values[j] for _, values in extra], dtype=float)
        for j, name in enumerate(space)
    }

    def read(positions: np.ndarray) -> dict[str, np.ndarray]:
        from_rows = source[positions]
        is_extra = from_rows < 0
        which = extra_positions.searchsorted(positions[is_extra]) if is_extra.any() else None
        out = {}
        for name in space:
            column = snapshot.param(name)[np.where(is_extra, 0, from_rows)]
            if which is not None:
                column[is_extra] = extra_values[name][which]
            out[name] = column
        return out

    return merged, read
