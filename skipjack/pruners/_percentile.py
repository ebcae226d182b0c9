"""Percentile pruning: stop a trial whose best report is worse than most finished trials'.

The rule, checked each time the trial reports (``step`` is its latest step):

1. Never prune before ``n_startup_trials`` trials have COMPLETED (nor with none at all), before
   ``step`` reaches ``n_warmup_steps``, or more than once per interval: a check happens at the
   first report at or after each pruning step ``n_warmup_steps + k * interval_steps``.
2. The trial's score is its best report so far (NaN reports ignored); if every report is NaN
   the trial is pruned.
3. The threshold is the ``percentile``-th percentile of the values COMPLETE trials reported at
   ``step`` (the ``100 - percentile``-th when maximizing), NaN values ignored. With fewer than
   ``n_min_trials`` such reports (NaN ones counted), or none that is not NaN, do not prune.
4. Prune when the score is strictly worse than the threshold.

Completed trials' reports are read from the study's columnar history, so a check costs one
vectorized percentile instead of a pass over every trial.
"""

from __future__ import annotations

from collections.abc import Iterable
import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

from skipjack.pruners._base import BasePruner
from skipjack.study._history import history_of
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["PercentilePruner"]

_COMPLETE = (TrialState.COMPLETE,)


def _check_count(name: str, value: object, minimum: int) -> None:
    """Raise unless ``value`` is a whole number (not a bool) of at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be an integer, but got {value!r}.")
    if not float(value).is_integer():
        raise ValueError(f"`{name}` must be a whole number, but got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}, but got {value!r}.")


def _check_percentile(value: object) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`percentile` must be a real number, but got {value!r}.")
    if not 0.0 <= float(value) <= 100.0:
        raise ValueError(f"`percentile` must be between 0 and 100 inclusive, but got {value!r}.")


def _is_first_report_in_interval(
    step: int, steps: Iterable[int], n_warmup_steps: int, interval_steps: int
) -> bool:
    """Return whether ``step`` is the trial's first report at or after the latest pruning step.

    Pruning steps are ``n_warmup_steps + k * interval_steps``. If the trial skipped a pruning
    step, the check happens at the next step it does report.
    """
    last_pruning_step = (step - n_warmup_steps) // interval_steps * interval_steps
    last_pruning_step += n_warmup_steps
    if last_pruning_step == step:  # the common case: a report exactly at a pruning step
        return True
    previous = max((s for s in steps if s != step), default=-1)
    return previous < last_pruning_step


def _best_report(values: Iterable[float], direction: StudyDirection) -> float:
    """The trial's best non-NaN report, or NaN when every report is NaN."""
    reports = np.fromiter(values, dtype=np.float64)
    reports = reports[~np.isnan(reports)]
    if reports.size == 0:
        return math.nan
    return float(reports.max() if direction == StudyDirection.MAXIMIZE else reports.min())


def _threshold(
    reports: np.ndarray, direction: StudyDirection, percentile: float, n_min_trials: int
) -> float:
    """The pruning threshold among completed trials' ``reports`` at one step, or NaN."""
    if reports.size < n_min_trials:
        return math.nan
    reports = reports[~np.isnan(reports)]
    if reports.size == 0:
        return math.nan
    # Keeping the best p percent when maximizing means cutting at the (100 - p)-th percentile.
    q = 100.0 - percentile if direction == StudyDirection.MAXIMIZE else percentile
    # Interpolating between two infinite reports gives NaN (no pruning), as in Optuna; the
    # arithmetic warning that comes with it is noise for the user.
    with np.errstate(invalid="ignore"):
        return _linear_percentile(reports, q)


def _linear_percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (the default "linear" method), bit for bit, in O(n).

    NumPy sorts its input through a general-purpose path that costs far more than the two
    order statistics needed; this partitions for them and repeats NumPy's arithmetic exactly:
    virtual index ``(n - 1) * q / 100``, then its two-sided lerp.
    """
    n = values.size
    quantile = q / 100.0
    virtual = (n - 1) * quantile
    lower = min(max(math.floor(virtual), 0), n - 1)
    upper = min(lower + 1, n - 1)
    part = np.partition(values, (lower, upper)) if upper != lower else np.partition(values, lower)
    a, b = float(part[lower]), float(part[upper])
    t = virtual - lower if 0 <= virtual <= n - 1 else (0.0 if virtual < 0 else 1.0)
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


class PercentilePruner(BasePruner):
    """Prune a trial whose best report is in the worst part of completed trials' reports.

    At each check, the trial's best report so far is compared with the ``percentile``-th
    percentile of what COMPLETE trials reported at the same step; the trial is pruned when it is
    strictly worse. ``percentile=25`` keeps trials in the best quarter.

    Args:
        percentile: Between 0 and 100 inclusive.
        n_startup_trials: No pruning until this many trials have completed.
        n_warmup_steps: No pruning while the trial's step is below this; the first possible
            pruning is at ``step == n_warmup_steps``. Steps are assumed non-negative.
        interval_steps: Steps between checks, counted from ``n_warmup_steps``. If a trial does
            not report at a checking step, the check happens at its next report. At least 1.
        n_min_trials: No pruning at a step at which fewer than this many completed trials
            reported. At least 1.

    Raises:
        TypeError: if an argument is not a number (or is a bool).
        ValueError: if an argument is out of range, or a count is not a whole number.
    """

    def __init__(
        self,
        percentile: float,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        _check_percentile(percentile)
        _check_count("n_startup_trials", n_startup_trials, 0)
        _check_count("n_warmup_steps", n_warmup_steps, 0)
        _check_count("interval_steps", interval_steps, 1)
        _check_count("n_min_trials", n_min_trials, 1)
        self._percentile = percentile
        self._n_startup_trials = n_startup_trials
        self._n_warmup_steps = n_warmup_steps
        self._interval_steps = interval_steps
        self._n_min_trials = n_min_trials

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._percentile!r}, "
            f"n_startup_trials={self._n_startup_trials!r}, "
            f"n_warmup_steps={self._n_warmup_steps!r}, "
            f"interval_steps={self._interval_steps!r}, n_min_trials={self._n_min_trials!r})"
        )

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Return whether ``trial`` should stop now, by the rule in the class docstring.

        Raises:
            RuntimeError: from ``study.direction`` if the study has several objectives and
                a check is due.
        """
        # The checks that need only the trial come first: they are the common exits and cost
        # no history refresh. Their order against the trial-count check does not matter, as
        # every one of them only ever answers "do not prune".
        step = trial.last_step
        if step is None or step < self._n_warmup_steps:
            return False
        if not _is_first_report_in_interval(
            step, trial.intermediate_values, self._n_warmup_steps, self._interval_steps
        ):
            return False

        # One snapshot, so the count and the reports agree even if another thread refreshes.
        history = history_of(study).snapshot()
        n_complete = history.count(_COMPLETE)
        if n_complete == 0 or n_complete < self._n_startup_trials:
            return False

        direction = study.direction
        best = _best_report(trial.intermediate_values.values(), direction)
        if math.isnan(best):
            return True
        threshold = _threshold(
            history.intermediate_at(step, _COMPLETE),
            direction,
            float(self._percentile),
            int(self._n_min_trials),
        )
        if math.isnan(threshold):
            return False
        if direction == StudyDirection.MAXIMIZE:
            return best < threshold
        return best > threshold
