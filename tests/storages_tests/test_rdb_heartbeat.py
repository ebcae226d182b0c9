"""Heartbeats of RDBStorage on every backend, judged by the database clock."""

from __future__ import annotations

from collections.abc import Iterator
import datetime
import pathlib
from typing import Any
import uuid

import pytest
import sqlalchemy

import skipjack
from skipjack.storages._heartbeat import fail_stale_trials
from skipjack.storages._rdb import RDBStorage
from skipjack.storages._rdb import _schema as s
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

LONG_AGO = datetime.datetime(2000, 1, 1)


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path}/hb.db"
    if request.param == "sqlite-memory":
        return "sqlite:///:memory:"
    fixture = "postgres_url" if request.param == "postgresql" else "mysql_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def storage(url: str) -> Iterator[RDBStorage]:
    storage = RDBStorage(url, heartbeat_interval=10, grace_period=30)
    yield storage
    storage.engine.dispose()


def _age(storage: RDBStorage, table: Any, column: str, trial_id: int) -> None:
    """Pretend a trial's heartbeat (or start) happened long ago."""
    with storage.engine.begin() as conn:
        conn.execute(table.update().where(table.c.trial_id == trial_id).values({column: LONG_AGO}))


def test_stale_trials_by_heartbeat_and_by_missing_heartbeat(storage: RDBStorage) -> None:
    study_id = storage.create_new_study([StudyDirection.MINIMIZE], f"hb-{uuid.uuid4().hex}")
    fresh, beat_long_ago, never_beat, never_beat_old, finished = (
        storage.create_new_trial(study_id) for _ in range(5)
    )
    for trial_id in (fresh, beat_long_ago, finished):
        storage.record_heartbeat(trial_id)
    storage.record_heartbeat(fresh)  # a second beat updates the same row
    _age(storage, s.trial_heartbeats, "heartbeat", beat_long_ago)
    _age(storage, s.trial_heartbeats, "heartbeat", finished)
    _age(storage, s.trials, "datetime_start", never_beat_old)
    storage.set_trial_state_values(finished, TrialState.COMPLETE, [1.0])
    assert sorted(storage._get_stale_trial_ids(study_id)) == sorted([beat_long_ago, never_beat_old])
    assert storage._get_stale_trial_ids(storage.create_new_study([StudyDirection.MINIMIZE])) == []
    with storage.engine.connect() as conn:
        rows = conn.execute(sqlalchemy.select(s.trial_heartbeats.c.trial_id)).scalars().all()
    assert sorted(rows) == sorted([fresh, beat_long_ago, finished])
    del never_beat


def test_fail_stale_trials_runs_the_callback_once(url: str) -> None:
    seen: list[int] = []
    storage = RDBStorage(
        url,
        heartbeat_interval=10,
        heartbeat_stale_trial_callback=lambda study, trial: seen.append(trial.number),
    )
    study = skipjack.create_study(storage=storage, study_name=f"f-{uuid.uuid4().hex}")
    dead = storage.create_new_trial(study._study_id)
    storage.record_heartbeat(dead)
    _age(storage, s.trial_heartbeats, "heartbeat", dead)
    fail_stale_trials(study)
    fail_stale_trials(study)
    assert seen == [0]
    assert storage.get_trial(dead).state == TrialState.FAIL
    storage.engine.dispose()


def test_optimize_with_heartbeats_works_in_memory() -> None:
    storage = RDBStorage("sqlite:///:memory:", heartbeat_interval=1)
    study = skipjack.create_study(storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    with storage.engine.connect() as conn:
        assert (
            conn.execute(
                sqlalchemy.select(sqlalchemy.func.count()).select_from(s.trial_heartbeats)
            ).scalar()
            == 3
        )


def test_heartbeats_off_means_nothing_is_stale(tmp_path: pathlib.Path) -> None:
    storage = RDBStorage(f"sqlite:///{tmp_path}/db.sqlite3")
    study_id = storage.create_new_study([StudyDirection.MINIMIZE])
    trial_id = storage.create_new_trial(study_id)
    _age(storage, s.trials, "datetime_start", trial_id)
    assert storage.get_heartbeat_interval() is None
    assert storage._get_stale_trial_ids(study_id) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"heartbeat_interval": 0},
        {"heartbeat_interval": -1},
        {"heartbeat_interval": "5"},
        {"heartbeat_interval": 5, "grace_period": 0},
        {"grace_period": -2.5},
    ],
)
def test_bad_periods_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RDBStorage("sqlite:///:memory:", **kwargs)


def test_callback_names() -> None:
    def callback(study: Any, trial: Any) -> None:
        return None

    new = RDBStorage(
        "sqlite:///:memory:", heartbeat_interval=2, heartbeat_stale_trial_callback=callback
    )
    assert new.get_failed_trial_callback() is callback
    assert new.get_heartbeat_stale_trial_callback() is callback
    with pytest.warns(FutureWarning):
        old = RDBStorage("sqlite:///:memory:", heartbeat_interval=2, failed_trial_callback=callback)
    assert old.get_heartbeat_stale_trial_callback() is callback
    with pytest.raises(ValueError, match="only one"):
        RDBStorage(
            "sqlite:///:memory:",
            failed_trial_callback=callback,
            heartbeat_stale_trial_callback=callback,
        )
    assert old._grace_seconds() == 4.0
