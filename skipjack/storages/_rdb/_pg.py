"""Transactions on PostgreSQL through psycopg 3, in as few round trips as the guarantees allow.

Durability (the project's decision): a transaction that finishes a trial, or touches studies, is
durable when COMMIT returns. One that only writes a running trial's data (creating it, its
params, intermediate values, attributes, heartbeats) is atomic and visible to every other
connection at once, but its COMMIT does not wait for the write-ahead log to reach the disk
(``synchronous_commit = off``): a server crash can lose the last fraction of a second of such
commits, never corrupt anything, and the next durable commit flushes everything before it.

How, per round trip:

* The storage's connections run in driver autocommit mode, so we send BEGIN and COMMIT
  ourselves (psycopg 3 sends COMMIT only when a transaction is open, whoever opened it).
* They carry ``synchronous_commit = off`` as their session setting, set once per physical
  connection. A durable transaction starts with ``BEGIN; SET LOCAL synchronous_commit TO
  DEFAULT`` in one round trip (the simple query protocol takes both statements), restoring the
  server's configured level for its COMMIT only.
* A transaction that needs its study's row lock (creating or finishing a trial) takes it in
  that same first round trip (``...; SELECT ... FOR UPDATE``).
* A read needs no transaction: under READ COMMITTED every statement sees its own snapshot
  anyway. A non-durable write of a single statement needs none either: the statement commits
  by itself, atomically, with the session's asynchronous commit.
* Anyone else who checks a connection out of the same pool (``RDBStorage.engine`` is public)
  gets it back with the setting reset first, so their own writes stay durable.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine

_OWN = "skipjack_storage"  # execution option marking the storage's own connections
LOCKED_STUDY = "skipjack_locked_study"  # execution option: the study row this transaction locked
_ASYNC = "skipjack_async_commit"  # connection-record flag: the session setting is off
_SET_ASYNC = "SET synchronous_commit TO off"
_BEGIN_DURABLE = "BEGIN; SET LOCAL synchronous_commit TO DEFAULT"


def applies_to(engine: Engine) -> bool:
    """Whether ``engine`` is PostgreSQL through psycopg 3 (the driver this module relies on)."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


def own_engine(engine: Engine) -> Engine:
    """A view of ``engine`` (same pool) whose connections are the storage's: autocommit, and
    marked so that the pool resets them before anyone else uses them."""

    @event.listens_for(engine, "engine_connect")
    def _restore_for_others(conn: Connection) -> None:
        if conn.get_execution_options().get(_OWN):
            return
        fairy = conn.connection
        if not fairy.info.pop(_ASYNC, False):
            return
        raw: Any = fairy.dbapi_connection
        autocommit = raw.autocommit
        raw.autocommit = True  # RESET outside a transaction, leaving none open
        try:
            raw.execute("RESET synchronous_commit")
        finally:
            raw.autocommit = autocommit

    return engine.execution_options(isolation_level="AUTOCOMMIT", **{_OWN: True})


@contextlib.contextmanager
def transaction(
    engine: Engine, *, write: bool, durable: bool, single_write: bool, study_lock: int | None
) -> Iterator[Connection]:
    """A connection of :func:`own_engine` in the transaction the operation needs (see the
    module docstring); COMMIT on success, ROLLBACK on error. With ``study_lock`` the
    transaction starts holding that study's row lock (a missing study is no error here)."""
    with engine.connect() as conn:
        info = conn.connection.info
        if not info.get(_ASYNC):
            conn.exec_driver_sql(_SET_ASYNC)
            info[_ASYNC] = True
        if not write or (single_write and not durable and study_lock is None):
            yield conn
            return
        begin = _BEGIN_DURABLE if durable else "BEGIN"
        if study_lock is not None:
            # An int formatted by us: nothing a caller could inject.
            begin += f"; SELECT 1 FROM studies WHERE study_id = {int(study_lock)} FOR UPDATE"
            conn.execution_options(**{LOCKED_STUDY: int(study_lock)})
        conn.exec_driver_sql(begin)
        try:
            yield conn
        except BaseException:
            if not conn.invalidated:
                conn.rollback()
            raise
        conn.exec_driver_sql("COMMIT")
