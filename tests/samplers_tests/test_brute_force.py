from __future__ import annotations

from collections import Counter
import multiprocessing
import os
from pathlib import Path
import sys
import time
from typing import Any
import uuid

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

import skipjack
from skipjack.samplers._brute_force import SURPLUS_ATTR
from skipjack.samplers._brute_force import BruteForceSampler
from skipjack.storages import InMemoryStorage
from skipjack.storages import JournalStorage
from skipjack.storages import RDBStorage
from skipjack.storages.journal import JournalFileBackend
from skipjack.trial import TrialState
from tests.conftest import REDIS_URL
from tests.conftest import unavailable_service
from tests.storages_tests.rdb_servers import MYSQL_URL
from tests.storages_tests.rdb_servers import POSTGRES_URL
from tests.storages_tests.rdb_servers import server_database

skipjack.logging.set_verbosity(skipjack.logging.WARNING)

pytestmark = pytest.mark.filterwarnings("ignore::skipjack.exceptions.ExperimentalWarning")


def _conditional(trial: skipjack.Trial) -> float:
    c = trial.suggest_categorical("c", ["float", "int"])
    if c == "float":
        return trial.suggest_float("x", 1, 3, step=0.5)
    a = trial.suggest_int("a", 1, 3)
    b = trial.suggest_int("b", a, 3)
    return a + b


# Enumerated by hand: 5 float values; (a, b) with 1 <= a <= b <= 3 gives 6 pairs.
_CONDITIONAL_ALL = {("float", x) for x in (1.0, 1.5, 2.0, 2.5, 3.0)} | {
    ("int", a, b) for a in range(1, 4) for b in range(a, 4)
}


def _combo(params: dict[str, Any]) -> tuple[Any, ...]:
    if params["c"] == "float":
        return ("float", params["x"])
    return ("int", params["a"], params["b"])


def _evaluated(study: skipjack.Study) -> Counter[tuple[Any, ...]]:
    return Counter(
        _combo(t.params)
        for t in study.get_trials(deepcopy=False)
        if not t.system_attrs.get(SURPLUS_ATTR)
    )


def test_conditional_space_enumerated_once_and_study_stops() -> None:
    study = skipjack.create_study(sampler=BruteForceSampler(seed=1))
    study.optimize(_conditional)  # no n_trials: the sampler must stop the study
    counts = _evaluated(study)
    assert set(counts) == _CONDITIONAL_ALL
    assert max(counts.values()) == 1
    assert len(study.trials) == len(_CONDITIONAL_ALL)


def test_seed_fixes_and_shuffles_order() -> None:
    def order(seed: int) -> list[tuple[Any, ...]]:
        study = skipjack.create_study(sampler=BruteForceSampler(seed=seed))
        study.optimize(_conditional)
        return [_combo(t.params) for t in study.trials]

    assert order(3) == order(3)
    assert len({tuple(order(s)) for s in range(4)}) > 1


def test_int_steps_and_categoricals() -> None:
    def objective(trial: skipjack.Trial) -> float:
        n = trial.suggest_int("n", 0, 10, step=5)
        flag = trial.suggest_categorical("flag", [True, False, None])
        return n + (flag is True)

    study = skipjack.create_study(sampler=BruteForceSampler())
    study.optimize(objective)
    got = [(t.params["n"], t.params["flag"]) for t in study.trials]
    assert sorted(got, key=repr) == sorted(
        [(n, f) for n in (0, 5, 10) for f in (True, False, None)], key=repr
    )


def test_float_without_step_is_refused() -> None:
    study = skipjack.create_study(sampler=BruteForceSampler())
    with pytest.raises(ValueError, match="step"):
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0))


def test_fail_counts_as_visited_and_enqueue_retries_that_combination() -> None:
    def objective(trial: skipjack.Trial) -> float:
        x = trial.suggest_int("x", 0, 3)
        if x == 2 and trial.user_attrs.get("retry") is None:
            raise RuntimeError("boom")
        return x

    study = skipjack.create_study(sampler=BruteForceSampler())
    study.optimize(objective, catch=(RuntimeError,))
    states = {t.params["x"]: t.state for t in study.trials}
    assert len(study.trials) == 4
    assert states[2] == TrialState.FAIL

    failed = next(t for t in study.trials if t.state == TrialState.FAIL)
    study.enqueue_trial(failed.params, user_attrs={"retry": True})
    study.optimize(objective, n_trials=1)
    retried = study.trials[-1]
    assert retried.params == {"x": 2}
    assert retried.state == TrialState.COMPLETE


def test_threads_evaluate_each_combination_once() -> None:
    study = skipjack.create_study(sampler=BruteForceSampler())
    study.optimize(_conditional, n_jobs=4)
    counts = _evaluated(study)
    assert set(counts) == _CONDITIONAL_ALL
    assert max(counts.values()) == 1


class _NoClaims(InMemoryStorage):
    def claim(self, study_id: int, key: str, trial_id: int) -> bool:
        raise NotImplementedError


def test_storage_without_claims_falls_back() -> None:
    study = skipjack.create_study(storage=_NoClaims(), sampler=BruteForceSampler())
    study.optimize(_conditional)
    assert set(_evaluated(study)) == _CONDITIONAL_ALL


def test_ask_tell_surplus_trial_is_pruned_with_a_message() -> None:
    study = skipjack.create_study(sampler=BruteForceSampler())
    for _ in range(3):
        trial = study.ask()
        study.tell(trial, trial.suggest_int("x", 0, 2))
    trial = study.ask()
    with pytest.raises(skipjack.TrialPruned, match="every combination"):
        trial.suggest_int("x", 0, 2)
    assert study._storage.get_trial_system_attrs(trial._trial_id)[SURPLUS_ATTR] is True


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(0, 100))
def test_dependent_ranges_count(highs: list[int], seed: int) -> None:
    # Parameter k ranges over [previous value, highs[k] + previous value].
    def objective(trial: skipjack.Trial) -> float:
        prev = 0
        for k, high in enumerate(highs):
            prev = trial.suggest_int(f"p{k}", prev, prev + high)
        return prev

    study = skipjack.create_study(sampler=BruteForceSampler(seed=seed))
    study.optimize(objective)
    expected = 1
    for high in highs:
        expected *= high + 1
    keys = Counter(tuple(sorted(t.params.items())) for t in study.trials)
    assert len(keys) == expected
    assert max(keys.values()) == 1


# ---- several processes on one study ----------------------------------------------------------
def _worker(kind: str, location: str) -> None:
    skipjack.logging.set_verbosity(skipjack.logging.WARNING)
    storage: Any
    storage = _open(kind, location)
    study = skipjack.load_study(study_name="bf", storage=storage, sampler=BruteForceSampler())
    study.optimize(_slow_space)


def _open(kind: str, location: str) -> Any:
    if kind == "journal":
        return JournalStorage(JournalFileBackend(location))
    if kind == "redis":
        from skipjack.storages.journal import JournalRedisBackend

        return JournalStorage(JournalRedisBackend(REDIS_URL, prefix=location))
    return RDBStorage(location)


def _run_processes(kind: str, location: str) -> None:
    skipjack.create_study(study_name="bf", storage=_open(kind, location))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(kind, location)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    study = skipjack.load_study(study_name="bf", storage=_open(kind, location))
    combos = Counter(
        (t.params["opt"], t.params.get("beta", t.params.get("momentum")), t.params["lr"])
        for t in study.get_trials(deepcopy=False)
        if not t.system_attrs.get(SURPLUS_ATTR)
    )
    assert set(combos) == _SLOW_ALL
    assert max(combos.values()) == 1
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.get_trials())


def _slow_space(trial: skipjack.Trial) -> float:
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    if opt == "adam":
        b = trial.suggest_int("beta", 0, 2)
    else:
        b = trial.suggest_int("momentum", 0, 3)
    lr = trial.suggest_int("lr", 1, 3)
    time.sleep(0.01)  # keep workers overlapping
    return b * lr


_SLOW_ALL = {("adam", b, lr) for b in range(3) for lr in range(1, 4)} | {
    ("sgd", m, lr) for m in range(4) for lr in range(1, 4)
}


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_processes_evaluate_each_combination_exactly_once(kind: str, tmp_path: Path) -> None:
    location = str(tmp_path / "journal.log") if kind == "journal" else f"sqlite:///{tmp_path}/b.db"
    _run_processes(kind, location)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_processes_on_database_servers(backend: str) -> None:
    base = POSTGRES_URL if backend == "postgresql" else MYSQL_URL
    with server_database(base) as url:
        _run_processes("rdb", url)


def test_processes_on_redis_journal() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        unavailable_service("Redis", str(error))
    prefix = f"skipjack-test-bf-{uuid.uuid4().hex}"
    try:
        _run_processes("redis", prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def test_retry_callback_takes_over_the_failed_combination() -> None:
    from skipjack.storages._callbacks import RetryHeartbeatStaleTrialCallback

    def objective(trial: skipjack.Trial) -> float:
        return trial.suggest_int("x", 0, 2) * 10 + trial.suggest_int("y", 0, 1)

    study = skipjack.create_study(sampler=BruteForceSampler(seed=0))
    dead = study.ask()
    x = dead.suggest_int("x", 0, 2)  # the worker "dies" here, holding x's branch
    study.tell(dead, state=TrialState.FAIL)
    RetryHeartbeatStaleTrialCallback()(study, study.trials[0])
    study.optimize(objective)

    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete[0].params["x"] == x  # the retry ran first, on the dead trial's branch
    assert Counter((t.params["x"], t.params["y"]) for t in complete) == Counter(
        (a, b) for a in range(3) for b in range(2)
    )


def test_avoid_premature_stop_with_threads() -> None:
    study = skipjack.create_study(sampler=BruteForceSampler(avoid_premature_stop=True))
    study.optimize(_conditional, n_jobs=3)
    counts = _evaluated(study)
    assert set(counts) == _CONDITIONAL_ALL and max(counts.values()) == 1


def _dying_worker(location: str, die: bool) -> None:
    skipjack.logging.set_verbosity(skipjack.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(location))
    study = skipjack.load_study(study_name="bf", storage=storage, sampler=BruteForceSampler())

    def objective(trial: skipjack.Trial) -> float:
        value = _slow_space(trial)
        if die:
            time.sleep(0.3)  # long enough for the test to see it RUNNING
            os._exit(1)  # killed mid-trial, holding its combination
        return value

    study.optimize(objective)


def test_killed_worker_does_not_stop_the_others(tmp_path: Path) -> None:
    location = str(tmp_path / "journal.log")
    storage = JournalStorage(JournalFileBackend(location))
    study_id = skipjack.create_study(study_name="bf", storage=storage)._study_id
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_dying_worker, args=(location, i == 0)) for i in range(3)]
    procs[0].start()
    deadline = time.monotonic() + 30
    while not any(t.params for t in storage.get_all_trials(study_id, states=(TrialState.RUNNING,))):
        assert time.monotonic() < deadline, "the doomed worker never started a trial"
        time.sleep(0.01)
    for p in procs[1:]:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [1, 0, 0]
    trials = skipjack.load_study(study_name="bf", storage=storage).get_trials()
    running = [t for t in trials if t.state == TrialState.RUNNING]
    assert len(running) == 1
    complete = Counter(
        (t.params["opt"], t.params.get("beta", t.params.get("momentum")), t.params["lr"])
        for t in trials
        if t.state == TrialState.COMPLETE
    )
    assert max(complete.values()) == 1
    assert len(complete) == len(_SLOW_ALL) - 1  # only the dead worker's combination is missing


class _CountingStorage(InMemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.full_reads_by_sampler = 0
        self.new_per_read: list[int] = []

    def get_all_trials(self, *args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename.endswith("samplers/_brute_force.py"):
                self.full_reads_by_sampler += 1
                break
            frame = frame.f_back  # type: ignore[assignment]
        return super().get_all_trials(*args, **kwargs)

    def get_finished_trials_since(self, study_id: int, watermark: int) -> Any:
        trials, mark = super().get_finished_trials_since(study_id, watermark)
        self.new_per_read.append(len(trials))
        return trials, mark


def test_sampler_reads_only_new_trials() -> None:
    storage = _CountingStorage()
    study = skipjack.create_study(storage=storage, sampler=BruteForceSampler())
    study.optimize(lambda t: t.suggest_int("a", 0, 9) + t.suggest_int("b", 0, 19))
    assert len(study.trials) == 200
    assert storage.full_reads_by_sampler == 0
    assert storage.new_per_read and max(storage.new_per_read) <= 1


@pytest.mark.filterwarnings("default")
def test_is_experimental_like_optuna() -> None:
    with pytest.warns(skipjack.exceptions.ExperimentalWarning):
        BruteForceSampler()
