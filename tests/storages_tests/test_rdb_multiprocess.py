"""Many processes on one database: first contact on an empty database and concurrent trials."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import uuid

import pytest

from skipjack.storages._rdb import RDBStorage
from skipjack.trial._state import TrialState
from tests.storages_tests.rdb_servers import MYSQL_URL
from tests.storages_tests.rdb_servers import POSTGRES_URL
from tests.storages_tests.rdb_servers import server_database

N_WORKERS = 8
N_TRIALS = 25
TIMEOUT = 120.0

# Each worker imports everything, says it is ready, waits for "go" so that all of them hit the
# empty database at the same moment, then creates-or-loads the study and runs its trials.
_WORKER = """
import sys
import skipjack
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
url, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
study = skipjack.create_study(study_name=name, storage=url, load_if_exists=True)
study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=n_trials)
"""


def _run_workers(url: str, name: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, name, str(N_TRIALS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(N_WORKERS)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        failures = []
        for proc in procs:
            _, err = proc.communicate(timeout=TIMEOUT)
            if proc.returncode != 0:
                failures.append(err[-2000:])
        assert not failures, failures[0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _check_study(url: str, name: str) -> None:
    storage = RDBStorage(url)
    try:
        study_id = storage.get_study_id_from_name(name)
        assert len(storage.get_all_studies()) == 1
        trials = storage.get_all_trials(study_id)
        assert [t.number for t in trials] == list(range(N_WORKERS * N_TRIALS))
        assert all(t.state == TrialState.COMPLETE for t in trials)
        finished, _ = storage.get_finished_trials_since(study_id, 0)
        assert len(finished) == N_WORKERS * N_TRIALS
    finally:
        storage.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_eight_processes_share_an_empty_database(backend: str, tmp_path: pathlib.Path) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/race.db"
        _run_workers(url, name)
        _check_study(url, name)
        return
    base = POSTGRES_URL if backend == "postgresql" else MYSQL_URL
    with server_database(base) as url:
        _run_workers(url, name)
        _check_study(url, name)


# Starts one trial through ask() (heartbeats on) and one bare trial that never beats, then waits
# to be killed.
_DOOMED = """
import sys, time
import skipjack
from skipjack.storages._rdb import RDBStorage
storage = RDBStorage(sys.argv[1], heartbeat_interval=1, grace_period=1)
study = skipjack.create_study(study_name=sys.argv[2], storage=storage, load_if_exists=True)
study.ask()
storage.create_new_trial(study._study_id)
print("ready", flush=True)
time.sleep(600)
"""


def test_killed_worker_leaves_no_running_trial(tmp_path: pathlib.Path) -> None:
    import time

    import skipjack
    from skipjack.storages._heartbeat import fail_stale_trials

    url = f"sqlite:///{tmp_path}/killed.db"
    name = "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", _DOOMED, url, name], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT)
    failed: list[int] = []
    storage = RDBStorage(
        url,
        heartbeat_interval=1,
        grace_period=1,
        heartbeat_stale_trial_callback=lambda study, trial: failed.append(trial.number),
    )
    study = skipjack.load_study(study_name=name, storage=storage)
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline and len(failed) < 2:
        time.sleep(0.25)
        fail_stale_trials(study)
    assert sorted(failed) == [0, 1]
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
