"""The intersection search space: parameters every finished trial shares, with one distribution.

A parameter belongs to the intersection when every COMPLETE trial (and, on request, every
PRUNED trial) suggested it with the same distribution. Parameters whose range changed between
trials, or that some trial never suggested, are left out. Samplers with a relative algorithm use
it as the set of parameters they can model jointly.
"""

from __future__ import annotations

import bisect
import copy
from typing import TYPE_CHECKING
from typing import Any

from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.trial import FrozenTrial

__all__ = ["IntersectionSearchSpace", "intersection_search_space"]


def _finished_states(include_pruned: bool) -> tuple[TrialState, ...]:
    if include_pruned:
        return (TrialState.COMPLETE, TrialState.PRUNED)
    return (TrialState.COMPLETE,)


def _intersect(
    space: dict[str, BaseDistribution] | None, distributions: dict[str, BaseDistribution]
) -> dict[str, BaseDistribution]:
    """Fold one trial's distributions into ``space`` (``None`` means no trial folded yet)."""
    if space is None:
        return dict(distributions)
    return {name: d for name, d in space.items() if distributions.get(name) == d}


def _sorted(space: dict[str, BaseDistribution] | None) -> dict[str, BaseDistribution]:
    return dict(sorted((space or {}).items()))


def intersection_search_space(
    trials: list[FrozenTrial], include_pruned: bool = False
) -> dict[str, BaseDistribution]:
    """Return the intersection search space of ``trials``, sorted by parameter name.

    Only COMPLETE trials count (and PRUNED ones when ``include_pruned`` is true); the others
    are ignored. With no such trial the result is ``{}``.

    :class:`IntersectionSearchSpace` computes the same thing for a study incrementally, which is
    much cheaper when it is asked again after every trial.
    """
    states = _finished_states(include_pruned)
    space: dict[str, BaseDistribution] | None = None
    for trial in trials:
        if trial.state in states:
            space = _intersect(space, trial.distributions)
    return _sorted(space)


class _NewlyFinished:
    """Hand out each trial of a study once, when it has finished in a state of interest.

    Trials are read with ``study.get_trials(deepcopy=False, states=...)``, which lists them in
    number order. ``_watermark`` is a trial number below which every trial of interest has been
    handed out: all of them finished, or they will never be (FAIL trials are not read at all).
    A trial still RUNNING or WAITING holds the watermark back, so it is picked up when it
    finishes however many later trials finished first. Trials at or above the watermark that
    were already handed out are remembered in ``_seen`` so that none is handed out twice.
    """

    def __init__(self, include_pruned: bool) -> None:
        self._states = _finished_states(include_pruned)
        self._read_states = self._states + (TrialState.RUNNING, TrialState.WAITING)
        self._watermark = 0
        self._seen: set[int] = set()
        self._study_id: int | None = None

    def check_study(self, study: Any, owner: str) -> None:
        """Remember the study on first use and refuse any other one afterwards."""
        if self._study_id is None:
            self._study_id = study._study_id
        elif self._study_id != study._study_id:
            raise ValueError(
                f"`{owner}` cannot handle multiple studies: it was first used with study id "
                f"{self._study_id} and is now given study id {study._study_id}."
            )

    def take(self, study: Any) -> list[FrozenTrial]:
        """Return, in number order, the trials of interest that finished since the last call."""
        trials = study.get_trials(deepcopy=False, states=self._read_states)
        # ``trials`` is sorted by number: skip straight past the watermark.
        start = bisect.bisect_left(trials, self._watermark, key=lambda t: t.number)
        new: list[FrozenTrial] = []
        first_unfinished: int | None = None
        for trial in trials[start:]:
            if trial.state not in self._states:
                if first_unfinished is None:
                    first_unfinished = trial.number
            elif trial.number not in self._seen:
                new.append(trial)
                self._seen.add(trial.number)
        if first_unfinished is not None:
            self._watermark = first_unfinished
        elif trials:
            self._watermark = max(self._watermark, trials[-1].number + 1)
        self._seen = {n for n in self._seen if n >= self._watermark}
        return new


class IntersectionSearchSpace:
    """Compute a study's intersection search space incrementally.

    Each call of :meth:`calculate` folds in only the trials that finished since the previous
    call (including trials that started earlier but finished later), so asking after every
    trial costs little. An instance serves one study; giving it another study raises
    ValueError.

    Args:
        include_pruned: Also count PRUNED trials, not only COMPLETE ones.
    """

    def __init__(self, include_pruned: bool = False) -> None:
        self._include_pruned = include_pruned
        self._search_space: dict[str, BaseDistribution] | None = None
        self._reader = _NewlyFinished(include_pruned)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(include_pruned={self._include_pruned!r})"

    def calculate(self, study: Any, use_cache: bool = False) -> dict[str, BaseDistribution]:
        """Return the intersection search space of ``study``, sorted by parameter name.

        The result is a fresh copy the caller may modify. ``use_cache`` is accepted for
        compatibility with Optuna and has no effect: reads are always incremental.
        """
        self._reader.check_study(study, type(self).__name__)
        for trial in self._reader.take(study):
            self._search_space = _intersect(self._search_space, trial.distributions)
        return copy.deepcopy(_sorted(self._search_space))
