"""Greedy hypervolume subset selection with 3 and 4 objectives, against brute force."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest

from skipjack._hypervolume import _boxes
from skipjack._hypervolume import _greedy
from skipjack.samplers._tpe import _hssp
from skipjack.samplers._tpe._hssp import solve_hssp


def union_volume(points: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume by inclusion-exclusion over every non-empty subset of ``points``: a subset
    of size s adds (-1)^(s+1) times the box of the componentwise max of its points."""
    n = len(points)
    masks = np.array(list(itertools.product([False, True], repeat=n))[1:])
    corners = np.where(masks[:, :, np.newaxis], points[np.newaxis], -np.inf).max(axis=1)
    volumes = np.prod(np.maximum(reference - corners, 0.0), axis=1)
    signs = np.where(masks.sum(axis=1) % 2 == 1, 1.0, -1.0)
    return float(signs @ volumes)


def brute_force_greedy(points: np.ndarray, k: int, reference: np.ndarray) -> list[int]:
    """Greedy picks, each maximising the hypervolume of the picks with it; ties to the lowest
    index. The hypervolume is recomputed from scratch for every candidate."""
    picks: list[int] = []
    for _ in range(k):
        best, best_value = -1, -np.inf
        for i in range(len(points)):
            if i in picks:
                continue
            value = union_volume(points[picks + [i]], reference)
            if value > best_value:
                best, best_value = i, value
        picks.append(best)
    return picks


def integer_front(seed: int, n: int, d: int, total: int) -> np.ndarray:
    """Distinct integer points with a fixed coordinate sum: mutually non-dominated, with
    many exactly tied contributions (volumes are exact integers)."""
    rng = np.random.RandomState(seed)
    grid = [c for c in itertools.product(range(total + 1), repeat=d - 1) if sum(c) <= total]
    rows = rng.choice(len(grid), size=min(n, len(grid)), replace=False)
    return np.array([list(grid[r]) + [total - sum(grid[r])] for r in rows], dtype=float)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.sampled_from([3, 4]),
    n=st.integers(2, 9),
    data=st.data(),
)
def test_integer_fronts_match_brute_force_with_ties(
    seed: int, d: int, n: int, data: st.DataObject
) -> None:
    points = integer_front(seed, n, d, total=4)
    k = data.draw(st.integers(1, len(points) - 1))
    reference = np.full(d, 5.0)
    assert _hssp._greedy_nd(points, k, reference) == brute_force_greedy(points, k, reference)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.sampled_from([3, 4]), n=st.integers(2, 9))
def test_any_integer_points_match_brute_force(seed: int, d: int, n: int) -> None:
    # Not a front: dominated points and repeats take part too.
    rng = np.random.RandomState(seed)
    points = rng.randint(0, 4, size=(n, d)).astype(float)
    reference = np.full(d, 4.0)
    k = int(rng.randint(1, n))
    assert _hssp._greedy_nd(points, k, reference) == brute_force_greedy(points, k, reference)


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("seed", range(6))
def test_random_fronts_match_brute_force(d: int, seed: int) -> None:
    rng = np.random.RandomState(seed)
    points = np.abs(rng.randn(10, d))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    reference = _hssp.reference_point(points)
    for k in (1, 4, 9):
        assert _hssp._greedy_nd(points, k, reference) == brute_force_greedy(points, k, reference)


@pytest.mark.parametrize("seed", range(4))
def test_lazy_fallback_matches_brute_force(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny box budget stops the decomposition after a few picks; lazy evaluation finishes.
    monkeypatch.setattr(_hssp, "_MAX_BOXES", 12)
    rng = np.random.RandomState(seed)
    points = np.abs(rng.randn(10, 4))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    reference = _hssp.reference_point(points)
    assert _hssp._greedy_nd(points, 7, reference) == brute_force_greedy(points, 7, reference)


def test_solve_hssp_counts_repeats_once() -> None:
    front = integer_front(3, 8, 3, total=4)
    losses = np.vstack([front[:3], front, front[1:2]])  # repeats of rows 0, 1 and 2
    reference = np.full(3, 5.0)
    picked = solve_hssp(losses, 5, reference)
    assert len(picked) == 5 == len({tuple(row) for row in losses[picked]})
    distinct, first = np.unique(losses, axis=0, return_index=True)
    expected = first[brute_force_greedy(distinct, 5, reference)]
    assert picked.tolist() == sorted(expected.tolist())


def test_larger_front_matches_lazy_exact_greedy() -> None:
    # Beyond brute force: the lazy greedy with exact hypervolumes is the reference here.
    rng = np.random.RandomState(7)
    points = np.abs(rng.randn(120, 3))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    reference = _hssp.reference_point(points)
    boxes = np.prod(reference - points, axis=1)
    lazy = _hssp._lazy_greedy(points, 40, reference, [], boxes)
    assert _hssp._greedy_nd(points, 40, reference) == lazy


def lexsorted(points: np.ndarray) -> np.ndarray:
    return points[np.lexsort(points.T[::-1])]


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("seed", range(3))
def test_successive_calls_reuse_the_last_run_exactly(
    d: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fronts that change by a point at a time, as from one TPE suggestion to the next: each
    # answer must still be the brute-force greedy one, ties included (integer volumes).
    resumed: list[int] = []
    resume = _greedy._resume

    def spy(*args: object, **kwargs: object) -> _greedy._Start:
        start = resume(*args, **kwargs)  # type: ignore[arg-type]
        resumed.append(len(start.picks))
        return start

    monkeypatch.setattr(_greedy, "_resume", spy)
    monkeypatch.setattr(_greedy, "_last_run", None)
    rng = np.random.RandomState(seed)
    pool = integer_front(seed, 40, d, total=4 if d == 3 else 3)
    members = list(rng.choice(len(pool), size=7, replace=False))
    reference = np.full(d, 5.0)
    for _ in range(40):
        outside = [i for i in range(len(pool)) if i not in members]
        if len(members) < 9 and (rng.rand() < 0.6 or len(members) < 4):
            members.append(int(rng.choice(outside)))
        else:
            members.remove(int(rng.choice(members)))
        points = lexsorted(pool[members])
        k = int(rng.randint(max(1, len(points) - 4), len(points)))
        assert _hssp._greedy_nd(points, k, reference) == brute_force_greedy(points, k, reference)
    assert max(resumed) > 0  # the last run was reused


def test_successive_calls_match_fresh_runs_on_a_large_front(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_greedy, "_last_run", None)
    rng = np.random.RandomState(3)
    pool = np.abs(rng.randn(400, 3))
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    reference = np.full(3, 1.2)
    members = list(range(150))
    for step in range(60):
        if step % 4 == 3:
            members.remove(members[int(rng.randint(len(members)))])
        else:
            members.append(150 + step)
        points = lexsorted(pool[members])
        k = 30 + step // 3
        warm = _hssp._greedy_nd(points, k, reference)
        last = _greedy._last_run
        _greedy._last_run = None
        assert warm == _hssp._greedy_nd(points, k, reference)
        _greedy._last_run = last


@pytest.mark.parametrize("seed", range(4))
def test_array_paths_for_many_cut_boxes_match_brute_force(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Splitting boxes with NumPy and measuring volumes in chunks, as done on large fronts.
    monkeypatch.setattr(_boxes, "_FEW_CUT", 0)
    monkeypatch.setattr(_boxes, "_CHUNK", 7)
    monkeypatch.setattr(_greedy, "_last_run", None)
    d = 3 + seed % 2
    points = integer_front(seed, 9, d, total=4)
    reference = np.full(d, 5.0)
    for k in (2, 5, 8):
        assert _hssp._greedy_nd(points, k, reference) == brute_force_greedy(points, k, reference)
