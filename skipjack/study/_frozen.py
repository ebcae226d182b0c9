"""FrozenStudy: a storage's description of one study (name, directions, attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skipjack.study._study_direction import StudyDirection

__all__ = ["FrozenStudy"]


class FrozenStudy:
    """What ``BaseStorage.get_all_studies`` returns for each study.

    Args:
        study_name: The study's name.
        direction: The direction of a single-objective study; give it or ``directions``.
        user_attrs: Study user attributes.
        system_attrs: Study system attributes.
        study_id: The storage's id of the study.
        directions: One direction per objective.
    """

    def __init__(
        self,
        study_name: str,
        direction: StudyDirection | None,
        user_attrs: dict[str, Any],
        system_attrs: dict[str, Any],
        study_id: int,
        *,
        directions: Sequence[StudyDirection] | None = None,
    ) -> None:
        if (direction is None) == (directions is None):
            raise ValueError("Specify exactly one of `direction` and `directions`.")
        self.study_name = study_name
        self._directions = [direction] if direction is not None else list(directions or [])
        self.user_attrs = user_attrs
        self.system_attrs = system_attrs
        self._study_id = study_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrozenStudy):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FrozenStudy):
            return NotImplemented
        return self._study_id < other._study_id

    def __le__(self, other: object) -> bool:
        if not isinstance(other, FrozenStudy):
            return NotImplemented
        return self._study_id <= other._study_id

    def __repr__(self) -> str:
        return (
            f"FrozenStudy(study_name={self.study_name!r}, directions={self._directions!r}, "
            f"study_id={self._study_id})"
        )

    @property
    def direction(self) -> StudyDirection:
        """The direction; raises RuntimeError for a multi-objective study."""
        if len(self._directions) > 1:
            raise RuntimeError("This study has several objectives; use `directions`.")
        return self._directions[0]

    @property
    def directions(self) -> list[StudyDirection]:
        """One direction per objective."""
        return self._directions
