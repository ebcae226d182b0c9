"""Per-row facts TPE needs beyond the columnar history, kept incrementally.

The study's columnar history (``skipjack.study._history``) holds internal parameter values and
objective values. TPE also needs, per finished trial: the distribution each parameter was
suggested with (a value means something only together with it), the total constraint
violation, and the last intermediate value (to rank pruned trials). Rows of the history never
change once written, so these are computed once per row when it first shows up.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe._order import SortedColumn
from skipjack.study._history import HistorySnapshot
from skipjack.trial._state import TrialState

__all__ = ["RowFacts", "convert_column", "to_internal"]

_SCORED = (TrialState.COMPLETE, TrialState.PRUNED)


def _grow(array: np.ndarray, size: int, fill: float) -> np.ndarray:
    """``array`` itself when it holds ``size`` rows, else a copy with doubled capacity.

    Writing past the published row count in place is safe: readers never look beyond it.
    """
    if size <= len(array):
        return array
    out = np.full(max(size, 2 * len(array), 16), fill, dtype=array.dtype)
    out[: len(array)] = array
    return out


class RowFacts:
    """Distributions, constraint violation and last report of every row of one history."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.n = 0
        self.violation = np.zeros(0)
        self.last_step = np.zeros(0)  # NaN when the trial reported nothing
        self.last_value = np.zeros(0)
        self.dists: dict[str, list[BaseDistribution]] = {}
        self._dist_ids: dict[str, dict[BaseDistribution, int]] = {}
        self.dist_id: dict[str, np.ndarray] = {}
        # Parameters every COMPLETE or PRUNED row has, with one distribution (None: no row yet).
        self._intersection: dict[str, BaseDistribution] | None = None
        self.intersection: dict[str, BaseDistribution] = {}
        self._sorted: dict[str, SortedColumn] = {}

    def sorted_column(self, name: str) -> SortedColumn:
        """The incrementally sorted rows of parameter ``name``'s column (created on first use)."""
        with self._lock:
            index = self._sorted.get(name)
            if index is None:
                index = self._sorted[name] = SortedColumn()
            return index

    def same_distribution(self, name: str, dist: BaseDistribution) -> bool:
        """Whether every row holding ``name`` was suggested with ``dist`` (values need no
        conversion)."""
        known = self.dists.get(name)
        return known is not None and len(known) == 1 and known[0] == dist

    def update(self, snapshot: HistorySnapshot) -> None:
        """Process the rows of ``snapshot`` not seen yet. Thread-safe."""
        with self._lock:
            total = len(snapshot)
            if total <= self.n:
                return
            trials = snapshot.trials_from(self.n)
            violation = _grow(self.violation, total, 0.0)
            last_step = _grow(self.last_step, total, math.nan)
            last_value = _grow(self.last_value, total, math.nan)
            dist_id = {name: _grow(ids, total, -1) for name, ids in self.dist_id.items()}
            space = self._intersection
            for row, trial in enumerate(trials, start=self.n):
                if trial.state in _SCORED:
                    if space is None:
                        space = dict(trial.distributions)
                    else:
                        got = trial.distributions
                        space = {n: d for n, d in space.items() if got.get(n) == d}
                    violation[row] = sum(v for v in trial.constraints.values() if v > 0)
                    if trial.intermediate_values:
                        step = max(trial.intermediate_values)
                        last_step[row] = step
                        last_value[row] = trial.intermediate_values[step]
                for name, dist in trial.distributions.items():
                    ids = dist_id.get(name)
                    if ids is None:
                        ids = dist_id[name] = np.full(len(violation), -1, dtype=np.int32)
                        self.dists[name] = []
                        self._dist_ids[name] = {}
                    known = self._dist_ids[name]
                    number = known.get(dist)
                    if number is None:
                        number = known[dist] = len(self.dists[name])
                        self.dists[name].append(dist)
                    ids[row] = number
            # Publish arrays whole so that readers never see a half-updated row.
            self.violation, self.last_step, self.last_value = violation, last_step, last_value
            self.dist_id = dist_id
            self._intersection = space
            self.intersection = dict(sorted((space or {}).items()))
            self.n = total


def _numeric(dist: BaseDistribution) -> bool:
    return isinstance(dist, (FloatDistribution, IntDistribution))


def _mapping(source: BaseDistribution, target: BaseDistribution) -> np.ndarray | None:
    """For categoricals: target index of each source index (NaN when the choice is missing)."""
    if not (
        isinstance(source, CategoricalDistribution) and isinstance(target, CategoricalDistribution)
    ):
        return None
    table = np.full(len(source.choices), np.nan)
    for i, choice in enumerate(source.choices):
        try:
            table[i] = target.to_internal_repr(choice)
        except ValueError:
            pass
    return table


def convert_column(
    column: np.ndarray, ids: np.ndarray, dists: list[BaseDistribution], target: BaseDistribution
) -> np.ndarray:
    """Express a column of internal values (row ``i`` under ``dists[ids[i]]``) under ``target``.

    Values whose meaning does not carry over are NaN: a categorical choice ``target`` lacks, a
    numeric value outside ``target``'s range, or a numeric/categorical mismatch.
    """
    if len(dists) == 1 and dists[0] == target:
        return column
    out = np.full(len(column), np.nan)
    for number, dist in enumerate(dists):
        rows = ids == number
        if not rows.any():
            continue
        if dist == target:
            out[rows] = column[rows]
        elif _numeric(dist) and _numeric(target):
            values = column[rows]
            inside = (values >= target.low) & (values <= target.high)  # type: ignore[attr-defined]
            out[rows] = np.where(inside, values, np.nan)
        else:
            table = _mapping(dist, target)
            if table is not None:
                out[rows] = table[column[rows].astype(np.intp)]
    return out


def to_internal(dist: BaseDistribution, value: object) -> float:
    """Internal value of an external ``value`` under ``dist``, NaN when it does not belong."""
    try:
        internal = float(dist.to_internal_repr(value))
    except (ValueError, TypeError):
        return math.nan
    if _numeric(dist) and not (dist.low <= internal <= dist.high):  # type: ignore[attr-defined]
        return math.nan
    return internal
