"""Schema migrations: upgrade, report, and check that a database matches this version.

The Alembic scripts live inside the package (``shared/migrations``) and are found relative to this
file, so they work from a source checkout, an installed wheel and a frozen bundle alike.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from shared.db import Database, translate_db_error
from shared.errors import SchemaMismatch

log = logging.getLogger("convergeai.db")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our scripts, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of ConvergeAI knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


class SchemaState(enum.Enum):
    """How a database's schema compares with this version of ConvergeAI."""

    EMPTY = "empty"
    CURRENT = "current"
    OLDER = "older"
    NEWER = "newer"
    UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class SchemaReport:
    """What ``db current`` says."""

    state: SchemaState
    current: str | None
    head: str
    database: str

    def message(self) -> str:
        where = self.database
        if self.state is SchemaState.CURRENT:
            return f"The database at {where} is up to date (revision {self.current})."
        if self.state is SchemaState.EMPTY:
            return (
                f"The database at {where} has no ConvergeAI tables yet. "
                "Run `convergeai db upgrade` to create them."
            )
        if self.state is SchemaState.OLDER:
            return (
                f"The database at {where} has an older schema (revision {self.current}; this "
                f"version needs {self.head}). Run `convergeai db upgrade` (back it up first)."
            )
        if self.state is SchemaState.NEWER:
            return (
                f"The database at {where} was upgraded by a newer version of ConvergeAI "
                f"(revision {self.current}, unknown here). Install that version on this machine."
            )
        return (
            f"The database at {where} holds tables that ConvergeAI did not create. "
            "Use an empty database."
        )


def _state(connection: Connection) -> tuple[SchemaState, str | None]:
    current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current is None:
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        return (SchemaState.UNMANAGED if tables else SchemaState.EMPTY), None
    if current == head:
        return SchemaState.CURRENT, current
    if current in known_revisions():
        return SchemaState.OLDER, current
    return SchemaState.NEWER, current


def report(db: Database) -> SchemaReport:
    """Compare the database with this version's schema."""
    try:
        with db.engine.connect() as connection:
            state, current = _state(connection)
    except DBAPIError as exc:
        raise translate_db_error(exc, db.describe()) from exc
    return SchemaReport(state, current, head_revision(), db.describe())


def check_schema(db: Database) -> SchemaReport:
    """Raise SchemaMismatch with a clear message unless the schema is exactly current."""
    result = report(db)
    if result.state is not SchemaState.CURRENT:
        raise SchemaMismatch(result.message())
    return result


def upgrade(db: Database, revision: str = "head") -> SchemaReport:
    """Migrate the database to ``revision`` (the newest by default)."""
    before = report(db)
    if before.state is SchemaState.NEWER:
        raise SchemaMismatch(before.message())
    if before.state is SchemaState.UNMANAGED:
        raise SchemaMismatch(before.message())
    try:
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    except DBAPIError as exc:
        raise translate_db_error(exc, db.describe()) from exc
    after = report(db)
    log.info("database %s upgraded from %s to %s", db.describe(), before.current, after.current)
    return after


def ensure_schema(db: Database, *, create_if_empty: bool) -> SchemaReport:
    """For the apps: create an empty database's schema if allowed, else insist it is current."""
    result = report(db)
    if result.state is SchemaState.EMPTY and create_if_empty:
        return upgrade(db)
    if result.state is not SchemaState.CURRENT:
        raise SchemaMismatch(result.message())
    return result
