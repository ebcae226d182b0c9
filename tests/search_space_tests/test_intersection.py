"""Intersection and group-decomposed search spaces: semantics, incremental updates, Optuna parity.

The group-decomposed space shares the incremental reader of the intersection, so its tests live
here too.
"""

from __future__ import annotations

from collections.abc import Sequence
import random
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
import pytest

from skipjack import distributions as sj
from skipjack.search_space import IntersectionSearchSpace
from skipjack.search_space import _GroupDecomposedSearchSpace
from skipjack.search_space import _SearchSpaceGroup
from skipjack.search_space import intersection_search_space
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)

X = sj.FloatDistribution(0.0, 1.0)
X_WIDE = sj.FloatDistribution(0.0, 2.0)
Y = sj.IntDistribution(0, 10)
Z = sj.CategoricalDistribution(["a", "b"])


def trial(
    number: int, state: TrialState, distributions: dict[str, sj.BaseDistribution]
) -> FrozenTrial:
    """A trial with the given parameter distributions (values at each range's low end)."""
    params = {
        n: d.choices[0] if isinstance(d, sj.CategoricalDistribution) else d.low  # type: ignore[attr-defined]
        for n, d in distributions.items()
    }
    return FrozenTrial(
        number=number,
        state=state,
        value=0.0 if state == TrialState.COMPLETE else None,
        datetime_start=None,
        datetime_complete=None,
        params=params,
        distributions=dict(distributions),
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=number,
    )


class FakeStudy:
    """Holds trials by number; ``get_trials`` filters by state like Study.get_trials."""

    def __init__(self, study_id: int = 0) -> None:
        self._study_id = study_id
        self.by_number: dict[int, FrozenTrial] = {}
        self.reads = 0

    def put(self, t: FrozenTrial) -> None:
        self.by_number[t.number] = t

    def get_trials(
        self, deepcopy: bool = True, states: Sequence[TrialState] | None = None
    ) -> list[FrozenTrial]:
        assert deepcopy is False
        self.reads += 1
        return [t for _, t in sorted(self.by_number.items()) if states is None or t.state in states]


# ---------------------------------------------------------------------------------------------
# intersection_search_space
# ---------------------------------------------------------------------------------------------


def test_intersection_keeps_params_shared_with_equal_distributions() -> None:
    trials = [
        trial(0, TrialState.COMPLETE, {"y": Y, "x": X, "z": Z}),
        trial(1, TrialState.COMPLETE, {"x": X, "y": Y}),
        trial(2, TrialState.COMPLETE, {"x": X, "y": Y, "w": X}),
    ]
    space = intersection_search_space(trials)
    assert space == {"x": X, "y": Y}
    assert list(space) == ["x", "y"]  # sorted by name


def test_a_changed_distribution_drops_the_param() -> None:
    trials = [
        trial(0, TrialState.COMPLETE, {"x": X, "y": Y}),
        trial(1, TrialState.COMPLETE, {"x": X_WIDE, "y": Y}),
    ]
    assert intersection_search_space(trials) == {"y": Y}


def test_only_complete_trials_count_unless_pruned_are_included() -> None:
    trials = [
        trial(0, TrialState.COMPLETE, {"x": X, "y": Y}),
        trial(1, TrialState.PRUNED, {"x": X}),
        trial(2, TrialState.FAIL, {}),
        trial(3, TrialState.RUNNING, {}),
        trial(4, TrialState.WAITING, {}),
    ]
    assert intersection_search_space(trials) == {"x": X, "y": Y}
    assert intersection_search_space(trials, include_pruned=True) == {"x": X}


def test_no_finished_trials_gives_an_empty_space() -> None:
    assert intersection_search_space([]) == {}
    assert intersection_search_space([trial(0, TrialState.RUNNING, {"x": X})]) == {}
    assert intersection_search_space([trial(0, TrialState.PRUNED, {"x": X})]) == {}


# ---------------------------------------------------------------------------------------------
# IntersectionSearchSpace (incremental)
# ---------------------------------------------------------------------------------------------


def test_incremental_result_equals_the_batch_result_step_by_step() -> None:
    study = FakeStudy()
    space = IntersectionSearchSpace()
    assert space.calculate(study) == {}
    study.put(trial(0, TrialState.COMPLETE, {"x": X, "y": Y, "z": Z}))
    assert space.calculate(study) == {"x": X, "y": Y, "z": Z}
    study.put(trial(1, TrialState.RUNNING, {"x": X}))
    study.put(trial(2, TrialState.COMPLETE, {"x": X, "y": Y, "z": Z}))
    assert space.calculate(study) == {"x": X, "y": Y, "z": Z}
    # Trial 1 finishes after trial 2 was folded in: it must still count.
    study.put(trial(1, TrialState.COMPLETE, {"x": X, "z": Z}))
    assert space.calculate(study) == {"x": X, "z": Z}
    assert list(space.calculate(study)) == ["x", "z"]


def test_pruned_trials_count_only_when_asked() -> None:
    study = FakeStudy()
    study.put(trial(0, TrialState.COMPLETE, {"x": X, "y": Y}))
    study.put(trial(1, TrialState.PRUNED, {"x": X}))
    assert IntersectionSearchSpace().calculate(study) == {"x": X, "y": Y}
    assert IntersectionSearchSpace(include_pruned=True).calculate(study) == {"x": X}


def test_already_folded_trials_are_not_read_again() -> None:
    accesses: list[int] = []

    class CountingTrial(FrozenTrial):
        @property
        def distributions(self) -> dict[str, sj.BaseDistribution]:
            accesses.append(self.number)
            return self._distributions

        @distributions.setter
        def distributions(self, value: dict[str, sj.BaseDistribution]) -> None:
            self._distributions = value

    study = FakeStudy()
    for n in range(5):
        base = trial(n, TrialState.COMPLETE, {"x": X})
        base.__class__ = CountingTrial
        study.put(base)
    space = IntersectionSearchSpace()
    space.calculate(study)
    assert sorted(accesses) == [0, 1, 2, 3, 4]
    accesses.clear()
    space.calculate(study)
    assert accesses == []
    extra = trial(5, TrialState.COMPLETE, {"x": X})
    extra.__class__ = CountingTrial
    study.put(extra)
    space.calculate(study)
    assert accesses == [5]


def test_the_result_is_a_copy() -> None:
    study = FakeStudy()
    study.put(trial(0, TrialState.COMPLETE, {"x": X, "y": Y}))
    space = IntersectionSearchSpace()
    first = space.calculate(study)
    first.clear()
    assert space.calculate(study) == {"x": X, "y": Y}


def test_another_study_is_refused() -> None:
    space = IntersectionSearchSpace()
    space.calculate(FakeStudy(study_id=1))
    with pytest.raises(ValueError, match="multiple studies"):
        space.calculate(FakeStudy(study_id=2))


def test_use_cache_is_accepted() -> None:
    study = FakeStudy()
    study.put(trial(0, TrialState.COMPLETE, {"x": X}))
    assert IntersectionSearchSpace().calculate(study, use_cache=True) == {"x": X}


def test_repr() -> None:
    assert repr(IntersectionSearchSpace(True)) == "IntersectionSearchSpace(include_pruned=True)"


# ---------------------------------------------------------------------------------------------
# Random scenarios: trials start, finish in any order, and the incremental results always
# equal the batch definition, Optuna's function and Optuna's incremental class.
# ---------------------------------------------------------------------------------------------

_DISTS: dict[str, list[sj.BaseDistribution]] = {"x": [X, X_WIDE], "y": [Y], "z": [Z]}
_FINAL = [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL]


@st.composite
def scenarios(draw: st.DrawFn) -> list[tuple[str, int, Any]]:
    """Events: ("start", n, distributions) and ("finish", n, state), with checks between."""
    n_trials = draw(st.integers(0, 12))
    events: list[tuple[str, int, Any]] = []
    running: list[int] = []
    started = 0
    while started < n_trials or running:
        if started < n_trials and (not running or draw(st.booleans())):
            dists = {}
            for name, options in _DISTS.items():
                if draw(st.integers(0, 3)) > 0:
                    dists[name] = options[draw(st.integers(0, len(options) - 1))]
            events.append(("start", started, dists))
            running.append(started)
            started += 1
        else:
            n = running.pop(draw(st.integers(0, len(running) - 1)))
            events.append(("finish", n, draw(st.sampled_from(_FINAL))))
    return events


def _to_optuna(t: FrozenTrial) -> optuna.trial.FrozenTrial:
    return optuna.trial.FrozenTrial(
        number=t.number,
        state=optuna.trial.TrialState(int(t.state)),
        value=t.value,
        datetime_start=None,
        datetime_complete=None,
        params=dict(t.params),
        distributions={
            n: optuna.distributions.json_to_distribution(sj.distribution_to_json(d))
            for n, d in t.distributions.items()
        },
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=t._trial_id,
    )


class OptunaFakeStudy:
    def __init__(self, study: FakeStudy) -> None:
        self._study = study
        self._study_id = study._study_id

    def _get_trials(self, deepcopy: bool = False, use_cache: bool = False, states: Any = None):  # type: ignore[no-untyped-def]
        trials = [_to_optuna(t) for t in self._study.get_trials(deepcopy=False)]
        if states is not None:
            trials = [t for t in trials if t.state in states]
        return trials


def _names(space: dict[str, Any]) -> list[tuple[str, str]]:
    return [(n, sj.distribution_to_json(d)) for n, d in space.items()]


def _optuna_names(space: dict[str, Any]) -> list[tuple[str, str]]:
    return [(n, optuna.distributions.distribution_to_json(d)) for n, d in space.items()]


@settings(max_examples=150, deadline=None)
@given(events=scenarios(), include_pruned=st.booleans())
def test_incremental_matches_batch_and_optuna(
    events: list[tuple[str, int, Any]], include_pruned: bool
) -> None:
    study = FakeStudy()
    reference_study = OptunaFakeStudy(study)
    ours = IntersectionSearchSpace(include_pruned=include_pruned)
    theirs = optuna.search_space.IntersectionSearchSpace(include_pruned=include_pruned)
    for kind, number, payload in events:
        if kind == "start":
            study.put(trial(number, TrialState.RUNNING, payload))
        else:
            study.put(trial(number, payload, study.by_number[number].distributions))
        got = ours.calculate(study)
        everything = study.get_trials(deepcopy=False)
        assert got == intersection_search_space(everything, include_pruned=include_pruned)
        expected = optuna.search_space.intersection_search_space(
            [_to_optuna(t) for t in everything], include_pruned=include_pruned
        )
        assert _names(got) == _optuna_names(expected)
        assert _names(got) == _optuna_names(theirs.calculate(reference_study))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# _SearchSpaceGroup and _GroupDecomposedSearchSpace
# ---------------------------------------------------------------------------------------------


def _groups(group: Any) -> list[frozenset[str]]:
    return [frozenset(space) for space in group.search_spaces]


def test_search_space_group_splits_by_co_occurrence() -> None:
    group = _SearchSpaceGroup()
    group.add_distributions({"x": X, "y": Y})
    assert _groups(group) == [{"x", "y"}]
    group.add_distributions({"x": X, "z": Z})
    assert _groups(group) == [{"x"}, {"y"}, {"z"}]
    group.add_distributions({"y": Y, "z": Z})
    assert _groups(group) == [{"x"}, {"y"}, {"z"}]
    group.add_distributions({})
    assert _groups(group) == [{"x"}, {"y"}, {"z"}]


def test_search_space_group_keeps_the_first_distribution_seen() -> None:
    group = _SearchSpaceGroup()
    group.add_distributions({"x": X})
    group.add_distributions({"x": X_WIDE})
    assert group.search_spaces == [{"x": X}]


def _signature_groups(trials: list[FrozenTrial]) -> set[frozenset[str]]:
    """Reference: names are grouped by the exact set of trials that have them."""
    names = {n for t in trials for n in t.distributions}
    by_signature: dict[frozenset[int], set[str]] = {}
    for name in names:
        key = frozenset(i for i, t in enumerate(trials) if name in t.distributions)
        by_signature.setdefault(key, set()).add(name)
    return {frozenset(g) for g in by_signature.values()}


@settings(max_examples=150, deadline=None)
@given(events=scenarios(), include_pruned=st.booleans())
def test_group_decomposed_matches_definition_and_optuna(
    events: list[tuple[str, int, Any]], include_pruned: bool
) -> None:
    study = FakeStudy()
    reference_study = OptunaFakeStudy(study)
    ours = _GroupDecomposedSearchSpace(include_pruned=include_pruned)
    theirs = optuna.search_space._GroupDecomposedSearchSpace(include_pruned=include_pruned)
    states = (TrialState.COMPLETE, TrialState.PRUNED) if include_pruned else (TrialState.COMPLETE,)
    for kind, number, payload in events:
        if kind == "start":
            study.put(trial(number, TrialState.RUNNING, payload))
        else:
            study.put(trial(number, payload, study.by_number[number].distributions))
        got = ours.calculate(study)
        finished = study.get_trials(deepcopy=False, states=states)
        assert set(_groups(got)) == _signature_groups(finished)
        assert len(_groups(got)) == len(set(_groups(got)))
        expected = theirs.calculate(reference_study)  # type: ignore[arg-type]
        assert set(_groups(got)) == set(_groups(expected))


def test_group_decomposed_refuses_another_study_and_returns_copies() -> None:
    study = FakeStudy(study_id=3)
    study.put(trial(0, TrialState.COMPLETE, {"x": X}))
    space = _GroupDecomposedSearchSpace()
    result = space.calculate(study)
    result.search_spaces.clear()
    assert space.calculate(study).search_spaces == [{"x": X}]
    with pytest.raises(ValueError, match="multiple studies"):
        space.calculate(FakeStudy(study_id=4))


# ---------------------------------------------------------------------------------------------
# End to end with skipjack's Study (needs create_study)
# ---------------------------------------------------------------------------------------------


def test_end_to_end_with_a_study() -> None:
    from skipjack.study import create_study

    study = create_study()
    rng = random.Random(0)

    def objective(t: Any) -> float:
        t.suggest_float("x", 0.0, 1.0)
        if rng.random() < 0.5:
            t.suggest_int("y", 0, 3)
        t.suggest_categorical("z", ["a", "b"])
        return 0.0

    space = IntersectionSearchSpace()
    groups = _GroupDecomposedSearchSpace()
    for _ in range(6):
        study.optimize(objective, n_trials=1)
        assert space.calculate(study) == intersection_search_space(study.trials)
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        assert set(_groups(groups.calculate(study))) == _signature_groups(finished)
