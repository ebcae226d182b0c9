"""The good/bad split and hypervolume subset selection, against brute force."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest

import skipjack
from skipjack.distributions import BaseDistribution
from skipjack.distributions import FloatDistribution
from skipjack.samplers._tpe._hssp import hypervolume
from skipjack.samplers._tpe._hssp import reference_point
from skipjack.samplers._tpe._hssp import solve_hssp
from skipjack.samplers._tpe._rows import RowFacts
from skipjack.samplers._tpe._split import _thinned
from skipjack.samplers._tpe._split import split_rows
from skipjack.study._history import history_of
from skipjack.trial import TrialState
from skipjack.trial import create_trial

DIST: dict[str, BaseDistribution] = {"x": FloatDistribution(0, 100)}


def study_with(trials: list[Any], directions: list[str] | None = None) -> Any:
    study = skipjack.create_study(
        directions=directions or ["minimize"], sampler=skipjack.samplers.RandomSampler(seed=0)
    )
    for trial in trials:
        study.add_trial(trial)
    return study


def split_numbers(study: Any, n_below: int) -> tuple[list[int], list[int]]:
    snapshot = history_of(study).snapshot()
    facts = RowFacts()
    facts.update(snapshot)
    below, above = split_rows(snapshot, facts, study.directions, n_below)
    numbers = snapshot.numbers
    return numbers[below].tolist(), numbers[above].tolist()


def complete(x: float, value: float | list[float], **kw: Any) -> Any:
    if isinstance(value, list):
        return create_trial(params={"x": x}, distributions=DIST, values=value, **kw)
    return create_trial(params={"x": x}, distributions=DIST, value=value, **kw)


def pruned(x: float, reports: dict[int, float]) -> Any:
    return create_trial(
        state=TrialState.PRUNED, params={"x": x}, distributions=DIST, intermediate_values=reports
    )


def test_single_objective_takes_the_best_and_orders_by_number() -> None:
    study = study_with([complete(i, v) for i, v in enumerate([5.0, 1.0, 3.0, 0.5, 9.0, 1.0])])
    below, above = split_numbers(study, 3)
    assert below == [1, 3, 5]  # values 1.0, 0.5, 1.0 (tie at 1.0 kept in trial order)
    assert above == [0, 2, 4]


def test_maximize_reverses_the_order() -> None:
    study = skipjack.create_study(direction="maximize")
    for i, v in enumerate([5.0, 1.0, 3.0, 0.5]):
        study.add_trial(complete(i, v))
    assert split_numbers(study, 2) == ([0, 2], [1, 3])


def test_pruned_trials_rank_by_depth_then_report() -> None:
    trials = [
        complete(0, 10.0),
        pruned(1, {0: 1.0, 1: 5.0}),  # deeper: before any step-0 trial
        pruned(2, {0: 0.5}),
        pruned(3, {0: float("nan")}),  # NaN report ranks last among step 0
        pruned(4, {}),  # no report at all: after every reporting trial
        pruned(5, {0: 0.7}),
    ]
    study = study_with(trials)
    for n_below, expected in [(2, [0, 1]), (3, [0, 1, 2]), (4, [0, 1, 2, 5]), (5, [0, 1, 2, 3, 5])]:
        assert split_numbers(study, n_below)[0] == expected
    assert split_numbers(study, 6)[0] == [0, 1, 2, 3, 4, 5]


def test_infeasible_trials_come_last_by_violation() -> None:
    trials = [
        complete(0, 0.1, constraints={"a": 3.0}),
        complete(1, 5.0, constraints={"a": -1.0}),
        complete(2, 0.2, constraints={"a": 1.0, "b": 0.5}),
        complete(3, 0.3, constraints={"a": 0.5}),
        pruned(4, {0: 1.0}),
    ]
    study = study_with(trials)
    assert split_numbers(study, 1)[0] == [1]
    assert split_numbers(study, 2)[0] == [1, 4]
    assert split_numbers(study, 3)[0] == [1, 3, 4]  # violation 0.5 < 1.5 < 3
    assert split_numbers(study, 4)[0] == [1, 2, 3, 4]


def test_failed_and_running_trials_are_in_neither_set() -> None:
    study = study_with([complete(0, 1.0), complete(1, 2.0)])
    study.add_trial(create_trial(state=TrialState.FAIL))
    study.ask()
    below, above = split_numbers(study, 1)
    assert (below, above) == ([0], [1])


def test_multi_objective_split_follows_fronts() -> None:
    # Front 0: (0,3) (1,1) (3,0); front 1: (2,3) (3,2); front 2: (4,4).
    values = [[4.0, 4.0], [0.0, 3.0], [3.0, 2.0], [1.0, 1.0], [2.0, 3.0], [3.0, 0.0]]
    study = study_with([complete(i, v) for i, v in enumerate(values)], ["minimize", "minimize"])
    assert split_numbers(study, 3)[0] == [1, 3, 5]
    assert split_numbers(study, 5)[0] == [1, 2, 3, 4, 5]
    # Four slots: the whole front plus the better-contributing point of front 1.
    below = split_numbers(study, 4)[0]
    assert set(below) >= {1, 3, 5} and len(below) == 4


def test_multi_objective_tie_break_maximises_hypervolume() -> None:
    # One front of five points; keep three. Brute force the best subset.
    values = [[0.0, 10.0], [1.0, 6.0], [2.0, 5.5], [6.0, 1.0], [10.0, 0.0]]
    study = study_with([complete(i, v) for i, v in enumerate(values)], ["minimize", "minimize"])
    below = split_numbers(study, 3)[0]
    losses = np.array(values)
    ref = reference_point(losses)
    best = max(itertools.combinations(range(5), 3), key=lambda s: hypervolume(losses[list(s)], ref))
    assert hypervolume(losses[below], ref) == pytest.approx(hypervolume(losses[list(best)], ref))


# ---- hypervolume and HSSP ---------------------------------------------------------------------
def brute_hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    # Exact by inclusion over the grid cells spanned by all coordinates.
    axes = [np.unique(np.append(points[:, d], ref[d])) for d in range(points.shape[1])]
    volume = 0.0
    for cell in itertools.product(*[range(len(a) - 1) for a in axes]):
        lower = np.array([axes[d][i] for d, i in enumerate(cell)])
        upper = np.array([axes[d][i + 1] for d, i in enumerate(cell)])
        if (points <= lower).all(axis=1).any():
            volume += float(np.prod(upper - lower))
    return volume


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(st.tuples(*[st.integers(0, 9)] * 3), min_size=1, max_size=7).map(
        lambda p: np.array(p, dtype=float)
    ),
    dims=st.integers(1, 3),
)
def test_hypervolume_matches_brute_force(points: np.ndarray, dims: int) -> None:
    points = points[:, :dims]
    ref = np.full(dims, 10.0)
    assert hypervolume(points, ref) == pytest.approx(brute_hypervolume(points, ref))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(3, 8),
    k=st.integers(1, 3),
    dims=st.sampled_from([2, 3]),
    seed=st.integers(0, 10_000),
)
def test_hssp_is_greedy_optimal_step_by_step(n: int, k: int, dims: int, seed: int) -> None:
    rng = np.random.RandomState(seed)
    # Points on one front: a simplex-like surface.
    raw = rng.dirichlet(np.ones(dims), size=n)
    ref = reference_point(raw)
    chosen = solve_hssp(raw, k, ref)
    assert len(chosen) == min(k, n) and len(set(chosen.tolist())) == len(chosen)
    # Greedy by brute force reaches the same hypervolume.
    picked: list[int] = []
    for _ in range(min(k, n)):
        rest = [i for i in range(n) if i not in picked]
        picked.append(max(rest, key=lambda i: hypervolume(raw[picked + [i]], ref)))
    assert hypervolume(raw[chosen], ref) == pytest.approx(hypervolume(raw[picked], ref))


def test_hssp_with_duplicates_and_infinite_reference() -> None:
    losses = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0]])
    assert sorted(solve_hssp(losses, 2, reference_point(losses)).tolist()) in ([0, 2], [1, 2])
    assert len(solve_hssp(losses[[0, 1]], 2, reference_point(losses))) == 2
    inf = np.array([[np.inf, 0.0], [0.0, 1.0], [1.0, 0.5]])
    assert solve_hssp(inf, 2, reference_point(inf)).tolist() == [0, 1]


def test_thinning_is_reused_only_for_the_same_front_and_size() -> None:
    rng = np.random.RandomState(5)
    x = np.sort(rng.uniform(0, 1, 40))
    front = np.stack([x, 1.0 - np.sqrt(x)], axis=1)
    changed = front.copy()
    changed[[3, 17, 30], 1] -= 0.02  # still one front, different contributions
    for losses, k in [(front, 6), (front, 6), (front, 9), (changed, 9), (front[::-1], 9)]:
        expected = solve_hssp(losses, k, reference_point(losses))
        np.testing.assert_array_equal(_thinned(losses, k), expected)
