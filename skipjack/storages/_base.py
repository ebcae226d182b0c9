"""BaseStorage: the one interface between the framework and persistence.

The method set is Optuna's, so storages written against Optuna's interface plug in. skipjack adds
three optional capabilities, each with a safe default here so a third-party storage still works:

* **incremental reads** -- :meth:`BaseStorage.get_finished_trials_since` hands back only trials
  that finished after a watermark, so per-trial cost does not grow with the study;
* **claims** -- :meth:`BaseStorage.claim`, first writer wins, used by exhaustive samplers so no two
  workers evaluate the same combination;
* **heartbeats** -- :class:`skipjack.storages.BaseHeartbeat`, implemented by persistent storages.
"""

from __future__ import annotations

import abc
from collections.abc import Container
from collections.abc import Sequence
from typing import Any

from skipjack.distributions import BaseDistribution
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.study._frozen import FrozenStudy
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

__all__ = ["BaseStorage"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class BaseStorage(abc.ABC):
    """Where studies and trials live. Every method may be called from several threads.

    Study and trial ids are storage-wide integers. Trial *numbers* count from 0 within a study.
    Writes to a finished trial raise :class:`~skipjack.exceptions.UpdateFinishedTrialError`; an
    unknown id raises ``KeyError``.
    """

    # ---- studies -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        """Create a study and return its id; raises DuplicatedStudyError if the name is taken."""

    @abc.abstractmethod
    def delete_study(self, study_id: int) -> None:
        """Delete a study and all its trials."""

    @abc.abstractmethod
    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a JSON-serializable study user attribute."""

    @abc.abstractmethod
    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a JSON-serializable study system attribute."""

    @abc.abstractmethod
    def get_study_id_from_name(self, study_name: str) -> int:
        """Return the id of the named study; KeyError if there is none."""

    @abc.abstractmethod
    def get_study_name_from_id(self, study_id: int) -> str:
        """Return the name of a study."""

    @abc.abstractmethod
    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        """Return the study's directions, one per objective."""

    @abc.abstractmethod
    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's user attributes."""

    @abc.abstractmethod
    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's system attributes."""

    @abc.abstractmethod
    def get_all_studies(self) -> list[FrozenStudy]:
        """Return every study in the storage."""

    # ---- trials: writes ------------------------------------------------------------------
    @abc.abstractmethod
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """Create a trial (RUNNING, or a copy of ``template_trial``) and return its id."""

    @abc.abstractmethod
    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
    ) -> None:
        """Record a parameter; ValueError if ``distribution`` is incompatible with the
        distribution the study first used for ``param_name``."""

    @abc.abstractmethod
    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        """Set a trial's state (and values). Returns False when a WAITING->RUNNING transition
        lost a race to another worker; True otherwise."""

    @abc.abstractmethod
    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        """Record (or overwrite) the intermediate value at ``step``."""

    @abc.abstractmethod
    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a JSON-serializable trial user attribute."""

    @abc.abstractmethod
    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a JSON-serializable trial system attribute."""

    # ---- trials: reads -------------------------------------------------------------------
    @abc.abstractmethod
    def get_trial(self, trial_id: int) -> FrozenTrial:
        """Return one trial."""

    @abc.abstractmethod
    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """Return the study's trials ordered by number, optionally only those in ``states``.

        With ``deepcopy=False`` the caller promises not to modify the returned objects.
        """

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        """Return the id of trial ``trial_number`` of a study; KeyError if there is none."""
        for t in self.get_all_trials(study_id, deepcopy=False):
            if t.number == trial_number:
                return t._trial_id
        raise KeyError(f"No trial with number {trial_number} in study {study_id}.")

    def get_trial_number_from_id(self, trial_id: int) -> int:
        """Return the number of a trial."""
        return self.get_trial(trial_id).number

    def get_trial_param(self, trial_id: int, param_name: str) -> float:
        """Return a parameter of a trial in internal form."""
        trial = self.get_trial(trial_id)
        return trial.distributions[param_name].to_internal_repr(trial.params[param_name])

    def get_n_trials(
        self, study_id: int, state: tuple[TrialState, ...] | TrialState | None = None
    ) -> int:
        """Count the study's trials, optionally only those in ``state``."""
        states = (state,) if isinstance(state, TrialState) else state
        return len(self.get_all_trials(study_id, deepcopy=False, states=states))

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """Return the COMPLETE trial with the best value of a single-objective study.

        Raises ValueError when there is no complete trial, RuntimeError for several objectives.
        """
        directions = self.get_study_directions(study_id)
        if len(directions) > 1:
            raise RuntimeError(
                "Best trial is ambiguous for a multi-objective study; use `best_trials`."
            )
        complete = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            raise ValueError("No trials are completed yet.")
        pick = max if directions[0] == StudyDirection.MAXIMIZE else min
        return pick(complete, key=lambda t: t.values[0])  # type: ignore[index]

    def get_trial_params(self, trial_id: int) -> dict[str, Any]:
        """Return a trial's parameters in external form."""
        return self.get_trial(trial_id).params

    def get_trial_user_attrs(self, trial_id: int) -> dict[str, Any]:
        """Return a trial's user attributes."""
        return self.get_trial(trial_id).user_attrs

    def get_trial_system_attrs(self, trial_id: int) -> dict[str, Any]:
        """Return a trial's system attributes."""
        return self.get_trial(trial_id).system_attrs

    def remove_session(self) -> None:
        """Release connections; a no-op for storages without any."""
        return None

    def check_trial_is_updatable(self, trial_id: int, trial_state: TrialState) -> None:
        """Raise UpdateFinishedTrialError if ``trial_state`` is a finished state."""
        if trial_state.is_finished():
            number = self.get_trial_number_from_id(trial_id)
            raise UpdateFinishedTrialError(
                f"Trial {number} (id {trial_id}) is already {trial_state.name} and cannot be "
                "updated."
            )

    # ---- skipjack additions ---------------------------------------------------------------
    def get_finished_trials_since(
        self, study_id: int, watermark: int
    ) -> tuple[list[FrozenTrial], int]:
        """Return trials that finished after ``watermark`` and the watermark to pass next time.

        Start with ``watermark=0``. Finished trials never change, so a caller can keep what it
        was given and ask only for what is new. The returned trials must not be modified.

        This default re-reads every finished trial and returns watermark 0, so callers must
        skip trial ids they have already seen; storages override it to return only new trials.
        """
        return self.get_all_trials(study_id, deepcopy=False, states=_FINISHED), 0

    def claim(self, study_id: int, key: str, trial_id: int) -> bool:
        """Atomically claim ``key`` in a study for ``trial_id``; first writer wins.

        Returns True when ``trial_id`` holds the claim (it was free, or it already held it),
        False when another trial holds it. Storages that cannot do this atomically raise
        NotImplementedError (the default); callers then fall back to best effort.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support claims.")

    def get_claims(self, study_id: int) -> dict[str, int]:
        """Return every claim of a study: key -> trial id. See :meth:`claim`."""
        raise NotImplementedError(f"{type(self).__name__} does not support claims.")
