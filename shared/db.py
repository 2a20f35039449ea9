"""Engines and sessions for SQLite, PostgreSQL and MySQL/MariaDB.

SQLite runs in WAL mode with foreign keys on and a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so two writers queue up instead of failing half-way (a deferred ``BEGIN`` that
reads and then writes fails under contention). Networked databases get a connect timeout and a
liveness check of pooled connections that were idle for a while (a ping on every checkout would
cost a round trip on every chat page). The caller owns the transaction:
``with session_scope() as s: result = chatbots.create(s, actor, ...)``
(SQLAlchemy ``session_basics.rst``: keep the session lifecycle separate and external).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from shared.errors import ConfigError, DatabaseBusy, DatabaseUnavailable

log = logging.getLogger("convergeai.db")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, stored as naive UTC with microseconds on every backend.

    Storing naive UTC everywhere (``TIMESTAMP WITHOUT TIME ZONE``, ``DATETIME(6)``, SQLite text)
    makes values round-trip identically on all three databases; naive values are refused on the
    way in so local times can never slip through.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# URLs ------------------------------------------------------------------------------------------

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL, choosing our drivers (psycopg 3, PyMySQL) when none is named."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "The database URL is not valid. Examples: sqlite:///path/to/file.db, "
            "postgresql://user:password@host/dbname, mysql://user:password@host/dbname"
        ) from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise ConfigError(
            f"Unsupported database {parsed.get_backend_name()!r}: use SQLite, PostgreSQL, "
            "or MySQL/MariaDB"
        )
    return parsed


# Engines ---------------------------------------------------------------------------------------

SQLITE_BEGIN = "convergeai_sqlite_begin"


def make_engine(
    url: str | URL,
    *,
    busy_timeout: float = 10.0,
    connect_timeout: int = 5,
    echo: bool = False,
    poolclass: Any = None,
) -> Engine:
    """Create an engine set up for our use of each backend."""
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if poolclass is not None:
        kwargs["poolclass"] = poolclass
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": busy_timeout, "check_same_thread": False}
    else:
        kwargs["pool_recycle"] = 1800
        if backend == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": connect_timeout}
        else:
            kwargs["connect_args"] = {
                "connect_timeout": connect_timeout,
                "read_timeout": 120,
                "write_timeout": 120,
            }
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise ConfigError(f"No driver for {parsed.drivername!r}") from None
    except ImportError as exc:
        extra = "postgres" if backend == "postgresql" else "mysql"
        raise ConfigError(
            f"The database driver for {backend} is not installed ({exc.name}); "
            f"install convergeai[{extra}]"
        ) from None
    if backend == "sqlite":
        _setup_sqlite(engine, busy_timeout)
    else:
        _ping_idle_connections(engine)
    return engine


#: A pooled connection idle longer than this is pinged before use.
PING_AFTER_IDLE = 10.0


def _ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections idle a while (the custom recipe of
    SQLAlchemy's "Dealing with Disconnects"): a dead one raises DisconnectionError, and the pool
    replaces it with a fresh connection before the caller sees anything."""

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["convergeai_used"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        used = record.info.get("convergeai_used")
        if used is None or time.monotonic() - used < PING_AFTER_IDLE:
            return  # brand new, or used moments ago
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
            dbapi_conn.rollback()  # leave no transaction open behind the ping
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is gone
            raise DisconnectionError(str(exc)) from exc
        finally:
            with contextlib.suppress(Exception):
                cursor.close()


def _setup_sqlite(engine: Engine, busy_timeout: float) -> None:
    """WAL, foreign keys, busy timeout, and BEGIN (IMMEDIATE) issued by us, not by pysqlite."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (SQLAlchemy's pysqlite docs,
        # "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cur.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


# Sessions --------------------------------------------------------------------------------------

#: The schema first in the search path of PostgreSQL's kiosk role (``db create-roles``).
ROW_SECURITY_SCHEMA = "convergeai_kiosk"


class Database:
    """An engine with two session factories: writes (BEGIN IMMEDIATE on SQLite) and reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        write_bind = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False)
        read_bind = engine
        if self.backend == "postgresql":
            # Reads need no BEGIN/ROLLBACK round trips (measured: a chat page 3.5 -> 2.8 ms).
            # Read sessions never flush (autoflush off), so nothing can be written through them.
            read_bind = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = sessionmaker(bind=read_bind, expire_on_commit=False, autoflush=False)
        # Row-level security (the kiosk role of ``db create-roles``) identifies the attendee or
        # visit per transaction (``set_config(..., true)``), so that role reads in transactions.
        self._read_in_transaction = sessionmaker(
            bind=engine, expire_on_commit=False, autoflush=False
        )
        self._row_security: bool | None = None if self.backend == "postgresql" else False

    @classmethod
    def from_settings(cls, url: str | None = None, **kwargs: Any) -> Database:
        from shared.settings import get_settings

        settings = get_settings()
        return cls(
            make_engine(
                url or settings.database_url(),
                busy_timeout=settings["database.busy_timeout"],
                connect_timeout=settings["database.connect_timeout"],
                **kwargs,
            )
        )

    @property
    def url(self) -> URL:
        return self.engine.url

    def describe(self) -> str:
        """The URL with the password hidden, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def row_security(self) -> bool:
        """Whether this connection's role sees rows by identity (PostgreSQL's kiosk role, whose
        search path starts with :data:`ROW_SECURITY_SCHEMA`). Asked once per Database."""
        if self._row_security is None:
            try:
                with self.engine.connect() as conn:
                    found = conn.exec_driver_sql("SELECT current_schema()").scalar()
            except DBAPIError as exc:
                raise translate_db_error(exc, self.describe()) from exc
            self._row_security = found == ROW_SECURITY_SCHEMA
        return self._row_security

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        if write:
            factory = self._write
        elif self._row_security is False or not self.row_security:
            factory = self._read
        else:
            factory = self._read_in_transaction
        session = factory()
        try:
            self._begin(session)
            yield session
            if write:
                session.commit()
            else:
                session.rollback()
        except DBAPIError as exc:
            _rollback_quietly(session)
            raise translate_db_error(exc, self.describe()) from exc
        except BaseException:
            _rollback_quietly(session)
            raise
        finally:
            session.close()

    def read(self) -> Any:
        """A read-only session scope (a plain BEGIN on SQLite, so readers never queue)."""
        return self.session(write=False)

    def _begin(self, session: Session, attempts: int = 3) -> None:
        # Start the transaction now, so a writer that cannot get the SQLite write lock fails
        # here (safe to retry: nothing was done) rather than half-way through its work.
        for attempt in range(attempts):
            try:
                session.connection()
                return
            except DBAPIError as exc:
                _rollback_quietly(session)
                if attempt + 1 < attempts and _is_locked(exc):
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise translate_db_error(exc, self.describe()) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _rollback_quietly(session: Session) -> None:
    try:
        session.rollback()
    except DBAPIError:
        # The connection is in an unknown state (a COMMIT that failed may still be pending on
        # it): throw it away rather than hand it to the next transaction.
        try:
            session.connection().invalidate()
        except Exception:  # noqa: BLE001 - best effort on an already broken connection
            log.debug("could not invalidate a broken connection", exc_info=True)


def _is_locked(exc: DBAPIError) -> bool:
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


def _is_deadlock(exc: DBAPIError) -> bool:
    """A deadlock or serialization failure: the server rolled back; trying again is safe."""
    code = getattr(exc.orig, "sqlstate", None) or ""
    args = getattr(exc.orig, "args", ())
    mysql_code = args[0] if args and isinstance(args[0], int) else None
    return code in ("40P01", "40001") or mysql_code in (1205, 1213)


_UNAVAILABLE_MARKERS = (
    "could not connect",
    "connection refused",
    "can't connect",
    "server closed the connection",
    "lost connection",
    "connection timeout",
    "timeout expired",
    "server has gone away",
    "no route to host",
    "name or service not known",
    "password authentication failed",
    "access denied",
    "connection is closed",
    "terminating connection",
    "the database system is",
    "unable to open database file",
    "connection reset",
    "broken pipe",
)


def translate_db_error(exc: DBAPIError, where: str) -> Exception:
    """Turn a driver error about the environment into a KnownError; keep bugs as they are."""
    text = str(exc.orig).lower()
    if _is_locked(exc):
        return DatabaseBusy("The database is busy with other writers; try again in a moment.")
    if exc.connection_invalidated or any(marker in text for marker in _UNAVAILABLE_MARKERS):
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return DatabaseUnavailable(f"Cannot reach the database at {where}: {first}")
    return exc


# The process-wide database ---------------------------------------------------------------------

_lock = threading.Lock()
_database: Database | None = None


def get_database() -> Database:
    """The process-wide Database built from the settings (created on first use)."""
    global _database
    with _lock:
        if _database is None:
            _database = Database.from_settings()
        return _database


def set_database(database: Database | None) -> None:
    """Replace the process-wide database (tests, the CLI's ``--database`` option)."""
    global _database
    with _lock:
        if _database is not None and database is not _database:
            _database.dispose()
        _database = database


@contextmanager
def session_scope(*, write: bool = True) -> Iterator[Session]:
    """A transaction on the process-wide database."""
    with get_database().session(write=write) as session:
        yield session


__all__ = [
    "Database",
    "NullPool",
    "UTCDateTime",
    "get_database",
    "make_engine",
    "normalize_url",
    "session_scope",
    "set_database",
    "translate_db_error",
    "utcnow",
]
