"""Threshold pruning: stop a trial whose latest report leaves a fixed range."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from skipjack.pruners._base import BasePruner
from skipjack.pruners._checks import check_int
from skipjack.pruners._checks import check_real
from skipjack.pruners._percentile import _is_first_report_in_interval

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["ThresholdPruner"]


class ThresholdPruner(BasePruner):
    """Prune a trial whose latest report is below ``lower``, above ``upper``, or NaN.

    Checks follow the same schedule as :class:`MedianPruner`: none while the step is below
    ``n_warmup_steps``, then one at the first report at or after each step
    ``n_warmup_steps + k * interval_steps``. The study's direction plays no part.

    Args:
        lower: Prune when the latest report is strictly below this; ``None`` for no lower
            bound.
        upper: Prune when the latest report is strictly above this; ``None`` for no upper
            bound. At least one of ``lower`` and ``upper`` is required, and ``lower <= upper``.
        n_warmup_steps: An int of at least 0: no pruning while the step is below it.
        interval_steps: An int of at least 1: steps between checks.

    Raises:
        TypeError: if neither bound is given, or an argument has the wrong type.
        ValueError: if a bound is NaN, ``lower > upper``, or a count is out of range.

    Example:
        >>> import skipjack as optuna
        >>> pruner = optuna.pruners.ThresholdPruner(upper=1.0, n_warmup_steps=2)
        >>> study = optuna.create_study(pruner=pruner)
    """

    def __init__(
        self,
        lower: float | None = None,
        upper: float | None = None,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
    ) -> None:
        if lower is None and upper is None:
            raise TypeError("ThresholdPruner needs `lower`, `upper` or both; got neither.")
        allowed = "a real number or None"
        low = -math.inf if lower is None else check_real("lower", lower, allowed)
        high = math.inf if upper is None else check_real("upper", upper, allowed)
        if low > high:
            raise ValueError(f"`lower` ({lower!r}) must not be greater than `upper` ({upper!r}).")
        check_int("n_warmup_steps", n_warmup_steps, 0, "an int >= 0")
        check_int("interval_steps", interval_steps, 1, "an int >= 1")
        self._lower = lower
        self._upper = upper
        self._n_warmup_steps = n_warmup_steps
        self._interval_steps = interval_steps
        self._low = low
        self._high = high

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(lower={self._lower!r}, upper={self._upper!r}, "
            f"n_warmup_steps={self._n_warmup_steps!r}, interval_steps={self._interval_steps!r})"
        )

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Return whether the latest report, at a due check, is out of range or NaN."""
        step = trial.last_step
        if step is None or step < self._n_warmup_steps:
            return False
        if not _is_first_report_in_interval(
            step, trial.intermediate_values, self._n_warmup_steps, self._interval_steps
        ):
            return False
        latest = trial.intermediate_values[step]
        return math.isnan(latest) or latest < self._low or latest > self._high
