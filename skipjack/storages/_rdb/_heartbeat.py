"""Heartbeats for RDBStorage: one ``trial_heartbeats`` row per running trial, stamped with the
database server's clock so that workers on machines with skewed clocks agree on staleness."""

from __future__ import annotations

from collections.abc import Callable
import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import Connection

from skipjack.storages._rdb import _schema as s
from skipjack.storages._rdb._engine import Database

if TYPE_CHECKING:
    from skipjack.study.study import Study
    from skipjack.trial._frozen import FrozenTrial


_h = s.trial_heartbeats
_BEAT = (
    _h.update().where(_h.c.trial_id == bindparam("tid")).values(heartbeat=func.current_timestamp())
)
_FIRST_BEAT = _h.insert().values(heartbeat=func.current_timestamp())


def check_period(name: str, value: float | None) -> None:
    """ValueError unless ``value`` is None or a positive number of seconds."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"`{name}` must be None or a positive number of seconds, got {value!r}.")


def _utc_now_expression(dialect: str) -> Any:
    """An SQL expression for the server's current time as naive UTC."""
    if dialect == "postgresql":
        return func.timezone("UTC", func.now())
    if dialect in ("mysql", "mariadb"):
        return func.utc_timestamp()
    return func.current_timestamp()  # SQLite's CURRENT_TIMESTAMP is UTC


def _naive(value: Any) -> datetime.datetime:
    """The wall-clock reading of a database timestamp. A TIMESTAMP column filled from
    CURRENT_TIMESTAMP holds the session's wall-clock time, so an aware ``now`` is compared by
    its wall-clock reading too (as Optuna does), not converted."""
    if isinstance(value, str):  # SQLite returns text for bare expressions
        value = datetime.datetime.fromisoformat(value)
    assert isinstance(value, datetime.datetime)
    return value.replace(tzinfo=None)


class HeartbeatOps:
    """BaseHeartbeat's methods for RDBStorage (mixed into it)."""

    _db: Database
    heartbeat_interval: float | None
    grace_period: float | None
    failed_trial_callback: Callable[[Study, FrozenTrial], None] | None

    def record_heartbeat(self, trial_id: int) -> None:
        """Stamp the trial's heartbeat row with the database's current time."""

        def body(conn: Connection) -> None:
            if conn.execute(_BEAT, {"tid": trial_id}).rowcount == 0:
                conn.execute(_FIRST_BEAT, {"trial_id": trial_id})

        # A running trial's data: losing the last beat in a server crash only makes the trial
        # look idle a moment longer.
        self._db.run(body, durable=False)

    def _grace_seconds(self) -> float:
        if self.grace_period is not None:
            return float(self.grace_period)
        assert self.heartbeat_interval is not None
        return 2.0 * float(self.heartbeat_interval)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        """RUNNING trials whose last heartbeat is older than the grace period by the database
        clock, and RUNNING trials with no heartbeat that started longer ago than that (their
        worker died before its first beat)."""
        if self.heartbeat_interval is None:
            return []
        grace = datetime.timedelta(seconds=self._grace_seconds())
        t, h = s.trials, s.trial_heartbeats
        utc_now = _utc_now_expression(self._db.dialect)

        def body(conn: Connection) -> list[int]:
            row = conn.execute(select(func.current_timestamp(), utc_now)).one()
            now, now_utc = _naive(row[0]), _naive(row[1])
            query = (
                select(t.c.trial_id, t.c.datetime_start, h.c.heartbeat)
                .select_from(t.outerjoin(h, h.c.trial_id == t.c.trial_id))
                .where(t.c.study_id == study_id, t.c.state == "RUNNING")
            )
            stale = []
            for trial_id, start, beat in conn.execute(query):
                if beat is not None:
                    if now - _naive(beat) > grace:
                        stale.append(int(trial_id))
                elif start is not None and now_utc - _naive(start) > grace:
                    stale.append(int(trial_id))
            return stale

        return self._db.run(body, write=False)

    def get_heartbeat_interval(self) -> int | None:
        """Seconds between heartbeats, or None when heartbeats are off."""
        return self.heartbeat_interval  # type: ignore[return-value]

    def get_failed_trial_callback(self) -> Callable[[Study, FrozenTrial], None] | None:
        """The callback run on each trial failed for being stale."""
        return self.failed_trial_callback
