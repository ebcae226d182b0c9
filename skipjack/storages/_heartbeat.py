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

from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.logging import get_logger
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study
    from skipjack.trial._frozen import FrozenTrial

__all__ = ["BaseHeartbeat", "HeartbeatThread", "fail_stale_trials", "is_heartbeat_enabled"]

_logger = get_logger(__name__)


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

    Safe to call from many workers at once: only a worker whose FAIL write succeeds runs the
    callback, and a worker that finds the trial already finished skips it. On a storage whose
    FAIL writes are not exclusive across processes (the journal), the heartbeat threads of
    running trials additionally settle ties with a claim; see :class:`HeartbeatThread`.
    """
    _reap(study, claimant=None)


def _reap(study: Study, claimant: int | None) -> None:
    storage = study._storage
    if not is_heartbeat_enabled(storage):
        return
    assert isinstance(storage, BaseHeartbeat)
    callback = storage.get_failed_trial_callback()
    for trial_id in storage._get_stale_trial_ids(study._study_id):
        try:
            if not study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:
            continue  # another worker finished or failed it first
        if callback is None or not _won_claim(study, trial_id, claimant):
            continue
        callback(study, study._storage.get_trial(trial_id))


def _won_claim(study: Study, stale_trial_id: int, claimant: int | None) -> bool:
    """Whether this worker, which has just failed ``stale_trial_id``, is the one to run the
    callback: the holder of the study-wide claim on it. Without a claimant (a trial of this
    worker), or on a storage without claims, the successful FAIL write decides alone."""
    if claimant is None:
        return True
    try:
        return study._storage.claim(study._study_id, f"stale:{stale_trial_id}", claimant)
    except NotImplementedError:
        return True


class HeartbeatThread:
    """Context manager that, in a daemon thread while a trial runs, records the trial's heartbeat
    and fails stale trials of the study (any live worker reaps dead workers' trials).

    Both happen once at the start and then every heartbeat interval.
    """

    def __init__(self, trial_id: int, study: Study) -> None:
        storage = study._storage
        assert isinstance(storage, BaseHeartbeat)
        self._trial_id = trial_id
        self._study = study
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
        self._reap()
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:  # noqa: BLE001 -- a missed beat is retried at the next interval
                _logger.debug("Recording a heartbeat failed.", exc_info=True)
            self._reap()

    def _reap(self) -> None:
        if self._stop.is_set():
            return
        try:
            _reap(self._study, claimant=self._trial_id)
        except Exception:  # noqa: BLE001 -- the thread must keep beating; retried next interval
            _logger.warning("Failing stale trials failed; retrying later.", exc_info=True)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
