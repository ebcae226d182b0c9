"""The study a sampler sees: under HyperbandPruner, only the trials of one bracket.

Hyperband runs its brackets as separate experiments, so a trial's parameters should be chosen
from the trials of its own bracket only. ``Trial`` and ``Study.tell`` pass
``_filter_study(study, trial)`` instead of ``study`` to every sampler call; it is the study
itself unless the study's pruner is a :class:`HyperbandPruner` whose brackets are set.

The bracket view filters ``get_trials`` and also carries its own columnar history (see
``skipjack.study._history``), fed from the study's history and kept on the study, so samplers
that read the history see the bracket's rows only, extended incrementally like any history.
"""

from __future__ import annotations

from collections.abc import Container
import threading
from typing import Any

from skipjack.pruners._hyperband import BracketMembership
from skipjack.pruners._hyperband import HyperbandPruner
from skipjack.pruners._hyperband import bracket_of
from skipjack.study._history import TrialHistory
from skipjack.study._history import history_of
from skipjack.study.study import Study
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

__all__ = ["bracket_study"]

# Where the bracket histories live on a study: {(budgets, bracket_id): TrialHistory}.
_HISTORIES_ATTR = "_bracket_histories"
_HISTORIES_LOCK = threading.Lock()


class _BracketRows:
    """Stands in for the storage of a bracket's TrialHistory: the study's finished trials
    (read from the study's own history) that belong to one bracket.

    The watermark is a row count of the study's history.
    """

    def __init__(self, study: Study, budgets: tuple[int, ...], bracket_id: int) -> None:
        self._study = study
        self._budgets = budgets
        self._bracket_id = bracket_id

    def get_finished_trials_since(
        self, study_id: int, watermark: int
    ) -> tuple[list[FrozenTrial], int]:
        snapshot = history_of(self._study).snapshot()
        name = self._study.study_name
        in_bracket = BracketMembership(name, self._budgets, self._bracket_id)
        mine = [t for t in snapshot.trials_from(watermark) if in_bracket(t.number)]
        return mine, len(snapshot)


def _bracket_history(study: Study, budgets: tuple[int, ...], bracket_id: int) -> TrialHistory:
    histories: dict[tuple[tuple[int, ...], int], TrialHistory] | None = getattr(
        study, _HISTORIES_ATTR, None
    )
    key = (budgets, bracket_id)
    history = None if histories is None else histories.get(key)
    if history is not None:
        return history
    with _HISTORIES_LOCK:
        histories = getattr(study, _HISTORIES_ATTR, None)
        if histories is None:
            histories = {}
            setattr(study, _HISTORIES_ATTR, histories)
        history = histories.get(key)
        if history is None:
            rows = _BracketRows(study, budgets, bracket_id)
            history = TrialHistory(rows, study._study_id, len(study.directions))
            histories[key] = history
        return history


class _BracketStudy(Study):
    """A read-mostly view of a study restricted to the trials of one Hyperband bracket.

    Like Optuna's, it exposes only what samplers and pruners need; anything else raises
    AttributeError rather than silently reading the whole study.
    """

    _VALID_ATTRS = frozenset(
        {
            "get_trials",
            "_get_trials",
            "directions",
            "direction",
            "_directions",
            "_storage",
            "_study_id",
            "pruner",
            "study_name",
            "_bracket_id",
            "_budgets",
            "_bracket_key",
            "_in_bracket",
            "sampler",
            "trials",
            "_is_multi_objective",
            "stop",
            "_study",
            "_thread_local",
            "_history",
        }
    )

    def __init__(self, study: Study, budgets: tuple[int, ...], bracket_id: int) -> None:
        # Study.__init__ is not called: it would look the study up in the storage again.
        self._study = study
        self._budgets = budgets
        self._bracket_id = bracket_id
        self._bracket_key = (budgets, bracket_id)
        self._in_bracket = BracketMembership(study.study_name, budgets, bracket_id)
        self.study_name = study.study_name
        self._storage = study._storage
        self._study_id = study._study_id
        self._directions = study.directions
        self.sampler = study.sampler
        self.pruner = study.pruner
        self._thread_local = study._thread_local
        self._history = _bracket_history(study, budgets, bracket_id)

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """The bracket's trials, ordered by number."""
        trials = self._study.get_trials(deepcopy=deepcopy, states=states)
        in_bracket = self._in_bracket
        return [t for t in trials if in_bracket(t.number)]

    def stop(self) -> None:
        """Stop the underlying study's optimize loop."""
        self._study.stop()

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__") or name in _BracketStudy._VALID_ATTRS:
            return object.__getattribute__(self, name)
        raise AttributeError(
            f"A Hyperband bracket view of a study has no attribute {name!r}; samplers see "
            f"only {sorted(_BracketStudy._VALID_ATTRS)}."
        )


def bracket_study(study: Study, budgets: tuple[int, ...], bracket_id: int) -> Study:
    """The view of ``study`` restricted to bracket ``bracket_id`` of the given budgets."""
    return _BracketStudy(study, budgets, bracket_id)


def _filter_study(study: Study, trial: FrozenTrial) -> Study:
    """The study the sampler should see for ``trial``: its Hyperband bracket, or the study."""
    pruner = getattr(study, "pruner", None)
    if not isinstance(pruner, HyperbandPruner):
        return study
    brackets = pruner._brackets
    if brackets is None or not brackets.budgets:
        # Until the brackets exist every trial is in bracket 0, which is the whole study.
        return study
    return _BracketStudy(
        study, brackets.budgets, bracket_of(study.study_name, trial.number, brackets.budgets)
    )
