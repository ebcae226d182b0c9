"""Journal file durability: which operations fsync, and that records are visible before that."""

from __future__ import annotations

from collections.abc import Callable
import json
import os
import subprocess
import sys
from typing import Any

import pytest

import skipjack
from skipjack.distributions import FloatDistribution
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.study._study_direction import StudyDirection
from skipjack.trial import create_trial
from skipjack.trial._state import TrialState

skipjack.logging.set_verbosity(skipjack.logging.WARNING)

MINIMIZE = [StudyDirection.MINIMIZE]
TIMEOUT = 60.0


class FsyncSpy:
    """Stands in for ``os.fsync``: calls the real one, and records the log file's lines and
    the file synced at each call."""

    def __init__(self, path: str, real: Callable[[int], None]) -> None:
        self.path = path
        self.real = real
        self.calls: list[list[dict[str, Any]]] = []

    def __call__(self, fd: int) -> None:
        assert os.fstat(fd).st_ino == os.stat(self.path).st_ino  # the log itself is synced
        with open(self.path, "rb") as f:
            self.calls.append([json.loads(line) for line in f])
        self.real(fd)


@pytest.fixture
def spy(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> FsyncSpy:
    spy = FsyncSpy(os.path.join(tmp_path, "journal.log"), os.fsync)
    monkeypatch.setattr(os, "fsync", spy)
    return spy


def _lines(path: str) -> list[dict[str, Any]]:
    with open(path, "rb") as f:
        return [json.loads(line) for line in f]


def test_one_fsync_per_finished_trial(spy: FsyncSpy) -> None:
    storage = JournalStorage(JournalFileBackend(spy.path))
    study = skipjack.create_study(storage=storage, sampler=skipjack.samplers.RandomSampler(0))
    assert len(spy.calls) == 1  # creating the study

    def objective(trial: skipjack.Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        trial.suggest_int("n", 1, 10)
        trial.suggest_categorical("c", ["a", "b"])
        trial.report(x, 0)
        trial.set_user_attr("note", "hi")
        if trial.number == 3:
            raise skipjack.TrialPruned()
        return x * x

    study.optimize(objective, n_trials=6)
    study.optimize(lambda t: float("nan"), n_trials=1)  # a FAIL, with a warning only
    assert [t.state for t in study.trials].count(TrialState.PRUNED) == 1
    assert study.trials[-1].state == TrialState.FAIL
    assert len(spy.calls) == 1 + 7
    # Each fsync came right after the record finishing a trial, with everything before it.
    for synced in spy.calls[1:]:
        assert synced[-1]["op_code"] == 6
        assert TrialState(synced[-1]["state"]).is_finished()
    assert spy.calls[-1] == _lines(spy.path)


# Each operation, given (storage, study id, a running trial id, a waiting trial id), and
# whether it must be durable when it returns.
OPERATIONS: dict[str, tuple[Callable[[JournalStorage, int, int, int], Any], bool]] = {
    "create study": (lambda s, st, r, w: s.create_new_study(MINIMIZE, "another"), True),
    "delete study": (lambda s, st, r, w: s.delete_study(st), True),
    "study user attr": (lambda s, st, r, w: s.set_study_user_attr(st, "k", 1), True),
    "study system attr": (lambda s, st, r, w: s.set_study_system_attr(st, "k", 1), True),
    "claim": (lambda s, st, r, w: s.claim(st, "cell-1", r), True),
    "add finished trial": (
        lambda s, st, r, w: s.create_new_trial(st, create_trial(value=1.0)),
        True,
    ),
    "enqueue": (
        lambda s, st, r, w: s.create_new_trial(st, create_trial(state=TrialState.WAITING)),
        True,
    ),
    "complete": (lambda s, st, r, w: s.set_trial_state_values(r, TrialState.COMPLETE, [1]), True),
    "prune": (lambda s, st, r, w: s.set_trial_state_values(r, TrialState.PRUNED), True),
    "fail": (lambda s, st, r, w: s.set_trial_state_values(r, TrialState.FAIL), True),
    "create running trial": (lambda s, st, r, w: s.create_new_trial(st), False),
    "param": (
        lambda s, st, r, w: s.set_trial_param(r, "x", 0.5, FloatDistribution(0.0, 1.0)),
        False,
    ),
    "intermediate value": (lambda s, st, r, w: s.set_trial_intermediate_value(r, 0, 1.0), False),
    "trial user attr": (lambda s, st, r, w: s.set_trial_user_attr(r, "k", [1, 2]), False),
    "trial system attr": (lambda s, st, r, w: s.set_trial_system_attr(r, "k", {"a": 1}), False),
    "heartbeat": (lambda s, st, r, w: s.record_heartbeat(r), False),
    "pop waiting trial": (
        lambda s, st, r, w: s.set_trial_state_values(w, TrialState.RUNNING),
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_which_operations_are_durable(spy: FsyncSpy, name: str) -> None:
    operation, durable = OPERATIONS[name]
    storage = JournalStorage(JournalFileBackend(spy.path))
    study_id = storage.create_new_study(MINIMIZE, "study")
    running = storage.create_new_trial(study_id)
    waiting = storage.create_new_trial(study_id, create_trial(state=TrialState.WAITING))
    before, n_lines = len(spy.calls), len(_lines(spy.path))

    operation(storage, study_id, running, waiting)

    lines = _lines(spy.path)
    assert len(lines) == n_lines + 1  # in the file at once, durable or not
    # Another reader sees the record too.
    assert len(JournalFileBackend(spy.path).read_logs(0)) == len(lines)
    assert len(spy.calls) - before == (1 if durable else 0)
    if durable:
        assert spy.calls[-1] == lines


def test_deferred_records_are_flushed_by_the_next_durable_one(spy: FsyncSpy) -> None:
    storage = JournalStorage(JournalFileBackend(spy.path))
    study_id = storage.create_new_study(MINIMIZE)
    trial_id = storage.create_new_trial(study_id)
    storage.set_trial_param(trial_id, "x", 0.25, FloatDistribution(0.0, 1.0))
    storage.set_trial_intermediate_value(trial_id, 3, 0.5)
    assert len(spy.calls) == 1
    storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [0.5])
    assert len(spy.calls) == 2
    ops = [record["op_code"] for record in spy.calls[-1]]
    assert ops == [0, 4, 5, 7, 6]  # the running trial's records, then the final one


RUNNING_WORKER = """
import os, sys
import skipjack
from skipjack.storages.journal import JournalFileBackend, JournalStorage
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
fsyncs = []
real_fsync = os.fsync
os.fsync = lambda fd: (fsyncs.append(fd), real_fsync(fd))[1]
storage = JournalStorage(JournalFileBackend(sys.argv[1]))
study = skipjack.load_study(study_name="s", storage=storage)

def objective(trial):
    trial.suggest_float("x", 0.0, 1.0)
    trial.report(0.5, 1)
    print(len(fsyncs), flush=True)
    sys.stdin.readline()  # until the test has looked
    return 0.0

study.optimize(objective, n_trials=1)
"""


def test_another_process_sees_a_running_trial_at_once(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "journal.log")
    skipjack.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(path)))
    worker = subprocess.Popen(
        [sys.executable, "-c", RUNNING_WORKER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None and worker.stdin is not None
        assert worker.stdout.readline().strip() == "0"  # nothing synced for a running trial
        study = skipjack.load_study(
            study_name="s", storage=JournalStorage(JournalFileBackend(path))
        )
        (trial,) = study.trials
        assert trial.state == TrialState.RUNNING
        assert trial.params.keys() == {"x"}
        assert trial.intermediate_values.keys() == {1}
        worker.kill()  # its records stay: they were written to the file, not kept in memory
        worker.wait(TIMEOUT)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(TIMEOUT)
        for stream in (worker.stdin, worker.stdout):
            if stream is not None:
                stream.close()
    study = skipjack.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(path)))
    assert study.trials[0].params.keys() == {"x"}
