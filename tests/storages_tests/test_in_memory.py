"""InMemoryStorage specifics: ids, pickling, thread-safety, cost of reads, parity with Optuna.

The storage contract itself is checked by tests/storages_tests/test_conformance.py.
"""

from __future__ import annotations

from collections.abc import Iterator
import pickle
import threading
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
import pytest

from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages._in_memory import InMemoryStorage
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

MINIMIZE = StudyDirection.MINIMIZE
MAXIMIZE = StudyDirection.MAXIMIZE


def _finish(storage: InMemoryStorage, study_id: int, value: float = 0.0) -> int:
    trial_id = storage.create_new_trial(study_id)
    storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [value])
    return trial_id


def test_ids_count_from_zero_across_the_storage() -> None:
    storage = InMemoryStorage()
    a = storage.create_new_study([MINIMIZE])
    b = storage.create_new_study([MINIMIZE])
    assert (a, b) == (0, 1)
    trial_ids = [storage.create_new_trial(s) for s in (a, b, b, a)]
    assert trial_ids == [0, 1, 2, 3]
    storage.delete_study(a)
    # Ids are never reused, even after a deletion.
    assert storage.create_new_study([MINIMIZE]) == 2
    assert storage.create_new_trial(b) == 4


def test_template_distributions_are_not_checked_as_in_optuna() -> None:
    storage = InMemoryStorage()
    study_id = storage.create_new_study([MINIMIZE])
    storage.set_trial_param(storage.create_new_trial(study_id), "x", 0.5, FloatDistribution(0, 1))
    odd = create_trial(
        value=1.0, params={"x": "a"}, distributions={"x": CategoricalDistribution(["a"])}
    )
    trial_id = storage.create_new_trial(study_id, template_trial=odd)
    assert storage.get_trial(trial_id).params == {"x": "a"}


def test_pickle_round_trip_keeps_everything_and_a_working_lock() -> None:
    storage = InMemoryStorage()
    study_id = storage.create_new_study([MAXIMIZE], "s")
    storage.set_study_user_attr(study_id, "u", [1, 2])
    done = [_finish(storage, study_id, v) for v in (1.0, 3.0, 2.0)]
    running = storage.create_new_trial(study_id)
    storage.set_trial_param(running, "x", 0.25, FloatDistribution(0, 1))
    storage.claim(study_id, "k", running)
    _, watermark = storage.get_finished_trials_since(study_id, 0)

    clone = pickle.loads(pickle.dumps(storage))

    assert clone.get_study_id_from_name("s") == study_id
    assert clone.get_study_user_attrs(study_id) == {"u": [1, 2]}
    assert clone.get_all_trials(study_id) == storage.get_all_trials(study_id)
    assert clone.get_best_trial(study_id)._trial_id == done[1]
    assert clone.get_claims(study_id) == {"k": running}
    # The clone works (its lock was recreated) and is independent of the original.
    clone.set_trial_state_values(running, TrialState.COMPLETE, [9.0])
    assert [t._trial_id for t in clone.get_finished_trials_since(study_id, watermark)[0]] == [
        running
    ]
    assert clone.get_best_trial(study_id)._trial_id == running
    assert storage.get_trial(running).state == TrialState.RUNNING
    assert clone.create_new_trial(study_id) == storage.create_new_trial(study_id)
    with pytest.raises(UpdateFinishedTrialError):
        clone.set_trial_param(running, "y", 0.5, FloatDistribution(0, 1))


def test_mixed_concurrent_use_keeps_indexes_consistent() -> None:
    storage = InMemoryStorage()
    study_id = storage.create_new_study([MINIMIZE])
    errors: list[BaseException] = []
    seen: list[int] = []

    def worker(seed: int) -> None:
        try:
            watermark = 0
            for k in range(40):
                trial_id = storage.create_new_trial(study_id)
                storage.set_trial_param(trial_id, "x", k / 40, FloatDistribution(0, 1))
                storage.set_trial_intermediate_value(trial_id, 0, float(k))
                state = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL][k % 3]
                values = None if state == TrialState.FAIL else [float(seed * 100 + k)]
                storage.set_trial_state_values(trial_id, state, values)
                storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
                if seed == 0:
                    new, watermark = storage.get_finished_trials_since(study_id, watermark)
                    seen.extend(t._trial_id for t in new)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    trials = storage.get_all_trials(study_id, deepcopy=False)
    assert [t.number for t in trials] == list(range(240))
    for state in TrialState:
        assert storage.get_n_trials(study_id, state) == sum(t.state == state for t in trials)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert storage.get_best_trial(study_id).values == [
        min(t.values[0] for t in complete if t.values)
    ]
    assert len(seen) == len(set(seen))


class _CountingList(list):  # type: ignore[type-arg]
    """A list that counts element visits, to show which reads scan every trial."""

    visits = 0

    def __iter__(self) -> Iterator[Any]:
        _CountingList.visits += len(self)
        return super().__iter__()

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        _CountingList.visits += len(item) if isinstance(index, slice) else 1
        return item


def test_reads_do_not_scan_every_trial() -> None:
    storage = InMemoryStorage()
    study_id = storage.create_new_study([MINIMIZE])
    for k in range(1000):
        _finish(storage, study_id, float(k))
    _, watermark = storage.get_finished_trials_since(study_id, 0)
    waiting = storage.create_new_trial(study_id, create_trial(state=TrialState.WAITING))
    record = storage._studies[study_id]
    record.trials = _CountingList(record.trials)
    _CountingList.visits = 0

    latest = _finish(storage, study_id, -1.0)
    new, _ = storage.get_finished_trials_since(study_id, watermark)
    assert [t._trial_id for t in new] == [latest]
    assert storage.get_best_trial(study_id)._trial_id == latest
    assert storage.get_n_trials(study_id) == 1002
    assert storage.get_n_trials(study_id, TrialState.COMPLETE) == 1001
    (found,) = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,))
    assert found._trial_id == waiting
    assert _CountingList.visits < 20


# ---- parity with Optuna's InMemoryStorage on random operation sequences --------------------

_STATES = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING]
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.none()),
        st.tuples(st.just("enqueue"), st.none()),
        st.tuples(st.just("add"), st.integers(-5, 5)),
        st.tuples(
            st.just("set"),
            st.tuples(st.integers(0, 30), st.sampled_from(_STATES), st.integers(-5, 5)),
        ),
    ),
    max_size=40,
)


# The names _apply and _summary need, from skipjack and from Optuna.
OURS = SimpleNamespace(
    TrialState=TrialState, create_trial=create_trial, Finished=UpdateFinishedTrialError
)
THEIRS = SimpleNamespace(
    TrialState=optuna.trial.TrialState,
    create_trial=optuna.trial.create_trial,
    Finished=optuna.exceptions.UpdateFinishedTrialError,
)


def _apply(storage: Any, study_id: int, op: str, arg: Any, api: SimpleNamespace) -> Any:
    """Apply one operation; return what a caller could observe (ids differ by design)."""
    if op == "create":
        storage.create_new_trial(study_id)
        return "created"
    if op == "enqueue":
        waiting = api.create_trial(state=api.TrialState.WAITING)
        storage.create_new_trial(study_id, template_trial=waiting)
        return "created"
    if op == "add":
        added = api.create_trial(state=api.TrialState.COMPLETE, value=float(arg))
        storage.create_new_trial(study_id, template_trial=added)
        return "created"
    number, state, value = arg
    n = storage.get_n_trials(study_id)
    if n == 0:
        return "empty"
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number % n)
    values = None if state in (TrialState.FAIL, TrialState.RUNNING) else [float(value)]
    try:
        return storage.set_trial_state_values(trial_id, api.TrialState(int(state)), values)
    except api.Finished:
        return "finished"


def _summary(storage: Any, study_id: int, api: SimpleNamespace) -> dict[str, Any]:
    trials = storage.get_all_trials(study_id, deepcopy=False)
    try:
        best: Any = storage.get_best_trial(study_id).number
    except ValueError:
        best = None
    by_state = {
        int(s): [
            t.number
            for t in storage.get_all_trials(
                study_id, deepcopy=False, states=(api.TrialState(int(s)),)
            )
        ]
        for s in TrialState
    }
    return {
        "states": [int(t.state) for t in trials],
        "values": [t.values for t in trials],
        "started": [t.datetime_start is not None for t in trials],
        "completed": [t.datetime_complete is not None for t in trials],
        "best": best,
        "by_state": by_state,
        "n": storage.get_n_trials(study_id),
    }


@settings(max_examples=60, deadline=None)
@given(ops=_operations, maximize=st.booleans())
def test_behaves_like_optuna_in_memory_storage(ops: list[tuple[str, Any]], maximize: bool) -> None:
    ours = InMemoryStorage()
    theirs = optuna.storages.InMemoryStorage()
    our_study = ours.create_new_study([MAXIMIZE if maximize else MINIMIZE])
    their_study = theirs.create_new_study(
        [optuna.study.StudyDirection.MAXIMIZE if maximize else optuna.study.StudyDirection.MINIMIZE]
    )
    for op, arg in ops:
        assert _apply(ours, our_study, op, arg, OURS) == _apply(
            theirs, their_study, op, arg, THEIRS
        )
    assert _summary(ours, our_study, OURS) == _summary(theirs, their_study, THEIRS)
