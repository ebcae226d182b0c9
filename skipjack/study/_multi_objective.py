"""Pareto fronts and non-domination ranks: the shared numerics of multi-objective optimization.

The kernels work on *loss values*, an ``(n_points, n_objectives)`` float array where lower is
better in every column (a maximized objective is negated first). Point ``a`` *dominates* ``b``
when ``a <= b`` in every objective and ``a != b``. The Pareto front is the set of points that no
point dominates; the non-domination rank peels fronts off one after another (rank 0 is the
front), as in NSGA-II (Deb et al., 2002, "A fast and elitist multiobjective genetic algorithm:
NSGA-II", IEEE Trans. Evol. Comput. 6(2), Sec. III-A).

Everything starts from a lexicographic sort of the rows. In lexicographic order only an earlier
row can dominate a later one, and among *distinct* rows an earlier row dominates a later one
exactly when it is ``<=`` in every column but the first. That turns the 2-objective front into a
running minimum (O(n log n)) and lets the general case test whole blocks of rows at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
import copy
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from skipjack.study._study_direction import StudyDirection
from skipjack.trial._constraints import is_feasible
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study

# Largest number of booleans one broadcast comparison may produce in the n-objective kernel.
_BLOCK_BUDGET = 1 << 22
_MAX_BLOCK = 1024
# Partial ranking may switch to the exact ranking after this many peeled fronts.
_MAX_PEELS = 8
# Rows ranked by plain relaxation at the bottom of the divide and conquer.
_LEAF_SIZE = 64


# ---- trials ---------------------------------------------------------------------------------
def _normalize_value(value: float | None, direction: StudyDirection) -> float:
    """Turn one objective value into a loss: negated when maximized, +inf when missing."""
    if value is None:
        return float("inf")
    return -value if direction == StudyDirection.MAXIMIZE else value


def _loss_matrix(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection]) -> np.ndarray:
    if any(t.values is None or len(t.values) != len(directions) for t in trials):
        raise ValueError(
            "The number of the values and the number of the objectives must be identical."
        )
    values = np.array([t.values for t in trials], dtype=float)
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])
    return values * signs


def _get_pareto_front_trials_by_trials(
    trials: Sequence[FrozenTrial],
    directions: Sequence[StudyDirection],
    consider_constraint: bool = False,
) -> list[FrozenTrial]:
    """Return the COMPLETE trials (feasible ones only, if asked) that no other such trial dominates.

    Trials with identical values are all kept when they are on the front. The returned objects
    are the given ones, in the given order.
    """
    candidates = [t for t in trials if t.state == TrialState.COMPLETE]
    if consider_constraint:
        candidates = [t for t in candidates if is_feasible(t.system_attrs)]
    if not candidates:
        return []
    on_front = _is_pareto_front(_loss_matrix(candidates, directions), assume_unique_lexsorted=False)
    return [t for t, keep in zip(candidates, on_front.tolist()) if keep]


def _get_pareto_front_trials(study: Study, consider_constraint: bool = False) -> list[FrozenTrial]:
    """Return copies of the study's Pareto-optimal trials (what ``Study.best_trials`` returns).

    Only COMPLETE trials take part; with ``consider_constraint`` only feasible ones, i.e. those
    whose constraint values are all ``<= 0``. Copies are made of the front members only, so
    callers may modify them without touching the storage's cache.
    """
    trials = study.get_trials(deepcopy=False)
    front = _get_pareto_front_trials_by_trials(trials, study.directions, consider_constraint)
    return [copy.deepcopy(t) for t in front]


def _dominates(
    trial0: FrozenTrial | Sequence[float],
    trial1: FrozenTrial | Sequence[float],
    directions: Sequence[StudyDirection],
) -> bool:
    """Return whether the first trial (or value vector) dominates the second.

    Given FrozenTrials, a non-COMPLETE trial dominates nothing and a COMPLETE trial dominates
    every non-COMPLETE one. Value vectors are compared directly; a missing value (``None``) is
    worse than any number. Equal vectors do not dominate each other.
    """
    if isinstance(trial0, FrozenTrial) or isinstance(trial1, FrozenTrial):
        if not (isinstance(trial0, FrozenTrial) and isinstance(trial1, FrozenTrial)):
            raise TypeError("Compare two FrozenTrials or two value sequences, not a mix.")
        if trial0.state != TrialState.COMPLETE:
            return False
        if trial1.state != TrialState.COMPLETE:
            return True
        values0: Sequence[Any] = trial0.values or []
        values1: Sequence[Any] = trial1.values or []
    else:
        values0, values1 = trial0, trial1
    if len(values0) != len(values1):
        raise ValueError("Trials with different numbers of objectives cannot be compared.")
    if len(values0) != len(directions):
        raise ValueError(
            "The number of the values and the number of the objectives are mismatched."
        )
    loss0 = [_normalize_value(v, d) for v, d in zip(values0, directions)]
    loss1 = [_normalize_value(v, d) for v, d in zip(values1, directions)]
    return loss0 != loss1 and all(a <= b for a, b in zip(loss0, loss1))


# ---- Pareto front ---------------------------------------------------------------------------
def _as_loss_array(loss_values: Any) -> np.ndarray:
    array = np.asarray(loss_values, dtype=float)
    if array.ndim != 2:
        raise ValueError(
            f"loss_values must be a 2-d array (n_points, n_objectives), got shape {array.shape}."
        )
    if array.shape[1] == 0 and array.shape[0] > 0:
        raise ValueError("loss_values needs at least one objective column.")
    return array


def _unique_lexsorted(loss_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct rows in lexicographic order and, per input row, its distinct row."""
    order = np.lexsort(loss_values.T[::-1])  # np.lexsort sorts by its *last* key first
    ordered = loss_values[order]
    is_new = np.ones(len(ordered), dtype=bool)
    is_new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = np.empty(len(ordered), dtype=np.intp)
    inverse[order] = np.cumsum(is_new) - 1
    return ordered[is_new], inverse


def _front_of_sorted(sorted_loss: np.ndarray) -> np.ndarray:
    """Flag rows that no *earlier* row weakly dominates in columns 1 and up.

    On distinct lexsorted rows this is exactly the Pareto front. On lexsorted rows with repeats
    it keeps only the first copy of a repeated front point.
    """
    n_points, n_objectives = sorted_loss.shape
    on_front = np.zeros(n_points, dtype=bool)
    if n_points == 0:
        return on_front
    if n_objectives == 1:
        on_front[0] = True
    elif n_objectives == 2:
        # A row is on the front iff its second loss beats every earlier row's (running minimum).
        second = sorted_loss[:, 1]
        on_front[0] = True
        on_front[1:] = second[1:] < np.minimum.accumulate(second)[:-1]
    else:
        on_front = _front_of_sorted_nd(sorted_loss[:, 1:])
    return on_front


def _weakly_dominated(points: np.ndarray, by: np.ndarray) -> np.ndarray:
    """``out[i, j]`` is True when ``by[j] <= points[i]`` in every column."""
    out = by[None, :, 0] <= points[:, None, 0]
    for col in range(1, points.shape[1]):
        out &= by[None, :, col] <= points[:, None, col]
    return out


def _front_of_sorted_nd(rest: np.ndarray) -> np.ndarray:
    """The ``n_objectives >= 3`` case of :func:`_front_of_sorted` (``rest`` omits column 0).

    Rows are settled a block at a time: a row of the leading block is on the front when no
    earlier row of the block weakly dominates it (rows before the block that could have were
    on the front and already removed every row they dominate). The block's front rows then
    remove every later row they dominate. A dominated row never needs to be tested against
    because whatever it dominates, its own dominator dominates too.
    """
    n_points, n_cols = rest.shape
    on_front = np.zeros(n_points, dtype=bool)
    remaining = np.arange(n_points)
    while remaining.size:
        size = int(min(_MAX_BLOCK, max(1, _BLOCK_BUDGET // (remaining.size * n_cols))))
        head, later = remaining[:size], remaining[size:]
        head_points = rest[head]
        beaten = np.tril(_weakly_dominated(head_points, head_points), k=-1).any(axis=1)
        winners = head_points[~beaten]
        on_front[head[~beaten]] = True
        if later.size:
            remaining = later[~_weakly_dominated(rest[later], winners).any(axis=1)]
        else:
            remaining = later
    return on_front


def _is_pareto_front(loss_values: np.ndarray, assume_unique_lexsorted: bool) -> np.ndarray:
    """Return a boolean mask of the rows on the Pareto front of ``loss_values`` (lower is better).

    Repeated rows are all on the front when one of them is. With ``assume_unique_lexsorted`` the
    caller promises the rows are distinct and sorted lexicographically, which skips the sort;
    on such input a repeated row is then flagged only at its first occurrence.
    """
    losses = _as_loss_array(loss_values)
    if assume_unique_lexsorted or len(losses) == 0:
        return _front_of_sorted(losses)
    unique, inverse = _unique_lexsorted(losses)
    return _front_of_sorted(unique)[inverse]


# ---- non-domination rank --------------------------------------------------------------------
def _fast_non_domination_rank(
    loss_values: np.ndarray,
    *,
    penalty: np.ndarray | None = None,
    n_below: int | None = None,
) -> np.ndarray:
    """Return each point's non-domination rank (0 is the Pareto front, 1 the front of the rest...).

    With ``penalty`` (constraint violation per point, feasible when ``<= 0``) feasible points are
    ranked first, by their losses; infeasible points follow, ranked by penalty alone, a smaller
    penalty ranking better (Deb's constrained domination).

    ``n_below`` allows stopping early: ranks are exact at least for the best ``n_below`` points,
    and every point beyond gets a rank strictly worse than theirs. ``None`` (or 0) ranks all.
    """
    losses = _as_loss_array(loss_values)
    n_points = len(losses)
    if n_points == 0:
        return np.array([], dtype=int)
    if n_below is not None and n_below < 0:
        raise ValueError(f"n_below must be a non-negative integer or None, got {n_below}.")
    limit = n_below or n_points
    if penalty is None:
        return _rank_unconstrained(losses, limit)

    penalties = np.asarray(penalty, dtype=float).reshape(-1)
    if len(penalties) != n_points:
        raise ValueError(
            "The length of penalty and loss_values must be same, but got "
            f"len(penalty)={len(penalties)} and len(loss_values)={n_points}."
        )
    if np.isnan(penalties).any():
        raise ValueError("penalty must not contain NaN.")
    feasible = penalties <= 0
    ranks = np.empty(n_points, dtype=int)
    ranks[feasible] = _rank_unconstrained(losses[feasible], limit)
    first_infeasible_rank = int(ranks[feasible].max(initial=-1)) + 1
    ranks[~feasible] = first_infeasible_rank + _dense_rank(penalties[~feasible])
    return ranks


def _dense_rank(values: np.ndarray) -> np.ndarray:
    """Rank of each value among the distinct values (equal values share a rank)."""
    return np.unique(values, return_inverse=True)[1].reshape(-1).astype(int)


def _rank_unconstrained(losses: np.ndarray, limit: int) -> np.ndarray:
    if len(losses) == 0:
        return np.array([], dtype=int)
    if losses.shape[1] == 1:
        return _dense_rank(losses[:, 0])
    unique, inverse = _unique_lexsorted(losses)
    if limit >= len(losses):
        unique_ranks = _rank_sorted_2d(unique) if losses.shape[1] == 2 else _rank_sorted_nd(unique)
    else:
        counts = np.bincount(inverse, minlength=len(unique))
        unique_ranks = _rank_sorted_by_peeling(unique, counts, limit)
    return unique_ranks[inverse]


def _rank_sorted_2d(unique: np.ndarray) -> np.ndarray:
    """Ranks of distinct lexsorted 2-objective rows in O(n log n).

    The rank of a row is the length of the longest chain of rows dominating one another that
    ends just before it. In lexsorted order the earlier rows dominating row i are those with a
    second loss ``<=`` its own, so this is a longest non-decreasing subsequence ending at i,
    found with the patience-sorting bisection: ``tails[k]`` is the smallest second loss that
    ends a chain reaching rank k.
    """
    tails: list[float] = []
    ranks: list[int] = []
    for value in unique[:, 1].tolist():
        rank = bisect.bisect_right(tails, value)
        if rank == len(tails):
            tails.append(value)
        else:
            tails[rank] = value
        ranks.append(rank)
    return np.array(ranks, dtype=int)


def _rank_sorted_by_peeling(unique: np.ndarray, counts: np.ndarray, limit: int) -> np.ndarray:
    """Ranks of distinct lexsorted rows (2+ objectives) good for at least ``limit`` points.

    Removing one front after another (each a vectorized pass) is cheapest when ``limit``
    points fill the first few fronts (TPE asks for a tenth). When many thin fronts would have
    to be peeled, the rest is ranked exactly instead, offset by the fronts already removed.
    """
    exact = _rank_sorted_2d if unique.shape[1] == 2 else _rank_sorted_nd
    ranks = np.empty(len(unique), dtype=int)
    remaining = np.arange(len(unique))
    rank = 0
    n_ranked = 0
    while remaining.size and n_ranked < limit:
        # Each peel costs O(rows left) and ranks at least one point; the exact ranking costs
        # O(rows left ** 2). Switch when many more peels may be needed to reach ``limit``.
        if rank >= _MAX_PEELS and (limit - n_ranked) * 16 > remaining.size:
            ranks[remaining] = rank + exact(unique[remaining])
            return ranks
        on_front = _front_of_sorted(unique[remaining])
        ranks[remaining[on_front]] = rank
        n_ranked += int(counts[remaining[on_front]].sum())
        remaining = remaining[~on_front]
        rank += 1
    ranks[remaining] = rank  # all worse than the ones asked for
    return ranks


def _rank_sorted_nd(unique: np.ndarray) -> np.ndarray:
    """Exact ranks of distinct lexsorted rows with 3+ objectives.

    The rank of a row is 0 when nothing dominates it and otherwise one more than the largest
    rank among its dominators, all of which come earlier in lexsorted order. That recursion is
    solved by divide and conquer over the row order (in the manner of CDQ divide and conquer):
    rank the first half, raise the second half's lower bounds by what the first half implies in
    one vectorized comparison, then rank the second half. Each pair of rows is compared once, so
    the work is the O(m n^2) of Deb's fast non-dominated sort but with O(n / leaf) NumPy calls,
    however many fronts there are.
    """
    rest = np.ascontiguousarray(unique[:, 1:])
    ranks = np.zeros(len(rest), dtype=int)
    _rank_range(rest, ranks, 0, len(rest))
    return ranks


def _rank_range(rest: np.ndarray, ranks: np.ndarray, lo: int, hi: int) -> None:
    # On entry ranks[lo:hi] are lower bounds implied by rows before lo; on exit they are exact.
    if hi - lo <= _LEAF_SIZE:
        _rank_leaf(rest[lo:hi], ranks[lo:hi])
        return
    mid = (lo + hi) // 2
    _rank_range(rest, ranks, lo, mid)
    _raise_ranks(rest[mid:hi], ranks[mid:hi], rest[lo:mid], ranks[lo:mid])
    _rank_range(rest, ranks, mid, hi)


def _raise_ranks(
    points: np.ndarray, point_ranks: np.ndarray, by: np.ndarray, by_ranks: np.ndarray
) -> None:
    """Raise ``point_ranks`` (in place) to one more than the rank of any ``by`` row dominating."""
    # With ``by`` ordered by decreasing rank, the first dominator found carries the largest rank.
    order = np.argsort(-by_ranks, kind="stable")
    by, by_ranks = by[order], by_ranks[order]
    chunk = max(1, _BLOCK_BUDGET // len(by))
    for start in range(0, len(points), chunk):
        dominated = _weakly_dominated(points[start : start + chunk], by)
        first = dominated.argmax(axis=1)
        found = dominated[np.arange(len(first)), first]
        candidate = np.where(found, by_ranks[first] + 1, 0)
        view = point_ranks[start : start + chunk]
        np.maximum(view, candidate, out=view)


def _rank_leaf(points: np.ndarray, ranks: np.ndarray) -> None:
    """Finish ranks within a small run of rows by relaxing until nothing changes."""
    earlier_dominates = np.tril(_weakly_dominated(points, points), k=-1)
    if not earlier_dominates.any():
        return
    floor = ranks.copy()
    while True:
        implied = np.where(earlier_dominates, ranks[None, :] + 1, 0).max(axis=1)
        updated = np.maximum(floor, implied)
        if np.array_equal(updated, ranks):
            return
        ranks[:] = updated
