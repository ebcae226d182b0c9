"""The two-objective good set, kept up to date from one call to the next.

A history's rows are only ever appended, so the feasible COMPLETE trials only gain points. This
module keeps, per history, the non-domination fronts of their distinct loss points (each a
staircase sorted by the first loss) and the last greedy hypervolume selection on the front being
thinned, and updates both with the rows added since the last call. It answers exactly what
``_split._best_complete_2d`` computes from scratch, and declines (returns None) whenever that
would take another path: a non-finite loss, too few COMPLETE trials, a front thinner than the
slots to fill, or an infinite reference point.

Fronts. A new point's rank is the first front none of whose points dominates it (whatever
dominates it from a later front is dominated from every earlier one). Inserting it pushes the
points of its front that it dominates one front down, where they push the points they dominate,
and so on. Only the fronts needed to fill ``n_below`` slots are kept; the points below them wait
in one lexicographically sorted list and are peeled off when needed. Ranks only ever grow.

Greedy selection. The picks cut the front into segments, and a point's contribution depends
only on the ends of its segment, so greedy selection is a heap of segments, each splitting in
two when its best point is picked. Its sequence of picks is the merge (the smallest head first)
of the sequences of the segments present at any step. After the front changes, the picks made
before the first step the changes could affect still stand (``hssp._still_greedy``); from that
step on, segments untouched by any change pick exactly as before, so their old picks and their
heap entries left at the end of the last run are merged with fresh runs of the touched segments.
"""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right
from bisect import insort
from collections import OrderedDict
import heapq
import math
import threading

import numpy as np

from skipjack.study._history import HistorySnapshot
from skipjack.trial._state import TrialState

__all__ = ["Fronts2D", "greedy_picks", "split_two_objectives"]

_COMPLETE = int(TrialState.COMPLETE)
_PRUNED = int(TrialState.PRUNED)
_EPS = 1e-12
# Histories whose state is kept at once (several studies may alternate).
_MAX_STATES = 4

# A heap entry of one segment: (-best contribution, x of its best point, x of the pick bounding
# it on the left (-inf: none), x of the one on the right (+inf: none), right end, upper end).
_Entry = tuple[float, float, float, float, float, float]
# One pick: (-contribution, x, y).
_Pick = tuple[float, float, float]


class _Point:
    """A distinct loss point: its coordinates (those of its first row), its rows (increasing)
    and its front (-1: below the fronts kept)."""

    __slots__ = ("rank", "rows", "x", "y")

    def __init__(self, x: float, y: float, row: int) -> None:
        self.x = x
        self.y = y
        self.rows = [row]
        self.rank = -1


class _Greedy:
    """The last greedy run on one front: its picks in order (each prefix is the greedy answer
    of its length) and the heap entries left when it stopped."""

    __slots__ = ("epoch", "frontier", "picks", "rank", "ref")

    def __init__(
        self,
        rank: int,
        epoch: int,
        ref: tuple[float, float],
        picks: list[_Pick],
        frontier: list[_Entry],
    ) -> None:
        self.rank = rank
        self.epoch = epoch
        self.ref = ref
        self.picks = picks
        self.frontier = frontier


class Fronts2D:
    """Non-domination fronts of a growing set of distinct 2-D points, kept down to the front
    where ``n_below`` rows (copies included) are reached."""

    def __init__(self) -> None:
        self.points: dict[tuple[float, float], _Point] = {}
        self.xs: list[list[float]] = []  # per front: x increasing (so y decreasing)
        self.ys: list[list[float]] = []
        self.counts: list[int] = []  # per front: rows, copies included
        self.epochs: list[int] = []  # per front: changes when the front is rebuilt
        self.rest: list[tuple[float, float]] = []  # points below the fronts, sorted
        self.n_rows = 0
        self.changed: dict[int, list[float]] = {}  # front -> x of points added or removed
        self._epoch = 0

    # -- updates ----------------------------------------------------------------------------
    def add(self, x: float, y: float, row: int) -> None:
        """Add the (finite) point ``(x, y)`` of ``row``; rows must come in increasing order."""
        self.n_rows += 1
        point = self.points.get((x, y))
        if point is not None:
            point.rows.append(row)
            if point.rank >= 0:
                self.counts[point.rank] += 1
            return
        point = _Point(x, y, row)
        self.points[(x, y)] = point
        rank = self._rank_of(x, y)
        if rank == len(self.xs):
            insort(self.rest, (x, y))
            return
        moving = [point]
        while moving and rank < len(self.xs):
            moving = self._insert(rank, moving)
            rank += 1
        for p in moving:
            p.rank = -1
            insort(self.rest, (p.x, p.y))

    def _rank_of(self, x: float, y: float) -> int:
        """The first kept front with no point dominating ``(x, y)`` (len(fronts) if none)."""
        lo, hi = 0, len(self.xs)
        while lo < hi:  # fronts dominating the point come first
            mid = (lo + hi) // 2
            xs = self.xs[mid]
            i = bisect_right(xs, x) - 1
            if i >= 0 and self.ys[mid][i] <= y:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _insert(self, rank: int, moving: list[_Point]) -> list[_Point]:
        """Put ``moving`` (points no point of front ``rank`` dominates, x increasing) into that
        front; return the points they push out, x increasing."""
        xs, ys = self.xs[rank], self.ys[rank]
        log = self.changed.setdefault(rank, [])
        pushed: list[_Point] = []
        for p in moving:
            at = bisect_left(xs, p.x)
            end = at
            while end < len(xs) and ys[end] >= p.y:
                end += 1
            for i in range(at, end):
                q = self.points[(xs[i], ys[i])]
                pushed.append(q)
                log.append(q.x)
                self.counts[rank] -= len(q.rows)
            xs[at:end] = [p.x]
            ys[at:end] = [p.y]
            p.rank = rank
            log.append(p.x)
            self.counts[rank] += len(p.rows)
        if len(pushed) > 1:
            pushed.sort(key=lambda q: q.x)
        return pushed

    def keep(self, n_below: int) -> None:
        """Keep exactly the fronts needed for ``n_below`` rows: up to the first one where
        the rows of the fronts so far reach it (or every front)."""
        total = sum(self.counts)
        while len(self.xs) > 1 and total - self.counts[-1] >= n_below:
            total -= self.counts[-1]
            self._drop_last()
        while total < n_below and self.rest:
            total += self._peel()

    def _drop_last(self) -> None:
        rank = len(self.xs) - 1
        for x, y in zip(self.xs[rank], self.ys[rank]):
            self.points[(x, y)].rank = -1
        self.rest = sorted(self.rest + list(zip(self.xs[rank], self.ys[rank])))
        del self.xs[rank], self.ys[rank], self.counts[rank], self.epochs[rank]
        self.changed.pop(rank, None)

    def _peel(self) -> int:
        """Move the front of the points below the fronts into a new last front; its rows."""
        rank = len(self.xs)
        xs: list[float] = []
        ys: list[float] = []
        left: list[tuple[float, float]] = []
        lowest = math.inf
        count = 0
        for x, y in self.rest:  # lexicographic: on the front iff below every earlier y
            if y < lowest:
                lowest = y
                xs.append(x)
                ys.append(y)
                point = self.points[(x, y)]
                point.rank = rank
                count += len(point.rows)
            else:
                left.append((x, y))
        self.rest = left
        self.xs.append(xs)
        self.ys.append(ys)
        self.counts.append(count)
        self._epoch += 1
        self.epochs.append(self._epoch)
        self.changed.pop(rank, None)
        return count


def greedy_picks(
    xs: list[float],
    ys: list[float],
    k: int,
    ref_x: float,
    ref_y: float,
    last: tuple[list[_Pick], list[_Entry]] | None,
    changed: list[float],
) -> tuple[list[_Pick], list[_Entry]]:
    """Greedy picks (at least ``k``, in pick order) on the front ``xs``, ``ys`` (x increasing,
    y decreasing, every point below the reference) and the heap entries left.

    ``last`` is the result of the previous call on the same front with the same reference
    point, which has since changed only at the x values in ``changed``; or None.
    """
    if last is None:
        return _merge_runs(xs, ys, k, [], [], [], [(-math.inf, math.inf, ref_x, ref_y)])
    old_picks, old_frontier = last
    if not changed and len(old_picks) >= k:
        return last  # the same front: the same run
    touched = set(changed)
    n = len(xs)
    # The picks made before the first one that left the front stand ...
    valid = len(old_picks)
    for step, (_, px, py) in enumerate(old_picks):
        if px in touched:
            i = bisect_left(xs, px)
            if i == n or xs[i] != px or ys[i] != py:
                valid = step
                break
    # ... and before the first step a new point would win.
    for x0 in touched:
        i = bisect_left(xs, x0)
        if i == n or xs[i] != x0:
            continue
        y0 = ys[i]
        left, right, up = -math.inf, ref_x, ref_y
        neg = -((right - x0) * (up - y0))
        for step in range(valid):
            neg_s, px, py = old_picks[step]
            if neg < neg_s or (neg == neg_s and x0 <= px):
                valid = step
                break
            if left < px < x0:
                left, up = px, py
                neg = -((right - x0) * (up - y0))
            elif x0 < px < right:
                right = px
                neg = -((right - x0) * (up - y0))
    prefix = old_picks[:valid]
    cuts = sorted(p[1] for p in prefix)
    # Segment i lies between cuts i - 1 and i; a changed x equal to a cut touches both sides.
    dirty = set()
    for x in touched:
        dirty.add(bisect_left(cuts, x))
        dirty.add(bisect_right(cuts, x))
    segments = []
    for segment in dirty:
        if segment > 0:
            lo_x = cuts[segment - 1]
            up = ys[bisect_left(xs, lo_x)]
        else:
            lo_x, up = -math.inf, ref_y
        if segment < len(cuts):
            hi_x = right = cuts[segment]
        else:
            hi_x, right = math.inf, ref_x
        segments.append((lo_x, hi_x, right, up))
    # Old picks after the prefix and heap entries never sit on a cut: each lies inside one
    # segment.
    if len(segments) == 1:
        lo_x, hi_x = segments[0][:2]
        clean = [p for p in old_picks[valid:] if not lo_x < p[1] < hi_x]
        frontier = [e for e in old_frontier if not lo_x < e[1] < hi_x]
    else:
        clean = [p for p in old_picks[valid:] if bisect_left(cuts, p[1]) not in dirty]
        frontier = [e for e in old_frontier if bisect_left(cuts, e[1]) not in dirty]
    return _merge_runs(xs, ys, k, prefix, clean, frontier, segments)


def _scan(
    xs: list[float], ys: list[float], lo_x: float, hi_x: float, right: float, up: float
) -> _Entry | None:
    """The heap entry of the segment of points strictly between ``lo_x`` and ``hi_x``."""
    lo = bisect_right(xs, lo_x)
    hi = bisect_left(xs, hi_x)
    if lo >= hi:
        return None
    best, at = -math.inf, lo
    for i in range(lo, hi):
        value = (right - xs[i]) * (up - ys[i])
        if value > best:
            best, at = value, i
    return (-best, xs[at], lo_x, hi_x, right, up)


def _merge_runs(
    xs: list[float],
    ys: list[float],
    k: int,
    prefix: list[_Pick],
    clean: list[_Pick],
    frontier: list[_Entry],
    segments: list[tuple[float, float, float, float]],
) -> tuple[list[_Pick], list[_Entry]]:
    """Continue the greedy run ``prefix`` to at least ``k`` picks: the ``segments`` (ends
    ``lo_x``, ``hi_x``, ``right``, ``up``) are run afresh, merged with ``clean``, the old picks
    of every other segment, whose heap entries left at the end of the old run, ``frontier``,
    take over once those picks are used up (so the run may end past ``k``)."""
    heap: list[_Entry] = []
    for lo_x, hi_x, right, up in segments:
        entry = _scan(xs, ys, lo_x, hi_x, right, up)
        if entry is not None:
            heap.append(entry)
    heapq.heapify(heap)
    picks = list(prefix)
    pending = len(clean)
    taken = 0
    push, pop = heapq.heappush, heapq.heappop
    while True:
        if taken == pending:
            if frontier:
                heap.extend(frontier)
                heapq.heapify(heap)
                frontier = []
            if len(picks) >= k or not heap:
                break
        if taken < pending and (
            not heap or (clean[taken][0], clean[taken][1]) < (heap[0][0], heap[0][1])
        ):
            picks.append(clean[taken])
            taken += 1
            continue
        neg, x, lo_x, hi_x, right, up = pop(heap)
        i = bisect_left(xs, x)
        y = ys[i]
        picks.append((neg, x, y))
        # The left part now reaches right to this point, the right part up to it.
        if i > 0 and xs[i - 1] > lo_x:
            entry = _scan(xs, ys, lo_x, x, x, up)
            if entry is not None:
                push(heap, entry)
        if i + 1 < len(xs) and xs[i + 1] < hi_x:
            entry = _scan(xs, ys, x, hi_x, right, y)
            if entry is not None:
                push(heap, entry)
    return picks, heap


class _History:
    """What is kept of one history: its fronts, its finished rows and the last greedy run."""

    def __init__(self, source: object, signs: tuple[float, float]) -> None:
        self.source = source
        self.signs = signs
        self.n_rows = 0
        self.fronts = Fronts2D()
        self.finite = True
        self.increasing = True  # trial numbers increase along the rows
        self.last_number = -1
        self.finished = np.zeros(64, dtype=bool)
        self.greedy: _Greedy | None = None

    def extend(self, snapshot: HistorySnapshot, violation: np.ndarray) -> None:
        start, n = self.n_rows, len(snapshot)
        if n > len(self.finished):
            grown = np.zeros(max(n, 2 * len(self.finished)), dtype=bool)
            grown[:start] = self.finished[:start]
            self.finished = grown
        s0, s1 = self.signs
        rows = zip(
            range(start, n),
            snapshot.states[start:n].tolist(),
            snapshot.values[start:n, 0].tolist(),
            snapshot.values[start:n, 1].tolist(),
            violation[start:n].tolist(),
            snapshot.numbers[start:n].tolist(),
        )
        for row, state, v0, v1, bad, number in rows:
            if number <= self.last_number:
                self.increasing = False
            self.last_number = number
            if state != _COMPLETE and state != _PRUNED:
                continue
            self.finished[row] = True
            if state != _COMPLETE or bad > 0:
                continue
            x, y = v0 * s0, v1 * s1
            if not (math.isfinite(x) and math.isfinite(y)):
                self.finite = False
            elif self.finite:
                self.fronts.add(x, y, row)
        self.n_rows = n

    def good_rows(self, n_below: int) -> np.ndarray | None:
        fronts = self.fronts
        fronts.keep(n_below)
        # The first front that does not fit whole is thinned (none: every kept front fits).
        filled = 0
        rank = 0
        counts = fronts.counts
        while rank < len(counts) and filled + counts[rank] <= n_below:
            filled += counts[rank]
            rank += 1
        good: list[int] = []
        points = fronts.points
        for r in range(rank):
            for x, y in zip(fronts.xs[r], fronts.ys[r]):
                good.extend(points[(x, y)].rows)
        k = n_below - filled
        if k > 0:
            xs, ys = fronts.xs[rank], fronts.ys[rank]
            ref = (_reference(xs[-1]), _reference(ys[0]))
            if len(xs) <= k or not (math.isfinite(ref[0]) and math.isfinite(ref[1])):
                return None
            last = self.greedy
            if (
                last is not None
                and last.rank == rank
                and last.epoch == fronts.epochs[rank]
                and last.ref == ref
            ):
                picks, frontier = greedy_picks(
                    xs,
                    ys,
                    k,
                    ref[0],
                    ref[1],
                    (last.picks, last.frontier),
                    fronts.changed.get(rank, []),
                )
            else:
                picks, frontier = greedy_picks(xs, ys, k, ref[0], ref[1], None, [])
            self.greedy = _Greedy(rank, fronts.epochs[rank], ref, picks, frontier)
            fronts.changed.clear()  # the changes since this run are what the next one needs
            good.extend(points[(p[1], p[2])].rows[0] for p in picks[:k])
        return np.sort(np.array(good, dtype=np.intp))


def _reference(worst: float) -> float:
    """One coordinate of ``hssp.reference_point``."""
    ref = max(1.1 * worst, 0.9 * worst)
    return _EPS if ref == 0 else ref


_states: OrderedDict[int, _History] = OrderedDict()
_lock = threading.Lock()


def split_two_objectives(
    snapshot: HistorySnapshot,
    violation: np.ndarray,
    signs: tuple[float, float],
    n_below: int,
) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """Good and bad rows (increasing) of a two-objective split, and whether trial numbers
    increase along the rows; None when the split must be computed from scratch."""
    source = snapshot.source
    n = len(snapshot)
    with _lock:
        history = _states.get(id(source))
        if history is None or history.source is not source or history.signs != signs:
            history = _History(source, signs)
            _states[id(source)] = history
            while len(_states) > _MAX_STATES:
                _states.popitem(last=False)
        elif n < history.n_rows:
            return None  # an older snapshot
        _states.move_to_end(id(source))
        history.extend(snapshot, violation)
        if not history.finite or not 1 <= n_below < history.fronts.n_rows:
            return None
        good = history.good_rows(n_below)
        if good is None:
            return None
        mask = history.finished[:n].copy()
        mask[good] = False
        return good, np.flatnonzero(mask), history.increasing
