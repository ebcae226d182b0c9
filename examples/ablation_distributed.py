"""Distributed ablation study: several worker processes share one journal file.

This is what you would run as a SLURM job array on a shared filesystem: every worker runs the
same script against the same journal file, picks up combinations nobody has started, and stops
when none are left. Here the script launches 4 workers itself in a temporary directory, then
checks that each of the 2 x 10 combinations was evaluated exactly once and prints the report.

Run ``python ablation_distributed.py --worker JOURNAL_PATH`` to start one worker by hand.
"""

from __future__ import annotations

from collections import Counter
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import skipjack as optuna
from skipjack.ablation import ablation_report
from skipjack.storages import JournalStorage
from skipjack.storages.journal import JournalFileBackend

STUDY_NAME = "my-ablation"
N_WORKERS = 4


def objective(trial: optuna.Trial) -> float:
    """A mock training run that takes a little time, so the workers overlap."""
    optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
    lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
    time.sleep(0.05)
    return (0.9 if optimizer == "Adam" else 0.85) + lr * 10


def run_worker(journal_path: str) -> None:
    """One worker: join the study (creating it if needed) and evaluate until nothing is left."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(journal_path))
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.BruteForceSampler(),
        load_if_exists=True,  # all workers join the same study
    )
    study.optimize(objective)


def main() -> None:
    """Launch the workers, wait for them, and report."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        journal_path = str(Path(tmp) / "ablation_journal.log")
        # Create the study once so the workers do not race to create it.
        storage = JournalStorage(JournalFileBackend(journal_path))
        optuna.create_study(study_name=STUDY_NAME, storage=storage, direction="maximize")
        workers = [
            subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", journal_path])
            for _ in range(N_WORKERS)
        ]
        codes = [w.wait(timeout=300) for w in workers]
        print(f"Workers: {N_WORKERS}, exit codes: {codes}")

        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        evaluated = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        counts = Counter(tuple(sorted(t.params.items())) for t in evaluated)
        print(f"Evaluated trials: {len(evaluated)}")
        print(f"Distinct combinations: {len(counts)}")
        print(f"Duplicates: {sum(c - 1 for c in counts.values())}")
        print(ablation_report(study))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2])
    else:
        main()
