"""MaxTrialsCallback: stop optimizing once a study holds enough trials in given states."""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING

from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study
    from skipjack.trial._frozen import FrozenTrial

__all__ = ["MaxTrialsCallback"]


class MaxTrialsCallback:
    """Call ``study.stop()`` once the study has ``n_trials`` trials in one of ``states``.

    Pass it in ``study.optimize(..., callbacks=[...])``. Unlike ``optimize``'s own ``n_trials``,
    which counts the trials this call runs, this counts the whole study's trials, so it caps a
    study shared by many workers, e.g. at 100 COMPLETE trials however many fail.

    Args:
        n_trials: The number of trials at which to stop.
        states: The states whose trials count, ``(TrialState.COMPLETE,)`` by default;
            ``None`` counts every trial.
    """

    def __init__(
        self, n_trials: int, states: Container[TrialState] | None = (TrialState.COMPLETE,)
    ) -> None:
        self._n_trials = n_trials
        self._states = states

    def __repr__(self) -> str:
        return f"MaxTrialsCallback(n_trials={self._n_trials!r}, states={self._states!r})"

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        """Count the study's trials in the storage and stop the study when there are enough."""
        if self._count(study) >= self._n_trials:
            study.stop()

    def _count(self, study: Study) -> int:
        # The storage counts; no trial is loaded or copied for it.
        if self._states is None:
            return study._storage.get_n_trials(study._study_id)
        # ``states`` only promises membership tests, so enumerate the states it contains.
        states = tuple(s for s in TrialState if s in self._states)
        if not states:
            return 0
        return study._storage.get_n_trials(study._study_id, states)
