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

__all__ = ["hypervolume", "reference_point", "solve_hssp"]

_EPS = 1e-12
# Segments of the front up to this long are scanned in Python rather than NumPy.
_SMALL_SEGMENT = 32


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
    # On one front, sorting by the first loss sorts the second in reverse. The selected points
    # cut the front into segments; a point's exclusive region reaches right to the next
    # selected point and up to the previous one, so it depends only on its segment's ends.
    # Selecting a point changes only its own segment, which it splits in two: a heap of the
    # segments' best contributions gives the greedy choice (ties: the leftmost point).
    order = np.argsort(points[:, 0], kind="stable")
    x, y = points[order, 0], points[order, 1]
    x_list, y_list = x.tolist(), y.tolist()
    ref_x, ref_y = float(reference[0]), float(reference[1])
    push, pop = heapq.heappush, heapq.heappop

    if len(x) > _SMALL_SEGMENT:
        value, where = _segment_best(x, y, 0, len(x), ref_x, ref_y)
    else:
        value, where = _segment_best(x_list, y_list, 0, len(x), ref_x, ref_y)  # type: ignore[arg-type]
    heap = [(-value, where, 0, len(x), ref_x, ref_y)]
    chosen: list[int] = []
    while len(chosen) < k:
        _, where, lo, hi, right, up = pop(heap)
        chosen.append(where)
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
    return order[chosen].tolist()


def _greedy_nd(points: np.ndarray, k: int, reference: np.ndarray) -> list[int]:
    boxes = np.prod(reference - points, axis=1)
    heap = [(-float(v), i) for i, v in enumerate(boxes)]
    heapq.heapify(heap)
    selected: list[int] = []
    while len(selected) < k:
        _, i = heapq.heappop(heap)
        if selected:
            overlap = np.maximum(points[selected], points[i])
            fresh = float(boxes[i]) - hypervolume(overlap, reference)
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
