"""Module-level study functions: create, load, delete, copy, list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
import warnings

from skipjack import logging as _logging
from skipjack.exceptions import DuplicatedStudyError
from skipjack.storages._base import BaseStorage
from skipjack.storages._get import get_storage
from skipjack.study._study_direction import StudyDirection
from skipjack.study._study_summary import StudySummary
from skipjack.study._study_summary import _build_summaries
from skipjack.study.study import Study

if TYPE_CHECKING:
    from skipjack.pruners._base import BasePruner
    from skipjack.samplers._base import BaseSampler

__all__ = [
    "copy_study",
    "create_study",
    "delete_study",
    "get_all_study_names",
    "get_all_study_summaries",
    "load_study",
]

_logger = _logging.get_logger(__name__)


def _parse_direction(d: str | StudyDirection, where: str) -> StudyDirection:
    if isinstance(d, StudyDirection) and d != StudyDirection.NOT_SET:
        return d
    if isinstance(d, str) and d.lower() in ("minimize", "maximize"):
        return StudyDirection[d.upper()]
    raise ValueError(
        f"{where}: {d!r} is not a direction; use 'minimize', 'maximize', "
        "StudyDirection.MINIMIZE or StudyDirection.MAXIMIZE."
    )


def _parse_directions(
    direction: str | StudyDirection | None,
    directions: Sequence[str | StudyDirection] | None,
) -> list[StudyDirection]:
    if direction is not None and directions is not None:
        raise ValueError("create_study: specify only one of `direction` and `directions`.")
    if directions is None:
        chosen = direction if direction is not None else "minimize"
        return [_parse_direction(chosen, "create_study(direction=...)")]
    if isinstance(directions, (str, StudyDirection)) or not isinstance(directions, Sequence):
        raise TypeError(
            f"create_study: directions must be a list such as ['minimize', 'maximize'], "
            f"got {directions!r}."
        )
    if len(directions) == 0:
        raise ValueError("create_study: directions must name at least one direction.")
    return [_parse_direction(d, f"create_study(directions[{i}])") for i, d in enumerate(directions)]


def create_study(
    *,
    storage: str | BaseStorage | None = None,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
    study_name: str | None = None,
    direction: str | StudyDirection | None = None,
    load_if_exists: bool = False,
    directions: Sequence[str | StudyDirection] | None = None,
) -> Study:
    """Create a new study (or, with ``load_if_exists=True``, load the one of that name).

    Args:
        storage: ``None`` (in memory), a database URL, or a storage object.
        sampler: The sampler; the library default when ``None``.
        pruner: The pruner; :class:`~skipjack.pruners.MedianPruner` when ``None``.
        study_name: The name; a unique ``no-name-<uuid>`` name when ``None``.
        direction: ``"minimize"`` (default) or ``"maximize"`` for one objective.
        load_if_exists: Load the existing study of that name instead of raising
            :class:`~skipjack.exceptions.DuplicatedStudyError`.
        directions: One direction per objective, for multi-objective studies.
    """
    parsed = _parse_directions(direction, directions)
    if study_name is not None and not isinstance(study_name, str):
        raise TypeError(f"create_study: study_name must be a str, got {study_name!r}.")
    store = get_storage(storage)
    try:
        study_id = store.create_new_study(parsed, study_name)
    except DuplicatedStudyError:
        if not load_if_exists or study_name is None:
            raise
        _logger.info(
            f"Using an existing study with name '{study_name}' instead of creating a new one."
        )
        study_id = store.get_study_id_from_name(study_name)
        existing = store.get_study_directions(study_id)
        if (direction is not None or directions is not None) and existing != parsed:
            warnings.warn(
                f"Study {study_name!r} already exists with directions "
                f"{[d.name.lower() for d in existing]}; the requested "
                f"{[d.name.lower() for d in parsed]} are ignored.",
                UserWarning,
                stacklevel=2,
            )
    name = store.get_study_name_from_id(study_id)
    return Study(study_name=name, storage=store, sampler=sampler, pruner=pruner)


def load_study(
    *,
    study_name: str | None,
    storage: str | BaseStorage,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
) -> Study:
    """Load an existing study. With ``study_name=None`` the storage must hold exactly one."""
    store = get_storage(storage)
    if study_name is None:
        names = get_all_study_names(storage=store)
        if len(names) != 1:
            raise ValueError(
                f"load_study: study_name is None but the storage holds {len(names)} studies; "
                "name the one to load."
            )
        study_name = names[0]
    return Study(study_name=study_name, storage=store, sampler=sampler, pruner=pruner)


def delete_study(*, study_name: str, storage: str | BaseStorage) -> None:
    """Delete a study and its trials from ``storage``."""
    store = get_storage(storage)
    store.delete_study(store.get_study_id_from_name(study_name))


def copy_study(
    *,
    from_study_name: str,
    from_storage: str | BaseStorage,
    to_storage: str | BaseStorage,
    to_study_name: str | None = None,
) -> None:
    """Copy a study (directions, attributes and every trial) to another storage."""
    source = load_study(study_name=from_study_name, storage=from_storage)
    target = create_study(
        study_name=to_study_name or from_study_name,
        storage=to_storage,
        directions=source.directions,
        load_if_exists=False,
    )
    for key, value in source._storage.get_study_system_attrs(source._study_id).items():
        target._storage.set_study_system_attr(target._study_id, key, value)
    for key, value in source.user_attrs.items():
        target.set_user_attr(key, value)
    target.add_trials(source.get_trials(deepcopy=False))


def get_all_study_summaries(
    storage: str | BaseStorage, include_best_trial: bool = True
) -> list[StudySummary]:
    """Return a :class:`StudySummary` of every study in ``storage``."""
    return _build_summaries(get_storage(storage), include_best_trial)


def get_all_study_names(storage: str | BaseStorage) -> list[str]:
    """Return the names of every study in ``storage``."""
    return [s.study_name for s in get_storage(storage).get_all_studies()]
