"""Constant liar across processes sharing a journal file."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys
import textwrap

import skipjack
from skipjack.storages.journal import JournalFileBackend
from skipjack.storages.journal import JournalStorage
from skipjack.trial import TrialState

WORKER = textwrap.dedent(
    """
    import sys, time, warnings
    import skipjack
    from skipjack.samplers._tpe._sampler import TPESampler
    from skipjack.storages.journal import JournalFileBackend, JournalStorage

    skipjack.logging.set_verbosity(skipjack.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(sys.argv[1]))
    study = skipjack.load_study(
        study_name="liar", storage=storage,
        sampler=TPESampler(seed=int(sys.argv[2]), n_startup_trials=3),
    )

    def objective(trial):
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_int("y", 0, 10)
        time.sleep(0.02)  # keep trials of the two workers overlapping
        return x * x + (y - 3) ** 2

    study.optimize(objective, n_trials=8)
    """
)


def test_two_processes_with_constant_liar(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.log")
    storage = JournalStorage(JournalFileBackend(path))
    skipjack.create_study(study_name="liar", storage=storage)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, path, str(seed)]) for seed in (1, 2)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    study = skipjack.load_study(study_name="liar", storage=JournalStorage(JournalFileBackend(path)))
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 16
    # Relative samples were published for the other worker's constant liar.
    assert any(any(k.startswith("tpe:relative_params") for k in t.system_attrs) for t in trials)
    assert len({(t.params["x"], t.params["y"]) for t in trials}) == 16
