"""The trial-writing half of RDBStorage."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import copy
import datetime
import json
import threading
from typing import Any

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import exc
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.distributions import BaseDistribution
from skipjack.distributions import check_distribution_compatibility
from skipjack.distributions import distribution_to_json
from skipjack.exceptions import UpdateFinishedTrialError
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
_COUNT_BEFORE_Q = (
    select(func.count())
    .select_from(_t)
    .where(_t.c.study_id == bindparam("study_id"), _t.c.trial_id < bindparam("trial_id"))
)
_SET_NUMBER = (
    _t.update()
    .where(_t.c.trial_id == bindparam("tid"))
    .values(number=bindparam("number"), state=bindparam("state"))
)
_DELETE_FINISH = s.skipjack_trial_finish.delete().where(
    s.skipjack_trial_finish.c.trial_id == bindparam("trial_id")
)
_STATE_UPDATES: dict[tuple[str, ...], Any] = {}


def _state_update(columns: tuple[str, ...]) -> Any:
    stmt = _STATE_UPDATES.get(columns)
    if stmt is None:
        stmt = (
            _t.update()
            .where(_t.c.trial_id == bindparam("tid"), _t.c.state == bindparam("current"))
            .values({c: bindparam(c) for c in columns})
        )
        _STATE_UPDATES[columns] = stmt
    return stmt


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
    """Trial write methods of RDBStorage (mixed into it)."""

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

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """Create a RUNNING trial, or a copy of ``template_trial`` with its state, in one
        transaction holding the study's row lock (so numbers are dense)."""
        if template_trial is not None:
            for name in template_trial.params:
                check_name("param_name", name)
            for key in (*template_trial.user_attrs, *template_trial.system_attrs):
                check_name("key", key)

        dialect = self._db.dialect
        created: list[Any] = []

        def body(conn: Connection) -> int:
            _sql.lock_study(conn, study_id)
            t = s.trials
            start = _now(dialect) if template_trial is None else template_trial.datetime_start
            row: dict[str, Any] = {
                "study_id": study_id,
                "number": None,
                "state": "RUNNING",
                "datetime_start": start if template_trial is None else _sql.to_db_datetime(start),
            }
            if template_trial is not None:
                row["datetime_complete"] = _sql.to_db_datetime(template_trial.datetime_complete)
            key = conn.execute(t.insert(), row).inserted_primary_key
            assert key is not None
            trial_id = int(key[0])
            state = TrialState.RUNNING
            if template_trial is not None:
                self._copy_template(conn, study_id, trial_id, template_trial)
                state = template_trial.state
            ids = {"study_id": study_id, "trial_id": trial_id}
            number = conn.execute(_COUNT_BEFORE_Q, ids).scalar_one()
            conn.execute(_SET_NUMBER, {"tid": trial_id, "number": number, "state": state.name})
            conn.execute(_DELETE_FINISH, ids)  # left behind for a reused id
            if state.is_finished():
                _sql.record_finish(conn, study_id, [trial_id])
            created[:] = [number, start]
            return trial_id

        trial_id = self._db.run(body)
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
                self._study_of[trial_id] = study_id
        return trial_id

    def _copy_template(
        self, conn: Connection, study_id: int, trial_id: int, template: FrozenTrial
    ) -> None:
        if template.values is not None:
            _sql.set_values(conn, trial_id, template.values)
        for name, value in template.params.items():
            dist = template.distributions[name]
            self._insert_param(conn, study_id, trial_id, name, dist.to_internal_repr(value), dist)
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

    def _insert_param(
        self,
        conn: Connection,
        study_id: int,
        trial_id: int,
        name: str,
        value: float,
        dist: BaseDistribution,
    ) -> None:
        first = self._first_distributions.get((study_id, name))
        if first is None:
            first = _sql.first_distribution(conn, study_id, name)
            if first is not None:
                self._first_distributions[(study_id, name)] = first
        if first is not None:
            check_distribution_compatibility(first, dist)
        conn.execute(
            s.trial_params.insert(),
            {
                "trial_id": trial_id,
                "param_name": name,
                "param_value": float(value),
                "distribution_json": distribution_to_json(dist),
            },
        )

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

        def body(conn: Connection) -> None:
            study_id, _ = _updatable(conn, trial_id)
            self._insert_param(
                conn, study_id, trial_id, param_name, param_value_internal, distribution
            )

        try:
            self._db.run(body)
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

        def body(conn: Connection) -> bool:
            study_id, current = _updatable(conn, trial_id, lock=True)
            if state == TrialState.RUNNING and current != "WAITING":
                return False
            update: dict[str, Any] = {"state": state.name}
            if state == TrialState.RUNNING:
                update["datetime_start"] = _now(self._db.dialect)
            if state.is_finished():
                update["datetime_complete"] = _now(self._db.dialect)
            written[:] = [update, study_id]
            stmt = _state_update(tuple(update))
            changed = conn.execute(stmt, {**update, "tid": trial_id, "current": current}).rowcount
            if changed != 1:
                return False
            if values is not None:
                _sql.set_values(conn, trial_id, values)
            if state.is_finished():
                _sql.lock_study(conn, study_id)
                _sql.record_finish(conn, study_id, [trial_id])
            return True

        written: list[Any] = []
        try:
            changed = self._db.run(body)
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

        def body(conn: Connection) -> None:
            _updatable(conn, trial_id)
            _sql.set_intermediate(conn, trial_id, step, intermediate_value)

        try:
            self._db.run(body)
        except Exception:
            self._disown(trial_id)
            raise

        def change(trial: FrozenTrial) -> None:
            trial.intermediate_values[step] = float(intermediate_value)

        self._edit_owned(trial_id, change)

    def _set_trial_attr(self, table: Table, trial_id: int, key: str, value: Any) -> None:
        check_name("key", key)
        text = json.dumps(value)

        def body(conn: Connection) -> None:
            _updatable(conn, trial_id)
            _sql.upsert(conn, table, {"trial_id": trial_id, "key": key}, {"value_json": text})

        try:
            self._db.run(body)
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
