"""Tests for skipjack.distributions.

Expected values come from Optuna 5.0's documented behaviour or, where byte-identical output is the
promise, from the real ``optuna`` package run side by side.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
import re
from typing import Any
import warnings

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna.distributions as od
import pytest

from skipjack import distributions as sd
from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution


def _quiet(factory: Any, *args: Any, **kwargs: Any) -> Any:
    """Build something while ignoring the grid-adjustment and deprecation warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Public surface
# ---------------------------------------------------------------------------------------------


def test_every_public_optuna_name_exists() -> None:
    public = [
        name
        for name in dir(od)
        if not name.startswith("_")
        and (
            getattr(getattr(od, name), "__module__", None) == "optuna.distributions"
            or name in ("CategoricalChoiceType", "DISTRIBUTION_CLASSES")
        )
    ]
    # Guard against the filter above silently selecting nothing.
    assert "FloatDistribution" in public and "json_to_distribution" in public
    missing = [name for name in public if not hasattr(sd, name)]
    assert missing == []


def test_private_helpers_used_by_other_modules_exist() -> None:
    assert callable(sd._is_distribution_log)
    assert callable(sd._convert_old_distribution_to_new_distribution)


def test_deprecated_classes_subclass_the_current_ones() -> None:
    for name in ("UniformDistribution", "LogUniformDistribution", "DiscreteUniformDistribution"):
        assert issubclass(getattr(sd, name), FloatDistribution)
    for name in ("IntUniformDistribution", "IntLogUniformDistribution"):
        assert issubclass(getattr(sd, name), IntDistribution)


def test_base_distribution_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseDistribution()  # type: ignore[abstract]


# ---------------------------------------------------------------------------------------------
# Construction: Optuna's validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "kwargs", "pattern"),
    [
        (FloatDistribution, {"low": 1.0, "high": 0.0}, r"low <= high.*low=1\.0.*high=0\.0"),
        (FloatDistribution, {"low": 0.1, "high": 1.0, "log": True, "step": 0.1}, r"log.*step"),
        (FloatDistribution, {"low": 0.0, "high": 1.0, "log": True}, r"low > 0.*low=0\.0"),
        (FloatDistribution, {"low": -1.0, "high": 1.0, "log": True}, r"low > 0.*low=-1\.0"),
        (FloatDistribution, {"low": 0.0, "high": 1.0, "step": 0.0}, r"step > 0.*step=0\.0"),
        (FloatDistribution, {"low": 0.0, "high": 1.0, "step": -0.5}, r"step > 0.*step=-0\.5"),
        (IntDistribution, {"low": 5, "high": 4}, r"low <= high.*low=5.*high=4"),
        (IntDistribution, {"low": 1, "high": 9, "log": True, "step": 2}, r"log.*step=2"),
        (IntDistribution, {"low": 0, "high": 9, "log": True}, r"low >= 1.*low=0"),
        (IntDistribution, {"low": 0, "high": 9, "step": 0}, r"step > 0.*step=0"),
        (IntDistribution, {"low": 0, "high": 9, "step": -3}, r"step > 0.*step=-3"),
    ],
)
def test_optuna_validation_errors(factory: Any, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        factory(**kwargs)
    # The same arguments are rejected by Optuna too.
    with pytest.raises(ValueError):
        getattr(od, factory.__name__)(**kwargs)


def test_empty_choices_rejected() -> None:
    with pytest.raises(ValueError, match="choices"):
        CategoricalDistribution([])
    with pytest.raises(ValueError, match="choices"):
        CategoricalDistribution(())


def test_low_equal_high_is_allowed() -> None:
    assert FloatDistribution(2.5, 2.5).high == 2.5
    assert IntDistribution(3, 3).low == 3
    assert FloatDistribution(1.0, 1.0, log=True).log is True


# ---------------------------------------------------------------------------------------------
# Construction: validation beyond Optuna
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
@pytest.mark.parametrize("attribute", ["low", "high", "step"])
def test_non_finite_float_arguments(bad: float, attribute: str) -> None:
    kwargs: dict[str, Any] = {"low": 0.0, "high": 1.0, "step": 0.5}
    kwargs[attribute] = bad
    with pytest.raises(ValueError, match=rf"`{attribute}`.*finite.*{re.escape(repr(bad))}"):
        FloatDistribution(**kwargs)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("attribute", ["low", "high", "step"])
def test_non_finite_int_arguments(bad: float, attribute: str) -> None:
    kwargs: dict[str, Any] = {"low": 0, "high": 10, "step": 1}
    kwargs[attribute] = bad
    with pytest.raises(ValueError, match=rf"`{attribute}`.*finite.*{re.escape(repr(bad))}"):
        IntDistribution(**kwargs)


@pytest.mark.parametrize(
    ("attribute", "bad"),
    [("low", 1.5), ("high", 9.25), ("step", 1.5), ("low", np.float64(0.5))],
)
def test_non_integer_int_arguments(attribute: str, bad: float) -> None:
    kwargs: dict[str, Any] = {"low": 0, "high": 10, "step": 1}
    kwargs[attribute] = bad
    with pytest.raises(ValueError, match=rf"`{attribute}`.*integer.*{re.escape(repr(bad))}"):
        IntDistribution(**kwargs)


def test_integer_valued_floats_are_accepted_for_int_bounds() -> None:
    dist = IntDistribution(1.0, 10.0, step=3.0)  # type: ignore[arg-type]
    assert (dist.low, dist.high, dist.step) == (1, 10, 3)
    assert all(type(v) is int for v in (dist.low, dist.high, dist.step))


@pytest.mark.parametrize("factory", [FloatDistribution, IntDistribution])
@pytest.mark.parametrize("attribute", ["low", "high", "step"])
@pytest.mark.parametrize("bad", [True, False, np.bool_(True)])
def test_bool_arguments_are_type_errors(factory: Any, attribute: str, bad: Any) -> None:
    kwargs: dict[str, Any] = {"low": 0, "high": 1, "step": 1}
    kwargs[attribute] = bad
    with pytest.raises(TypeError, match=rf"`{attribute}`.*{bad!r}.*bool"):
        factory(**kwargs)


@pytest.mark.parametrize("factory", [FloatDistribution, IntDistribution])
@pytest.mark.parametrize("attribute", ["low", "high", "step"])
@pytest.mark.parametrize("bad", ["1", [1], None])
def test_non_numeric_arguments_are_type_errors(factory: Any, attribute: str, bad: Any) -> None:
    if factory is FloatDistribution and attribute == "step" and bad is None:
        return  # step=None is the continuous case.
    kwargs: dict[str, Any] = {"low": 0, "high": 1, "step": 1}
    kwargs[attribute] = bad
    with pytest.raises(TypeError, match=rf"`{attribute}`.*{re.escape(repr(bad))}"):
        factory(**kwargs)


@pytest.mark.parametrize("factory", [FloatDistribution, IntDistribution])
def test_log_must_be_a_bool(factory: Any) -> None:
    with pytest.raises(TypeError, match=r"`log`.*'yes'"):
        factory(1, 2, log="yes")
    assert factory(1, 2, log=np.bool_(True)).log is True


@pytest.mark.parametrize(
    ("choices", "index", "shown"),
    [
        (["a", [1, 2]], 1, "[1, 2]"),
        ([{"k": 1}], 0, "{'k': 1}"),
        ([1, 2, {3}], 2, "{3}"),
        ([None, (1, 2)], 1, "(1, 2)"),
        ([object], 0, "<class 'object'>"),
        ([b"raw"], 0, "b'raw'"),
        ([1.0, np.array([1.0])], 1, "array([1.])"),
    ],
)
def test_bad_choices_are_type_errors(choices: list[Any], index: int, shown: str) -> None:
    with pytest.raises(TypeError) as info:
        CategoricalDistribution(choices)
    message = str(info.value)
    assert f"index {index}" in message
    assert shown in message
    assert "None, bool, int, float, str" in message


def test_choices_that_are_not_iterable_are_type_errors() -> None:
    with pytest.raises(TypeError, match="choices.*5"):
        CategoricalDistribution(5)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Construction: stored values
# ---------------------------------------------------------------------------------------------


def test_float_attributes_are_floats() -> None:
    dist = FloatDistribution(0, 2, step=1)
    assert (dist.low, dist.high, dist.step, dist.log) == (0.0, 2.0, 1.0, False)
    assert all(type(v) is float for v in (dist.low, dist.high, dist.step))
    assert FloatDistribution(1, 2).step is None


def test_numpy_bounds_are_accepted() -> None:
    dist = FloatDistribution(np.float32(0.5), np.float64(2.0), step=np.int64(1))
    assert (dist.low, dist.high, dist.step) == (0.5, 1.5, 1.0)
    assert all(type(v) is float for v in (dist.low, dist.high, dist.step))
    idist = IntDistribution(np.int64(1), np.int32(8), step=np.int64(2))
    assert (idist.low, idist.high, idist.step) == (1, 7, 2)
    assert all(type(v) is int for v in (idist.low, idist.high, idist.step))


def test_numpy_choices_are_stored_as_python_values() -> None:
    dist = CategoricalDistribution([np.int64(3), np.float64(0.5), np.bool_(True), np.float32(2)])
    assert dist.choices == (3, 0.5, True, 2.0)
    assert [type(c) for c in dist.choices] == [int, float, bool, float]
    json.loads(sd.distribution_to_json(dist))  # serializable


def test_choices_are_stored_as_a_tuple() -> None:
    dist = CategoricalDistribution(["a", None, 1.5, True, 3])
    assert dist.choices == ("a", None, 1.5, True, 3)
    assert isinstance(dist.choices, tuple)


@pytest.mark.parametrize(
    ("low", "high", "step", "expected_high"),
    [
        (0, 1, 0.3, 0.9),
        (0.1, 1.0, 0.2, 0.9),
        (0.0, 1.0, 0.25, 1.0),
        (-1.0, 1.0, 0.75, 0.5),
        (0.0, 0.05, 0.1, 0.0),
        (1e-30, 1.0, 0.5, 1.0),  # Decimal's 28 digits round the range to exactly 1
    ],
)
def test_float_high_is_moved_onto_the_grid(
    low: float, high: float, step: float, expected_high: float
) -> None:
    if expected_high == high:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            dist = FloatDistribution(low, high, step=step)
    else:
        with pytest.warns(UserWarning, match="not divisible by `step`"):
            dist = FloatDistribution(low, high, step=step)
    assert dist.high == expected_high
    assert dist.low == low


@pytest.mark.parametrize(
    ("low", "high", "step", "expected_high"),
    [(0, 10, 3, 9), (1, 10, 3, 10), (-5, 5, 4, 3), (0, 1, 5, 0)],
)
def test_int_high_is_moved_onto_the_grid(
    low: int, high: int, step: int, expected_high: int
) -> None:
    if expected_high == high:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            dist = IntDistribution(low, high, step=step)
    else:
        with pytest.warns(UserWarning, match=r"It will be replaced with \[.*\]"):
            dist = IntDistribution(low, high, step=step)
    assert dist.high == expected_high


def test_float32_bounds_use_their_float_value_on_the_grid() -> None:
    # float32(0.1) is 0.10000000149011612; nine of them are 0.9000000134110451 and ten exceed
    # 1.0. (Optuna uses the float32 spelling "0.1" here and keeps high=1.0, a value that its
    # own _contains then rejects.)
    with pytest.warns(UserWarning, match="not divisible"):
        dist = FloatDistribution(np.float32(0.1), 1.0, step=np.float32(0.1))
    assert dist.low == dist.step == 0.10000000149011612
    assert dist.high == 0.9000000134110451
    assert dist._contains(dist.high)


def test_a_grid_too_fine_for_decimal_keeps_high() -> None:
    # Optuna itself raises decimal.InvalidOperation here.
    dist = FloatDistribution(0.0, 1e30, step=1e-10)
    assert dist.high == 1e30


# ---------------------------------------------------------------------------------------------
# Deprecated classes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("UniformDistribution", (0, 1), FloatDistribution(0.0, 1.0)),
        ("LogUniformDistribution", (0.1, 1), FloatDistribution(0.1, 1.0, log=True)),
        ("DiscreteUniformDistribution", (0, 1, 0.25), FloatDistribution(0.0, 1.0, step=0.25)),
        ("IntUniformDistribution", (0, 10, 2), IntDistribution(0, 10, step=2)),
        ("IntLogUniformDistribution", (1, 10), IntDistribution(1, 10, log=True)),
    ],
)
def test_deprecated_classes(name: str, args: tuple[Any, ...], expected: BaseDistribution) -> None:
    cls = getattr(sd, name)
    with pytest.warns(FutureWarning, match=name):
        old = cls(*args)
    # Different class, so not equal, but the same attributes.
    assert old != expected
    assert old.__dict__ == expected.__dict__
    with pytest.warns(FutureWarning, match="internally converted"):
        converted = sd._convert_old_distribution_to_new_distribution(old)
    assert converted == expected
    assert type(converted) is type(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sd._convert_old_distribution_to_new_distribution(old, suppress_warning=True) == (
            expected
        )


def test_discrete_uniform_q_is_step() -> None:
    dist = _quiet(sd.DiscreteUniformDistribution, 0.0, 1.0, 0.25)
    assert dist.q == 0.25 == dist.step
    dist.q = 0.5
    assert dist.step == 0.5


def test_int_log_uniform_rejects_step() -> None:
    with pytest.raises(ValueError, match="step"):
        _quiet(sd.IntLogUniformDistribution, 1, 10, step=2)


@pytest.mark.parametrize(
    "dist",
    [FloatDistribution(0, 1), IntDistribution(0, 3), CategoricalDistribution(["x", "y"])],
)
def test_converting_a_current_distribution_returns_it_silently(dist: BaseDistribution) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sd._convert_old_distribution_to_new_distribution(dist) is dist


def test_is_distribution_log() -> None:
    assert sd._is_distribution_log(FloatDistribution(0.1, 1, log=True)) is True
    assert sd._is_distribution_log(FloatDistribution(0.1, 1)) is False
    assert sd._is_distribution_log(IntDistribution(1, 8, log=True)) is True
    assert sd._is_distribution_log(IntDistribution(1, 8)) is False
    assert sd._is_distribution_log(CategoricalDistribution([1, 2])) is False
    assert sd._is_distribution_log(_quiet(sd.LogUniformDistribution, 0.1, 1)) is True
    assert sd._is_distribution_log(_quiet(sd.IntLogUniformDistribution, 1, 4)) is True


# ---------------------------------------------------------------------------------------------
# Internal and external representations
# ---------------------------------------------------------------------------------------------


def test_float_repr_conversion() -> None:
    dist = FloatDistribution(0.0, 1.0)
    assert dist.to_internal_repr(0.25) == 0.25
    assert dist.to_internal_repr(1) == 1.0 and type(dist.to_internal_repr(1)) is float
    assert dist.to_external_repr(0.25) == 0.25


def test_int_repr_conversion() -> None:
    dist = IntDistribution(0, 10)
    internal = dist.to_internal_repr(3)
    assert internal == 3.0 and type(internal) is float
    assert dist.to_external_repr(3.0) == 3 and type(dist.to_external_repr(3.0)) is int
    assert dist.to_external_repr(2.9) == 2  # truncation, as int() does
    assert dist.to_external_repr(-2.9) == -2


@pytest.mark.parametrize("dist", [FloatDistribution(0.0, 1.0), IntDistribution(0, 10)])
def test_numeric_internal_repr_rejects(dist: BaseDistribution) -> None:
    with pytest.raises(ValueError, match="'abc'"):
        dist.to_internal_repr("abc")
    with pytest.raises(ValueError, match=r"\[1\]"):
        dist.to_internal_repr([1])
    with pytest.raises(ValueError, match="nan"):
        dist.to_internal_repr(math.nan)


@pytest.mark.parametrize(
    "dist", [FloatDistribution(0.5, 1.0, log=True), IntDistribution(1, 10, log=True)]
)
def test_log_internal_repr_rejects_non_positive(dist: BaseDistribution) -> None:
    with pytest.raises(ValueError, match="-1"):
        dist.to_internal_repr(-1)
    with pytest.raises(ValueError, match="0"):
        dist.to_internal_repr(0)


def test_categorical_repr_conversion() -> None:
    dist = CategoricalDistribution(["a", None, 1.5, True, "b"])
    assert [dist.to_internal_repr(c) for c in ("a", None, 1.5, True, "b")] == [0, 1, 2, 3, 4]
    assert [dist.to_external_repr(float(i)) for i in range(5)] == ["a", None, 1.5, True, "b"]
    assert dist.to_external_repr(4.0) == "b"


def test_categorical_index_is_first_equal_choice() -> None:
    # Documented consequence of list.index: 1 == True == 1.0.
    dist = CategoricalDistribution([True, 1, 1.0])
    assert dist.to_internal_repr(1) == 0
    assert dist.to_internal_repr(1.0) == 0


def test_categorical_nan_choice() -> None:
    dist = CategoricalDistribution(["x", float("nan"), 2.0])
    assert dist.to_internal_repr(float("nan")) == 1  # a different NaN object
    assert dist.to_internal_repr(np.float32("nan")) == 1
    assert math.isnan(dist.to_external_repr(1.0))


def test_categorical_unknown_value() -> None:
    dist = CategoricalDistribution(["x", "y"])
    with pytest.raises(ValueError) as info:
        dist.to_internal_repr("z")
    assert "'z'" in str(info.value) and "('x', 'y')" in str(info.value)
    with pytest.raises(ValueError, match="nan"):
        dist.to_internal_repr(float("nan"))


def test_categorical_internal_repr_matches_optuna_journal_form() -> None:
    # Optuna hands list.index's int to the journal, which writes a JSON integer.
    dist = CategoricalDistribution(["x", "y"])
    assert json.dumps(dist.to_internal_repr("y")) == json.dumps(
        od.CategoricalDistribution(["x", "y"]).to_internal_repr("y")
    )


# ---------------------------------------------------------------------------------------------
# _contains and single
# ---------------------------------------------------------------------------------------------


def test_float_contains() -> None:
    dist = FloatDistribution(-1.0, 1.0)
    assert dist._contains(-1.0) and dist._contains(1.0) and dist._contains(0.3)
    assert not dist._contains(1.0000001) and not dist._contains(-1.5)
    assert not dist._contains(math.nan)


def test_float_contains_with_step() -> None:
    dist = FloatDistribution(0.0, 1.0, step=0.1)
    assert dist._contains(0.0) and dist._contains(1.0)
    assert dist._contains(0.1 + 0.2)  # 0.30000000000000004 is on the grid up to rounding
    assert dist._contains(0.7)
    assert not dist._contains(0.35)
    assert not dist._contains(0.3 + 1e-6)
    # Optuna's tolerance is 1e-8 steps: 5e-9 steps off is on the grid, 1e-7 steps off is not.
    assert dist._contains(0.3 + 5e-10)
    assert not dist._contains(0.3 + 1e-8)
    assert not dist._contains(1.1)


def test_float_contains_with_a_grid_finer_than_float_resolution() -> None:
    # (131072.001 - 131072) / 0.001 is 0.99999999 (off by 1.1e-8 steps): Optuna says False.
    dist = FloatDistribution(131072.0, 131073.0, step=0.001)
    assert dist._contains(131072.0 + 0.001)
    assert dist._contains(131072.0 + 999 * 0.001)
    assert not dist._contains(131072.0005)
    assert not dist._contains(131072.0 + 0.001 + 1e-7)


def test_int_contains() -> None:
    dist = IntDistribution(1, 9, step=2)
    assert [v for v in range(-1, 12) if dist._contains(float(v))] == [1, 3, 5, 7, 9]
    assert not dist._contains(3.5)
    assert not dist._contains(math.nan)
    assert not dist._contains(math.inf)


def test_categorical_contains() -> None:
    dist = CategoricalDistribution(["a", "b", "c"])
    assert [dist._contains(float(i)) for i in range(-1, 4)] == [False, True, True, True, False]
    assert not dist._contains(math.nan)
    assert not dist._contains(math.inf)


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (FloatDistribution(1.0, 1.0), True),
        (FloatDistribution(1.0, 1.5), False),
        (FloatDistribution(0.5, 0.5, log=True), True),
        (FloatDistribution(0.0, 1.0, step=0.5), False),
        (FloatDistribution(0.0, 0.5, step=0.5), False),
        (IntDistribution(4, 4), True),
        (IntDistribution(4, 5), False),
        (IntDistribution(1, 1, log=True), True),
        (IntDistribution(1, 2, log=True), False),
        (_quiet(IntDistribution, 0, 2, step=3), True),  # high moves down to 0
        (CategoricalDistribution(["only"]), True),
        (CategoricalDistribution(["a", "b"]), False),
    ],
)
def test_single(dist: BaseDistribution, expected: bool) -> None:
    assert dist.single() is expected


def test_single_with_grid_finer_than_range() -> None:
    with pytest.warns(UserWarning):
        dist = FloatDistribution(0.0, 0.05, step=0.1)
    assert dist.single() is True
    assert sd._get_single_value(dist) == 0.0


def test_single_float_with_step_after_mutation() -> None:
    # A range narrower than the step holds only ``low`` even if ``high`` is off the grid.
    dist = FloatDistribution(0.0, 1.0, step=0.3)
    dist.high = 0.2
    assert dist.single() is True
    dist.high = 0.3
    assert dist.single() is False


# ---------------------------------------------------------------------------------------------
# Equality, hashing, repr, pickling
# ---------------------------------------------------------------------------------------------


def test_equality_and_hash() -> None:
    assert FloatDistribution(0, 1) == FloatDistribution(0.0, 1.0)
    assert hash(FloatDistribution(0, 1)) == hash(FloatDistribution(0.0, 1.0))
    assert FloatDistribution(0, 1) != FloatDistribution(0, 1, log=False, step=0.5)
    assert FloatDistribution(0.1, 1) != FloatDistribution(0.1, 1, log=True)
    assert IntDistribution(0, 1) != FloatDistribution(0, 1)
    assert IntDistribution(0, 6, step=2) == IntDistribution(0, 7, step=2)  # high adjusted
    assert CategoricalDistribution(["a", "b"]) == CategoricalDistribution(("a", "b"))
    assert CategoricalDistribution(["a", "b"]) != CategoricalDistribution(["b", "a"])
    assert CategoricalDistribution(["a"]) != CategoricalDistribution(["a", "b"])
    assert FloatDistribution(0, 1) != "FloatDistribution"
    assert len({FloatDistribution(0, 1), FloatDistribution(0, 1), IntDistribution(0, 1)}) == 2


def test_categorical_nan_equality_and_hash() -> None:
    a = CategoricalDistribution([1.0, float("nan")])
    b = CategoricalDistribution([1.0, float("nan")])
    assert a == b
    assert hash(a) == hash(b)
    assert a != CategoricalDistribution([1.0, 2.0])


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (FloatDistribution(0, 1), "FloatDistribution(high=1.0, log=False, low=0.0, step=None)"),
        (
            FloatDistribution(0, 1, step=0.25),
            "FloatDistribution(high=1.0, log=False, low=0.0, step=0.25)",
        ),
        (IntDistribution(1, 9, log=True), "IntDistribution(high=9, log=True, low=1, step=1)"),
        (
            CategoricalDistribution(["a", None, 2]),
            "CategoricalDistribution(choices=('a', None, 2))",
        ),
    ],
)
def test_repr(dist: BaseDistribution, expected: str) -> None:
    assert repr(dist) == expected


def test_repr_of_deprecated_classes() -> None:
    assert repr(_quiet(sd.UniformDistribution, 0, 1)) == "UniformDistribution(high=1.0, low=0.0)"
    assert repr(_quiet(sd.DiscreteUniformDistribution, 0, 1, 0.5)) == (
        "DiscreteUniformDistribution(high=1.0, low=0.0, q=0.5)"
    )
    assert repr(_quiet(sd.IntLogUniformDistribution, 1, 4)) == (
        "IntLogUniformDistribution(high=4, low=1, step=1)"
    )


@pytest.mark.parametrize(
    "factory",
    [
        lambda: FloatDistribution(0.001, 1, log=True),
        lambda: FloatDistribution(0, 1, step=0.25),
        lambda: IntDistribution(0, 10, step=2),
        lambda: CategoricalDistribution(["a", None, 1.5, True, float("nan")]),
        lambda: _quiet(sd.DiscreteUniformDistribution, 0, 1, 0.5),
        lambda: _quiet(sd.IntLogUniformDistribution, 1, 16),
    ],
)
def test_pickle_and_deepcopy(factory: Any) -> None:
    dist = factory()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # restoring must not re-run deprecated constructors
        restored = pickle.loads(pickle.dumps(dist))
        copied = copy.deepcopy(dist)
    for other in (restored, copied):
        assert other == dist and type(other) is type(dist)
        assert other is not dist
        assert hash(other) == hash(dist)
        assert repr(other) == repr(dist)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def test_json_examples_from_formats_document() -> None:
    assert sd.distribution_to_json(FloatDistribution(0.001, 1.0, log=True)) == (
        '{"name": "FloatDistribution", "attributes": '
        '{"step": null, "low": 0.001, "high": 1.0, "log": true}}'
    )
    assert sd.distribution_to_json(IntDistribution(0, 10, step=2)) == (
        '{"name": "IntDistribution", "attributes": {"log": false, "step": 2, "low": 0, "high": 10}}'
    )
    assert sd.distribution_to_json(CategoricalDistribution(["a", None, 1.5, True])) == (
        '{"name": "CategoricalDistribution", "attributes": {"choices": ["a", null, 1.5, true]}}'
    )


# (class name, positional args, keyword args) built identically in both libraries.
JSON_CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("FloatDistribution", (0.001, 1.0), {"log": True}),
    ("FloatDistribution", (0, 1), {}),
    ("FloatDistribution", (-3, 7.5), {"step": 0.5}),
    ("FloatDistribution", (0, 1), {"step": 0.3}),
    ("FloatDistribution", (0.1, 1.0), {"step": 0.2}),
    ("FloatDistribution", (1e-8, 1e8), {"log": True}),
    ("FloatDistribution", (2.5, 2.5), {}),
    ("FloatDistribution", (np.float64(0.1), np.float64(1.0)), {"step": np.float64(0.3)}),
    ("IntDistribution", (0, 10), {"step": 2}),
    ("IntDistribution", (0, 10), {"step": 3}),
    ("IntDistribution", (1, 1024), {"log": True}),
    ("IntDistribution", (-100, 100), {}),
    ("IntDistribution", (np.int64(2), np.int64(9)), {"step": np.int64(2)}),
    ("CategoricalDistribution", (["a", None, 1.5, True],), {}),
    ("CategoricalDistribution", ((1, 2, 3),), {}),
    ("CategoricalDistribution", (["only"],), {}),
    ("CategoricalDistribution", ([-0.0, 1e300, "é", False],), {}),
    ("CategoricalDistribution", ([float("nan"), 1.0],), {}),
    ("UniformDistribution", (0, 1), {}),
    ("LogUniformDistribution", (0.01, 1), {}),
    ("DiscreteUniformDistribution", (0, 1, 0.3), {}),
    ("IntUniformDistribution", (0, 10, 3), {}),
    ("IntLogUniformDistribution", (1, 10), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), JSON_CASES)
def test_json_is_byte_identical_to_optuna(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    ours = _quiet(getattr(sd, name), *args, **kwargs)
    theirs = _quiet(getattr(od, name), *args, **kwargs)
    assert sd.distribution_to_json(ours) == od.distribution_to_json(theirs)
    assert repr(ours) == repr(theirs)
    assert ours.single() == theirs.single()


@pytest.mark.parametrize(("name", "args", "kwargs"), JSON_CASES)
def test_json_round_trip(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    dist = _quiet(getattr(sd, name), *args, **kwargs)
    text = sd.distribution_to_json(dist)
    restored = _quiet(sd.json_to_distribution, text)
    assert restored == dist
    assert type(restored) is type(dist)
    assert sd.distribution_to_json(restored) == text
    # Optuna reads what we write into the same distribution.
    theirs = _quiet(od.json_to_distribution, text)
    assert type(theirs).__name__ == name
    assert od.distribution_to_json(theirs) == text


def test_reading_keeps_a_stored_high_that_is_on_the_grid() -> None:
    # Optuna builds FloatDistribution(0, 2.0, step=0.0010000000000000002) with
    # high=1.9990000000000003, then reads that JSON back as high=1.9980000000000004, dropping
    # the top grid point. We keep what was stored.
    theirs = _quiet(od.FloatDistribution, 0.0, 2.0, step=0.0010000000000000002)
    text = od.distribution_to_json(theirs)
    assert theirs.high == 1.9990000000000003
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist = sd.json_to_distribution(text)
    assert isinstance(dist, FloatDistribution)
    assert dist.high == 1.9990000000000003
    assert sd.distribution_to_json(dist) == text
    assert dist._contains(1.9990000000000003)


def test_reading_still_adjusts_a_stored_high_off_the_grid() -> None:
    text = (
        '{"name": "FloatDistribution", "attributes": '
        '{"step": 0.3, "low": 0.0, "high": 1.0, "log": false}}'
    )
    with pytest.warns(UserWarning, match="not divisible"):
        dist = sd.json_to_distribution(text)
    assert isinstance(dist, FloatDistribution) and dist.high == 0.9
    with pytest.raises(ValueError, match="low <= high"):
        sd.json_to_distribution(text.replace('"low": 0.0', '"low": 2.0'))
    with pytest.raises(TypeError, match="`high`"):
        sd.json_to_distribution(text.replace('"high": 1.0', '"high": "1.0"'))


def test_converting_discrete_uniform_keeps_its_high() -> None:
    old = _quiet(sd.DiscreteUniformDistribution, 0.0, 2.0, 0.0010000000000000002)
    assert old.high == 1.9990000000000003
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = sd._convert_old_distribution_to_new_distribution(old, suppress_warning=True)
    assert type(new) is FloatDistribution
    assert (new.low, new.high, new.step, new.log) == (
        0.0,
        1.9990000000000003,
        0.0010000000000000002,
        False,
    )


def test_categorical_choices_from_json_are_a_tuple() -> None:
    dist = sd.json_to_distribution(
        '{"name": "CategoricalDistribution", "attributes": {"choices": ["a", 1, null]}}'
    )
    assert isinstance(dist, CategoricalDistribution)
    assert dist.choices == ("a", 1, None) and isinstance(dist.choices, tuple)


@pytest.mark.parametrize(
    ("text", "cls_name", "attributes"),
    [
        (
            '{"name": "UniformDistribution", "attributes": {"low": 0, "high": 2}}',
            "UniformDistribution",
            {"low": 0.0, "high": 2.0, "log": False, "step": None},
        ),
        (
            '{"name": "LogUniformDistribution", "attributes": {"low": 0.5, "high": 2.0}}',
            "LogUniformDistribution",
            {"low": 0.5, "high": 2.0, "log": True, "step": None},
        ),
        (
            '{"name": "DiscreteUniformDistribution", "attributes": '
            '{"low": 0.0, "high": 1.0, "q": 0.3}}',
            "DiscreteUniformDistribution",
            {"low": 0.0, "high": 0.9, "log": False, "step": 0.3},
        ),
        (
            '{"name": "IntUniformDistribution", "attributes": {"low": 0, "high": 10, "step": 2}}',
            "IntUniformDistribution",
            {"low": 0, "high": 10, "log": False, "step": 2},
        ),
        (
            '{"name": "IntLogUniformDistribution", "attributes": '
            '{"low": 1, "high": 64, "step": 1}}',
            "IntLogUniformDistribution",
            {"low": 1, "high": 64, "log": True, "step": 1},
        ),
    ],
)
def test_reading_deprecated_names(text: str, cls_name: str, attributes: dict[str, Any]) -> None:
    with pytest.warns(FutureWarning, match=cls_name):
        dist = sd.json_to_distribution(text)
    # Optuna 5 returns an instance of the deprecated class itself.
    assert type(_quiet(od.json_to_distribution, text)).__name__ == cls_name
    assert type(dist).__name__ == cls_name
    assert {k: getattr(dist, k) for k in attributes} == attributes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "float", "low": 0, "high": 1}', FloatDistribution(0.0, 1.0)),
        (
            '{"type": "float", "low": 0.01, "high": 1, "log": true}',
            FloatDistribution(0.01, 1.0, log=True),
        ),
        (
            '{"type": "float", "low": 0, "high": 1, "step": 0.25}',
            FloatDistribution(0.0, 1.0, step=0.25),
        ),
        ('{"type": "int", "low": 0, "high": 5}', IntDistribution(0, 5)),
        ('{"type": "int", "low": 0, "high": 6, "step": null}', IntDistribution(0, 6)),
        ('{"type": "int", "low": 0, "high": 6, "step": 3}', IntDistribution(0, 6, step=3)),
        (
            '{"type": "int", "low": 1, "high": 6, "log": true}',
            IntDistribution(1, 6, log=True),
        ),
        (
            '{"type": "categorical", "choices": ["a", 1, null]}',
            CategoricalDistribution(["a", 1, None]),
        ),
    ],
)
def test_reading_abbreviated_form(text: str, expected: BaseDistribution) -> None:
    dist = sd.json_to_distribution(text)
    assert dist == expected and type(dist) is type(expected)
    if isinstance(dist, CategoricalDistribution):
        assert isinstance(dist.choices, tuple)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('{"name": "NormalDistribution", "attributes": {}}', "NormalDistribution"),
        ('{"type": "normal", "low": 0, "high": 1}', "normal"),
        ('{"low": 0, "high": 1}', "name.*type"),
        ("[1, 2]", "object"),
    ],
)
def test_reading_unknown_forms(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        sd.json_to_distribution(text)


def test_reading_json_applies_our_validation() -> None:
    with pytest.raises(TypeError, match="index 0"):
        sd.json_to_distribution(
            '{"name": "CategoricalDistribution", "attributes": {"choices": [[1, 2]]}}'
        )
    with pytest.raises(ValueError, match="low <= high"):
        sd.json_to_distribution('{"type": "float", "low": 2, "high": 1}')


# ---------------------------------------------------------------------------------------------
# Compatibility
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (FloatDistribution(0, 1), FloatDistribution(-5, 5, step=0.5)),
        (FloatDistribution(0.1, 1, log=True), FloatDistribution(0.5, 2, log=True)),
        (IntDistribution(0, 1), IntDistribution(-5, 5, step=5)),
        (IntDistribution(1, 2, log=True), IntDistribution(3, 9, log=True)),
        (CategoricalDistribution(["a", "b"]), CategoricalDistribution(("a", "b"))),
        (CategoricalDistribution([math.nan]), CategoricalDistribution([float("nan")])),
    ],
)
def test_compatible(old: BaseDistribution, new: BaseDistribution) -> None:
    sd.check_distribution_compatibility(old, new)


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        (FloatDistribution(0, 1), IntDistribution(0, 1), "different distribution kind"),
        (IntDistribution(0, 1), CategoricalDistribution([0, 1]), "different distribution kind"),
        (
            FloatDistribution(0, 1),
            _quiet(sd.UniformDistribution, 0, 1),
            "different distribution kind",
        ),
        (
            FloatDistribution(0.1, 1),
            FloatDistribution(0.1, 1, log=True),
            "different log configuration",
        ),
        (IntDistribution(1, 4, log=True), IntDistribution(1, 4), "different log configuration"),
        (
            CategoricalDistribution(["a", "b"]),
            CategoricalDistribution(["a", "c"]),
            "dynamic value space",
        ),
        (
            CategoricalDistribution(["a", "b"]),
            CategoricalDistribution(["b", "a"]),
            "dynamic value space",
        ),
    ],
)
def test_incompatible(old: BaseDistribution, new: BaseDistribution, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        sd.check_distribution_compatibility(old, new)


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------------------------

_steps = st.one_of(
    st.integers(1, 500).map(lambda i: i / 100),  # "human" decimal steps such as 0.05
    st.floats(1e-3, 1e3),
)


@st.composite
def float_distributions(draw: st.DrawFn) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if draw(st.booleans()):
        low = draw(st.floats(1e-6, 1e6))
        high = low * draw(st.floats(1.0, 1e3))
        return (low, high), {"log": True}
    low = draw(st.one_of(st.integers(-1000, 1000).map(lambda i: i / 10), st.floats(-1e6, 1e6)))
    high = low + draw(st.floats(0.0, 1e4))
    step = draw(st.one_of(st.none(), _steps))
    return (low, high), {"step": step}


@st.composite
def int_distributions(draw: st.DrawFn) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if draw(st.booleans()):
        low = draw(st.integers(1, 10**6))
        return (low, low + draw(st.integers(0, 10**6))), {"log": True}
    low = draw(st.integers(-(10**6), 10**6))
    high = low + draw(st.integers(0, 10**4))
    return (low, high), {"step": draw(st.integers(1, 100))}


_choice_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(spec=float_distributions(), data=st.data())
def test_float_round_trip_and_agreement_with_optuna(
    spec: tuple[tuple[Any, ...], dict[str, Any]], data: st.DataObject
) -> None:
    args, kwargs = spec
    dist = _quiet(FloatDistribution, *args, **kwargs)
    theirs = _quiet(od.FloatDistribution, *args, **kwargs)
    assert sd.distribution_to_json(dist) == od.distribution_to_json(theirs)
    assert dist.single() == theirs.single()
    assert dist.low <= dist.high <= args[1]

    if dist.step is None:
        value = data.draw(st.floats(dist.low, dist.high))
    else:
        n_max = math.floor((dist.high - dist.low) / dist.step + 1e-9)
        k = data.draw(st.integers(0, n_max))
        # Samplers build grid values this way and clip them into the range.
        value = min(max(dist.low + k * dist.step, dist.low), dist.high)
    internal = dist.to_internal_repr(value)
    assert dist._contains(internal)
    assert dist.to_external_repr(internal) == value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sd.json_to_distribution(sd.distribution_to_json(dist)) == dist


@settings(max_examples=300, deadline=None)
@given(spec=int_distributions(), data=st.data())
def test_int_round_trip_and_agreement_with_optuna(
    spec: tuple[tuple[Any, ...], dict[str, Any]], data: st.DataObject
) -> None:
    args, kwargs = spec
    dist = _quiet(IntDistribution, *args, **kwargs)
    theirs = _quiet(od.IntDistribution, *args, **kwargs)
    assert sd.distribution_to_json(dist) == od.distribution_to_json(theirs)
    assert dist.single() == theirs.single()
    assert (dist.high - dist.low) % dist.step == 0

    value = dist.low + dist.step * data.draw(st.integers(0, (dist.high - dist.low) // dist.step))
    internal = dist.to_internal_repr(value)
    assert type(internal) is float
    assert dist._contains(internal)
    external = dist.to_external_repr(internal)
    assert external == value and type(external) is int
    assert not dist._contains(internal + 0.5)
    assert not dist._contains(float(dist.high + dist.step))
    assert sd.json_to_distribution(sd.distribution_to_json(dist)) == dist


@settings(max_examples=300, deadline=None)
@given(choices=st.lists(_choice_values, min_size=1, max_size=8), data=st.data())
def test_categorical_round_trip_and_agreement_with_optuna(
    choices: list[Any], data: st.DataObject
) -> None:
    dist = CategoricalDistribution(choices)
    theirs = od.CategoricalDistribution(choices)
    text = sd.distribution_to_json(dist)
    assert text == od.distribution_to_json(theirs)

    value = data.draw(st.sampled_from(choices))
    internal = dist.to_internal_repr(value)
    assert internal == theirs.to_internal_repr(value)
    assert dist._contains(internal)
    external = dist.to_external_repr(internal)
    assert external == value or (math.isnan(external) and math.isnan(value))

    restored = sd.json_to_distribution(text)
    assert restored == dist and hash(restored) == hash(dist)
    assert isinstance(restored, CategoricalDistribution)
    assert isinstance(restored.choices, tuple)
