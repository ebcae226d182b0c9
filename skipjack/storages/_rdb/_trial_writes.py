"""The trial-writing half of RDBStorage."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import copy
import datetime
import json
import threading
from typing import Any
from typing import NoReturn

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import exc
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.distributions import BaseDistribution
from skipjack.distributions import check_distribution_compatibility
from skipjack.distributions import distribution_to_json
from skipjack.exceptions import StorageInternalError
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages._rdb import _guarded
from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb import _sql
from skipjack.storages._rdb._engine import Database
from skipjack.storages._rdb._studies import check_name
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState


def _now(dialect: str) -> datetime.datetime:
    """Naive UTC now, as stored. MySQL's DATETIME keeps whole seconds only, so we drop the
    microseconds ourselves and the trial we remember equals the one read back."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=0) if dialect in ("mysql", "mariadb") else now


def _edited(trial: FrozenTrial) -> FrozenTrial:
    """A copy with its own containers, so trials handed out earlier stay unchanged."""
    new = copy.copy(trial)
    new._params = dict(trial._params)
    new._distributions = dict(trial._distributions)
    new._user_attrs = dict(trial._user_attrs)
    new._system_attrs = dict(trial._system_attrs)
    new.intermediate_values = dict(trial.intermediate_values)
    return new


def _finished_error(trial_id: int, number: int | None, state: str) -> UpdateFinishedTrialError:
    return UpdateFinishedTrialError(
        f"Trial {number} (id {trial_id}) is already {state} and cannot be updated."
    )


_t = s.trials
_TRIAL_Q = select(_t.c.study_id, _t.c.state, _t.c.number).where(
    _t.c.trial_id == bindparam("trial_id")
)
_TRIAL_LOCK_Q = _TRIAL_Q.with_for_update()
_DELETE_FINISH = s.skipjack_trial_finish.delete().where(
    s.skipjack_trial_finish.c.trial_id == bindparam("trial_id")
)
_STATE_UPDATES: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}


def _state_update(columns: tuple[str, ...], allowed: tuple[str, ...]) -> Any:
    """UPDATE of ``columns`` that applies only while the trial's state is in ``allowed``."""
    stmt = _STATE_UPDATES.get((columns, allowed))
    if stmt is None:
        stmt = (
            _t.update()
            .where(_t.c.trial_id == bindparam("tid"), _sql.state_in(allowed))
            .values({c: bindparam(c) for c in columns})
        )
        _STATE_UPDATES[(columns, allowed)] = stmt
    return stmt


_STUDY_OF_Q = select(_t.c.study_id).where(_t.c.trial_id == bindparam("trial_id"))
_PARAM_COLUMNS = ("param_name", "param_value", "distribution_json")
_INTERMEDIATE_COLUMNS = ("intermediate_value", "intermediate_value_type")


def _refuse(conn: Connection, trial_id: int) -> NoReturn:
    """Raise the error for a guarded write that found no unfinished trial."""
    _updatable(conn, trial_id)
    raise StorageInternalError(f"Trial {trial_id} changed state while being written; retry.")


def _updatable(conn: Connection, trial_id: int, *, lock: bool = False) -> tuple[int, str]:
    """(study id, state name) of an unfinished trial; KeyError or UpdateFinishedTrialError
    otherwise."""
    row = conn.execute(_TRIAL_LOCK_Q if lock else _TRIAL_Q, {"trial_id": trial_id}).first()
    if row is None:
        raise KeyError(f"No trial with trial_id {trial_id} exists.")
    study_id, state, number = row
    if state in _sql.FINISHED_NAMES:
        raise _finished_error(trial_id, number, state)
    return int(study_id), str(state)


class TrialWriteOps:
    """Trial write methods of RDBStorage (mixed into it).

    Writes that touch only a running trial (creating it, its params, intermediate values and
    attributes) commit without waiting for the disk where the database allows it; a write that
    finishes a trial, or creates an already finished one, is durable (see ``Database.run``).
    """

    _db: Database
    # (study id, param name) -> the first distribution the study stored for it.
    _first_distributions: dict[tuple[int, str], BaseDistribution]
    _cache_lock: threading.RLock
    # Unfinished trials this storage object created, kept up to date by its own writes
    # (write-through), so the worker running a trial need not read it back. Each write
    # replaces the object, so trials handed out earlier stay unchanged snapshots.
    _owned: dict[int, FrozenTrial]
    # Finished trials whose final form this object wrote itself, until the cache adopts them.
    _finished_by_id: dict[int, FrozenTrial]
    # Trial id -> study id, for the trials this object has created or written.
    _study_of: dict[int, int]

    def _edit_owned(self, trial_id: int, change: Callable[[FrozenTrial], None]) -> None:
        with self._cache_lock:
            trial = self._owned.get(trial_id)
            if trial is None:
                return
            trial = _edited(trial)
            change(trial)
            if trial.state.is_finished():
                del self._owned[trial_id]
                self._finished_by_id[trial_id] = trial
            else:
                self._owned[trial_id] = trial

    def _adopt_started(self, trial_id: int, study_id: int) -> None:
        """Own a WAITING trial this object has just started, as if it had created it."""
        loaded = self._db.run(lambda conn: _sql.load_trials(conn, [trial_id]), write=False)
        trial = loaded.get(trial_id)
        if trial is not None and trial.state == TrialState.RUNNING:
            with self._cache_lock:
                self._owned[trial_id] = trial
                self._study_of[trial_id] = study_id

    def _disown(self, trial_id: int) -> None:
        with self._cache_lock:
            self._owned.pop(trial_id, None)

    def _study_of_trial(self, conn: Connection, trial_id: int) -> int:
        """The study id of a trial (remembered; a trial never moves)."""
        study_id = self._study_of.get(trial_id)
        if study_id is None:
            found = conn.execute(_STUDY_OF_Q, {"trial_id": trial_id}).scalar()
            if found is None:
                raise KeyError(f"No trial with trial_id {trial_id} exists.")
            study_id = int(found)
            with self._cache_lock:
                self._study_of[trial_id] = study_id
        return study_id

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """Create a RUNNING trial, or a copy of ``template_trial`` with its state, in one
        transaction holding the study's row lock (so numbers are dense)."""
        if template_trial is not None:
            for name in template_trial.params:
                check_name("param_name", name)
            for key in (*template_trial.user_attrs, *template_trial.system_attrs):
                check_name("key", key)
        dialect = self._db.dialect
        state = TrialState.RUNNING if template_trial is None else template_trial.state
        created: list[Any] = []

        def body(conn: Connection) -> int:
            _sql.serialize_study(conn, study_id)
            start: datetime.datetime | None = _now(dialect)
            complete: datetime.datetime | None = None
            if template_trial is not None:
                start = _sql.to_db_datetime(template_trial.datetime_start)
                complete = _sql.to_db_datetime(template_trial.datetime_complete)
            row = {"state": state.name, "datetime_start": start, "datetime_complete": complete}
            trial_id, number = _sql.insert_trial(conn, study_id, row)
            if dialect != "postgresql":  # SQLite and MySQL may reuse the id of a deleted trial
                conn.execute(_DELETE_FINISH, {"trial_id": trial_id})
            if template_trial is not None:
                self._copy_template(conn, study_id, trial_id, template_trial)
            if state.is_finished():
                _sql.record_finish(conn, study_id, [trial_id])
            created[:] = [number, start]
            return trial_id

        trial_id = self._db.run(body, durable=state.is_finished(), study_lock=study_id)
        with self._cache_lock:
            self._study_of[trial_id] = study_id
        if template_trial is None:
            number, start = created
            trial = FrozenTrial(
                number=int(number),
                state=TrialState.RUNNING,
                value=None,
                datetime_start=_sql.from_db_datetime(start),
                datetime_complete=None,
                params={},
                distributions={},
                user_attrs={},
                system_attrs={},
                intermediate_values={},
                trial_id=trial_id,
            )
            with self._cache_lock:
                self._owned[trial_id] = trial
        return trial_id

    def _copy_template(
        self, conn: Connection, study_id: int, trial_id: int, template: FrozenTrial
    ) -> None:
        if template.values is not None:
            _sql.set_values(conn, trial_id, template.values)
        for name, value in template.params.items():
            dist = template.distributions[name]
            first = self._first_distribution(conn, study_id, name)
            if first is not None:
                check_distribution_compatibility(first, dist)
            conn.execute(
                s.trial_params.insert(),
                {
                    "trial_id": trial_id,
                    "param_name": name,
                    "param_value": float(dist.to_internal_repr(value)),
                    "distribution_json": distribution_to_json(dist),
                },
            )
        for table, attrs in (
            (s.trial_user_attributes, template.user_attrs),
            (s.trial_system_attributes, template.system_attrs),
        ):
            rows = [
                {"trial_id": trial_id, "key": k, "value_json": json.dumps(v)}
                for k, v in attrs.items()
            ]
            if rows:
                conn.execute(table.insert(), rows)
        rows = []
        for step, value in template.intermediate_values.items():
            stored, kind = s.intermediate_to_stored(value)
            rows.append(
                {
                    "trial_id": trial_id,
                    "step": step,
                    "intermediate_value": stored,
                    "intermediate_value_type": kind,
                }
            )
        if rows:
            conn.execute(s.trial_intermediate_values.insert(), rows)

    def _first_distribution(
        self, conn: Connection, study_id: int, name: str
    ) -> BaseDistribution | None:
        """The study's first stored distribution of ``name`` (remembered once found: the
        first row of a name stays the first)."""
        first = self._first_distributions.get((study_id, name))
        if first is None:
            first = _sql.first_distribution(conn, study_id, name)
            if first is not None:
                self._first_distributions[(study_id, name)] = first
        return first

    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
    ) -> None:
        """Record a parameter after checking it against the study's first distribution of
        that name. Setting a name the trial already has is ignored, as in Optuna."""
        check_name("param_name", param_name)
        row = {
            "trial_id": trial_id,
            "param_name": param_name,
            "param_value": float(param_value_internal),
            "distribution_json": distribution_to_json(distribution),
        }
        stmt = _guarded.statement(self._db.dialect, s.trial_params, (), _PARAM_COLUMNS)

        def body(conn: Connection) -> None:
            study_id = self._study_of_trial(conn, trial_id)
            first = self._first_distribution(conn, study_id, param_name)
            if first is not None:
                check_distribution_compatibility(first, distribution)
            if not _guarded.write(conn, stmt, row):
                _refuse(conn, trial_id)

        try:
            self._db.run(body, durable=False, single_write=True)
        except exc.IntegrityError:
            return
        except Exception:
            self._disown(trial_id)
            raise
        external = distribution.to_external_repr(float(param_value_internal))

        def change(trial: FrozenTrial) -> None:
            trial._params[param_name] = external
            trial._distributions[param_name] = distribution

        self._edit_owned(trial_id, change)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        """Change a trial's state (and values). WAITING->RUNNING happens only if the trial is
        still WAITING; the loser of that race gets False and changes nothing."""
        state = TrialState(state)
        allowed = ("WAITING",) if state == TrialState.RUNNING else _sql.UNFINISHED_NAMES

        def body(conn: Connection) -> bool:
            update: dict[str, Any] = {"state": state.name}
            if state == TrialState.RUNNING:
                update["datetime_start"] = _now(self._db.dialect)
            if state.is_finished():
                update["datetime_complete"] = _now(self._db.dialect)
            stmt = _state_update(tuple(update), allowed)
            if conn.execute(stmt, {**update, "tid": trial_id}).rowcount != 1:
                _updatable(conn, trial_id)  # KeyError or UpdateFinishedTrialError
                return False  # started by another worker first
            study_id = self._study_of_trial(conn, trial_id)
            written[:] = [update, study_id]
            if values is not None:
                _sql.set_values(conn, trial_id, values)
            if state.is_finished():
                _sql.serialize_study(conn, study_id)
                _sql.record_finish(conn, study_id, [trial_id])
            return True

        written: list[Any] = []
        known_study = self._study_of.get(trial_id) if state.is_finished() else None
        try:
            changed = self._db.run(body, durable=state.is_finished(), study_lock=known_study)
        except Exception:
            self._disown(trial_id)
            raise
        if not changed:
            self._disown(trial_id)
            return False
        update, study_id = written
        if state == TrialState.RUNNING:
            self._adopt_started(trial_id, study_id)
            return True

        def change(trial: FrozenTrial) -> None:
            trial.state = state
            if values is not None:
                trial._values = [float(v) for v in values]
            if "datetime_start" in update:
                trial._datetime_start = _sql.from_db_datetime(update["datetime_start"])
            if "datetime_complete" in update:
                trial.datetime_complete = _sql.from_db_datetime(update["datetime_complete"])

        self._edit_owned(trial_id, change)
        return True

    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        """Record (or overwrite) the intermediate value at ``step``."""
        stored, kind = s.intermediate_to_stored(intermediate_value)
        table = s.trial_intermediate_values
        stmt = _guarded.statement(self._db.dialect, table, ("step",), _INTERMEDIATE_COLUMNS)
        row = {
            "trial_id": trial_id,
            "step": step,
            "intermediate_value": stored,
            "intermediate_value_type": kind,
        }

        def body(conn: Connection) -> None:
            if stmt is None:
                _updatable(conn, trial_id)
                _sql.set_intermediate(conn, trial_id, step, intermediate_value)
            elif not _guarded.write(conn, stmt, row):
                _refuse(conn, trial_id)

        try:
            self._db.run(body, durable=False, single_write=True)
        except Exception:
            self._disown(trial_id)
            raise

        def change(trial: FrozenTrial) -> None:
            trial.intermediate_values[step] = float(intermediate_value)

        self._edit_owned(trial_id, change)

    def _set_trial_attr(self, table: Table, trial_id: int, key: str, value: Any) -> None:
        check_name("key", key)
        text = json.dumps(value)
        stmt = _guarded.statement(self._db.dialect, table, ("key",), ("value_json",))
        row = {"trial_id": trial_id, "key": key, "value_json": text}

        def body(conn: Connection) -> None:
            if stmt is None:
                _updatable(conn, trial_id)
                _sql.upsert(conn, table, {"trial_id": trial_id, "key": key}, {"value_json": text})
            elif not _guarded.write(conn, stmt, row):
                _refuse(conn, trial_id)

        try:
            self._db.run(body, durable=False, single_write=True)
        except Exception:
            self._disown(trial_id)
            raise
        user = table is s.trial_user_attributes

        def change(trial: FrozenTrial) -> None:
            (trial._user_attrs if user else trial._system_attrs)[key] = json.loads(text)

        self._edit_owned(trial_id, change)

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a trial user attribute (stored as ``json.dumps(value)``)."""
        self._set_trial_attr(s.trial_user_attributes, trial_id, key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a trial system attribute (stored as ``json.dumps(value)``)."""
        self._set_trial_attr(s.trial_system_attributes, trial_id, key, value)
