"""Portable atomic SQL: counters that never lose an update, on every backend."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def upsert_add(
    s: Session,
    model: type[Any],
    keys: dict[str, Any],
    increments: dict[str, int],
    assign: dict[str, Any] | None = None,
) -> None:
    """INSERT a ``model`` row, or on a key clash add ``increments`` to it in SQL (n = n + k).

    ``assign`` columns are set to the given value in both cases.
    """
    table = cast(Table, model.__table__)
    assign = assign or {}
    values = {**keys, **increments, **assign}
    dialect = s.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        ins = mysql_insert(table).values(**values)
        updates: dict[str, Any] = {col: table.c[col] + ins.inserted[col] for col in increments}
        updates.update({col: ins.inserted[col] for col in assign})
        s.execute(ins.on_duplicate_key_update(**updates))
        return
    ins_any: Any = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    updates = {col: table.c[col] + ins_any.excluded[col] for col in increments}
    updates.update({col: ins_any.excluded[col] for col in assign})
    s.execute(ins_any.on_conflict_do_update(index_elements=list(keys), set_=updates))
