from __future__ import annotations

import copy
import datetime
import pickle

import pytest

from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.trial import FrozenTrial
from skipjack.trial import TrialState
from skipjack.trial import create_trial


def _frozen(**overrides: object) -> FrozenTrial:
    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    kwargs: dict = dict(
        number=3,
        state=TrialState.COMPLETE,
        value=0.5,
        datetime_start=now,
        datetime_complete=now,
        params={"x": 1.5, "c": "b"},
        distributions={"x": FloatDistribution(0, 2), "c": CategoricalDistribution(["a", "b"])},
        user_attrs={"u": 1},
        system_attrs={},
        intermediate_values={0: 1.0, 4: 0.7},
        trial_id=7,
    )
    kwargs.update(overrides)
    return FrozenTrial(**kwargs)


def test_trial_state_values_match_optuna() -> None:
    assert [s.value for s in TrialState] == [0, 1, 2, 3, 4]
    assert [s.name for s in TrialState] == ["RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"]
    assert str(TrialState.COMPLETE) == "TrialState.COMPLETE"
    assert [s.is_finished() for s in TrialState] == [False, True, True, True, False]


def test_fields_and_derived_properties() -> None:
    t = _frozen()
    assert t.number == 3 and t._trial_id == 7
    assert t.value == 0.5 and t.values == [0.5]
    assert t.last_step == 4
    assert t.duration == datetime.timedelta(0)
    assert t.params == {"x": 1.5, "c": "b"}
    assert t.constraints == {}


def test_value_raises_for_multi_objective() -> None:
    t = _frozen(value=None, values=[1.0, 2.0])
    assert t.values == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="values"):
        _ = t.value
    with pytest.raises(RuntimeError):
        t.value = 3.0


def test_value_and_values_together_are_refused() -> None:
    with pytest.raises(ValueError, match="only one"):
        _frozen(values=[1.0])


def test_equality_ordering_and_copy() -> None:
    a, b = _frozen(), _frozen()
    assert a == b and hash(a) == hash(b)
    c = _frozen(number=4)
    assert a != c and a < c and a <= c and not c < a
    assert copy.deepcopy(a) == a
    assert pickle.loads(pickle.dumps(a)) == a
    assert "number=3" in repr(a)


def test_suggest_api_replays_recorded_values() -> None:
    t = _frozen()
    assert t.suggest_float("x", 0, 2) == 1.5
    assert t.suggest_categorical("c", ["a", "b"]) == "b"
    with pytest.raises(ValueError, match="'missing'"):
        t.suggest_float("missing", 0, 1)
    assert t.should_prune() is False
    t.report(1.0, 10)  # no effect
    assert 10 not in t.intermediate_values


def test_suggest_with_incompatible_distribution_raises() -> None:
    t = _frozen()
    with pytest.raises(ValueError):
        t.suggest_int("x", 0, 2)


def test_set_constraint_records_once() -> None:
    t = _frozen()
    t.set_constraint("c0", 1.5)
    with pytest.warns(UserWarning, match="already set"):
        t.set_constraint("c0", -1.0)
    assert t.constraints == {"c0": 1.5}
    assert t.system_attrs["constraints:c0"] == 1.5
    with pytest.raises(ValueError, match="NaN"):
        t.set_constraint("c1", float("nan"))
    with pytest.raises(TypeError, match="'c2'"):
        t.set_constraint("c2", "high")  # type: ignore[arg-type]


def test_old_constraint_format_is_read() -> None:
    t = _frozen(system_attrs={"constraints": [0.5, -1.0]})
    assert t.constraints == {"0": 0.5, "1": -1.0}


class TestCreateTrial:
    def test_complete_trial(self) -> None:
        t = create_trial(
            params={"x": 1.0, "n": 2},
            distributions={"x": FloatDistribution(0, 2), "n": IntDistribution(0, 5)},
            value=2.0,
            constraints={"c": -1.0},
        )
        assert t.state == TrialState.COMPLETE
        assert t.value == 2.0 and t.number == -1
        assert t.datetime_start is not None and t.datetime_complete == t.datetime_start
        assert t.constraints == {"c": -1.0}

    def test_waiting_trial_has_no_times(self) -> None:
        t = create_trial(state=TrialState.WAITING)
        assert t.datetime_start is None and t.datetime_complete is None

    def test_running_trial_has_start_only(self) -> None:
        t = create_trial(state=TrialState.RUNNING)
        assert t.datetime_start is not None and t.datetime_complete is None

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (dict(), "value"),
            (dict(value=float("nan")), "NaN"),
            (dict(state=TrialState.FAIL, value=1.0), "FAIL"),
            (dict(value=1.0, params={"x": 1.0}), "params"),
            (
                dict(value=1.0, params={"x": 3.0}, distributions={"x": FloatDistribution(0, 2)}),
                "outside",
            ),
        ],
    )
    def test_inconsistent_arguments_raise(self, kwargs: dict, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            create_trial(**kwargs)
