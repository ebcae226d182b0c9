"""Round trips with the real optuna 5.0 package: a study written by one library reads back
identically in the other, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime
import math
import pathlib
from types import ModuleType
from typing import Any
import uuid

import optuna
import pytest

import skipjack
from skipjack.storages._rdb import RDBStorage

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/interop.db"
    fixture = "postgres_url" if request.param == "postgresql" else "mysql_url"
    return str(request.getfixturevalue(fixture))


def _populate(lib: ModuleType, storage: Any, name: str) -> int:
    """Write a study exercising every stored field through ``lib``'s own storage API."""
    d = lib.distributions
    state = lib.trial.TrialState
    direction = lib.study.StudyDirection
    study_id = storage.create_new_study([direction.MINIMIZE, direction.MAXIMIZE], name)
    storage.set_study_user_attr(study_id, "owner", {"team": "ü", "n": [1, 2.5, None]})
    storage.set_study_system_attr(study_id, "study:metric_names", ["loss", "acc"])
    dists = {
        "lr": d.FloatDistribution(1e-5, 1e-1, log=True),
        "drop": d.FloatDistribution(0.0, 0.5, step=0.1),
        "units": d.IntDistribution(8, 256, log=True),
        "layers": d.IntDistribution(1, 9, step=2),
        "act": d.CategoricalDistribution(["relu", None, 1.5, True]),
    }
    external = {"lr": 3e-3, "drop": 0.2, "units": 64, "layers": 5, "act": None}
    plans = [
        (state.COMPLETE, [1.5, math.inf]),
        (state.COMPLETE, [-math.inf, -2.0]),
        (state.PRUNED, [0.25, 0.5]),
        (state.FAIL, None),
        (state.RUNNING, None),
    ]
    for k, (final, values) in enumerate(plans):
        trial_id = storage.create_new_trial(study_id)
        for pname, dist in dists.items():
            storage.set_trial_param(trial_id, pname, dist.to_internal_repr(external[pname]), dist)
        for step, value in enumerate([0.5 * k, math.nan, math.inf, -math.inf]):
            storage.set_trial_intermediate_value(trial_id, step, value)
        storage.set_trial_user_attr(trial_id, "k", k)
        storage.set_trial_system_attr(trial_id, "constraints:c0", -1.0 * k)
        if final != state.RUNNING:
            storage.set_trial_state_values(trial_id, final, values)
    waiting = lib.trial.FrozenTrial(
        number=-1,
        state=state.WAITING,
        value=None,
        datetime_start=None,
        datetime_complete=None,
        params={"lr": 1e-4},
        distributions={"lr": dists["lr"]},
        user_attrs={},
        system_attrs={"fixed_params": {"lr": 1e-4}},
        intermediate_values={},
        trial_id=-1,
    )
    storage.create_new_trial(study_id, template_trial=waiting)
    added = lib.trial.FrozenTrial(
        number=-1,
        state=state.COMPLETE,
        value=None,
        values=[0.0, 1.0],
        datetime_start=datetime.datetime(2024, 1, 2, 3, 4, 5),
        datetime_complete=datetime.datetime(2024, 1, 2, 3, 5, 6),
        params={"act": True},
        distributions={"act": dists["act"]},
        user_attrs={"added": True},
        system_attrs={},
        intermediate_values={},
        trial_id=-1,
    )
    storage.create_new_trial(study_id, template_trial=added)
    return int(study_id)


def _describe(trial: Any) -> dict[str, Any]:
    """A library-neutral description of a trial; NaN replaced by a marker so == works."""

    def plain(x: Any) -> Any:
        return "NaN" if isinstance(x, float) and math.isnan(x) else x

    return {
        "id": trial._trial_id,
        "number": trial.number,
        "state": trial.state.name,
        "values": trial.values,
        "start": trial.datetime_start,
        "complete": trial.datetime_complete,
        "params": trial.params,
        "distributions": {
            k: {"name": type(v).__name__, **v._asdict()} for k, v in trial.distributions.items()
        },
        "user_attrs": trial.user_attrs,
        "system_attrs": trial.system_attrs,
        "intermediate": {k: plain(v) for k, v in trial.intermediate_values.items()},
    }


def _assert_same_study(sk: RDBStorage, op: Any, name: str) -> None:
    sk_id, op_id = sk.get_study_id_from_name(name), op.get_study_id_from_name(name)
    assert sk_id == op_id
    assert [d.name for d in sk.get_study_directions(sk_id)] == [
        d.name for d in op.get_study_directions(op_id)
    ]
    assert sk.get_study_user_attrs(sk_id) == op.get_study_user_attrs(op_id)
    assert sk.get_study_system_attrs(sk_id) == op.get_study_system_attrs(op_id)
    ours = [_describe(t) for t in sk.get_all_trials(sk_id)]
    theirs = [_describe(t) for t in op.get_all_trials(op_id)]
    assert len(ours) == 7
    assert ours == theirs
    # Spot-check that what was compared is what was written.
    assert ours[0]["values"] == [1.5, math.inf] and ours[1]["values"] == [-math.inf, -2.0]
    assert ours[0]["intermediate"] == {0: 0.0, 1: "NaN", 2: math.inf, 3: -math.inf}
    assert ours[0]["params"] == {"lr": 3e-3, "drop": 0.2, "units": 64, "layers": 5, "act": None}
    assert [t["state"] for t in ours] == [
        "COMPLETE",
        "COMPLETE",
        "PRUNED",
        "FAIL",
        "RUNNING",
        "WAITING",
        "COMPLETE",
    ]
    assert ours[6]["start"] == datetime.datetime(2024, 1, 2, 3, 4, 5)


def _dispose(*storages: Any) -> None:
    for storage in storages:
        storage.engine.dispose()


def test_skipjack_writes_optuna_reads(url: str) -> None:
    name = f"sk-{uuid.uuid4().hex}"
    sk = RDBStorage(url)
    _populate(skipjack, sk, name)
    op = optuna.storages.RDBStorage(url)
    try:
        _assert_same_study(sk, op, name)
        study = optuna.load_study(study_name=name, storage=op)
        assert [t.number for t in study.best_trials] == sorted(t.number for t in study.best_trials)
    finally:
        _dispose(sk, op)


def test_optuna_writes_skipjack_reads(url: str) -> None:
    name = f"op-{uuid.uuid4().hex}"
    op = optuna.storages.RDBStorage(url)
    _populate(optuna, op, name)
    sk = RDBStorage(url)
    try:
        _assert_same_study(sk, op, name)
        # Trials Optuna finished have no finish record; incremental reads still see them.
        study_id = sk.get_study_id_from_name(name)
        finished, mark = sk.get_finished_trials_since(study_id, 0)
        assert sorted(t.number for t in finished) == [0, 1, 2, 3, 6]
        running = op.get_all_trials(study_id, states=(optuna.trial.TrialState.RUNNING,))
        op.set_trial_state_values(running[0]._trial_id, optuna.trial.TrialState.FAIL)
        later, _ = sk.get_finished_trials_since(study_id, mark)
        assert [t.number for t in later] == [4]
    finally:
        _dispose(sk, op)


def test_studies_of_both_libraries_share_one_database(url: str) -> None:
    sk = RDBStorage(url)
    op = optuna.storages.RDBStorage(url)
    try:
        a = skipjack.create_study(storage=sk, study_name=f"a-{uuid.uuid4().hex}")
        a.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
        b = optuna.load_study(study_name=a.study_name, storage=op)
        b.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
        assert [t.number for t in a.trials] == list(range(6))
        assert a.best_value == b.best_value
        assert a.best_trial.params == b.best_trial.params
    finally:
        _dispose(sk, op)
