"""Split finished trials into TPE's good ("below") and bad ("above") sets.

The good set takes ``n_below`` trials, filled in this order of preference (Watanabe, 2023,
Sec. 3.1; Ozaki et al., 2022 for several objectives):

1. feasible COMPLETE trials, best first; with several objectives by non-domination rank, the
   last front that does not fit whole being thinned by hypervolume subset selection;
2. feasible PRUNED trials, those that reported at a later step first, then by their last
   report (a NaN report, or none, ranks last);
3. infeasible trials, smallest total constraint violation first.

Everything else is bad. Both sets are returned as history rows in trial-number order, which is
the order the ``weights`` function refers to.

With one objective, once ``n_below`` feasible COMPLETE trials with a non-NaN value exist, the
last split of a history is extended by the rows appended since (a history's rows never change)
instead of being redone over every row; with two, ``_split_pareto2d`` keeps the fronts and the
last greedy selection of each history up to date the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
import threading
from typing import NamedTuple

import numpy as np

from skipjack.samplers._tpe._hssp import greedy_front_2d
from skipjack.samplers._tpe._hssp import reference_point
from skipjack.samplers._tpe._hssp import solve_hssp
from skipjack.samplers._tpe._rows import RowFacts
from skipjack.samplers._tpe._split_pareto2d import split_two_objectives
from skipjack.study._history import HistorySnapshot
from skipjack.study._multi_objective import _fast_non_domination_rank
from skipjack.study._multi_objective import _rank_sorted_by_peeling
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

__all__ = ["split_rows"]


def _signs(directions: Sequence[StudyDirection]) -> np.ndarray:
    return np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])


def _best_single(loss: np.ndarray, numbers: np.ndarray, n_below: int) -> np.ndarray:
    """Positions of the ``n_below`` smallest losses, ties going to the earlier trial.

    A partial sort finds the ``n_below``-th smallest loss in linear time; only the losses tied
    with it need ordering by trial number.
    """
    threshold = loss[np.argpartition(loss, n_below - 1)[n_below - 1]]
    if np.isnan(threshold):  # NaN sorts last; leave that case to a full sort
        return np.lexsort((numbers, loss))[:n_below]
    chosen = np.flatnonzero(loss < threshold)
    tied = np.flatnonzero(loss == threshold)
    need = n_below - len(chosen)
    if len(tied) > need:
        tied = tied[np.argsort(numbers[tied], kind="stable")[:need]]
    return np.concatenate([chosen, tied])


# The last front thinned by HSSP, as (shape, bytes of the losses, k, picked positions).
_last_thinned: tuple[tuple[int, ...], bytes, int, np.ndarray] | None = None


def _thinned(losses: np.ndarray, k: int) -> np.ndarray:
    """``k`` points of one front by hypervolume subset selection. The last answer is kept:
    from one suggestion to the next the front being thinned is often the same."""
    global _last_thinned
    key = losses.tobytes()
    last = _last_thinned
    if last is not None and last[2] == k and last[0] == losses.shape and last[1] == key:
        return last[3]
    picked = solve_hssp(losses, k, reference_point(losses))
    picked.flags.writeable = False
    _last_thinned = (losses.shape, key, k, picked)
    return picked


def _best_complete(losses: np.ndarray, numbers: np.ndarray, n_below: int) -> np.ndarray:
    """Positions of the ``n_below`` best points of ``losses`` (shape (n, n_objectives))."""
    n = len(losses)
    if n_below >= n:
        return np.arange(n)
    if n_below <= 0:
        return np.zeros(0, dtype=np.intp)
    if losses.shape[1] == 1:
        return _best_single(losses[:, 0], numbers, n_below)
    if losses.shape[1] == 2 and np.isfinite(losses).all():
        return _best_complete_2d(losses, n_below)
    ranks = _fast_non_domination_rank(losses, n_below=n_below)
    counts = np.bincount(ranks)
    filled = np.cumsum(counts)
    # The last front that fits whole; the next one is thinned to fill the remaining slots.
    last_whole = int(np.searchsorted(filled, n_below, side="right")) - 1
    chosen = np.flatnonzero(ranks <= last_whole)
    if len(chosen) < n_below:
        tied = np.flatnonzero(ranks == last_whole + 1)
        tied_losses = losses[tied]
        picked = _thinned(tied_losses, n_below - len(chosen))
        chosen = np.concatenate([chosen, tied[picked]])
    return chosen


# The rows last sorted by ``_sorted_2d`` (a copy), their lexicographic order and both columns
# in that order.
_last_sorted: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
# Appending more rows than this at once sorts from scratch.
_MAX_INSERTS = 16


def _sorted_2d(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.lexsort``'s order of the finite 2-column ``losses`` and both columns in that order.

    Rows of a history are only ever appended, so when the last rows sorted are a prefix of
    ``losses`` the new rows are inserted instead: after every equal row, as a stable sort
    would place a row with a larger index.
    """
    global _last_sorted
    n = len(losses)
    last = _last_sorted
    if last is not None and len(last[0]) <= n <= len(last[0]) + _MAX_INSERTS:
        seen, order, xs, ys = last
        if not np.array_equal(seen, losses[: len(seen)]):
            last = None
        for row in range(len(seen), n if last is not None else 0):
            x, y = losses[row]
            lo = int(np.searchsorted(xs, x, side="left"))
            hi = int(np.searchsorted(xs, x, side="right"))
            at = lo + int(np.searchsorted(ys[lo:hi], y, side="right"))
            order = np.concatenate((order[:at], [row], order[at:]))
            xs = np.concatenate((xs[:at], [x], xs[at:]))
            ys = np.concatenate((ys[:at], [y], ys[at:]))
    else:
        last = None
    if last is None:
        order = np.lexsort((losses[:, 1], losses[:, 0]))
        xs = losses[order, 0]
        ys = losses[order, 1]
    _last_sorted = (losses.copy(), order, xs, ys)
    return order, xs, ys


def _best_complete_2d(losses: np.ndarray, n_below: int) -> np.ndarray:
    """:func:`_best_complete` for finite 2-objective losses, from one (incremental) sort.

    The fronts are ranked on the distinct rows as ``_fast_non_domination_rank`` does; the front
    to thin is then already sorted and free of repeats, the form the 2-objective greedy
    subset selection works on, with each distinct row standing for its first copy.
    """
    n = len(losses)
    order, xs, ys = _sorted_2d(losses)
    is_new = np.ones(n, dtype=bool)
    is_new[1:] = (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])
    starts = np.flatnonzero(is_new)
    counts = np.diff(np.append(starts, n))
    unique = np.stack((xs[starts], ys[starts]), axis=1)
    unique_ranks = _rank_sorted_by_peeling(unique, counts, n_below)
    filled = np.cumsum(np.bincount(unique_ranks, weights=counts))
    last_whole = int(np.searchsorted(filled, n_below, side="right")) - 1
    sorted_ranks = np.repeat(unique_ranks, counts)
    chosen = np.sort(order[sorted_ranks <= last_whole])
    k = n_below - len(chosen)
    if k <= 0:
        return chosen
    front = np.flatnonzero(unique_ranks == last_whole + 1)
    front_losses = unique[front]
    reference = reference_point(front_losses)
    if len(front) <= k or not np.isfinite(reference).all():
        # Copies must fill the slots, or no point gets a contribution: the general path.
        tied = np.sort(order[sorted_ranks == last_whole + 1])
        return np.concatenate([chosen, tied[_thinned(losses[tied], k)]])
    picked = _thinned_front(front_losses, k, reference)
    # A distinct row stands for its first copy, the first in a stable sort.
    return np.concatenate([chosen, np.sort(order[starts[front[picked]]])])


# The last front thinned by ``_thinned_front``, as (bytes of the front, k, picked positions).
_last_front: tuple[bytes, int, np.ndarray] | None = None


def _thinned_front(front: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """``k`` positions of a sorted 2-objective front of distinct points, by greedy hypervolume
    subset selection (what ``solve_hssp`` picks on it); ``reference`` must be the front's
    ``reference_point``. The last answer is kept."""
    global _last_front
    key = front.tobytes()
    last = _last_front
    if last is not None and last[1] == k and last[0] == key:
        return last[2]
    picked = np.array(greedy_front_2d(front[:, 0], front[:, 1], k, reference), dtype=np.intp)
    picked.flags.writeable = False
    _last_front = (key, k, picked)
    return picked


def split_rows(
    snapshot: HistorySnapshot,
    facts: RowFacts,
    directions: Sequence[StudyDirection],
    n_below: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the history rows of the good and the bad trials, each in trial-number order."""
    sign = 0.0
    if len(directions) == 1:
        sign = -1.0 if directions[0] == StudyDirection.MAXIMIZE else 1.0
        quick = _split_single(snapshot, facts, sign, n_below)
        if quick is not None:
            return quick
    elif len(directions) == 2:
        signs = _signs(directions)
        kept = split_two_objectives(
            snapshot, facts.violation, (float(signs[0]), float(signs[1])), n_below
        )
        if kept is not None:
            good, bad, increasing = kept
            if increasing:
                return good, bad
            return _by_number(good, snapshot.numbers), _by_number(bad, snapshot.numbers)
    n = len(snapshot)
    states = snapshot.states
    numbers = snapshot.numbers
    violation = facts.violation[:n]
    infeasible = violation > 0
    complete = np.flatnonzero((states == int(TrialState.COMPLETE)) & ~infeasible)
    pruned = np.flatnonzero((states == int(TrialState.PRUNED)) & ~infeasible)
    finished = (states == int(TrialState.COMPLETE)) | (states == int(TrialState.PRUNED))
    bad_feasibility = np.flatnonzero(finished & infeasible)

    losses = snapshot.values[complete] * _signs(directions)
    below = [complete[_best_complete(losses, numbers[complete], n_below)]]
    remaining = max(0, n_below - len(below[0]))

    if remaining and len(pruned):
        step = facts.last_step[pruned]
        value = facts.last_value[pruned] * _signs(directions)[0]
        reported = ~np.isnan(step)
        # Optuna's key: (-last step, last value), NaN value -> +inf; no report -> (1, 0).
        first_key = np.where(reported, -np.nan_to_num(step), 1.0)
        second_key = np.where(reported, np.where(np.isnan(value), np.inf, value), 0.0)
        order = np.lexsort((numbers[pruned], second_key, first_key))
        below.append(pruned[order[:remaining]])
        remaining = max(0, remaining - len(below[-1]))

    if remaining and len(bad_feasibility):
        order = np.lexsort((numbers[bad_feasibility], violation[bad_feasibility]))
        below.append(bad_feasibility[order[:remaining]])

    good = np.concatenate(below)
    is_good = np.zeros(n, dtype=bool)
    is_good[good] = True
    bad = np.flatnonzero(finished & ~is_good)
    good = np.sort(good)
    good, bad = _by_number(good, numbers), _by_number(bad, numbers)
    if sign and 1 <= n_below <= len(complete) - int(np.count_nonzero(np.isnan(losses))):
        _remember_single(snapshot, sign, n_below, good, bad)
    return good, bad


def _by_number(rows: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """``rows`` (increasing) reordered by trial number; usually they already are, since a
    history holds trials in the order they finished."""
    selected = numbers[rows]
    if (selected[1:] > selected[:-1]).all():
        return rows
    return rows[np.argsort(selected, kind="stable")]


# ---- one objective, incrementally -----------------------------------------------------------
class _SingleSplit(NamedTuple):
    """The last single-objective split of one history, valid while the history holds at least
    ``n_below`` eligible rows (feasible COMPLETE rows with a non-NaN loss): the good set is then
    the best ``n_below`` of those, and every other COMPLETE or PRUNED row is bad."""

    source: object  # the history's own list of trials: one per history, only ever appended to
    n_rows: int
    n_below: int
    sign: float
    good_keys: tuple[tuple[float, int, int], ...]  # (loss, number, row), in number order
    worst: tuple[float, int, int]  # the largest of ``good_keys``
    good: np.ndarray  # read-only
    bad: np.ndarray  # a read-only view of the first entries of ``bad_buffer``
    bad_buffer: np.ndarray  # bad rows in number order, then spare room
    numbers_buffer: np.ndarray  # their trial numbers, then spare room


_last_single: _SingleSplit | None = None
# Extending the last split writes past its bad rows in place, which must not happen twice.
_single_lock = threading.Lock()
# Rows arriving at once beyond this are split from scratch.
_MAX_NEW_ROWS = 16
_COMPLETE = int(TrialState.COMPLETE)
_PRUNED = int(TrialState.PRUNED)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _with_room(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` in a buffer twice its length."""
    out = np.empty(max(2 * len(array), 64), dtype=array.dtype)
    out[: len(array)] = array
    return out


def _appended(buffer: np.ndarray, size: int, values: list[int]) -> np.ndarray:
    """``buffer`` with ``values`` written after its first ``size`` entries: in place when there
    is room (no published view reaches past ``size``), else in a larger copy."""
    end = size + len(values)
    if end > len(buffer):
        buffer = _with_room(buffer[:size])
    buffer[size:end] = values
    return buffer


def _remember_single(
    snapshot: HistorySnapshot, sign: float, n_below: int, good: np.ndarray, bad: np.ndarray
) -> None:
    """Keep a split computed from scratch for :func:`_split_single` to extend. The caller
    checked that at least ``n_below`` (>= 1) rows are eligible, so ``good`` holds only those."""
    global _last_single
    numbers = snapshot.numbers
    losses = (snapshot.values[good, 0] * sign).tolist()
    keys = tuple(zip(losses, numbers[good].tolist(), good.tolist()))
    state = _SingleSplit(
        snapshot.source,
        len(snapshot),
        n_below,
        sign,
        keys,
        max(keys),
        _frozen(good),
        _frozen(bad),
        _with_room(bad),
        _with_room(numbers[bad]),
    )
    with _single_lock:
        _last_single = state


def _split_single(
    snapshot: HistorySnapshot, facts: RowFacts, sign: float, n_below: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The single-objective split extended by the rows added since the last one, or None when
    it must be computed from scratch. Each new eligible row displaces the worst good row if it
    is better (ties going to the earlier trial number); every other finished row is bad."""
    global _last_single
    with _single_lock:
        last = _last_single
        n = len(snapshot)
        if (
            last is None
            or last.source is not snapshot.source
            or last.n_below != n_below
            or last.sign != sign
            or not last.n_rows <= n <= last.n_rows + _MAX_NEW_ROWS
        ):
            return None
        start = last.n_rows
        if n == start:
            return last.good, last.bad
        keys = list(last.good_keys)
        worst = last.worst
        displaced = False
        extra: list[tuple[int, int]] = []  # (number, row) of the rows turning bad
        new_rows = zip(
            range(start, n),
            snapshot.states[start:n].tolist(),
            snapshot.values[start:n, 0].tolist(),
            facts.violation[start:n].tolist(),
            snapshot.numbers[start:n].tolist(),
        )
        for row, state, value, violation, number in new_rows:
            if state != _COMPLETE and state != _PRUNED:
                continue
            loss = value * sign
            key = (loss, number, row)
            if state == _COMPLETE and not violation > 0 and loss == loss and key < worst:
                keys.remove(worst)
                keys.append(key)
                extra.append((worst[1], worst[2]))
                worst = max(keys)
                displaced = True
            else:
                extra.append((number, row))
        good = last.good
        if displaced:
            keys.sort(key=lambda k: k[1])
            good = _frozen(np.array([k[2] for k in keys], dtype=np.intp))
        bad, rows, numbers = last.bad, last.bad_buffer, last.numbers_buffer
        if extra:
            extra.sort()
            size = len(bad)
            if not size or extra[0][0] > numbers[size - 1]:
                rows = _appended(rows, size, [e[1] for e in extra])
                numbers = _appended(numbers, size, [e[0] for e in extra])
            else:  # a trial finishing late or a displaced good row: insert by number
                at = np.searchsorted(numbers[:size], [e[0] for e in extra])
                rows = _with_room(np.insert(rows[:size], at, [e[1] for e in extra]))
                numbers = _with_room(np.insert(numbers[:size], at, [e[0] for e in extra]))
            bad = _frozen(rows[: size + len(extra)])
        _last_single = _SingleSplit(
            last.source, n, n_below, sign, tuple(keys), worst, good, bad, rows, numbers
        )
        return good, bad
