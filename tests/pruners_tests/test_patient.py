"""PatientPruner: arguments, hand-computed decisions, agreement with Optuna."""

from __future__ import annotations

import inspect
import math
import random
from typing import Any
import warnings

import optuna
import pytest

import skipjack
from skipjack.exceptions import ExperimentalWarning
from skipjack.pruners._base import BasePruner
from skipjack.pruners._patient import PatientPruner
from skipjack.pruners._threshold import ThresholdPruner

optuna.logging.set_verbosity(optuna.logging.WARNING)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def _patient(*args: Any, **kwargs: Any) -> PatientPruner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return PatientPruner(*args, **kwargs)


def _decisions(
    pruner: Any, values: list[float], direction: str = "minimize", lib: Any = skipjack
) -> list[bool]:
    study = lib.create_study(pruner=pruner, direction=direction)
    trial = study.ask()
    out = []
    for step, value in enumerate(values):
        trial.report(value, step)
        out.append(trial.should_prune())
    return out


class Recording(BasePruner):
    """Answers ``answer`` and counts how often it was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls = 0

    def prune(self, study: Any, trial: Any) -> bool:
        self.calls += 1
        return self.answer


def test_signature_and_defaults_match_optuna() -> None:
    ours = inspect.signature(PatientPruner)
    theirs = inspect.signature(optuna.pruners.PatientPruner)
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]


def test_construction_warns_that_it_is_experimental() -> None:
    with pytest.warns(ExperimentalWarning, match="PatientPruner"):
        PatientPruner(None, 1)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((None, -1), ValueError, "patience"),
        ((None, 1.5), TypeError, "patience"),
        ((None, 1, -0.1), ValueError, "min_delta"),
        ((None, 1, math.nan), ValueError, "min_delta"),
        (("median", 1), TypeError, "wrapped_pruner"),
    ],
)
def test_invalid_arguments_name_the_argument(
    args: tuple[Any, ...], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        _patient(*args)


def test_stalled_trial_is_pruned_without_a_wrapped_pruner() -> None:
    # patience=2: the last three reports are compared with the ones before.
    values = [5.0, 4.0, 4.5, 4.2, 4.1, 3.9]
    # Step 3: best before {5} = 5 vs best of {4, 4.5, 4.2} = 4: improving. Step 4: {5, 4} -> 4
    # vs {4.5, 4.2, 4.1} -> 4.1: worse: stalled. Step 5: {5, 4, 4.5} -> 4 vs 3.9: improving.
    assert _decisions(_patient(None, 2), values) == [False, False, False, False, True, False]


def test_equal_best_is_not_a_stall() -> None:
    assert _decisions(_patient(None, 0), [1.0, 1.0]) == [False, False]


def test_min_delta_tolerates_a_small_setback() -> None:
    # As in Optuna, a stall means the recent best is worse than the earlier best by more than
    # min_delta.
    values = [4.0, 4.3]
    assert _decisions(_patient(None, 0), values)[-1] is True
    assert _decisions(_patient(None, 0, min_delta=0.5), values)[-1] is False


def test_maximizing() -> None:
    values = [1.0, 2.0, 1.5, 1.9]
    assert _decisions(_patient(None, 1), values, "maximize") == [False, False, False, True]


def test_wrapped_pruner_is_asked_only_when_stalled() -> None:
    inner = Recording(False)
    assert _decisions(_patient(inner, 0), [1.0, 0.5, 0.7, 0.2]) == [False] * 4
    assert inner.calls == 1  # at step 2 only


def test_nan_reports_are_ignored() -> None:
    assert _decisions(_patient(None, 0), [1.0, math.nan]) == [False, False]
    assert _decisions(_patient(None, 0), [1.0, math.nan, 2.0]) == [False, False, True]


@pytest.mark.parametrize("seed", range(40))
def test_decisions_match_optuna(seed: int) -> None:
    rng = random.Random(seed)
    patience = rng.randrange(4)
    min_delta = rng.choice([0.0, 0.3])
    direction = rng.choice(["minimize", "maximize"])
    values = [rng.choice([float(rng.randrange(5)), math.nan]) for _ in range(rng.randrange(1, 12))]
    upper = rng.choice([None, 2.5])
    ours = _patient(None if upper is None else ThresholdPruner(upper=upper), patience, min_delta)
    theirs = optuna.pruners.PatientPruner(
        None if upper is None else optuna.pruners.ThresholdPruner(upper=upper), patience, min_delta
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Optuna's nanmin of an all-NaN slice
        expected = _decisions(theirs, values, direction, optuna)
    assert _decisions(ours, values, direction) == expected
