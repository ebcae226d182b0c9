"""RDBStorage: studies in a relational database (SQLite, PostgreSQL, MySQL/MariaDB) using
Optuna 5.0's schema, so Optuna and optuna-dashboard share databases with skipjack."""

from __future__ import annotations

from collections.abc import Callable
import threading
from typing import TYPE_CHECKING
from typing import Any
import warnings

from sqlalchemy import exc
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.distributions import BaseDistribution
from skipjack.storages._base import BaseStorage
from skipjack.storages._heartbeat import BaseHeartbeat
from skipjack.storages._rdb import _engine
from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb import _sql
from skipjack.storages._rdb._cache import FinishedTrials
from skipjack.storages._rdb._heartbeat import HeartbeatOps
from skipjack.storages._rdb._heartbeat import check_period
from skipjack.storages._rdb._studies import StudyOps
from skipjack.storages._rdb._studies import check_name
from skipjack.storages._rdb._trial_reads import TrialReadOps
from skipjack.storages._rdb._trial_writes import TrialWriteOps
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.version import __version__

if TYPE_CHECKING:
    from skipjack.study.study import Study

__all__ = ["RDBStorage"]

_Callback = Callable[["Study", FrozenTrial], None]


class RDBStorage(StudyOps, TrialWriteOps, TrialReadOps, HeartbeatOps, BaseStorage, BaseHeartbeat):
    """A storage in a relational database, shared by every process that opens the same URL.

    Args:
        url: An SQLAlchemy URL, e.g. ``sqlite:///study.db``, ``sqlite:///:memory:``,
            ``postgresql+psycopg://user:pass@host/db`` or ``mysql+pymysql://user@host/db``.
            Bare ``postgresql://`` and ``mysql://`` URLs use whichever driver is installed.
        engine_kwargs: Extra keyword arguments for :func:`sqlalchemy.create_engine`.
        skip_compatibility_check: Open the database even if its schema revision is not the one
            this version reads and writes.
        heartbeat_interval: Seconds between heartbeats of a running trial; None turns
            heartbeats off.
        grace_period: Seconds without a heartbeat after which a RUNNING trial counts as stale
            (default: twice ``heartbeat_interval``).
        failed_trial_callback: Called as ``callback(study, trial)`` on each trial failed for
            being stale (e.g. :class:`RetryFailedTrialCallback`). Deprecated name of
            ``heartbeat_stale_trial_callback``.
        heartbeat_stale_trial_callback: The same callback, under its newer name.
        skip_table_creation: Do not create missing tables.

    SQLite databases use WAL mode and a busy timeout, and every transaction is retried with
    jittered backoff when the database is locked, so many processes can share one file.
    Transient server errors (deadlocks, dropped connections) are retried the same way.
    """

    def __init__(
        self,
        url: str,
        engine_kwargs: dict[str, Any] | None = None,
        skip_compatibility_check: bool = False,
        *,
        heartbeat_interval: int | None = None,
        grace_period: int | None = None,
        heartbeat_stale_trial_callback: _Callback | None = None,
        failed_trial_callback: _Callback | None = None,
        skip_table_creation: bool = False,
    ) -> None:
        check_period("heartbeat_interval", heartbeat_interval)
        check_period("grace_period", grace_period)
        if heartbeat_stale_trial_callback is not None and failed_trial_callback is not None:
            raise ValueError(
                "Specify only one of `heartbeat_stale_trial_callback` and `failed_trial_callback`."
            )
        if failed_trial_callback is not None:
            warnings.warn(
                "`failed_trial_callback` has been deprecated in v4.9.0 (Optuna) and will be "
                "removed in v6.0.0; use `heartbeat_stale_trial_callback` instead.",
                FutureWarning,
                stacklevel=2,
            )
        self.url = _engine.normalize_url(url)
        self.engine_kwargs = dict(engine_kwargs or {})
        self.skip_compatibility_check = skip_compatibility_check
        self.skip_table_creation = skip_table_creation
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.heartbeat_stale_trial_callback = (
            heartbeat_stale_trial_callback or failed_trial_callback
        )
        self.failed_trial_callback = self.heartbeat_stale_trial_callback
        self._connect(create_tables=not skip_table_creation)

    def _connect(self, *, create_tables: bool) -> None:
        self.engine = _engine.create_engine(self.url, self.engine_kwargs)
        self._db = _engine.Database(self.engine)
        self._cache_lock = threading.RLock()
        self._finished: dict[int, FinishedTrials] = {}
        self._finished_by_id: dict[int, FrozenTrial] = {}
        self._owned: dict[int, FrozenTrial] = {}
        self._study_of: dict[int, int] = {}
        self._live_floors: dict[int, tuple[int, int]] = {}
        self._directions: dict[int, list[StudyDirection]] = {}
        self._first_distributions: dict[tuple[int, str], BaseDistribution] = {}
        _engine.initialize_schema(
            self._db, create_tables=create_tables, library_version=__version__
        )
        if not self.skip_compatibility_check:
            _engine.check_compatibility(self._db)

    def __getstate__(self) -> dict[str, Any]:
        keep = (
            "url",
            "engine_kwargs",
            "skip_compatibility_check",
            "skip_table_creation",
            "heartbeat_interval",
            "grace_period",
            "heartbeat_stale_trial_callback",
            "failed_trial_callback",
        )
        return {key: self.__dict__[key] for key in keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._connect(create_tables=not self.skip_table_creation)

    def _forget_study(self, study_id: int) -> None:
        with self._cache_lock:
            cache = self._finished.pop(study_id, None)
            if cache is not None:
                for trial_id in cache.ids:
                    self._finished_by_id.pop(trial_id, None)
            self._directions.pop(study_id, None)
            self._live_floors.pop(study_id, None)
            for trial_id in [t for t, sid in self._study_of.items() if sid == study_id]:
                del self._study_of[trial_id]
                self._owned.pop(trial_id, None)
                self._finished_by_id.pop(trial_id, None)
            for key in [k for k in self._first_distributions if k[0] == study_id]:
                del self._first_distributions[key]

    # ---- claims ---------------------------------------------------------------------------
    def claim(self, study_id: int, key: str, trial_id: int) -> bool:
        """Claim ``key`` in a study for ``trial_id``: the first INSERT wins through the unique
        constraint. True if the trial holds the claim (now or already)."""
        check_name("claim key", key)
        c = s.skipjack_claims

        def insert(conn: Connection) -> None:
            _sql.require_study(conn, study_id)
            conn.execute(c.insert().values(study_id=study_id, claim_key=key, trial_id=trial_id))

        try:
            self._db.run(insert)
            return True
        except exc.IntegrityError:
            pass
        owner = self._db.run(
            lambda conn: conn.execute(
                select(c.c.trial_id).where(c.c.study_id == study_id, c.c.claim_key == key)
            ).scalar(),
            write=False,
        )
        return owner == trial_id

    def get_claims(self, study_id: int) -> dict[str, int]:
        """Every claim of a study: key -> trial id."""
        c = s.skipjack_claims

        def body(conn: Connection) -> dict[str, int]:
            _sql.require_study(conn, study_id)
            rows = conn.execute(select(c.c.claim_key, c.c.trial_id).where(c.c.study_id == study_id))
            return {str(k): int(t) for k, t in rows}

        return self._db.run(body, write=False)

    # ---- schema versions and sessions ----------------------------------------------------
    def get_current_version(self) -> str:
        """The schema revision stamped in the database."""
        revision = _engine.current_revision(self._db)
        assert revision is not None
        return revision

    def get_head_version(self) -> str:
        """The schema revision this version reads and writes (Optuna 5.0's head)."""
        return s.ALEMBIC_HEAD

    def get_all_versions(self) -> list[str]:
        """Every schema revision, newest first."""
        return list(reversed(s.KNOWN_REVISIONS))

    def upgrade(self) -> None:
        """Upgrade a database written by an older Optuna schema to the head revision, one
        revision at a time, logging each step (a no-op when it is there already).

        Raises:
            RuntimeError: if the database's revision is newer than this library knows.
        """
        from skipjack.storages._rdb import _upgrade

        _upgrade.upgrade(self._db, library_version=__version__)
        # Tables introduced after the database's original revision (e.g. trial_heartbeats).
        _engine.initialize_schema(self._db, create_tables=True, library_version=__version__)

    def remove_session(self) -> None:
        """Return pooled connections (a no-op for ``sqlite:///:memory:``, whose one connection
        holds the data)."""
        if self.engine.pool.__class__.__name__ != "StaticPool":
            self.engine.dispose()
