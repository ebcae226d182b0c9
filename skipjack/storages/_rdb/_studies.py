"""The study half of RDBStorage: creating, describing and deleting studies."""

from __future__ import annotations

from collections.abc import Sequence
import json
from typing import Any
import uuid

from sqlalchemy import exc
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack import logging
from skipjack.exceptions import DuplicatedStudyError
from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb import _sql
from skipjack.storages._rdb._engine import Database
from skipjack.study._frozen import FrozenStudy
from skipjack.study._study_direction import StudyDirection

_logger = logging.get_logger(__name__)

# Optuna's prefix for generated study names; other tools recognise it.
_NO_NAME_PREFIX = "no-name-"


def check_name(kind: str, name: str) -> None:
    """ValueError for a name the schema cannot hold (on every backend, before any write)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a str, got {name!r}.")
    if len(name) > s.MAX_NAME_LENGTH:
        raise ValueError(
            f"{kind} is {len(name)} characters long; at most {s.MAX_NAME_LENGTH} are allowed: "
            f"{name[:40]!r}..."
        )


class StudyOps:
    """Study methods of RDBStorage (mixed into it; ``_db`` and ``_forget_study`` come from it)."""

    _db: Database
    _directions: dict[int, list[StudyDirection]]

    def _forget_study(self, study_id: int) -> None:
        raise NotImplementedError

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        """Create a study; DuplicatedStudyError if the name is taken."""
        if study_name is None:
            study_name = _NO_NAME_PREFIX + str(uuid.uuid4())
        check_name("study_name", study_name)
        directions = [StudyDirection(d) for d in directions]
        name = study_name

        def body(conn: Connection) -> int:
            result = conn.execute(s.studies.insert().values(study_name=name))
            key = result.inserted_primary_key
            assert key is not None
            study_id = int(key[0])
            conn.execute(
                s.study_directions.insert(),
                [
                    {"study_id": study_id, "objective": i, "direction": d.name}
                    for i, d in enumerate(directions)
                ],
            )
            # Rows an Optuna delete left behind for a reused id (our tables have no FKs).
            for table in s.SKIPJACK_TABLES:
                conn.execute(table.delete().where(table.c.study_id == study_id))
            return study_id

        try:
            study_id = self._db.run(body)
        except exc.IntegrityError:
            raise DuplicatedStudyError(f"Another study with name {study_name!r} exists.") from None
        self._forget_study(study_id)
        _logger.info(f"A new study created in RDB with name: {study_name}")
        return study_id

    def delete_study(self, study_id: int) -> None:
        """Delete a study with its trials, claims and every child row."""

        def body(conn: Connection) -> None:
            _sql.lock_study(conn, study_id)
            trial_ids = select(s.trials.c.trial_id).where(s.trials.c.study_id == study_id)
            for table in (
                s.trial_params,
                s.trial_values,
                s.trial_intermediate_values,
                s.trial_user_attributes,
                s.trial_system_attributes,
                s.trial_heartbeats,
            ):
                conn.execute(table.delete().where(table.c.trial_id.in_(trial_ids)))
            for table in (
                s.skipjack_trial_finish,
                s.skipjack_claims,
                s.trials,
                s.study_directions,
                s.study_user_attributes,
                s.study_system_attributes,
            ):
                conn.execute(table.delete().where(table.c.study_id == study_id))
            conn.execute(s.studies.delete().where(s.studies.c.study_id == study_id))

        self._db.run(body)
        self._forget_study(study_id)

    def _set_study_attr(self, table: Any, study_id: int, key: str, value: Any) -> None:
        check_name("key", key)
        text = json.dumps(value)

        def body(conn: Connection) -> None:
            _sql.require_study(conn, study_id)
            _sql.upsert(conn, table, {"study_id": study_id, "key": key}, {"value_json": text})

        self._db.run(body)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a study user attribute (stored as ``json.dumps(value)``)."""
        self._set_study_attr(s.study_user_attributes, study_id, key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a study system attribute (stored as ``json.dumps(value)``)."""
        self._set_study_attr(s.study_system_attributes, study_id, key, value)

    def get_study_id_from_name(self, study_name: str) -> int:
        """Return the id of the named study; KeyError if there is none."""
        study_id = self._db.run(
            lambda conn: conn.execute(
                select(s.studies.c.study_id).where(s.studies.c.study_name == study_name)
            ).scalar(),
            write=False,
        )
        if study_id is None:
            raise KeyError(f"No study named {study_name!r}.")
        return int(study_id)

    def get_study_name_from_id(self, study_id: int) -> str:
        """Return the name of a study."""
        name = self._db.run(
            lambda conn: conn.execute(
                select(s.studies.c.study_name).where(s.studies.c.study_id == study_id)
            ).scalar(),
            write=False,
        )
        if name is None:
            raise KeyError(f"No study with study_id {study_id} exists.")
        return str(name)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        """Return the study's directions (cached: they never change)."""
        cached = self._directions.get(study_id)
        if cached is None:

            def body(conn: Connection) -> list[StudyDirection]:
                _sql.require_study(conn, study_id)
                d = s.study_directions
                rows = conn.execute(
                    select(d.c.direction).where(d.c.study_id == study_id).order_by(d.c.objective)
                )
                return [StudyDirection[name] for (name,) in rows]

            cached = self._db.run(body, write=False)
            self._directions[study_id] = cached
        return list(cached)

    def _get_study_attrs(self, table: Any, study_id: int) -> dict[str, Any]:
        def body(conn: Connection) -> dict[str, Any]:
            _sql.require_study(conn, study_id)
            return _sql.study_attrs(conn, table, study_id)

        return self._db.run(body, write=False)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's user attributes."""
        return self._get_study_attrs(s.study_user_attributes, study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        """Return the study's system attributes."""
        return self._get_study_attrs(s.study_system_attributes, study_id)

    def get_all_studies(self) -> list[FrozenStudy]:
        """Return every study, ordered by id."""

        def body(conn: Connection) -> list[FrozenStudy]:
            names = dict(conn.execute(select(s.studies.c.study_id, s.studies.c.study_name)).all())
            directions: dict[int, dict[int, StudyDirection]] = {sid: {} for sid in names}
            d = s.study_directions
            for sid, objective, name in conn.execute(
                select(d.c.study_id, d.c.objective, d.c.direction)
            ):
                directions.setdefault(sid, {})[objective] = StudyDirection[name]
            attrs = []
            for table in (s.study_user_attributes, s.study_system_attributes):
                by_study: dict[int, dict[str, Any]] = {sid: {} for sid in names}
                for sid, key, text in conn.execute(
                    select(table.c.study_id, table.c.key, table.c.value_json)
                ):
                    by_study.setdefault(sid, {})[key] = json.loads(text)
                attrs.append(by_study)
            return [
                FrozenStudy(
                    study_name=names[sid],
                    direction=None,
                    directions=[directions[sid][k] for k in sorted(directions[sid])],
                    user_attrs=attrs[0][sid],
                    system_attrs=attrs[1][sid],
                    study_id=sid,
                )
                for sid in sorted(names)
            ]

        return self._db.run(body, write=False)
