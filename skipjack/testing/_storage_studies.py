"""Contract tests for the study half of BaseStorage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
import uuid

import pytest

from skipjack.exceptions import DuplicatedStudyError
from skipjack.storages._base import BaseStorage
from skipjack.study._study_direction import StudyDirection
from skipjack.testing._storage_base import MAXIMIZE
from skipjack.testing._storage_base import MINIMIZE
from skipjack.testing._storage_base import StorageFixture
from skipjack.testing._storage_base import finish
from skipjack.testing._storage_base import new_study
from skipjack.trial._state import TrialState

# JSON values of every kind an attribute may hold (lists, not tuples: JSON has no tuples).
JSON_VALUES: list[Any] = [
    None,
    True,
    0,
    -7,
    2.5,
    "text with ünïcode",
    [1, "two", 3.0, None],
    {"nested": {"list": [1, 2], "flag": False}},
]

_UNKNOWN_STUDY_CALLS: dict[str, Callable[[BaseStorage, int], Any]] = {
    "delete_study": lambda s, i: s.delete_study(i),
    "set_study_user_attr": lambda s, i: s.set_study_user_attr(i, "k", 1),
    "set_study_system_attr": lambda s, i: s.set_study_system_attr(i, "k", 1),
    "get_study_name_from_id": lambda s, i: s.get_study_name_from_id(i),
    "get_study_directions": lambda s, i: s.get_study_directions(i),
    "get_study_user_attrs": lambda s, i: s.get_study_user_attrs(i),
    "get_study_system_attrs": lambda s, i: s.get_study_system_attrs(i),
    "create_new_trial": lambda s, i: s.create_new_trial(i),
    "get_all_trials": lambda s, i: s.get_all_trials(i),
    "get_n_trials": lambda s, i: s.get_n_trials(i),
    "get_best_trial": lambda s, i: s.get_best_trial(i),
    "get_finished_trials_since": lambda s, i: s.get_finished_trials_since(i, 0),
}


class StudyContract(StorageFixture):
    """Creating, naming, describing and deleting studies."""

    def test_study_ids_are_distinct_integers(self, storage: BaseStorage) -> None:
        ids = [new_study(storage) for _ in range(5)]
        assert all(isinstance(i, int) for i in ids)
        assert len(set(ids)) == 5

    def test_unnamed_studies_get_unique_no_name_names(self, storage: BaseStorage) -> None:
        names = [storage.get_study_name_from_id(new_study(storage)) for _ in range(3)]
        assert len(set(names)) == 3
        for name in names:
            assert name.startswith("no-name-")
            uuid.UUID(name[len("no-name-") :])  # raises if not a UUID

    def test_name_and_id_look_each_other_up(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MINIMIZE], "alpha")
        b = storage.create_new_study([MINIMIZE], "beta")
        assert storage.get_study_id_from_name("alpha") == a
        assert storage.get_study_id_from_name("beta") == b
        assert storage.get_study_name_from_id(a) == "alpha"
        assert storage.get_study_name_from_id(b) == "beta"

    def test_duplicate_name_raises_and_keeps_the_first_study(self, storage: BaseStorage) -> None:
        first = storage.create_new_study([MINIMIZE], "taken")
        storage.set_study_user_attr(first, "owner", "first")
        with pytest.raises(DuplicatedStudyError):
            storage.create_new_study([MAXIMIZE], "taken")
        assert storage.get_study_id_from_name("taken") == first
        assert storage.get_study_directions(first) == [MINIMIZE]
        assert storage.get_study_user_attrs(first) == {"owner": "first"}
        assert [s.study_name for s in storage.get_all_studies()].count("taken") == 1

    def test_unknown_study_name_raises_key_error(self, storage: BaseStorage) -> None:
        storage.create_new_study([MINIMIZE], "present")
        with pytest.raises(KeyError):
            storage.get_study_id_from_name("absent")

    @pytest.mark.parametrize("call", sorted(_UNKNOWN_STUDY_CALLS))
    def test_unknown_study_id_raises_key_error(self, storage: BaseStorage, call: str) -> None:
        known = new_study(storage)
        with pytest.raises(KeyError):
            _UNKNOWN_STUDY_CALLS[call](storage, known + 12345)

    @pytest.mark.parametrize(
        "directions",
        [
            [MINIMIZE],
            [MAXIMIZE],
            [MINIMIZE, MAXIMIZE],
            [MAXIMIZE, MAXIMIZE, MINIMIZE],
        ],
    )
    def test_directions_round_trip(
        self, storage: BaseStorage, directions: list[StudyDirection]
    ) -> None:
        study_id = storage.create_new_study(directions)
        assert storage.get_study_directions(study_id) == directions
        (frozen,) = [s for s in storage.get_all_studies() if s._study_id == study_id]
        assert frozen.directions == directions

    @pytest.mark.parametrize("kind", ["user", "system"])
    def test_study_attrs_hold_json_values(self, storage: BaseStorage, kind: str) -> None:
        study_id = new_study(storage)
        other = new_study(storage)
        set_attr = getattr(storage, f"set_study_{kind}_attr")
        get_attrs = getattr(storage, f"get_study_{kind}_attrs")
        assert get_attrs(study_id) == {}
        expected = {f"k{i}": v for i, v in enumerate(JSON_VALUES)}
        for key, value in expected.items():
            set_attr(study_id, key, value)
        assert get_attrs(study_id) == expected
        set_attr(study_id, "k0", "overwritten")
        assert get_attrs(study_id) == {**expected, "k0": "overwritten"}
        assert get_attrs(other) == {}

    def test_user_and_system_attrs_are_separate(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        storage.set_study_user_attr(study_id, "k", "user")
        storage.set_study_system_attr(study_id, "k", "system")
        assert storage.get_study_user_attrs(study_id) == {"k": "user"}
        assert storage.get_study_system_attrs(study_id) == {"k": "system"}

    def test_get_all_studies_describes_every_study(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MINIMIZE], "a")
        b = storage.create_new_study([MAXIMIZE, MINIMIZE], "b")
        storage.set_study_user_attr(a, "u", [1, 2])
        storage.set_study_system_attr(b, "s", {"x": 1})
        studies = {s._study_id: s for s in storage.get_all_studies()}
        assert {a, b} <= set(studies)
        assert studies[a].study_name == "a"
        assert studies[a].directions == [MINIMIZE]
        assert studies[a].user_attrs == {"u": [1, 2]}
        assert studies[a].system_attrs == {}
        assert studies[b].study_name == "b"
        assert studies[b].directions == [MAXIMIZE, MINIMIZE]
        assert studies[b].user_attrs == {}
        assert studies[b].system_attrs == {"s": {"x": 1}}

    def test_delete_study_removes_it_and_its_trials(self, storage: BaseStorage) -> None:
        doomed = storage.create_new_study([MINIMIZE], "doomed")
        kept = storage.create_new_study([MINIMIZE], "kept")
        doomed_trials = [finish(storage, doomed, TrialState.COMPLETE) for _ in range(3)]
        doomed_trials.append(storage.create_new_trial(doomed))
        kept_trial = finish(storage, kept, TrialState.COMPLETE, 4.0)

        storage.delete_study(doomed)

        with pytest.raises(KeyError):
            storage.get_study_id_from_name("doomed")
        with pytest.raises(KeyError):
            storage.get_study_name_from_id(doomed)
        for trial_id in doomed_trials:
            with pytest.raises(KeyError):
                storage.get_trial(trial_id)
        assert doomed not in [s._study_id for s in storage.get_all_studies()]
        assert storage.get_trial(kept_trial).values == [4.0]
        assert storage.get_n_trials(kept) == 1
        # The name is free again, and the new study starts empty.
        again = storage.create_new_study([MAXIMIZE], "doomed")
        assert storage.get_n_trials(again) == 0
        assert storage.get_study_directions(again) == [MAXIMIZE]
