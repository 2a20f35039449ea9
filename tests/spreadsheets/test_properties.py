"""Random cells never crash the importer and never get a row past validation."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shared.db import Database
from shared.errors import ValidationError
from shared.models import User
from shared.spreadsheets import apply, plan, read_table
from shared.spreadsheets.importer import ImportRequest
from shared.spreadsheets.mapping import ColumnMapping
from shared.spreadsheets.reader import Table
from shared.spreadsheets.validate import _text
from shared.validation import clean_email, clean_name, clean_username
from tests.factories import make_admin

cells = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(org|com)", fullmatch=True),
    st.sampled_from(["=1+1", " ", "\x00", "a@b", "Ada Lovelace", "x" * 200, "é@x.org"]),
    st.integers(),
    st.floats(allow_nan=True),
    st.dates(),
)
rows = st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=12)
MAPPING = ColumnMapping("attendees", {"name": 0, "email": 1, "username": 2})


def _table(data: list[tuple[object, object, object]]) -> Table:
    from shared.spreadsheets.reader import cell_value

    return Table(
        ("Name", "Email", "Username"),
        [tuple(cell_value(v) for v in row) for row in data],
        list(range(2, 2 + len(data))),
        1,
        ("A", "B", "C"),
    )


def _valid(row: tuple[object, ...]) -> bool:
    """The services' own checks, on the cells as text (a date in a text column is ISO text)."""
    name, email, username = (_text(c) for c in row)  # type: ignore[arg-type]
    try:
        clean_name(name)
        clean_email(email)
        if username is not None:
            clean_username(username)
    except ValidationError:
        return False
    return True


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows)
def test_random_cells_never_crash_nor_slip_through(
    sqlite_db: Database, data: list[tuple[object, ...]]
) -> None:
    with sqlite_db.session() as s:
        s.query(User).filter(User.role == "attendee").delete()
    with sqlite_db.read() as s:
        admin_id = s.scalar(select(User.id).where(User.role == "admin"))
    from shared.models import Role
    from shared.services.common import Actor

    admin = Actor(admin_id, Role.ADMIN) if admin_id else make_admin(sqlite_db)
    table = _table(data)  # type: ignore[arg-type]
    with sqlite_db.read() as s:
        dry = plan(s, admin, "attendees", table, MAPPING)
    result = apply(sqlite_db, admin, ImportRequest("attendees", table, MAPPING))
    assert result.rows == dry.rows == len(table.rows)
    assert result.created + result.updated + result.skipped + result.rejected == result.rows
    accepted = (
        {o.index for o in result.plan.outcomes if o.action != "reject"} if result.plan else set()
    )
    for index in accepted:
        assert _valid(table.rows[index])
    with sqlite_db.read() as s:
        stored = list(
            s.execute(select(User.name, User.email, User.username).where(User.role == "attendee"))
        )
    assert len(stored) == result.created
    for name, email, username in stored:
        assert clean_name(name) == name
        assert clean_email(email) == email
        assert clean_username(username) == username


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_random_csv_text_never_crashes_the_reader(tmp_path: Path, text: str) -> None:
    from shared.spreadsheets.reader import UnusableFile

    path = tmp_path / "random.csv"
    path.write_text(text, encoding="utf-8", errors="replace")
    try:
        table = read_table(path)
    except UnusableFile:
        return
    assert all(len(r) == len(table.headers) for r in table.rows)
