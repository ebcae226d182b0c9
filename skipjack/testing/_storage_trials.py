"""Contract tests for creating and writing trials."""

from __future__ import annotations

from collections.abc import Callable
import copy
import math
from typing import Any

import pytest

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages._base import BaseStorage
from skipjack.testing._storage_base import COMPLETE
from skipjack.testing._storage_base import FINISHED_STATES
from skipjack.testing._storage_base import START
from skipjack.testing._storage_base import StorageFixture
from skipjack.testing._storage_base import new_study
from skipjack.testing._storage_base import run_threads
from skipjack.testing._storage_base import template
from skipjack.testing._storage_studies import JSON_VALUES
from skipjack.trial._state import TrialState

_X = FloatDistribution(0.0, 1.0)

# Every write a finished trial must refuse.
_SETTERS: dict[str, Callable[[BaseStorage, int], Any]] = {
    "set_trial_param": lambda s, t: s.set_trial_param(t, "late", 0.5, _X),
    "set_trial_state_values(RUNNING)": lambda s, t: s.set_trial_state_values(t, TrialState.RUNNING),
    "set_trial_state_values(WAITING)": lambda s, t: s.set_trial_state_values(t, TrialState.WAITING),
    "set_trial_state_values(COMPLETE)": lambda s, t: s.set_trial_state_values(
        t, TrialState.COMPLETE, [9.0]
    ),
    "set_trial_state_values(PRUNED)": lambda s, t: s.set_trial_state_values(
        t, TrialState.PRUNED, [9.0]
    ),
    "set_trial_state_values(FAIL)": lambda s, t: s.set_trial_state_values(t, TrialState.FAIL),
    "set_trial_intermediate_value": lambda s, t: s.set_trial_intermediate_value(t, 99, 1.0),
    "set_trial_user_attr": lambda s, t: s.set_trial_user_attr(t, "late", 1),
    "set_trial_system_attr": lambda s, t: s.set_trial_system_attr(t, "late", 1),
}

_UNKNOWN_TRIAL_CALLS: dict[str, Callable[[BaseStorage, int], Any]] = {
    **_SETTERS,
    "get_trial": lambda s, t: s.get_trial(t),
    "get_trial_number_from_id": lambda s, t: s.get_trial_number_from_id(t),
}

# (first distribution of a parameter, a later one that must be refused)
_INCOMPATIBLE: list[tuple[BaseDistribution, BaseDistribution]] = [
    (FloatDistribution(0.0, 1.0), IntDistribution(0, 1)),
    (FloatDistribution(0.0, 1.0), CategoricalDistribution([0.0, 1.0])),
    (FloatDistribution(0.1, 1.0), FloatDistribution(0.1, 1.0, log=True)),
    (IntDistribution(1, 8), IntDistribution(1, 8, log=True)),
    (CategoricalDistribution(["a", "b"]), CategoricalDistribution(["a", "b", "c"])),
    (IntDistribution(0, 3), CategoricalDistribution([0, 1, 2, 3])),
]

# (first distribution, a later one with other bounds or step that must be accepted)
_COMPATIBLE: list[tuple[BaseDistribution, BaseDistribution]] = [
    (FloatDistribution(0.0, 1.0), FloatDistribution(-5.0, 5.0)),
    (FloatDistribution(0.0, 1.0), FloatDistribution(0.0, 1.0, step=0.25)),
    (IntDistribution(0, 10), IntDistribution(0, 100, step=5)),
    (CategoricalDistribution(["a", "b"]), CategoricalDistribution(["a", "b"])),
]


def _template_for(state: TrialState) -> Any:
    values = None if state in (TrialState.FAIL, TrialState.WAITING) else [0.5]
    return template(
        state,
        values=values,
        params={"x": 0.25, "n": 3, "c": "b"},
        distributions={
            "x": FloatDistribution(0.0, 1.0),
            "n": IntDistribution(0, 10),
            "c": CategoricalDistribution(["a", "b"]),
        },
        intermediate_values={0: 1.0, 3: float("nan"), 7: -float("inf")},
        user_attrs={"u": [1, {"v": None}]},
        system_attrs={"s": "sys"},
    )


class TrialWriteContract(StorageFixture):
    """Creating trials, parameters, state changes, intermediate values and attributes."""

    def test_new_trial_is_running_with_a_start_time(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial = storage.get_trial(storage.create_new_trial(study_id))
        assert trial.state == TrialState.RUNNING
        assert trial.number == 0
        assert trial.datetime_start is not None
        assert trial.datetime_complete is None
        assert trial.values is None
        assert trial.params == {} and trial.distributions == {}
        assert trial.user_attrs == {} and trial.system_attrs == {}
        assert trial.intermediate_values == {}

    def test_numbers_count_per_study_and_ids_are_storage_wide(self, storage: BaseStorage) -> None:
        a, b = new_study(storage), new_study(storage)
        created = [(s, storage.create_new_trial(s)) for s in (a, b, a, a, b)]
        ids = [t for _, t in created]
        assert len(set(ids)) == len(ids)
        assert [storage.get_trial(t).number for _, t in created] == [0, 0, 1, 2, 1]
        assert [storage.get_trial(t)._trial_id for t in ids] == ids
        for study_id, trial_id in created:
            number = storage.get_trial_number_from_id(trial_id)
            assert storage.get_trial_id_from_study_id_trial_number(study_id, number) == trial_id

    def test_unknown_trial_number_raises_key_error(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        storage.create_new_trial(study_id)
        with pytest.raises(KeyError):
            storage.get_trial_id_from_study_id_trial_number(study_id, 1)

    @pytest.mark.parametrize("call", sorted(_UNKNOWN_TRIAL_CALLS))
    def test_unknown_trial_id_raises_key_error(self, storage: BaseStorage, call: str) -> None:
        known = storage.create_new_trial(new_study(storage))
        with pytest.raises(KeyError):
            _UNKNOWN_TRIAL_CALLS[call](storage, known + 12345)

    @pytest.mark.parametrize("state", list(TrialState))
    def test_template_trial_is_copied(self, storage: BaseStorage, state: TrialState) -> None:
        study_id = new_study(storage)
        storage.create_new_trial(study_id)
        source = _template_for(state)
        before = copy.deepcopy(source)
        trial = storage.get_trial(storage.create_new_trial(study_id, template_trial=source))
        assert trial.number == 1
        assert trial.state == state
        assert trial.values == source.values
        assert trial.params == source.params
        assert trial.distributions == source.distributions
        assert trial.user_attrs == source.user_attrs
        assert trial.system_attrs == source.system_attrs
        assert set(trial.intermediate_values) == {0, 3, 7}
        assert trial.intermediate_values[0] == 1.0
        assert math.isnan(trial.intermediate_values[3])
        assert trial.intermediate_values[7] == -math.inf
        assert trial.datetime_start == (None if state == TrialState.WAITING else START)
        assert trial.datetime_complete == (COMPLETE if state.is_finished() else None)
        # The template object itself is left alone.
        assert source.number == before.number and source._trial_id == before._trial_id
        assert source.params == before.params and source.user_attrs == before.user_attrs

    def test_template_params_count_as_the_first_distribution(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        storage.create_new_trial(study_id, template_trial=_template_for(TrialState.COMPLETE))
        trial_id = storage.create_new_trial(study_id)
        with pytest.raises(ValueError):
            storage.set_trial_param(trial_id, "x", 1.0, CategoricalDistribution([0.0, 1.0]))
        storage.set_trial_param(trial_id, "x", 0.75, FloatDistribution(0.0, 2.0))
        assert storage.get_trial(trial_id).params == {"x": 0.75}

    def test_params_round_trip(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        x = FloatDistribution(-1.0, 1.0)
        n = IntDistribution(1, 64, log=True)
        c = CategoricalDistribution(["relu", None, 3, 2.5, True])
        storage.set_trial_param(trial_id, "x", -0.125, x)
        storage.set_trial_param(trial_id, "n", 16.0, n)
        storage.set_trial_param(trial_id, "c", 1, c)
        storage.set_trial_param(trial_id, "d", 0, c)
        trial = storage.get_trial(trial_id)
        assert trial.params == {"x": -0.125, "n": 16, "c": None, "d": "relu"}
        assert isinstance(trial.params["n"], int)
        assert trial.distributions == {"x": x, "n": n, "c": c, "d": c}
        assert storage.get_trial_param(trial_id, "x") == -0.125
        assert storage.get_trial_param(trial_id, "n") == 16.0
        assert storage.get_trial_param(trial_id, "c") == 1
        assert storage.get_trial_params(trial_id) == trial.params

    @pytest.mark.parametrize("first, later", _INCOMPATIBLE)
    def test_incompatible_distribution_is_refused(
        self, storage: BaseStorage, first: BaseDistribution, later: BaseDistribution
    ) -> None:
        study_id = new_study(storage)
        storage.set_trial_param(storage.create_new_trial(study_id), "p", 1.0, first)
        trial_id = storage.create_new_trial(study_id)
        with pytest.raises(ValueError):
            storage.set_trial_param(trial_id, "p", 1.0, later)
        assert "p" not in storage.get_trial(trial_id).params
        # Other studies keep their own record of distributions.
        other = storage.create_new_trial(new_study(storage))
        storage.set_trial_param(other, "p", 1.0, later)
        assert storage.get_trial(other).distributions == {"p": later}

    @pytest.mark.parametrize("first, later", _COMPATIBLE)
    def test_compatible_distribution_is_accepted(
        self, storage: BaseStorage, first: BaseDistribution, later: BaseDistribution
    ) -> None:
        study_id = new_study(storage)
        storage.set_trial_param(storage.create_new_trial(study_id), "p", 1.0, first)
        trial_id = storage.create_new_trial(study_id)
        storage.set_trial_param(trial_id, "p", 1.0, later)
        assert storage.get_trial(trial_id).distributions == {"p": later}

    @pytest.mark.parametrize(
        "state, values",
        [
            (TrialState.COMPLETE, [1.5]),
            (TrialState.COMPLETE, [math.inf]),
            (TrialState.COMPLETE, [-2.0, 3.0]),
            (TrialState.PRUNED, [0.25]),
            (TrialState.PRUNED, None),
            (TrialState.FAIL, None),
        ],
    )
    def test_finishing_sets_state_values_and_completion_time(
        self, storage: BaseStorage, state: TrialState, values: list[float] | None
    ) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        started = storage.get_trial(trial_id).datetime_start
        assert storage.set_trial_state_values(trial_id, state, values) is True
        trial = storage.get_trial(trial_id)
        assert trial.state == state
        assert trial.values == values
        assert trial.datetime_start == started
        assert trial.datetime_complete is not None
        assert started is not None and started <= trial.datetime_complete

    def test_waiting_trial_starts_once(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id, template(TrialState.WAITING))
        assert storage.get_trial(trial_id).datetime_start is None
        assert storage.set_trial_state_values(trial_id, TrialState.RUNNING) is True
        running = storage.get_trial(trial_id)
        assert running.state == TrialState.RUNNING
        assert running.datetime_start is not None
        assert running.datetime_complete is None
        # A second worker asking for the same trial loses and changes nothing.
        assert storage.set_trial_state_values(trial_id, TrialState.RUNNING) is False
        assert storage.get_trial(trial_id).datetime_start == running.datetime_start

    def test_running_trial_cannot_be_started_again(self, storage: BaseStorage) -> None:
        trial_id = storage.create_new_trial(new_study(storage))
        assert storage.set_trial_state_values(trial_id, TrialState.RUNNING) is False
        assert storage.get_trial(trial_id).state == TrialState.RUNNING

    def test_waiting_trial_has_one_winner_among_threads(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        waiting = [
            storage.create_new_trial(study_id, template(TrialState.WAITING)) for _ in range(5)
        ]
        results: list[tuple[int, bool]] = []

        def take(_: int) -> None:
            for trial_id in waiting:
                won = storage.set_trial_state_values(trial_id, TrialState.RUNNING)
                results.append((trial_id, won))

        run_threads(8, take)
        for trial_id in waiting:
            outcomes = [won for t, won in results if t == trial_id]
            assert len(outcomes) == 8
            assert outcomes.count(True) == 1
            assert storage.get_trial(trial_id).state == TrialState.RUNNING

    @pytest.mark.parametrize("setter", sorted(_SETTERS))
    @pytest.mark.parametrize("state", FINISHED_STATES)
    def test_finished_trial_refuses_every_write(
        self, storage: BaseStorage, state: TrialState, setter: str
    ) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        storage.set_trial_param(trial_id, "x", 0.5, _X)
        storage.set_trial_intermediate_value(trial_id, 0, 1.0)
        storage.set_trial_state_values(trial_id, state, None if state == TrialState.FAIL else [1.0])
        before = copy.deepcopy(storage.get_trial(trial_id))
        with pytest.raises(UpdateFinishedTrialError):
            _SETTERS[setter](storage, trial_id)
        assert storage.get_trial(trial_id) == before

    def test_template_finished_trial_refuses_writes(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id, _template_for(TrialState.COMPLETE))
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trial_user_attr(trial_id, "late", 1)

    def test_intermediate_values(self, storage: BaseStorage) -> None:
        trial_id = storage.create_new_trial(new_study(storage))
        reported = {0: 0.5, 1: math.nan, 2: math.inf, 3: -math.inf, 10: -3.25}
        for step, value in reported.items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        storage.set_trial_intermediate_value(trial_id, 0, 0.75)  # overwrite
        stored = storage.get_trial(trial_id).intermediate_values
        assert set(stored) == set(reported)
        assert stored[0] == 0.75
        assert math.isnan(stored[1])
        assert stored[2] == math.inf and stored[3] == -math.inf and stored[10] == -3.25

    @pytest.mark.parametrize("kind", ["user", "system"])
    def test_trial_attrs_hold_json_values(self, storage: BaseStorage, kind: str) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        neighbour = storage.create_new_trial(study_id)
        set_attr = getattr(storage, f"set_trial_{kind}_attr")
        expected = {f"k{i}": v for i, v in enumerate(JSON_VALUES)}
        for key, value in expected.items():
            set_attr(trial_id, key, value)
        set_attr(trial_id, "k1", "overwritten")
        expected["k1"] = "overwritten"
        trial = storage.get_trial(trial_id)
        assert getattr(trial, f"{kind}_attrs") == expected
        assert getattr(storage, f"get_trial_{kind}_attrs")(trial_id) == expected
        assert getattr(storage.get_trial(neighbour), f"{kind}_attrs") == {}

    def test_concurrent_creation_gives_dense_numbers(self, storage: BaseStorage) -> None:
        studies = [new_study(storage), new_study(storage)]
        created: list[tuple[int, int]] = []

        def create(i: int) -> None:
            for k in range(25):
                study_id = studies[(i + k) % 2]
                created.append((study_id, storage.create_new_trial(study_id)))

        run_threads(8, create)
        assert len({t for _, t in created}) == 200
        for study_id in studies:
            trials = storage.get_all_trials(study_id, deepcopy=False)
            mine = sorted(t for s, t in created if s == study_id)
            assert sorted(t._trial_id for t in trials) == mine
            assert [t.number for t in trials] == list(range(len(mine)))
            assert storage.get_n_trials(study_id) == len(mine)
        assert sum(storage.get_n_trials(s) for s in studies) == 200
