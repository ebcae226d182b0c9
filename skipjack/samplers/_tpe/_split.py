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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skipjack.samplers._tpe._hssp import greedy_front_2d
from skipjack.samplers._tpe._hssp import reference_point
from skipjack.samplers._tpe._hssp import solve_hssp
from skipjack.samplers._tpe._rows import RowFacts
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
    return _by_number(good, numbers), _by_number(bad, numbers)


def _by_number(rows: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """``rows`` (increasing) reordered by trial number; usually they already are, since a
    history holds trials in the order they finished."""
    selected = numbers[rows]
    if (selected[1:] > selected[:-1]).all():
        return rows
    return rows[np.argsort(selected, kind="stable")]
