"""SuccessiveHalvingPruner: arguments, hand-computed rung decisions, agreement with Optuna, and
threads sharing one study.

Multi-process agreement (workers on one journal file or database) is not tested here: the
persistent storages are being built in parallel; the pruner reads and writes only through the
study's storage, so the same test belongs with them once they land.
"""

from __future__ import annotations

import inspect
import math
import random
import threading
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
import pytest

import skipjack
from skipjack.pruners._successive_halving import SuccessiveHalvingPruner
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)

STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING")


def _study(pruner: Any, direction: str = "minimize", lib: Any = skipjack) -> Any:
    return lib.create_study(direction=direction, pruner=pruner, study_name="sha")


def _add(study: Any, lib: Any, state: str, reports: dict[int, float], rungs: list[float]) -> None:
    """Add a trial with these reports and ``completed_rung_<i>`` records."""
    attrs = {f"completed_rung_{i}": v for i, v in enumerate(rungs)}
    trial_state = getattr(lib.trial.TrialState, state)
    value = 0.0 if state == "COMPLETE" else None
    study.add_trial(
        lib.trial.create_trial(
            state=trial_state, value=value, intermediate_values=reports, system_attrs=attrs
        )
    )


def _decisions(study: Any, reports: list[tuple[int, float]]) -> list[bool]:
    """Ask a trial, report each (step, value) and ask should_prune after each until pruned."""
    trial = study.ask()
    out = []
    for step, value in reports:
        trial.report(value, step)
        out.append(trial.should_prune())
        if out[-1]:
            break
    return out


def _rung_attrs(study: Any, number: int) -> dict[str, Any]:
    trial = study.get_trials(deepcopy=False)[number]
    return {k: v for k, v in trial.system_attrs.items() if k.startswith("completed_rung_")}


# ---- construction ----------------------------------------------------------------------------


def test_signature_and_defaults_match_optuna() -> None:
    ours = inspect.signature(SuccessiveHalvingPruner)
    theirs = inspect.signature(optuna.pruners.SuccessiveHalvingPruner)
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]


def test_repr_rebuilds_the_pruner() -> None:
    pruner = SuccessiveHalvingPruner(3, 2, 1, 4)
    rebuilt = eval(repr(pruner), {"SuccessiveHalvingPruner": SuccessiveHalvingPruner})
    assert repr(rebuilt) == repr(pruner)
    names = ("_min_resource", "_reduction_factor", "_min_early_stopping_rate", "_bootstrap_count")
    assert [getattr(rebuilt, n) for n in names] == [3, 2, 1, 4]


def test_pickles_without_its_cache() -> None:
    import pickle

    study = _study(SuccessiveHalvingPruner(min_resource=1, reduction_factor=2))
    _add(study, skipjack, "COMPLETE", {1: 0.0}, [0.0])
    assert _decisions(study, [(1, 0.0), (2, 0.0)]) == [False, False]
    trial_id = study.trials[-1]._trial_id
    assert study.pruner._known_rungs.get(study._storage, trial_id) == 2  # rungs 0 and 1
    copy = pickle.loads(pickle.dumps(study.pruner))
    assert repr(copy) == repr(study.pruner)
    assert copy._known_rungs.get(study._storage, trial_id) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"min_resource": "max"}, ValueError, "min_resource"),
        ({"min_resource": 0}, ValueError, "min_resource"),
        ({"min_resource": 1.5}, TypeError, "min_resource"),
        ({"reduction_factor": 1}, ValueError, "reduction_factor"),
        ({"reduction_factor": 2.0}, TypeError, "reduction_factor"),
        ({"min_early_stopping_rate": -1}, ValueError, "min_early_stopping_rate"),
        ({"bootstrap_count": -1}, ValueError, "bootstrap_count"),
        ({"bootstrap_count": True, "min_resource": 1}, TypeError, "bootstrap_count"),
        ({"bootstrap_count": 2}, ValueError, "bootstrap_count"),  # with min_resource="auto"
    ],
)
def test_invalid_arguments_name_the_argument(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        SuccessiveHalvingPruner(**kwargs)


# ---- hand-computed decisions -----------------------------------------------------------------


@pytest.fixture
def minimizing() -> Any:
    """Rung 0 ends at step 1, rung 1 at step 2, rung 2 at step 4 (r=1, eta=2, s=0). Rung 0
    already holds 1.0, 2.0 and 3.0."""
    study = _study(SuccessiveHalvingPruner(min_resource=1, reduction_factor=2))
    for rung0 in (1.0, 2.0, 3.0):
        _add(study, skipjack, "PRUNED", {1: rung0}, [rung0])
    return study


def test_no_decision_before_the_first_rung_ends(minimizing: Any) -> None:
    assert _decisions(minimizing, [(0, 100.0)]) == [False]
    assert _rung_attrs(minimizing, 3) == {}


def test_loser_at_a_rung_is_pruned_and_recorded(minimizing: Any) -> None:
    # Rung 0 then holds 1, 2, 3, 2.5: the best 4 // 2 = 2 go on; 2.5 is third.
    assert _decisions(minimizing, [(0, 0.0), (1, 2.5)]) == [False, True]
    assert _rung_attrs(minimizing, 3) == {"completed_rung_0": 2.5}


def test_winner_is_promoted_and_waits_for_the_next_rung(minimizing: Any) -> None:
    # 1.5 is second of four: promoted to rung 1, which ends at step 2.
    assert _decisions(minimizing, [(1, 1.5)]) == [False]
    assert _rung_attrs(minimizing, 3) == {"completed_rung_0": 1.5}


def test_a_tie_at_the_cut_favours_the_trial(minimizing: Any) -> None:
    assert _decisions(minimizing, [(1, 2.0)]) == [False]


def test_a_late_report_passes_several_rungs_in_one_call(minimizing: Any) -> None:
    # Step 4 ends rungs 0, 1 and 2. Rungs 1 and 2 are empty, so the trial wins both alone.
    assert _decisions(minimizing, [(4, 0.5)]) == [False]
    expected = {f"completed_rung_{i}": 0.5 for i in range(3)}
    assert _rung_attrs(minimizing, 3) == expected


def test_later_rungs_compare_with_their_own_records(minimizing: Any) -> None:
    _add(minimizing, skipjack, "COMPLETE", {1: 0.1, 2: 0.1}, [0.1, 0.1])
    _add(minimizing, skipjack, "COMPLETE", {1: 0.2, 2: 0.2}, [0.2, 0.2])
    # Rung 0: {1, 2, 3, .1, .2, .3}: best 3, 0.3 is third: promoted. Rung 1: {.1, .2, .9}: best
    # one, 0.9 is last: pruned.
    assert _decisions(minimizing, [(1, 0.3), (2, 0.9)]) == [False, True]
    assert _rung_attrs(minimizing, 5) == {"completed_rung_0": 0.3, "completed_rung_1": 0.9}


def test_maximizing_keeps_the_largest_values() -> None:
    study = _study(SuccessiveHalvingPruner(min_resource=1, reduction_factor=2), "maximize")
    for rung0 in (1.0, 2.0, 3.0):
        _add(study, skipjack, "COMPLETE", {1: rung0}, [rung0])
    assert _decisions(study, [(1, 2.5)]) == [False]  # second of four
    assert _decisions(study, [(1, 1.5)]) == [True]  # fourth of five


def test_nan_is_pruned_at_the_end_of_a_rung_only(minimizing: Any) -> None:
    assert _decisions(minimizing, [(0, math.nan), (1, math.nan)]) == [False, True]
    assert _rung_attrs(minimizing, 3) == {}


def test_unfinished_trials_records_compete_too(minimizing: Any) -> None:
    # Two RUNNING trials already recorded 1.1 and 1.2 at rung 0: 1.5 is now fourth of six.
    _add(minimizing, skipjack, "RUNNING", {1: 1.1}, [1.1])
    _add(minimizing, skipjack, "RUNNING", {1: 1.2}, [1.2])
    assert _decisions(minimizing, [(1, 1.5)]) == [True]


def test_bootstrap_count_prunes_while_the_rung_is_small() -> None:
    study = _study(SuccessiveHalvingPruner(min_resource=1, reduction_factor=2, bootstrap_count=3))
    _add(study, skipjack, "COMPLETE", {1: 5.0}, [5.0])
    _add(study, skipjack, "COMPLETE", {1: 6.0}, [6.0])
    assert _decisions(study, [(1, 0.0)]) == [True]  # three values: not more than 3
    assert _decisions(study, [(1, 0.0)]) == [False]  # four values, the best of them


def test_min_early_stopping_rate_delays_the_first_rung() -> None:
    pruner = SuccessiveHalvingPruner(min_resource=2, reduction_factor=3, min_early_stopping_rate=1)
    study = _study(pruner)
    _add(study, skipjack, "COMPLETE", {6: 0.0}, [0.0])
    # The first rung ends at 2 * 3 ** 1 = 6.
    assert _decisions(study, [(5, 9.0), (6, 9.0)]) == [False, True]


def test_auto_min_resource_waits_for_a_completed_trial_then_uses_its_length() -> None:
    study = _study(SuccessiveHalvingPruner(reduction_factor=2))
    _add(study, skipjack, "PRUNED", {1: 0.0, 2: 0.0}, [0.0, 0.0])
    assert _decisions(study, [(1, 9.0), (2, 9.0)]) == [False, False]  # nothing completed yet
    # A completed trial that reported up to step 399: min_resource = 399 // 100 = 3.
    _add(study, skipjack, "COMPLETE", {0: 0.0, 399: 0.0}, [])
    assert _decisions(study, [(2, 9.0), (3, 9.0)]) == [False, True]
    assert study.pruner._estimated_min_resource == 3


# ---- agreement with Optuna on random histories --------------------------------------------


def _random_history(
    rng: random.Random, max_rung: int
) -> list[tuple[str, dict[int, float], list[float]]]:
    trials = []
    for _ in range(rng.randrange(0, 14)):
        state = rng.choice(STATES)
        rungs = [float(rng.randrange(6)) for _ in range(rng.randrange(max_rung + 1))]
        reports = {s: float(rng.randrange(6)) for s in rng.sample(range(30), 3)}
        trials.append((state, reports, rungs))
    return trials


@pytest.mark.parametrize("seed", range(60))
def test_decisions_match_optuna_on_random_histories(seed: int) -> None:
    rng = random.Random(seed)
    kwargs: dict[str, Any] = {
        "min_resource": rng.choice([1, 2, "auto"]),
        "reduction_factor": rng.choice([2, 3, 4]),
        "min_early_stopping_rate": rng.choice([0, 0, 1]),
    }
    if kwargs["min_resource"] != "auto":
        kwargs["bootstrap_count"] = rng.choice([0, 0, 2])
    direction = rng.choice(["minimize", "maximize"])
    history = _random_history(rng, 3)
    ours = _study(SuccessiveHalvingPruner(**kwargs), direction)
    theirs = _study(optuna.pruners.SuccessiveHalvingPruner(**kwargs), direction, optuna)
    for state, reports, rungs in history:
        _add(ours, skipjack, state, reports, rungs)
        _add(theirs, optuna, state, reports, rungs)
    # Several new trials in a row, each finishing before the next starts, so later ones meet
    # what earlier ones recorded.
    for _ in range(4):
        steps = sorted(rng.sample(range(40), rng.randrange(1, 12)))
        new = [(s, rng.choice([float(rng.randrange(6)), math.nan])) for s in steps]
        expected = _decisions(theirs, new)
        assert _decisions(ours, new) == expected
        number = len(theirs.trials) - 1
        assert _rung_attrs(ours, number) == _rung_attrs(theirs, number)
        state = rng.choice(["COMPLETE", "PRUNED", "FAIL"])
        theirs.tell(
            number, 0.0 if state == "COMPLETE" else None, getattr(optuna.trial.TrialState, state)
        )
        ours.tell(number, 0.0 if state == "COMPLETE" else None, getattr(TrialState, state))


# ---- threads sharing one study -------------------------------------------------------------


def _reference(study: Any, trial_id: int, step: int, value: float, r: int, eta: int) -> bool:
    """The ASHA rule computed naively from every trial in the storage (minimizing, s=0)."""
    attrs = study._storage.get_trial_system_attrs(trial_id)
    rung = 0
    while f"completed_rung_{rung}" in attrs:
        rung += 1
    while step >= r * eta**rung:
        if math.isnan(value):
            return True
        key = f"completed_rung_{rung}"
        rung_values = sorted(
            [
                t.system_attrs[key]
                for t in study.get_trials(deepcopy=False)
                if key in t.system_attrs and t._trial_id != trial_id
            ]
            + [value]
        )
        if value > rung_values[max(len(rung_values) // eta - 1, 0)]:
            return True
        rung += 1
    return False


def run_threads(study: Any, n_threads: int, n_trials: int, eta: int) -> None:
    """Run ``n_trials`` trials on ``n_threads`` threads; each decision is checked against the
    naive rule under a lock, while other threads finish trials concurrently."""
    lock = threading.Lock()
    counter = iter(range(n_trials))
    errors: list[BaseException] = []

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
                        expected = _reference(study, trial._trial_id, step, value, 1, eta)
                        assert trial.should_prune() == expected, (trial.number, step)
                    if expected:
                        state = TrialState.PRUNED
                        break
                study.tell(trial, 0.0 if state == TrialState.COMPLETE else None, state)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[0]
    assert len(study.trials) == n_trials


def test_threads_sharing_a_study_decide_by_the_shared_records() -> None:
    study = _study(SuccessiveHalvingPruner(min_resource=1, reduction_factor=2))
    run_threads(study, 4, 60, 2)
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    assert pruned, "some trials should lose at a rung"
    for trial in study.get_trials(deepcopy=False):
        # Every trial recorded its report at the end of each rung it reached.
        for rung in range(4):
            key = f"completed_rung_{rung}"
            if key in trial.system_attrs:
                assert trial.system_attrs[key] == trial.intermediate_values[2**rung]


@settings(max_examples=40, deadline=None)
@given(
    rung0=st.lists(st.floats(allow_nan=False, width=32), max_size=8),
    reports=st.lists(st.floats(width=32), min_size=1, max_size=8),
    s=st.integers(0, 2),
    eta=st.integers(2, 4),
)
def test_never_prunes_before_the_first_rung_ends(
    rung0: list[float], reports: list[float], s: int, eta: int
) -> None:
    pruner = SuccessiveHalvingPruner(
        min_resource=1, reduction_factor=eta, min_early_stopping_rate=s
    )
    study = _study(pruner)
    for value in rung0:
        _add(study, skipjack, "COMPLETE", {1: value}, [value])
    first_rung_end = eta**s
    steps = [step % first_rung_end for step in range(len(reports))]
    unique = sorted(dict.fromkeys(steps))
    decisions = _decisions(study, list(zip(unique, reports)))
    assert not any(decisions)
