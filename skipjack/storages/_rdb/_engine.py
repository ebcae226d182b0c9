"""Engines, transactions with retries, and first-contact schema set-up for RDBStorage."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import random
import threading
import time
from typing import Any
from typing import TypeVar

import sqlalchemy
from sqlalchemy import event
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from skipjack import logging
from skipjack.storages._rdb import _pg
from skipjack.storages._rdb import _schema as s

_logger = logging.get_logger(__name__)

T = TypeVar("T")

# SQLite waits this long inside the driver before reporting "database is locked", and our own
# jittered retries add up to about as much again on top.
_SQLITE_BUSY_TIMEOUT_MS = 30_000
_SQLITE_RETRY_SECONDS = 120.0
_SERVER_RETRIES = 8
# A pooled server connection idle for longer than this is pinged before reuse. Pinging on every
# checkout (pool_pre_ping) would add a round trip to every transaction; a connection that dies
# within this window fails on its first statement, which the transaction retry handles.
_IDLE_PING_SECONDS = 5.0
_LAST_USED = "skipjack_last_used"
# PostgreSQL through drivers other than psycopg 3: a transaction that only writes a running
# trial's data skips waiting for the WAL flush (see _pg.py for the psycopg 3 way).
ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"


def normalize_url(url: str) -> str:
    """Fill Optuna's ``{SCHEMA_VERSION}`` template and pick an installed driver for the bare
    ``postgresql://`` and ``mysql://`` URLs that Optuna's documentation shows."""
    if "{SCHEMA_VERSION}" in url:
        url = url.replace("{SCHEMA_VERSION}", str(s.SCHEMA_VERSION))
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    if scheme in ("postgresql", "postgres") and not _importable("psycopg2"):
        if _importable("psycopg"):
            return f"postgresql+psycopg://{rest}"
    if scheme == "postgresql+psycopg2" and not _importable("psycopg2") and _importable("psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "postgres":
        return f"postgresql://{rest}"
    if scheme in ("mysql", "mysql+mysqldb") and not _importable("MySQLdb"):
        if _importable("pymysql"):
            return f"mysql+pymysql://{rest}"
    return url


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def create_engine(url: str, engine_kwargs: dict[str, Any]) -> Engine:
    """Create the engine: SQLite gets WAL, a busy timeout and explicit BEGIN statements (BEGIN
    IMMEDIATE for writes); servers get a ping for connections that sat idle in the pool, unless
    the caller chose ``pool_pre_ping`` (a ping on every checkout)."""
    kwargs = dict(engine_kwargs)
    parsed = sqlalchemy.engine.make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    in_memory = is_sqlite and parsed.database in (None, "", ":memory:")
    if is_sqlite:
        connect_args = dict(kwargs.pop("connect_args", {}))
        if in_memory:
            # One shared connection, or every connection would see its own empty database.
            connect_args.setdefault("check_same_thread", False)
            kwargs.setdefault("poolclass", StaticPool)
        kwargs["connect_args"] = connect_args
    try:
        engine = sqlalchemy.create_engine(url, **kwargs)
    except ImportError as error:
        raise ImportError(
            f"Cannot load the database driver for {parsed.drivername!r}: {error}. Install it, "
            "e.g. `pip install psycopg[binary]` for PostgreSQL or `pip install PyMySQL` for MySQL."
        ) from error
    if is_sqlite:
        _configure_sqlite(engine, wal=not in_memory)
    elif not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection on checkout only when it has been idle for a while; a failed
    ping makes the pool replace the connection."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < _IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"Ping of an idle connection failed: {error}") from error


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions defer the write lock,
        # which turns concurrent writers into "database is locked" errors).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        if wal:
            # Readers never block the writer. With synchronous=NORMAL a commit survives a crash
            # of the process (not of the machine) and the file is never corrupted; only a
            # checkpoint waits for the disk.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("skipjack_write", False)
        statement = "BEGIN IMMEDIATE" if write else "BEGIN"
        # Straight to the driver: this runs before every transaction, and SQLAlchemy's
        # statement machinery would cost more than SQLite takes to begin.
        try:
            connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except engine.dialect.loaded_dbapi.OperationalError as error:
            raise exc.OperationalError(statement, None, error) from error


def _is_transient(error: exc.DBAPIError, dialect: str) -> bool:
    """Whether retrying the whole transaction may succeed (lock contention, deadlock, dropped
    connection)."""
    if error.connection_invalidated:
        return True
    orig = error.orig
    if dialect == "sqlite":
        message = str(orig).lower()
        return "locked" in message or "busy" in message
    if dialect == "postgresql":
        return getattr(orig, "sqlstate", None) in ("40001", "40P01", "55P03")
    if dialect == "mysql":
        code = orig.args[0] if orig is not None and orig.args else None
        return code in (1205, 1213, 2006, 2013)
    return False


class Database:
    """An engine plus the transaction helper every storage operation goes through."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # One shared connection (sqlite:///:memory:) carries one transaction at a time.
        self._serial = threading.RLock() if isinstance(engine.pool, StaticPool) else None
        self._pg: Engine | None = _pg.own_engine(engine) if _pg.applies_to(engine) else None

    @contextlib.contextmanager
    def _transaction(
        self, write: bool, durable: bool, single_write: bool, study_lock: int | None
    ) -> Iterator[Connection]:
        if self._pg is not None:
            with _pg.transaction(
                self._pg,
                write=write,
                durable=durable,
                single_write=single_write,
                study_lock=study_lock,
            ) as conn:
                yield conn
            return
        options = {"skipjack_write": True} if write else {}
        with self._serial or contextlib.nullcontext():
            with self.engine.connect().execution_options(**options) as conn:
                with conn.begin():
                    if write and not durable and self.dialect == "postgresql":
                        conn.exec_driver_sql(ASYNC_COMMIT)
                    yield conn

    def run(
        self,
        body: Callable[[Connection], T],
        *,
        write: bool = True,
        durable: bool = True,
        single_write: bool = False,
        study_lock: int | None = None,
    ) -> T:
        """Run ``body(connection)`` in one transaction, retrying the whole transaction with
        jittered exponential backoff when the database reports contention or a dropped
        connection. Other errors (including IntegrityError) propagate at once.

        ``durable=False`` marks a write that only touches a running trial: it is atomic and
        visible to others at once, but on PostgreSQL its commit does not wait for the disk.
        ``single_write=True`` promises that the body makes at most one write statement, which
        is atomic by itself, so such a write may run without BEGIN/COMMIT (see _pg.py).
        ``study_lock`` names the study whose row lock the body takes (with
        ``_sql.serialize_study``); PostgreSQL then takes it in the same round trip as BEGIN."""
        deadline = time.monotonic() + _SQLITE_RETRY_SECONDS
        delay = 0.005
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._transaction(write, durable, single_write, study_lock) as conn:
                    return body(conn)
            except exc.IntegrityError:
                raise
            except exc.DBAPIError as error:
                if not _is_transient(error, self.dialect):
                    raise
                if self.dialect == "sqlite":
                    if time.monotonic() > deadline:
                        raise
                elif attempt >= _SERVER_RETRIES:
                    raise
                _logger.debug(f"Retrying a transaction after {error!r}.")
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def initialize_schema(db: Database, *, create_tables: bool, library_version: str) -> None:
    """Create missing tables and the version markers, tolerating other processes doing the same
    at the same moment (losers of a DDL race simply retry and find the work done)."""
    for attempt in range(1, 11):
        try:
            if create_tables and not _has_every_table(db):
                s.metadata.create_all(db.engine)
            _ensure_version_rows(db, library_version)
            return
        except exc.DBAPIError as error:
            if attempt == 10:
                raise
            _logger.debug(f"Schema set-up raced with another process ({error!r}); retrying.")
            time.sleep(0.05 * attempt * (0.5 + random.random()))


def _has_every_table(db: Database) -> bool:
    present = set(sqlalchemy.inspect(db.engine).get_table_names())
    return all(name in present for name in s.metadata.tables)


def _ensure_version_rows(db: Database, library_version: str) -> None:
    inspector = sqlalchemy.inspect(db.engine)
    if not inspector.has_table("version_info"):
        return
    has_alembic_table = inspector.has_table("alembic_version")

    def body(conn: Connection) -> None:
        row = conn.execute(sqlalchemy.select(s.version_info.c.schema_version)).first()
        if row is None:
            conn.execute(
                s.version_info.insert().values(
                    version_info_id=1,
                    schema_version=s.SCHEMA_VERSION,
                    library_version=library_version,
                )
            )
            schema_version = s.SCHEMA_VERSION
        else:
            schema_version = row[0]
        if not has_alembic_table:
            s.alembic_version.create(conn)
        if conn.execute(sqlalchemy.select(s.alembic_version.c.version_num)).first() is None:
            # As Optuna does: a DB from before alembic gets the base revision.
            head = s.ALEMBIC_HEAD if schema_version == s.SCHEMA_VERSION else s.KNOWN_REVISIONS[0]
            conn.execute(s.alembic_version.insert().values(version_num=head))

    try:
        db.run(body)
    except exc.IntegrityError:
        pass  # another process inserted the same rows first


def current_revision(db: Database) -> str | None:
    """The alembic revision stamped in the database, or None."""
    row = db.run(
        lambda conn: conn.execute(sqlalchemy.select(s.alembic_version.c.version_num)).first(),
        write=False,
    )
    return None if row is None else str(row[0])


def check_compatibility(db: Database) -> None:
    """Refuse a database whose schema revision is not the one we read and write."""
    revision = current_revision(db)
    if revision == s.ALEMBIC_HEAD:
        return
    written_by = db.run(
        lambda conn: conn.execute(sqlalchemy.select(s.version_info.c.library_version)).scalar(),
        write=False,
    )
    message = (
        f"The database schema revision is {revision!r} (set up by version {written_by}), but "
        f"this skipjack reads and writes revision {s.ALEMBIC_HEAD!r}. "
    )
    if revision in s.KNOWN_REVISIONS:
        message += "Upgrade it with `skipjack storage upgrade --storage <URL>`."
    else:
        message += "It was written by a newer library; update skipjack."
    raise RuntimeError(message)
