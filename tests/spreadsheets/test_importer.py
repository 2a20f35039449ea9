"""Importing on every backend: counts, problems, duplicates, all-or-none, enrolment, badges."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select

from shared.db import Database
from shared.errors import PermissionDenied
from shared.models import AgendaItem, Chatbot, ChatbotParticipant, FaqEntry, Guest, User
from shared.services import agenda as agenda_service
from shared.services.auth import sign_in_with_badge
from shared.services.common import venue_today
from shared.spreadsheets import (
    Cancelled,
    apply,
    header_score,
    plan,
    read_table,
    suggest_mapping,
    write_credentials,
    write_report,
)
from shared.spreadsheets import importer as importer_module
from shared.spreadsheets.importer import (
    ImportRequest,
    badge_hasher,
    new_badge_codes,
    username_base,
)
from shared.spreadsheets.reader import Table
from tests.factories import make_admin, make_chatbot, make_user
from tests.spreadsheets.corpus import MESSY_ROWS, write_csv, write_xlsx

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _table(kind: str, path: Path) -> Table:
    return read_table(path, header_score=header_score(kind))


def _request(kind: str, table: Table, chatbot_id: int | None, **kw: object) -> ImportRequest:
    return ImportRequest(kind, table, suggest_mapping(kind, table.headers), chatbot_id, **kw)  # type: ignore[arg-type]


def _participants(db: Database, bot: int) -> tuple[int, int]:
    with db.read() as s:
        counter = s.scalar(select(Chatbot.participant_count).where(Chatbot.id == bot))
        real = s.scalar(
            select(func.count())
            .select_from(ChatbotParticipant)
            .where(ChatbotParticipant.chatbot_id == bot)
        )
    return int(counter or 0), int(real or 0)


def test_messy_attendee_list_dry_run_then_import(db: Database, tmp_path: Path) -> None:
    admin = make_admin(db)
    bot = make_chatbot(db)
    existing = make_user(db, "alan", email="alan@example.org", name="A. Turing")
    table = _table("attendees", write_xlsx(tmp_path / "list.xlsx", MESSY_ROWS, merge="A1:F1"))
    mapping = suggest_mapping("attendees", table.headers)

    with db.read() as s:
        dry = plan(s, admin, "attendees", table, mapping, chatbot_id=bot)

    assert (dry.rows, dry.created, dry.updated, dry.skipped, dry.rejected) == (6, 2, 1, 0, 3)
    assert [(p.row, p.column, p.header) for p in dry.problems] == [
        (7, "B", "E-mail Address"),
        (8, "B", "E-mail Address"),
        (9, "A", "Full name"),
    ]
    assert "'not-an-email' is not a valid email address." in dry.problems[0].message
    assert "Same email as row 4" in dry.problems[1].message
    assert "Name is required" in dry.problems[2].message
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2  # nothing written

    result = apply(db, admin, dry)

    assert (result.created, result.updated, result.rejected, result.enrolled) == (2, 1, 3, 3)
    with db.read() as s:
        users = {
            u.email: (u.id, u.name, u.username, u.password_hash) for u in s.scalars(select(User))
        }
    assert users["ada@example.org"][1:] == ("Ada Lovelace", "ada.lovelace", None)
    assert users["zoe@example.org"][1:] == ("Zoë O'Brien", "zoe.obrien", None)
    assert users["alan@example.org"][:2] == (existing.user_id, "Alan Turing")  # updated
    assert "not-an-email" not in users
    assert "noname@example.org" not in users
    assert _participants(db, bot) == (3, 3)
    # Each new attendee signs in at a kiosk with the badge code from the credentials.
    assert {c.email for c in result.credentials} == {"ada@example.org", "zoe@example.org"}
    for cred in result.credentials:
        signed = sign_in_with_badge(db, cred.badge_code.lower().replace("-", " "), device="k1")
        assert signed.user.email == cred.email


def test_blank_cells_keep_existing_values_and_skip_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    admin = make_admin(db)
    bot = make_chatbot(db)
    make_user(db, "ann", email="ann@example.org", name="Ann Old")
    make_user(db, "bob", email="bob@example.org", name="Bob Old")
    path = write_csv(
        tmp_path / "u.csv",
        [
            ["Email", "Name", "Username"],
            ["ann@example.org", "", ""],
            ["bob@example.org", "Bob New", "bobby"],
        ],
    )
    table = _table("attendees", path)

    apply(db, admin, _request("attendees", table, bot, on_duplicate="skip"))
    with db.read() as s:
        names = {e: n for e, n in s.execute(select(User.email, User.name))}
    assert names["bob@example.org"] == "Bob Old"
    assert _participants(db, bot) == (2, 2)  # skipped accounts are still enrolled

    result = apply(db, admin, _request("attendees", table, bot, on_duplicate="update"))
    assert (result.updated, result.created) == (2, 0)
    with db.read() as s:
        rows = {e: (n, u) for e, n, u in s.execute(select(User.email, User.name, User.username))}
    assert rows["ann@example.org"] == ("Ann Old", "ann")  # blank cells kept the values
    assert rows["bob@example.org"] == ("Bob New", "bobby")
    assert _participants(db, bot) == (2, 2)  # enrolled once only


def test_organizer_accounts_and_taken_usernames_are_rejected(db: Database, tmp_path: Path) -> None:
    admin = make_admin(db)
    make_user(db, "taken", email="taken@example.org")
    path = write_csv(
        tmp_path / "u.csv",
        [
            ["Name", "Email", "Username"],
            ["Boss", "organizer@example.org", ""],
            ["New One", "new@example.org", "taken"],
            ["Other", "other@example.org", "TAKEN"],
        ],
    )
    with db.read() as s:
        dry = plan(
            s,
            admin,
            "attendees",
            _table("attendees", path),
            suggest_mapping("attendees", ("Name", "Email", "Username")),
        )
    assert dry.rejected == 3
    assert "organizer's account" in dry.problems[0].message
    assert "taken" in dry.problems[1].message


def test_generated_usernames_are_unique(db: Database, tmp_path: Path) -> None:
    admin = make_admin(db)
    make_user(db, "john.smith", email="js0@example.org")
    rows = [["Name", "Email"]] + [["John Smith", f"js{i}@example.org"] for i in range(1, 4)]
    rows.append(["李 雷", "li.lei@example.org"])
    result = apply(
        db,
        admin,
        _request("attendees", _table("attendees", write_csv(tmp_path / "u.csv", rows)), None),
    )
    assert result.created == 4
    assert sorted(c.username for c in result.credentials) == [
        "john.smith2",
        "john.smith3",
        "john.smith4",
        "li.lei",
    ]
    assert username_base("Ø", "x@y.org") == "attendee"


def test_all_or_none_when_writing_fails(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_admin(db)
    bot = make_chatbot(db)
    path = write_csv(
        tmp_path / "u.csv",
        [["Name", "Email"], ["A B", "ab@example.org"], ["C D", "cd@example.org"]],
    )

    def boom(*args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer_module, "_enrol", boom)
    with pytest.raises(RuntimeError):
        apply(db, admin, _request("attendees", _table("attendees", path), bot))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
    assert _participants(db, bot) == (0, 0)


def test_cancel_rolls_everything_back(db: Database, tmp_path: Path) -> None:
    admin = make_admin(db)
    rows = [["Name", "Email"]] + [[f"P {i}", f"p{i}@example.org"] for i in range(10)]
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        cancel.set()

    monkeypatch_chunk = importer_module.CHUNK
    importer_module.CHUNK = 3
    try:
        with pytest.raises(Cancelled):
            apply(
                db,
                admin,
                _request(
                    "attendees", _table("attendees", write_csv(tmp_path / "u.csv", rows)), None
                ),
                progress=progress,
                cancel=cancel,
            )
    finally:
        importer_module.CHUNK = monkeypatch_chunk
    assert seen == [(3, 10)]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_only_organizers_import(db: Database, tmp_path: Path) -> None:
    attendee = make_user(db)
    path = write_csv(tmp_path / "u.csv", [["Name", "Email"], ["A B", "ab@example.org"]])
    table = _table("attendees", path)
    with db.read() as s, pytest.raises(PermissionDenied):
        plan(s, attendee, "attendees", table, suggest_mapping("attendees", table.headers))
    with pytest.raises(PermissionDenied):
        apply(db, attendee, _request("attendees", table, None))


def test_guests_agenda_and_faq(db: Database, tmp_path: Path) -> None:
    admin = make_admin(db)
    bot = make_chatbot(db)
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "Grace.PNG").write_bytes(PNG)
    (photos / "fake.jpg").write_bytes(b"not an image")
    guests = write_xlsx(
        tmp_path / "g.xlsx",
        [
            ["Speakers"],
            [],
            ["First name", "Last name", "Job title", "Company", "Bio", "Role", "Photo"],
            ["Grace", "Hopper", "Admiral", "Navy", "Compilers.", "speaker", "grace.png"],
            ["Alan", "Kay", "Fellow", "PARC", "", "moderator", ""],
            ["Bad", "Photo", "", "", "", "speaker", "fake.jpg"],
            ["No", "File", "", "", "", "both", "missing.png"],
        ],
    )
    table = _table("guests", guests)
    result = apply(db, admin, _request("guests", table, bot, photos_dir=photos))
    assert (result.created, result.rejected) == (2, 2)
    assert [p.row for p in result.problems] == [6, 7]
    assert "not a PNG, JPEG or WebP" in result.problems[0].message
    with db.read() as s:
        found = {
            g.name: (g.photo_mime, g.is_speaker, g.is_moderator, g.organization)
            for g in s.scalars(select(Guest))
        }
    assert found["Grace Hopper"] == ("image/png", True, False, "Navy")
    assert found["Alan Kay"] == (None, False, True, "PARC")

    day = venue_today()
    start = datetime.combine(day, datetime.min.time()).replace(hour=9)
    agenda = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["Session", "Date", "Start", "End", "Room", "Speakers"],
            [
                "Keynote",
                day,
                start.time(),
                (start + timedelta(hours=1)).time(),
                "Hall",
                "grace hopper; Alan Kay",
            ],
            [
                "Talk",
                None,
                start.strftime("%d/%m/%Y %H:%M"),
                (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
                "Room 2",
                "",
            ],
            ["Ghost talk", None, start, start + timedelta(hours=1), "", "Nobody Known"],
            ["Backwards", None, start + timedelta(hours=1), start, "", ""],
            [
                "Far away",
                None,
                start + timedelta(days=30),
                start + timedelta(days=30, hours=1),
                "",
                "",
            ],
        ],
    )
    result = apply(db, admin, _request("agenda", _table("agenda", agenda), bot))
    assert (result.created, result.rejected) == (2, 3)
    messages = [p.message for p in result.problems]
    assert "Not a guest of this event: Nobody Known" in messages[0]
    assert "end cannot be before the start" in messages[1]
    assert "event's days" in messages[2]
    with db.read() as s:
        items = agenda_service.list_for_organizers(s, admin, bot)
    keynote = next(i for i in items if i.title == "Keynote")
    assert keynote.speaker_names == ("Alan Kay", "Grace Hopper")
    assert keynote.location == "Hall"

    faq = write_csv(
        tmp_path / "f.csv",
        [["Q", "A"], ["Wi-Fi?", "Ask the desk."], ["Parking?", "Level -2."], ["wi-fi?", "dup"]],
    )
    table = _table("faq", faq)
    result = apply(db, admin, _request("faq", table, bot))
    assert (result.created, result.rejected) == (2, 1)
    again = write_csv(tmp_path / "f2.csv", [["Question", "Answer"], ["WI-FI?", "Password 1234"]])
    result = apply(db, admin, _request("faq", _table("faq", again), bot))
    assert result.updated == 1
    with db.read() as s:
        answers = {q: a for q, a in s.execute(select(FaqEntry.question, FaqEntry.answer))}
        assert s.scalar(select(func.count()).select_from(AgendaItem)) == 2
    assert answers == {"Wi-Fi?": "Password 1234", "Parking?": "Level -2."}


def test_error_report_and_credentials_workbooks(db: Database, tmp_path: Path) -> None:
    admin = make_admin(db)
    # CSV text starting with "=" (a registration system's export): kept as text, never run.
    path = write_csv(
        tmp_path / "u.csv",
        [
            ["Name", "Email", "Notes"],
            ["Good Person", "good@example.org", "=1+1"],
            ["Bad Person", "bad@", '=HYPERLINK("http://x")'],
            ["", "", "only a note"],
        ],
    )
    table = _table("attendees", path)
    result = apply(db, admin, _request("attendees", table, None))
    assert (result.created, result.rejected) == (1, 2)

    report = tmp_path / "report.xlsx"
    assert write_report(result, report) == 2
    ws = load_workbook(report).active
    assert [c.value for c in ws[1]] == ["Name", "Email", "Notes", "Problems"]
    assert ws["A2"].value == "Bad Person"
    assert ws["B2"].fill.start_color.rgb.endswith("FFC7CE")
    assert "not a valid email" in ws["B2"].comment.text
    assert ws["C2"].value.startswith("'=")  # as it was, but never a live formula
    assert ws["C2"].data_type == "s"
    assert ws["B3"].comment is not None
    assert "required" in ws["B3"].comment.text
    assert "Row 3:" in ws["D2"].value

    creds = tmp_path / "creds.xlsx"
    assert write_credentials(result, creds) == 1
    wb = load_workbook(creds)
    sheet = wb.active
    assert [c.value for c in sheet[1]] == ["Name", "Email", "Username", "Badge code", "QR code"]
    assert sheet["B2"].value == "good@example.org"
    assert sheet["D2"].value == result.credentials[0].badge_code
    import zipfile

    with zipfile.ZipFile(creds) as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
    assert len(media) == 1


def test_badge_codes_have_the_core_format() -> None:
    from shared.services.auth import badge_hash, normalize_badge_code

    codes = new_badge_codes(500)
    assert len(set(codes)) == 500
    for code in codes:
        assert len(code) == 24
        assert code.count("-") == 4
        assert normalize_badge_code(code) == code.replace("-", "")
        assert set(code.replace("-", "")) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    hasher = badge_hasher(b"k3y")
    assert [hasher(c) for c in codes] == [badge_hash(c, b"k3y") for c in codes]


def test_import_into_unknown_event_and_kind(db: Database, tmp_path: Path) -> None:
    from shared.errors import NotFound, ValidationError

    admin = make_admin(db)
    table = _table("faq", write_csv(tmp_path / "f.csv", [["Question", "Answer"], ["a", "b"]]))
    with db.read() as s, pytest.raises(NotFound):
        plan(s, admin, "faq", table, suggest_mapping("faq", table.headers), chatbot_id=999)
    with db.read() as s, pytest.raises(ValidationError, match="Choose the event"):
        plan(s, admin, "faq", table, suggest_mapping("faq", table.headers))
    with db.read() as s, pytest.raises(ValidationError, match="Unknown kind"):
        plan(s, admin, "badges", table, suggest_mapping("faq", table.headers))
