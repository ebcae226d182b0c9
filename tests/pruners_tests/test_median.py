"""MedianPruner and PercentilePruner: arguments, the decision rule, and agreement with Optuna."""

from __future__ import annotations

from collections.abc import Sequence
import math
import random
from typing import Any
import warnings

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna
import pytest

from skipjack.pruners import _percentile
from skipjack.pruners._base import BasePruner
from skipjack.pruners._median import MedianPruner
from skipjack.pruners._percentile import PercentilePruner
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)


# ---------------------------------------------------------------------------------------------
# A fake study whose columnar history is built from a list of trials
# ---------------------------------------------------------------------------------------------


class FakeHistory:
    """The slice of TrialHistory the pruner reads, computed naively from FrozenTrials."""

    def __init__(self, trials: Sequence[Any]) -> None:
        self.trials = list(trials)

    def refresh(self) -> None:
        pass

    def snapshot(self) -> FakeHistory:
        return self

    def __len__(self) -> int:
        return len(self.trials)

    def mask(self, states: Sequence[TrialState]) -> np.ndarray:
        return np.array([t.state in states for t in self.trials], dtype=bool)

    def count(self, states: Sequence[TrialState]) -> int:
        return sum(t.state in states for t in self.trials)

    def intermediate_at(
        self, step: int, states: Sequence[TrialState] = (TrialState.COMPLETE,)
    ) -> np.ndarray:
        return np.array(
            [
                t.intermediate_values[step]
                for t in self.trials
                if t.state in states and step in t.intermediate_values
            ],
            dtype=np.float64,
        )


class FakeStudy:
    def __init__(self, trials: Sequence[Any], direction: StudyDirection) -> None:
        self._history = FakeHistory(trials)
        self._directions = [direction]

    @property
    def direction(self) -> StudyDirection:
        if len(self._directions) > 1:
            raise RuntimeError("A multi-objective study has no single direction.")
        return self._directions[0]

    @property
    def directions(self) -> list[StudyDirection]:
        return self._directions


def fake_study(trials: Sequence[Any], direction: StudyDirection) -> Any:
    """A study exposing directions and a ready-made ``_history`` (typed Any for the pruner)."""
    return FakeStudy(trials, direction)


@pytest.fixture
def fake_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pruner read ``study._history`` directly (the fake above)."""
    monkeypatch.setattr(_percentile, "history_of", lambda study: study._history)


def completed(reports: dict[int, float], value: float = 0.0) -> FrozenTrial:
    return create_trial(value=value, intermediate_values=reports)


def running(reports: dict[int, float]) -> FrozenTrial:
    return create_trial(state=TrialState.RUNNING, intermediate_values=reports)


MINIMIZE = StudyDirection.MINIMIZE
MAXIMIZE = StudyDirection.MAXIMIZE


# ---------------------------------------------------------------------------------------------
# Construction
# ---------------------------------------------------------------------------------------------


def test_defaults_match_optuna() -> None:
    pruner = MedianPruner()
    reference = optuna.pruners.MedianPruner()
    for name in ("_n_startup_trials", "_n_warmup_steps", "_interval_steps", "_n_min_trials"):
        assert getattr(pruner, name) == getattr(reference, name)
    assert pruner._percentile == 50.0
    assert isinstance(pruner, PercentilePruner)
    assert isinstance(pruner, BasePruner)


def test_arguments_are_stored_unchanged_and_repr_rebuilds() -> None:
    pruner = MedianPruner(3, 7, interval_steps=2, n_min_trials=4)
    assert (pruner._n_startup_trials, pruner._n_warmup_steps) == (3, 7)
    assert (pruner._interval_steps, pruner._n_min_trials) == (2, 4)
    rebuilt = eval(repr(pruner), {"MedianPruner": MedianPruner})
    assert repr(rebuilt) == repr(pruner)
    assert rebuilt.__dict__ == pruner.__dict__

    p = PercentilePruner(25.0, 1, 2, 3, n_min_trials=2)
    rebuilt_p = eval(repr(p), {"PercentilePruner": PercentilePruner})
    assert rebuilt_p.__dict__ == p.__dict__


def test_n_min_trials_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        MedianPruner(5, 0, 1, 1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"n_warmup_steps": -1}, "n_warmup_steps"),
        ({"interval_steps": 0}, "interval_steps"),
        ({"n_min_trials": 0}, "n_min_trials"),
        ({"n_warmup_steps": 2.5}, "n_warmup_steps"),
    ],
)
def test_invalid_counts_raise_value_error_naming_the_argument(
    kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        MedianPruner(**kwargs)


@pytest.mark.parametrize("bad", [True, "3", None])
def test_non_numeric_counts_raise_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match="n_startup_trials"):
        MedianPruner(n_startup_trials=bad)


@pytest.mark.parametrize("percentile", [-0.1, 100.1, math.nan])
def test_percentile_out_of_range(percentile: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        PercentilePruner(percentile)


def test_percentile_bounds_and_integral_floats_are_accepted() -> None:
    PercentilePruner(0.0)
    PercentilePruner(100)
    MedianPruner(n_startup_trials=np.int64(3), n_warmup_steps=2.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The rule, case by case (against a fake history)
# ---------------------------------------------------------------------------------------------


def history_1_to_5() -> list[FrozenTrial]:
    """Five completed trials reporting 1..5 at steps 0..3 (median 3 at every step)."""
    return [completed({s: float(v) for s in range(4)}) for v in range(1, 6)]


@pytest.mark.usefixtures("fake_history")
class TestRule:
    def test_no_completed_trials_never_prunes(self) -> None:
        study = fake_study([running({0: 1.0})], MINIMIZE)
        assert not MedianPruner(n_startup_trials=0).prune(study, running({0: 100.0}))

    def test_startup_trials(self) -> None:
        trials = history_1_to_5()
        worst = running({0: 100.0})
        assert not MedianPruner(n_startup_trials=6).prune(fake_study(trials, MINIMIZE), worst)
        assert MedianPruner(n_startup_trials=5).prune(fake_study(trials, MINIMIZE), worst)

    def test_pruned_and_failed_trials_do_not_count(self) -> None:
        trials = history_1_to_5()
        trials.append(create_trial(state=TrialState.PRUNED, intermediate_values={0: 0.0}))
        trials.append(create_trial(state=TrialState.FAIL, intermediate_values={0: 0.0}))
        study = fake_study(trials, MINIMIZE)
        assert not MedianPruner(n_startup_trials=6).prune(study, running({0: 100.0}))
        # Their reports are not part of the median either: with the two zeros the median would
        # be 2 and 2.9 pruned; against the completed trials alone (median 3) it is kept.
        assert not MedianPruner().prune(study, running({0: 2.9}))
        assert MedianPruner().prune(study, running({0: 3.1}))

    def test_no_report_never_prunes(self) -> None:
        assert not MedianPruner().prune(fake_study(history_1_to_5(), MINIMIZE), running({}))

    def test_warmup(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        pruner = MedianPruner(n_warmup_steps=2)
        assert not pruner.prune(study, running({0: 9.0, 1: 9.0}))
        assert pruner.prune(study, running({0: 9.0, 1: 9.0, 2: 9.0}))

    def test_interval_steps_are_counted_from_the_warmup(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        pruner = MedianPruner(n_warmup_steps=1, interval_steps=2)
        bad = {0: 9.0, 1: 9.0, 2: 9.0, 3: 9.0}
        # Checks at steps 1 and 3 only.
        assert pruner.prune(study, running({s: bad[s] for s in (0, 1)}))
        assert not pruner.prune(study, running({s: bad[s] for s in (0, 1, 2)}))
        assert pruner.prune(study, running(bad))

    def test_a_skipped_pruning_step_is_checked_at_the_next_report(self) -> None:
        study = fake_study([completed({s: 1.0 for s in range(10)}) for _ in range(5)], MINIMIZE)
        pruner = MedianPruner(interval_steps=4)
        # Pruning steps are 0, 4, 8. The trial reports 0, 3 and then 5: step 5 is the first
        # report at or after 4, so it is checked; a report at 6 afterwards is not.
        assert pruner.prune(study, running({0: 9.0, 3: 9.0, 5: 9.0}))
        assert not pruner.prune(study, running({0: 9.0, 3: 9.0, 5: 9.0, 6: 9.0}))
        assert not pruner.prune(study, running({0: 9.0, 3: 9.0}))

    def test_best_report_over_the_trials_own_steps(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        # Latest report is bad but the best so far (1.0) beats the median at step 3.
        assert not MedianPruner().prune(study, running({0: 1.0, 3: 9.0}))
        study_max = fake_study(history_1_to_5(), MAXIMIZE)
        assert not MedianPruner().prune(study_max, running({0: 5.0, 3: 0.0}))

    def test_equal_to_the_median_is_kept(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        assert not MedianPruner().prune(study, running({0: 3.0}))
        assert MedianPruner().prune(study, running({0: 3.0 + 1e-9}))

    def test_maximize_flips_the_percentile(self) -> None:
        study = fake_study(history_1_to_5(), MAXIMIZE)
        # Keep the best quarter: threshold is the 75th percentile of 1..5, i.e. 4.
        pruner = PercentilePruner(25.0)
        assert not pruner.prune(study, running({0: 4.0}))
        assert pruner.prune(study, running({0: 3.99}))
        minimize = fake_study(history_1_to_5(), MINIMIZE)
        assert not pruner.prune(minimize, running({0: 2.0}))
        assert pruner.prune(minimize, running({0: 2.01}))

    def test_all_nan_reports_are_pruned(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        assert MedianPruner().prune(study, running({0: math.nan, 1: math.nan}))
        # One real value is enough to be judged normally.
        assert not MedianPruner().prune(study, running({0: math.nan, 1: 0.0}))

    def test_nan_reports_of_completed_trials_are_ignored(self) -> None:
        trials = history_1_to_5() + [completed({0: math.nan}) for _ in range(4)]
        study = fake_study(trials, MINIMIZE)
        assert not MedianPruner().prune(study, running({0: 3.0}))
        assert MedianPruner().prune(study, running({0: 3.5}))

    def test_only_nan_at_the_step_never_prunes(self) -> None:
        study = fake_study([completed({0: math.nan}) for _ in range(5)], MINIMIZE)
        assert not MedianPruner().prune(study, running({0: 1e9}))

    def test_n_min_trials_counts_reports_at_the_step(self) -> None:
        trials = [completed({0: 1.0, 1: 1.0}) for _ in range(2)]
        trials += [completed({0: 1.0}) for _ in range(3)]
        study = fake_study(trials, MINIMIZE)
        assert MedianPruner(n_min_trials=2).prune(study, running({0: 5.0, 1: 5.0}))
        assert not MedianPruner(n_min_trials=3).prune(study, running({0: 5.0, 1: 5.0}))
        # NaN reports count towards n_min_trials (as in Optuna) though not to the median.
        trials.append(completed({0: 1.0, 1: math.nan}))
        study = fake_study(trials, MINIMIZE)
        assert MedianPruner(n_min_trials=3).prune(study, running({0: 5.0, 1: 5.0}))

    def test_step_without_completed_reports_never_prunes(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        assert not MedianPruner().prune(study, running({7: 1e9}))

    def test_multi_objective_raises_when_a_check_is_due(self) -> None:
        study = fake_study(history_1_to_5(), MINIMIZE)
        study._directions = [MINIMIZE, MINIMIZE]
        with pytest.raises(RuntimeError):
            MedianPruner().prune(study, running({0: 1.0}))
        # Like Optuna, no check due means no error.
        assert not MedianPruner(n_warmup_steps=3).prune(study, running({0: 1.0}))


# ---------------------------------------------------------------------------------------------
# Agreement with Optuna on random histories
# ---------------------------------------------------------------------------------------------

_REPORT = st.one_of(
    st.integers(-3, 3).map(float),  # small integers make ties with the percentile common
    st.floats(-10, 10, allow_nan=False),
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf]),
)
_REPORTS = st.dictionaries(st.integers(0, 8), _REPORT, max_size=6)
_PAST_TRIAL = st.tuples(
    st.sampled_from([TrialState.COMPLETE] * 4 + [TrialState.PRUNED, TrialState.FAIL]),
    _REPORTS,
)


@st.composite
def pruning_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "percentile": draw(st.sampled_from([50.0, 0.0, 100.0, 25.0, 62.5])),
        "n_startup_trials": draw(st.integers(0, 4)),
        "n_warmup_steps": draw(st.integers(0, 4)),
        "interval_steps": draw(st.integers(1, 3)),
        "n_min_trials": draw(st.integers(1, 4)),
        "maximize": draw(st.booleans()),
        "past": draw(st.lists(_PAST_TRIAL, max_size=8)),
        # The running trial's reports, in the order they were made.
        "current": draw(st.lists(st.tuples(st.integers(0, 8), _REPORT), max_size=6)),
        "seed": draw(st.integers(0, 2**16)),
    }


def _optuna_trial(state: TrialState, reports: dict[int, float]) -> optuna.trial.FrozenTrial:
    finished_value = 0.0 if state == TrialState.COMPLETE else None
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState(int(state)),
        value=finished_value,
        intermediate_values=reports,
    )


def _skipjack_trial(state: TrialState, reports: dict[int, float]) -> FrozenTrial:
    finished_value = 0.0 if state == TrialState.COMPLETE else None
    return create_trial(state=state, value=finished_value, intermediate_values=reports)


def _pruners(case: dict[str, Any]) -> tuple[Any, Any]:
    args = (case["n_startup_trials"], case["n_warmup_steps"], case["interval_steps"])
    kw = {"n_min_trials": case["n_min_trials"]}
    if case["percentile"] == 50.0:
        return MedianPruner(*args, **kw), optuna.pruners.MedianPruner(*args, **kw)
    p = case["percentile"]
    return PercentilePruner(p, *args, **kw), optuna.pruners.PercentilePruner(p, *args, **kw)


def _optuna_decisions(case: dict[str, Any], pruner: Any) -> list[bool]:
    """Optuna's answer after each report of the running trial."""
    study = optuna.create_study(
        direction="maximize" if case["maximize"] else "minimize", pruner=pruner
    )
    for state, reports in case["past"]:
        study.add_trial(_optuna_trial(state, reports))
    trial = study.ask()
    answers = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's all-NaN reductions warn
        for step, value in case["current"]:
            trial.report(value, step)
            answers.append(trial.should_prune())
    return answers


@pytest.mark.usefixtures("fake_history")
@settings(max_examples=300, deadline=None)
@given(pruning_cases())
def test_decisions_match_optuna_on_random_histories(case: dict[str, Any]) -> None:
    ours, theirs = _pruners(case)
    expected = _optuna_decisions(case, theirs)

    past = [_skipjack_trial(state, reports) for state, reports in case["past"]]
    # Rows of the history are in finishing order, not number order.
    random.Random(case["seed"]).shuffle(past)
    study = fake_study(past, MAXIMIZE if case["maximize"] else MINIMIZE)
    reports: dict[int, float] = {}
    got = []
    for step, value in case["current"]:
        reports.setdefault(step, value)  # a repeated step is ignored, as Trial.report does
        got.append(ours.prune(study, running(dict(reports))))
    assert got == expected


# ---------------------------------------------------------------------------------------------
# End to end, through skipjack's own Study (needs create_study and the columnar history)
# ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(pruning_cases())
def test_end_to_end_decisions_match_optuna(case: dict[str, Any]) -> None:
    from skipjack.study import create_study

    ours, theirs = _pruners(case)
    expected = _optuna_decisions(case, theirs)

    study = create_study(direction="maximize" if case["maximize"] else "minimize", pruner=ours)
    for state, reports in case["past"]:
        study.add_trial(_skipjack_trial(state, reports))
    trial = study.ask()
    got = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step, value in case["current"]:
            trial.report(value, step)
            got.append(trial.should_prune())
    assert got == expected


def test_end_to_end_multi_objective_prune_raises() -> None:
    from skipjack.study import create_study

    study = create_study(directions=["minimize", "minimize"])
    study.add_trial(create_trial(values=[0.0, 0.0], intermediate_values={0: 0.0}))
    frozen = running({0: 1.0})
    with pytest.raises(RuntimeError):
        MedianPruner(n_startup_trials=0).prune(study, frozen)


@given(
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=True, width=64),
            st.integers(-5, 5).map(float),
        ),
        min_size=1,
        max_size=50,
    ),
    q=st.one_of(st.sampled_from([0.0, 25.0, 50.0, 75.0, 100.0]), st.floats(0.0, 100.0)),
)
def test_linear_percentile_matches_numpy_bit_for_bit(values: list[float], q: float) -> None:
    from skipjack.pruners._percentile import _linear_percentile

    array = np.array(values)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = float(np.percentile(array, q))
        actual = _linear_percentile(array, q)
    assert actual == expected or (math.isnan(actual) and math.isnan(expected))
