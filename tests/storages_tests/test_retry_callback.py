"""RetryHeartbeatStaleTrialCallback (and its former name), checked against Optuna 5.0."""

from __future__ import annotations

import copy
from typing import Any
import warnings

import optuna
import pytest

import skipjack
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.distributions import distribution_to_json
from skipjack.storages._callbacks import RetryFailedTrialCallback
from skipjack.storages._callbacks import RetryHeartbeatStaleTrialCallback
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

PARAMS: dict[str, Any] = {"lr": 0.01, "layers": 3, "act": "relu"}
USER_ATTRS: dict[str, Any] = {"owner": "me", "tags": [1, 2]}
SYSTEM_ATTRS: dict[str, Any] = {"fixed_params": {"layers": 3}, "note": "x"}
INTERMEDIATE: dict[int, float] = {0: 1.5, 3: 0.25}


def _ours_dists() -> dict[str, Any]:
    return {
        "lr": FloatDistribution(1e-4, 1.0, log=True),
        "layers": IntDistribution(1, 8),
        "act": CategoricalDistribution(["relu", "tanh"]),
    }


def _optuna_dists() -> dict[str, Any]:
    d = optuna.distributions
    return {
        "lr": d.FloatDistribution(1e-4, 1.0, log=True),
        "layers": d.IntDistribution(1, 8),
        "act": d.CategoricalDistribution(["relu", "tanh"]),
    }


def _fail_chain(lib: Any, callback: Any, n_failures: int, dists: dict[str, Any]) -> Any:
    """Add a failed trial, run the callback, then fail each queued retry in turn the same way;
    return the study."""
    study = lib.create_study()
    study.add_trial(
        lib.trial.create_trial(
            state=lib.trial.TrialState.FAIL,
            params=PARAMS,
            distributions=dists,
            user_attrs=USER_ATTRS,
            system_attrs=SYSTEM_ATTRS,
            intermediate_values=INTERMEDIATE,
        )
    )
    storage = study._storage
    for _ in range(n_failures):
        failed = study.trials[-1]
        if failed.state == lib.trial.TrialState.WAITING:
            # The queued retry starts, then its worker dies too.
            storage.set_trial_state_values(failed._trial_id, lib.trial.TrialState.RUNNING)
            storage.set_trial_state_values(failed._trial_id, lib.trial.TrialState.FAIL)
            failed = storage.get_trial(failed._trial_id)
        elif failed.state != lib.trial.TrialState.FAIL:
            break
        n_before = len(study.trials)
        # A copy, as a persistent storage hands out: Optuna's callback appends to the trial's
        # retry_history list in place, which would alter the in-memory storage's own record.
        callback(study, copy.deepcopy(failed))
        if len(study.trials) == n_before:
            break
    return study


def _summary(trial: Any, to_json: Any) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name,
        "params": trial.params,
        "distributions": {k: to_json(v) for k, v in trial.distributions.items()},
        "user_attrs": trial.user_attrs,
        "system_attrs": trial.system_attrs,
        "intermediate_values": trial.intermediate_values,
    }


@pytest.mark.parametrize("max_retry", [None, 0, 1, 2])
@pytest.mark.parametrize("inherit", [False, True])
@pytest.mark.parametrize("n_failures", [1, 3])
def test_retry_chain_matches_optuna(max_retry: int | None, inherit: bool, n_failures: int) -> None:
    ours = _fail_chain(
        skipjack,
        RetryHeartbeatStaleTrialCallback(max_retry, inherit_intermediate_values=inherit),
        n_failures,
        _ours_dists(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = optuna.storages.RetryHeartbeatStaleTrialCallback(
            max_retry, inherit_intermediate_values=inherit
        )
    theirs = _fail_chain(optuna, reference, n_failures, _optuna_dists())

    assert [_summary(t, distribution_to_json) for t in ours.trials] == [
        _summary(t, optuna.distributions.distribution_to_json) for t in theirs.trials
    ]
    cls = RetryHeartbeatStaleTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [
            (reference.retried_trial_number(t), reference.retry_history(t)) for t in theirs.trials
        ]
    assert [(cls.retried_trial_number(t), cls.retry_history(t)) for t in ours.trials] == expected


def test_retry_points_at_the_first_attempt_and_lists_every_earlier_one() -> None:
    study = _fail_chain(skipjack, RetryHeartbeatStaleTrialCallback(), 3, _ours_dists())
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 3 + [TrialState.WAITING]
    cls = RetryHeartbeatStaleTrialCallback
    assert cls.retried_trial_number(trials[0]) is None
    assert cls.retry_history(trials[0]) == []
    for k in (1, 2, 3):
        assert cls.retried_trial_number(trials[k]) == 0
        assert cls.retry_history(trials[k]) == list(range(k))
        assert trials[k].params == PARAMS
        assert trials[k].user_attrs == USER_ATTRS
        assert trials[k].intermediate_values == {}


def test_max_retry_counts_the_whole_chain() -> None:
    study = _fail_chain(skipjack, RetryHeartbeatStaleTrialCallback(max_retry=2), 5, _ours_dists())
    states = [t.state for t in study.trials]
    # The first attempt and two retries, all failed; no third retry.
    assert states == [TrialState.FAIL] * 3


def test_storage_owned_system_attrs_are_not_inherited() -> None:
    study = skipjack.create_study()
    study.add_trial(
        skipjack.trial.create_trial(
            state=TrialState.FAIL,
            params={"x": 1.0},
            distributions={"x": FloatDistribution(0.0, 2.0)},
            system_attrs={"skipjack:heartbeat": 12.5, "keep": True},
        )
    )
    RetryHeartbeatStaleTrialCallback()(study, study.trials[0])
    retry = study.trials[1]
    assert retry.system_attrs == {"keep": True, "failed_trial": 0, "retry_history": [0]}


def test_the_retry_runs_with_the_failed_parameters() -> None:
    study = skipjack.create_study(sampler=skipjack.samplers.RandomSampler(seed=1))
    failed_params = {"x": 0.123456789, "n": 7, "c": "b"}
    study.add_trial(
        skipjack.trial.create_trial(
            state=TrialState.FAIL,
            params=failed_params,
            distributions={
                "x": FloatDistribution(0.0, 1.0),
                "n": IntDistribution(0, 10),
                "c": CategoricalDistribution(["a", "b"]),
            },
        )
    )
    RetryHeartbeatStaleTrialCallback()(study, study.trials[0])
    seen: list[dict[str, Any]] = []

    def objective(trial: skipjack.Trial) -> float:
        params: dict[str, Any] = {
            "x": trial.suggest_float("x", 0.0, 1.0),
            "n": trial.suggest_int("n", 0, 10),
            "c": trial.suggest_categorical("c", ["a", "b"]),
        }
        seen.append(params)
        return params["x"]

    study.optimize(objective, n_trials=1)
    assert seen == [failed_params]
    retried = study.trials[1]
    assert retried.state == TrialState.COMPLETE
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retried) == 0


def test_former_name_warns_and_behaves_the_same() -> None:
    with pytest.warns(FutureWarning, match="RetryHeartbeatStaleTrialCallback"):
        callback = RetryFailedTrialCallback(max_retry=1, inherit_intermediate_values=True)
    assert isinstance(callback, RetryHeartbeatStaleTrialCallback)
    study = _fail_chain(skipjack, callback, 3, _ours_dists())
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 2
    assert study.trials[1].intermediate_values == INTERMEDIATE
    assert RetryFailedTrialCallback.retry_history(study.trials[1]) == [0]


def test_static_helpers_read_plain_frozen_trials() -> None:
    trial = FrozenTrial(
        number=5,
        state=TrialState.COMPLETE,
        value=1.0,
        datetime_start=None,
        datetime_complete=None,
        params={},
        distributions={},
        user_attrs={},
        system_attrs={"failed_trial": 2, "retry_history": [2, 4]},
        intermediate_values={},
        trial_id=5,
    )
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(trial) == 2
    assert RetryHeartbeatStaleTrialCallback.retry_history(trial) == [2, 4]
