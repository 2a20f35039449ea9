"""The import/export command line (exit codes, --json) and the exports (types, injection)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select

from shared.cli import main
from shared.db import Database, utcnow
from shared.models import Conversation, Message, User
from shared.services.chatbots import ensure_participant
from shared.spreadsheets import export
from shared.spreadsheets.xlsx import neutralise
from tests.factories import make_admin, make_chatbot, make_user
from tests.spreadsheets.corpus import MESSY_ROWS, write_csv, write_xlsx


def test_import_cli_exit_codes_and_json(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_admin(db)
    make_chatbot(db, "Summit")
    good = write_csv(tmp_path / "good.csv", [["Name", "Email"], ["A B", "ab@example.org"]])
    messy = write_xlsx(tmp_path / "messy.xlsx", MESSY_ROWS)

    assert (
        main(["import", "attendees", str(messy), "--event", "summit", "--dry-run", "--json"]) == 3
    )
    outcome = json.loads(capsys.readouterr().out)
    assert outcome == {
        "kind": "attendees",
        "dry_run": True,
        "rows": 6,
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "rejected": 3,
        "errors": outcome["errors"],
    }
    assert [(e["row"], e["column"]) for e in outcome["errors"]] == [(7, "B"), (8, "B"), (9, "A")]
    assert set(outcome["errors"][0]) >= {"row", "column", "message"}
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1

    report = tmp_path / "report.xlsx"
    creds = tmp_path / "creds.xlsx"
    code = main(
        [
            "import",
            "attendees",
            str(messy),
            "--event",
            "Summit",
            "--report",
            str(report),
            "--credentials",
            str(creds),
        ]
    )
    text = capsys.readouterr().out
    assert code == 3
    assert "6 rows: 3 new, 0 updated, 0 skipped, 3 rejected." in text
    assert "row 7, column B (E-mail Address): 'not-an-email' is not a valid email" in text
    assert load_workbook(report).active.max_row == 4
    assert load_workbook(creds).active.max_row == 4

    assert (
        main(["import", "attendees", str(good), "--event", "Summit", "--credentials", str(creds)])
        == 0
    )
    assert "1 rows: 1 new" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"PK\x03\x04broken", [], "damaged"),
        (b"Contact,Phone\r\nx,1\r\n", [], "No column for Email"),
        (b"Contact,Phone\r\nx,1\r\n", ["--map", "email=Nope"], "No column 'Nope'"),
    ],
)
def test_import_cli_unusable_file_exits_2(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    args: list[str],
    message: str,
) -> None:
    make_admin(db)
    make_chatbot(db, "Summit")
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    assert main(["import", "attendees", str(path), "--event", "Summit", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]


def test_import_cli_explicit_mapping_and_unknown_event(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_admin(db)
    bot = make_chatbot(db, "Summit")
    path = write_csv(tmp_path / "m.csv", [["Contact", "Mail"], ["Eve Ng", "eve@example.org"]])
    assert main(["import", "attendees", str(path), "--event", "Nope"]) == 1
    assert (
        main(
            [
                "import",
                "attendees",
                str(path),
                "--event",
                str(bot),
                "--map",
                "email=Mail",
                "--map",
                "name=Contact",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["created"] == 1


def test_export_cli_and_formula_injection(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = make_admin(db)
    bot = make_chatbot(db, "Summit")
    evil = ['=HYPERLINK("http://evil","x")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"]
    ids = [
        make_user(db, f"evil{i}", name=text, email=f"evil{i}@example.org").user_id
        for i, text in enumerate(evil)
    ]
    with db.session() as s:
        for uid in ids:
            ensure_participant(s, bot, uid)
        conv = Conversation(chatbot_id=bot, user_id=ids[0], mode="single", kiosk_name="k")
        s.add(conv)
        s.flush()
        s.add(
            Message(
                conversation_id=conv.id,
                chatbot_id=bot,
                user_id=ids[0],
                is_user_message=True,
                content="=cmd|' /C calc'!A0",
                source="user",
                created_at=utcnow(),
            )
        )

    out = tmp_path / "attendees.xlsx"
    assert main(["export", "attendees", "--event", "Summit", "-o", str(out)]) == 0
    assert f"{len(evil)} rows written" in capsys.readouterr().out
    ws = load_workbook(out).active
    names = [ws.cell(row=r, column=1) for r in range(2, 2 + len(evil))]
    for cell, text in zip(names, evil, strict=True):
        assert cell.data_type == "s"
        assert cell.value == "'" + text.replace("\r", "\n")  # XML reads CR back as LF
    assert isinstance(ws["G2"].value, datetime)  # dates stay dates
    assert ws["F2"].value == 0
    assert ws["D2"].value is True
    with zipfile.ZipFile(out) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()

    for kind in ("participants", "transcripts", "stats"):
        target = tmp_path / f"{kind}.xlsx"
        n = export(db, admin, kind, target, chatbot_id=bot)
        assert n >= 1
        with zipfile.ZipFile(target) as z:
            xml = "".join(z.read(n).decode() for n in z.namelist() if "worksheets/sheet" in n)
        assert "<f>" not in xml
    wb = load_workbook(tmp_path / "transcripts.xlsx")
    assert wb.active["I2"].value == "'=cmd|' /C calc'!A0"
    assert load_workbook(tmp_path / "participants.xlsx").active.max_row == 1 + len(evil)


def test_neutralise() -> None:
    assert neutralise("=1") == "'=1"
    assert neutralise("plain") == "plain"
    assert neutralise("") == ""
