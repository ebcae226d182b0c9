"""Pruning decisions made by separate worker processes on one shared storage.

Rung records (successive halving) and completed trials' reports (median) travel through the
storage, so a sequence of trials evaluated by different processes must be pruned exactly as the
same sequence evaluated in one process on an in-memory storage.
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
from typing import Any

import pytest

import skipjack
from skipjack.distributions import FloatDistribution
from skipjack.storages import BaseStorage
from skipjack.storages import InMemoryStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.trial import TrialState
from skipjack.trial import create_trial

N_STEPS = 12
TIMEOUT = 120.0
PRUNERS = {
    "median": "skipjack.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)",
    "sha": "skipjack.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)",
}

WORKER = """import json, sys
import skipjack
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
from skipjack.storages.journal import JournalFileBackend, JournalStorage
url, pruner_src, curve = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
storage = JournalStorage(JournalFileBackend(url[len("journal:"):])) if url.startswith(
    "journal:") else url
study = skipjack.load_study(study_name="s", storage=storage, pruner=eval(pruner_src))
print(json.dumps(skipjack_decide(study, curve)))
"""


def decide(study: skipjack.Study, curve: list[float]) -> int | None:
    """Evaluate one trial reporting ``curve``; return the step it was pruned at, or None."""
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    for step, value in enumerate(curve):
        trial.report(value, step)
        if trial.should_prune():
            study.tell(trial, state=TrialState.PRUNED)
            return step
    study.tell(trial, curve[-1])
    return None


def curves() -> list[list[float]]:
    """Learning curves (to minimize) of different quality, in the order they are evaluated."""
    finals = [0.5, 0.2, 0.9, 0.1, 0.7, 0.3, 0.95, 0.15]
    return [[final + 1.0 / (step + 1) for step in range(N_STEPS)] for final in finals]


def seed_history(storage: BaseStorage | str) -> skipjack.Study:
    study = skipjack.create_study(study_name="s", storage=storage)
    for k in range(4):
        study.add_trial(
            create_trial(
                params={"x": 0.1 * k},
                distributions={"x": FloatDistribution(0.0, 1.0)},
                value=0.4 + 0.1 * k,
                intermediate_values={s: 0.4 + 0.1 * k + 1.0 / (s + 1) for s in range(N_STEPS)},
            )
        )
    return study


def run_worker(url: str, pruner: str, curve: list[float]) -> Any:
    header = "from __future__ import annotations\nimport json, sys\n" + _decide_source()
    source = WORKER.replace("skipjack_decide", "decide").replace("import json, sys", header)
    result = subprocess.run(
        [sys.executable, "-c", source, url, pruner, json.dumps(curve)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _decide_source() -> str:
    import inspect

    return "from skipjack.trial import TrialState\n" + inspect.getsource(decide)


@pytest.mark.parametrize("pruner", sorted(PRUNERS))
@pytest.mark.parametrize("backend", ["journal", "sqlite"])
def test_workers_prune_as_one_process_would(tmp_path: Path, backend: str, pruner: str) -> None:
    if backend == "journal":
        path = tmp_path / "journal.log"
        seed_history(JournalStorage(JournalFileBackend(str(path))))
        url = f"journal:{path}"
    else:
        url = f"sqlite:///{tmp_path / 'study.db'}"
        seed_history(url)

    across_processes = [run_worker(url, PRUNERS[pruner], c) for c in curves()]

    reference_study = seed_history(InMemoryStorage())
    reference_study.pruner = eval(PRUNERS[pruner])
    in_one_process = [decide(reference_study, c) for c in curves()]

    assert across_processes == in_one_process
    # The scenario must exercise the pruner: some trials pruned, some not.
    assert any(d is None for d in in_one_process)
    assert any(d is not None for d in in_one_process)
