"""The median stopping rule."""

from __future__ import annotations

from skipjack.pruners._percentile import PercentilePruner

__all__ = ["MedianPruner"]


class MedianPruner(PercentilePruner):
    """Prune a trial whose best report is worse than the median of completed trials' reports.

    This is :class:`PercentilePruner` with ``percentile=50``: at each check the trial's best
    intermediate value so far is compared with the median of the values COMPLETE trials reported
    at the same step, ignoring NaN values. A trial whose reports are all NaN is pruned.

    Args:
        n_startup_trials: No pruning until this many trials have completed.
        n_warmup_steps: No pruning while the trial's step is below this; the first possible
            pruning is at ``step == n_warmup_steps``.
        interval_steps: Steps between checks, counted from ``n_warmup_steps``; a check due at a
            step the trial does not report happens at its next report.
        n_min_trials: No pruning at a step at which fewer than this many completed trials
            reported.

    Example:
        >>> import skipjack as optuna
        >>> pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=30)
        >>> study = optuna.create_study(direction="maximize", pruner=pruner)
    """

    def __init__(
        self,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        super().__init__(
            50.0,
            n_startup_trials,
            n_warmup_steps,
            interval_steps,
            n_min_trials=n_min_trials,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_startup_trials={self._n_startup_trials!r}, "
            f"n_warmup_steps={self._n_warmup_steps!r}, "
            f"interval_steps={self._interval_steps!r}, n_min_trials={self._n_min_trials!r})"
        )
