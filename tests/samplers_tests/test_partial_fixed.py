"""PartialFixedSampler: fixed values returned, the rest delegated, the relative space trimmed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
import warnings

import pytest

from skipjack import distributions as sj
from skipjack.exceptions import ExperimentalWarning
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._partial_fixed import PartialFixedSampler
from skipjack.samplers._random import RandomSampler
from skipjack.trial._state import TrialState

X = sj.FloatDistribution(-1.0, 1.0)
Y = sj.IntDistribution(-1, 1)
C = sj.CategoricalDistribution(["a", "b"])


class RecordingSampler(BaseSampler):
    """Answers with fixed markers and records every call."""

    def __init__(self, space: dict[str, sj.BaseDistribution]) -> None:
        self.space = space
        self.calls: list[tuple[Any, ...]] = []

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        self.calls.append(("infer",))
        return self.space

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict:
        self.calls.append(("relative", tuple(search_space)))
        return {name: "relative" for name in search_space}

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        self.calls.append(("independent", name))
        return "independent"

    def before_trial(self, study: Any, trial: Any) -> None:
        self.calls.append(("before", trial))

    def after_trial(
        self, study: Any, trial: Any, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self.calls.append(("after", trial, state, values))

    def reseed_rng(self) -> None:
        self.calls.append(("reseed",))


def make(fixed: dict[str, Any], base: BaseSampler) -> PartialFixedSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return PartialFixedSampler(fixed, base)


def test_construction_warns_experimental_like_optuna() -> None:
    with pytest.warns(ExperimentalWarning, match="PartialFixedSampler"):
        PartialFixedSampler({}, RandomSampler())


def test_constructor_keeps_its_arguments() -> None:
    fixed = {"y": 1}
    base = RandomSampler(seed=3)
    sampler = make(fixed, base)
    assert sampler._fixed_params is fixed
    assert sampler._base_sampler is base
    assert repr(sampler) == "PartialFixedSampler(fixed_params={'y': 1}, base_sampler=" + (
        "RandomSampler(seed=3))"
    )


def test_fixed_params_are_returned_and_others_delegated() -> None:
    base = RecordingSampler({})
    sampler = make({"y": 0, "c": "b"}, base)
    assert sampler.sample_independent(None, None, "y", Y) == 0  # type: ignore[arg-type]
    assert sampler.sample_independent(None, None, "c", C) == "b"  # type: ignore[arg-type]
    assert sampler.sample_independent(None, None, "x", X) == "independent"  # type: ignore[arg-type]
    assert base.calls == [("independent", "x")]


def test_in_range_fixed_value_does_not_warn() -> None:
    sampler = make({"x": 0.5}, RandomSampler())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sampler.sample_independent(None, None, "x", X) == 0.5  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value", "dist"), [("x", 2.0, X), ("y", 5, Y)])
def test_out_of_range_fixed_value_warns_and_is_still_returned(
    name: str, value: Any, dist: sj.BaseDistribution
) -> None:
    sampler = make({name: value}, RandomSampler())
    with pytest.warns(UserWarning, match=f"Fixed parameter '{name}'.*out of range"):
        assert sampler.sample_independent(None, None, name, dist) == value  # type: ignore[arg-type]


def test_unknown_categorical_fixed_value_raises() -> None:
    sampler = make({"c": "z"}, RandomSampler())
    with pytest.raises(ValueError):
        sampler.sample_independent(None, None, "c", C)  # type: ignore[arg-type]


def test_relative_search_space_excludes_fixed_params_without_touching_the_base() -> None:
    base_space: dict[str, sj.BaseDistribution] = {"x": X, "y": Y, "c": C}
    base = RecordingSampler(base_space)
    sampler = make({"y": 1}, base)
    space = sampler.infer_relative_search_space(None, None)  # type: ignore[arg-type]
    assert space == {"x": X, "c": C}
    assert base_space == {"x": X, "y": Y, "c": C}
    assert sampler.sample_relative(None, None, space) == {"x": "relative", "c": "relative"}  # type: ignore[arg-type]
    assert base.calls == [("infer",), ("relative", ("x", "c"))]


def test_hooks_and_reseed_are_forwarded() -> None:
    base = RecordingSampler({})
    sampler = make({}, base)
    trial = object()
    sampler.before_trial(None, trial)  # type: ignore[arg-type]
    sampler.after_trial(None, trial, TrialState.COMPLETE, [1.0])  # type: ignore[arg-type]
    sampler.reseed_rng()
    assert base.calls == [
        ("before", trial),
        ("after", trial, TrialState.COMPLETE, [1.0]),
        ("reseed",),
    ]
    assert str(sampler) == "PartialFixedSampler"


def test_end_to_end_fixed_param_in_every_trial() -> None:
    from skipjack.study import create_study

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1, 1)
        y = trial.suggest_int("y", -1, 1)
        return x**2 + y

    study = create_study(sampler=make({"y": 1}, RandomSampler(seed=0)))
    study.optimize(objective, n_trials=10)
    assert [t.params["y"] for t in study.trials] == [1] * 10
    assert len({t.params["x"] for t in study.trials}) == 10
