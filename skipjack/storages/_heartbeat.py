"""Heartbeats: how a persistent storage notices trials whose worker died.

A storage that supports heartbeats implements :class:`BaseHeartbeat`. While a trial runs,
``Study.optimize`` (and ``Study.ask`` users, via the same thread) records a heartbeat every
``heartbeat_interval`` seconds; any live worker calls :func:`fail_stale_trials`, which marks
RUNNING trials whose last heartbeat is older than the grace period as FAIL and runs the storage's
``failed_trial_callback`` (e.g. :class:`RetryFailedTrialCallback`) on each.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
import threading
from typing import TYPE_CHECKING
from typing import Any

from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study
    from skipjack.trial._frozen import FrozenTrial

__all__ = ["BaseHeartbeat", "HeartbeatThread", "fail_stale_trials", "is_heartbeat_enabled"]


class BaseHeartbeat(abc.ABC):
    """Mixin for storages that record heartbeats of running trials."""

    @abc.abstractmethod
    def record_heartbeat(self, trial_id: int) -> None:
        """Record that the trial's worker is alive now."""

    @abc.abstractmethod
    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        """Return ids of RUNNING trials of the study whose heartbeat is older than the grace
        period (or that never beat and started longer than the grace period ago)."""

    @abc.abstractmethod
    def get_heartbeat_interval(self) -> int | None:
        """Seconds between heartbeats, or None when heartbeats are off."""

    @abc.abstractmethod
    def get_failed_trial_callback(self) -> Callable[[Study, FrozenTrial], None] | None:
        """The callback run on each trial that was failed for being stale."""

    def get_heartbeat_stale_trial_callback(self) -> Callable[[Study, FrozenTrial], None] | None:
        """Newer name of :meth:`get_failed_trial_callback`."""
        return self.get_failed_trial_callback()


def is_heartbeat_enabled(storage: Any) -> bool:
    """Return whether ``storage`` records heartbeats (it implements them and has an interval)."""
    return isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval() is not None


def fail_stale_trials(study: Study) -> None:
    """Mark the study's stale RUNNING trials as FAIL and run the failed-trial callback on each.

    Safe to call from many workers at once: a trial is failed (and its callback run) by the one
    worker whose state change wins.
    """
    storage = study._storage
    if not is_heartbeat_enabled(storage):
        return
    assert isinstance(storage, BaseHeartbeat)
    failed: list[int] = []
    for trial_id in storage._get_stale_trial_ids(study._study_id):
        try:
            if study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(trial_id)
        except Exception:  # noqa: BLE001 -- another worker finished or failed it first
            continue
    callback = storage.get_failed_trial_callback()
    if callback is None:
        return
    for trial_id in failed:
        callback(study, study._storage.get_trial(trial_id))


class HeartbeatThread:
    """Context manager that records a trial's heartbeat in a daemon thread while it runs."""

    def __init__(self, trial_id: int, storage: BaseHeartbeat) -> None:
        self._trial_id = trial_id
        self._storage = storage
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HeartbeatThread:
        interval = self._storage.get_heartbeat_interval()
        assert interval is not None
        self._storage.record_heartbeat(self._trial_id)
        self._thread = threading.Thread(
            target=self._beat, args=(float(interval),), name="skipjack-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:  # noqa: BLE001 -- a missed beat is retried at the next interval
                pass

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
