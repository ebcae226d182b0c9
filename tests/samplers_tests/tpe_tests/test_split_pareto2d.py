"""The incremental two-objective split against brute force.

``Fronts2D`` must hold exactly the fronts that pairwise domination tests give, ``greedy_picks``
must reproduce a greedy run recomputed from scratch after every change of the front, and
``split_rows`` must give the brute-force good and bad sets call after call while histories grow
and alternate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from skipjack.samplers._tpe import _split_pareto2d
from skipjack.samplers._tpe._split import split_rows
from skipjack.samplers._tpe._split_pareto2d import Fronts2D
from skipjack.samplers._tpe._split_pareto2d import greedy_picks
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState


def brute_ranks(points: list[tuple[float, float]]) -> list[int]:
    """Non-domination rank of each distinct point, peeling fronts by pairwise tests."""
    ranks = [-1] * len(points)
    left = set(range(len(points)))
    rank = 0
    while left:
        front = {
            i
            for i in left
            if not any(
                points[j][0] <= points[i][0]
                and points[j][1] <= points[i][1]
                and points[j] != points[i]
                for j in left
            )
        }
        for i in front:
            ranks[i] = rank
        left -= front
        rank += 1
    return ranks


def brute_greedy(front: list[tuple[float, float]], k: int, ref: tuple[float, float]) -> list[int]:
    """Greedy picks (positions, in pick order): each step the largest exclusive area given the
    points picked so far, the leftmost point on a tie."""
    order = sorted(range(len(front)), key=lambda i: front[i][0])
    chosen: list[int] = []
    for _ in range(k):
        best, best_at = -math.inf, -1
        for i in order:
            if i in chosen:
                continue
            x, y = front[i]
            right = min([front[j][0] for j in chosen if front[j][0] > x], default=ref[0])
            up = min([front[j][1] for j in chosen if front[j][1] > y], default=ref[1])
            area = (right - x) * (up - y)
            if area > best:
                best, best_at = area, i
        chosen.append(best_at)
    return chosen


def check_fronts(
    fronts: Fronts2D, rows: dict[tuple[float, float], list[int]], n_below: int
) -> None:
    points = list(rows)
    ranks = brute_ranks(points)
    kept = len(fronts.xs)
    for rank in range(kept):
        expected = sorted(p for p, r in zip(points, ranks) if r == rank)
        assert list(zip(fronts.xs[rank], fronts.ys[rank])) == expected
        assert fronts.counts[rank] == sum(len(rows[p]) for p in expected)
    assert sorted(fronts.rest) == sorted(p for p, r in zip(points, ranks) if r >= kept)
    assert fronts.rest == sorted(fronts.rest)
    # Just the fronts needed: the rows of all but the last stay below n_below.
    total = sum(fronts.counts)
    assert total >= n_below or not fronts.rest
    assert kept <= 1 or total - fronts.counts[-1] < n_below
    for point, copies in rows.items():
        assert fronts.points[point].rows == copies


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("levels", [3, 8, 1000])
def test_fronts_match_brute_force_ranks_as_points_arrive(seed: int, levels: int) -> None:
    rng = np.random.RandomState(seed)
    fronts = Fronts2D()
    rows: dict[tuple[float, float], list[int]] = {}
    for row in range(120):
        if rows and rng.rand() < 0.15:  # a copy of an earlier point
            x, y = list(rows)[rng.randint(len(rows))]
        else:
            x, y = (float(v) for v in rng.randint(0, levels, 2))
        fronts.add(x, y, row)
        rows.setdefault((x, y), []).append(row)
        if row % 3 == 0:
            n_below = 1 + rng.randint(0, max(1, row // 3))
            fronts.keep(n_below)
            check_fronts(fronts, rows, n_below)


def test_a_new_best_point_pushes_every_front_down() -> None:
    fronts = Fronts2D()
    diagonal = [(float(i), float(i)) for i in range(5, 0, -1)]  # each dominates the one before
    for row, (x, y) in enumerate(diagonal):
        fronts.add(x, y, row)
        fronts.keep(10)
    check_fronts(fronts, {p: [row] for row, p in enumerate(diagonal)}, 10)
    assert [len(xs) for xs in fronts.xs] == [1] * 5


def changing_front(rng: np.random.RandomState, size: int, tied: bool) -> list[list[float]]:
    """A sequence of fronts (sorted x values) on the line x + y = size, points coming and
    going. On integer x many contributions tie."""
    pool = np.arange(size, dtype=float) if tied else np.sort(rng.uniform(0, size, size))
    members = rng.rand(size) < 0.5
    out = []
    for _ in range(60):
        for i in rng.randint(0, size, rng.randint(1, 4)):
            members[i] ^= True
        if members.sum() >= 3:
            out.append(pool[members].tolist())
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tied", [True, False])
def test_greedy_reuse_matches_a_fresh_brute_force_run(seed: int, tied: bool) -> None:
    rng = np.random.RandomState(seed)
    size = 30
    ref = (size + 1.5, size + 1.5)
    last = None
    previous: set[float] = set()
    for step, xs in enumerate(changing_front(rng, size, tied)):
        ys = [size - x for x in xs]
        changed = sorted(previous.symmetric_difference(xs))
        previous = set(xs)
        k = 1 + (step * 7) % (len(xs) - 1)
        picks, frontier = greedy_picks(xs, ys, k, ref[0], ref[1], last, changed)
        last = (picks, frontier)
        assert len(picks) >= k
        front = list(zip(xs, ys))
        expected = brute_greedy(front, len(picks), ref)
        assert [p[1] for p in picks] == [front[i][0] for i in expected]


def test_greedy_with_a_removed_pick_and_a_new_winner() -> None:
    xs = [0.0, 2.0, 5.0, 9.0]
    ys = [9.0, 5.0, 2.0, 0.0]
    ref = (10.0, 10.0)
    first = greedy_picks(xs, ys, 2, *ref, None, [])
    # The first pick leaves; a point appears in the widest gap.
    picked = first[0][0][1]
    new_xs = sorted([x for x in xs if x != picked] + [7.0])
    new_ys = [dict(zip(xs, ys)).get(x, 1.0) for x in new_xs]
    picks, _ = greedy_picks(new_xs, new_ys, 3, *ref, first, [picked, 7.0])
    front = list(zip(new_xs, new_ys))
    assert [p[1] for p in picks[:3]] == [front[i][0] for i in brute_greedy(front, 3, ref)]


class _Snapshot:
    """The part of a history snapshot ``split_rows`` reads."""

    def __init__(self, history: dict, n: int) -> None:
        self.source = history["source"]
        self.states = history["states"][:n]
        self.numbers = history["numbers"][:n]
        self.values = history["values"][:n]
        self._n = n

    def __len__(self) -> int:
        return self._n


class _Facts:
    def __init__(self, history: dict) -> None:
        self.violation = history["violation"]
        self.last_step = np.full(len(history["violation"]), np.nan)
        self.last_value = np.zeros(len(history["violation"]))


def brute_split(history: dict, n: int, n_below: int) -> tuple[np.ndarray, np.ndarray]:
    """Good rows: whole fronts of the feasible COMPLETE rows while they fit, then the first
    copies of the greedy picks on the next one; bad rows: every other finished row. Both in
    trial-number order (only used with at least ``n_below`` such rows)."""
    states, numbers = history["states"][:n], history["numbers"][:n]
    signs = history["signs"]
    eligible = [
        r for r in range(n) if states[r] == TrialState.COMPLETE and history["violation"][r] <= 0
    ]
    copies: dict[tuple[float, float], list[int]] = {}
    for r in eligible:
        point = (
            float(history["values"][r, 0] * signs[0]),
            float(history["values"][r, 1] * signs[1]),
        )
        copies.setdefault(point, []).append(r)
    points = list(copies)
    ranks = brute_ranks(points)
    good: list[int] = []
    for rank in range(max(ranks) + 1):
        members = [p for p, r in zip(points, ranks) if r == rank]
        count = sum(len(copies[p]) for p in members)
        if len(good) + count <= n_below:
            good += [r for p in members for r in copies[p]]
            continue
        k = n_below - len(good)
        worst = (max(p[0] for p in members), max(p[1] for p in members))
        ref = tuple(max(1.1 * w, 0.9 * w) or 1e-12 for w in worst)
        assert len(members) > k  # the tests avoid the copies-fill-the-slots case
        good += [copies[members[i]][0] for i in brute_greedy(members, k, ref)]
        break
    finished = [r for r in range(n) if states[r] in (TrialState.COMPLETE, TrialState.PRUNED)]
    bad = [r for r in finished if r not in set(good)]
    by_number = lambda rows: np.array(sorted(rows, key=lambda r: numbers[r]), dtype=int)  # noqa: E731
    return by_number(good), by_number(bad)


def make_history(rng: np.random.RandomState, n: int, levels: int) -> dict:
    x = rng.randint(0, levels, n).astype(float)
    values = np.stack([x, levels - x + rng.randint(0, 3, n)], axis=1)
    values[rng.rand(n) < 0.2] *= 0.5
    states = rng.choice(
        [int(s) for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)],
        n,
        p=[0.8, 0.1, 0.1],
    )
    numbers = np.arange(n)
    numbers[[3, 4]] = numbers[[4, 3]]  # a trial finishing late
    violation = np.where(rng.rand(n) < 0.1, 1.0, 0.0)
    directions = [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE]
    if rng.rand() < 0.5:
        directions = directions[::-1]
    signs = [-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions]
    values = values * signs  # stored as the objective values
    return {
        "source": object(),
        "states": states.astype(np.int8),
        "numbers": numbers,
        "values": values,
        "violation": violation,
        "directions": directions,
        "signs": signs,
    }


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("levels", [6, 40])
def test_split_rows_matches_brute_force_on_alternating_histories(seed: int, levels: int) -> None:
    rng = np.random.RandomState(seed)
    histories = [make_history(rng, 90, levels) for _ in range(3)]
    sizes = [20, 20, 20]
    checked = 0
    while min(sizes) < 90:
        h = rng.randint(3)
        sizes[h] = min(90, sizes[h] + rng.randint(0, 4))
        history, n = histories[h], sizes[h]
        n_below = int(np.ceil(0.1 * n)) + rng.randint(0, 4)
        try:
            expected = brute_split(history, n, n_below)
        except AssertionError:
            continue
        snapshot = _Snapshot(history, n)
        good, bad = split_rows(snapshot, _Facts(history), history["directions"], n_below)  # type: ignore[arg-type]
        np.testing.assert_array_equal(good, expected[0])
        np.testing.assert_array_equal(bad, expected[1])
        checked += 1
    assert checked > 50
    assert len(_split_pareto2d._states) >= 1  # the incremental path was taken
