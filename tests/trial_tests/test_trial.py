from __future__ import annotations

import math
from typing import Any

import pytest

import skipjack
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers import RandomSampler
from skipjack.trial import TrialState


def _study(**kwargs: Any) -> skipjack.Study:
    return skipjack.create_study(sampler=RandomSampler(seed=0), **kwargs)


def test_suggestions_respect_bounds_types_and_are_stored() -> None:
    study = _study()
    trial = study.ask()
    x = trial.suggest_float("x", -1.0, 1.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    m = trial.suggest_float("m", 0.0, 0.99, step=0.01)
    n = trial.suggest_int("n", 1, 9, step=2)
    k = trial.suggest_int("k", 1, 1000, log=True)
    c = trial.suggest_categorical("c", ["Adam", "SGD", None])
    assert isinstance(x, float) and -1.0 <= x <= 1.0
    assert 1e-5 <= lr <= 1e-1
    assert abs(m / 0.01 - round(m / 0.01)) < 1e-6 and 0.0 <= m <= 0.99
    assert isinstance(n, int) and n in (1, 3, 5, 7, 9)
    assert isinstance(k, int) and 1 <= k <= 1000
    assert c in ("Adam", "SGD", None)
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.params == trial.params == {"x": x, "lr": lr, "m": m, "n": n, "k": k, "c": c}
    assert stored.distributions["n"] == IntDistribution(1, 9, step=2)


def test_same_name_returns_first_value() -> None:
    trial = _study().ask()
    first = trial.suggest_float("x", 0, 1)
    assert all(trial.suggest_float("x", 0, 1) == first for _ in range(5))


def test_different_kind_for_name_in_same_trial_raises() -> None:
    trial = _study().ask()
    trial.suggest_float("x", 0, 1)
    with pytest.raises(ValueError):
        trial.suggest_categorical("x", ["a", "b"])


def test_different_kind_for_name_used_earlier_in_study_raises() -> None:
    study = _study()
    t0 = study.ask()
    t0.suggest_float("x", 0, 1)
    study.tell(t0, 0.0)
    t1 = study.ask()
    with pytest.raises(ValueError):
        t1.suggest_int("x", 0, 10)


def test_single_valued_distribution_needs_no_sampler() -> None:
    trial = _study().ask()
    assert trial.suggest_float("x", 2.5, 2.5) == 2.5
    assert trial.suggest_int("n", 4, 4) == 4
    assert trial.suggest_categorical("c", ["only"]) == "only"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda t: t.suggest_float("lr", 1.0, 0.1), "'lr'"),
        (lambda t: t.suggest_float("lr", 0.0, 1.0, log=True), "'lr'"),
        (lambda t: t.suggest_float("lr", 0.1, 1.0, log=True, step=0.1), "'lr'"),
        (lambda t: t.suggest_float("lr", float("nan"), 1.0), "'lr'"),
        (lambda t: t.suggest_int("n", 5, 1), "'n'"),
        (lambda t: t.suggest_int("n", 1, 5, step=0), "'n'"),
        (lambda t: t.suggest_categorical("c", []), "'c'"),
    ],
)
def test_bad_suggest_arguments_raise_naming_the_parameter(call: Any, match: str) -> None:
    trial = _study().ask()
    with pytest.raises((ValueError, TypeError), match=match):
        call(trial)
    assert trial.params == {}


def test_unhashable_categorical_choice_is_refused() -> None:
    trial = _study().ask()
    with pytest.raises(TypeError, match="'c'"):
        trial.suggest_categorical("c", [[1, 2], [3]])  # type: ignore[list-item]


def test_deprecated_suggest_methods_warn_and_work() -> None:
    trial = _study().ask()
    with pytest.warns(FutureWarning):
        assert 0 <= trial.suggest_uniform("a", 0, 1) <= 1
    with pytest.warns(FutureWarning):
        assert 1 <= trial.suggest_loguniform("b", 1, 10) <= 10
    with pytest.warns(FutureWarning):
        v = trial.suggest_discrete_uniform("c", 0, 1, 0.25)
    assert v in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert trial.distributions["b"] == FloatDistribution(1, 10, log=True)


def test_suggest_int_step_and_log_are_keyword_only() -> None:
    trial = _study().ask()
    with pytest.raises(TypeError):
        trial.suggest_int("n", 0, 10, 2)  # type: ignore[misc]


def test_report_records_and_validates() -> None:
    study = _study()
    trial = study.ask()
    trial.report(0.5, 0)
    trial.report(1, 3)
    with pytest.warns(UserWarning, match="already reported"):
        trial.report(9.0, 3)
    with pytest.raises(ValueError, match="step"):
        trial.report(1.0, -1)
    with pytest.raises(TypeError, match="value"):
        trial.report("high", 4)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step"):
        trial.report(1.0, 1.5)  # type: ignore[arg-type]
    trial.report(float("nan"), 5)
    stored = study._storage.get_trial(trial._trial_id).intermediate_values
    assert stored[0] == 0.5 and stored[3] == 1.0 and math.isnan(stored[5])


def test_report_and_should_prune_refused_for_multi_objective() -> None:
    trial = _study(directions=["minimize", "maximize"]).ask()
    with pytest.raises(NotImplementedError):
        trial.report(1.0, 0)
    with pytest.raises(NotImplementedError):
        trial.should_prune()


def test_user_attrs_and_constraints() -> None:
    study = _study()
    trial = study.ask()
    trial.set_user_attr("k", {"a": [1, 2]})
    trial.set_constraint("c0", 2.0)
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.user_attrs == {"k": {"a": [1, 2]}} == trial.user_attrs
    assert stored.constraints == {"c0": 2.0} == trial.constraints


def test_public_and_private_attributes_third_parties_use() -> None:
    study = _study()
    trial = study.ask()
    assert trial.study is study
    assert trial.storage is study._storage
    assert isinstance(trial._trial_id, int)
    assert trial.number == 0
    assert trial.datetime_start is not None
    assert trial.relative_params == {}


def test_fixed_params_from_enqueue_are_used() -> None:
    study = _study()
    study.enqueue_trial({"x": 0.25, "c": "b"})
    trial = study.ask()
    assert trial.suggest_float("x", 0, 1) == 0.25
    assert trial.suggest_categorical("c", ["a", "b"]) == "b"
    assert 0 <= trial.suggest_float("free", 0, 1) <= 1


def test_enqueued_value_out_of_range_warns_but_is_used() -> None:
    study = _study()
    study.enqueue_trial({"x": 5.0})
    trial = study.ask()
    with pytest.warns(UserWarning, match="out of range"):
        assert trial.suggest_float("x", 0, 1) == 5.0


def test_relative_sampling_is_used_by_trial() -> None:
    class Relative(RandomSampler):
        def infer_relative_search_space(self, study: Any, trial: Any) -> dict:
            return {"x": FloatDistribution(0, 10)}

        def sample_relative(self, study: Any, trial: Any, search_space: dict) -> dict:
            return {"x": 7.0}

    study = skipjack.create_study(sampler=Relative())
    trial = study.ask()
    assert trial.suggest_float("x", 0, 10) == 7.0
    assert trial.relative_params == {"x": 7.0}
    # A relative value outside the requested range falls back to independent sampling.
    trial2 = study.ask()
    assert 0.0 <= trial2.suggest_float("x", 0, 5) <= 5.0
    trial3 = study.ask()
    with pytest.raises(ValueError):
        trial3.suggest_int("x", 0, 10)  # incompatible with the relative space's float


def test_categorical_values_keep_their_types() -> None:
    trial = _study().ask()
    v = trial.suggest_categorical("c", [1, 2.5, True, "s", None])
    assert v in [1, 2.5, True, "s", None]
    stored = trial.storage.get_trial(trial._trial_id)
    assert stored.params["c"] == v and type(stored.params["c"]) is type(v)
    assert isinstance(stored.distributions["c"], CategoricalDistribution)


def test_state_is_running_until_told() -> None:
    study = _study()
    trial = study.ask()
    assert study._storage.get_trial(trial._trial_id).state == TrialState.RUNNING
