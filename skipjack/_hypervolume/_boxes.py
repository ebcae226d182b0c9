"""Disjoint boxes for the region a point set does not dominate, and the two operations on
them that greedy hypervolume subset selection needs: cutting out a point's dominated region,
and measuring how much of a point's box lies inside given boxes."""

from __future__ import annotations

import numpy as np

__all__ = ["BoxStore", "cut", "volume_inside"]

# Numbers per temporary (candidates x boxes x objectives) array in one chunk.
_CHUNK = 1 << 20
# Up to this many boxes cut at once are split in plain Python: NumPy calls cost more.
_FEW_CUT = 32
# The step number of a box that is still alive.
ALIVE = np.iinfo(np.int64).max


def cut(lo: np.ndarray, hi: np.ndarray, corner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boxes ``[lo, hi)`` less ``[corner, inf)``, as disjoint boxes.

    Piece ``j`` holds the points below ``corner`` in objective ``j`` and at or above it in
    every earlier objective, so the pieces are disjoint and cover the difference.
    """
    if len(lo) <= _FEW_CUT:
        return _cut_few(lo.tolist(), hi.tolist(), corner.tolist(), lo.shape[1])
    pieces_lo, pieces_hi = [], []
    raised = lo.copy()
    for j in range(lo.shape[1]):
        keep = raised[:, j] < corner[j]
        if keep.any():
            piece_hi = hi[keep].copy()
            piece_hi[:, j] = corner[j]
            pieces_lo.append(raised[keep].copy())
            pieces_hi.append(piece_hi)
        raised[:, j] = np.maximum(raised[:, j], corner[j])
    if not pieces_lo:
        return lo[:0], hi[:0]
    return np.concatenate(pieces_lo), np.concatenate(pieces_hi)


def _cut_few(
    lo: list[list[float]], hi: list[list[float]], corner: list[float], d: int
) -> tuple[np.ndarray, np.ndarray]:
    """``cut`` on a few boxes given as lists, piece by piece."""
    pieces_lo: list[list[float]] = []
    pieces_hi: list[list[float]] = []
    for low, high in zip(lo, hi):
        raised = list(low)
        for j in range(d):
            if raised[j] < corner[j]:
                piece_hi = list(high)
                piece_hi[j] = corner[j]
                pieces_lo.append(list(raised))
                pieces_hi.append(piece_hi)
                raised[j] = corner[j]
    shape = (len(pieces_lo), d)
    return np.array(pieces_lo).reshape(shape), np.array(pieces_hi).reshape(shape)


def volume_inside(corners: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Volume of each box ``[corner, inf)`` inside the union of the disjoint boxes ``[lo, hi)``,
    in chunks of candidates that keep the temporary arrays near ``_CHUNK`` numbers."""
    step = max(1, _CHUNK // max(1, lo.size))
    if step >= len(corners):
        # Objective by objective: a product over a short last axis is slow in NumPy.
        volume = np.maximum(hi[:, 0] - np.maximum(corners[:, 0, np.newaxis], lo[:, 0]), 0.0)
        for j in range(1, lo.shape[1]):
            side = hi[:, j] - np.maximum(corners[:, j, np.newaxis], lo[:, j])
            volume *= np.maximum(side, 0.0)
        return volume.sum(axis=1)
    lost = np.empty(len(corners))
    for start in range(0, len(corners), step):
        lost[start : start + step] = volume_inside(corners[start : start + step], lo, hi)
    return lost


class BoxStore:
    """Every box made during one greedy run, in growable arrays: box ``b`` is ``[lo[b],
    hi[b])``, made after ``born[b]`` picks and cut by pick number ``died[b] - 1`` (``died`` is
    ``ALIVE`` while it stands). ``live_hi`` is ``hi`` with ``-inf`` for cut boxes, so that no
    corner is ever above one of those."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray, born: np.ndarray, died: np.ndarray) -> None:
        self.used = len(lo)
        size = max(64, 2 * self.used)
        d = lo.shape[1]
        self.lo = np.empty((size, d))
        self.hi = np.empty((size, d))
        self.live_hi = np.full((size, d), -np.inf)
        self.born = np.empty(size, dtype=np.int64)
        self.died = np.empty(size, dtype=np.int64)
        self.lo[: self.used], self.hi[: self.used] = lo, hi
        self.born[: self.used], self.died[: self.used] = born, died
        alive = died == ALIVE
        self.live_hi[: self.used][alive] = hi[alive]
        self.alive = int(alive.sum())

    @classmethod
    def below(cls, reference: np.ndarray) -> BoxStore:
        """The one box below ``reference``, unbounded below."""
        d = len(reference)
        return cls(
            np.full((1, d), -np.inf),
            reference[np.newaxis, :].astype(float),
            np.zeros(1, dtype=np.int64),
            np.full(1, ALIVE, dtype=np.int64),
        )

    def replace(self, slots: np.ndarray, lo: np.ndarray, hi: np.ndarray, step: int) -> None:
        """Mark the boxes in ``slots`` cut by pick ``step - 1`` and add ``[lo, hi)`` made then."""
        self.died[slots] = step
        self.live_hi[slots] = -np.inf
        extra = len(lo)
        if self.used + extra > len(self.lo):
            grow = max(len(self.lo), extra)
            d = self.lo.shape[1]
            self.lo = np.concatenate([self.lo, np.empty((grow, d))])
            self.hi = np.concatenate([self.hi, np.empty((grow, d))])
            self.live_hi = np.concatenate([self.live_hi, np.full((grow, d), -np.inf)])
            self.born = np.concatenate([self.born, np.empty(grow, dtype=np.int64)])
            self.died = np.concatenate([self.died, np.empty(grow, dtype=np.int64)])
        end = self.used + extra
        self.lo[self.used : end], self.hi[self.used : end] = lo, hi
        self.live_hi[self.used : end] = hi
        self.born[self.used : end] = step
        self.died[self.used : end] = ALIVE
        self.used = end
        self.alive += extra - len(slots)

    def rewound(self, step: int) -> BoxStore:
        """The store as it was after ``step`` picks: later boxes dropped, later cuts undone."""
        made = np.flatnonzero(self.born[: self.used] <= step)
        died = self.died[made]
        died = np.where(died > step, ALIVE, died)
        return BoxStore(self.lo[made], self.hi[made], self.born[made], died)
