from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import pytest

import skipjack
from skipjack.cli import main
from skipjack.samplers._brute_force import BruteForceSampler
from skipjack.storages import JournalStorage
from skipjack.storages import RDBStorage
from skipjack.storages.journal import JournalFileBackend

pytestmark = pytest.mark.filterwarnings("ignore::skipjack.exceptions.ExperimentalWarning")


def _fill(study: skipjack.Study) -> None:
    study.optimize(
        lambda t: t.suggest_int("x", 0, 2) * 10 + t.suggest_int("y", 0, 1),
        n_trials=6,
    )


def test_studies_and_ablation_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    study = skipjack.create_study(
        study_name="cli-study",
        storage=url,
        sampler=BruteForceSampler(),
    )
    _fill(study)
    assert main(["studies", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert "cli-study" in out and "minimize" in out and " 6" in out

    assert main(["ablation", "--storage", url, "--study-name", "cli-study"]) == 0
    out = capsys.readouterr().out
    assert "x: effect size 20" in out and "y: effect size 1" in out


def test_ablation_on_journal_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "j.log")
    study = skipjack.create_study(study_name="j", storage=JournalStorage(JournalFileBackend(path)))
    _fill(study)
    assert main(["ablation", "--storage", path, "--study-name", "j"]) == 0
    assert "complete trials" in capsys.readouterr().out
    assert main(["ablation", "--storage", "journal:" + path, "--study-name", "j"]) == 0


def test_unknown_study_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    RDBStorage(url)
    assert main(["ablation", "--storage", url, "--study-name", "missing"]) == 1
    assert "Error" in capsys.readouterr().err


def test_storage_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    RDBStorage(url)
    assert main(["storage", "upgrade", "--storage", url]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["storage", "upgrade", "--storage", str(tmp_path / "x.log")]) == 1


def test_missing_subcommand_exits_with_usage() -> None:
    with pytest.raises(SystemExit):
        main([])


def test_module_entry_point(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    skipjack.create_study(study_name="m", storage=url)
    proc = subprocess.run(
        [sys.executable, "-m", "skipjack.cli", "studies", "--storage", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "m " in proc.stdout
