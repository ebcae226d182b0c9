"""BaseSampler: the abstract contract, its default hooks and helpers, and duck typing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from skipjack import distributions as sj
from skipjack.samplers._base import _INDEPENDENT_SAMPLING_WARNING_TEMPLATE
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _process_constraints_after_trial
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState


class Minimal(BaseSampler):
    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict:
        return {}

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        return 0.0


class FakeStudy:
    def __init__(self, n_objectives: int = 1) -> None:
        self.directions = [StudyDirection.MINIMIZE] * n_objectives
        self._storage = FakeStorage()


class FakeStorage:
    def __init__(self) -> None:
        self.system_attrs: dict[tuple[int, str], Any] = {}

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self.system_attrs[(trial_id, key)] = value


@pytest.mark.parametrize(
    "missing", ["infer_relative_search_space", "sample_relative", "sample_independent"]
)
def test_each_sampling_method_is_abstract(missing: str) -> None:
    namespace = {k: v for k, v in vars(Minimal).items() if k != missing}
    incomplete = type("Incomplete", (BaseSampler,), namespace)
    with pytest.raises(TypeError, match=missing):
        incomplete()
    with pytest.raises(TypeError):
        BaseSampler()  # type: ignore[abstract]


def test_optional_hooks_do_nothing_and_str_is_the_class_name() -> None:
    sampler = Minimal()
    trial = create_trial(value=1.0)
    assert sampler.before_trial(None, trial) is None  # type: ignore[arg-type, func-returns-value]
    assert sampler.after_trial(None, trial, TrialState.COMPLETE, [1.0]) is None  # type: ignore[arg-type, func-returns-value]
    assert sampler.reseed_rng() is None  # type: ignore[func-returns-value]
    assert str(sampler) == "Minimal"


def test_raise_error_if_multi_objective() -> None:
    Minimal()._raise_error_if_multi_objective(FakeStudy(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Minimal"):
        Minimal()._raise_error_if_multi_objective(FakeStudy(2))  # type: ignore[arg-type]


def test_independent_sampling_warning_template_placeholders() -> None:
    text = _INDEPENDENT_SAMPLING_WARNING_TEMPLATE.format(
        param_name="lr",
        trial_number=3,
        independent_sampler_name="RandomSampler",
        sampler_name="TPESampler",
        fallback_reason="dynamic search space is not supported",
    )
    for part in ("`lr`", "Trial#3", "RandomSampler", "TPESampler", "dynamic search space"):
        assert part in text


class TestProcessConstraintsAfterTrial:
    def trial(self) -> Any:
        trial = create_trial(value=1.0)
        trial._trial_id = 7
        return trial

    @pytest.mark.parametrize("state", [TrialState.COMPLETE, TrialState.PRUNED])
    def test_stores_the_values_in_optunas_key(self, state: TrialState) -> None:
        study = FakeStudy()
        _process_constraints_after_trial(lambda t: [0.5, -1.0], study, self.trial(), state)  # type: ignore[arg-type]
        assert study._storage.system_attrs == {(7, "constraints"): (0.5, -1.0)}

    def test_failed_trials_are_skipped(self) -> None:
        study = FakeStudy()
        _process_constraints_after_trial(lambda t: [1.0], study, self.trial(), TrialState.FAIL)  # type: ignore[arg-type]
        assert study._storage.system_attrs == {}

    def test_nan_raises_and_stores_none(self) -> None:
        study = FakeStudy()
        with pytest.raises(ValueError, match="NaN"):
            _process_constraints_after_trial(
                lambda t: [float("nan")],
                study,  # type: ignore[arg-type]
                self.trial(),
                TrialState.COMPLETE,
            )
        assert study._storage.system_attrs == {(7, "constraints"): None}

    def test_non_sequence_warns(self) -> None:
        study = FakeStudy()
        with pytest.warns(UserWarning, match="sequence"):
            _process_constraints_after_trial(
                lambda t: np.array([1.0]),  # type: ignore[arg-type, return-value]
                study,  # type: ignore[arg-type]
                self.trial(),
                TrialState.COMPLETE,
            )
        assert study._storage.system_attrs == {(7, "constraints"): (1.0,)}


# ---------------------------------------------------------------------------------------------
# Duck typing: the framework only calls the contract's methods (needs skipjack's create_study)
# ---------------------------------------------------------------------------------------------


class DuckSampler:
    """Not a BaseSampler: only the methods of the contract."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def before_trial(self, study: Any, trial: Any) -> None:
        self.calls.append("before")

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        self.calls.append("infer")
        return {"x": sj.FloatDistribution(0.0, 1.0)}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict:
        self.calls.append("relative")
        return {"x": 0.25}

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        self.calls.append(f"independent:{name}")
        return 3

    def after_trial(self, study: Any, trial: Any, state: TrialState, values: Any) -> None:
        self.calls.append(f"after:{state.name}:{values}")

    def reseed_rng(self) -> None:
        self.calls.append("reseed")


def test_a_duck_typed_sampler_plugs_into_a_study() -> None:
    from skipjack.study import create_study

    sampler = DuckSampler()
    study = create_study(sampler=sampler)  # type: ignore[arg-type]
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0) + t.suggest_int("n", 0, 5), n_trials=1)
    assert study.trials[0].params == {"x": 0.25, "n": 3}
    expected = ["before", "infer", "relative", "independent:n", "after:COMPLETE:[3.25]"]
    assert sampler.calls == expected
