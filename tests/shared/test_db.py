"""The database layer: migrations equal the models, timestamps round-trip, schema checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from shared.db import Database, make_engine, normalize_url
from shared.errors import ConfigError, DatabaseUnavailable, SchemaMismatch
from shared.migrate import SchemaState, check_schema, ensure_schema, report, upgrade
from shared.models import Base, SessionToken
from tests.factories import make_user


def test_migrations_produce_exactly_the_models_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_schema_is_current_after_upgrade(db: Database) -> None:
    assert report(db).state is SchemaState.CURRENT
    check_schema(db)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_timestamps_round_trip_as_aware_utc(db: Database, value: datetime) -> None:
    actor = make_user(db)
    with db.session() as s:
        s.add(SessionToken(token_hash="x" * 64, user_id=actor.user_id, expires_at=value))
    with db.read() as s:
        stored = s.scalars(select(SessionToken.expires_at)).one()
    assert stored == value
    assert stored.tzinfo is UTC


def test_naive_timestamps_are_refused(db: Database) -> None:
    actor = make_user(db)
    token = SessionToken(
        token_hash="y" * 64, user_id=actor.user_id, expires_at=datetime(2026, 1, 1)
    )
    with db.session() as s:
        s.add(token)
        with pytest.raises(StatementError, match="naive datetime"):
            s.flush()
        s.rollback()


def test_sqlite_pragmas(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_empty_database_is_reported_and_created_when_allowed(tmp_path) -> None:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'fresh.db'}"))
    assert report(database).state is SchemaState.EMPTY
    with pytest.raises(SchemaMismatch, match="convergeai db upgrade"):
        ensure_schema(database, create_if_empty=False)
    assert ensure_schema(database, create_if_empty=True).state is SchemaState.CURRENT


def test_older_schema_gets_a_clear_message(tmp_path) -> None:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'old.db'}"))
    upgrade(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(SchemaMismatch, match="newer version of ConvergeAI"):
        check_schema(database)


def test_unreachable_server_is_a_known_error() -> None:
    database = Database(
        make_engine("postgresql://nobody:secret@127.0.0.1:9/none", connect_timeout=1)
    )
    with pytest.raises(DatabaseUnavailable) as info:
        report(database)
    assert "secret" not in str(info.value)


def test_urls_get_our_drivers() -> None:
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
    mysql = normalize_url("mysql://u@h/d")
    assert mysql.drivername == "mysql+pymysql"
    assert mysql.query["charset"] == "utf8mb4"
    with pytest.raises(ConfigError, match="not valid"):
        normalize_url("not a url")
    with pytest.raises(ConfigError, match="Unsupported"):
        normalize_url("oracle://u@h/d")


def test_idle_pooled_connections_are_checked_and_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection that died while idle is replaced before the caller sees it."""
    if db.backend == "sqlite":
        pytest.skip("SQLite has no server connection to lose")
    import shared.db as dbmod

    with db.read() as s:
        s.execute(text("SELECT 1"))
    # Kill the idle pooled connection from the server side, as a restart would.
    with db.engine.connect() as conn:
        own = conn.execute(
            text(
                "SELECT pg_backend_pid()"
                if db.backend == "postgresql"
                else "SELECT CONNECTION_ID()"
            )
        ).scalar()
    killer = Database(make_engine(db.engine.url))
    with killer.engine.connect() as conn:
        if db.backend == "postgresql":
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": own})
        else:
            conn.execute(text(f"KILL {int(own or 0)}"))
        conn.commit()
    killer.dispose()
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE", 0.0)
    with db.read() as s:
        assert s.execute(text("SELECT 1")).scalar() == 1
