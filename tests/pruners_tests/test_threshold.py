"""ThresholdPruner: arguments, hand-computed decisions, agreement with Optuna."""

from __future__ import annotations

import inspect
import math
import random
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
import pytest

import skipjack
from skipjack.pruners._threshold import ThresholdPruner

optuna.logging.set_verbosity(optuna.logging.WARNING)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)


def _decisions(pruner: Any, reports: list[tuple[int, float]], lib: Any = skipjack) -> list[bool]:
    study = lib.create_study(pruner=pruner)
    trial = study.ask()
    out = []
    for step, value in reports:
        trial.report(value, step)
        out.append(trial.should_prune())
    return out


def test_signature_and_defaults_match_optuna() -> None:
    ours = inspect.signature(ThresholdPruner)
    theirs = inspect.signature(optuna.pruners.ThresholdPruner)
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]


def test_repr_rebuilds_the_pruner() -> None:
    pruner = ThresholdPruner(lower=-1.0, n_warmup_steps=2, interval_steps=3)
    rebuilt = eval(repr(pruner), {"ThresholdPruner": ThresholdPruner})
    assert rebuilt.__dict__ == pruner.__dict__


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({}, TypeError, "lower"),
        ({"lower": "a"}, TypeError, "lower"),
        ({"upper": math.nan}, ValueError, "upper"),
        ({"lower": 2.0, "upper": 1.0}, ValueError, "lower"),
        ({"upper": 1.0, "n_warmup_steps": -1}, ValueError, "n_warmup_steps"),
        ({"upper": 1.0, "interval_steps": 0}, ValueError, "interval_steps"),
        ({"upper": 1.0, "interval_steps": 1.5}, TypeError, "interval_steps"),
    ],
)
def test_invalid_arguments_name_the_argument(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        ThresholdPruner(**kwargs)


def test_out_of_range_and_nan_are_pruned() -> None:
    pruner = ThresholdPruner(lower=0.0, upper=1.0)
    assert _decisions(pruner, [(0, 0.5), (1, 1.0), (2, 0.0)]) == [False, False, False]
    assert _decisions(pruner, [(0, 1.5)]) == [True]
    assert _decisions(pruner, [(0, -0.5)]) == [True]
    assert _decisions(pruner, [(0, math.nan)]) == [True]


def test_only_the_latest_report_counts() -> None:
    # An earlier out-of-range report does not matter once the trial is back in range.
    assert _decisions(ThresholdPruner(upper=1.0), [(0, 5.0), (1, 0.5)]) == [True, False]


def test_direction_plays_no_part() -> None:
    study = skipjack.create_study(direction="maximize", pruner=ThresholdPruner(lower=1.0))
    trial = study.ask()
    trial.report(0.5, 0)
    assert trial.should_prune()


def test_warmup_and_interval() -> None:
    pruner = ThresholdPruner(upper=0.0, n_warmup_steps=2, interval_steps=3)
    # Checks at steps 2, 5, 8, ...: every report here is out of range.
    reports = [(s, 1.0) for s in range(9)]
    assert _decisions(pruner, reports) == [s in (2, 5, 8) for s in range(9)]
    # A skipped checking step is caught up at the next report.
    assert _decisions(pruner, [(0, 1.0), (4, 1.0), (6, 1.0), (7, 1.0)]) == [
        False,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize("seed", range(40))
def test_decisions_match_optuna(seed: int) -> None:
    rng = random.Random(seed)
    lower = rng.choice([None, -1.0, 0.0])
    upper = rng.choice([None, 1.0, 2.0]) if lower is not None else rng.choice([1.0, 2.0])
    kwargs: dict[str, Any] = {
        "lower": lower,
        "upper": upper,
        "n_warmup_steps": rng.randrange(4),
        "interval_steps": rng.randrange(1, 4),
    }
    steps = sorted(rng.sample(range(20), rng.randrange(1, 10)))
    reports = [(s, rng.choice([rng.uniform(-2, 3), math.nan, math.inf])) for s in steps]
    expected = _decisions(optuna.pruners.ThresholdPruner(**kwargs), reports, optuna)
    assert _decisions(ThresholdPruner(**kwargs), reports) == expected


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(), min_size=1, max_size=10),
    n_warmup_steps=st.integers(0, 12),
    interval_steps=st.integers(1, 4),
)
def test_never_prunes_during_warmup(
    values: list[float], n_warmup_steps: int, interval_steps: int
) -> None:
    pruner = ThresholdPruner(
        lower=0.0, upper=0.0, n_warmup_steps=n_warmup_steps, interval_steps=interval_steps
    )
    decisions = _decisions(pruner, list(enumerate(values)))
    assert not any(decisions[:n_warmup_steps])
    # After warm-up, a check is due at each step n_warmup_steps + k * interval_steps; there,
    # any value but 0 is out of range.
    for step, (value, pruned) in enumerate(zip(values, decisions)):
        due = step >= n_warmup_steps and (step - n_warmup_steps) % interval_steps == 0
        assert pruned == (due and value != 0.0)
