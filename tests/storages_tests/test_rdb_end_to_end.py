"""RDBStorage from the user's side: URL strings in create_study, and reads whose cost does not
grow with the study."""

from __future__ import annotations

import math
import pathlib
from typing import Any
import uuid

import pytest

import skipjack
from skipjack.storages._rdb import RDBStorage
from skipjack.storages._rdb import _sql
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db.sqlite3"
    fixture = "postgres_url" if request.param == "postgresql" else "mysql_url"
    return str(request.getfixturevalue(fixture))


def test_what_a_worker_remembers_equals_what_others_read(url: str) -> None:
    """The worker running a trial answers reads from memory; that must be exactly what the
    database holds (datetimes at the backend's precision, JSON-normalised attributes)."""
    from skipjack.distributions import CategoricalDistribution
    from skipjack.distributions import IntDistribution

    writer, reader = RDBStorage(url), RDBStorage(url)
    study_id = writer.create_new_study([StudyDirection.MAXIMIZE], f"w-{uuid.uuid4().hex}")
    waiting = writer.create_new_trial(study_id, skipjack.create_trial(state=TrialState.WAITING))
    trial_ids = [writer.create_new_trial(study_id), waiting]
    assert writer.set_trial_state_values(waiting, TrialState.RUNNING)
    for trial_id in trial_ids:
        writer.set_trial_param(trial_id, "n", 3.0, IntDistribution(1, 5))
        writer.set_trial_param(trial_id, "c", 1, CategoricalDistribution(["a", 2.5, None]))
        writer.set_trial_user_attr(trial_id, "t", (1, {"k": (2,)}))
        writer.set_trial_system_attr(trial_id, "s", {3: "int key"})
        writer.set_trial_intermediate_value(trial_id, 2, math.inf)
        assert writer.get_trial(trial_id) == reader.get_trial(trial_id)
        writer.set_trial_state_values(trial_id, TrialState.COMPLETE, [0.1])
        assert writer.get_trial(trial_id) == reader.get_trial(trial_id)
    assert writer.get_all_trials(study_id) == reader.get_all_trials(study_id)
    writer.engine.dispose()
    reader.engine.dispose()


def _objective(trial: skipjack.Trial) -> float:
    kind = trial.suggest_categorical("kind", ["a", "b"])
    x = trial.suggest_float("x", -2.0, 2.0)
    n = trial.suggest_int("n", 1, 8, log=True)
    for step in range(3):
        trial.report(x * x + step, step)
    trial.set_user_attr("kind_again", kind)
    return x * x + n


def test_url_string_study_survives_reopening(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    study = skipjack.create_study(study_name="e2e", storage=url, direction="minimize")
    study.optimize(_objective, n_trials=12)
    assert isinstance(study._storage, RDBStorage)

    again = skipjack.load_study(study_name="e2e", storage=url)
    assert [t.number for t in again.trials] == list(range(12))
    assert again.best_trial.number == study.best_trial.number
    assert again.best_value == min(t.value for t in study.trials if t.value is not None)
    first = again.trials[0]
    assert set(first.params) == {"kind", "x", "n"}
    assert first.intermediate_values == {
        0: first.params["x"] ** 2,
        1: first.params["x"] ** 2 + 1,
        2: first.params["x"] ** 2 + 2,
    }
    assert first.user_attrs == {"kind_again": first.params["kind"]}
    assert first.datetime_start is not None and first.datetime_complete is not None
    assert first.datetime_start <= first.datetime_complete

    again.optimize(_objective, n_trials=3)
    assert skipjack.load_study(study_name="e2e", storage=url).trials[-1].number == 14
    assert skipjack.get_all_study_names(storage=url) == ["e2e"]


def test_enqueued_trials_run_once(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    study = skipjack.create_study(storage=url)
    study.enqueue_trial({"kind": "b", "x": 0.5, "n": 2})
    study.optimize(_objective, n_trials=2)
    assert study.trials[0].params == {"kind": "b", "x": 0.5, "n": 2}
    assert study.trials[0].state == TrialState.COMPLETE


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records how many trials each database load asks for."""
    sizes: list[int] = []
    original = _sql.load_trials

    def load(conn: Any, trial_ids: Any) -> Any:
        sizes.append(len(trial_ids))
        return original(conn, trial_ids)

    monkeypatch.setattr(_sql, "load_trials", load)
    return sizes


def test_finished_trials_are_read_once(tmp_path: pathlib.Path, counted: list[int]) -> None:
    url = f"sqlite:///{tmp_path}/study.db"
    writer = RDBStorage(url)
    study_id = writer.create_new_study([StudyDirection.MINIMIZE], f"c-{uuid.uuid4().hex}")
    for k in range(200):
        trial_id = writer.create_new_trial(study_id)
        writer.set_trial_state_values(trial_id, TrialState.COMPLETE, [float(k)])
    running = writer.create_new_trial(study_id)

    reader = RDBStorage(url)
    counted.clear()
    assert len(reader.get_all_trials(study_id)) == 201
    assert sum(counted) == 201  # every trial once: 200 finished + 1 running

    counted.clear()
    writer.set_trial_state_values(running, TrialState.COMPLETE, [-1.0])
    writer.create_new_trial(study_id)
    trials = reader.get_all_trials(study_id, deepcopy=False)
    assert [t.number for t in trials] == list(range(202))
    assert sum(counted) == 2  # the newly finished trial and the new running one

    counted.clear()
    assert reader.get_n_trials(study_id, TrialState.COMPLETE) == 201
    assert reader.get_best_trial(study_id)._trial_id == running
    assert sum(counted) == 0  # the best trial is cached; counting is done in SQL


def test_trial_failed_by_another_worker_is_seen_as_failed(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    runner, reaper = RDBStorage(url), RDBStorage(url)
    study_id = runner.create_new_study([StudyDirection.MINIMIZE])
    trial_id = runner.create_new_trial(study_id)
    assert runner.get_trial(trial_id).state == TrialState.RUNNING
    assert reaper.set_trial_state_values(trial_id, TrialState.FAIL)
    (seen,) = runner.get_all_trials(study_id)
    assert seen.state == TrialState.FAIL
    assert runner.get_trial(trial_id).state == TrialState.FAIL
    with pytest.raises(skipjack.exceptions.UpdateFinishedTrialError):
        runner.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])
