from __future__ import annotations

import pytest

from skipjack.trial import FixedTrial


def objective(trial: FixedTrial) -> float:
    x = trial.suggest_float("x", -1.0, 1.0)
    y = trial.suggest_int("y", -5, 5)
    return x + y


def test_faq_recipe_values() -> None:
    # The FAQ's FixedTrial example: x + y with the given parameters.
    assert objective(FixedTrial({"x": 1.0, "y": -1})) == 0.0
    assert objective(FixedTrial({"x": -1.0, "y": -4})) == -5.0


def test_params_lists_only_suggested_and_types_follow_method() -> None:
    t = FixedTrial({"x": 1, "y": 2.0, "unused": "a"}, number=4)
    assert isinstance(t.suggest_float("x", 0, 2), float)
    assert isinstance(t.suggest_int("y", 0, 3), int)
    assert t.params == {"x": 1, "y": 2.0}
    assert set(t.distributions) == {"x", "y"}
    assert t.number == 4


def test_missing_parameter_names_it() -> None:
    with pytest.raises(ValueError, match="'z'"):
        FixedTrial({"x": 1.0}).suggest_float("z", 0, 1)


def test_out_of_range_value_warns() -> None:
    with pytest.warns(UserWarning, match="out of the range"):
        FixedTrial({"x": 5.0}).suggest_float("x", 0, 1)
    with pytest.warns(UserWarning):
        FixedTrial({"c": "z"}).suggest_categorical("c", ["a", "b"])


def test_attrs_report_and_prune() -> None:
    t = FixedTrial({})
    t.set_user_attr("k", [1, 2])
    t.report(0.5, 1)
    assert t.user_attrs == {"k": [1, 2]}
    assert t.should_prune() is False
    t.set_constraint("c", 0.0)
    assert t.constraints == {"c": 0.0}
    assert t.datetime_start is not None


def test_bad_suggest_arguments_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="'lr'"):
        FixedTrial({"lr": 0.1}).suggest_float("lr", 1.0, 0.0)
