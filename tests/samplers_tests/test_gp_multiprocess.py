"""GPSampler shared by several worker processes through one SQLite file or one journal file.

Three workers, all with the *same* seed, ask one trial each in turn and hold it RUNNING: A
proposes with nothing running, B while A runs, C while A and B run. With equal seeds and equal
data the proposals would be identical, so B and C landing elsewhere shows that the running
trials of other processes reach the sampler (constant liar). Then every worker finishes its
trial and optimizes a few more trials concurrently with the others.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import math
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

import pytest

import skipjack
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._gp import GPSampler
from skipjack.storages import BaseStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.trial import TrialState
from skipjack.trial import create_trial

SEED = 3
N_SEEDED = 6
N_MORE = 2  # trials each worker optimizes after its held one
WORKERS = ("a", "b", "c")
TIMEOUT = 90.0

DISTRIBUTIONS = {
    "x": FloatDistribution(-1.0, 1.0),
    "y": FloatDistribution(1e-3, 1.0, log=True),
    "k": IntDistribution(0, 10),
}

# A fresh interpreter per worker, as on another machine. Arguments: storage ("journal:PATH" or
# an RDB URL), seed, n_startup_trials, file to write the held trial's params to, file whose
# appearance releases that trial, trials to optimize afterwards, timeout.
WORKER = """
import json, math, os, sys, time
import skipjack
from skipjack.samplers._gp import GPSampler
from skipjack.storages.journal import JournalFileBackend, JournalStorage
skipjack.logging.set_verbosity(skipjack.logging.ERROR)
url, seed, n_startup, out_path, release_path, n_more, timeout = sys.argv[1:8]
storage = (JournalStorage(JournalFileBackend(url[len("journal:"):]))
           if url.startswith("journal:") else url)
sampler = GPSampler(seed=int(seed), n_startup_trials=int(n_startup))
study = skipjack.load_study(study_name="gp", storage=storage, sampler=sampler)

def suggest(trial):
    x = trial.suggest_float("x", -1.0, 1.0)
    y = trial.suggest_float("y", 1e-3, 1.0, log=True)
    k = trial.suggest_int("k", 0, 10)
    return (x - 0.3) ** 2 + (math.log10(y) + 1.5) ** 2 + 0.01 * (k - 4) ** 2

held = study.ask()
value = suggest(held)
with open(out_path + ".tmp", "w") as fh:
    json.dump({"number": held.number, "params": held.params}, fh)
os.replace(out_path + ".tmp", out_path)
deadline = time.monotonic() + float(timeout)
while not os.path.exists(release_path):
    if time.monotonic() > deadline:
        sys.exit("never released")
    time.sleep(0.02)
study.tell(held, value)
study.optimize(suggest, n_trials=int(n_more))
"""


def objective(params: dict[str, Any]) -> float:
    return (
        (params["x"] - 0.3) ** 2
        + (math.log10(params["y"]) + 1.5) ** 2
        + 0.01 * (params["k"] - 4) ** 2
    )


def seed_trials(storage: BaseStorage | str) -> skipjack.Study:
    """A study holding the same N_SEEDED completed trials, so every worker starts on the GP."""
    study = skipjack.create_study(study_name="gp", storage=storage)
    for i in range(N_SEEDED):
        params = {"x": -0.9 + 0.33 * i, "y": 10 ** (-0.4 * i - 0.2), "k": (3 * i) % 11}
        study.add_trial(
            create_trial(params=params, distributions=DISTRIBUTIONS, value=objective(params))
        )
    return study


def wait_for(path: Path, processes: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    """The JSON a worker writes to ``path``; fail if a worker dies or it takes too long."""
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        for p in processes:
            if p.poll() not in (None, 0):
                _, err = p.communicate()
                pytest.fail(f"worker failed: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {path.name} after {TIMEOUT:.0f} s")
        time.sleep(0.02)
    return dict(json.loads(path.read_text()))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:  # only after a failure: a passing test has waited for all of them
        if p.poll() is None:
            p.kill()
            p.wait()


def storage_for(backend: str, tmp_path: Path) -> tuple[str, BaseStorage | str]:
    """The URL the workers receive and the storage the test process opens."""
    if backend == "journal":
        path = tmp_path / "journal.log"
        return f"journal:{path}", JournalStorage(JournalFileBackend(str(path)))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    return url, url


def distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Distance in the unit cube of the search space (the GP's own coordinates)."""
    return math.sqrt(
        ((a["x"] - b["x"]) / 2.0) ** 2
        + (math.log(a["y"] / b["y"]) / math.log(1e3)) ** 2
        + ((a["k"] - b["k"]) / 10.0) ** 2
    )


@pytest.mark.parametrize("backend", ["sqlite", "journal"])
def test_workers_see_each_others_running_trials(
    backend: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    url, storage = storage_for(backend, tmp_path)
    seed_trials(storage)
    release = tmp_path / "release"
    held: dict[str, dict[str, Any]] = {}
    for name in WORKERS:
        out = tmp_path / f"{name}.json"
        args = [url, str(SEED), str(N_SEEDED), str(out), str(release), str(N_MORE), str(TIMEOUT)]
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        held[name] = wait_for(out, processes)  # the next worker starts while this one holds
    release.touch()
    for p in processes:
        _, err = p.communicate(timeout=TIMEOUT)
        assert p.returncode == 0, err.decode()[-2000:]

    # Control: the same seed and data with nothing running proposes exactly A's point.
    control = seed_trials(skipjack.storages.InMemoryStorage())
    control.sampler = GPSampler(seed=SEED, n_startup_trials=N_SEEDED)
    trial = control.ask()
    alone = {
        "x": trial.suggest_float("x", -1.0, 1.0),
        "y": trial.suggest_float("y", 1e-3, 1.0, log=True),
        "k": trial.suggest_int("k", 0, 10),
    }
    assert distance(alone, held["a"]["params"]) < 1e-6
    # B saw A running, C saw A and B: the liars pushed them away from A's point and each other.
    assert distance(held["b"]["params"], held["a"]["params"]) > 1e-3
    assert distance(held["c"]["params"], held["a"]["params"]) > 1e-3
    assert distance(held["c"]["params"], held["b"]["params"]) > 1e-3

    trials = skipjack.load_study(study_name="gp", storage=storage).trials
    n_total = N_SEEDED + len(WORKERS) * (1 + N_MORE)
    assert [t.number for t in trials] == list(range(n_total))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    for t in trials:
        assert set(t.params) == set(DISTRIBUTIONS)
        for name, dist in DISTRIBUTIONS.items():
            assert dist._contains(dist.to_internal_repr(t.params[name])), (name, t.params)
        assert t.value == pytest.approx(objective(t.params))
    for name in WORKERS:
        assert trials[held[name]["number"]].params == held[name]["params"]
