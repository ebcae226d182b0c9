"""Columnar history: a per-study view of finished trials as NumPy arrays, grown incrementally.

Samplers and pruners call ``history_of(study)`` and read arrays instead of rebuilding them from
FrozenTrial lists. Finished trials never change, so rows are only ever appended: each refresh
costs what the new trials cost, not what the study holds.

Columns live in arrays with spare capacity that double when full; readers get read-only views
of the filled rows. Several reads that must agree in length while other threads may refresh
should go through one :meth:`TrialHistory.snapshot`.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
import threading
from typing import Any

import numpy as np

from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

__all__ = ["HistorySnapshot", "TrialHistory", "history_of"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
_MIN_CAPACITY = 16

# Intermediate values of one step: (row indices, values, count). The arrays may hold spare
# capacity past ``count``. A tuple, replaced whole on append, so a reader never sees a count
# that does not match its arrays.
_StepColumn = tuple[np.ndarray, np.ndarray, int]

_EMPTY = np.empty(0, dtype=np.float64)
_EMPTY.flags.writeable = False


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


_STATE_TABLES: dict[Any, np.ndarray] = {}


def _state_table(states: Sequence[TrialState]) -> np.ndarray:
    """Lookup table: ``table[state_value]`` is True for the requested states (cached)."""
    try:
        return _STATE_TABLES[states]
    except (KeyError, TypeError):
        pass
    table = np.zeros(len(TrialState), dtype=bool)
    for state in states:
        table[int(state)] = True
    table.flags.writeable = False
    try:
        _STATE_TABLES[states] = table
    except TypeError:  # unhashable container of states
        pass
    return table


class HistorySnapshot:
    """The first ``len(self)`` rows of a :class:`TrialHistory`, fixed at the time it was taken.

    Rows of a history never change once written, so a snapshot shares the history's arrays and
    costs nothing to take; later refreshes do not change what it shows.
    """

    def __init__(
        self,
        n_rows: int,
        trials: list[FrozenTrial],
        numbers: np.ndarray,
        states: np.ndarray,
        values: np.ndarray,
        params: dict[str, np.ndarray],
        steps: dict[int, _StepColumn],
        state_counts: tuple[int, ...] | None = None,
    ) -> None:
        # ``trials``, ``params`` and ``steps`` are the history's own containers, which only
        # grow: every read below is cut to ``n_rows``.
        self._n = n_rows
        self._state_counts = state_counts
        self._trials = trials
        self._numbers = numbers
        self._states = states
        self._values = values
        self._params = params
        self._steps = steps

    def __len__(self) -> int:
        """Number of finished trials held."""
        return self._n

    @property
    def trials(self) -> Sequence[FrozenTrial]:
        """The FrozenTrial of every row (do not modify)."""
        return self._trials[: self._n]

    @property
    def source(self) -> object:
        """An object that identifies the history this snapshot was taken from: snapshots of
        one history share it (its rows are only ever appended), others never do."""
        return self._trials

    def trials_from(self, start: int) -> Sequence[FrozenTrial]:
        """The FrozenTrial of rows ``start`` and later (cheaper than slicing :attr:`trials`,
        which copies every row first)."""
        return self._trials[start : self._n]

    @property
    def numbers(self) -> np.ndarray:
        """int64 array: trial number of each row."""
        return _readonly(self._numbers[: self._n])

    @property
    def states(self) -> np.ndarray:
        """int8 array: TrialState value of each row."""
        return _readonly(self._states[: self._n])

    @property
    def values(self) -> np.ndarray:
        """float64 array of shape (rows, n_objectives); NaN where a trial has no values."""
        return _readonly(self._values[: self._n])

    def param(self, name: str) -> np.ndarray:
        """float64 array: internal value of parameter ``name`` per row, NaN where absent."""
        column = self._params.get(name)
        if column is None:
            return _readonly(np.full(self._n, np.nan))
        return _readonly(column[: self._n])

    def mask(self, states: Sequence[TrialState]) -> np.ndarray:
        """bool array: rows whose state is in ``states``."""
        return _state_table(states)[self._states[: self._n]]

    def count(self, states: Sequence[TrialState]) -> int:
        """Number of rows whose state is in ``states`` (O(1) when the history kept counts)."""
        if self._state_counts is None:
            return int(np.count_nonzero(self.mask(states)))
        return sum(self._state_counts[int(s)] for s in set(states))

    def intermediate_at(
        self, step: int, states: Sequence[TrialState] = (TrialState.COMPLETE,)
    ) -> np.ndarray:
        """float64 array: intermediate values reported at ``step`` by rows in ``states`` that
        reported at that step (NaN values kept), in row order."""
        column = self._steps.get(step)
        if column is None:
            return _EMPTY
        rows, values, count = column
        # Rows are appended in increasing order, so the ones this snapshot holds come first.
        count = int(np.searchsorted(rows[:count], self._n))
        rows = rows[:count]
        return values[:count][_state_table(states)[self._states[rows]]]


class TrialHistory:
    """Finished trials of one study, in the order this process learnt they finished.

    Row ``i`` of every array is the ``i``-th finished trial seen. ``refresh()`` asks the storage
    for trials finished since the last refresh (``BaseStorage.get_finished_trials_since``) and
    appends them; rows are never reordered or removed (finished trials are immutable).

    Trials already held are recognised by id, so a storage that returns every finished trial on
    each call (the default implementation) works too, at the cost of re-reading them.

    Args:
        storage: The study's storage.
        study_id: The study's id in ``storage``.
        n_objectives: Number of objectives (columns of :attr:`values`).
    """

    def __init__(self, storage: Any, study_id: int, n_objectives: int) -> None:
        self._storage = storage
        self._study_id = study_id
        self._n_objectives = n_objectives
        self._lock = threading.RLock()
        self._watermark = 0
        self._seen: set[int] = set()
        self._n = 0
        self._capacity = 0
        self._trials: list[FrozenTrial] = []
        self._numbers = np.empty(0, dtype=np.int64)
        self._states = np.empty(0, dtype=np.int8)
        self._values = np.empty((0, n_objectives), dtype=np.float64)
        self._params: dict[str, np.ndarray] = {}
        self._steps: dict[int, _StepColumn] = {}
        self._state_counts = [0] * len(TrialState)
        self._snapshot = self._take_snapshot()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        del state["_snapshot"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._snapshot = self._take_snapshot()

    # ---- updating ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Append trials that finished since the last refresh. Thread-safe."""
        with self._lock:
            fetch = getattr(self._storage, "get_finished_trials_since", None)
            if fetch is None:  # a storage written against Optuna's interface only
                trials = self._storage.get_all_trials(
                    self._study_id, deepcopy=False, states=_FINISHED
                )
                watermark = 0
            else:
                trials, watermark = fetch(self._study_id, self._watermark)
            new: list[FrozenTrial] = []
            ids: set[int] = set()
            for trial in trials:
                if trial._trial_id not in self._seen and trial._trial_id not in ids:
                    ids.add(trial._trial_id)
                    new.append(trial)
            if new:
                self._append(new)
                self._snapshot = self._take_snapshot()
            self._watermark = watermark

    def snapshot(self) -> HistorySnapshot:
        """Return the rows held now, unaffected by later refreshes (cheap: arrays are shared)."""
        return self._snapshot

    def _take_snapshot(self) -> HistorySnapshot:
        return HistorySnapshot(
            self._n,
            self._trials,
            self._numbers,
            self._states,
            self._values,
            self._params,
            self._steps,
            tuple(self._state_counts),
        )

    def _append(self, trials: list[FrozenTrial]) -> None:
        # Convert everything first so that a bad trial raises before any array is touched.
        rows = [_row_of(t, self._n_objectives) for t in trials]
        start = self._n
        stop = start + len(trials)
        self._reserve(stop)
        self._numbers[start:stop] = [t.number for t in trials]
        self._states[start:stop] = [int(t.state) for t in trials]
        for t in trials:
            self._state_counts[int(t.state)] += 1
        self._values[start:stop] = [values for values, _, _ in rows]
        for row, (_, params, steps) in zip(range(start, stop), rows):
            for name, value in params.items():
                column = self._params.get(name)
                if column is None:
                    column = np.full(self._capacity, np.nan)
                    self._params[name] = column
                column[row] = value
            for step, intermediate in steps:
                self._append_step(step, row, intermediate)
        # Rows are complete; publish them.
        self._trials.extend(trials)
        self._seen.update(t._trial_id for t in trials)
        self._n = stop

    def _reserve(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, 2 * self._capacity, _MIN_CAPACITY)
        self._numbers = _grown(self._numbers, capacity, 0)
        self._states = _grown(self._states, capacity, 0)
        self._values = _grown(self._values, capacity, np.nan)
        for name, column in self._params.items():
            self._params[name] = _grown(column, capacity, np.nan)
        self._capacity = capacity

    def _append_step(self, step: int, row: int, value: float) -> None:
        column = self._steps.get(step)
        if column is None:
            rows = np.empty(_MIN_CAPACITY // 4, dtype=np.int64)
            values = np.empty(_MIN_CAPACITY // 4, dtype=np.float64)
            count = 0
        else:
            rows, values, count = column
            if count == len(rows):
                rows = _grown(rows, 2 * count, 0)
                values = _grown(values, 2 * count, np.nan)
        rows[count] = row
        values[count] = value
        self._steps[step] = (rows, values, count + 1)

    # ---- reading (each call reads the rows held at that moment) ----------------------------
    def __len__(self) -> int:
        """Number of finished trials held."""
        return len(self._snapshot)

    @property
    def trials(self) -> Sequence[FrozenTrial]:
        """The FrozenTrial of every row (do not modify)."""
        return self._snapshot.trials

    @property
    def numbers(self) -> np.ndarray:
        """int64 array: trial number of each row."""
        return self._snapshot.numbers

    @property
    def states(self) -> np.ndarray:
        """int8 array: TrialState value of each row."""
        return self._snapshot.states

    @property
    def values(self) -> np.ndarray:
        """float64 array of shape (rows, n_objectives); NaN where a trial has no values."""
        return self._snapshot.values

    def param(self, name: str) -> np.ndarray:
        """float64 array: internal value of parameter ``name`` per row, NaN where absent."""
        return self._snapshot.param(name)

    def mask(self, states: Sequence[TrialState]) -> np.ndarray:
        """bool array: rows whose state is in ``states``."""
        return self._snapshot.mask(states)

    def count(self, states: Sequence[TrialState]) -> int:
        """Number of rows whose state is in ``states``."""
        return self._snapshot.count(states)

    def intermediate_at(
        self, step: int, states: Sequence[TrialState] = (TrialState.COMPLETE,)
    ) -> np.ndarray:
        """float64 array: intermediate values reported at ``step`` by rows in ``states`` that
        reported at that step (NaN values kept)."""
        return self._snapshot.intermediate_at(step, states)


def _row_of(
    trial: FrozenTrial, n_objectives: int
) -> tuple[list[float], dict[str, float], list[tuple[int, float]]]:
    """One trial's values (NaN-padded to ``n_objectives``), internal params and reports."""
    values = [float(v) for v in (trial.values or [])[:n_objectives]]
    values += [math.nan] * (n_objectives - len(values))
    params = {
        name: float(trial.distributions[name].to_internal_repr(value))
        for name, value in trial.params.items()
    }
    steps = [(int(step), float(v)) for step, v in trial.intermediate_values.items()]
    return values, params, steps


def _grown(array: np.ndarray, capacity: int, fill: float) -> np.ndarray:
    """Return a copy of ``array`` with ``capacity`` rows, the new rows set to ``fill``."""
    out = np.full((capacity,) + array.shape[1:], fill, dtype=array.dtype)
    out[: len(array)] = array
    return out


_CREATE_LOCK = threading.Lock()


def history_of(study: Any) -> TrialHistory:
    """Return the study's TrialHistory, refreshed; created on first use and cached on the
    study object (attribute ``_history``)."""
    history = getattr(study, "_history", None)
    if history is None:
        with _CREATE_LOCK:
            history = getattr(study, "_history", None)
            if history is None:
                history = TrialHistory(study._storage, study._study_id, len(study.directions))
                study._history = history
    history.refresh()
    return history
