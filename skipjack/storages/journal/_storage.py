"""JournalStorage: a storage kept as a log of operations that every worker replays."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Container
from collections.abc import Sequence
import copy
import gc
import itertools
import os
import threading
from typing import TYPE_CHECKING
from typing import Any
import uuid

from skipjack import logging
from skipjack.distributions import BaseDistribution
from skipjack.distributions import check_distribution_compatibility
from skipjack.distributions import distribution_to_json
from skipjack.exceptions import DuplicatedStudyError
from skipjack.storages._base import BaseStorage
from skipjack.storages._heartbeat import BaseHeartbeat
from skipjack.storages.journal._base import BaseJournalBackend
from skipjack.storages.journal._base import DeferredSyncSupport
from skipjack.storages.journal._records import CLAIM_PREFIX
from skipjack.storages.journal._records import HEARTBEAT_KEY
from skipjack.storages.journal._records import Op
from skipjack.storages.journal._records import internal_value
from skipjack.storages.journal._records import now_iso
from skipjack.storages.journal._records import template_fields
from skipjack.storages.journal._replay import JournalReplay
from skipjack.storages.journal._snapshot import SnapshotSupport
from skipjack.storages.journal._snapshot import dump_replay
from skipjack.storages.journal._snapshot import load_replay
from skipjack.study._frozen import FrozenStudy
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study

__all__ = ["JournalStorage"]

_logger = logging.get_logger(__name__)

# Optuna's prefix for generated study names; other tools recognise it.
_NO_NAME_PREFIX = "no-name-"

# A replay snapshot is saved once this many records (and at least as many as the previous
# snapshot covered) have been read since the last one, so saving costs O(1) per record.
_SNAPSHOT_RECORDS = 5000

FailedTrialCallback = Callable[["Study", FrozenTrial], None]


class JournalStorage(BaseStorage, BaseHeartbeat):
    """A storage that appends every operation to a shared log and replays the log to answer.

    The log lives in a backend: a file (:class:`~skipjack.storages.journal.JournalFileBackend`,
    fit for network file systems where SQLite's locking fails) or Redis
    (:class:`~skipjack.storages.journal.JournalRedisBackend`). The record format is Optuna's, so
    Optuna and skipjack read each other's logs. Each call first reads only the records added
    since the previous call. An operation that finishes a trial or changes a study is durable
    when it returns; the records of a running trial are written at once but made durable with
    the next such operation, on backends that can defer (see ``JournalFileBackend``).

    Args:
        log_storage: The backend holding the log.
        heartbeat_interval: Seconds between heartbeats of a running trial, or None (no
            heartbeats). Heartbeats are ordinary ``skipjack:heartbeat`` system-attribute records,
            which Optuna's reader accepts.
        grace_period: Seconds without a heartbeat after which a RUNNING trial is stale; default
            ``2 * heartbeat_interval``. It is measured on the reader's own clock from the moment
            the reader last saw a sign of life (the trial starting, or a heartbeat record), so
            workers' clocks need not agree.
        failed_trial_callback: Called with ``(study, trial)`` for each trial failed for being
            stale, e.g. :class:`~skipjack.storages.RetryFailedTrialCallback`.

    Example::

        storage = JournalStorage(JournalFileBackend("./journal.log"))
        study = skipjack.create_study(storage=storage)
    """

    def __init__(
        self,
        log_storage: BaseJournalBackend,
        *,
        heartbeat_interval: int | None = None,
        grace_period: int | None = None,
        failed_trial_callback: FailedTrialCallback | None = None,
    ) -> None:
        if heartbeat_interval is not None and heartbeat_interval <= 0:
            raise ValueError(
                f"heartbeat_interval must be a positive number or None, got {heartbeat_interval!r}."
            )
        if grace_period is not None and grace_period <= 0:
            raise ValueError(
                f"grace_period must be a positive number or None, got {grace_period!r}."
            )
        self._backend = log_storage
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.failed_trial_callback = failed_trial_callback
        self._setup()

    def _setup(self) -> None:
        backend = self._backend
        self._append_deferred = (
            backend.append_logs_deferred
            if isinstance(backend, DeferredSyncSupport)
            else backend.append_logs
        )
        self._worker_id_prefix = f"{uuid.uuid4()}-"
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._replay = JournalReplay()
        self._n_read = 0
        self._beats = itertools.count(1)
        self._snapshot_at = 0
        with self._lock:
            self._load_snapshot()
            self._sync()

    def __getstate__(self) -> dict[str, Any]:
        return {
            "_backend": self._backend,
            "heartbeat_interval": self.heartbeat_interval,
            "grace_period": self.grace_period,
            "failed_trial_callback": self.failed_trial_callback,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup()

    # ---- log access (call with the lock held) -------------------------------------------
    def _worker_id(self) -> str:
        if os.getpid() != self._pid:
            # A forked child must not pass for its parent: records it writes would be taken
            # for the parent's own (and the parent's errors and new trial ids for the child's).
            self._pid = os.getpid()
            self._worker_id_prefix = f"{uuid.uuid4()}-"
        return self._worker_id_prefix + str(threading.get_ident())

    def _sync(self) -> Exception | None:
        """Apply the records added since the last sync; return the first error among this
        worker's own records."""
        first_error: Exception | None = None
        # Replay allocates many small objects that stay alive; collecting in the middle of a
        # large replay only costs time.
        collecting = gc.isenabled()
        gc.disable()
        try:
            records = iter(self._backend.read_logs(self._n_read))
            first = next(records, None)
            if first is None:
                return None  # the common case: nothing new
            apply = self._replay.apply
            worker_id = self._worker_id()
            n_applied = 0
            try:
                for record in itertools.chain((first,), records):
                    error = apply(record, worker_id)
                    n_applied += 1
                    if error is not None and first_error is None:
                        first_error = error
            finally:
                self._n_read += n_applied
        finally:
            if collecting:
                gc.enable()
        if self._n_read - self._snapshot_at >= max(_SNAPSHOT_RECORDS, self._snapshot_at):
            self._save_snapshot()
        return first_error

    def _load_snapshot(self) -> None:
        """Start from the backend's replay snapshot, if it has one that matches the log."""
        if not isinstance(self._backend, SnapshotSupport):
            return
        collecting = gc.isenabled()
        gc.disable()
        try:
            found = self._backend.load_replay_snapshot()
            if found is None:
                return
            replay = load_replay(found[1])
        except Exception as error:  # noqa: BLE001 -- a snapshot is only a cache
            _logger.warning(f"Ignored an unreadable journal replay snapshot: {error}")
            return
        finally:
            if collecting:
                gc.enable()
        self._replay = replay
        self._n_read = self._snapshot_at = found[0]

    def _save_snapshot(self) -> None:
        self._snapshot_at = self._n_read
        if not isinstance(self._backend, SnapshotSupport):
            return
        try:
            self._backend.save_replay_snapshot(self._n_read, dump_replay(self._replay))
        except Exception as error:  # noqa: BLE001 -- a snapshot is only a cache
            _logger.debug(f"Could not save a journal replay snapshot: {error}")

    def _write(self, op: Op, fields: dict[str, Any], durable: bool = True) -> None:
        """Append one record, replay up to it, and raise if it conflicted.

        ``durable=False`` (records of a running trial) lets a backend that supports it skip
        flushing to stable storage; the next durable record flushes this one too.
        """
        record = {"op_code": int(op), "worker_id": self._worker_id(), **fields}
        if durable:
            self._backend.append_logs([record])
        else:
            self._append_deferred([record])
        error = self._sync()
        if error is not None:
            raise error

    # ---- studies -------------------------------------------------------------------------
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        """Create a study; an unnamed study gets a unique ``no-name-<uuid4>`` name."""
        if study_name is None:
            study_name = _NO_NAME_PREFIX + str(uuid.uuid4())
        with self._lock:
            self._sync()
            if study_name in self._replay.study_ids_by_name:
                raise DuplicatedStudyError(f"Another study with name {study_name!r} exists.")
            fields = {"study_name": study_name, "directions": [int(d) for d in directions]}
            self._write(Op.CREATE_STUDY, fields)
            study_id = self._replay.study_ids_by_name[study_name]
        _logger.info(f"A new study created in Journal with name: {study_name}")
        return study_id

    def delete_study(self, study_id: int) -> None:
        """Delete a study and its trials (their ids are never reused)."""
        with self._lock:
            self._sync()
            self._replay.study(study_id)
            self._write(Op.DELETE_STUDY, {"study_id": study_id})

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a study user attribute."""
        with self._lock:
            self._sync()
            self._replay.study(study_id)
            self._write(Op.SET_STUDY_USER_ATTR, {"study_id": study_id, "user_attr": {key: value}})

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a study system attribute."""
        with self._lock:
            self._sync()
            self._replay.study(study_id)
            fields = {"study_id": study_id, "system_attr": {key: value}}
            self._write(Op.SET_STUDY_SYSTEM_ATTR, fields)

    def get_study_id_from_name(self, study_name: str) -> int:
        """Return the id of the named study; KeyError if there is none."""
        with self._lock:
            self._sync()
            try:
                return self._replay.study_ids_by_name[study_name]
            except KeyError:
                raise KeyError(f"No study named {study_name!r}.") from None

    def get_study_name_from_id(self, study_id: int) -> str:
        """Return the name of a study."""
        with self._lock:
            self._sync()
            return self._replay.study(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        """Return the study's directions."""
        with self._lock:
            self._sync()
            return list(self._replay.study(study_id).directions)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's user attributes (a copy)."""
        with self._lock:
            self._sync()
            return copy.deepcopy(self._replay.study(study_id).user_attrs)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's system attributes (a copy; claims are not among them)."""
        with self._lock:
            self._sync()
            return copy.deepcopy(self._replay.study(study_id).system_attrs)

    def get_all_studies(self) -> list[FrozenStudy]:
        """Return every study, ordered by id."""
        with self._lock:
            self._sync()
            return [
                FrozenStudy(
                    study_name=study.name,
                    direction=None,
                    directions=list(study.directions),
                    user_attrs=copy.deepcopy(study.user_attrs),
                    system_attrs=copy.deepcopy(study.system_attrs),
                    study_id=study_id,
                )
                for study_id, study in self._replay.studies.items()
            ]

    # ---- trials: writes ------------------------------------------------------------------
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """Create a RUNNING trial, or a copy of ``template_trial`` (its state included)."""
        if template_trial is None:
            fields: dict[str, Any] = {"study_id": study_id, "datetime_start": now_iso()}
        else:
            fields = {"study_id": study_id, **template_fields(template_trial)}
        # A RUNNING trial's creation need not be durable on its own (see JournalFileBackend);
        # a finished or WAITING (enqueued) trial's must.
        running = template_trial is None or template_trial.state == TrialState.RUNNING
        with self._lock:
            self._sync()
            self._replay.study(study_id)
            self._write(Op.CREATE_TRIAL, fields, durable=not running)
            return self._replay.last_created[self._worker_id()]

    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
    ) -> None:
        """Record a parameter after checking it against the study's first distribution."""
        with self._lock:
            # Checks against what this process already knows refuse most bad writes before
            # anything reaches the log; replay checks again against the whole log.
            replay = self._replay
            if trial_id not in replay.trials:
                self._sync()
            replay.check_updatable(trial_id)
            study = replay.studies[replay.trial_study[trial_id]]
            first = study.first_distributions.get(param_name)
            if first is not None:
                check_distribution_compatibility(first, distribution)
            fields = {
                "trial_id": trial_id,
                "param_name": param_name,
                "param_value_internal": internal_value(distribution, param_value_internal),
                "distribution": distribution_to_json(distribution),
            }
            self._write(Op.SET_TRIAL_PARAM, fields, durable=False)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        """Change a trial's state (and values).

        Returns False, changing nothing, when asked to make a trial RUNNING that is not
        WAITING: another worker took it first. The first RUNNING record in the log wins.
        """
        fields: dict[str, Any] = {
            "trial_id": trial_id,
            "state": int(state),
            "values": None if values is None else list(values),
        }
        if state == TrialState.RUNNING:
            fields["datetime_start"] = now_iso()
        elif state.is_finished():
            fields["datetime_complete"] = now_iso()
        with self._lock:
            self._sync()
            trial = self._replay.check_updatable(trial_id)
            if state == TrialState.RUNNING and trial.state != TrialState.WAITING:
                return False
            self._write(Op.SET_TRIAL_STATE_VALUES, fields, durable=state.is_finished())
            if state == TrialState.RUNNING:
                return self._replay.running_writer.get(trial_id) == self._worker_id()
            return True

    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        """Record (or overwrite) the intermediate value at ``step``."""
        fields = {"trial_id": trial_id, "step": step, "intermediate_value": intermediate_value}
        self._write_trial(Op.SET_TRIAL_INTERMEDIATE_VALUE, trial_id, fields)

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a trial user attribute."""
        fields = {"trial_id": trial_id, "user_attr": {key: value}}
        self._write_trial(Op.SET_TRIAL_USER_ATTR, trial_id, fields)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a trial system attribute."""
        fields = {"trial_id": trial_id, "system_attr": {key: value}}
        self._write_trial(Op.SET_TRIAL_SYSTEM_ATTR, trial_id, fields)

    def _write_trial(self, op: Op, trial_id: int, fields: dict[str, Any]) -> None:
        with self._lock:
            if trial_id not in self._replay.trials:
                self._sync()
            self._replay.check_updatable(trial_id)
            self._write(op, fields, durable=False)

    # ---- trials: reads -------------------------------------------------------------------
    def get_trial(self, trial_id: int) -> FrozenTrial:
        """Return one trial. It is a snapshot shared with the storage: do not modify it."""
        with self._lock:
            self._sync()
            trial = self._replay.trial(trial_id)
            self._replay.fresh.discard(trial_id)
            return trial

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """Return the study's trials ordered by number, optionally only those in ``states``."""
        with self._lock:
            self._sync()
            replay = self._replay
            study = replay.study(study_id)
            ids = study.trial_ids
            if states is not None:
                wanted = [s for s in TrialState if s in states]
                n_wanted = sum(len(study.by_state[s]) for s in wanted)
                if n_wanted < len(ids):
                    numbers = itertools.chain.from_iterable(study.by_state[s] for s in wanted)
                    ids = [ids[n] for n in sorted(numbers)]
            trials = [replay.trials[i] for i in ids]
            if replay.fresh:
                replay.fresh.difference_update(ids)
        return copy.deepcopy(trials) if deepcopy else trials

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        """Return the id of trial ``trial_number`` of a study; KeyError if there is none."""
        with self._lock:
            self._sync()
            ids = self._replay.study(study_id).trial_ids
            if not 0 <= trial_number < len(ids):
                raise KeyError(f"No trial with number {trial_number} in study {study_id}.")
            return ids[trial_number]

    def get_trial_number_from_id(self, trial_id: int) -> int:
        """Return the number of a trial."""
        return self.get_trial(trial_id).number

    def get_n_trials(
        self, study_id: int, state: tuple[TrialState, ...] | TrialState | None = None
    ) -> int:
        """Count the study's trials, optionally only those in ``state``."""
        with self._lock:
            self._sync()
            study = self._replay.study(study_id)
            if state is None:
                return len(study.trial_ids)
            wanted = {state} if isinstance(state, TrialState) else set(state)
            return sum(len(study.by_state[TrialState(s)]) for s in wanted)

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """Return the best COMPLETE trial of a single-objective study (tracked during replay).
        ValueError without a complete trial, RuntimeError for several objectives."""
        with self._lock:
            self._sync()
            study = self._replay.study(study_id)
            if len(study.directions) > 1:
                raise RuntimeError(
                    "Best trial can be obtained only for single-objective optimization."
                )
            if study.best_number is None:
                raise ValueError("No trials are completed yet.")
            trial_id = study.trial_ids[study.best_number]
            self._replay.fresh.discard(trial_id)
            return self._replay.trials[trial_id]

    # ---- skipjack additions ---------------------------------------------------------------
    def get_finished_trials_since(
        self, study_id: int, watermark: int
    ) -> tuple[list[FrozenTrial], int]:
        """Return the trials that finished after ``watermark``, in log order, and the next
        watermark (a position in the study's finish order, the same in every process)."""
        if watermark < 0:
            raise ValueError(f"watermark must be >= 0, got {watermark}.")
        with self._lock:
            self._sync()
            study = self._replay.study(study_id)
            finished = study.finished
            trials = self._replay.trials
            ids = study.trial_ids
            return [trials[ids[n]] for n in finished[watermark:]], len(finished)

    def claim(self, study_id: int, key: str, trial_id: int) -> bool:
        """Claim ``key`` for ``trial_id``; the first claim record in the log wins.

        True if ``trial_id`` holds the claim. A claim is a ``skipjack:claim:<key>`` study
        system-attribute record (hidden from ``get_study_system_attrs``).
        """
        with self._lock:
            self._sync()
            claims = self._replay.study(study_id).claims
            self._replay.trial(trial_id)
            if key not in claims:
                fields = {"study_id": study_id, "system_attr": {CLAIM_PREFIX + key: trial_id}}
                self._write(Op.SET_STUDY_SYSTEM_ATTR, fields)
            return claims[key] == trial_id

    def get_claims(self, study_id: int) -> dict[str, int]:
        """Return every claim of a study: key -> trial id."""
        with self._lock:
            self._sync()
            return dict(self._replay.study(study_id).claims)

    # ---- heartbeats ----------------------------------------------------------------------
    def record_heartbeat(self, trial_id: int) -> None:
        """Append a heartbeat record for a running trial (nothing for a finished or unknown
        one)."""
        with self._lock:
            if trial_id not in self._replay.trials:
                self._sync()
            trial = self._replay.trials.get(trial_id)
            if trial is None or trial.state.is_finished():
                return
            fields = {"trial_id": trial_id, "system_attr": {HEARTBEAT_KEY: next(self._beats)}}
            self._write(Op.SET_TRIAL_SYSTEM_ATTR, fields, durable=False)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        """RUNNING trials of which this reader has seen no sign of life for the grace period."""
        grace = self._grace_period()
        with self._lock:
            self._sync()
            study = self._replay.study(study_id)
            seen = self._replay.last_seen_alive
            now = self._replay.clock()
            stale = []
            for number in sorted(study.by_state[TrialState.RUNNING]):
                trial_id = study.trial_ids[number]
                if now - seen.setdefault(trial_id, now) > grace:
                    stale.append(trial_id)
            return stale

    def _grace_period(self) -> float:
        if self.grace_period is not None:
            return float(self.grace_period)
        if self.heartbeat_interval is not None:
            return 2.0 * self.heartbeat_interval
        return float("inf")

    def get_heartbeat_interval(self) -> int | None:
        """Seconds between heartbeats, or None when heartbeats are off."""
        return self.heartbeat_interval

    def get_failed_trial_callback(self) -> FailedTrialCallback | None:
        """The callback run on each trial failed for being stale."""
        return self.failed_trial_callback
