"""Alembic environment: runs on the connection handed over by ``shared.migrate``."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.dialects import mysql

from shared.db import UTCDateTime
from shared.models import Base

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTCDateTime as plain types, so migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return 'sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'
    return False


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # pragma: no cover - shared.migrate always passes one
        raise RuntimeError("run migrations through shared.migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_ = mysql  # re-exported for rendered migrations
run_migrations()
