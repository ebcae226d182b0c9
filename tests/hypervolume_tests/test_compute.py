"""compute_hypervolume: exact values on known shapes and agreement with Optuna's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
from optuna._hypervolume import compute_hypervolume as optuna_hypervolume
import pytest

from skipjack._hypervolume import compute_hypervolume


def test_known_values() -> None:
    assert compute_hypervolume(np.array([[0.0, 0.0]]), np.array([2.0, 3.0])) == 6.0
    staircase = np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    assert compute_hypervolume(staircase, np.array([3.0, 3.0])) == pytest.approx(6.0)
    cube_corners = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    # Union of three 2x1x1 slabs in a 2x2x2 cube minus the unit corner counted thrice: 7 - 3.
    assert compute_hypervolume(cube_corners, np.full(3, 2.0)) == pytest.approx(4.0)


def test_points_outside_the_reference_count_nothing() -> None:
    points = np.array([[5.0, 0.0], [0.5, 0.5]])
    assert compute_hypervolume(points, np.array([1.0, 1.0])) == pytest.approx(0.25)
    assert compute_hypervolume(np.empty((0, 2)), np.ones(2)) == 0.0


def test_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="reference_point"):
        compute_hypervolume(np.ones((3, 2)), np.ones(3))


@settings(max_examples=40, deadline=None)
@given(
    n_objectives=st.integers(2, 4),
    n_points=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
    duplicate=st.booleans(),
)
def test_matches_optuna(n_objectives: int, n_points: int, seed: int, duplicate: bool) -> None:
    rng = np.random.RandomState(seed)
    points = rng.rand(n_points, n_objectives)
    if duplicate:
        points = np.vstack([points, points[:1]])
    reference = np.full(n_objectives, 1.1)
    expected = optuna_hypervolume(points, reference)
    assert compute_hypervolume(points, reference) == pytest.approx(expected, rel=1e-9, abs=1e-12)
