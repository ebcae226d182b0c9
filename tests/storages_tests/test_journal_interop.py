"""Journals written by skipjack open in Optuna 5.0 and vice versa, with identical trials."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import datetime
import json
import math
import os
from types import ModuleType
from typing import Any
import uuid
import warnings

import optuna
from optuna.storages import journal as optuna_journal
import pytest

import skipjack
from skipjack.storages import journal as skipjack_journal
from tests.conftest import REDIS_URL
from tests.conftest import unavailable_service

optuna.logging.set_verbosity(optuna.logging.WARNING)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)

# Whole microseconds in UTC survive the ISO round trip exactly.
START = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
COMPLETE = datetime.datetime(2024, 5, 6, 7, 9, 10, 654321)

Opener = Callable[[ModuleType], Any]


# ---- backends ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        unavailable_service("Redis", str(error))
    prefix = f"skipjack-interop-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["file", "redis"])
def open_storage(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Opener:
    """A function giving a JournalStorage of either library on one shared log."""
    if request.param == "file":
        path = os.path.join(tmp_path, "journal.log")

        def open_file(lib: ModuleType) -> Any:
            package = _journal(lib)
            return package.JournalStorage(package.JournalFileBackend(path))

        return open_file
    prefix = f"{request.getfixturevalue('redis_prefix')}-{uuid.uuid4().hex}"

    def open_redis(lib: ModuleType) -> Any:
        package = _journal(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's "experimental" warning
            backend = package.JournalRedisBackend(REDIS_URL, prefix=prefix)
        return package.JournalStorage(backend)

    return open_redis


def _journal(lib: ModuleType) -> ModuleType:
    return optuna_journal if lib is optuna else skipjack_journal


# ---- a study exercising every record kind -------------------------------------------------
def populate(lib: ModuleType, storage: Any) -> None:
    """Write studies and trials through the storage API of ``lib`` (optuna or skipjack)."""
    dist = lib.distributions
    state = lib.trial.TrialState
    direction = lib.study.StudyDirection
    floats = dist.FloatDistribution(1e-5, 1.0, log=True)
    ints = dist.IntDistribution(16, 128, step=16)
    cats = dist.CategoricalDistribution(["adam", "sgd", None, 1.5, True])
    stepped = dist.FloatDistribution(0.0, 0.5, step=0.05)

    doomed = storage.create_new_study([direction.MINIMIZE], "doomed")
    storage.create_new_trial(doomed)
    storage.delete_study(doomed)  # its trial id stays taken

    sid = storage.create_new_study([direction.MINIMIZE], "single")
    storage.set_study_user_attr(sid, "owner", {"name": "ann", "tags": [1, 2]})
    storage.set_study_system_attr(sid, "study:metric_names", ["loss"])

    t = storage.create_new_trial(sid)
    storage.set_trial_param(t, "lr", 0.01, floats)
    storage.set_trial_param(t, "units", 64.0, ints)
    storage.set_trial_param(t, "opt", 3, cats)
    storage.set_trial_param(t, "drop", 0.25, stepped)
    for step, value in [(0, 1.5), (1, math.nan), (2, math.inf), (3, -math.inf)]:
        storage.set_trial_intermediate_value(t, step, value)
    storage.set_trial_user_attr(t, "note", "héllo")
    storage.set_trial_system_attr(t, "constraints:c0", 0.5)
    storage.set_trial_state_values(t, state.COMPLETE, [0.125])

    t = storage.create_new_trial(sid)
    storage.set_trial_param(t, "lr", 0.5, floats)
    storage.set_trial_intermediate_value(t, 0, 3.0)
    storage.set_trial_state_values(t, state.PRUNED, [3.0])

    t = storage.create_new_trial(sid)
    storage.set_trial_state_values(t, state.FAIL)

    t = storage.create_new_trial(sid)
    storage.set_trial_state_values(t, state.COMPLETE, [math.inf])

    waiting = lib.trial.FrozenTrial(
        number=-1,
        state=state.WAITING,
        value=None,
        datetime_start=None,
        datetime_complete=None,
        params={},
        distributions={},
        user_attrs={},
        system_attrs={"fixed_params": {"lr": 0.001, "opt": "sgd"}},
        intermediate_values={},
        trial_id=-1,
    )
    storage.create_new_trial(sid, template_trial=waiting)

    added = lib.trial.FrozenTrial(
        number=-1,
        state=state.COMPLETE,
        value=-2.5,
        datetime_start=START,
        datetime_complete=COMPLETE,
        params={"lr": 0.2, "units": 32, "opt": None},
        distributions={"lr": floats, "units": ints, "opt": cats},
        user_attrs={"source": "add_trial"},
        system_attrs={},
        intermediate_values={0: 1.0, 5: math.nan},
        trial_id=-1,
    )
    storage.create_new_trial(sid, template_trial=added)

    storage.create_new_trial(sid)  # left RUNNING
    started = storage.create_new_trial(sid, template_trial=waiting)
    assert storage.set_trial_state_values(started, state.RUNNING)

    multi = storage.create_new_study([direction.MAXIMIZE, direction.MINIMIZE], "multi")
    t = storage.create_new_trial(multi)
    storage.set_trial_param(t, "x", 1.0, dist.FloatDistribution(-3.0, 3.0))
    storage.set_trial_state_values(t, state.COMPLETE, [1.0, -math.inf])


# ---- comparison ----------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Make floats comparable (NaN equal to NaN) inside nested containers."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _trial_view(lib: ModuleType, trial: Any) -> dict[str, Any]:
    system_attrs = {k: v for k, v in trial.system_attrs.items() if not k.startswith("skipjack:")}
    return _plain(
        {
            "trial_id": trial._trial_id,
            "number": trial.number,
            "state": int(trial.state),
            "values": trial.values,
            "params": trial.params,
            "distributions": {
                name: json.loads(lib.distributions.distribution_to_json(d))
                for name, d in trial.distributions.items()
            },
            "user_attrs": trial.user_attrs,
            "system_attrs": system_attrs,
            "intermediate_values": trial.intermediate_values,
            "datetime_start": trial.datetime_start,
            "datetime_complete": trial.datetime_complete,
        }
    )


def snapshot(lib: ModuleType, storage: Any) -> dict[str, Any]:
    """Everything a storage of ``lib`` reports, as plain comparable data."""
    out = {}
    for study in storage.get_all_studies():
        sid = study._study_id
        out[study.study_name] = {
            "study_id": sid,
            "directions": [int(d) for d in study.directions],
            "user_attrs": _plain(study.user_attrs),
            "system_attrs": _plain(
                {k: v for k, v in study.system_attrs.items() if not k.startswith("skipjack:")}
            ),
            "trials": [_trial_view(lib, t) for t in storage.get_all_trials(sid)],
        }
    return out


def check_written_data(view: dict[str, Any]) -> None:
    """Spot checks against what populate() wrote, independent of either reader."""
    assert set(view) == {"single", "multi"}
    single = view["single"]
    assert single["study_id"] == 1
    assert single["user_attrs"] == {"owner": {"name": "ann", "tags": [1, 2]}}
    trials = single["trials"]
    assert [t["trial_id"] for t in trials] == list(range(1, 9))  # id 0 went to "doomed"
    assert [t["state"] for t in trials] == [1, 2, 3, 1, 4, 1, 0, 0]
    first = trials[0]
    assert first["params"] == {"lr": 0.01, "units": 64, "opt": 1.5, "drop": 0.25}
    assert first["intermediate_values"] == {0: 1.5, 1: "NaN", 2: math.inf, 3: -math.inf}
    assert first["values"] == [0.125] and first["user_attrs"] == {"note": "héllo"}
    assert trials[3]["values"] == [math.inf]
    assert trials[4]["datetime_start"] is None
    assert trials[4]["system_attrs"] == {"fixed_params": {"lr": 0.001, "opt": "sgd"}}
    added = trials[5]
    assert added["datetime_start"] == START and added["datetime_complete"] == COMPLETE
    assert added["params"] == {"lr": 0.2, "units": 32, "opt": None}
    assert added["intermediate_values"] == {0: 1.0, 5: "NaN"}
    assert trials[7]["datetime_start"] is not None
    assert view["multi"]["trials"][0]["values"] == [1.0, -math.inf]
    assert view["multi"]["directions"] == [2, 1]


@pytest.mark.parametrize(("writer", "reader"), [(skipjack, optuna), (optuna, skipjack)])
def test_storage_level_round_trip(
    open_storage: Opener, writer: ModuleType, reader: ModuleType
) -> None:
    written = open_storage(writer)
    populate(writer, written)
    expected = snapshot(writer, written)
    check_written_data(expected)
    assert snapshot(reader, open_storage(reader)) == expected


def test_each_library_keeps_writing_the_others_log(open_storage: Opener) -> None:
    """Alternate writers on one log; both read the same result."""

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 5)
        n = trial.suggest_int("n", 1, 4)
        c = trial.suggest_categorical("c", ["a", "b"])
        trial.report(x * n, 0)
        trial.set_user_attr("c", c)
        return x * x + n

    optuna.create_study(study_name="s", storage=open_storage(optuna)).optimize(
        objective, n_trials=4
    )
    skipjack.load_study(study_name="s", storage=open_storage(skipjack)).optimize(
        objective, n_trials=4
    )
    optuna.load_study(study_name="s", storage=open_storage(optuna)).optimize(objective, n_trials=2)
    seen_by_optuna = snapshot(optuna, open_storage(optuna))
    seen_by_skipjack = snapshot(skipjack, open_storage(skipjack))
    assert seen_by_skipjack == seen_by_optuna
    trials = seen_by_skipjack["s"]["trials"]
    assert [t["number"] for t in trials] == list(range(10))
    assert all(t["state"] == 1 for t in trials)


def test_heartbeats_and_claims_are_invisible_to_optunas_trials(open_storage: Opener) -> None:
    storage = open_storage(skipjack)
    sid = storage.create_new_study([skipjack.study.StudyDirection.MINIMIZE], "hb")
    tid = storage.create_new_trial(sid)
    storage.record_heartbeat(tid)
    storage.record_heartbeat(tid)
    assert storage.claim(sid, "x=1", tid)
    storage.set_trial_state_values(tid, skipjack.trial.TrialState.COMPLETE, [1.0])

    theirs = open_storage(optuna)
    trial = theirs.get_all_trials(theirs.get_study_id_from_name("hb"))[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert "skipjack:heartbeat" in trial.system_attrs  # an ordinary op 9 record to Optuna
    assert theirs.get_study_system_attrs(0) == {"skipjack:claim:x=1": tid}
    assert snapshot(skipjack, open_storage(skipjack)) == snapshot(optuna, theirs)


def test_skipjack_storage_runs_on_optunas_file_backend(tmp_path: os.PathLike[str]) -> None:
    """Any backend with the two-method contract works, Optuna's own included."""
    path = os.path.join(tmp_path, "journal.log")
    backend: Any = optuna_journal.JournalFileBackend(path)
    storage = skipjack_journal.JournalStorage(backend)
    populate(skipjack, storage)
    theirs = optuna.storages.JournalStorage(optuna_journal.JournalFileBackend(path))
    assert snapshot(skipjack, storage) == snapshot(optuna, theirs)
