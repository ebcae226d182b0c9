"""The multi-objective good set against a brute-force reference, call after call.

The reference ranks points by peeling fronts with pairwise domination tests, takes whole fronts
while they fit and thins the next one: with two objectives greedily by exclusive area, every
contribution recomputed from scratch; with three by ``solve_hssp`` itself (the split's general
path, so there only the ranking and the bookkeeping around it are checked). The split under
test keeps state from one call to the next (rows are only appended to a history), so the tests
replay growing prefixes of one loss matrix and interleave unrelated ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from skipjack.samplers._tpe import _hssp
from skipjack.samplers._tpe import _split
from skipjack.samplers._tpe._hssp import greedy_front_2d
from skipjack.samplers._tpe._hssp import reference_point
from skipjack.samplers._tpe._hssp import solve_hssp
from skipjack.samplers._tpe._split import _best_complete


def brute_ranks(losses: np.ndarray) -> np.ndarray:
    """Non-domination rank of every row by peeling fronts, each by pairwise tests."""
    ranks = np.full(len(losses), -1)
    left = list(range(len(losses)))
    rank = 0
    while left:
        front = [
            i
            for i in left
            if not any(
                (losses[j] <= losses[i]).all() and (losses[j] < losses[i]).any() for j in left
            )
        ]
        ranks[front] = rank
        left = [i for i in left if i not in front]
        rank += 1
    return ranks


def brute_greedy_2d(front: np.ndarray, k: int, ref: np.ndarray) -> list[int]:
    """Greedy subset of distinct front points: each step the largest exclusive area given the
    points already chosen (the leftmost on a tie). Returns positions in ``front``."""
    chosen: list[int] = []
    for _ in range(k):
        best, best_at = -np.inf, -1
        for i in sorted(range(len(front)), key=lambda i: front[i, 0]):
            if i in chosen:
                continue
            right = min([front[j, 0] for j in chosen if front[j, 0] > front[i, 0]], default=ref[0])
            up = min([front[j, 1] for j in chosen if front[j, 1] > front[i, 1]], default=ref[1])
            area = (float(right) - float(front[i, 0])) * (float(up) - float(front[i, 1]))
            if area > best:
                best, best_at = area, i
        chosen.append(best_at)
    return chosen


def reference_thinning(tied: np.ndarray, k: int) -> np.ndarray:
    """Positions (increasing) of the ``k`` rows of one front kept, by the documented rules."""
    ref = reference_point(tied)
    if not np.isfinite(ref).all():
        return np.arange(k)
    firsts: list[int] = []
    for i in range(len(tied)):
        if not any((tied[j] == tied[i]).all() for j in firsts):
            firsts.append(i)
    if len(firsts) <= k:  # every distinct point, then the earliest copies
        copies = [i for i in range(len(tied)) if i not in firsts]
        return np.sort(np.array(firsts + copies[: k - len(firsts)]))
    if tied.shape[1] != 2:
        return solve_hssp(tied, k, ref)
    picked = brute_greedy_2d(tied[firsts], k, ref)
    return np.sort(np.array(firsts)[picked])


def reference_best(losses: np.ndarray, n_below: int) -> np.ndarray:
    """Whole fronts while they fit (in row order), then the thinned next front (in row order)."""
    if n_below >= len(losses):
        return np.arange(len(losses))
    ranks = brute_ranks(losses)
    chosen: list[int] = []
    for rank in range(ranks.max() + 1):
        members = np.flatnonzero(ranks == rank)
        if len(chosen) + len(members) <= n_below:
            chosen.extend(members.tolist())
            continue
        picked = members[reference_thinning(losses[members], n_below - len(chosen))]
        return np.concatenate([np.sort(chosen), picked]).astype(int)
    return np.sort(chosen)


def forget_last_calls() -> None:
    _split._last_sorted = None
    _split._last_front = None
    _split._last_thinned = None
    _hssp._last_run = None


def grid_losses(rng: np.random.RandomState, n: int, n_objectives: int, levels: int) -> np.ndarray:
    """Points on a coarse grid (many ties and repeats), some copied outright."""
    losses = rng.randint(0, levels, size=(n, n_objectives)).astype(float)
    copies = rng.randint(0, n, size=n // 5)
    losses[rng.randint(0, n, size=len(copies))] = losses[copies]
    return losses


def check_prefixes(losses: np.ndarray, start: int, step: int = 1) -> None:
    numbers = np.arange(len(losses))
    for n in range(start, len(losses) + 1, step):
        n_below = int(np.ceil(0.1 * n)) + n % 3  # vary how much of a front is thinned
        got = _best_complete(losses[:n], numbers[:n], n_below)
        np.testing.assert_array_equal(got, reference_best(losses[:n], n_below), err_msg=f"n={n}")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("levels", [4, 12, 1000])
def test_two_objectives_match_reference_on_growing_history(seed: int, levels: int) -> None:
    forget_last_calls()
    rng = np.random.RandomState(seed)
    check_prefixes(grid_losses(rng, 70, 2, levels), start=2)


@pytest.mark.parametrize("seed", range(3))
def test_large_fronts_are_thinned_like_the_reference(seed: int) -> None:
    # Most points on the first front, as with two conflicting objectives: thinning dominates.
    forget_last_calls()
    rng = np.random.RandomState(seed)
    x = rng.uniform(0, 1, 90)
    losses = np.stack([x, 1 - np.sqrt(x) + rng.uniform(0, 0.05, 90)], axis=1)
    losses[60:] = np.round(losses[60:], 1)  # late rows tie with each other
    check_prefixes(losses, start=40)


@pytest.mark.parametrize("seed", range(4))
def test_three_objectives_match_reference(seed: int) -> None:
    forget_last_calls()
    rng = np.random.RandomState(seed)
    losses = grid_losses(rng, 30, 3, 5)
    losses += rng.uniform(0, 1e-3, size=losses.shape)  # distinct contributions...
    losses[rng.randint(0, 30, 5)] = losses[rng.randint(0, 30, 5)]  # ... but repeated rows
    check_prefixes(losses, start=2, step=3)


def test_interleaved_histories_and_rows_changed_in_place() -> None:
    forget_last_calls()
    rng = np.random.RandomState(7)
    first, second = grid_losses(rng, 50, 2, 9), grid_losses(rng, 50, 2, 9)
    numbers = np.arange(50)
    for n in range(5, 51):
        for losses in (first, second):
            got = _best_complete(losses[:n], numbers[:n], 4)
            np.testing.assert_array_equal(got, reference_best(losses[:n], 4))
    # Same length and a shared prefix, but an earlier row differs: nothing may be reused.
    changed = first.copy()
    changed[10] = [-1.0, 20.0]
    np.testing.assert_array_equal(_best_complete(changed, numbers, 6), reference_best(changed, 6))
    # Many rows appended at once.
    np.testing.assert_array_equal(
        _best_complete(first[:20], numbers[:20], 3), reference_best(first[:20], 3)
    )
    np.testing.assert_array_equal(_best_complete(first, numbers, 9), reference_best(first, 9))


def test_infinite_and_nan_losses_take_the_general_path() -> None:
    forget_last_calls()
    losses = np.array([[0.0, 5.0], [1.0, 4.0], [np.inf, 0.0], [2.0, 3.0], [3.0, 2.0]])
    numbers = np.arange(5)
    # One front of five; the reference point is infinite, so the first two rows are kept.
    np.testing.assert_array_equal(_best_complete(losses, numbers, 2), [0, 1])
    np.testing.assert_array_equal(_best_complete(losses, numbers, 2), reference_best(losses, 2))
    with_nan = np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 0.0], [2.0, 2.0]])
    assert len(_best_complete(with_nan, numbers[:4], 2)) == 2


def test_greedy_front_reuse_matches_a_fresh_greedy() -> None:
    rng = np.random.RandomState(3)
    x = np.sort(rng.uniform(0, 1, 300))
    y = 1 - np.sqrt(x)
    ref = reference_point(np.stack([x, y], axis=1))
    keep = np.ones(300, dtype=bool)
    for drop in rng.permutation(300)[:40]:
        keep[drop] = False  # the front loses points here and there, in head, middle and tail
        for k in (1, 25, 60):
            reused = greedy_front_2d(x[keep], y[keep], k, ref)
            _hssp._last_run = None
            fresh = greedy_front_2d(x[keep], y[keep], k, ref)
            assert reused == fresh


@pytest.mark.parametrize("seed", range(4))
def test_greedy_front_reuse_with_tied_contributions(seed: int) -> None:
    # Points of the line x + y = 20 at integer x: many segments share their best contribution.
    rng = np.random.RandomState(seed)
    ref = np.array([21.0, 21.0])
    members = set(rng.choice(20, 6, replace=False).tolist())
    for step in range(40):
        change = int(rng.randint(0, 20))
        members ^= {change}  # a point joins or leaves the front
        if len(members) < 3:
            continue
        x = np.array(sorted(members), dtype=float)
        front = np.stack([x, 20.0 - x], axis=1)
        k = 1 + step % (len(x) - 1)
        reused = greedy_front_2d(front[:, 0], front[:, 1], k, ref)
        assert reused == brute_greedy_2d(front, k, ref)


def test_solve_hssp_with_state_matches_a_fresh_run_on_any_points() -> None:
    # solve_hssp takes any points, not only one front: reuse must follow the segments anyway.
    rng = np.random.RandomState(11)
    x = rng.permutation(40).astype(float)
    pool = np.stack([x, 40.0 - x + rng.randint(0, 3, 40)], axis=1)  # near one front
    ref = np.array([45.0, 45.0])
    members = rng.rand(40) < 0.5
    for step in range(80):
        members[rng.randint(0, 40)] ^= True
        points = pool[members]
        k = 1 + step % 8
        if k >= len(points):
            continue
        reused = solve_hssp(points, k, ref)
        _hssp._last_run = None
        np.testing.assert_array_equal(reused, solve_hssp(points, k, ref))
