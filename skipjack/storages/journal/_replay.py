"""Replay: rebuilding studies and trials from journal records, one record at a time.

The rules are Optuna's (see FORMATS.md, "Journal format"): study ids count from 0 in log order,
trial ids are the global creation index, a trial's number is its index within its study. A
record that conflicts with the state built so far (an update to a finished or unknown trial, a
duplicate study name, an incompatible distribution, a lost WAITING->RUNNING race) is skipped;
:meth:`JournalReplay.apply` hands the error back when the record is the caller's own, so the
writer sees it raised. Replay is incremental: the storage feeds only records it has not seen.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import time
from typing import Any

from skipjack import logging
from skipjack.distributions import BaseDistribution
from skipjack.distributions import check_distribution_compatibility
from skipjack.exceptions import DuplicatedStudyError
from skipjack.exceptions import StorageInternalError
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages.journal._records import CLAIM_PREFIX
from skipjack.storages.journal._records import HEARTBEAT_KEY
from skipjack.storages.journal._records import Op
from skipjack.storages.journal._records import load_distribution
from skipjack.storages.journal._records import parse_datetime
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

__all__ = ["JournalReplay", "StudyState"]

_logger = logging.get_logger(__name__)

_Record = dict[str, Any]


class StudyState:
    """What replay knows about one study."""

    __slots__ = (
        "best_number",
        "by_state",
        "claims",
        "directions",
        "finished",
        "first_distributions",
        "name",
        "system_attrs",
        "trial_ids",
        "user_attrs",
    )

    def __init__(self, name: str, directions: list[StudyDirection]) -> None:
        self.name = name
        self.directions = directions
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}
        # Index = trial number.
        self.trial_ids: list[int] = []
        # Trial numbers in each state, so filtered reads and counts skip other trials.
        self.by_state: dict[TrialState, set[int]] = {s: set() for s in TrialState}
        # Trial numbers in the order they finished; a watermark is a position in it.
        self.finished: list[int] = []
        # The first distribution seen for each parameter name; later ones must be compatible.
        self.first_distributions: dict[str, BaseDistribution] = {}
        self.claims: dict[str, int] = {}
        self.best_number: int | None = None


class JournalReplay:
    """The state built from the records applied so far.

    Trial objects are shared with readers: an unfinished trial is updated in place only while
    no reader holds it (its id is in ``fresh``); otherwise the next update replaces it with a
    copy, so every object handed out stays a consistent snapshot.
    """

    def __init__(self) -> None:
        self.studies: dict[int, StudyState] = {}
        self.study_ids_by_name: dict[str, int] = {}
        self.trials: dict[int, FrozenTrial] = {}
        self.trial_study: dict[int, int] = {}
        self.next_study_id = 0
        self.next_trial_id = 0
        self.fresh: set[int] = set()
        # worker id -> id of the trial its latest CREATE_TRIAL record created
        self.last_created: dict[str, int] = {}
        # running trial id -> worker id of the record that made it RUNNING
        self.running_writer: dict[int, str] = {}
        # running trial id -> this reader's monotonic time of its last sign of life: when the
        # trial was first seen RUNNING, or its latest heartbeat record was read.
        self.last_seen_alive: dict[int, float] = {}
        # The reader's own clock; never compared with other machines' clocks.
        self.clock: Callable[[], float] = time.monotonic
        self._handlers: dict[int, Callable[[_Record], None]] = {
            Op.CREATE_STUDY: self._create_study,
            Op.DELETE_STUDY: self._delete_study,
            Op.SET_STUDY_USER_ATTR: self._set_study_user_attr,
            Op.SET_STUDY_SYSTEM_ATTR: self._set_study_system_attr,
            Op.CREATE_TRIAL: self._create_trial,
            Op.SET_TRIAL_PARAM: self._set_trial_param,
            Op.SET_TRIAL_STATE_VALUES: self._set_trial_state_values,
            Op.SET_TRIAL_INTERMEDIATE_VALUE: self._set_trial_intermediate_value,
            Op.SET_TRIAL_USER_ATTR: self._set_trial_user_attr,
            Op.SET_TRIAL_SYSTEM_ATTR: self._set_trial_system_attr,
        }

    # ---- entry point ---------------------------------------------------------------------
    def apply(self, record: _Record, own_worker_id: str) -> Exception | None:
        """Apply one record. A conflicting record changes nothing; its error is returned when
        ``record`` was written by ``own_worker_id`` and dropped otherwise.

        Raises:
            StorageInternalError: for an op code this version does not know, which means the
                log was written by a newer or different tool and cannot be replayed safely.
        """
        op = record.get("op_code")
        handler = self._handlers.get(op) if type(op) is int else None
        if handler is None:
            if op == Op.DISCARD_TRIALS:
                return None
            raise StorageInternalError(
                f"Unknown journal op code {op!r} (known: 0-10). The log was written by a newer "
                "or different tool; skipjack cannot replay it."
            )
        try:
            handler(record)
        except Exception as error:  # noqa: BLE001 -- a conflict: the record changes nothing
            if record.get("worker_id") == own_worker_id:
                return error
            _logger.debug(f"Skipped a conflicting journal record {record!r}: {error}")
        return None

    # ---- lookups -------------------------------------------------------------------------
    def study(self, study_id: int) -> StudyState:
        """The study with this id; KeyError if there is none."""
        try:
            return self.studies[study_id]
        except (KeyError, TypeError):
            raise KeyError(f"No study with study_id {study_id} exists.") from None

    def trial(self, trial_id: int) -> FrozenTrial:
        """The trial with this id; KeyError if there is none."""
        try:
            return self.trials[trial_id]
        except (KeyError, TypeError):
            raise KeyError(f"No trial with trial_id {trial_id} exists.") from None

    def check_updatable(self, trial_id: int) -> FrozenTrial:
        """The trial, if it may still be written; KeyError or UpdateFinishedTrialError."""
        trial = self.trial(trial_id)
        if trial.state.is_finished():
            raise UpdateFinishedTrialError(
                f"Trial {trial.number} (id {trial_id}) is already {trial.state.name} and cannot "
                "be updated."
            )
        return trial

    # ---- studies -------------------------------------------------------------------------
    def _create_study(self, record: _Record) -> None:
        name = record["study_name"]
        directions = [StudyDirection(d) for d in record["directions"]]
        if name in self.study_ids_by_name:
            raise DuplicatedStudyError(f"Another study with name {name!r} exists.")
        study_id = self.next_study_id
        self.next_study_id += 1
        self.studies[study_id] = StudyState(name, directions)
        self.study_ids_by_name[name] = study_id

    def _delete_study(self, record: _Record) -> None:
        study_id = record["study_id"]
        study = self.study(study_id)
        del self.studies[study_id]
        del self.study_ids_by_name[study.name]
        for trial_id in study.trial_ids:
            # The ids stay taken: later trials keep counting from next_trial_id.
            del self.trials[trial_id]
            del self.trial_study[trial_id]
            self.fresh.discard(trial_id)
            self.running_writer.pop(trial_id, None)
            self.last_seen_alive.pop(trial_id, None)

    def _set_study_user_attr(self, record: _Record) -> None:
        study = self.study(record["study_id"])
        study.user_attrs = {**study.user_attrs, **_single(record["user_attr"])}

    def _set_study_system_attr(self, record: _Record) -> None:
        study = self.study(record["study_id"])
        attr = _single(record["system_attr"])
        ((key, value),) = attr.items()
        if key.startswith(CLAIM_PREFIX):
            # The first claim record of a key wins; a malformed one claims nothing.
            if type(value) is int:
                study.claims.setdefault(key[len(CLAIM_PREFIX) :], value)
            return
        study.system_attrs = {**study.system_attrs, **attr}

    # ---- trials --------------------------------------------------------------------------
    def _create_trial(self, record: _Record) -> None:
        study_id = record["study_id"]
        study = self.study(study_id)
        distributions = {
            name: load_distribution(text) for name, text in record.get("distributions", {}).items()
        }
        params = {
            name: distributions[name].to_external_repr(value)
            for name, value in record.get("params", {}).items()
        }
        start = record.get("datetime_start")
        complete = record.get("datetime_complete")
        system_attrs = {
            k: v for k, v in record.get("system_attrs", {}).items() if k != HEARTBEAT_KEY
        }
        state = TrialState(record.get("state", TrialState.RUNNING))
        trial_id = self.next_trial_id
        number = len(study.trial_ids)
        trial = FrozenTrial(
            number=number,
            state=state,
            value=record.get("value"),
            values=record.get("values"),
            datetime_start=None if start is None else parse_datetime(start),
            datetime_complete=None if complete is None else parse_datetime(complete),
            params=params,
            distributions=distributions,
            user_attrs=dict(record.get("user_attrs", {})),
            system_attrs=system_attrs,
            intermediate_values={
                int(step): v for step, v in record.get("intermediate_values", {}).items()
            },
            trial_id=trial_id,
        )
        self.next_trial_id += 1
        self.trials[trial_id] = trial
        self.trial_study[trial_id] = study_id
        study.trial_ids.append(trial_id)
        study.by_state[state].add(number)
        for name, dist in distributions.items():
            study.first_distributions.setdefault(name, dist)
        worker_id = record.get("worker_id", "")
        self.last_created[worker_id] = trial_id
        if state.is_finished():
            self._on_finished(study, trial)
        else:
            self.fresh.add(trial_id)
            if state == TrialState.RUNNING:
                self.running_writer[trial_id] = worker_id
                self.last_seen_alive[trial_id] = self.clock()

    def _set_trial_param(self, record: _Record) -> None:
        trial_id = record["trial_id"]
        self.check_updatable(trial_id)
        study = self.studies[self.trial_study[trial_id]]
        name = record["param_name"]
        dist = load_distribution(record["distribution"])
        first = study.first_distributions.get(name)
        if first is not None:
            check_distribution_compatibility(first, dist)
        external = dist.to_external_repr(record["param_value_internal"])
        study.first_distributions.setdefault(name, dist)
        trial = self._writable(trial_id)
        trial._params[name] = external
        trial._distributions[name] = dist

    def _set_trial_state_values(self, record: _Record) -> None:
        trial_id = record["trial_id"]
        old = self.check_updatable(trial_id)
        state = TrialState(record["state"])
        if state == TrialState.RUNNING and old.state == TrialState.RUNNING:
            return  # a later WAITING->RUNNING record lost the race
        start = parse_datetime(record["datetime_start"]) if state == TrialState.RUNNING else None
        finished = state.is_finished()
        complete = parse_datetime(record["datetime_complete"]) if finished else None
        raw_values = record.get("values")
        values = None if raw_values is None else [float(v) for v in raw_values]
        study = self.studies[self.trial_study[trial_id]]
        trial = self._writable(trial_id)
        study.by_state[trial.state].discard(trial.number)
        study.by_state[state].add(trial.number)
        trial.state = state
        if values is not None:
            trial.values = values
        if state == TrialState.RUNNING:
            trial.datetime_start = start
            self.running_writer[trial_id] = record.get("worker_id", "")
            self.last_seen_alive[trial_id] = self.clock()
        if finished:
            trial.datetime_complete = complete
            self.fresh.discard(trial_id)
            self.running_writer.pop(trial_id, None)
            self.last_seen_alive.pop(trial_id, None)
            self._on_finished(study, trial)

    def _set_trial_intermediate_value(self, record: _Record) -> None:
        trial_id = record["trial_id"]
        self.check_updatable(trial_id)
        step, value = record["step"], record["intermediate_value"]
        self._writable(trial_id).intermediate_values[step] = value

    def _set_trial_user_attr(self, record: _Record) -> None:
        trial_id = record["trial_id"]
        self.check_updatable(trial_id)
        attr = _single(record["user_attr"])
        self._writable(trial_id)._user_attrs.update(attr)

    def _set_trial_system_attr(self, record: _Record) -> None:
        trial_id = record["trial_id"]
        attr = _single(record["system_attr"])
        if HEARTBEAT_KEY in attr:
            # A heartbeat is a sign of life, never an error: a late beat of a trial that has
            # just finished is simply ignored.
            if trial_id in self.last_seen_alive:
                self.last_seen_alive[trial_id] = self.clock()
            return
        self.check_updatable(trial_id)
        self._writable(trial_id)._system_attrs.update(attr)

    # ---- helpers -------------------------------------------------------------------------
    def _writable(self, trial_id: int) -> FrozenTrial:
        """The stored object of an unfinished trial, copied first if a reader may hold it."""
        trial = self.trials[trial_id]
        if trial_id not in self.fresh:
            trial = trial.__copy__()
            trial._params = dict(trial._params)
            trial._distributions = dict(trial._distributions)
            trial.intermediate_values = dict(trial.intermediate_values)
            trial._user_attrs = dict(trial._user_attrs)
            trial._system_attrs = dict(trial._system_attrs)
            self.trials[trial_id] = trial
            self.fresh.add(trial_id)
        return trial

    def _on_finished(self, study: StudyState, trial: FrozenTrial) -> None:
        study.finished.append(trial.number)
        values = trial.values
        if trial.state != TrialState.COMPLETE or not values or len(study.directions) != 1:
            return
        value = values[0]
        if math.isnan(value):
            return
        if study.best_number is None:
            study.best_number = trial.number
            return
        best_values = self.trials[study.trial_ids[study.best_number]].values
        assert best_values is not None
        if study.directions[0] == StudyDirection.MAXIMIZE:
            better = value > best_values[0]
        else:
            better = value < best_values[0]
        if better:
            study.best_number = trial.number


def _single(attr: Any) -> dict[str, Any]:
    """An attribute record's payload, which must be a dict with exactly one key."""
    if not isinstance(attr, dict) or len(attr) != 1:
        raise ValueError(f"An attribute record must hold exactly one key, got {attr!r}.")
    return attr
