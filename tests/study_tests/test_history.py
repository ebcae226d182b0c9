"""TrialHistory and history_of, checked against a real storage and a minimal stand-in study."""

from __future__ import annotations

from collections.abc import Sequence
import math
import pickle
import sys
import threading
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.storages._base import BaseStorage
from skipjack.storages._in_memory import InMemoryStorage
from skipjack.study._history import TrialHistory
from skipjack.study._history import history_of
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

COMPLETE, PRUNED, FAIL = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL
DISTS: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-10.0, 10.0),
    "n": IntDistribution(1, 1024, log=True),
    "c": CategoricalDistribution(["a", "b", None, 2.5]),
}


def make_study(n_objectives: int = 1, storage: Any = None) -> SimpleNamespace:
    """The three attributes history_of reads from a study."""
    storage = storage if storage is not None else InMemoryStorage()
    directions = [StudyDirection.MINIMIZE] * n_objectives
    study_id = storage.create_new_study(directions)
    return SimpleNamespace(_storage=storage, _study_id=study_id, directions=directions)


def add(
    study: SimpleNamespace,
    state: TrialState = COMPLETE,
    values: Sequence[float] | None = None,
    params: dict[str, Any] | None = None,
    intermediate: dict[int, float] | None = None,
) -> int:
    """Add a trial in ``state``; COMPLETE trials default to value 0.0 per objective."""
    if values is None and state == COMPLETE:
        values = [0.0] * len(study.directions)
    trial = create_trial(
        state=state,
        values=values,
        params=params or {},
        distributions={name: DISTS[name] for name in params or {}},
        intermediate_values=intermediate,
    )
    return study._storage.create_new_trial(study._study_id, template_trial=trial)


def test_rows_are_appended_as_trials_finish() -> None:
    study = make_study()
    running = study._storage.create_new_trial(study._study_id)
    add(study, values=[1.0])
    add(study, FAIL)
    history = history_of(study)
    assert study._history is history
    assert len(history) == 2
    assert history.numbers.tolist() == [1, 2]
    first_values = history.values.copy()

    study._storage.set_trial_state_values(running, COMPLETE, [5.0])
    add(study, PRUNED, values=[3.0])
    assert history_of(study) is history
    assert history.numbers.tolist() == [1, 2, 0, 3]  # finish order, not number order
    assert history.states.tolist() == [COMPLETE, FAIL, COMPLETE, PRUNED]
    np.testing.assert_array_equal(history.values[:2], first_values)
    np.testing.assert_array_equal(history.values[:, 0], [1.0, np.nan, 5.0, 3.0])
    assert [t._trial_id for t in history.trials] == [1, 2, 0, 3]
    history_of(study)
    assert len(history) == 4
    assert history.numbers.dtype == np.int64 and history.states.dtype == np.int8
    assert history.values.dtype == np.float64


def test_params_first_seen_later_are_nan_filled() -> None:
    study = make_study()
    for k in range(20):
        add(study, params={"x": float(k) / 4})
    history_of(study)
    # Rows beyond the first refresh make the columns grow after "x" exists.
    add(study, params={"x": 1.0, "n": 32, "c": None})
    add(study, FAIL, params={"c": "b"})
    history = history_of(study)
    x, n, c = history.param("x"), history.param("n"), history.param("c")
    np.testing.assert_array_equal(x, [k / 4 for k in range(20)] + [1.0, np.nan])
    np.testing.assert_array_equal(n, [np.nan] * 20 + [32.0, np.nan])
    np.testing.assert_array_equal(c, [np.nan] * 20 + [2.0, 1.0])  # internal form: choice index
    assert np.isnan(history.param("never suggested")).all()
    assert len(history.param("never suggested")) == 22


def test_values_matrix_for_several_objectives() -> None:
    study = make_study(n_objectives=3)
    add(study, values=[1.0, -2.0, math.inf])
    add(study, FAIL)
    add(study, PRUNED)
    add(study, values=[0.5, 0.25, -math.inf])
    values = history_of(study).values
    assert values.shape == (4, 3)
    np.testing.assert_array_equal(
        values,
        [[1.0, -2.0, math.inf], [np.nan] * 3, [np.nan] * 3, [0.5, 0.25, -math.inf]],
    )


def test_states_mask() -> None:
    study = make_study()
    for state in [COMPLETE, FAIL, PRUNED, COMPLETE, FAIL]:
        add(study, state, values=[1.0] if state == PRUNED else None)
    history = history_of(study)
    assert history.mask([COMPLETE]).tolist() == [True, False, False, True, False]
    assert history.mask([PRUNED, FAIL]).tolist() == [False, True, True, False, True]
    assert history.mask([]).tolist() == [False] * 5
    assert history.mask([TrialState.RUNNING]).dtype == bool


def test_intermediate_values_per_step_and_state() -> None:
    study = make_study()
    add(study, intermediate={0: 1.0, 1: 2.0, 5: 3.0})
    add(study, PRUNED, values=[9.0], intermediate={0: math.nan, 1: 7.0})
    add(study, FAIL, intermediate={0: -1.0})
    add(study, intermediate={1: 4.0})
    add(study, intermediate={0: math.inf})
    history = history_of(study)
    np.testing.assert_array_equal(history.intermediate_at(0), [1.0, math.inf])
    np.testing.assert_array_equal(history.intermediate_at(1), [2.0, 4.0])
    np.testing.assert_array_equal(
        history.intermediate_at(0, (COMPLETE, PRUNED)), [1.0, math.nan, math.inf]
    )
    np.testing.assert_array_equal(history.intermediate_at(0, (FAIL,)), [-1.0])
    np.testing.assert_array_equal(history.intermediate_at(5), [3.0])
    assert history.intermediate_at(2).shape == (0,)
    assert history.intermediate_at(1, ()).shape == (0,)


class _FullReadStorage(InMemoryStorage):
    """A storage relying on BaseStorage's default get_finished_trials_since."""

    get_finished_trials_since = BaseStorage.get_finished_trials_since


class _RepeatingStorage(InMemoryStorage):
    """A careless storage that hands back every finished trial twice, every time."""

    def get_finished_trials_since(
        self, study_id: int, watermark: int
    ) -> tuple[list[FrozenTrial], int]:
        trials = self.get_all_trials(study_id, deepcopy=False, states=(COMPLETE, PRUNED, FAIL))
        return trials + trials, 0


class _OptunaStyleStorage:
    """A storage object without get_finished_trials_since (written against Optuna's API)."""

    def __init__(self, inner: InMemoryStorage) -> None:
        self._inner = inner

    def create_new_study(self, *args: Any) -> int:
        return self._inner.create_new_study(*args)

    def create_new_trial(self, *args: Any, **kwargs: Any) -> int:
        return self._inner.create_new_trial(*args, **kwargs)

    def get_all_trials(self, *args: Any, **kwargs: Any) -> list[FrozenTrial]:
        return self._inner.get_all_trials(*args, **kwargs)


@pytest.mark.parametrize(
    "storage_factory",
    [_FullReadStorage, _RepeatingStorage, lambda: _OptunaStyleStorage(InMemoryStorage())],
)
def test_storages_returning_everything_give_no_duplicates(storage_factory: Any) -> None:
    study = make_study(storage=storage_factory())
    add(study, values=[1.0], params={"x": 1.0}, intermediate={0: 1.0})
    add(study, FAIL)
    assert len(history_of(study)) == 2
    assert len(history_of(study)) == 2
    add(study, values=[2.0], params={"x": 2.0}, intermediate={0: 2.0})
    history = history_of(study)
    assert history.numbers.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(history.param("x"), [1.0, np.nan, 2.0])
    np.testing.assert_array_equal(history.intermediate_at(0), [1.0, 2.0])


def test_a_trial_that_cannot_be_converted_leaves_the_history_intact() -> None:
    study = make_study()
    add(study, values=[1.0], params={"x": 1.0}, intermediate={0: 1.0})
    history = history_of(study)
    broken = create_trial(value=2.0, params={"c": "b"}, distributions={"c": DISTS["c"]})
    broken.params["c"] = "not a choice"  # as if read back from a damaged storage
    study._storage.create_new_trial(study._study_id, template_trial=broken)
    with pytest.raises(ValueError):
        history.refresh()
    assert len(history) == 1
    np.testing.assert_array_equal(history.intermediate_at(0), [1.0])
    with pytest.raises(ValueError):  # the next refresh tries again rather than skip it
        history.refresh()
    assert len(history) == 1


def test_concurrent_refreshes_while_trials_finish() -> None:
    study = make_study()
    errors: list[BaseException] = []
    histories: list[TrialHistory] = []
    start = threading.Barrier(9)

    def writer() -> None:
        start.wait()
        for k in range(300):
            add(study, params={"x": (k % 20) - 10.0}, intermediate={k % 3: float(k)})

    def reader() -> None:
        try:
            start.wait()
            for _ in range(100):
                snapshot = history_of(study).snapshot()
                n = len(snapshot)
                assert len(snapshot.numbers) == len(snapshot.param("x")) == n
                assert snapshot.values.shape == (n, 1)
            histories.append(history_of(study))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader) for _ in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so unguarded sections would interleave
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert all(h is histories[0] for h in histories)
    history = history_of(study)
    assert sorted(history.numbers.tolist()) == list(range(300))
    np.testing.assert_array_equal(history.param("x"), (history.numbers % 20) - 10.0)
    for step in range(3):
        expected = history.numbers[history.numbers % 3 == step].astype(float)
        np.testing.assert_array_equal(history.intermediate_at(step), expected)


def test_snapshot_is_fixed_and_arrays_are_read_only() -> None:
    study = make_study()
    add(study, values=[1.0], params={"x": 1.0}, intermediate={0: 1.0})
    history = history_of(study)
    snapshot = history.snapshot()
    for _ in range(40):
        add(study, values=[2.0], params={"x": 2.0, "n": 4}, intermediate={0: 2.0})
    history_of(study)
    assert len(snapshot) == 1 and len(history) == 41
    np.testing.assert_array_equal(snapshot.param("x"), [1.0])
    np.testing.assert_array_equal(snapshot.param("n"), [np.nan])
    np.testing.assert_array_equal(snapshot.intermediate_at(0), [1.0])
    assert len(snapshot.trials) == 1
    with pytest.raises(ValueError):
        history.values[0, 0] = 5.0
    with pytest.raises(ValueError):
        history.param("x")[0] = 5.0
    assert history.values[0, 0] == 1.0


def test_history_survives_pickling() -> None:
    study = make_study()
    add(study, values=[1.0], params={"x": 1.0})
    history_of(study)
    clone = pickle.loads(pickle.dumps(study))
    add(clone, values=[2.0], params={"x": 3.0})
    history = history_of(clone)
    assert history is clone._history
    np.testing.assert_array_equal(history.param("x"), [1.0, 3.0])
    assert len(study._history) == 1  # the original is untouched


# ---- columns against a naive recomputation -------------------------------------------------

_finite = st.floats(-1e6, 1e6, allow_nan=False)
_reported = st.one_of(_finite, st.just(math.nan), st.just(math.inf))


@st.composite
def _trials(draw: st.DrawFn, n_objectives: int) -> FrozenTrial:
    state = draw(st.sampled_from([COMPLETE, PRUNED, FAIL, TrialState.RUNNING]))
    values = None
    if state == COMPLETE or (state == PRUNED and draw(st.booleans())):
        values = draw(st.lists(_finite, min_size=n_objectives, max_size=n_objectives))
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["x"] = draw(st.floats(-10.0, 10.0))
    if draw(st.booleans()):
        params["n"] = draw(st.integers(1, 1024))
    if draw(st.booleans()):
        params["c"] = draw(st.sampled_from(DISTS["c"].choices))  # type: ignore[attr-defined]
    steps = draw(st.dictionaries(st.integers(0, 6), _reported, max_size=4))
    return create_trial(
        state=state,
        values=values,
        params=params,
        distributions={name: DISTS[name] for name in params},
        intermediate_values=steps,
    )


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n_objectives=st.integers(1, 2))
def test_columns_match_a_naive_recomputation(data: st.DataObject, n_objectives: int) -> None:
    study = make_study(n_objectives)
    storage = study._storage
    batches = data.draw(st.lists(st.lists(_trials(n_objectives), max_size=6), max_size=5))
    for batch in batches:
        for trial in batch:
            storage.create_new_trial(study._study_id, template_trial=trial)
        for running in storage.get_all_trials(study._study_id, states=(TrialState.RUNNING,)):
            if data.draw(st.booleans()):
                storage.set_trial_state_values(running._trial_id, FAIL)
        history = history_of(study)

        rows = list(history.trials)
        finished = storage.get_all_trials(study._study_id, states=(COMPLETE, PRUNED, FAIL))
        assert sorted(t._trial_id for t in rows) == [t._trial_id for t in finished]
        assert history.numbers.tolist() == [t.number for t in rows]
        assert history.states.tolist() == [int(t.state) for t in rows]
        expected_values = [t.values if t.values else [math.nan] * n_objectives for t in rows]
        np.testing.assert_array_equal(
            history.values, np.array(expected_values, dtype=float).reshape(-1, n_objectives)
        )
        for name, dist in DISTS.items():
            expected = [
                dist.to_internal_repr(t.params[name]) if name in t.params else math.nan
                for t in rows
            ]
            np.testing.assert_array_equal(history.param(name), np.array(expected, dtype=float))
        for states in [(COMPLETE,), (COMPLETE, PRUNED), (FAIL,)]:
            assert history.mask(states).tolist() == [t.state in states for t in rows]
            for step in range(7):
                expected = [
                    t.intermediate_values[step]
                    for t in rows
                    if t.state in states and step in t.intermediate_values
                ]
                np.testing.assert_array_equal(
                    history.intermediate_at(step, states), np.array(expected, dtype=float)
                )


def test_count_matches_mask_for_every_state_combination() -> None:
    import itertools

    from skipjack.storages._in_memory import InMemoryStorage
    from skipjack.study._history import TrialHistory
    from skipjack.study._study_direction import StudyDirection
    from skipjack.trial import TrialState
    from skipjack.trial import create_trial

    storage = InMemoryStorage()
    study_id = storage.create_new_study([StudyDirection.MINIMIZE])
    history = TrialHistory(storage, study_id, 1)
    finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    for i in range(30):
        state = finished[i % 3] if i % 4 else TrialState.COMPLETE
        value = float(i) if state == TrialState.COMPLETE else None
        storage.create_new_trial(study_id, create_trial(state=state, value=value))
        if i % 7 == 0:
            history.refresh()
    history.refresh()
    snapshot = history.snapshot()
    for r in range(1, 4):
        for states in itertools.combinations(finished, r):
            assert snapshot.count(states) == int(snapshot.mask(states).sum())
            assert history.count(states) == snapshot.count(states)
