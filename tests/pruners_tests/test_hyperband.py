"""HyperbandPruner: arguments, brackets, agreement with Optuna, samplers seeing one bracket, and
threads sharing one study."""

from __future__ import annotations

import inspect
import math
import random
import threading
from typing import Any

import optuna
import pytest

import skipjack
from skipjack.pruners._filter import _BracketStudy
from skipjack.pruners._filter import _filter_study
from skipjack.pruners._hyperband import HyperbandPruner
from skipjack.samplers._random import RandomSampler
from skipjack.study._history import history_of
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)


def test_signature_and_defaults_match_optuna() -> None:
    ours = inspect.signature(HyperbandPruner)
    theirs = inspect.signature(optuna.pruners.HyperbandPruner)
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]


def test_repr_rebuilds_the_pruner() -> None:
    pruner = HyperbandPruner(2, 50, 4, 1)
    rebuilt = eval(repr(pruner), {"HyperbandPruner": HyperbandPruner})
    assert repr(rebuilt) == repr(pruner)
    assert rebuilt._max_resource == 50 and rebuilt._bootstrap_count == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"min_resource": 0}, ValueError, "min_resource"),
        ({"max_resource": "max"}, ValueError, "max_resource"),
        ({"max_resource": 2.5}, TypeError, "max_resource"),
        ({"min_resource": 5, "max_resource": 4}, ValueError, "max_resource"),
        ({"reduction_factor": 1}, ValueError, "reduction_factor"),
        ({"bootstrap_count": -1, "max_resource": 9}, ValueError, "bootstrap_count"),
        ({"bootstrap_count": 1}, ValueError, "bootstrap_count"),  # with max_resource="auto"
    ],
)
def test_invalid_arguments_name_the_argument(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        HyperbandPruner(**kwargs)


# ---- brackets --------------------------------------------------------------------------------


def test_brackets_by_hand() -> None:
    # R = 27, eta = 3: floor(log_3 27) + 1 = 4 brackets; s = 3, 2, 1, 0 gives budgets
    # ceil(4 * 27 / 4) = 27, ceil(4 * 9 / 3) = 12, ceil(4 * 3 / 2) = 6, ceil(4 * 1 / 1) = 4.
    pruner = HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)
    study = skipjack.create_study(pruner=pruner)
    brackets = pruner._try_initialization(study)
    assert brackets is not None
    assert brackets.budgets == (27, 12, 6, 4)
    assert [p._min_early_stopping_rate for p in brackets.pruners] == [0, 1, 2, 3]
    assert {p._reduction_factor for p in brackets.pruners} == {3}


@pytest.mark.parametrize(
    ("min_resource", "max_resource", "eta"),
    [(1, 27, 3), (1, 243, 3), (1, 100, 3), (2, 81, 3), (1, 1, 3), (3, 1000, 4), (1, 64, 2)],
)
def test_brackets_and_assignment_match_optuna(
    min_resource: int, max_resource: int, eta: int
) -> None:
    ours = HyperbandPruner(min_resource, max_resource, eta)
    theirs = optuna.pruners.HyperbandPruner(min_resource, max_resource, eta)
    our_study = skipjack.create_study(study_name="hb", pruner=ours)
    their_study = optuna.create_study(study_name="hb", pruner=theirs)
    brackets = ours._try_initialization(our_study)
    theirs._try_initialization(their_study)
    assert brackets is not None
    assert list(brackets.budgets) == theirs._trial_allocation_budgets
    for number in range(300):
        trial: Any = skipjack.trial.create_trial(value=0.0)
        trial.number = number
        assert ours._get_bracket_id(our_study, trial) == theirs._get_bracket_id(their_study, trial)


def _run(study: Any, lib: Any, curves: list[list[float]], states: list[str]) -> list[list[bool]]:
    decisions = []
    for curve, state in zip(curves, states):
        trial = study.ask()
        trial_decisions = []
        for step, value in enumerate(curve):
            trial.report(value, step)
            trial_decisions.append(trial.should_prune())
            if trial_decisions[-1]:
                break
        decisions.append(trial_decisions)
        final = "PRUNED" if trial_decisions[-1] else state
        study.tell(
            trial, 0.0 if final == "COMPLETE" else None, getattr(lib.trial.TrialState, final)
        )
    return decisions


@pytest.mark.parametrize("seed", range(12))
def test_decisions_and_records_match_optuna(seed: int) -> None:
    rng = random.Random(seed)
    eta = rng.choice([2, 3])
    max_resource: Any = rng.choice([9, 16, "auto"])
    direction: Any = rng.choice(["minimize", "maximize"])
    n_steps = 16
    curves = [
        [
            rng.choice(
                [float(rng.randrange(8)), math.nan]
                if rng.random() < 0.05
                else [float(rng.randrange(8))]
            )
            for _ in range(n_steps)
        ]
        for _ in range(40)
    ]
    states = [rng.choice(["COMPLETE", "COMPLETE", "FAIL"]) for _ in curves]
    ours = skipjack.create_study(
        study_name=f"hb{seed}", direction=direction, pruner=HyperbandPruner(1, max_resource, eta)
    )
    theirs = optuna.create_study(
        study_name=f"hb{seed}",
        direction=direction,
        pruner=optuna.pruners.HyperbandPruner(1, max_resource, eta),
    )
    expected = _run(theirs, optuna, curves, states)
    assert _run(ours, skipjack, curves, states) == expected
    assert any(d[-1] for d in expected), "some trials should be pruned"
    for a, b in zip(ours.trials, theirs.trials):
        assert a.state.name == b.state.name
        assert a.system_attrs == b.system_attrs


# ---- samplers see only the trial's bracket --------------------------------------------------


class RecordingSampler(RandomSampler):
    """Records, for every sampler call, the trial numbers the study it receives shows."""

    def __init__(self) -> None:
        super().__init__(seed=0)
        self.seen: list[tuple[str, int, list[int], list[int], bool]] = []

    def _record(self, where: str, study: Any, trial: Any) -> None:
        numbers = [t.number for t in study.get_trials(deepcopy=False)]
        rows = sorted(history_of(study).numbers.tolist())
        self.seen.append((where, trial.number, numbers, rows, isinstance(study, _BracketStudy)))

    def before_trial(self, study: Any, trial: Any) -> None:
        self._record("before", study, trial)

    def sample_independent(self, study: Any, trial: Any, name: str, distribution: Any) -> Any:
        self._record("independent", study, trial)
        return super().sample_independent(study, trial, name, distribution)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._record("after", study, trial)


class OptunaRecordingSampler(optuna.samplers.RandomSampler):
    def __init__(self) -> None:
        super().__init__(seed=0)
        self.seen: list[tuple[str, int, list[int]]] = []

    def _record(self, where: str, study: Any, trial: Any) -> None:
        self.seen.append(
            (where, trial.number, [t.number for t in study.get_trials(deepcopy=False)])
        )

    def before_trial(self, study: Any, trial: Any) -> None:
        self._record("before", study, trial)

    def sample_independent(self, study: Any, trial: Any, name: str, distribution: Any) -> Any:
        self._record("independent", study, trial)
        return super().sample_independent(study, trial, name, distribution)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._record("after", study, trial)


def _objective(trial: Any) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    for step in range(10):
        trial.report(x + (trial.number % 7) / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return x


@pytest.mark.parametrize("max_resource", [10, "auto"])
def test_samplers_see_what_optuna_samplers_see(max_resource: int | str) -> None:
    ours, theirs = RecordingSampler(), OptunaRecordingSampler()
    our_pruner = HyperbandPruner(max_resource=max_resource)
    study = skipjack.create_study(study_name="view", sampler=ours, pruner=our_pruner)
    reference = optuna.create_study(
        study_name="view",
        sampler=theirs,
        pruner=optuna.pruners.HyperbandPruner(max_resource=max_resource),
    )
    study.optimize(_objective, n_trials=30, catch=(optuna.TrialPruned,))
    reference.optimize(_objective, n_trials=30)
    assert [s[:3] for s in ours.seen] == theirs.seen
    brackets_seen = 0
    for _, number, numbers, rows, filtered in ours.seen:
        if not filtered:  # before the brackets exist: the whole study, as in Optuna
            assert numbers == list(range(len(numbers)))
            continue
        bracket = our_pruner._get_bracket_id(study, study.trials[number])
        # The view's trials and its history's rows are the bracket's, nothing else.
        assert all(our_pruner._get_bracket_id(study, study.trials[n]) == bracket for n in numbers)
        finished = {n for n in numbers if study.trials[n].state.is_finished()}
        assert set(rows) <= finished
        brackets_seen += 1
    assert brackets_seen


def test_the_view_refuses_other_study_attributes() -> None:
    pruner = HyperbandPruner(max_resource=9)
    study = skipjack.create_study(pruner=pruner)
    pruner._try_initialization(study)
    view = _filter_study(study, skipjack.trial.create_trial(value=0.0))
    assert view is not study
    assert view.directions == study.directions
    with pytest.raises(AttributeError, match="optimize"):
        view.optimize  # noqa: B018


def test_other_pruners_leave_the_study_unfiltered() -> None:
    study = skipjack.create_study(pruner=skipjack.pruners.MedianPruner())
    assert _filter_study(study, skipjack.trial.create_trial(value=0.0)) is study


def test_auto_waits_for_a_completed_trial() -> None:
    pruner = HyperbandPruner()
    study = skipjack.create_study(pruner=pruner)
    trial = study.ask()
    for step in range(5):
        trial.report(1e9, step)
        assert not trial.should_prune()
    assert pruner._brackets is None
    study.tell(trial, 0.0)
    trial = study.ask()
    trial.report(0.0, 0)
    trial.should_prune()
    assert pruner._brackets is not None
    # max_resource = last step + 1 = 5: floor(log_3 5) + 1 = 2 brackets.
    assert len(pruner._brackets.budgets) == 2


# ---- threads ---------------------------------------------------------------------------------


def _reference(study: Any, trial_id: int, step: int, value: float, r: int, eta: int) -> bool:
    """The ASHA rule (minimizing, rung k ending at r * eta ** k) computed naively from every
    trial ``study`` shows."""
    attrs = study._storage.get_trial_system_attrs(trial_id)
    rung = 0
    while f"completed_rung_{rung}" in attrs:
        rung += 1
    while step >= r * eta**rung:
        if math.isnan(value):
            return True
        key = f"completed_rung_{rung}"
        others = [
            t.system_attrs[key]
            for t in study.get_trials(deepcopy=False)
            if key in t.system_attrs and t._trial_id != trial_id
        ]
        rung_values = sorted([*others, value])
        if value > rung_values[max(len(rung_values) // eta - 1, 0)]:
            return True
        rung += 1
    return False


def test_threads_sharing_a_study_decide_within_each_bracket() -> None:
    """Threads run trials; every decision equals the naive rule computed on the trial's bracket
    (checked under a lock while other threads finish trials concurrently)."""
    pruner = HyperbandPruner(min_resource=1, max_resource=12, reduction_factor=2)
    study = skipjack.create_study(pruner=pruner, study_name="threads")
    pruner._try_initialization(study)
    lock = threading.Lock()
    counter = iter(range(60))
    errors: list[BaseException] = []
    brackets_used = set()

    def decide(trial: Any, step: int, value: float) -> bool:
        view: Any = _filter_study(study, trial._cached_frozen_trial)
        bracket = view._bracket_id
        brackets_used.add(bracket)
        # Bracket b is successive halving with s = b: rung k ends at 2 ** (b + k).
        return _reference(view, trial._trial_id, step, value, 2**bracket, 2)

    def worker() -> None:
        try:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                    trial = study.ask()
                rng = random.Random(trial.number)
                state = TrialState.COMPLETE
                for step in range(12):
                    value = float(rng.randrange(20))
                    with lock:
                        trial.report(value, step)
                        expected = decide(trial, step, value)
                        assert trial.should_prune() == expected, (trial.number, step)
                    if expected:
                        state = TrialState.PRUNED
                        break
                study.tell(trial, 0.0 if state == TrialState.COMPLETE else None, state)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[0]
    assert len(study.trials) == 60
    assert study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    assert len(brackets_used) > 1


def test_a_study_pickles_and_goes_on_pruning_the_same_way() -> None:
    import pickle

    def run(study: Any, numbers: range) -> list[str]:
        study.optimize(_objective, n_trials=len(numbers))
        return [t.state.name for t in study.trials[numbers.start :]]

    study = skipjack.create_study(
        study_name="pickled", sampler=RandomSampler(seed=1), pruner=HyperbandPruner(max_resource=10)
    )
    run(study, range(0, 20))
    copy = pickle.loads(pickle.dumps(study))
    # The copy has its own in-memory storage holding the same trials: the next trials must be
    # pruned the same way in both.
    assert run(copy, range(20, 35)) == run(study, range(20, 35))
    assert [t.system_attrs for t in copy.trials] == [t.system_attrs for t in study.trials]
