"""kill -9 of a worker mid-trial: the survivors fail its trial and run a retry of exactly its
parameters, so every queued parameter set is completed and nothing is left RUNNING."""

from __future__ import annotations

import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading

import pytest

import skipjack
from skipjack.storages._base import BaseStorage
from skipjack.storages._callbacks import RetryFailedTrialCallback
from skipjack.storages._rdb import RDBStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.trial._state import TrialState

N_WORKERS = 3
PARAM_SETS = [{"i": i, "x": i / 8} for i in range(12)]
TIMEOUT = 90.0

# A fresh interpreter per worker, as a spawned process or a job on another node would be.
# argv: storage kind, path. Each worker stops once every queued parameter set is complete.
WORKER = """
import sys, time, warnings
import skipjack
from skipjack.storages._callbacks import RetryFailedTrialCallback
from skipjack.trial import TrialState
warnings.simplefilter("ignore", FutureWarning)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
kind, path = sys.argv[1], sys.argv[2]
callback = RetryFailedTrialCallback()
options = dict(heartbeat_interval=1, grace_period=2, failed_trial_callback=callback)
if kind == "sqlite":
    storage = skipjack.storages.RDBStorage("sqlite:///" + path, **options)
else:
    from skipjack.storages.journal import JournalFileBackend, JournalStorage
    storage = JournalStorage(JournalFileBackend(path), **options)
study = skipjack.load_study(study_name="kill", storage=storage)
wanted = {(i, i / 8) for i in range(12)}

def objective(trial):
    key = (trial.suggest_int("i", 0, 11), trial.suggest_float("x", 0.0, 1.5))
    print("started", trial.number, flush=True)
    time.sleep(0.4)
    return key[1]

def stop_when_all_done(study, trial):
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if wanted <= {(t.params["i"], t.params["x"]) for t in done}:
        study.stop()

study.optimize(objective, n_trials=100, callbacks=[stop_when_all_done])
"""


def _storage(kind: str, path: str) -> BaseStorage:
    if kind == "sqlite":
        return RDBStorage(f"sqlite:///{path}")
    return JournalStorage(JournalFileBackend(path))


def _lines(stream: object, sink: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.put(line)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_killed_worker_trial_is_failed_and_retried_by_the_survivors(
    kind: str, tmp_path: pathlib.Path
) -> None:
    path = str(tmp_path / ("kill.db" if kind == "sqlite" else "kill.log"))
    storage = _storage(kind, path)
    study = skipjack.create_study(study_name="kill", storage=storage)
    for params in PARAM_SETS:
        study.enqueue_trial(params)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, kind, path],
            stdout=subprocess.PIPE if n == 0 else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(N_WORKERS)
    ]
    try:
        started: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(workers[0].stdout, started), daemon=True).start()
        line = started.get(timeout=TIMEOUT)  # the victim is inside its first objective call
        killed_number = int(line.split()[1])
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(TIMEOUT)
        outcomes = [(w.wait(TIMEOUT), w.stderr.read()) for w in workers[1:]]  # type: ignore[union-attr]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert outcomes == [(0, "")] * (N_WORKERS - 1)

    trials = skipjack.load_study(study_name="kill", storage=_storage(kind, path)).trials
    assert [t for t in trials if t.state == TrialState.RUNNING] == []
    killed = trials[killed_number]
    assert killed.state == TrialState.FAIL
    retries = [
        t for t in trials if RetryFailedTrialCallback.retried_trial_number(t) == killed_number
    ]
    assert len(retries) == 1  # the callback ran once, though two workers were reaping
    (retry,) = retries
    assert retry.state == TrialState.COMPLETE
    assert retry.params == killed.params
    assert retry.number > killed_number
    assert RetryFailedTrialCallback.retry_history(retry) == [killed_number]
    # Only the killed trial failed, and every queued parameter set was completed.
    assert [t.number for t in trials if t.state == TrialState.FAIL] == [killed_number]
    complete = {(t.params["i"], t.params["x"]) for t in trials if t.state == TrialState.COMPLETE}
    assert {(p["i"], p["x"]) for p in PARAM_SETS} <= complete
    if isinstance(storage, RDBStorage):
        storage.engine.dispose()
