"""InMemoryStorage: studies and trials kept in the memory of one Python process."""

from __future__ import annotations

from collections.abc import Container
from collections.abc import Sequence
import copy
import datetime
import itertools
import math
import threading
from typing import Any
import uuid

from skipjack import logging
from skipjack.distributions import BaseDistribution
from skipjack.distributions import check_distribution_compatibility
from skipjack.exceptions import DuplicatedStudyError
from skipjack.storages._base import BaseStorage
from skipjack.study._frozen import FrozenStudy
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

_FINISHED_STATES = frozenset((TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))

__all__ = ["InMemoryStorage"]

_logger = logging.get_logger(__name__)

# Optuna's prefix for generated study names; other tools recognise it.
_NO_NAME_PREFIX = "no-name-"


class _StudyRecord:
    """Everything the storage keeps about one study."""

    def __init__(self, name: str, directions: list[StudyDirection]) -> None:
        self.name = name
        self.directions = directions
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}
        # Index = trial number. A trial object that has been handed out is never mutated again:
        # the next write replaces it with a copy (copy-on-write), so a FrozenTrial returned
        # earlier stays a consistent snapshot. See InMemoryStorage._writable.
        self.trials: list[FrozenTrial] = []
        # Trial numbers in each state, so filtered reads and counts skip the other trials.
        self.numbers_by_state: dict[TrialState, set[int]] = {s: set() for s in TrialState}
        # Trial numbers in the order the trials finished; a watermark is an index into it.
        self.finished: list[int] = []
        # The first distribution recorded for each parameter name.
        self.distributions: dict[str, BaseDistribution] = {}
        self.best_number: int | None = None
        self.claims: dict[str, int] = {}


class InMemoryStorage(BaseStorage):
    """A storage that keeps everything in the memory of the current process.

    It is the default storage of ``create_study``. It is thread-safe (one re-entrant lock guards
    every operation) and can be pickled, but separate processes do not share it; use a
    persistent storage to run workers in several processes.

    Study ids and trial ids count from 0 across the whole storage; trial numbers count from 0
    within each study.
    """

    def __init__(self) -> None:
        self._studies: dict[int, _StudyRecord] = {}
        self._study_ids_by_name: dict[str, int] = {}
        # trial id -> (study id, trial number)
        self._trial_locations: dict[int, tuple[int, int]] = {}
        self._next_study_id = 0
        self._next_trial_id = 0
        # Ids of unfinished trials whose stored object no reader has seen since it was last
        # copied: writes may update those in place instead of copying the trial again.
        self._owned: set[int] = set()
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ---- studies -------------------------------------------------------------------------
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        """Create a study; an unnamed study gets a unique ``no-name-<uuid4>`` name."""
        with self._lock:
            if study_name is None:
                study_name = _NO_NAME_PREFIX + str(uuid.uuid4())
            elif study_name in self._study_ids_by_name:
                raise DuplicatedStudyError(f"Another study with name {study_name!r} exists.")
            study_id = self._next_study_id
            self._next_study_id += 1
            self._studies[study_id] = _StudyRecord(study_name, list(directions))
            self._study_ids_by_name[study_name] = study_id
        _logger.info(f"A new study created in memory with name: {study_name}")
        return study_id

    def delete_study(self, study_id: int) -> None:
        """Delete a study with its trials and claims."""
        with self._lock:
            record = self._study(study_id)
            for trial in record.trials:
                del self._trial_locations[trial._trial_id]
                self._owned.discard(trial._trial_id)
            del self._study_ids_by_name[record.name]
            del self._studies[study_id]

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a study user attribute."""
        with self._lock:
            record = self._study(study_id)
            record.user_attrs = {**record.user_attrs, key: copy.deepcopy(value)}

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a study system attribute."""
        with self._lock:
            record = self._study(study_id)
            record.system_attrs = {**record.system_attrs, key: copy.deepcopy(value)}

    def get_study_id_from_name(self, study_name: str) -> int:
        """Return the id of the named study; KeyError if there is none."""
        with self._lock:
            try:
                return self._study_ids_by_name[study_name]
            except KeyError:
                raise KeyError(f"No study named {study_name!r}.") from None

    def get_study_name_from_id(self, study_id: int) -> str:
        """Return the name of a study."""
        with self._lock:
            return self._study(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        """Return the study's directions."""
        with self._lock:
            return list(self._study(study_id).directions)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's user attributes (a copy)."""
        with self._lock:
            return copy.deepcopy(self._study(study_id).user_attrs)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's system attributes (a copy)."""
        with self._lock:
            return copy.deepcopy(self._study(study_id).system_attrs)

    def get_all_studies(self) -> list[FrozenStudy]:
        """Return every study, ordered by id."""
        with self._lock:
            return [
                FrozenStudy(
                    study_name=record.name,
                    direction=None,
                    directions=list(record.directions),
                    user_attrs=copy.deepcopy(record.user_attrs),
                    system_attrs=copy.deepcopy(record.system_attrs),
                    study_id=study_id,
                )
                for study_id, record in self._studies.items()
            ]

    # ---- trials: writes ------------------------------------------------------------------
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """Create a RUNNING trial, or a copy of ``template_trial`` (its state included)."""
        with self._lock:
            record = self._study(study_id)
            trial_id = self._next_trial_id
            number = len(record.trials)
            if template_trial is None:
                trial = FrozenTrial(
                    number=number,
                    state=TrialState.RUNNING,
                    value=None,
                    datetime_start=datetime.datetime.now(),
                    datetime_complete=None,
                    params={},
                    distributions={},
                    user_attrs={},
                    system_attrs={},
                    intermediate_values={},
                    trial_id=trial_id,
                )
            else:
                trial = copy.deepcopy(template_trial)
                trial.number = number
                trial._trial_id = trial_id
                # As in Optuna, a template is not checked, but its distributions count as
                # the first ones for later set_trial_param calls.
                for name, dist in trial.distributions.items():
                    record.distributions.setdefault(name, dist)
            self._next_trial_id += 1
            self._trial_locations[trial_id] = (study_id, number)
            record.trials.append(trial)
            if not trial.state.is_finished():
                self._owned.add(trial_id)
            record.numbers_by_state[trial.state].add(number)
            if trial.state.is_finished():
                self._on_finished(record, trial)
            return trial_id

    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
    ) -> None:
        """Record a parameter after checking it against the study's first distribution."""
        with self._lock:
            record, trial = self._writable(trial_id)
            first = record.distributions.get(param_name)
            if first is not None:
                if first is not distribution:
                    check_distribution_compatibility(first, distribution)
            else:
                record.distributions[param_name] = distribution
            trial._params[param_name] = distribution.to_external_repr(param_value_internal)
            trial._distributions[param_name] = distribution

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        """Change a trial's state (and values).

        Returns False, changing nothing, when asked to make a trial RUNNING that is no longer
        WAITING: another worker took it first.
        """
        with self._lock:
            record, old = self._updatable_trial(trial_id)
            if state == TrialState.RUNNING and old.state != TrialState.WAITING:
                return False
            old_state = old.state
            _, trial = self._writable(trial_id)
            trial.state = state
            if values is not None:
                trial.values = values
            now = datetime.datetime.now()
            if state == TrialState.RUNNING:
                trial.datetime_start = now
            if state.is_finished():
                trial.datetime_complete = now
            record.numbers_by_state[old_state].discard(trial.number)
            record.numbers_by_state[state].add(trial.number)
            if state.is_finished():
                self._owned.discard(trial_id)
                self._on_finished(record, trial)
            return True

    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        """Record (or overwrite) the intermediate value at ``step``."""
        with self._lock:
            _, trial = self._writable(trial_id)
            trial.intermediate_values[step] = intermediate_value

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a trial user attribute."""
        with self._lock:
            _, trial = self._writable(trial_id)
            trial._user_attrs[key] = copy.deepcopy(value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a trial system attribute."""
        with self._lock:
            _, trial = self._writable(trial_id)
            trial._system_attrs[key] = copy.deepcopy(value)

    # ---- trials: reads -------------------------------------------------------------------
    def get_trial(self, trial_id: int) -> FrozenTrial:
        """Return one trial. It is the stored snapshot: do not modify it."""
        with self._lock:
            self._owned.discard(trial_id)
            return self._trial(trial_id)[1]

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """Return the study's trials ordered by number, optionally only those in ``states``."""
        with self._lock:
            record = self._study(study_id)
            if states is None:
                trials = list(record.trials)
            else:
                if type(states) is tuple and all(type(s) is TrialState for s in states):
                    wanted = list(dict.fromkeys(states))
                else:
                    wanted = [s for s in TrialState if s in states]
                if len(wanted) == 1 and not record.numbers_by_state[wanted[0]]:
                    return []
                if sum(len(record.numbers_by_state[s]) for s in wanted) == len(record.trials):
                    trials = list(record.trials)
                else:
                    numbers = itertools.chain.from_iterable(
                        record.numbers_by_state[s] for s in wanted
                    )
                    trials = [record.trials[n] for n in sorted(numbers)]
            if self._owned:
                for t in trials:
                    self._owned.discard(t._trial_id)
        return copy.deepcopy(trials) if deepcopy else trials

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        """Return the id of trial ``trial_number`` of a study; KeyError if there is none."""
        with self._lock:
            trials = self._study(study_id).trials
            if not 0 <= trial_number < len(trials):
                raise KeyError(f"No trial with number {trial_number} in study {study_id}.")
            return trials[trial_number]._trial_id

    def get_trial_number_from_id(self, trial_id: int) -> int:
        """Return the number of a trial."""
        with self._lock:
            return self._location(trial_id)[1]

    def get_trial_param(self, trial_id: int, param_name: str) -> float:
        """Return a parameter of a trial in internal form."""
        with self._lock:
            trial = self._trial(trial_id)[1]
            return trial.distributions[param_name].to_internal_repr(trial.params[param_name])

    def get_n_trials(
        self, study_id: int, state: tuple[TrialState, ...] | TrialState | None = None
    ) -> int:
        """Count the study's trials, optionally only those in ``state``."""
        with self._lock:
            record = self._study(study_id)
            if state is None:
                return len(record.trials)
            wanted = {state} if isinstance(state, TrialState) else set(state)
            return sum(len(record.numbers_by_state[TrialState(s)]) for s in wanted)

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """Return the best COMPLETE trial of a single-objective study (kept up to date on every
        completion). ValueError without a complete trial, RuntimeError for several objectives."""
        with self._lock:
            record = self._study(study_id)
            if record.best_number is None:
                raise ValueError("No trials are completed yet.")
            if len(record.directions) > 1:
                raise RuntimeError(
                    "Best trial can be obtained only for single-objective optimization."
                )
            return record.trials[record.best_number]

    # ---- skipjack additions ---------------------------------------------------------------
    def get_finished_trials_since(
        self, study_id: int, watermark: int
    ) -> tuple[list[FrozenTrial], int]:
        """Return the trials that finished after ``watermark``, in finish order, and the next
        watermark. The watermark is a position in the study's finish order."""
        if watermark < 0:
            raise ValueError(f"watermark must be >= 0, got {watermark}.")
        with self._lock:
            record = self._study(study_id)
            finished = record.finished
            return [record.trials[n] for n in finished[watermark:]], len(finished)

    def claim(self, study_id: int, key: str, trial_id: int) -> bool:
        """Claim ``key`` for ``trial_id``; True if it was free or already held by that trial."""
        with self._lock:
            claims = self._study(study_id).claims
            self._location(trial_id)
            owner = claims.setdefault(key, trial_id)
            return owner == trial_id

    def get_claims(self, study_id: int) -> dict[str, int]:
        """Return every claim of a study: key -> trial id."""
        with self._lock:
            return dict(self._study(study_id).claims)

    # ---- helpers (call with the lock held) -------------------------------------------------
    def _study(self, study_id: int) -> _StudyRecord:
        try:
            return self._studies[study_id]
        except KeyError:
            raise KeyError(f"No study with study_id {study_id} exists.") from None

    def _location(self, trial_id: int) -> tuple[int, int]:
        try:
            return self._trial_locations[trial_id]
        except KeyError:
            raise KeyError(f"No trial with trial_id {trial_id} exists.") from None

    def _trial(self, trial_id: int) -> tuple[_StudyRecord, FrozenTrial]:
        location = self._trial_locations.get(trial_id)
        if location is None:
            raise KeyError(f"No trial with trial_id {trial_id} exists.")
        record = self._studies[location[0]]
        return record, record.trials[location[1]]

    def _updatable_trial(self, trial_id: int) -> tuple[_StudyRecord, FrozenTrial]:
        record, trial = self._trial(trial_id)
        if trial.state in _FINISHED_STATES:
            self.check_trial_is_updatable(trial_id, trial.state)
        return record, trial

    def _writable(self, trial_id: int) -> tuple[_StudyRecord, FrozenTrial]:
        """The unfinished trial's stored object, safe to update in place: a fresh copy (with
        fresh containers) replaces it first if a reader may hold it."""
        location = self._trial_locations.get(trial_id)
        if location is None:
            raise KeyError(f"No trial with trial_id {trial_id} exists.")
        record = self._studies[location[0]]
        trial = record.trials[location[1]]
        if trial.state in _FINISHED_STATES:
            self.check_trial_is_updatable(trial_id, trial.state)
        if trial_id not in self._owned:
            trial = trial.__copy__()
            trial._params = dict(trial._params)
            trial._distributions = dict(trial._distributions)
            trial.intermediate_values = dict(trial.intermediate_values)
            trial._user_attrs = dict(trial._user_attrs)
            trial._system_attrs = dict(trial._system_attrs)
            record.trials[location[1]] = trial
            self._owned.add(trial_id)
        return record, trial

    def _on_finished(self, record: _StudyRecord, trial: FrozenTrial) -> None:
        record.finished.append(trial.number)
        if trial.state != TrialState.COMPLETE or not trial.values:
            return
        value = trial.values[0]
        if math.isnan(value):
            return
        if record.best_number is None:
            record.best_number = trial.number
            return
        if len(record.directions) > 1:
            return
        best = record.trials[record.best_number].values[0]  # type: ignore[index]
        if record.directions[0] == StudyDirection.MAXIMIZE:
            better = value > best
        else:
            better = value < best
        if better:
            record.best_number = trial.number
