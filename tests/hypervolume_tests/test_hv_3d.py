"""Hypervolume in 3 and 4 objectives against a brute-force grid count."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest

from skipjack._hypervolume import compute_hypervolume
from skipjack._hypervolume._sweep3d import hypervolume_3d


def grid_hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Sum of the grid cells (cut at every coordinate in use) whose lower corner some point
    weakly dominates; cells stop at the reference point."""
    axes = []
    for j in range(len(reference)):
        inside = points[:, j][points[:, j] < reference[j]]
        axes.append(np.unique(np.append(inside, reference[j])))
    total = 0.0
    for cell in itertools.product(*(range(len(axis) - 1) for axis in axes)):
        low = np.array([axes[j][c] for j, c in enumerate(cell)])
        high = np.array([axes[j][c + 1] for j, c in enumerate(cell)])
        strictly_below = (points < reference).all(axis=1)
        if (points[strictly_below] <= low).all(axis=1).any():
            total += float(np.prod(high - low))
    return total


def integer_points(seed: int, n: int, d: int, top: int) -> np.ndarray:
    """Small integer points: many ties, repeats and dominated points, exact volumes."""
    rng = np.random.RandomState(seed)
    points = rng.randint(0, top, size=(n, d)).astype(float)
    if n > 1:
        points[-1] = points[0]  # a repeat
    return points


def test_hand_made_3d_values() -> None:
    reference = np.full(3, 2.0)
    corners = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    assert hypervolume_3d(corners, reference) == 4.0
    assert hypervolume_3d(np.array([[0.0, 0.0, 0.0]]), reference) == 8.0
    # A dominated point and a repeat change nothing.
    more = np.vstack([corners, [[1.5, 1.5, 1.5]], corners[:1]])
    assert hypervolume_3d(more, reference) == 4.0
    assert hypervolume_3d(np.empty((0, 3)), reference) == 0.0


def test_points_on_the_reference_count_nothing() -> None:
    reference = np.array([3.0, 3.0, 3.0])
    points = np.array([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 0.0]])
    assert compute_hypervolume(points, reference) == 1.0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 18), top=st.integers(2, 7))
def test_3d_integer_points_match_grid_exactly(seed: int, n: int, top: int) -> None:
    points = integer_points(seed, n, 3, top)
    reference = np.full(3, float(top))  # some points touch the reference
    expected = grid_hypervolume(points, reference)
    assert compute_hypervolume(points, reference) == expected
    below = points[(points < reference).all(axis=1)]
    assert hypervolume_3d(below, reference) == expected


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), top=st.integers(2, 5))
def test_4d_integer_points_match_grid_exactly(seed: int, n: int, top: int) -> None:
    points = integer_points(seed, n, 4, top)
    reference = np.full(4, float(top))
    assert compute_hypervolume(points, reference) == grid_hypervolume(points, reference)


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("seed", range(5))
def test_random_fronts_match_grid(d: int, seed: int) -> None:
    rng = np.random.RandomState(seed)
    points = np.abs(rng.randn(10, d))
    points /= np.linalg.norm(points, axis=1, keepdims=True)  # mutually non-dominated
    reference = np.array([1.1, 1.2, 1.3, 1.4][:d])
    expected = grid_hypervolume(points, reference)
    assert compute_hypervolume(points, reference) == pytest.approx(expected, rel=1e-12)
    assert compute_hypervolume(points, reference, assume_pareto=True) == pytest.approx(
        expected, rel=1e-12
    )


def test_infinite_values_keep_their_meaning() -> None:
    points = np.array([[0.0, 0.0, -np.inf], [1.0, 1.0, 0.0]])
    assert compute_hypervolume(points, np.full(3, 2.0)) == np.inf
    assert compute_hypervolume(points[1:], np.array([2.0, 2.0, np.inf])) == np.inf
