"""Callbacks a storage runs on trials it failed for being stale (their worker stopped beating)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study
    from skipjack.trial._frozen import FrozenTrial

__all__ = ["RetryFailedTrialCallback", "RetryHeartbeatStaleTrialCallback"]

# System attributes written by skipjack's storages themselves (heartbeats, claims) describe the
# dead trial, not its parameters, so a retry must not inherit them.
_STORAGE_ATTR_PREFIX = "skipjack:"


class RetryHeartbeatStaleTrialCallback:
    """Queue a new attempt of a trial that was failed because its worker stopped beating.

    Pass an instance as a storage's ``heartbeat_stale_trial_callback`` (or
    ``failed_trial_callback``). For each stale trial, it adds a WAITING trial with the same
    parameters and distributions, user attributes and system attributes, which the next free
    worker then runs. The new trial records ``failed_trial`` (the number of the first attempt of
    the chain) and ``retry_history`` (every earlier attempt, oldest first) as system attributes;
    read them with :meth:`retried_trial_number` and :meth:`retry_history`.

    Args:
        max_retry: How many times one parameter set may be retried; None retries forever.
        inherit_intermediate_values: Copy the failed trial's reported intermediate values into
            the retry.
    """

    def __init__(
        self, max_retry: int | None = None, inherit_intermediate_values: bool = False
    ) -> None:
        self._max_retry = max_retry
        self._inherit_intermediate_values = inherit_intermediate_values

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        """Queue a retry of ``trial`` in ``study`` unless its chain has used up ``max_retry``."""
        history = [*trial.system_attrs.get("retry_history", []), trial.number]
        if self._max_retry is not None and len(history) > self._max_retry:
            return
        system_attrs: dict[str, Any] = {
            key: value
            for key, value in trial.system_attrs.items()
            if not key.startswith(_STORAGE_ATTR_PREFIX)
        }
        system_attrs.setdefault("failed_trial", trial.number)
        system_attrs["retry_history"] = history
        study.add_trial(
            create_trial(
                state=TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                user_attrs=trial.user_attrs,
                system_attrs=system_attrs,
                intermediate_values=(
                    trial.intermediate_values if self._inherit_intermediate_values else None
                ),
            )
        )

    @staticmethod
    def retried_trial_number(trial: FrozenTrial) -> int | None:
        """Return the number of the first attempt that ``trial`` retries, or None if it is not a
        retry. Retries of retries still point at the first attempt."""
        return trial.system_attrs.get("failed_trial", None)

    @staticmethod
    def retry_history(trial: FrozenTrial) -> list[int]:
        """Return the numbers of the earlier attempts of ``trial``'s parameter set, oldest
        first (the first one is :meth:`retried_trial_number`); empty if it is not a retry."""
        return trial.system_attrs.get("retry_history", [])


class RetryFailedTrialCallback(RetryHeartbeatStaleTrialCallback):
    """Former name of :class:`RetryHeartbeatStaleTrialCallback` (deprecated, as in Optuna)."""

    def __init__(
        self, max_retry: int | None = None, inherit_intermediate_values: bool = False
    ) -> None:
        warnings.warn(
            "RetryFailedTrialCallback has been deprecated in v4.9.0 (Optuna) and will be removed "
            "in v6.0.0; use RetryHeartbeatStaleTrialCallback instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(max_retry, inherit_intermediate_values)
