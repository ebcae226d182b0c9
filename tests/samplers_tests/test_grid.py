from __future__ import annotations

from collections import Counter
import itertools
import multiprocessing
from pathlib import Path
import time
from typing import Any

import pytest

import skipjack
from skipjack.samplers._grid import GridSampler
from skipjack.storages import InMemoryStorage
from skipjack.storages import JournalStorage
from skipjack.storages import RDBStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.trial import TrialState

skipjack.logging.set_verbosity(skipjack.logging.WARNING)

SPACE: dict[str, list[Any]] = {"x": [-1, 0, 1], "y": ["a", "b"], "z": [0.5, 1.5]}
ALL = set(itertools.product(*SPACE.values()))


def _objective(trial: skipjack.Trial) -> float:
    x = trial.suggest_int("x", -1, 1)
    y = trial.suggest_categorical("y", ["a", "b"])
    z = trial.suggest_float("z", 0.0, 2.0)
    return x + z + (y == "a")


def _points(study: skipjack.Study) -> Counter[tuple[Any, ...]]:
    return Counter((t.params["x"], t.params["y"], t.params["z"]) for t in study.trials if t.params)


def test_every_point_once_and_study_stops() -> None:
    sampler = GridSampler(SPACE)
    study = skipjack.create_study(sampler=sampler)
    assert not sampler.is_exhausted(study)
    study.optimize(_objective)
    points = _points(study)
    assert set(points) == ALL and max(points.values()) == 1
    assert len(study.trials) == len(ALL)
    assert sampler.is_exhausted(study)


def test_seed_changes_order_reproducibly() -> None:
    def order(seed: int | None) -> list[tuple[Any, ...]]:
        study = skipjack.create_study(sampler=GridSampler(SPACE, seed=seed))
        study.optimize(_objective)
        return [(t.params["x"], t.params["y"], t.params["z"]) for t in study.trials]

    assert order(5) == order(5)
    assert order(None) == order(0)
    assert len({tuple(order(s)) for s in range(4)}) > 1


def test_threads_never_share_a_point() -> None:
    study = skipjack.create_study(sampler=GridSampler(SPACE))
    study.optimize(_objective, n_jobs=4)
    points = _points(study)
    assert set(points) == ALL and max(points.values()) == 1


def test_ask_tell_past_the_end_says_the_grid_is_exhausted() -> None:
    sampler = GridSampler({"x": [0, 1]})
    study = skipjack.create_study(sampler=sampler)
    for _ in range(2):
        trial = study.ask()
        study.tell(trial, trial.suggest_int("x", 0, 1))  # no RuntimeError at the last tell
    assert sampler.is_exhausted(study)
    trial = study.ask()
    with pytest.raises(skipjack.TrialPruned, match="exhausted"):
        trial.suggest_int("x", 0, 1)


def test_unknown_parameter_and_partial_enqueue_are_errors() -> None:
    study = skipjack.create_study(sampler=GridSampler({"x": [0, 1]}))
    with pytest.raises(ValueError, match="not found"):
        study.optimize(lambda t: t.suggest_int("w", 0, 1), n_trials=1)

    study = skipjack.create_study(sampler=GridSampler({"x": [0, 1], "y": [2]}))
    study.enqueue_trial({"x": 1})
    with pytest.raises(ValueError, match="enqueue_trial"):
        study.optimize(lambda t: t.suggest_int("x", 0, 1) + t.suggest_int("y", 0, 5), n_trials=1)


def test_enqueued_full_point_and_out_of_range_warning() -> None:
    study = skipjack.create_study(sampler=GridSampler({"x": [0, 5]}))
    study.enqueue_trial({"x": 0})
    study.optimize(lambda t: t.suggest_int("x", 0, 5), n_trials=1)
    assert study.trials[0].params == {"x": 0}
    study = skipjack.create_study(sampler=GridSampler({"x": [7]}))
    with pytest.warns(UserWarning, match="out of range"):
        study.optimize(lambda t: t.suggest_int("x", 0, 5), n_trials=1)


def test_unsupported_value_type_warns() -> None:
    with pytest.warns(UserWarning, match="not support"):
        GridSampler({"x": [[1, 2]]})  # type: ignore[list-item]


class _NoClaims(InMemoryStorage):
    def claim(self, study_id: int, key: str, trial_id: int) -> bool:
        raise NotImplementedError


def test_storage_without_claims() -> None:
    study = skipjack.create_study(storage=_NoClaims(), sampler=GridSampler(SPACE))
    study.optimize(_objective)
    assert set(_points(study)) == ALL


def _worker(kind: str, location: str) -> None:
    skipjack.logging.set_verbosity(skipjack.logging.WARNING)
    storage: Any = (
        JournalStorage(JournalFileBackend(location)) if kind == "journal" else RDBStorage(location)
    )
    study = skipjack.load_study(study_name="g", storage=storage, sampler=GridSampler(SPACE))

    def slow(trial: skipjack.Trial) -> float:
        time.sleep(0.01)
        return _objective(trial)

    study.optimize(slow)


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_processes_share_the_grid_exactly_once(kind: str, tmp_path: Path) -> None:
    if kind == "journal":
        location = str(tmp_path / "g.log")
        storage: Any = JournalStorage(JournalFileBackend(location))
    else:
        location = f"sqlite:///{tmp_path / 'g.db'}"
        storage = RDBStorage(location)
    skipjack.create_study(study_name="g", storage=storage)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(kind, location)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    study = skipjack.load_study(study_name="g", storage=storage)
    points = _points(study)
    assert set(points) == ALL and max(points.values()) == 1
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
