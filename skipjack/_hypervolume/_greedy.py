"""Greedy hypervolume subset selection with exact contributions from a box decomposition.

The region below ``reference`` that the points picked so far do not dominate is kept as a list
of disjoint axis-parallel boxes (unbounded below). A candidate's contribution is the volume of
its own box ``[p, reference)`` inside that region. Picking ``t`` removes ``[t, reference)``
from the region: each box it cuts splits into at most ``d`` boxes outside it, and every
candidate loses the volume of ``[max(p, t), reference)`` inside the cut boxes. Each step is
thus a few array operations over (candidates x cut boxes) instead of one hypervolume per
candidate.

Successive calls (one per TPE suggestion) usually see the same front give or take a point, so
the last run is kept and its picks are reused as far as they still are the greedy ones: a
point's contributions depend only on the picks before, so a pick stands while it is still
there and no newcomer would have beaten it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from skipjack._hypervolume._boxes import BoxStore
from skipjack._hypervolume._boxes import cut
from skipjack._hypervolume._boxes import volume_inside

__all__ = ["greedy_by_boxes"]

# A run is reused only when at most this many points are new to it.
_MAX_NEWCOMERS = 64
# Numbers in the (newcomers x cut boxes x objectives) array checking them, at most.
_MAX_CHECK = 1 << 20


class _Run(NamedTuple):
    """One greedy run: its points (and their row keys, sorted, with the sorting order), the
    reference point, the picks, each pick's contribution when picked, every point's
    contribution before each pick (one row per pick) and every box made."""

    points: np.ndarray
    sorted_keys: np.ndarray
    key_order: np.ndarray
    reference: np.ndarray
    picks: np.ndarray
    gains: np.ndarray
    history: np.ndarray
    boxes: BoxStore


_last_run: _Run | None = None


def _row_keys(points: np.ndarray) -> np.ndarray:
    """One opaque, comparable key per row (its bytes)."""
    rows = np.ascontiguousarray(points, dtype=float)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


class _Start(NamedTuple):
    """Where a run resumes: the picks made, every point's contribution before each of them and
    before the next, their contributions when picked, and the boxes after them."""

    picks: list[int]
    history: np.ndarray
    gains: np.ndarray
    boxes: BoxStore


def _fresh(points: np.ndarray, reference: np.ndarray) -> _Start:
    history = np.prod(reference - points, axis=1)[np.newaxis, :]
    return _Start([], history, np.zeros(0), BoxStore.below(reference))


def _newcomer_contributions(run: _Run, newcomers: np.ndarray) -> np.ndarray | None:
    """Contributions of the points ``newcomers`` (rows) before each pick of ``run``, or None
    when checking them would take too much memory."""
    n_steps = len(run.picks)
    box_volume = np.prod(run.reference - newcomers, axis=1)
    boxes = run.boxes
    cut_boxes = np.flatnonzero(boxes.died[: boxes.used] < n_steps)
    d = newcomers.shape[1]
    if len(newcomers) * len(cut_boxes) * d > _MAX_CHECK:
        return None
    cut_boxes = cut_boxes[np.argsort(boxes.died[cut_boxes], kind="stable")]
    step = boxes.died[cut_boxes] - 1  # the pick that cut each box
    corners = np.maximum(newcomers[:, np.newaxis, :], run.points[run.picks[step]])
    low = np.maximum(corners, boxes.lo[cut_boxes])
    lost = np.maximum(boxes.hi[cut_boxes] - low, 0.0).prod(axis=2)
    by_step = np.zeros((len(newcomers), n_steps))
    if len(cut_boxes):
        first = np.flatnonzero(np.diff(step, prepend=-1))
        by_step[:, step[first]] = np.add.reduceat(lost, first, axis=1)
    spent = np.cumsum(by_step, axis=1)
    before = np.empty_like(by_step)
    before[:, 0] = box_volume
    before[:, 1:] = box_volume[:, np.newaxis] - spent[:, :-1]
    return before


def _resume(
    points: np.ndarray, keys: np.ndarray, reference: np.ndarray, k: int, run: _Run | None
) -> _Start:
    """The longest prefix of the last run's picks that greedy selection still makes on
    ``points`` (distinct rows, with keys ``keys``), at most ``k - 1`` picks so that at least
    one step runs, with the state after it."""
    if run is None or run.points.shape[1] != points.shape[1]:
        return _fresh(points, reference)
    if not np.array_equal(run.reference, reference):
        return _fresh(points, reference)
    at = np.minimum(np.searchsorted(run.sorted_keys, keys), len(run.sorted_keys) - 1)
    known = run.sorted_keys[at] == keys
    old_of_new = np.where(known, run.key_order[at], -1)
    new_of_old = np.full(len(run.points), -1)
    new_of_old[old_of_new[known]] = np.flatnonzero(known)
    if (np.diff(new_of_old[new_of_old >= 0]) <= 0).any():
        return _fresh(points, reference)  # the order, hence the tie-breaking, changed
    picks = new_of_old[run.picks]
    gone = np.flatnonzero(picks < 0)
    limit = int(gone[0]) if gone.size else len(picks)
    newcomers = np.flatnonzero(~known)
    before = np.zeros((0, len(run.picks)))
    if limit > 0 and newcomers.size:
        if newcomers.size > _MAX_NEWCOMERS:
            return _fresh(points, reference)
        found = _newcomer_contributions(run, points[newcomers])
        if found is None:
            return _fresh(points, reference)
        before = found
        gains = run.gains[np.newaxis, :limit]
        wins = (before[:, :limit] > gains) | (
            (before[:, :limit] == gains) & (newcomers[:, np.newaxis] < picks[np.newaxis, :limit])
        )
        beaten = np.flatnonzero(wins.any(axis=0))
        if beaten.size:
            limit = int(beaten[0])
    start = min(limit, len(run.picks) - 1, k - 1)
    if start <= 0:
        return _fresh(points, reference)
    history = np.empty((start + 1, len(points)))
    history[:, known] = run.history[: start + 1, old_of_new[known]]
    history[:, newcomers] = before[:, : start + 1].T
    return _Start(
        picks[:start].tolist(), history, run.gains[:start].copy(), run.boxes.rewound(start)
    )


def greedy_by_boxes(
    points: np.ndarray, k: int, reference: np.ndarray, max_boxes: int
) -> tuple[list[int], np.ndarray]:
    """Greedy picks by exact hypervolume contribution, ties going to the lowest index.

    ``points`` must be finite and strictly below the finite ``reference``, ``k`` between 1 and
    ``len(points)``. Stops after ``k`` picks, or earlier once the decomposition would exceed
    ``max_boxes`` boxes; then also returns, for every point not picked, an upper bound on its
    contribution given the picks (exact for all picks but the last, by submodularity).
    """
    global _last_run
    n = len(points)
    keys = _row_keys(points)
    order = np.argsort(keys, kind="stable")
    distinct = bool((keys[order[1:]] != keys[order[:-1]]).all())
    # Repeated rows would make matching rows between runs ambiguous: no reuse then.
    start = _resume(points, keys, reference, k, _last_run if distinct else None)
    picks = start.picks
    history = np.empty((k, n))
    history[: len(picks)] = start.history[: len(picks)]
    contributions = start.history[len(picks)].copy()
    gains = np.empty(k)
    gains[: len(picks)] = start.gains
    boxes = start.boxes
    while len(picks) < k:
        history[len(picks)] = contributions
        pick = int(np.argmax(contributions))
        gains[len(picks)] = contributions[pick]
        picks.append(pick)
        contributions[pick] = -np.inf
        if len(picks) == k:
            break
        corner = points[pick]
        slots = np.flatnonzero((boxes.live_hi[: boxes.used] > corner).all(axis=1))
        if len(slots) == 0:  # the pick adds nothing (it is dominated or repeated)
            continue
        cut_lo, cut_hi = boxes.lo[slots], boxes.hi[slots]
        pieces_lo, pieces_hi = cut(cut_lo, cut_hi, corner)
        if boxes.alive - len(slots) + len(pieces_lo) > max_boxes:
            break
        # A candidate loses its box clipped to the pick's, inside the boxes cut; only those
        # below the cut boxes' upper corners in every objective can lose anything.
        near = np.flatnonzero((points < cut_hi.max(axis=0)).all(axis=1))
        contributions[near] -= volume_inside(np.maximum(points[near], corner), cut_lo, cut_hi)
        boxes.replace(slots, pieces_lo, pieces_hi, len(picks))
    done = len(picks)
    if not distinct:
        _last_run = None
        return picks, contributions
    _last_run = _Run(
        points.copy(),
        keys[order],
        order,
        reference.copy(),
        np.array(picks, dtype=np.intp),
        gains[:done],
        history[:done],
        boxes,
    )
    return picks, contributions
