"""Wilcoxon pruning: stop a trial that is significantly worse than the best one, instance by
instance.

For objectives that average a score over problem instances (datasets, folds, seeds), where the
trial reports the score of instance ``i`` as step ``i``. The trial is compared with the best
trial on the instances both have evaluated, with the one-sided Wilcoxon signed-rank test
(Wilcoxon, "Individual Comparisons by Ranking Methods", Biometrics Bulletin 1(6), 1945) on the
paired differences, zeros split between the signs (Pratt's "zsplit" variant as SciPy names it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Literal
import warnings

import numpy as np

from skipjack.exceptions import ExperimentalWarning
from skipjack.pruners._base import BasePruner
from skipjack.pruners._checks import check_int
from skipjack.pruners._checks import check_real
from skipjack.study._study_direction import StudyDirection

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["WilcoxonPruner"]


def _steps_and_values(trial: FrozenTrial) -> tuple[np.ndarray, np.ndarray]:
    """The trial's report steps and values, in report order."""
    reports = trial.intermediate_values
    steps = np.fromiter(reports.keys(), dtype=np.int64, count=len(reports))
    values = np.fromiter(reports.values(), dtype=np.float64, count=len(reports))
    return steps, values


def _mean(values: np.ndarray) -> float:
    # Summed left to right like Python's sum, so that ties between the two means break the way
    # Optuna's do.
    return sum(values.tolist()) / len(values)


def _best_trial(study: Study) -> FrozenTrial | None:
    try:
        # The private accessor skips the defensive copy; nothing here modifies the trial.
        getter = getattr(study, "_get_best_trial", None)
        return getter() if getter is not None else study.best_trial
    except ValueError:  # no completed trial yet
        return None


class WilcoxonPruner(BasePruner):
    """Prune a trial that the Wilcoxon signed-rank test finds worse than the best trial.

    Each trial reports one score per problem instance, using the instance's id as the step (in
    any order; shuffling the instances per trial helps). At each check the trial's reports are
    paired with the best trial's reports at the same steps, and the one-sided signed-rank test
    (``scipy.stats.wilcoxon`` with ``zero_method="zsplit"``) asks whether the trial is worse.
    The trial is pruned when the p-value is below ``p_threshold``, unless its average over all
    its reports is at least as good as the best trial's average over all of its own.

    Nothing is pruned before ``max(2, n_startup_steps)`` paired instances, without a COMPLETE
    trial, or (with a warning) when the trial or the best trial has an infinite or NaN report,
    or the best trial has no reports. Steps the best trial lacks are ignored, with a warning.

    Like Optuna's, this class is experimental: constructing it emits an
    :class:`~skipjack.exceptions.ExperimentalWarning`. SciPy is imported at the first test.

    Args:
        p_threshold: A real number between 0 and 1: prune when the p-value is below it. Lower
            values prune less, and more safely.
        n_startup_steps: An int of at least 0: the number of paired instances needed (2 at
            least) before a test is made.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if an argument is out of range.

    Example:
        >>> import skipjack as optuna
        >>> pruner = optuna.pruners.WilcoxonPruner(p_threshold=0.1)
        >>> study = optuna.create_study(pruner=pruner)
    """

    def __init__(self, *, p_threshold: float = 0.1, n_startup_steps: int = 2) -> None:
        warnings.warn(
            "WilcoxonPruner is experimental (supported from v3.6.0). "
            "The interface can change in the future.",
            ExperimentalWarning,
            stacklevel=2,
        )
        threshold = check_real("p_threshold", p_threshold, "a real number between 0 and 1")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(
                f"`p_threshold` must be a real number between 0 and 1, but got {p_threshold!r}."
            )
        check_int("n_startup_steps", n_startup_steps, 0, "an int >= 0")
        self._p_threshold = p_threshold
        self._n_startup_steps = n_startup_steps

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(p_threshold={self._p_threshold!r}, "
            f"n_startup_steps={self._n_startup_steps!r})"
        )

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Return whether the trial is significantly worse than the best trial so far.

        Raises:
            RuntimeError: from ``study.direction`` in a multi-objective study.
        """
        if not trial.intermediate_values:
            return False
        steps, values = _steps_and_values(trial)
        if not np.all(np.isfinite(values)):
            warnings.warn(
                f"The intermediate values of the current trial (trial {trial.number}) contain "
                "infinity or NaN; WilcoxonPruner will not prune this trial.",
                UserWarning,
                stacklevel=2,
            )
            return False
        best = _best_trial(study)
        if best is None:
            return False
        if not best.intermediate_values:
            warnings.warn(
                f"The best trial (trial {best.number}) has no intermediate values, so "
                "WilcoxonPruner cannot prune. If it was added with Study.add_trial, give it "
                "intermediate_values.",
                UserWarning,
                stacklevel=2,
            )
            return False
        best_steps, best_values = _steps_and_values(best)
        if not np.all(np.isfinite(best_values)):
            warnings.warn(
                f"The intermediate values of the best trial (trial {best.number}) contain "
                "infinity or NaN; WilcoxonPruner will not prune the current trial.",
                UserWarning,
                stacklevel=2,
            )
            return False

        _, mine, theirs = np.intersect1d(steps, best_steps, return_indices=True)
        if len(mine) < len(values):
            warnings.warn(
                f"Trial {trial.number} reported steps that the best trial (trial "
                f"{best.number}) did not; WilcoxonPruner ignores them.",
                UserWarning,
                stacklevel=2,
            )
        differences = values[mine] - best_values[theirs]
        if len(differences) < max(2, self._n_startup_steps):
            return False

        alternative: Literal["less", "greater"]
        if study.direction == StudyDirection.MAXIMIZE:
            alternative = "less"
            average_is_best = _mean(best_values) <= _mean(values)
        else:
            alternative = "greater"
            average_is_best = _mean(best_values) >= _mean(values)

        from scipy import stats  # imported here: SciPy is slow to import

        p_value = float(
            stats.wilcoxon(differences, alternative=alternative, zero_method="zsplit").pvalue
        )
        return p_value < float(self._p_threshold) and not average_is_best
