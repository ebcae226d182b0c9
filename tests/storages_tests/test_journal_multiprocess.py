"""Several processes optimizing one study through one journal file."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import skipjack
from skipjack.storages import fail_stale_trials
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.trial._state import TrialState

N_WORKERS = 4
N_TRIALS = 10
TIMEOUT = 120.0

# Each worker is a fresh interpreter (like a spawned process or a job on another node).
WORKER = """
import sys
import skipjack
from skipjack.storages import fail_stale_trials
from skipjack.storages.journal import JournalFileBackend, JournalStorage
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
storage = JournalStorage(JournalFileBackend(sys.argv[1]))
study = skipjack.load_study(study_name="shared", storage=storage)
study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=int(sys.argv[2]))
"""


def test_four_processes_share_one_journal_file(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "journal.log")
    skipjack.create_study(study_name="shared", storage=JournalStorage(JournalFileBackend(path)))
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, path, str(N_TRIALS)])
        for _ in range(N_WORKERS)
    ]
    try:
        codes = [worker.wait(TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert codes == [0] * N_WORKERS

    trials = skipjack.load_study(
        study_name="shared", storage=JournalStorage(JournalFileBackend(path))
    ).trials
    assert len(trials) == N_WORKERS * N_TRIALS
    assert [t.number for t in trials] == list(range(N_WORKERS * N_TRIALS))
    assert len({t._trial_id for t in trials}) == N_WORKERS * N_TRIALS
    assert all(t.state == TrialState.COMPLETE for t in trials)


KILLED_WORKER = """
import sys, time
import skipjack
from skipjack.storages import fail_stale_trials
from skipjack.storages.journal import JournalFileBackend, JournalStorage
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
storage = JournalStorage(JournalFileBackend(sys.argv[1]), heartbeat_interval=1, grace_period=2)
study = skipjack.load_study(study_name="doomed", storage=storage)

def objective(trial):
    trial.suggest_float("x", 0, 1)
    print("started", flush=True)
    time.sleep(60)
    return 0.0

study.optimize(objective, n_trials=1)
"""


def test_trial_of_a_killed_worker_is_failed_after_the_grace_period(
    tmp_path: os.PathLike[str],
) -> None:
    path = os.path.join(tmp_path, "journal.log")

    def open_storage() -> JournalStorage:
        return JournalStorage(JournalFileBackend(path), heartbeat_interval=1, grace_period=2)

    skipjack.create_study(study_name="doomed", storage=open_storage())
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "started"
    finally:
        worker.kill()
        worker.wait(TIMEOUT)
        if worker.stdout is not None:
            worker.stdout.close()

    study = skipjack.load_study(study_name="doomed", storage=open_storage())
    assert [t.state for t in study.trials] == [TrialState.RUNNING]
    deadline = time.monotonic() + 30
    while study.trials[0].state == TrialState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.25)
        fail_stale_trials(study)
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    assert study.trials[0].params.keys() == {"x"}
