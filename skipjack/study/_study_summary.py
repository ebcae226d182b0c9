"""StudySummary: what ``get_all_study_summaries`` reports about each study in a storage."""

from __future__ import annotations

from collections.abc import Sequence
import copy
import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.storages._base import BaseStorage
    from skipjack.trial._frozen import FrozenTrial

__all__ = ["StudySummary"]


class StudySummary:
    """A study's name, directions, user attributes and a digest of its trials.

    Attributes:
        study_name: The study's name.
        best_trial: The best COMPLETE trial of a single-objective study, or ``None`` (always
            ``None`` for several objectives, or when the summary was built without it).
        user_attrs: The study's user attributes.
        n_trials: How many trials the study has, in any state.
        datetime_start: The earliest start time among its trials, ``None`` if none started.

    Give ``direction`` for a single-objective study or ``directions`` for any study; when both
    are given ``directions`` is used. Summaries are equal when every field is, and are ordered
    by study id.
    """

    def __init__(
        self,
        study_name: str,
        direction: StudyDirection | None,
        best_trial: FrozenTrial | None,
        user_attrs: dict[str, Any],
        n_trials: int,
        datetime_start: datetime.datetime | None,
        study_id: int,
        *,
        directions: Sequence[StudyDirection] | None = None,
    ) -> None:
        if directions is not None:
            self._directions = list(directions)
        elif direction is not None:
            self._directions = [direction]
        else:
            raise ValueError("Specify one of `direction` and `directions`.")
        self.study_name = study_name
        self.best_trial = best_trial
        self.user_attrs = user_attrs
        self.n_trials = n_trials
        self.datetime_start = datetime_start
        self._study_id = study_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self._study_id < other._study_id

    def __le__(self, other: object) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self._study_id <= other._study_id

    def __repr__(self) -> str:
        return (
            f"StudySummary(study_name={self.study_name!r}, directions={self._directions!r}, "
            f"n_trials={self.n_trials}, study_id={self._study_id})"
        )

    @property
    def direction(self) -> StudyDirection:
        """The direction; raises RuntimeError for a multi-objective study."""
        if len(self._directions) > 1:
            raise RuntimeError(
                "This study has several objectives, so it has no single `direction`; "
                "use `directions`."
            )
        return self._directions[0]

    @property
    def directions(self) -> Sequence[StudyDirection]:
        """One direction per objective."""
        return self._directions


def _build_summaries(storage: BaseStorage, include_best_trial: bool) -> list[StudySummary]:
    """Summarize every study in ``storage``, in the order ``get_all_studies`` lists them.

    Each study's trials are read once, without copying; only the best trial is copied. Among
    tied best values the lowest-numbered trial wins.
    """
    summaries = []
    for study in storage.get_all_studies():
        trials = storage.get_all_trials(study._study_id, deepcopy=False)
        directions = study.directions
        best_trial = None
        if include_best_trial and len(directions) == 1:
            best_trial = _best_of(trials, directions[0])
        starts = [t.datetime_start for t in trials if t.datetime_start is not None]
        summaries.append(
            StudySummary(
                study_name=study.study_name,
                direction=directions[0] if len(directions) == 1 else None,
                best_trial=best_trial,
                user_attrs=study.user_attrs,
                n_trials=len(trials),
                datetime_start=min(starts, default=None),
                study_id=study._study_id,
                directions=None if len(directions) == 1 else directions,
            )
        )
    return summaries


def _best_of(trials: Sequence[FrozenTrial], direction: StudyDirection) -> FrozenTrial | None:
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if not complete:
        return None
    pick = max if direction == StudyDirection.MAXIMIZE else min
    return copy.deepcopy(pick(complete, key=lambda t: cast(float, t.value)))
