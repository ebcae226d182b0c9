"""The recipes of the mission's documents (``/work/shared/seeds/*.txt``), run as a user runs them.

Each test reproduces one recipe with ``import skipjack as optuna`` and asserts what the document
says the recipe does. Helpers the documents leave undefined (``create_model``, ``train_epoch``,
``sklearn.svm.SVC``, ...) are tiny synthetic stand-ins. Minus signs lost in the text extraction
are restored (``(x  2) ** 2`` is ``(x - 2) ** 2``, ``1e10`` as a lower log bound is ``1e-10``).

Recipes covered, by document:

* 000 (ablation studies): the basic and the conditional ablation with BruteForceSampler (every
  combination evaluated exactly once, 3 x 10 x 2 = 60 and (4 + 6) x 10 = 100 trials, the study
  stopping by itself), the distributed ablation (three worker processes running the seed's
  script against one journal file, then a relaunch), the retry of a killed worker's trial
  (RDBStorage on an SQLite file, and the same with a journal file, heartbeat_interval=1,
  grace_period=2, RetryFailedTrialCallback and BruteForceSampler, one worker SIGKILLed
  mid-trial while another runs on), and the manual re-enqueue of stale RUNNING trials on a
  journal file.
* 001 (BruteForceSampler API): the example whose ``b`` ranges from ``a`` to 3 (11 trials), and
  the sampler interface every sampler implements, with a user-written sampler recording calls.
* 002 (FAQ): objectives with arguments (callable class, lambda, functools.partial), the in-memory
  default storage, saving/resuming with pickle (and joblib when installed) and with
  ``sqlite:///example.db`` (resumed in a fresh interpreter), silencing logs with
  ``set_verbosity(WARNING)``, saving models by trial number, seeded reproducibility (with
  RandomSampler and with ``TPESampler(seed=10)``), exceptions and ``catch``, NaN results,
  altering the search space between trials, FixedTrial unit tests, ``gc_after_trial`` and the
  ``gc.collect`` callback, logging only on a new best value, Dirichlet proportions, constrained
  multi-objective optimization (also ``NSGAIISampler(constraints_func=...)``), thread
  parallelism (``n_jobs``), process parallelism through ``JournalStorage(JournalFileStorage(...))``
  (the deprecated alias: FutureWarning), heartbeats with ``sqlite:///:memory:`` (with and
  without RetryFailedTrialCallback, both deprecated since Optuna 4.9: FutureWarning),
  permutations through Lehmer codes, skipping duplicated samples.
* 003 (define-by-run and pruning): the basic objective, pruning with report/should_prune and
  MedianPruner, and MedianPruner's ``n_startup_trials`` / ``n_warmup_steps``.

Adapted:

* Scripts the seeds run as ``import optuna`` run with ``import skipjack as optuna``; their
  paths (``/shared/nfs/...``, ``example.db``) live in ``tmp_path``, and objective bodies left as
  ``...`` ("train your model") return a mock score (with a short sleep so workers interleave).
* 000 distributed and retry recipes: a worker that starts a trial when every combination is
  taken gets it PRUNED with no parameters (skipjack's BruteForceSampler claims combinations in
  the storage); Optuna would evaluate a random duplicate. The tests assert exactly-once
  coverage, which the seed promises and Optuna only approximates.
* 000 retry recipe: the survivor's trials sleep 0.4 s so that it is still running when the
  killed trial turns stale (SQLite heartbeat times have whole seconds).
  ``test_worker_covers_the_space_around_a_hung_trial`` checks that a worker covers the branch
  around another worker's hung trial instead of stopping early.
* 000 retry recipe on a journal file: the seed says JournalStorage has no heartbeats (true of
  Optuna); skipjack's has them, so the same recipe is also run on a journal file.
* 000 manual re-enqueue: a grace period of 0 s makes the hung trial stale. The recipe passes a
  FrozenTrial to ``study.tell``, which real Optuna 5.0 rejects with a TypeError.
* 002 constraints: a RandomSampler variant keeps the constraints in user attributes (as the
  recipe stores them) and, in a second test, declares them with ``trial.set_constraint`` so
  ``best_trials`` keeps feasible trials only.
* 002 exceptions and NaN: the FAQ shows older output (``Setting status of trial#0 as
  TrialState.FAIL ...``, a state column of ``TrialState.FAIL``, the reason in system_attrs).
  The tests expect Optuna 5.0's: ``Trial 0 failed with parameters: {...} because of the
  following error: ...``, a state column of ``FAIL`` and no stored reason.

Left out:

* 002 SQLite concurrency settings (``engine_kwargs={"connect_args": {"timeout": 20.0}}``) and
  multi-node RDB parallelism; 003 ``storage='sqlite:///my_study.db'`` persistence pitfall.
* The FAQ's plotting of the Dirichlet samples (matplotlib) and CUDA_VISIBLE_DEVICES (no library
  behaviour) are not reproduced.

The log recipes run as a user script in a fresh interpreter: the library's default handler
keeps the ``sys.stderr`` of the moment it was created (the import, during collection), so
pytest's ``capfd`` does not see it (the same holds for Optuna itself).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
import functools
import gc
import math
import os
from pathlib import Path
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any
import warnings
import weakref

import numpy as np
import pytest

import skipjack as optuna

TrialState = optuna.trial.TrialState
FixedTrial = optuna.trial.FixedTrial
FloatDistribution = optuna.distributions.FloatDistribution
IntDistribution = optuna.distributions.IntDistribution

# BruteForceSampler is experimental, as in Optuna; the basic ablation test asserts the warning.
pytestmark = pytest.mark.filterwarnings("ignore::skipjack.exceptions.ExperimentalWarning")

_LOG_PREFIX = r"\[{level} \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}}\] "


@pytest.fixture
def restore_verbosity() -> Iterator[None]:
    """Put the library's log level back after a test that changes it."""
    old = optuna.logging.get_verbosity()
    yield
    optuna.logging.set_verbosity(old)


def _run_user_script(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` after ``import skipjack as optuna`` in a fresh interpreter."""
    script = "import skipjack as optuna\n" + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def _dominates(a: list[float], b: list[float]) -> bool:
    """Minimization dominance: ``a`` no worse everywhere and better somewhere."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def _pareto_numbers(trials: list[optuna.trial.FrozenTrial]) -> set[int]:
    front = set()
    for t in trials:
        assert t.values is not None
        if not any(_dominates(s.values, t.values) for s in trials if s.values is not None):
            front.add(t.number)
    return front


# ---- 000: ablation studies ------------------------------------------------------------------


def test_manual_re_enqueue_of_stale_running_trials(tmp_path: Path) -> None:
    def objective(trial: optuna.Trial) -> float:
        optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
        lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
        return lr * (2.0 if optimizer == "Adam" else 1.0)

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "ablation_journal.log")),
    )
    study = optuna.create_study(
        study_name="my-ablation",
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.BruteForceSampler(),
        load_if_exists=True,
    )
    study.optimize(objective, n_trials=2)
    # A worker that asked for a trial, drew its parameters and then hung.
    hung = study.ask()
    objective(hung)
    stale_params = study.trials[hung.number].params
    time.sleep(0.002)

    # The recipe, with a grace period of 0 seconds so the hung trial counts as stale. It tells
    # the FrozenTrial from study.trials, which Optuna 5.0's Study.tell rejects (TypeError: it
    # takes a Trial or a trial number); skipjack accepts it so the recipe runs as written.
    grace_period = 0
    for trial in study.trials:
        if trial.state == optuna.trial.TrialState.RUNNING:
            # datetime_start is set for every RUNNING trial.
            if (datetime.now() - trial.datetime_start).total_seconds() > grace_period:  # type: ignore[operator]
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                study.enqueue_trial(trial.params)

    trials = study.trials
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.WAITING,
    ]
    study.optimize(objective, n_trials=1)
    retried = study.trials[3]
    assert retried.state == TrialState.COMPLETE
    assert retried.params == stale_params

    # A trial that has only just started is left alone with the recipe's one-day grace period.
    young = study.ask()
    grace_period = 3600 * 24
    for trial in study.trials:
        if trial.state == optuna.trial.TrialState.RUNNING:
            # datetime_start is set for every RUNNING trial.
            if (datetime.now() - trial.datetime_start).total_seconds() > grace_period:  # type: ignore[operator]
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                study.enqueue_trial(trial.params)
    assert study.trials[young.number].state == TrialState.RUNNING
    assert len(study.trials) == 5

    # The young trial drew nothing yet; once it is settled the study finishes the space, the
    # re-enqueued combination counted once.
    study.tell(young, state=TrialState.FAIL)
    study.optimize(objective)
    trials = study.trials
    expected = {(o, lr) for o in ("Adam", "SGD") for lr in _lr_grid()}
    seen = _ablation_combinations(trials)
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    assert [t.number for t in trials if t.state == TrialState.FAIL] == [2, 4]


# ---- 001: the sampler interface -------------------------------------------------------------


class RecordingSampler(optuna.samplers.BaseSampler):
    """A user-written sampler: relative sampling for ``x``, the lower bound for the rest."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.calls.append(("before_trial", trial.number))

    def infer_relative_search_space(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial
    ) -> dict[str, Any]:
        self.calls.append(("infer_relative_search_space", trial.number))
        return {"x": FloatDistribution(0.0, 1.0)}

    def sample_relative(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial, search_space: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(("sample_relative", trial.number, sorted(search_space)))
        return {"x": 0.25}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        param_name: str,
        param_distribution: Any,
    ) -> Any:
        self.calls.append(("sample_independent", trial.number, param_name))
        return param_distribution.low

    def after_trial(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        state: optuna.trial.TrialState,
        values: Any,
    ) -> None:
        stored = study.get_trials(deepcopy=False)[trial.number]
        self.calls.append(("after_trial", trial.number, state, values, stored.state))

    def reseed_rng(self) -> None:
        self.calls.append(("reseed_rng",))


def test_sampler_interface_call_order() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_int("y", 3, 7)
        return x + y

    sampler = RecordingSampler()
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=2)

    expected = []
    for n in range(2):
        expected += [
            ("before_trial", n),
            ("infer_relative_search_space", n),
            ("sample_relative", n, ["x"]),
            ("sample_independent", n, "y"),
            # after_trial runs right before the state is stored: the trial is still RUNNING.
            ("after_trial", n, TrialState.COMPLETE, [3.25], TrialState.RUNNING),
        ]
    assert sampler.calls == expected
    assert [t.params for t in study.trials] == [{"x": 0.25, "y": 3}] * 2


def test_sampler_reseed_rng_only_with_parallel_jobs() -> None:
    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("x", 0.0, 1.0)

    sequential = RecordingSampler()
    optuna.create_study(sampler=sequential).optimize(objective, n_trials=2)
    assert ("reseed_rng",) not in sequential.calls

    parallel = RecordingSampler()
    optuna.create_study(sampler=parallel).optimize(objective, n_trials=2, n_jobs=2)
    assert ("reseed_rng",) in parallel.calls


# ---- 002: the FAQ ---------------------------------------------------------------------------


class Objective:
    def __init__(self, min_x: float, max_x: float) -> None:
        # Hold this implementation specific arguments as the fields of the class.
        self.min_x = min_x
        self.max_x = max_x

    def __call__(self, trial: optuna.Trial) -> float:
        # Calculate an objective value by using the extra arguments.
        x = trial.suggest_float("x", self.min_x, self.max_x)
        return (x - 2) ** 2


def _objective_with_args(trial: optuna.Trial, min_x: float, max_x: float) -> float:
    x = trial.suggest_float("x", min_x, max_x)
    return (x - 2) ** 2


def _check_quadratic_study(study: optuna.Study, min_x: float, max_x: float, n: int) -> None:
    trials = study.trials
    assert len(trials) == n
    for t in trials:
        assert t.state == TrialState.COMPLETE
        assert t.distributions == {"x": FloatDistribution(min_x, max_x)}
        assert min_x <= t.params["x"] <= max_x
        assert t.value == (t.params["x"] - 2) ** 2
    assert study.best_value == min(t.value for t in trials if t.value is not None)


def test_objective_with_arguments_as_callable_class() -> None:
    study = optuna.create_study()
    study.optimize(Objective(-100, 100), n_trials=100)
    _check_quadratic_study(study, -100, 100, 100)


@pytest.mark.parametrize("wrapper", ["lambda", "partial"])
def test_objective_with_arguments_as_closure(wrapper: str) -> None:
    min_x = -100
    max_x = 100
    study = optuna.create_study()
    if wrapper == "lambda":
        study.optimize(lambda trial: _objective_with_args(trial, min_x, max_x), n_trials=100)
    else:
        func = functools.partial(_objective_with_args, min_x=min_x, max_x=max_x)
        study.optimize(func, n_trials=100)
    _check_quadratic_study(study, min_x, max_x, 100)


def test_in_memory_storage_is_the_default() -> None:
    study = optuna.create_study()
    assert isinstance(study._storage, optuna.storages.InMemoryStorage)

    def stop_after_five(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.number == 4:
            study.stop()

    # Without n_trials or timeout the study runs until it is stopped.
    study.optimize(Objective(-10, 10), callbacks=[stop_after_five])
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5


def _pickle_dump(obj: Any, path: str) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _pickle_load(path: str) -> Any:
    with open(path, "rb") as f:
        return pickle.load(f)


@pytest.mark.parametrize("serializer", ["pickle", "joblib"])
def test_save_and_resume_in_memory_study(
    serializer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump: Callable[[Any, str], Any]
    load: Callable[[str], Any]
    if serializer == "joblib":
        joblib = pytest.importorskip("joblib", reason="joblib is a third-party serializer")
        dump, load = joblib.dump, joblib.load
    else:
        dump, load = _pickle_dump, _pickle_load
    monkeypatch.chdir(tmp_path)
    objective = Objective(-10, 10)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=20)
    dump(study, "study.pkl")
    original = study

    # And to resume the study:
    study = load("study.pkl")
    print("Best trial until now:")
    print(" Value: ", study.best_trial.value)
    print(" Params: ")
    for key, value in study.best_trial.params.items():
        print(f" {key}: {value}")

    assert study is not original
    assert study.best_trial.value == original.best_trial.value
    assert study.best_trial.params == original.best_trial.params
    assert [(t.params, t.value) for t in study.trials] == [
        (t.params, t.value) for t in original.trials
    ]
    study.optimize(objective, n_trials=10)
    assert [t.number for t in study.trials] == list(range(30))
    assert study.best_value <= original.best_value
    assert len(original.trials) == 20  # the loaded study is a copy
    # The sampler's state travels with the study: both continue with the same draws.
    original.optimize(objective, n_trials=10)
    assert [t.params for t in original.trials] == [t.params for t in study.trials]


def test_set_verbosity_warning_silences_trial_logs(tmp_path: Path) -> None:
    result = _run_user_script(
        """
        import sys

        def objective(trial):
            x = trial.suggest_float("x", -10, 10)
            return (x - 2) ** 2

        study = optuna.create_study()
        study.optimize(objective, n_trials=3)
        print("---- set_verbosity(WARNING) ----", file=sys.stderr, flush=True)

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study()
        study.optimize(objective, n_trials=3)
        assert optuna.logging.get_verbosity() == optuna.logging.WARNING
        """,
        tmp_path,
    )
    before, after = result.stderr.split("---- set_verbosity(WARNING) ----\n")
    finished = re.compile("^" + _LOG_PREFIX.format(level="I") + r"Trial (\d) finished with value: ")
    numbers = [m.group(1) for m in map(finished.match, before.splitlines()) if m]
    assert numbers == ["0", "1", "2"]
    assert after == ""


class TinySVC:
    """Stand-in for ``sklearn.svm.SVC``: a threshold classifier whose threshold depends on C."""

    def __init__(self, C: float) -> None:
        self.C = C
        self.threshold_ = 0.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> TinySVC:
        self.threshold_ = abs(math.log10(self.C)) / 20.0
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X > self.threshold_


def accuracy_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


def test_save_models_by_trial_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    X_train = np.linspace(-1.0, 1.0, 41)
    y_train = X_train > 0
    X_valid = np.linspace(-1.0, 1.0, 81)
    y_valid = X_valid > 0

    def objective(trial: optuna.Trial) -> float:
        svc_c = trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
        clf = TinySVC(C=svc_c)
        clf.fit(X_train, y_train)
        # Save a trained model to a file.
        with open(f"{trial.number}.pickle", "wb") as fout:
            pickle.dump(clf, fout)
        return 1.0 - accuracy_score(y_valid, clf.predict(X_valid))

    study = optuna.create_study()
    study.optimize(objective, n_trials=100)

    # Load the best model.
    with open(f"{study.best_trial.number}.pickle", "rb") as fin:
        best_clf = pickle.load(fin)
    assert best_clf.C == study.best_trial.params["svc_c"]
    assert 1.0 - accuracy_score(y_valid, best_clf.predict(X_valid)) == study.best_value
    assert sorted(p.name for p in tmp_path.glob("*.pickle")) == sorted(
        f"{n}.pickle" for n in range(100)
    )


def test_seeded_sampler_is_reproducible() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        n = trial.suggest_int("n", 1, 100, log=True)
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        return (x - 2) ** 2 + n + (kind == "b")

    def run(seed: int) -> list[tuple[dict[str, Any], float | None]]:
        sampler = optuna.samplers.RandomSampler(seed=seed)  # TPESampler(seed=10) in the FAQ
        study = optuna.create_study(sampler=sampler)
        study.optimize(objective, n_trials=30)
        return [(t.params, t.value) for t in study.trials]

    assert run(10) == run(10)
    assert run(10) != run(11)


def _failing_objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    if trial.number % 2 == 0:
        raise ValueError("A sample error in objective.")
    return (x - 2) ** 2


def test_uncaught_exception_aborts_the_study() -> None:
    study = optuna.create_study()
    with pytest.raises(ValueError, match="A sample error in objective."):
        study.optimize(_failing_objective, n_trials=10)
    assert [t.state for t in study.trials] == [TrialState.FAIL]

    # Only the listed exception types are caught.
    study = optuna.create_study()
    with pytest.raises(ValueError, match="A sample error in objective."):
        study.optimize(_failing_objective, n_trials=10, catch=(KeyError,))
    assert len(study.trials) == 1


@pytest.mark.parametrize("catch", [(ValueError,), ValueError])
def test_catch_keeps_the_study_going(catch: Any) -> None:
    study = optuna.create_study()
    study.optimize(_failing_objective, n_trials=10, catch=catch)
    assert len(study.trials) == 10

    df = study.trials_dataframe()
    assert list(df["number"]) == list(range(10))
    assert list(df["state"]) == ["FAIL" if n % 2 == 0 else "COMPLETE" for n in range(10)]
    assert df.loc[df["state"] == "FAIL", "value"].isna().all()
    assert df.loc[df["state"] == "COMPLETE", "value"].notna().all()
    assert df["params_x"].notna().all()


def test_failed_and_nan_trials_are_logged(tmp_path: Path) -> None:
    result = _run_user_script(
        """
        def objective(trial):
            x = trial.suggest_float("x", -10, 10)
            if trial.number == 0:
                raise ValueError("A sample error in objective.")
            if trial.number == 2:
                return float("nan")
            return (x - 2) ** 2

        study = optuna.create_study()
        study.optimize(objective, n_trials=4, catch=(ValueError,))
        """,
        tmp_path,
    )
    err = result.stderr
    warning = _LOG_PREFIX.format(level="W")
    assert re.search(
        "^" + warning + r"Trial 0 failed with parameters: \{'x': \S+\} because of the following "
        r"error: ValueError\('A sample error in objective\.'\)\.$",
        err,
        flags=re.MULTILINE,
    ), err
    assert "Traceback (most recent call last)" in err
    assert re.search(
        "^" + warning + r"Trial 2 failed with parameters: \{'x': \S+\} because of the following "
        r"error: The value nan is not acceptable\.$",
        err,
        flags=re.MULTILINE,
    ), err
    assert re.search("^" + warning + r"Trial 2 failed with value nan\.$", err, flags=re.MULTILINE)
    assert re.search(_LOG_PREFIX.format(level="I") + "Trial 3 finished with value: ", err)


def test_nan_result_fails_the_trial_and_the_study_continues() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        if trial.number in (1, 3):
            return float("nan")
        return (x - 2) ** 2

    study = optuna.create_study()
    study.optimize(objective, n_trials=6)
    trials = study.trials
    assert len(trials) == 6
    for t in trials:
        if t.number in (1, 3):
            assert t.state == TrialState.FAIL
            assert t.values is None
        else:
            assert t.state == TrialState.COMPLETE
    assert study.best_trial.number not in (1, 3)


def test_search_space_may_change_between_trials() -> None:
    def objective(trial: optuna.Trial) -> float:
        # The range depends on the trial, so every trial samples from a different space.
        x = trial.suggest_float("x", 0.0, 1.0 + trial.number)
        k = trial.suggest_int("k", 0, trial.number)
        return x + k

    study = optuna.create_study()
    study.optimize(objective, n_trials=20)
    for t in study.trials:
        assert t.state == TrialState.COMPLETE
        assert t.distributions["x"] == FloatDistribution(0.0, 1.0 + t.number)
        assert t.distributions["k"] == IntDistribution(0, t.number)
        assert 0.0 <= t.params["x"] <= 1.0 + t.number
        assert 0 <= t.params["k"] <= t.number


def objective(trial: optuna.trial.BaseTrial) -> float:
    """The FAQ's objective for FixedTrial and for the garbage-collection recipe."""
    x = trial.suggest_float("x", -1.0, 1.0)
    y = trial.suggest_int("y", -5, 5)
    return x + y


def test_fixed_trial_evaluates_objective() -> None:
    assert objective(FixedTrial({"x": 1.0, "y": -1})) == 0.0
    assert objective(FixedTrial({"x": -1.0, "y": -4})) == -5.0


# A test function of pytest, as the FAQ writes it.
def test_objective() -> None:
    assert 1.0 == objective(FixedTrial({"x": 1.0, "y": 0}))
    assert -1.0 == objective(FixedTrial({"x": 0.0, "y": -1}))
    assert 0.0 == objective(FixedTrial({"x": -1.0, "y": 1}))


class _Cycle:
    """An object in a reference cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def automatic_gc_off() -> Iterator[None]:
    """Turn off automatic collection so only explicit ``gc.collect()`` calls free cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


def test_gc_after_trial(automatic_gc_off: None) -> None:
    garbage: list[weakref.ref[_Cycle]] = []

    def leaky_objective(trial: optuna.Trial) -> float:
        garbage.append(weakref.ref(_Cycle()))
        if trial.number % 4 == 1:
            raise optuna.TrialPruned()
        if trial.number % 4 == 2:
            raise ValueError("caught below")
        return objective(trial)

    freed: list[bool] = []

    def probe(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        freed.append(garbage[trial.number]() is None)

    study = optuna.create_study()
    study.optimize(leaky_objective, n_trials=3, catch=(ValueError,), callbacks=[probe])
    assert freed == [False, False, False]  # nothing collects the cycles by itself

    freed.clear()
    study.optimize(
        leaky_objective, n_trials=10, gc_after_trial=True, catch=(ValueError,), callbacks=[probe]
    )
    # Collected after every trial, pruned and failed ones included, before the callbacks run.
    assert freed == [True] * 10
    assert {t.state for t in study.trials} == {
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.FAIL,
    }

    # `gc_after_trial=True` is more or less identical to the following.
    freed.clear()
    study.optimize(
        leaky_objective,
        n_trials=10,
        catch=(ValueError,),
        callbacks=[lambda study, trial: gc.collect(), probe],  # type: ignore[list-item]
    )
    assert freed == [True] * 10
    assert len(study.trials) == 23


def test_log_only_when_best_value_is_updated(
    capsys: pytest.CaptureFixture[str], restore_verbosity: None
) -> None:
    # Turn off optuna log notes.
    optuna.logging.set_verbosity(optuna.logging.WARN)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        return x**2

    def logging_callback(study: optuna.Study, frozen_trial: optuna.trial.FrozenTrial) -> None:
        previous_best_value = study.user_attrs.get("previous_best_value", None)
        if previous_best_value != study.best_value:
            study.set_user_attr("previous_best_value", study.best_value)
            print(
                "Trial {} finished with best value: {} and parameters: {}. ".format(  # noqa: UP032
                    frozen_trial.number,
                    frozen_trial.value,
                    frozen_trial.params,
                )
            )

    study = optuna.create_study()
    study.optimize(objective, n_trials=100, callbacks=[logging_callback])

    assert not optuna.logging.get_logger("skipjack.study").isEnabledFor(optuna.logging.INFO)
    expected = []
    best = math.inf
    for t in study.trials:
        assert t.value is not None
        if t.value < best:
            best = t.value
            expected.append(
                f"Trial {t.number} finished with best value: {t.value} and parameters: {t.params}. "
            )
    assert capsys.readouterr().out.splitlines() == expected
    assert study.user_attrs["previous_best_value"] == study.best_value


def test_dirichlet_proportions() -> None:
    def objective(trial: optuna.Trial) -> float:
        n = 5
        x = []
        for i in range(n):
            x.append(-np.log(trial.suggest_float(f"x_{i}", 0, 1)))

        p = []
        for i in range(n):
            p.append(x[i] / sum(x))

        for i in range(n):
            trial.set_user_attr(f"p_{i}", p[i])

        return 0

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler())
    study.optimize(objective, n_trials=1000)

    n = 5
    p = []
    for i in range(n):
        p.append([trial.user_attrs[f"p_{i}"] for trial in study.trials])
    p_array = np.array(p)  # shape (n, n_trials)
    assert p_array.shape == (5, 1000)
    assert np.all((p_array >= 0.0) & (p_array <= 1.0))
    np.testing.assert_allclose(p_array.sum(axis=0), 1.0, rtol=1e-12)
    # Flat Dirichlet: each proportion has mean 1/n (standard error of the mean here ~0.005).
    np.testing.assert_allclose(p_array.mean(axis=1), 1.0 / n, atol=0.03)
    assert {t.value for t in study.trials} == {0.0}


def _binh_and_korn(trial: optuna.Trial, declare_constraints: bool) -> tuple[float, float]:
    # Binh and Korn function with constraints.
    x = trial.suggest_float("x", -15, 30)
    y = trial.suggest_float("y", -15, 30)

    # Constraints which are considered feasible if less than or equal to zero.
    c0 = (x - 5) ** 2 + y**2 - 25
    c1 = -((x - 8) ** 2) - (y + 3) ** 2 + 7.7

    # Store the constraints as user attributes so that they can be restored after optimization.
    trial.set_user_attr("constraint", (c0, c1))
    if declare_constraints:
        trial.set_constraint("c0", c0)
        trial.set_constraint("c1", c1)

    v0 = 4 * x**2 + 4 * y**2
    v1 = (x - 5) ** 2 + (y - 5) ** 2
    return v0, v1


def test_multi_objective_with_constraints_in_user_attrs(capsys: pytest.CaptureFixture[str]) -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        return _binh_and_korn(trial, declare_constraints=False)

    def constraints(trial: optuna.trial.FrozenTrial) -> Any:
        return trial.user_attrs["constraint"]

    sampler = optuna.samplers.RandomSampler(seed=0)  # NSGAIISampler(constraints_func=...)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=32, timeout=600)

    print("Number of finished trials: ", len(study.trials))
    print("Pareto front:")
    trials = sorted(study.best_trials, key=lambda t: t.values)  # type: ignore[arg-type,return-value]
    for trial in trials:
        print(" Trial#{}".format(trial.number))  # noqa: UP032
        print(
            " Values: Values={}, Constraint={}".format(  # noqa: UP032
                trial.values, trial.user_attrs["constraint"][0]
            )
        )
        print(" Params: {}".format(trial.params))  # noqa: UP032

    out = capsys.readouterr().out
    assert "Number of finished trials:  32" in out
    assert len(study.trials) == 32
    # Without a constraint-aware sampler the constraints are only data: the front is the plain
    # Pareto front of all completed trials.
    assert {t.number for t in trials} == _pareto_numbers(study.trials)
    for t in study.trials:
        x, y = t.params["x"], t.params["y"]
        assert list(constraints(t)) == [
            (x - 5) ** 2 + y**2 - 25,
            -((x - 8) ** 2) - (y + 3) ** 2 + 7.7,
        ]


def test_multi_objective_best_trials_keep_feasible_ones_with_set_constraint() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        return _binh_and_korn(trial, declare_constraints=True)

    study = optuna.create_study(
        directions=["minimize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.enqueue_trial({"x": 5.0, "y": 0.0})  # feasible
    study.enqueue_trial({"x": 4.0, "y": 1.0})  # feasible
    study.enqueue_trial({"x": -0.1, "y": 0.0})  # infeasible (c0 > 0), but v0 is tiny
    study.optimize(objective, n_trials=64)

    trials = study.trials
    feasible = [t for t in trials if all(c <= 0 for c in t.user_attrs["constraint"])]
    assert {t.number for t in study.best_trials} == _pareto_numbers(feasible)
    assert 2 in _pareto_numbers(trials)  # would be on the front if constraints were ignored
    assert 2 not in {t.number for t in study.best_trials}
    for t in trials:
        assert t.constraints == dict(zip(("c0", "c1"), t.user_attrs["constraint"]))


def test_multithreaded_optimization() -> None:
    both_running = threading.Barrier(2, timeout=10)
    threads: set[int] = set()
    lock = threading.Lock()

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        with lock:
            threads.add(threading.get_ident())
        if trial.number < 2:
            both_running.wait()  # fails unless the first two trials run at the same time
        return (x - 2) ** 2

    study = optuna.create_study()
    study.optimize(objective, n_trials=20, n_jobs=2)
    trials = study.trials
    assert sorted(t.number for t in trials) == list(range(20))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len(threads) >= 2


def test_permutation_through_lehmer_code() -> None:
    # Euclidean coordinates of cities for TSP.
    city_coordinates = np.array(
        [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0], [-1.0, -1.0]]
    )
    n = len(city_coordinates)

    def decode(lehmer_code: Any) -> list[int]:
        """Decode Lehmer code to permutation."""
        all_indices = list(range(n))
        output = []
        for k in lehmer_code:
            value = all_indices[k]
            output.append(value)
            all_indices.remove(value)
        return output

    def tour_length(permutation: list[int]) -> float:
        total_distance = 0.0
        for i in range(n):
            total_distance += float(
                np.linalg.norm(
                    city_coordinates[permutation[i]] - city_coordinates[np.roll(permutation, 1)[i]]
                )
            )
        return total_distance

    def objective(trial: optuna.Trial) -> float:
        # Suggest a permutation in the Lehmer code representation.
        lehmer_code = [trial.suggest_int(f"x{i}", 0, n - i - 1) for i in range(n)]
        permutation = decode(lehmer_code)
        return tour_length(permutation)

    study = optuna.create_study()
    study.optimize(objective, n_trials=10)

    lehmer_code = study.best_params.values()
    best_permutation = decode(lehmer_code)
    assert sorted(best_permutation) == list(range(n))
    assert list(study.best_params) == [f"x{i}" for i in range(n)]
    assert tour_length(best_permutation) == study.best_value
    for t in study.trials:
        assert sorted(decode(t.params.values())) == list(range(n))
    assert decode([3, 1, 2, 1, 0, 0][:n]) == [3, 1, 4, 2, 0, 5]


def test_ignore_duplicated_samples() -> None:
    computed: list[tuple[int, int]] = []
    reused: list[tuple[int, int]] = []

    def objective(trial: optuna.Trial) -> float:
        # Sample parameters.
        x = trial.suggest_int("x", -5, 5)
        y = trial.suggest_int("y", -5, 5)

        # Fetch all the trials to consider.
        states_to_consider = (TrialState.COMPLETE,)
        trials_to_consider = trial.study.get_trials(deepcopy=False, states=states_to_consider)
        # Check whether we already evaluated the sampled `(x, y)`.
        for t in reversed(trials_to_consider):
            if trial.params == t.params:
                # Use the existing value as trial duplicated the parameters.
                reused.append((x, y))
                return t.value  # type: ignore[return-value]

        # Compute the objective function if the parameters are not duplicated.
        computed.append((x, y))
        return x**2 + y**2

    study = optuna.create_study()
    study.optimize(objective, n_trials=100)

    assert len(computed) + len(reused) == 100
    assert len(computed) == len(set(computed))  # each pair computed once
    assert reused  # 100 draws from 121 pairs repeat with overwhelming probability
    assert set(reused) <= set(computed)
    for t in study.trials:
        assert t.value == t.params["x"] ** 2 + t.params["y"] ** 2


# ---- 003: define-by-run and pruning ---------------------------------------------------------


@dataclass
class _Model:
    """Stand-in for a network: the accuracy it converges to, and the epochs trained so far."""

    quality: float
    epoch: int = 0


def create_model(n_layers: int, learning_rate: float) -> _Model:
    # Good configurations have a learning rate near 1e-3 and 3 layers.
    distance = abs(math.log10(learning_rate) + 3.0) / 2.0 + abs(n_layers - 3) / 4.0
    return _Model(quality=0.95 - 0.4 * distance)


def train_epoch(model: _Model) -> float:
    model.epoch += 1
    return model.quality * (1.0 - 0.5**model.epoch)


def train_and_evaluate(model: _Model) -> float:
    return model.quality


def test_define_by_run_basic() -> None:
    def objective(trial: optuna.Trial) -> float:
        # Ask Optuna to suggest a value for a hyperparameter.
        n_layers = trial.suggest_int("n_layers", 1, 5)
        learning_rate = trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True)
        model = create_model(n_layers, learning_rate)
        accuracy = train_and_evaluate(model)
        return accuracy

    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=100)
    print(f"Best trial: {study.best_trial.value}")
    print(f"Best params: {study.best_trial.params}")

    trials = study.trials
    assert len(trials) == 100
    assert study.best_trial.value == max(t.value for t in trials if t.value is not None)
    assert set(study.best_trial.params) == {"n_layers", "learning_rate"}
    for t in trials:
        assert t.distributions == {
            "n_layers": IntDistribution(1, 5),
            "learning_rate": FloatDistribution(1e-5, 1e-2, log=True),
        }
        assert isinstance(t.params["n_layers"], int) and 1 <= t.params["n_layers"] <= 5
        assert 1e-5 <= t.params["learning_rate"] <= 1e-2
    # log=True spreads samples over the orders of magnitude: a third fall below 1e-4, where a
    # uniform draw would put about one in a hundred. The default sampler (TPE) concentrates
    # near the best trials, so the spread is checked on unguided (random) draws.
    spread = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler())
    spread.optimize(objective, n_trials=100)
    assert sum(t.params["learning_rate"] < 1e-4 for t in spread.trials) >= 10


def _objective_with_pruning(trial: optuna.Trial) -> float:
    n_layers = trial.suggest_int("n_layers", 1, 5)
    learning_rate = trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True)
    model = create_model(n_layers, learning_rate)

    for epoch in range(10):
        accuracy = train_epoch(model)
        # Report the current score and ask if we should prune.
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.exceptions.TrialPruned()
    return accuracy


def _quality(t: optuna.trial.FrozenTrial) -> float:
    return create_model(t.params["n_layers"], t.params["learning_rate"]).quality


def test_pruning_with_median_pruner() -> None:
    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(),
        sampler=optuna.samplers.RandomSampler(seed=1),
    )
    study.optimize(_objective_with_pruning, n_trials=50)

    trials = study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(pruned) + len(complete) == 50
    assert pruned and complete
    # The default n_startup_trials=5: the first five trials always run to the end.
    assert all(t.state == TrialState.COMPLETE for t in trials[:5])
    assert all(len(t.intermediate_values) == 10 for t in complete)
    assert all(len(t.intermediate_values) < 10 for t in pruned)
    # Bad configurations are the ones stopped.
    assert np.mean([_quality(t) for t in pruned]) < np.mean([_quality(t) for t in complete])
    assert max(_quality(t) for t in pruned) < max(_quality(t) for t in complete)
    # A trial better than every earlier one is above the median at every step.
    for i, t in enumerate(trials):
        if all(_quality(t) > _quality(s) for s in trials[:i]):
            assert t.state == TrialState.COMPLETE
    assert study.best_trial.state == TrialState.COMPLETE


def test_median_pruner_startup_and_warmup() -> None:
    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=10, n_warmup_steps=3),
        sampler=optuna.samplers.RandomSampler(seed=2),
    )
    study.optimize(_objective_with_pruning, n_trials=40)
    trials = study.trials
    assert all(t.state == TrialState.COMPLETE for t in trials[:10])
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned
    # No trial is pruned before step 3: it reported steps 0..3 at least.
    assert all(t.last_step is not None and t.last_step >= 3 for t in pruned)


def test_faq_constrained_binh_and_korn_with_nsga2_as_written() -> None:
    # The FAQ's recipe verbatim in substance: NSGAIISampler(constraints_func=...), 32 trials.
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        return _binh_and_korn(trial, declare_constraints=False)

    def constraints(trial: optuna.trial.FrozenTrial) -> Any:
        return trial.user_attrs["constraint"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constraints_func is deprecated (FutureWarning) in 5.0
        sampler = optuna.samplers.NSGAIISampler(constraints_func=constraints, seed=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=32, timeout=600)
    assert len(study.trials) == 32
    front = study.best_trials
    feasible = [t for t in study.trials if all(c <= 0.0 for c in t.user_attrs["constraint"])]
    # Only feasible trials can be on the front, and the front is empty only without them.
    assert bool(front) == bool(feasible)
    assert {t.number for t in front} <= {t.number for t in feasible}


def test_faq_reproducibility_with_seeded_tpe_as_written() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        return (x - 2) ** 2

    def run() -> list[Any]:
        sampler = optuna.samplers.TPESampler(seed=10)  # Make the sampler deterministic.
        study = optuna.create_study(sampler=sampler)
        study.optimize(objective, n_trials=25)
        return [t.params for t in study.trials]

    assert run() == run()


# ---- 000: ablation studies with BruteForceSampler and shared storages -----------------------


def _lr_grid() -> list[float]:
    # suggest_float("lr", 0.001, 0.01, step=0.001): ten grid points.
    return [round(0.001 * k, 6) for k in range(1, 11)]


def test_basic_ablation_study_evaluates_every_combination_once() -> None:
    def objective(trial: optuna.Trial) -> float:
        optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD", "RMSprop"])
        lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
        lr_schedule = trial.suggest_categorical("lr_schedule", ["constant", "cosine"])
        mock_scores = {"Adam": 0.9, "SGD": 0.85, "RMSprop": 0.88}
        score = mock_scores[optimizer] + lr * 10 + (0.01 if lr_schedule == "cosine" else 0.0)  # type: ignore[index]
        return score

    with pytest.warns(optuna.exceptions.ExperimentalWarning, match="BruteForceSampler"):
        sampler = optuna.samplers.BruteForceSampler()
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective)  # No n_trials: the sampler stops the study itself.

    expected = {
        (o, lr, s)
        for o in ("Adam", "SGD", "RMSprop")
        for lr in _lr_grid()
        for s in ("constant", "cosine")
    }
    assert len(expected) == 3 * 10 * 2
    trials = study.trials
    assert all(t.state == TrialState.COMPLETE for t in trials)
    seen = [
        (t.params["optimizer"], round(t.params["lr"], 6), t.params["lr_schedule"]) for t in trials
    ]
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    best = study.best_trial
    assert (best.params["optimizer"], round(best.params["lr"], 6), best.params["lr_schedule"]) == (
        "Adam",
        0.01,
        "cosine",
    )


def test_conditional_ablation_study_covers_every_branch_once() -> None:
    def objective_conditional(trial: optuna.Trial) -> float:
        optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
        if optimizer == "Adam":
            beta1 = trial.suggest_categorical("beta1", [0.9, 0.95])
            beta2 = trial.suggest_categorical("beta2", [0.999, 0.9999])
            config = f"Adam(beta1={beta1}, beta2={beta2})"
        else:
            momentum = trial.suggest_categorical("momentum", [0.0, 0.9, 0.99])
            nesterov = trial.suggest_categorical("nesterov", [True, False])
            config = f"SGD(momentum={momentum}, nesterov={nesterov})"
        lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
        mock_score = hash(config) % 100 / 100 + lr
        return mock_score

    study_conditional = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.BruteForceSampler()
    )
    study_conditional.optimize(objective_conditional)

    adam = {
        ("Adam", b1, b2, lr) for b1 in (0.9, 0.95) for b2 in (0.999, 0.9999) for lr in _lr_grid()
    }
    sgd = {("SGD", m, n, lr) for m in (0.0, 0.9, 0.99) for n in (True, False) for lr in _lr_grid()}
    expected = adam | sgd
    assert len(expected) == (4 + 6) * 10
    seen = []
    for t in study_conditional.trials:
        assert t.state == TrialState.COMPLETE
        assert t.distributions["lr"] == FloatDistribution(0.001, 0.01, step=0.001)
        lr = round(t.params["lr"], 6)
        if t.params["optimizer"] == "Adam":
            assert set(t.params) == {"optimizer", "beta1", "beta2", "lr"}
            seen.append(("Adam", t.params["beta1"], t.params["beta2"], lr))
        else:
            assert set(t.params) == {"optimizer", "momentum", "nesterov", "lr"}
            seen.append(("SGD", t.params["momentum"], t.params["nesterov"], lr))
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected


# The seed's run_ablation.py. Its objective body is ``...`` (train your model); a mock score
# stands in so trials complete, and a short sleep makes the workers interleave.
_RUN_ABLATION = """\
import os
import sys
import time

import skipjack as optuna


def objective(trial: optuna.Trial) -> float:
    optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
    lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
    # Train your model and return the metric.
    time.sleep(0.02)
    return lr + (0.1 if optimizer == "Adam" else 0.0)


# Use a file path on the shared filesystem.
storage = optuna.storages.JournalStorage(
    optuna.storages.journal.JournalFileBackend(sys.argv[1]),
)
study = optuna.create_study(
    study_name="my-ablation",
    storage=storage,
    direction="maximize",
    sampler=optuna.samplers.BruteForceSampler(),
    load_if_exists=True,  # All workers join the same study.
)
study.optimize(objective)
"""


def _wait_all(procs: list[subprocess.Popen[str]], timeout: float) -> None:
    """Wait for every worker; kill the lot and fail if one hangs or errors."""
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail("a worker process did not finish in time")
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err


def _ablation_combinations(trials: list[optuna.trial.FrozenTrial]) -> list[tuple[str, float]]:
    return [
        (t.params["optimizer"], round(t.params["lr"], 6))
        for t in trials
        if t.state == TrialState.COMPLETE
    ]


def test_distributed_ablation_on_one_journal_file(tmp_path: Path) -> None:
    script = tmp_path / "run_ablation.py"
    script.write_text(_RUN_ABLATION)
    journal = tmp_path / "ablation_journal.log"
    # Three array tasks running the same script against the same journal file.
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(journal)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    _wait_all(procs, timeout=60)

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))
    )
    study = optuna.load_study(study_name="my-ablation", storage=storage)
    expected = {(o, lr) for o in ("Adam", "SGD") for lr in _lr_grid()}
    _assert_exactly_once(study.trials, expected)

    # Relaunching a worker once the study is exhausted evaluates nothing again.
    n_before = len(study.trials)
    relaunch = subprocess.run(
        [sys.executable, str(script), str(journal)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert relaunch.returncode == 0, relaunch.stderr
    trials = optuna.load_study(study_name="my-ablation", storage=storage).trials
    assert len(trials) <= n_before + 1
    _assert_exactly_once(trials, expected)


def _assert_exactly_once(
    trials: list[optuna.trial.FrozenTrial], expected: set[tuple[str, float]]
) -> None:
    """Each combination COMPLETE exactly once; nothing else evaluated.

    A worker that starts a trial when every combination is taken gets it PRUNED with no
    parameters (skipjack's BruteForceSampler; Optuna would evaluate a duplicate instead).
    """
    seen = _ablation_combinations(trials)
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    for t in trials:
        if t.state != TrialState.COMPLETE:
            assert t.state == TrialState.PRUNED and t.params == {}


# The seed's retry recipe with small heartbeat settings. The worker whose environment has
# VICTIM set hangs in its first trial (after leaving a marker file) so the test can kill it.
# The survivor's trials take 0.4 s so that it is still working when the victim's trial turns
# stale (up to 3 s after its last beat: SQLite's CURRENT_TIMESTAMP has whole seconds), even
# while the hung trial holds one combination.
_RUN_RETRY = """\
import os
import sys
import time

import skipjack as optuna
from skipjack.storages import RetryFailedTrialCallback

marker_dir = sys.argv[2]
victim = "VICTIM" in os.environ


def objective(trial: optuna.Trial) -> float:
    optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
    lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
    name = "victim" if victim else "survivor"
    open(os.path.join(marker_dir, f"{name}-{trial.number}"), "w").close()
    if victim:
        time.sleep(600)
    time.sleep(0.4)
    return lr + (0.1 if optimizer == "Adam" else 0.0)


STORAGE
study = optuna.create_study(
    study_name="my-ablation",
    storage=storage,
    direction="maximize",
    sampler=optuna.samplers.BruteForceSampler(),
    load_if_exists=True,
)
study.optimize(objective)
"""

_RDB_RETRY_STORAGE = """\
storage = optuna.storages.RDBStorage(
    url="sqlite:///" + sys.argv[1],
    heartbeat_interval=1,  # Record heartbeat every second.
    grace_period=2,  # Mark trials as FAIL if no heartbeat for 2 seconds.
    failed_trial_callback=RetryFailedTrialCallback(max_retry=3),
)
"""

_JOURNAL_RETRY_STORAGE = """\
storage = optuna.storages.JournalStorage(
    optuna.storages.journal.JournalFileBackend(sys.argv[1]),
    heartbeat_interval=1,
    grace_period=2,
    failed_trial_callback=RetryFailedTrialCallback(max_retry=3),
)
"""


def _wait_for_file(directory: Path, prefix: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(p.name.startswith(prefix) for p in directory.iterdir()):
        if time.monotonic() > deadline:
            pytest.fail(f"no {prefix} marker after {timeout} s")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("storage_code", "filename"),
    [(_RDB_RETRY_STORAGE, "ablation.db"), (_JOURNAL_RETRY_STORAGE, "ablation_journal.log")],
    ids=["rdb-sqlite", "journal-file"],
)
def test_killed_worker_trial_is_retried(tmp_path: Path, storage_code: str, filename: str) -> None:
    script = tmp_path / "run_ablation.py"
    script.write_text(_RUN_RETRY.replace("STORAGE\n", storage_code))
    markers = tmp_path / "markers"
    markers.mkdir()
    db = tmp_path / filename
    argv = [sys.executable, str(script), str(db), str(markers)]

    def launch(extra_env: dict[str, str]) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k != "VICTIM"} | extra_env
        return subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    victim = launch({"VICTIM": "1"})
    survivor: subprocess.Popen[str] | None = None
    try:
        _wait_for_file(markers, "victim-", timeout=30)
        survivor = launch({})
        _wait_for_file(markers, "survivor-", timeout=30)
        victim.send_signal(signal.SIGKILL)  # Killed mid-trial, while the survivor works.
        victim.wait(timeout=10)
        _wait_all([survivor], timeout=60)
    finally:
        for p in (victim, survivor):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
            if p is not None:
                p.communicate()

    if filename.endswith(".db"):
        storage: Any = optuna.storages.RDBStorage("sqlite:///" + str(db))
    else:
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(db))
        )
    study = optuna.load_study(study_name="my-ablation", storage=storage)
    trials = study.trials
    killed_number = int(
        next(p.name for p in markers.iterdir() if p.name.startswith("victim-")).split("-")[1]
    )
    killed = trials[killed_number]
    # The heartbeat failed the killed worker's trial; the callback re-enqueued its parameters.
    assert killed.state == TrialState.FAIL
    retries = [
        t
        for t in trials
        if optuna.storages.RetryFailedTrialCallback.retried_trial_number(t) == killed_number
    ]
    assert len(retries) == 1
    assert retries[0].state == TrialState.COMPLETE
    assert retries[0].params == killed.params
    # Every combination ends COMPLETE exactly once; the killed trial is the only other one.
    expected = {(o, lr) for o in ("Adam", "SGD") for lr in _lr_grid()}
    seen = _ablation_combinations(trials)
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    assert [t.number for t in trials if t.state != TrialState.COMPLETE] == [killed_number]


def test_worker_covers_the_space_around_a_hung_trial() -> None:
    # Minimal form of what the distributed ablation promises: a worker joining a study where
    # another worker's trial hangs at (optimizer, lr) evaluates the 19 other combinations.
    # Optuna 5.0 does (20 trials); skipjack once evaluated only the other optimizer's 10.
    def objective(trial: optuna.Trial) -> float:
        optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
        lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
        return lr + (0.1 if optimizer == "Adam" else 0.0)

    storage = optuna.storages.InMemoryStorage()
    hung_worker = optuna.create_study(
        study_name="s", storage=storage, sampler=optuna.samplers.BruteForceSampler()
    )
    hung = hung_worker.ask()
    objective(hung)  # Draws its parameters, then never finishes.
    worker = optuna.load_study(
        study_name="s", storage=storage, sampler=optuna.samplers.BruteForceSampler()
    )
    worker.optimize(objective)
    expected = {(o, lr) for o in ("Adam", "SGD") for lr in _lr_grid()}
    hung_params = worker.trials[hung.number].params
    expected.discard((hung_params["optimizer"], round(hung_params["lr"], 6)))
    seen = _ablation_combinations(worker.trials)
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


# ---- 001: BruteForceSampler's example -------------------------------------------------------


def test_brute_force_example_with_dependent_ranges() -> None:
    def objective(trial: optuna.Trial) -> float:
        c = trial.suggest_categorical("c", ["float", "int"])
        if c == "float":
            return trial.suggest_float("x", 1, 3, step=0.5)
        elif c == "int":
            a = trial.suggest_int("a", 1, 3)
            b = trial.suggest_int("b", a, 3)
            return a + b
        raise AssertionError(c)

    study = optuna.create_study(sampler=optuna.samplers.BruteForceSampler())
    study.optimize(objective)

    # 5 floats (1, 1.5, ..., 3) and the pairs 1 <= a <= b <= 3 (3 + 2 + 1).
    expected: set[tuple[Any, ...]] = {("float", x) for x in (1.0, 1.5, 2.0, 2.5, 3.0)}
    expected |= {("int", a, b) for a in (1, 2, 3) for b in range(a, 4)}
    assert len(expected) == 11
    seen: list[tuple[Any, ...]] = []
    for t in study.trials:
        assert t.state == TrialState.COMPLETE
        if t.params["c"] == "float":
            assert set(t.params) == {"c", "x"}
            seen.append(("float", t.params["x"]))
        else:
            assert set(t.params) == {"c", "a", "b"}
            assert t.distributions["b"] == IntDistribution(t.params["a"], 3)
            seen.append(("int", t.params["a"], t.params["b"]))
    assert len(seen) == len(set(seen)) == 11
    assert set(seen) == expected
    assert study.best_value == 1.0


# ---- 002: the FAQ's storages ----------------------------------------------------------------


def test_faq_sqlite_save_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        return (x - 2) ** 2

    study = optuna.create_study(study_name="foo_study", storage="sqlite:///example.db")
    study.optimize(objective, n_trials=5)  # Persisted to the local SQLite file.
    first = [(t.params, t.value) for t in study.trials]
    del study
    assert (tmp_path / "example.db").is_file()

    # Resume in a fresh interpreter, as after a restart.
    out = _run_user_script(
        """
        def objective(trial):
            x = trial.suggest_float("x", -10, 10)
            return (x - 2) ** 2

        study = optuna.load_study(study_name="foo_study", storage="sqlite:///example.db")
        print(len(study.trials))
        study.optimize(objective, n_trials=5)
        print("Best trial until now:")
        print(" Value: ", study.best_trial.value)
        """,
        tmp_path,
    ).stdout
    assert out.splitlines()[0] == "5"

    resumed = optuna.load_study(study_name="foo_study", storage="sqlite:///example.db")
    trials = resumed.trials
    assert len(trials) == 10
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert [(t.params, t.value) for t in trials[:5]] == first
    best = min(t.value for t in trials if t.value is not None)
    assert resumed.best_value == best
    assert f" Value:  {best}" in out


def test_faq_journal_file_storage_parallel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    from skipjack.storages import JournalFileStorage
    from skipjack.storages import JournalStorage

    with pytest.warns(FutureWarning):
        storage = JournalStorage(JournalFileStorage("optuna-journal.log"))
    study = optuna.create_study(storage=storage)

    # Two more processes join through the same file.
    worker = textwrap.dedent(
        f"""
        import warnings
        import skipjack as optuna
        from skipjack.storages import JournalStorage, JournalFileStorage

        warnings.simplefilter("ignore", FutureWarning)
        storage = JournalStorage(JournalFileStorage("optuna-journal.log"))
        study = optuna.load_study(study_name={study.study_name!r}, storage=storage)
        study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2, n_trials=5)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", worker],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2, n_trials=5)
    _wait_all(procs, timeout=60)

    trials = study.trials
    assert len(trials) == 15
    assert sorted(t.number for t in trials) == list(range(15))
    assert all(t.state == TrialState.COMPLETE for t in trials)


def test_faq_heartbeat_with_in_memory_sqlite() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        return x**2

    # Recording heartbeats every 60 seconds.
    # Other processes' trials where more than 120 seconds have passed
    # since the last heartbeat was recorded will be automatically failed.
    storage = optuna.storages.RDBStorage(
        url="sqlite:///:memory:", heartbeat_interval=60, grace_period=120
    )
    study = optuna.create_study(storage=storage)
    study.optimize(objective, n_trials=100)
    assert len(study.trials) == 100
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert storage.get_heartbeat_interval() == 60

    # Both names are deprecated since Optuna 4.9 (FutureWarning), as in Optuna 5.0.
    with pytest.warns(FutureWarning, match="RetryFailedTrialCallback"):
        callback = optuna.storages.RetryFailedTrialCallback(max_retry=3)
    with pytest.warns(FutureWarning, match="failed_trial_callback"):
        storage = optuna.storages.RDBStorage(
            url="sqlite:///:memory:",
            heartbeat_interval=60,
            grace_period=120,
            failed_trial_callback=callback,
        )
    study = optuna.create_study(storage=storage)
    assert storage.get_failed_trial_callback() is callback
    # A trial whose worker vanished (left RUNNING) is failed and retried once stale; with a
    # 120 s grace period a fresh one is left alone.
    trial = study.ask()
    trial.suggest_float("x", -10, 10)
    study.optimize(objective, n_trials=1)
    assert study.trials[trial.number].state == TrialState.RUNNING
    study.tell(trial, 1.0)
