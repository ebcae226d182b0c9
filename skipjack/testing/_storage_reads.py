"""Contract tests for reading trials back."""

from __future__ import annotations

import math

import pytest

from skipjack.distributions import FloatDistribution
from skipjack.storages._base import BaseStorage
from skipjack.testing._storage_base import MAXIMIZE
from skipjack.testing._storage_base import MINIMIZE
from skipjack.testing._storage_base import StorageFixture
from skipjack.testing._storage_base import finish
from skipjack.testing._storage_base import new_study
from skipjack.testing._storage_base import template
from skipjack.trial._state import TrialState

# One trial per state, in this order of numbers.
_STATE_ORDER = [
    TrialState.COMPLETE,
    TrialState.RUNNING,
    TrialState.FAIL,
    TrialState.WAITING,
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.RUNNING,
    TrialState.COMPLETE,
]


def _study_with_every_state(storage: BaseStorage) -> int:
    """A study whose trial ``i`` is in state ``_STATE_ORDER[i]``, created out of order."""
    study_id = new_study(storage)
    for number, state in enumerate(_STATE_ORDER):
        if state == TrialState.WAITING:
            storage.create_new_trial(study_id, template(TrialState.WAITING))
        else:
            trial_id = storage.create_new_trial(study_id)
            storage.set_trial_user_attr(trial_id, "number", number)
    # Finish in reverse order so that finish order differs from number order.
    for trial in reversed(storage.get_all_trials(study_id)):
        state = _STATE_ORDER[trial.number]
        if state.is_finished():
            values = None if state == TrialState.FAIL else [float(trial.number)]
            storage.set_trial_state_values(trial._trial_id, state, values)
    return study_id


class TrialReadContract(StorageFixture):
    """get_trial, get_all_trials, get_n_trials and get_best_trial."""

    def test_get_all_trials_is_ordered_by_number(self, storage: BaseStorage) -> None:
        study_id = _study_with_every_state(storage)
        trials = storage.get_all_trials(study_id)
        assert [t.number for t in trials] == list(range(len(_STATE_ORDER)))
        assert [t.state for t in trials] == _STATE_ORDER
        for trial in trials:
            if trial.state != TrialState.WAITING:
                assert trial.user_attrs == {"number": trial.number}

    @pytest.mark.parametrize("deepcopy", [True, False])
    @pytest.mark.parametrize(
        "states",
        [
            (TrialState.COMPLETE,),
            [TrialState.WAITING],
            (TrialState.RUNNING, TrialState.WAITING),
            {TrialState.PRUNED, TrialState.FAIL, TrialState.COMPLETE},
            tuple(TrialState),
            (),
        ],
    )
    def test_get_all_trials_filters_by_state(
        self, storage: BaseStorage, states: tuple[TrialState, ...], deepcopy: bool
    ) -> None:
        study_id = _study_with_every_state(storage)
        trials = storage.get_all_trials(study_id, deepcopy=deepcopy, states=states)
        expected = [n for n, s in enumerate(_STATE_ORDER) if s in states]
        assert [t.number for t in trials] == expected
        assert all(t.state in states for t in trials)

    def test_filter_follows_state_changes(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        ids = [storage.create_new_trial(study_id, template(TrialState.WAITING)) for _ in range(4)]
        storage.set_trial_state_values(ids[1], TrialState.RUNNING)
        storage.set_trial_state_values(ids[2], TrialState.RUNNING)
        storage.set_trial_state_values(ids[2], TrialState.COMPLETE, [1.0])
        by_state = {
            state: [t.number for t in storage.get_all_trials(study_id, states=(state,))]
            for state in TrialState
        }
        assert by_state[TrialState.WAITING] == [0, 3]
        assert by_state[TrialState.RUNNING] == [1]
        assert by_state[TrialState.COMPLETE] == [2]
        assert storage.get_n_trials(study_id, TrialState.WAITING) == 2

    def test_deepcopied_trials_can_be_changed_freely(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        storage.set_trial_param(trial_id, "x", 0.5, FloatDistribution(0.0, 1.0))
        storage.set_trial_user_attr(trial_id, "list", [1, 2])
        storage.set_trial_system_attr(trial_id, "dict", {"a": 1})
        storage.set_trial_intermediate_value(trial_id, 0, 1.0)
        (copied,) = storage.get_all_trials(study_id, deepcopy=True)
        copied.params["x"] = 0.9
        copied.distributions["y"] = FloatDistribution(0.0, 2.0)
        copied.user_attrs["list"].append(3)
        copied.system_attrs["dict"]["b"] = 2
        copied.intermediate_values[1] = 5.0
        copied.state = TrialState.FAIL
        stored = storage.get_trial(trial_id)
        assert stored.params == {"x": 0.5}
        assert list(stored.distributions) == ["x"]
        assert stored.user_attrs == {"list": [1, 2]}
        assert stored.system_attrs == {"dict": {"a": 1}}
        assert stored.intermediate_values == {0: 1.0}
        assert stored.state == TrialState.RUNNING

    def test_read_trials_are_snapshots(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        seen = storage.get_trial(trial_id)
        (listed,) = storage.get_all_trials(study_id, deepcopy=False)
        storage.set_trial_param(trial_id, "x", 0.5, FloatDistribution(0.0, 1.0))
        storage.set_trial_intermediate_value(trial_id, 0, 1.0)
        storage.set_trial_user_attr(trial_id, "k", "v")
        storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [2.0])
        for old in (seen, listed):
            assert old.state == TrialState.RUNNING
            assert old.params == {} and old.intermediate_values == {} and old.user_attrs == {}
            assert old.values is None and old.datetime_complete is None
        assert storage.get_trial(trial_id).values == [2.0]

    def test_get_n_trials(self, storage: BaseStorage) -> None:
        study_id = _study_with_every_state(storage)
        new_study(storage)  # an empty neighbour does not count
        assert storage.get_n_trials(study_id) == len(_STATE_ORDER)
        for state in TrialState:
            assert storage.get_n_trials(study_id, state) == _STATE_ORDER.count(state)
        pair = (TrialState.COMPLETE, TrialState.RUNNING)
        assert storage.get_n_trials(study_id, pair) == 5

    @pytest.mark.parametrize(
        "direction, values, best",
        [
            (MINIMIZE, [3.0, -1.0, 2.0, -0.5, 7.0], 1),
            (MAXIMIZE, [3.0, -1.0, 8.5, 2.0, 8.0], 2),
            (MINIMIZE, [0.0, -math.inf, 1.0], 1),
            (MAXIMIZE, [0.0, math.inf, 1.0], 1),
        ],
    )
    def test_best_trial(
        self, storage: BaseStorage, direction: object, values: list[float], best: int
    ) -> None:
        study_id = storage.create_new_study([direction])  # type: ignore[list-item]
        ids = [finish(storage, study_id, TrialState.COMPLETE, v) for v in values]
        # Better values in trials that did not complete never count.
        extreme = -1e300 if direction == MINIMIZE else 1e300
        finish(storage, study_id, TrialState.PRUNED, extreme)
        trial_id = storage.create_new_trial(study_id)
        storage.set_trial_intermediate_value(trial_id, 0, extreme)
        best_trial = storage.get_best_trial(study_id)
        assert best_trial._trial_id == ids[best]
        assert best_trial.values == [values[best]]

    def test_best_trial_includes_added_trials(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        finish(storage, study_id, TrialState.COMPLETE, 1.0)
        added = storage.create_new_trial(study_id, template(TrialState.COMPLETE, values=[-4.0]))
        assert storage.get_best_trial(study_id)._trial_id == added

    def test_best_trial_needs_a_complete_trial(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        with pytest.raises(ValueError):
            storage.get_best_trial(study_id)
        storage.create_new_trial(study_id)
        finish(storage, study_id, TrialState.PRUNED, 1.0)
        finish(storage, study_id, TrialState.FAIL)
        with pytest.raises(ValueError):
            storage.get_best_trial(study_id)

    def test_best_trial_is_refused_for_several_objectives(self, storage: BaseStorage) -> None:
        study_id = storage.create_new_study([MINIMIZE, MAXIMIZE])
        trial_id = storage.create_new_trial(study_id)
        storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0, 2.0])
        with pytest.raises(RuntimeError):
            storage.get_best_trial(study_id)
