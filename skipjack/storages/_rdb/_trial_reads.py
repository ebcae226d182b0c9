"""The trial-reading half of RDBStorage, built on the finished-trial cache."""

from __future__ import annotations

from collections.abc import Container
import copy
import threading
from typing import Any

from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb import _sql
from skipjack.storages._rdb._cache import FinishedTrials
from skipjack.storages._rdb._engine import Database
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

_UNFINISHED = (TrialState.RUNNING, TrialState.WAITING)
_FULL_SCAN_EVERY = 32
_t, _f = s.trials, s.skipjack_trial_finish
# A study's unfinished trials, and finished ones without a finish record (finished by a writer
# that does not know the table, e.g. Optuna), from the study's floor up.
_SCAN_Q = select(_t.c.trial_id, _t.c.state).where(
    _t.c.study_id == bindparam("study_id"),
    _t.c.trial_id >= bindparam("floor"),
    or_(
        _sql.state_in(_sql.UNFINISHED_NAMES),
        ~exists().where(_f.c.trial_id == _t.c.trial_id),
    ),
)
_NEW_FINISH_Q = (
    select(_f.c.seq, _f.c.trial_id)
    .where(_f.c.study_id == bindparam("study_id"), _f.c.seq > bindparam("last"))
    .order_by(_f.c.seq)
)
_MAX_ID_Q = select(func.max(_t.c.trial_id)).where(
    _t.c.study_id == bindparam("study_id"), _t.c.trial_id >= bindparam("floor")
)
# A study's unfinished trials from a floor up, plus its newest trial (whatever its state), so
# that one statement tells both which trials are live and how far the floor may move.
_LIVE_Q = select(_t.c.trial_id, _t.c.state).where(
    _t.c.study_id == bindparam("study_id"),
    _t.c.trial_id >= bindparam("floor"),
    or_(
        _sql.state_in(_sql.UNFINISHED_NAMES),
        _t.c.trial_id == _MAX_ID_Q.scalar_subquery(),
    ),
)


class TrialReadOps:
    """Trial read methods of RDBStorage (mixed into it)."""

    _db: Database
    _cache_lock: threading.RLock
    _finished: dict[int, FinishedTrials]
    _finished_by_id: dict[int, FrozenTrial]
    _owned: dict[int, FrozenTrial]
    # Study id -> (floor, reads): every trial of the study with a smaller id is finished.
    _live_floors: dict[int, tuple[int, int]]

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        raise NotImplementedError

    # ---- keeping the cache up to date -----------------------------------------------------
    def _sync(self, study_id: int) -> tuple[FinishedTrials, list[int]]:
        """Bring the study's finished-trial cache up to date; return it with the ids of the
        study's unfinished trials. KeyError for an unknown study."""
        with self._cache_lock:
            cache = self._finished.setdefault(study_id, FinishedTrials())
            cache.scans += 1
            # Trials below the floor were all finished and recorded at an earlier scan. Ids
            # on servers can become visible out of order, so a full scan now and then
            # catches a trial that committed late below the floor.
            full = self._db.dialect != "sqlite" and cache.scans % _FULL_SCAN_EVERY == 0
            floor = 0 if full else cache.floor

        def scan(conn: Connection) -> tuple[list[tuple[int, str]], int | None]:
            bind = {"study_id": study_id, "floor": floor}
            # The top id first: a trial that commits between the two statements then lies
            # above it, so the floor computed below cannot pass over it.
            top = conn.execute(_MAX_ID_Q, bind).scalar()
            rows = [(int(i), str(st)) for i, st in conn.execute(_SCAN_Q, bind)]
            if top is None and not rows:
                _sql.require_study(conn, study_id)
            return rows, top

        rows, top = self._db.run(scan, write=False)
        unfinished = [i for i, st in rows if st in _sql.UNFINISHED_NAMES]
        missing = [i for i, st in rows if st not in _sql.UNFINISHED_NAMES]
        if missing:
            self._db.run(lambda conn: _adopt(conn, study_id, missing))
        with self._cache_lock:
            cache.floor = min([*unfinished, floor if top is None else int(top) + 1])
            last = cache.last_seq

            def read_new(conn: Connection) -> list[tuple[int, FrozenTrial]]:
                new = conn.execute(_NEW_FINISH_Q, {"study_id": study_id, "last": last}).all()
                need = [i for _, i in new if i not in self._finished_by_id]
                loaded = _sql.load_trials(conn, need)
                out = []
                for seq, trial_id in new:
                    trial = self._finished_by_id.get(trial_id) or loaded.get(trial_id)
                    if trial is not None and trial.state.is_finished():
                        out.append((int(seq), trial))
                return out

            for seq, trial in self._db.run(read_new, write=False):
                cache.add(seq, trial)
                self._finished_by_id[trial._trial_id] = trial
                # Finished elsewhere (e.g. failed as stale by another worker): stop
                # answering from what this object remembers of it.
                self._owned.pop(trial._trial_id, None)
        return cache, unfinished

    # ---- reads ----------------------------------------------------------------------------
    def get_trial(self, trial_id: int) -> FrozenTrial:
        """Return one trial (from memory when it is finished or this object is running it).
        Do not modify it."""
        cached = self._owned.get(trial_id) or self._finished_by_id.get(trial_id)
        if cached is not None:
            return cached
        trial = self._db.run(lambda conn: _sql.load_trials(conn, [trial_id]), write=False).get(
            trial_id
        )
        if trial is None:
            raise KeyError(f"No trial with trial_id {trial_id} exists.")
        return trial

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """Return the study's trials ordered by number. Finished trials are read from the
        database once; each call reads only new finish records and the unfinished trials."""
        wanted = list(TrialState) if states is None else [x for x in TrialState if x in states]
        if any(x.is_finished() for x in wanted):
            cache, unfinished_ids = self._sync(study_id)
            with self._cache_lock:
                parts = [cache.by_state[x] for x in wanted if x.is_finished()]
                trials = [trial for part in parts for trial in part]
        else:
            unfinished_ids = self._unfinished_ids(study_id, wanted)
            parts, trials = [], []
        if unfinished_ids and any(x in _UNFINISHED for x in wanted):
            with self._cache_lock:
                mine = [self._owned[i] for i in unfinished_ids if i in self._owned]
            need = [i for i in unfinished_ids if i not in self._owned]
            loaded = self._db.run(lambda conn: _sql.load_trials(conn, need), write=False)
            known = {t._trial_id for t in trials}
            for trial in [*mine, *loaded.values()]:
                # A trial that finished meanwhile appears once, in its newest form.
                if trial.state in wanted and trial._trial_id not in known:
                    trials.append(trial)
        if len(parts) > 1 or len(trials) != sum(len(p) for p in parts):
            trials.sort(key=lambda trial: trial.number)
        return copy.deepcopy(trials) if deepcopy else trials

    def _unfinished_ids(self, study_id: int, wanted: list[TrialState]) -> list[int]:
        """Ids of the study's trials in the ``wanted`` unfinished states. Reads only from a
        per-study floor below which every trial is known to be finished, so the cost does
        not grow with the study; KeyError for an unknown study."""
        with self._cache_lock:
            floor, calls = self._live_floors.get(study_id, (0, 0))
            cache = self._finished.get(study_id)
            if cache is not None:
                floor = max(floor, cache.floor)
            calls += 1
            if self._db.dialect != "sqlite" and calls % _FULL_SCAN_EVERY == 0:
                floor = 0  # as in _sync: catch a trial whose id committed out of order
        bind = {"study_id": study_id, "floor": floor}

        def body(conn: Connection) -> list[tuple[int, str]]:
            rows = [(int(i), str(st)) for i, st in conn.execute(_LIVE_Q, bind)]
            if not rows:
                _sql.require_study(conn, study_id)
            return rows

        rows = self._db.run(body, write=False)
        live = [(i, st) for i, st in rows if st in _sql.UNFINISHED_NAMES]
        top = max((i for i, _ in rows), default=floor - 1)
        with self._cache_lock:
            self._live_floors[study_id] = (min([i for i, _ in live] + [top + 1]), calls)
        names = {x.name for x in wanted}
        return [i for i, st in live if st in names]

    def get_finished_trials_since(
        self, study_id: int, watermark: int
    ) -> tuple[list[FrozenTrial], int]:
        """Trials that finished after ``watermark`` (a position in the study's finish order,
        shared by every process), and the next watermark. Do not modify the trials."""
        if watermark < 0:
            raise ValueError(f"watermark must be >= 0, got {watermark}.")
        cache, _ = self._sync(study_id)
        with self._cache_lock:
            return cache.since(watermark), max(cache.last_seq, watermark)

    def get_n_trials(
        self, study_id: int, state: tuple[TrialState, ...] | TrialState | None = None
    ) -> int:
        """Count the study's trials in SQL, optionally only those in ``state``."""
        t = s.trials
        query = select(func.count()).select_from(t).where(t.c.study_id == study_id)
        if state is not None:
            wanted = (state,) if isinstance(state, TrialState) else tuple(state)
            query = query.where(t.c.state.in_([TrialState(x).name for x in wanted]))

        def body(conn: Connection) -> int:
            _sql.require_study(conn, study_id)
            return int(conn.execute(query).scalar_one())

        return self._db.run(body, write=False)

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """The best COMPLETE trial of a single-objective study, found by an SQL ORDER BY."""
        directions = self.get_study_directions(study_id)
        if len(directions) > 1:
            raise RuntimeError("Best trial can be obtained only for single-objective optimization.")
        t, v = s.trials, s.trial_values
        rank = case((v.c.value_type == "INF_NEG", -1), (v.c.value_type == "FINITE", 0), else_=1)
        order: tuple[Any, Any] = (rank, v.c.value)
        if directions[0] == StudyDirection.MAXIMIZE:
            order = (rank.desc(), v.c.value.desc())
        query = (
            select(t.c.trial_id)
            .join(v, and_(v.c.trial_id == t.c.trial_id, v.c.objective == 0))
            .where(t.c.study_id == study_id, t.c.state == "COMPLETE")
            .order_by(*order)
            .limit(1)
        )
        trial_id = self._db.run(lambda conn: conn.execute(query).scalar(), write=False)
        if trial_id is None:
            raise ValueError("No trials are completed yet.")
        return self.get_trial(int(trial_id))

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        """Return the id of trial ``trial_number`` of a study; KeyError if there is none."""
        t = s.trials
        query = select(t.c.trial_id).where(t.c.study_id == study_id, t.c.number == trial_number)
        trial_id = self._db.run(lambda conn: conn.execute(query).scalar(), write=False)
        if trial_id is None:
            raise KeyError(f"No trial with number {trial_number} in study {study_id}.")
        return int(trial_id)

    def get_trial_number_from_id(self, trial_id: int) -> int:
        """Return the number of a trial."""
        cached = self._finished_by_id.get(trial_id)
        if cached is not None:
            return cached.number
        query = select(s.trials.c.number).where(s.trials.c.trial_id == trial_id)
        row = self._db.run(lambda conn: conn.execute(query).first(), write=False)
        if row is None:
            raise KeyError(f"No trial with trial_id {trial_id} exists.")
        return int(row[0])


def _adopt(conn: Connection, study_id: int, trial_ids: list[int]) -> None:
    """Give finish records to finished trials that lack one (re-checked under the lock)."""
    t, f = s.trials, s.skipjack_trial_finish
    _sql.lock_study(conn, study_id)
    still = [
        int(i)
        for (i,) in conn.execute(
            select(t.c.trial_id)
            .where(
                t.c.trial_id.in_(trial_ids),
                t.c.state.in_(_sql.FINISHED_NAMES),
                ~exists().where(f.c.trial_id == t.c.trial_id),
            )
            .order_by(t.c.trial_id)
        )
    ]
    _sql.record_finish(conn, study_id, still)
