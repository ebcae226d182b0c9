"""WilcoxonPruner: arguments, hand-computed decisions, agreement with Optuna."""

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
from skipjack.pruners._wilcoxon import WilcoxonPruner

optuna.logging.set_verbosity(optuna.logging.WARNING)
skipjack.logging.set_verbosity(skipjack.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def _wilcoxon(**kwargs: Any) -> WilcoxonPruner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return WilcoxonPruner(**kwargs)


def _study(
    pruner: Any, best: dict[int, float] | None, direction: str = "minimize", lib: Any = skipjack
) -> Any:
    study = lib.create_study(pruner=pruner, direction=direction)
    if best is not None:
        study.add_trial(lib.trial.create_trial(value=0.0, intermediate_values=best))
    return study


def _decisions(study: Any, reports: list[tuple[int, float]]) -> list[bool]:
    trial = study.ask()
    out = []
    for step, value in reports:
        trial.report(value, step)
        out.append(trial.should_prune())
    return out


def test_signature_and_defaults_match_optuna() -> None:
    ours = inspect.signature(WilcoxonPruner)
    theirs = inspect.signature(optuna.pruners.WilcoxonPruner)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()
    ]


def test_construction_warns_that_it_is_experimental() -> None:
    with pytest.warns(ExperimentalWarning, match="WilcoxonPruner"):
        WilcoxonPruner()


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"p_threshold": 1.5}, ValueError, "p_threshold"),
        ({"p_threshold": -0.1}, ValueError, "p_threshold"),
        ({"p_threshold": "0.1"}, TypeError, "p_threshold"),
        ({"n_startup_steps": -1}, ValueError, "n_startup_steps"),
        ({"n_startup_steps": 2.0}, TypeError, "n_startup_steps"),
    ],
)
def test_invalid_arguments_name_the_argument(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        _wilcoxon(**kwargs)


def test_uniformly_worse_trial_is_pruned_once_the_test_is_significant() -> None:
    # Minimizing; the trial is worse than the best on every instance. With n positive
    # differences and no ties, the exact one-sided p-value is 2 ** -n: 0.25, 0.125, 0.0625.
    best = {i: 0.0 for i in range(6)}
    reports = [(i, 1.0 + i) for i in range(4)]
    assert _decisions(_study(_wilcoxon(p_threshold=0.1), best), reports) == [
        False,  # one pair: below the minimum of two
        False,  # p = 0.25
        False,  # p = 0.125
        True,  # p = 0.0625
    ]


def test_better_trial_is_not_pruned() -> None:
    best = {i: 0.0 for i in range(6)}
    reports = [(i, -1.0) for i in range(6)]
    assert not any(_decisions(_study(_wilcoxon(), best), reports))


def test_maximizing_flips_the_test() -> None:
    best = {i: 0.0 for i in range(6)}
    worse = [(i, -1.0 - i) for i in range(4)]
    assert _decisions(_study(_wilcoxon(), best, "maximize"), worse)[-1] is True


def test_n_startup_steps_delays_the_test() -> None:
    best = {i: 0.0 for i in range(6)}
    reports = [(i, 1.0 + i) for i in range(5)]
    decisions = _decisions(_study(_wilcoxon(n_startup_steps=5), best), reports)
    assert decisions == [False, False, False, False, True]


def test_a_better_average_protects_a_significantly_worse_trial() -> None:
    # Worse on most instances, but far better on the one the best trial does not share: the
    # average over all of the trial's reports beats the best trial's, so no pruning.
    best = {i: 0.0 for i in range(5)}
    reports = [(i, 1.0) for i in range(5)] + [(9, -100.0)]
    with pytest.warns(UserWarning, match="ignores"):
        decisions = _decisions(_study(_wilcoxon(), best), reports)
    assert decisions[4] is True and decisions[5] is False


def test_no_completed_trial_no_pruning() -> None:
    assert _decisions(_study(_wilcoxon(), None), [(0, 1.0), (1, 1.0), (2, 1.0)]) == [False] * 3


def test_non_finite_reports_warn_and_do_not_prune() -> None:
    best = {i: 0.0 for i in range(6)}
    with pytest.warns(UserWarning, match="current trial"):
        assert _decisions(_study(_wilcoxon(), best), [(0, 5.0), (1, math.inf)])[-1] is False
    with pytest.warns(UserWarning, match="best trial"):
        bad_best = _study(_wilcoxon(), {0: 0.0, 1: math.nan})
        assert _decisions(bad_best, [(0, 5.0), (1, 5.0)])[-1] is False
    with pytest.warns(UserWarning, match="no intermediate values"):
        assert _decisions(_study(_wilcoxon(), {}), [(0, 5.0), (1, 5.0)])[-1] is False


def test_scipy_is_imported_only_when_testing() -> None:
    import subprocess
    import sys

    code = (
        "import sys, warnings; warnings.simplefilter('ignore');"
        "import skipjack.pruners._wilcoxon as w; w.WilcoxonPruner();"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("seed", range(40))
def test_decisions_match_optuna(seed: int) -> None:
    rng = random.Random(seed)
    kwargs: dict[str, Any] = {
        "p_threshold": rng.choice([0.05, 0.1, 0.3]),
        "n_startup_steps": rng.randrange(5),
    }
    direction = rng.choice(["minimize", "maximize"])
    # Ties and zero differences send SciPy to a permutation test: keep the pairs few.
    n_instances = rng.randrange(3, 9)
    shift = rng.uniform(-0.5, 1.0)
    best = {i: float(rng.randrange(10)) for i in range(n_instances)}
    order = rng.sample(range(n_instances + 2), n_instances)
    reports = [(i, best.get(i, 5.0) + shift + rng.choice([0.0, rng.gauss(0, 1)])) for i in order]
    ours = _study(_wilcoxon(**kwargs), best, direction)
    theirs = _study(optuna.pruners.WilcoxonPruner(**kwargs), best, direction, optuna)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _decisions(theirs, reports)
        assert _decisions(ours, reports) == expected
