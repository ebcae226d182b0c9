"""Hypervolume subset selection: which points of one Pareto front to keep.

Multi-objective TPE fills its "good" set front by front; when a front does not fit whole, the
points kept are chosen greedily by hypervolume contribution (Ozaki et al., 2022, "Multiobjective
Tree-Structured Parzen Estimator", JAIR 73, Sec. 3.3). Greedy selection of a monotone
submodular function is within ``1 - 1/e`` of the best subset (Nemhauser et al., 1978), and
because contributions only shrink as the selection grows, a stale contribution is an upper bound
(lazy greedy, Minoux 1978). All points are losses (lower is better) below ``reference``.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from skipjack._hypervolume._compute import compute_hypervolume
from skipjack._hypervolume._greedy import greedy_by_boxes

__all__ = ["greedy_front_2d", "hypervolume", "reference_point", "solve_hssp"]

_EPS = 1e-12
# Segments of the front up to this long are scanned in Python rather than NumPy.
_SMALL_SEGMENT = 32
# Boxes the decomposition behind exact contributions may hold (3 objectives need about 6 per
# pick; 5 or more can need far more, and fall back to lazy evaluation).
_MAX_BOXES = 200_000


def reference_point(losses: np.ndarray) -> np.ndarray:
    """A reference point a little worse than the worst value of each objective."""
    worst = losses.max(axis=0)
    ref = np.maximum(1.1 * worst, 0.9 * worst)
    ref[ref == 0] = _EPS
    return ref


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Volume dominated by ``points`` and bounded by ``reference`` (slicing objectives, HSO)."""
    points = points[(points < reference).all(axis=1)]
    if len(points) == 0:
        return 0.0
    dim = points.shape[1]
    if dim == 1:
        return float(reference[0] - points[:, 0].min())
    if dim == 2:
        ordered = points[np.argsort(points[:, 0], kind="stable")]
        running_min = np.minimum.accumulate(ordered[:, 1])
        widths = np.diff(np.append(ordered[:, 0], reference[0]))
        return float((widths * (reference[1] - running_min)).sum())
    ordered = points[np.argsort(points[:, -1], kind="stable")]
    tops = np.append(ordered[1:, -1], reference[-1])
    volume = 0.0
    for i in range(len(ordered)):
        height = tops[i] - ordered[i, -1]
        if height > 0:
            volume += height * hypervolume(ordered[: i + 1, :-1], reference[:-1])
    return volume


def _segment_best(
    x: np.ndarray, y: np.ndarray, lo: int, hi: int, right: float, up: float
) -> tuple[float, int]:
    """Largest contribution ``(right - x[i]) * (up - y[i])`` for ``lo <= i < hi`` and the
    first ``i`` reaching it (``(-inf, -1)`` for an empty range)."""
    if hi - lo > _SMALL_SEGMENT:
        values = (right - x[lo:hi]) * (up - y[lo:hi])
        i = int(np.argmax(values))
        return float(values[i]), lo + i
    best, where = -math.inf, -1
    for i in range(lo, hi):
        value = (right - x[i]) * (up - y[i])
        if value > best:
            best, where = value, i
    return best, where


def _greedy_2d(points: np.ndarray, k: int, reference: np.ndarray) -> list[int]:
    order = np.argsort(points[:, 0], kind="stable")
    return order[greedy_front_2d(points[order, 0], points[order, 1], k, reference)].tolist()


# The last greedy run: the front (x, y), the reference point, the picks (positions in pick
# order) and the contribution of each when picked. Each prefix of the picks is the greedy answer
# of its length on that front.
_Run = tuple[np.ndarray, np.ndarray, float, float, np.ndarray, np.ndarray]
_last_run: _Run | None = None


def greedy_front_2d(x: np.ndarray, y: np.ndarray, k: int, reference: np.ndarray) -> list[int]:
    """Positions of ``k`` points of a 2-objective front chosen greedily by contribution.

    ``x`` must be increasing (so ``y`` decreases along it), ``k`` smaller than the front and
    every point below the finite ``reference``. Ties go to the leftmost point.
    """
    global _last_run
    ref_x, ref_y = float(reference[0]), float(reference[1])
    picks, gains = np.zeros(0, dtype=np.intp), np.zeros(0)
    last = _last_run
    if last is not None and last[2] == ref_x and last[3] == ref_y:
        picks, gains = _still_greedy(x, y, ref_x, ref_y, last)
    if len(picks) < k:
        picks, gains = _continue_greedy(x, y, k, ref_x, ref_y, picks, gains)
    _last_run = (x.copy(), y.copy(), ref_x, ref_y, picks, gains)
    return picks[:k].tolist()


def _still_greedy(
    x: np.ndarray, y: np.ndarray, ref_x: float, ref_y: float, last: _Run
) -> tuple[np.ndarray, np.ndarray]:
    """The longest prefix of the last run's picks that greedy selection still makes on the
    front (x, y) with the same reference point: positions in it and contributions.

    A point that is never picked changes no other point's contribution. So dropping such a
    point changes nothing, and a point new to the front changes nothing as long as it loses to
    the pick of every step (its contribution at a step is bounded by its nearest earlier picks).
    """
    old_x, old_y, _, _, picks, gains = last
    n = len(x)
    if len(picks) == 0 or len(old_x) == 0:
        return picks, gains
    at = np.minimum(np.searchsorted(old_x, x), len(old_x) - 1)
    known = (old_x[at] == x) & (old_y[at] == y)
    position = np.full(len(old_x), -1)
    position[at[known]] = np.flatnonzero(known)
    picks = position[picks]
    missing = np.flatnonzero(picks < 0)
    if missing.size:  # a pick left the front: the steps before it stand
        picks, gains = picks[: missing[0]], gains[: missing[0]]
    for new in np.flatnonzero(~known).tolist():
        if len(picks) == 0:
            break
        # The bounds of the new point's segment before each step: the x of the nearest pick
        # made so far to its right and the y of the nearest one to its left.
        before = picks[:-1]
        nearest_right = np.minimum.accumulate(
            np.concatenate(([n], np.where(before > new, before, n)))
        )
        nearest_left = np.maximum.accumulate(
            np.concatenate(([-1], np.where(before < new, before, -1)))
        )
        right = np.where(nearest_right < n, x[np.minimum(nearest_right, n - 1)], ref_x)
        up = np.where(nearest_left >= 0, y[nearest_left], ref_y)
        gain = (right - x[new]) * (up - y[new])
        wins = (gain > gains) | ((gain == gains) & (new < picks))
        if wins.any():
            first = int(wins.argmax())
            picks, gains = picks[:first], gains[:first]
    return picks, gains


def _continue_greedy(
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    ref_x: float,
    ref_y: float,
    picks: np.ndarray,
    gains: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy picks from a greedy prefix ``picks`` (with contributions ``gains``) up to ``k``."""
    # The picks cut the front into segments; a point's exclusive region reaches right to the
    # next pick and up to the previous one, so it depends only on its segment's ends. Picking
    # a point changes only its own segment, which it splits in two: a heap of the segments'
    # best contributions gives the greedy choice (ties: the leftmost point).
    x_list, y_list = x.tolist(), y.tolist()
    heap = _segments_after(x, y, ref_x, ref_y, picks)
    chosen, values = picks.tolist(), gains.tolist()
    push, pop = heapq.heappush, heapq.heappop
    while len(chosen) < k:
        neg_value, where, lo, hi, right, up = pop(heap)
        chosen.append(where)
        values.append(-neg_value)
        # The left part now reaches right to this point, the right part up to it. Short
        # segments are scanned inline in Python: a call costs more than a few products.
        for s_lo, s_hi, s_right, s_up in (
            (lo, where, x_list[where], up),
            (where + 1, hi, right, y_list[where]),
        ):
            if s_hi - s_lo > _SMALL_SEGMENT:
                value, at = _segment_best(x, y, s_lo, s_hi, s_right, s_up)
            elif s_hi > s_lo:
                value, at = -math.inf, -1
                for i in range(s_lo, s_hi):
                    v = (s_right - x_list[i]) * (s_up - y_list[i])
                    if v > value:
                        value, at = v, i
            else:
                continue
            push(heap, (-value, at, s_lo, s_hi, s_right, s_up))
    return np.array(chosen, dtype=np.intp), np.array(values)


def _segments_after(
    x: np.ndarray, y: np.ndarray, ref_x: float, ref_y: float, picks: np.ndarray
) -> list[tuple[float, int, int, int, float, float]]:
    """The greedy heap once ``picks`` are made: ``(-best contribution, its position, lo, hi,
    right, up)`` of every non-empty segment between picks, all scanned at once."""
    n = len(x)
    if len(picks) == 0:
        value, where = _segment_best(x, y, 0, n, ref_x, ref_y)
        return [(-value, where, 0, n, ref_x, ref_y)]
    cuts = np.sort(picks)
    los = np.concatenate(([0], cuts + 1))
    his = np.concatenate((cuts, [n]))
    rights = np.concatenate((x[cuts], [ref_x]))
    ups = np.concatenate(([ref_y], y[cuts]))
    filled = his > los
    los, his, rights, ups = los[filled], his[filled], rights[filled], ups[filled]
    sizes = his - los
    segment = np.repeat(np.arange(len(los)), sizes)
    free = np.ones(n, dtype=bool)
    free[cuts] = False
    members = np.flatnonzero(free)  # the segments' points, segment after segment
    gain = (rights[segment] - x[members]) * (ups[segment] - y[members])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    best = np.maximum.reduceat(gain, starts)
    first = np.minimum.reduceat(np.where(gain == best[segment], members, n), starts)
    heap = list(
        zip(
            (-best).tolist(),
            first.tolist(),
            los.tolist(),
            his.tolist(),
            rights.tolist(),
            ups.tolist(),
        )
    )
    heapq.heapify(heap)
    return heap


def _greedy_nd(points: np.ndarray, k: int, reference: np.ndarray) -> list[int]:
    """Greedy picks on a front of 3 or more objectives, ties going to the lowest index.

    Contributions come from a box decomposition of the region not yet dominated; with many
    objectives it can grow too large, and the rest of the picks are then made lazily, each
    stale contribution bounding the fresh one from above (ties there go as the heap pops).
    Non-finite points also take the lazy path.
    """
    if not np.isfinite(points).all():
        return _lazy_greedy(points, k, reference, [], np.prod(reference - points, axis=1))
    selected, bounds = greedy_by_boxes(points, k, reference, _MAX_BOXES)
    if len(selected) == k:
        return selected
    return _lazy_greedy(points, k, reference, selected, bounds)


def _lazy_greedy(
    points: np.ndarray, k: int, reference: np.ndarray, selected: list[int], bounds: np.ndarray
) -> list[int]:
    """Extend the greedy picks ``selected`` to ``k``, given upper ``bounds`` on every other
    point's contribution, recomputing a contribution only when its bound leads (Minoux, 1978)."""
    boxes = np.prod(reference - points, axis=1)
    taken = set(selected)
    heap = [(-float(bounds[i]), i) for i in range(len(points)) if i not in taken]
    heapq.heapify(heap)
    selected = list(selected)
    while len(selected) < k:
        _, i = heapq.heappop(heap)
        if selected:
            overlap = np.maximum(points[selected], points[i])
            fresh = float(boxes[i]) - compute_hypervolume(overlap, reference, assume_pareto=True)
        else:
            fresh = float(boxes[i])
        if not heap or fresh >= -heap[0][0]:
            selected.append(i)
        else:
            heapq.heappush(heap, (-fresh, i))
    return selected


def _unique_rows(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in lexicographic order and the first index of each (what
    ``np.unique(points, axis=0, return_index=True)`` returns, from one lexsort)."""
    order = np.lexsort(points.T[::-1])
    ordered = points[order]
    is_new = np.ones(len(ordered), dtype=bool)
    is_new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    return ordered[is_new], order[is_new]


def solve_hssp(losses: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """Return the indices (into ``losses``) of ``k`` points chosen greedily by contribution.

    Repeated points count once; copies are added only when there are fewer than ``k`` distinct
    points. With a non-finite reference point the first ``k`` points are returned.
    """
    n = len(losses)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    if not np.isfinite(reference).all():
        return np.arange(k)
    unique, first = _unique_rows(losses)
    if len(unique) <= k:
        rest = np.setdiff1d(np.arange(n), first)
        return np.sort(np.concatenate([first, rest[: k - len(first)]]))
    if losses.shape[1] == 2:
        picked = _greedy_2d(unique, k, reference)
    else:
        picked = _greedy_nd(unique, k, reference)
    return np.sort(first[picked])
