"""Asynchronous successive halving (ASHA).

Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020, Algorithm 2.
Symbols of the paper: ``r`` (``min_resource``), ``eta`` (``reduction_factor``), ``s``
(``min_early_stopping_rate``). Rung ``k`` ends at step ``r * eta ** (s + k)``. A trial that
reaches the end of its current rung records its latest report there (the trial system attribute
``completed_rung_<k>``, as Optuna names it) and is promoted to rung ``k + 1`` only if that value
is among the best ``1 / eta`` of every value recorded at rung ``k`` so far (its own included, and
at least the single best); otherwise it is pruned. The asynchronous variant never waits for a
rung to fill: each trial is judged against whatever the rung holds when it arrives.

Rung values are read from two places: finished trials through a per-rung index that reads each
trial once, as it finishes (the storage's ``get_finished_trials_since``), and the few unfinished
trials straight from the storage. Each rung's finished values are kept sorted, so a decision
costs a binary search in the rung plus a look at the unfinished trials, not a pass over every
trial's attributes. The index does not go through the study's columnar history: rung records
are system attributes, which the history does not hold, and converting every finished trial's
reports into the history would cost more than the decisions themselves.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from collections.abc import Mapping
import math
import threading
from typing import TYPE_CHECKING
from typing import Any
import weakref

from skipjack.pruners._base import BasePruner
from skipjack.pruners._checks import check_int
from skipjack.pruners._steps import max_complete_last_step
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["SuccessiveHalvingPruner"]

_RUNG_PREFIX = "completed_rung_"
_UNFINISHED = (TrialState.RUNNING, TrialState.WAITING)
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def _rung_key(rung: int) -> str:
    return f"{_RUNG_PREFIX}{rung}"


def _rung_of_key(key: str) -> int | None:
    """The rung a system attribute key records, or None for any other key."""
    if not key.startswith(_RUNG_PREFIX):
        return None
    suffix = key[len(_RUNG_PREFIX) :]
    # Only the exact spelling ``completed_rung_<k>`` counts: that is the key a lookup for rung k
    # finds ("completed_rung_01" is some other attribute).
    if not (suffix.isascii() and suffix.isdigit()) or str(int(suffix)) != suffix:
        return None
    return int(suffix)


def _current_rung(system_attrs: Mapping[str, Any]) -> int:
    """The first rung the trial has not completed (rungs are completed in order)."""
    rung = 0
    while _rung_key(rung) in system_attrs:
        rung += 1
    return rung


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _RungIndex:
    """Rung values of the finished trials of one study (or one Hyperband bracket of it), per
    rung, grown as trials finish.

    It reads the storage's finished trials incrementally (``get_finished_trials_since``) and
    keeps only their rung records: finished trials never change, so each is read once, and
    nothing else about them (reports, parameters) is converted. ``trial_ids`` holds every
    finished trial seen, so that a trial that finished while it was also read as unfinished is
    not counted twice.

    Args:
        in_bracket: Keeps only the trials whose number it accepts; None keeps all.
    """

    def __init__(self, in_bracket: Callable[[int], bool] | None) -> None:
        self._in_bracket = in_bracket
        self._lock = threading.Lock()
        self._watermark = 0
        # Per rung: the values in ascending order (NaN left out), and how many NaN values.
        self._sorted: dict[int, list[float]] = {}
        self._n_nan: dict[int, int] = {}
        self.trial_ids: set[int] = set()

    def __reduce__(self) -> tuple[Any, ...]:
        # A cache: a copy (e.g. in a pickled study) starts empty and reads the storage again.
        return (_RungIndex, (self._in_bracket,))

    def update(self, study: Study) -> None:
        """Read the trials of ``study`` that finished since the last update."""
        storage = study._storage
        with self._lock:
            fetch = getattr(storage, "get_finished_trials_since", None)
            if fetch is None:  # a storage written against Optuna's interface only
                trials = storage.get_all_trials(study._study_id, deepcopy=False, states=_FINISHED)
            else:
                trials, self._watermark = fetch(study._study_id, self._watermark)
            in_bracket = self._in_bracket
            for trial in trials:
                if trial._trial_id in self.trial_ids:
                    continue
                self.trial_ids.add(trial._trial_id)
                if in_bracket is not None and not in_bracket(trial.number):
                    continue
                for key, raw in trial.system_attrs.items():
                    rung = _rung_of_key(key)
                    value = None if rung is None else _as_float(raw)
                    if rung is not None and value is not None:
                        self._append(rung, value)

    def _append(self, rung: int, value: float) -> None:
        if math.isnan(value):
            self._n_nan[rung] = self._n_nan.get(rung, 0) + 1
        else:
            bisect.insort(self._sorted.setdefault(rung, []), value)

    def rank(self, rung: int, value: float, direction: StudyDirection) -> tuple[int, int]:
        """How many values finished trials recorded at ``rung``, and how many of those are
        strictly better than ``value`` (which is not NaN; a NaN record is never better)."""
        with self._lock:
            values = self._sorted.get(rung, [])
            n = len(values) + self._n_nan.get(rung, 0)
            if direction == StudyDirection.MAXIMIZE:
                return n, len(values) - bisect.bisect_right(values, value)
            return n, bisect.bisect_left(values, value)


# The attribute of a study object holding its rung indexes, by bracket key (None for the whole
# study), the way ``history_of`` keeps the study's history on it.
_INDEXES_ATTR = "_rung_indexes"
_INDEXES_LOCK = threading.Lock()


def _updated_rung_index(study: Study) -> _RungIndex:
    """The study's rung index, brought up to date.

    ``study`` may be a Hyperband bracket view (see ``_filter.py``), recognised by its
    ``_study`` attribute: its index is kept with the underlying study, per bracket.
    """
    base = vars(study).get("_study")
    if base is None:
        base, key, in_bracket = study, None, None
    else:
        key, in_bracket = study._bracket_key, study._in_bracket  # type: ignore[attr-defined]
    indexes: dict[Any, _RungIndex] | None = vars(base).get(_INDEXES_ATTR)
    index = None if indexes is None else indexes.get(key)
    if index is None:
        with _INDEXES_LOCK:
            indexes = vars(base).setdefault(_INDEXES_ATTR, {})
            index = indexes.setdefault(key, _RungIndex(in_bracket))
    index.update(base)
    return index


class _Competitors:
    """Everything recorded at each rung by the study's trials other than the one judged."""

    def __init__(self, study: Study, trial: FrozenTrial) -> None:
        # Unfinished trials first, then the finished ones: a trial finishing in between then
        # shows up in both (and is dropped from the first) rather than in neither.
        trial_id = trial._trial_id
        n_unfinished = study._storage.get_n_trials(study._study_id, state=_UNFINISHED)
        if n_unfinished == 0 or (n_unfinished == 1 and trial.state in _UNFINISHED):
            unfinished = []  # the judged trial is the only one running: nothing to fetch
        else:
            unfinished = study.get_trials(deepcopy=False, states=_UNFINISHED)
        self._index = _updated_rung_index(study)
        self._unfinished = [
            t
            for t in unfinished
            if t._trial_id != trial_id and t._trial_id not in self._index.trial_ids
        ]

    def rank(self, rung: int, value: float, direction: StudyDirection) -> tuple[int, int]:
        """How many values the other trials recorded at ``rung``, and how many of those are
        strictly better than ``value`` (not NaN)."""
        n, n_better = self._index.rank(rung, value, direction)
        key = _rung_key(rung)
        recorded = (t.system_attrs[key] for t in self._unfinished if key in t.system_attrs)
        for other in map(_as_float, recorded):
            if other is None:
                continue
            n += 1
            if other > value if direction == StudyDirection.MAXIMIZE else other < value:
                n_better += 1
        return n, n_better


def _is_promotable(n_others: int, n_better: int, reduction_factor: int) -> bool:
    """Whether a value with ``n_better`` strictly better values among ``n_others`` is in the
    best ``1 / reduction_factor`` of the rung (itself included).

    With ``n`` values in the rung the best ``max(n // eta, 1)`` are promoted, ties in favour of
    the trial judged. Counting the strictly better values is the same test as sorting the rung
    and comparing with the value at that rank, without the sort.
    """
    return n_better < max((n_others + 1) // reduction_factor, 1)


class _KnownRungs:
    """Rungs this process knows trials have recorded (it wrote them), per storage and trial id.

    A cache only: a trial's rung records are written by the pruner in the process that runs the
    trial, so this is exact in practice and a lower bound always. It is not pickled, and it is
    cleared when it grows large.
    """

    _LIMIT = 100_000

    def __init__(self) -> None:
        self._rungs: weakref.WeakKeyDictionary[Any, dict[int, int]] = weakref.WeakKeyDictionary()
        self._size = 0

    def __reduce__(self) -> tuple[type[_KnownRungs], tuple[()]]:
        return (_KnownRungs, ())

    def get(self, storage: Any, trial_id: int) -> int:
        try:
            rungs = self._rungs.get(storage)
        except TypeError:  # a storage that cannot be weakly referenced
            return 0
        return 0 if rungs is None else rungs.get(trial_id, 0)

    def set(self, storage: Any, trial_id: int, rung: int) -> None:
        if self._size >= self._LIMIT:
            self._rungs = weakref.WeakKeyDictionary()
            self._size = 0
        try:
            rungs = self._rungs.setdefault(storage, {})
        except TypeError:
            return
        self._size += trial_id not in rungs
        rungs[trial_id] = rung


class SuccessiveHalvingPruner(BasePruner):
    """Asynchronous successive halving: promote the best ``1 / reduction_factor`` at each rung.

    Rung ``k`` ends at step ``min_resource * reduction_factor ** (min_early_stopping_rate + k)``.
    When a trial reports at or past the end of its current rung, its latest value is recorded
    there (system attribute ``completed_rung_<k>``) and compared with every value recorded at
    that rung by the study's other trials, whatever their state. The trial goes on if it ranks
    in the best ``max(n // reduction_factor, 1)`` of the ``n`` values (ties in its favour) and
    is pruned otherwise; a NaN report is pruned. A trial is never pruned before the end of its
    first rung. The largest resource is not a parameter: the objective decides when a trial
    ends.

    Args:
        min_resource: Steps in the first rung (``r`` in the paper), an int of at least 1, or
            ``"auto"``: once the first trial completes, ``max(last_step // 100, 1)`` with the
            largest last step among COMPLETE trials, fixed from then on. Give an explicit value
            when trials may stop at different steps.
        reduction_factor: ``eta`` in the paper, an int of at least 2: about one trial in
            ``reduction_factor`` is promoted at each rung.
        min_early_stopping_rate: ``s`` in the paper, an int of at least 0: the first rung ends
            at ``min_resource * reduction_factor ** min_early_stopping_rate``.
        bootstrap_count: An int of at least 0: a trial is pruned at a rung while that rung
            holds at most this many values (its own included). Needs an explicit
            ``min_resource``.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if an argument is out of range, or ``bootstrap_count > 0`` with
            ``min_resource="auto"``.

    Example:
        >>> import skipjack as optuna
        >>> pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        >>> study = optuna.create_study(pruner=pruner)
    """

    def __init__(
        self,
        min_resource: str | int = "auto",
        reduction_factor: int = 4,
        min_early_stopping_rate: int = 0,
        bootstrap_count: int = 0,
    ) -> None:
        if not (isinstance(min_resource, str) and min_resource == "auto"):
            if isinstance(min_resource, str):
                raise ValueError(
                    f"`min_resource` must be 'auto' or an int >= 1, but got {min_resource!r}."
                )
            check_int("min_resource", min_resource, 1, "'auto' or an int >= 1")
        check_int("reduction_factor", reduction_factor, 2, "an int >= 2")
        check_int("min_early_stopping_rate", min_early_stopping_rate, 0, "an int >= 0")
        check_int("bootstrap_count", bootstrap_count, 0, "an int >= 0")
        if bootstrap_count > 0 and min_resource == "auto":
            raise ValueError(
                f"`bootstrap_count` is {bootstrap_count}, but a positive `bootstrap_count` "
                "needs an explicit int `min_resource`, not 'auto'."
            )
        self._min_resource = min_resource
        self._reduction_factor = reduction_factor
        self._min_early_stopping_rate = min_early_stopping_rate
        self._bootstrap_count = bootstrap_count
        # The value "auto" settles on, once a trial has completed.
        self._estimated_min_resource: int | None = None
        self._known_rungs = _KnownRungs()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_resource={self._min_resource!r}, "
            f"reduction_factor={self._reduction_factor!r}, "
            f"min_early_stopping_rate={self._min_early_stopping_rate!r}, "
            f"bootstrap_count={self._bootstrap_count!r})"
        )

    def _resolved_min_resource(self, study: Study) -> int | None:
        if not isinstance(self._min_resource, str):
            return int(self._min_resource)
        if self._estimated_min_resource is None:
            last_step = max_complete_last_step(study)
            if last_step is None:
                return None
            self._estimated_min_resource = max(last_step // 100, 1)
        return self._estimated_min_resource

    def _rung_end(self, min_resource: int, rung: int) -> int:
        """The step at which rung ``rung`` ends (``r * eta ** (s + k)``)."""
        return min_resource * self._reduction_factor ** (self._min_early_stopping_rate + rung)

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Record the trial at every rung it has reached and say whether it lost at one.

        Raises:
            RuntimeError: from ``study.direction`` in a multi-objective study.
        """
        step = trial.last_step
        if step is None:
            return False
        min_resource = self._resolved_min_resource(study)
        if min_resource is None:
            return False
        storage = study._storage
        # The trial may hold fewer rung records than the storage (a Trial's own copy does not
        # see what the pruner wrote), never more; so may what this pruner remembers writing.
        # Either is a lower bound on the trial's rung, enough to return early without asking
        # the storage between the ends of rungs.
        rung = max(
            _current_rung(trial.system_attrs), self._known_rungs.get(storage, trial._trial_id)
        )
        if step < self._rung_end(min_resource, rung):
            return False
        stored = storage.get_trial_system_attrs(trial._trial_id)
        rung = _current_rung({**trial.system_attrs, **stored})
        value = trial.intermediate_values[step]
        competitors: _Competitors | None = None
        try:
            while step >= self._rung_end(min_resource, rung):
                if math.isnan(value):
                    return True
                storage.set_trial_system_attr(trial._trial_id, _rung_key(rung), value)
                rung += 1
                if competitors is None:
                    competitors = _Competitors(study, trial)
                n_others, n_better = competitors.rank(rung - 1, value, study.direction)
                if n_others + 1 <= self._bootstrap_count:
                    return True
                if not _is_promotable(n_others, n_better, self._reduction_factor):
                    return True
            return False
        finally:
            self._known_rungs.set(storage, trial._trial_id, rung)
