from __future__ import annotations

import time
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna
from optuna.study import _multi_objective as optuna_mo
import pytest

from skipjack.study._multi_objective import _dominates
from skipjack.study._multi_objective import _fast_non_domination_rank
from skipjack.study._multi_objective import _get_pareto_front_trials
from skipjack.study._multi_objective import _get_pareto_front_trials_by_trials
from skipjack.study._multi_objective import _is_pareto_front
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

MIN = StudyDirection.MINIMIZE
MAX = StudyDirection.MAXIMIZE


class FakeStudy:
    """The part of Study that _get_pareto_front_trials reads."""

    def __init__(self, trials: list[FrozenTrial], directions: list[StudyDirection]) -> None:
        for i, t in enumerate(trials):
            t.number = i
            t._trial_id = i
        self._trials = trials
        self.directions = directions
        self.deepcopy_args: list[bool] = []

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        self.deepcopy_args.append(deepcopy)
        return [t for t in self._trials if states is None or t.state in states]


# ---- brute-force references ------------------------------------------------------------------
def brute_dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def brute_front(points: np.ndarray) -> np.ndarray:
    return np.array(
        [not any(brute_dominates(q, p) for q in points) for p in points], dtype=bool
    ).reshape(-1)


def brute_ranks(points: np.ndarray) -> np.ndarray:
    ranks = np.full(len(points), -1)
    remaining = set(range(len(points)))
    rank = 0
    while remaining:
        front = {
            i
            for i in remaining
            if not any(brute_dominates(points[j], points[i]) for j in remaining)
        }
        for i in front:
            ranks[i] = rank
        remaining -= front
        rank += 1
    return ranks


# Small integer grids make ties and duplicates common, which is where fronts go wrong.
point_sets = st.integers(1, 4).flatmap(
    lambda m: st.lists(st.lists(st.integers(0, 4), min_size=m, max_size=m), min_size=1, max_size=40)
)


# ---- _is_pareto_front ------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(point_sets)
def test_front_matches_definition(rows: list[list[int]]) -> None:
    points = np.array(rows, dtype=float)
    on_front = _is_pareto_front(points, assume_unique_lexsorted=False)
    assert on_front.dtype == bool
    np.testing.assert_array_equal(on_front, brute_front(points))
    # The invariants, stated directly: no member is dominated; every non-member is dominated
    # by a member.
    members = points[on_front]
    for p in members:
        assert not any(brute_dominates(q, p) for q in points)
    for p in points[~on_front]:
        assert any(brute_dominates(q, p) for q in members)


@settings(max_examples=100, deadline=None)
@given(point_sets)
def test_front_matches_optuna(rows: list[list[int]]) -> None:
    points = np.array(rows, dtype=float)
    expected = optuna_mo._is_pareto_front(points, assume_unique_lexsorted=False)
    np.testing.assert_array_equal(_is_pareto_front(points, assume_unique_lexsorted=False), expected)
    unique = np.unique(points, axis=0)
    expected_sorted = optuna_mo._is_pareto_front(unique, assume_unique_lexsorted=True)
    np.testing.assert_array_equal(
        _is_pareto_front(unique, assume_unique_lexsorted=True), expected_sorted
    )


def test_duplicated_front_points_are_all_on_the_front() -> None:
    points = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]])
    np.testing.assert_array_equal(
        _is_pareto_front(points, assume_unique_lexsorted=False), [True, True, True, False, True]
    )
    # Optuna agrees.
    np.testing.assert_array_equal(
        optuna_mo._is_pareto_front(points, assume_unique_lexsorted=False),
        [True, True, True, False, True],
    )


def test_assume_unique_lexsorted_keeps_first_copy_only() -> None:
    sorted_with_repeat = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(
        _is_pareto_front(sorted_with_repeat, assume_unique_lexsorted=True), [True, False, True]
    )


def test_front_edge_shapes() -> None:
    assert _is_pareto_front(np.empty((0, 3)), assume_unique_lexsorted=False).shape == (0,)
    np.testing.assert_array_equal(
        _is_pareto_front(np.array([[3.0], [1.0], [1.0], [2.0]]), assume_unique_lexsorted=False),
        [False, True, True, False],
    )
    with pytest.raises(ValueError, match="2-d"):
        _is_pareto_front(np.array([1.0, 2.0]), assume_unique_lexsorted=False)


@pytest.mark.parametrize("n_objectives", [2, 3, 5])
def test_front_with_infinities_matches_optuna(n_objectives: int) -> None:
    rng = np.random.default_rng(n_objectives)
    points = rng.integers(0, 3, size=(200, n_objectives)).astype(float)
    points[rng.random(points.shape) < 0.1] = np.inf
    points[rng.random(points.shape) < 0.1] = -np.inf
    np.testing.assert_array_equal(
        _is_pareto_front(points, assume_unique_lexsorted=False),
        optuna_mo._is_pareto_front(points, assume_unique_lexsorted=False),
    )


# ---- _fast_non_domination_rank ---------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(point_sets)
def test_ranks_match_definition_and_optuna(rows: list[list[int]]) -> None:
    points = np.array(rows, dtype=float)
    ranks = _fast_non_domination_rank(points)
    np.testing.assert_array_equal(ranks, brute_ranks(points))
    np.testing.assert_array_equal(ranks, optuna_mo._fast_non_domination_rank(points))


@settings(max_examples=100, deadline=None)
@given(point_sets, st.integers(1, 45))
def test_n_below_ranks_the_best_points_exactly(rows: list[list[int]], n_below: int) -> None:
    points = np.array(rows, dtype=float)
    exact = brute_ranks(points)
    ranks = _fast_non_domination_rank(points, n_below=n_below)
    # The rank that holds the n_below-th best point, and everything up to it, must be exact.
    needed = int(np.sort(exact)[min(n_below, len(points)) - 1])
    inside = exact <= needed
    np.testing.assert_array_equal(ranks[inside], exact[inside])
    assert np.all(ranks[~inside] > needed)


@settings(max_examples=100, deadline=None)
@given(point_sets, st.data())
def test_penalty_ranks_match_optuna(rows: list[list[int]], data: st.DataObject) -> None:
    points = np.array(rows, dtype=float)
    penalty = np.array(
        data.draw(
            st.lists(
                st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0]), min_size=len(rows), max_size=len(rows)
            )
        )
    )
    ours = _fast_non_domination_rank(points, penalty=penalty)
    np.testing.assert_array_equal(
        ours, optuna_mo._fast_non_domination_rank(points, penalty=penalty)
    )
    feasible = penalty <= 0
    if feasible.any() and (~feasible).any():
        assert ours[feasible].max() < ours[~feasible].min()


def test_penalty_validation() -> None:
    points = np.zeros((3, 2))
    with pytest.raises(ValueError, match="length"):
        _fast_non_domination_rank(points, penalty=np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        _fast_non_domination_rank(points, penalty=np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="n_below"):
        _fast_non_domination_rank(points, n_below=-1)


def test_rank_of_empty_input() -> None:
    ranks = _fast_non_domination_rank(np.empty((0, 2)))
    assert ranks.shape == (0,)
    assert ranks.dtype.kind == "i"


@pytest.mark.parametrize(
    "name", ["random3", "random4", "integer3", "chain3", "simplex3", "random2", "line2"]
)
def test_ranks_match_optuna_on_larger_sets(name: str) -> None:
    rng = np.random.default_rng(7)
    n = 600
    if name.startswith("random"):
        points = rng.random((n, int(name[-1])))
    elif name == "integer3":
        points = rng.integers(0, 6, size=(n, 3)).astype(float)
    elif name == "chain3":  # every point dominates the next: n fronts of one point
        points = np.repeat(rng.random((n, 1)), 3, axis=1)
    elif name == "simplex3":  # every point on the front
        points = rng.random((n, 3))
        points /= points.sum(axis=1, keepdims=True)
    else:
        points = rng.random((n, 2))
        points[:, 1] = -points[:, 0]
    expected = optuna_mo._fast_non_domination_rank(points)
    np.testing.assert_array_equal(_fast_non_domination_rank(points), expected)
    for n_below in (1, 10, 200):
        ranks = _fast_non_domination_rank(points, n_below=n_below)
        needed = int(np.sort(expected)[n_below - 1])
        inside = expected <= needed
        np.testing.assert_array_equal(ranks[inside], expected[inside])
        assert np.all(ranks[~inside] > needed)


def test_ten_thousand_points_are_fast() -> None:
    rng = np.random.default_rng(0)
    simplex = rng.random((10_000, 3))
    simplex /= simplex.sum(axis=1, keepdims=True)  # the worst case: everything on the front
    chain = np.repeat(rng.random((10_000, 1)), 3, axis=1)  # the worst case for peeling fronts
    start = time.perf_counter()
    assert _is_pareto_front(simplex, assume_unique_lexsorted=False).all()
    assert _is_pareto_front(rng.random((10_000, 2)), assume_unique_lexsorted=False).any()
    assert _fast_non_domination_rank(chain).max() == 9_999
    _fast_non_domination_rank(rng.random((10_000, 3)))
    # Optuna 5.0 needs several seconds for the first and third alone.
    assert time.perf_counter() - start < 4.0


# ---- _dominates ------------------------------------------------------------------------------
def test_dominates_on_values() -> None:
    assert _dominates([1.0, 1.0], [1.0, 2.0], [MIN, MIN])
    assert not _dominates([1.0, 2.0], [1.0, 1.0], [MIN, MIN])
    assert not _dominates([1.0, 2.0], [1.0, 2.0], [MIN, MIN])
    assert not _dominates([0.0, 3.0], [1.0, 2.0], [MIN, MIN])
    assert _dominates([1.0, 2.0], [1.0, 1.0], [MIN, MAX])
    assert _dominates([5.0], [None], [MAX])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        _dominates([1.0], [1.0, 2.0], [MIN, MIN])
    with pytest.raises(ValueError):
        _dominates([1.0, 2.0], [1.0, 2.0], [MIN])


def test_dominates_on_trials_matches_optuna() -> None:
    states = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL]
    value_choices = [[1.0, 1.0], [1.0, 2.0], [2.0, 1.0], [0.0, 0.0]]
    for directions in ([MIN, MIN], [MAX, MIN]):
        optuna_directions = [optuna.study.StudyDirection(d.value) for d in directions]
        for s0 in states:
            for s1 in states:
                for v0 in value_choices:
                    for v1 in value_choices:
                        ours = _dominates(make_trial(s0, v0), make_trial(s1, v1), directions)
                        theirs = optuna_mo._dominates(
                            make_optuna_trial(s0, v0), make_optuna_trial(s1, v1), optuna_directions
                        )
                        assert ours == theirs, (s0, s1, v0, v1, directions)
    with pytest.raises(TypeError):
        _dominates(make_trial(TrialState.COMPLETE, [1.0, 1.0]), [1.0, 1.0], [MIN, MIN])


def make_trial(state: TrialState, values: list[float]) -> FrozenTrial:
    if state == TrialState.COMPLETE:
        return create_trial(state=state, values=values)
    return create_trial(state=state)


def make_optuna_trial(state: TrialState, values: list[float]) -> optuna.trial.FrozenTrial:
    optuna_state = optuna.trial.TrialState(state.value)
    if state == TrialState.COMPLETE:
        return optuna.trial.create_trial(state=optuna_state, values=values)
    return optuna.trial.create_trial(state=optuna_state)


# ---- Pareto-front trials ---------------------------------------------------------------------
@pytest.mark.parametrize("n_objectives", [2, 3])
@pytest.mark.parametrize("constrained", [False, True])
def test_front_trials_match_optuna_best_trials(n_objectives: int, constrained: bool) -> None:
    rng = np.random.default_rng(n_objectives + 10 * constrained)
    directions = [MIN, MAX, MIN][:n_objectives]
    optuna_study = optuna.create_study(
        directions=[optuna.study.StudyDirection(d.value) for d in directions]
    )
    trials = []
    for _ in range(300):
        state = ([TrialState.COMPLETE] * 6 + [TrialState.PRUNED, TrialState.FAIL])[rng.integers(8)]
        values = rng.integers(0, 8, size=n_objectives).astype(float).tolist()
        constraints = (
            {"c0": float(rng.choice([-1.0, 0.0, 1.0])), "c1": float(rng.normal())}
            if constrained
            else None
        )
        kwargs: dict[str, Any] = {"constraints": constraints}
        if state == TrialState.COMPLETE:
            kwargs["values"] = values
        optuna_study.add_trial(
            optuna.trial.create_trial(state=optuna.trial.TrialState(state.value), **kwargs)
        )
        trials.append(create_trial(state=state, **kwargs))
    study = FakeStudy(trials, directions)

    front = _get_pareto_front_trials(study, consider_constraint=constrained)  # type: ignore[arg-type]
    expected = [t.number for t in optuna_study.best_trials]
    assert [t.number for t in front] == expected
    assert len(expected) > 1
    # Only copies of the front are made; the storage's objects are read without copying.
    assert study.deepcopy_args == [False]
    assert all(t is not study._trials[t.number] for t in front)
    assert all(t == study._trials[t.number] for t in front)


def test_front_trials_without_constraint_ignore_feasibility() -> None:
    trials = [
        create_trial(values=[0.0, 0.0], constraints={"c": 1.0}),
        create_trial(values=[1.0, 1.0], constraints={"c": -1.0}),
        create_trial(values=[2.0, 0.5]),
    ]
    study = FakeStudy(trials, [MIN, MIN])
    assert [t.number for t in _get_pareto_front_trials(study)] == [0]  # type: ignore[arg-type]
    constrained = _get_pareto_front_trials(study, consider_constraint=True)  # type: ignore[arg-type]
    assert [t.number for t in constrained] == [1, 2]


def test_front_trials_edge_cases() -> None:
    assert _get_pareto_front_trials_by_trials([], [MIN, MIN]) == []
    only_failed = [create_trial(state=TrialState.FAIL)]
    assert _get_pareto_front_trials_by_trials(only_failed, [MIN, MIN]) == []
    infeasible = [create_trial(values=[1.0, 1.0], constraints={"c": 0.1})]
    assert _get_pareto_front_trials_by_trials(infeasible, [MIN, MIN], True) == []
    with pytest.raises(ValueError, match="number of the values"):
        _get_pareto_front_trials_by_trials([create_trial(values=[1.0])], [MIN, MIN])
    twins = [create_trial(values=[1.0, 1.0]), create_trial(values=[1.0, 1.0])]
    assert _get_pareto_front_trials_by_trials(twins, [MIN, MAX]) == twins
