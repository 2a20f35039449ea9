"""The import wizard (file, mapping, preview, import with cancel, summary with the report and
the credentials) and the export dialog, driven page by page with the dialogs replaced."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from admin_console import importwizard
from admin_console.exports import ExportDialog
from admin_console.importwizard import FILE, MAPPING, PREVIEW, SUMMARY, ImportWizard
from admin_console.mainwindow import MainWindow
from admin_console.theme import apply_admin_theme
from admin_console.views.users import UsersView
from shared.db import Database
from shared.models import ChatbotParticipant, Guest, User
from tests.admin_console.conftest import FakeDialogs, settle
from tests.factories import make_chatbot, make_user

HEADERS = ["Full name", "E-mail Address", "Company"]
ROWS = [
    ["Ann Archer", "ann@example.org", "Acme"],  # row 2: new
    ["Bob Baker", "not-an-email", "Acme"],  # row 3: rejected, bad email
    ["Cara Cole", "cara@example.org", ""],  # row 4: new
    ["Ann Again", "ANN@example.org", ""],  # row 5: rejected, duplicate of row 2
    ["Dan Dorn", "dan@example.org", "Initech"],  # row 6: updates the existing account
]


@dataclass
class WizardDialogs(FakeDialogs):
    """The fake dialogs, plus the open-file question the wizard asks."""

    open_path: str | None = None
    folder_path: str | None = None

    def open_file(self, parent: QWidget | None, title: str, filters: str) -> str | None:
        return self.open_path

    def open_folder(self, parent: QWidget | None, title: str) -> str | None:
        return self.folder_path


@pytest.fixture
def dialogs() -> FakeDialogs:
    return WizardDialogs()


@pytest.fixture(autouse=True)
def _close_dialogs(qapp: QApplication) -> Iterator[None]:
    """The wizard and the export dialog are windows of their own: close them after a test."""
    yield
    for widget in qapp.topLevelWidgets():
        if isinstance(widget, ImportWizard | ExportDialog) and widget.isVisible():
            widget.done(0)


def write_attendees(path: Path) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for row in ROWS:
        ws.append(row)
    book.save(path)
    return path


def shot(widget: QWidget, name: str) -> None:
    """Render for a look (IMPORT_WIZARD_SHOTS=DIR); always check that it renders."""
    image = widget.grab()
    assert not image.isNull()
    folder = os.environ.get("IMPORT_WIZARD_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(folder) / f"{name}.png"))


def users_view(qtbot: QtBot, window: MainWindow) -> UsersView:
    index = next(i for i, v in enumerate(window.views) if isinstance(v, UsersView))
    window.show_view(index)
    settle(qtbot, window.ctx)
    view = window.views[index]
    assert isinstance(view, UsersView)
    return view


def open_wizard(qtbot: QtBot, window: MainWindow) -> ImportWizard:
    view = users_view(qtbot, window)
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    wizard = view.findChild(ImportWizard)
    assert wizard is not None
    qtbot.waitUntil(lambda: wizard.chatbot.loaded)
    assert wizard.current() == FILE
    return wizard


def to_preview(qtbot: QtBot, wizard: ImportWizard, dialogs: WizardDialogs, source: Path,
               bot: int, theme: str = "light") -> None:
    assert not wizard.next_button.isEnabled()  # no file yet
    dialogs.open_path = str(source)
    qtbot.mouseClick(wizard.choose_button, Qt.MouseButton.LeftButton)
    assert wizard.path.text() == str(source)
    wizard.kind.setCurrentIndex(wizard.kind.findData("attendees"))
    wizard.chatbot.select(bot)
    shot(wizard, f"{theme}-1-file")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == MAPPING)
    assert wizard.combos["name"].currentData() == 0  # "Full name", suggested
    assert wizard.combos["email"].currentData() == 1  # "E-mail Address", suggested
    assert wizard.combos["username"].currentData() is None
    shot(wizard, f"{theme}-2-mapping")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == PREVIEW)


def user_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_import_attendees_page_by_page(
    qtbot: QtBot, qapp: QApplication, signed_in: MainWindow, sqlite_db: Database,
    dialogs: WizardDialogs, tmp_path: Path, theme: str,
) -> None:
    apply_admin_theme(qapp, theme)
    bot = make_chatbot(sqlite_db)
    make_user(sqlite_db, "dan", email="dan@example.org", name="Dan Old")
    before = user_count(sqlite_db)
    wizard = open_wizard(qtbot, signed_in)
    wizard.resize(760, 560)
    to_preview(qtbot, wizard, dialogs, write_attendees(tmp_path / "people.xlsx"), bot, theme)

    counts = {key: label.text() for key, label in wizard.counts.items()}
    assert counts == {"create": "2", "update": "1", "skip": "0", "reject": "2"}
    problems = [
        tuple(wizard.problems.model().index(r, c).data() for c in range(3))
        for r in range(wizard.problems.rowCount())
    ]
    assert problems == [
        (3, "B · E-mail Address", "'not-an-email' is not a valid email address."),
        (5, "B · E-mail Address", "Same email as row 2: each may appear once in the file."),
    ]
    assert user_count(sqlite_db) == before  # the preview writes nothing
    shot(wizard, f"{theme}-3-preview")

    assert wizard.next_button.text() == "Import"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == SUMMARY, timeout=20_000)
    settle(qtbot, signed_in.ctx)
    assert user_count(sqlite_db) == before + 2
    with sqlite_db.read() as s:
        emails = set(s.scalars(select(User.email)))
        enrolled = s.scalar(
            select(func.count()).select_from(ChatbotParticipant)
            .where(ChatbotParticipant.chatbot_id == bot)
        )
        dan = s.scalars(select(User).where(User.email == "dan@example.org")).one()
        assert dan.name == "Dan Dorn"  # updated
    assert {"ann@example.org", "cara@example.org"} <= emails
    assert "not-an-email" not in emails
    assert enrolled == 3
    assert "New: 2 · Updated: 1 · Skipped: 0 · Rejected: 2" in wizard.summary.text()
    assert wizard.credentials_button.isVisibleTo(wizard)
    assert wizard.report_button.isVisibleTo(wizard)
    assert wizard.close_button.text() == "Close"
    shot(wizard, f"{theme}-5-summary")

    dialogs.save_path = str(tmp_path / "badges.xlsx")
    qtbot.mouseClick(wizard.credentials_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (tmp_path / "badges.xlsx").exists() and wizard.task is None)
    dialogs.save_path = str(tmp_path / "problems")  # the suffix is added
    qtbot.mouseClick(wizard.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (tmp_path / "problems.xlsx").exists() and wizard.task is None)
    assert "problems.xlsx" in wizard.saved_label.text()

    badges = load_workbook(tmp_path / "badges.xlsx").active
    rows = list(badges.iter_rows(values_only=True))
    assert rows[0][:4] == ("Name", "Email", "Username", "Badge code")
    assert sorted(r[1] for r in rows[1:]) == ["ann@example.org", "cara@example.org"]
    assert all(r[3] for r in rows[1:])  # a badge code each
    report = load_workbook(tmp_path / "problems.xlsx").active
    cells = [c for row in report.iter_rows(values_only=True) for c in row if c]
    assert "not-an-email" in cells
    assert "Ann Again" in cells
    assert "Ann Archer" not in cells  # only the rejected rows

    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()


def test_mapping_without_email_is_refused(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: WizardDialogs,
    tmp_path: Path,
) -> None:
    bot = make_chatbot(sqlite_db)
    wizard = open_wizard(qtbot, signed_in)
    dialogs.open_path = str(write_attendees(tmp_path / "people.xlsx"))
    qtbot.mouseClick(wizard.choose_button, Qt.MouseButton.LeftButton)
    wizard.chatbot.select(bot)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == MAPPING)
    wizard.combos["email"].setCurrentIndex(0)  # not imported
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current() == MAPPING
    assert "No column for Email" in wizard.status.text()
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    assert wizard.current() == FILE


def test_unusable_file_says_why(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: WizardDialogs,
    tmp_path: Path,
) -> None:
    bot = make_chatbot(sqlite_db)
    wizard = open_wizard(qtbot, signed_in)
    bogus = tmp_path / "people.xlsx"
    bogus.write_bytes(b"\x89PNG\r\n\x1a\nnot a workbook at all")
    dialogs.open_path = str(bogus)
    qtbot.mouseClick(wizard.choose_button, Qt.MouseButton.LeftButton)
    wizard.chatbot.select(bot)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.busy_label.text() == "Reading people.xlsx…"
    qtbot.waitUntil(lambda: wizard.task is None)
    assert wizard.busy_label.text() == ""
    assert wizard.status.isVisibleTo(wizard)
    assert wizard.current() == FILE
    assert "people.xlsx" in wizard.status.text()
    assert dialogs.errors == []  # a known error, shown calmly on the page


def test_cancel_import_writes_nothing(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: WizardDialogs,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_chatbot(sqlite_db)
    before = user_count(sqlite_db)
    real_apply = importwizard.apply_import
    started = threading.Event()

    def slow_apply(*args: Any, cancel: threading.Event, **kwargs: Any) -> Any:
        started.set()
        assert cancel.wait(10), "the wizard never cancelled"
        return real_apply(*args, cancel=cancel, **kwargs)

    monkeypatch.setattr(importwizard, "apply_import", slow_apply)
    wizard = open_wizard(qtbot, signed_in)
    to_preview(qtbot, wizard, dialogs, write_attendees(tmp_path / "people.xlsx"), bot)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(started.is_set)
    assert wizard.close_button.text() == "Cancel"
    shot(wizard, "light-4-importing")
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert wizard.isVisible()  # Cancel stops the import, it does not close the wizard
    qtbot.waitUntil(lambda: wizard.current() == PREVIEW, timeout=20_000)
    assert "cancelled" in wizard.status.text()
    assert wizard.outcome is None
    assert user_count(sqlite_db) == before
    settle(qtbot, signed_in.ctx)


@pytest.mark.parametrize("kind", ["attendees", "participants"])
def test_export_writes_a_workbook(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: WizardDialogs,
    tmp_path: Path, kind: str,
) -> None:
    bot = make_chatbot(sqlite_db)
    make_user(sqlite_db, "erin", email="erin@example.org", name="=HYPERLINK(\"x\")")
    view = users_view(qtbot, signed_in)
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(ExportDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.chatbot.loaded)
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    dialog.chatbot.select(bot)
    assert dialog.chatbot.isEnabled() is (kind != "attendees")
    shot(dialog, f"light-export-{kind}")
    dialogs.save_path = str(tmp_path / f"{kind}.xlsx")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.written is not None)
    settle(qtbot, signed_in.ctx)
    assert (tmp_path / f"{kind}.xlsx").exists()
    sheet = load_workbook(tmp_path / f"{kind}.xlsx").worksheets[0]
    assert sheet.max_row >= 1
    if kind == "attendees":
        values = [c for row in sheet.iter_rows(values_only=True) for c in row]
        assert "erin@example.org" in values
        assert dialog.written == 1
    assert "written to" in dialog.status.text()


def test_export_cancel_leaves_no_file(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: WizardDialogs,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import admin_console.exports as exports

    real_export = exports.export
    started = threading.Event()

    def slow_export(*args: Any, cancel: threading.Event, **kwargs: Any) -> Any:
        started.set()
        assert cancel.wait(10), "the dialog never cancelled"
        return real_export(*args, cancel=cancel, **kwargs)

    monkeypatch.setattr(exports, "export", slow_export)
    make_user(sqlite_db, "erin")
    dialog = ExportDialog(signed_in.ctx, signed_in)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.chatbot.loaded)
    target = tmp_path / "attendees.xlsx"
    dialogs.save_path = str(target)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(started.is_set)
    assert dialog.close_button.text() == "Cancel"
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is None)
    assert dialog.status.text() == "Export cancelled."
    assert not target.exists()
    assert dialog.export_button.isEnabled()


# A PNG the guests service accepts (its type is sniffed from the first bytes).
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_import_guests_with_a_photos_folder(
    qtbot: QtBot, qapp: QApplication, signed_in: MainWindow, sqlite_db: Database,
    dialogs: WizardDialogs, tmp_path: Path, theme: str,
) -> None:
    apply_admin_theme(qapp, theme)
    bot = make_chatbot(sqlite_db)
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "Grace.PNG").write_bytes(PNG)
    book = Workbook()
    ws = book.active
    ws.append(["Name", "Title", "Role", "Photo"])
    ws.append(["Grace Hopper", "Admiral", "speaker", "grace.png"])
    ws.append(["Alan Turing", "", "moderator", "alan.png"])  # no such file: rejected
    book.save(tmp_path / "guests.xlsx")

    wizard = open_wizard(qtbot, signed_in)
    assert not wizard.photos.isVisibleTo(wizard)  # attendees: no photos
    wizard.kind.setCurrentIndex(wizard.kind.findData("guests"))
    assert wizard.photos.isVisibleTo(wizard)
    dialogs.open_path = str(tmp_path / "guests.xlsx")
    qtbot.mouseClick(wizard.choose_button, Qt.MouseButton.LeftButton)
    dialogs.folder_path = str(photos)
    qtbot.mouseClick(wizard.photos_button, Qt.MouseButton.LeftButton)
    assert wizard.photos.text() == str(photos)
    wizard.chatbot.select(bot)
    shot(wizard, f"{theme}-guests-1-file")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == MAPPING)
    assert wizard.combos["photo"].currentData() == 3
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == PREVIEW)
    counts = {key: label.text() for key, label in wizard.counts.items()}
    assert counts == {"create": "1", "update": "0", "skip": "0", "reject": "1"}
    message = wizard.problems.model().index(0, 2).data()
    assert message == f"No file 'alan.png' in {photos}."
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == SUMMARY, timeout=20_000)
    settle(qtbot, signed_in.ctx)
    with sqlite_db.read() as s:
        grace = s.scalars(select(Guest).where(Guest.chatbot_id == bot)).one()
        assert (grace.name, grace.photo_mime, grace.photo) == ("Grace Hopper", "image/png", PNG)


def test_template_download_for_the_chosen_kind(
    qtbot: QtBot, signed_in: MainWindow, dialogs: WizardDialogs, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, signed_in)
    wizard.kind.setCurrentIndex(wizard.kind.findData("agenda"))
    dialogs.save_path = str(tmp_path / "agenda-template")
    qtbot.mouseClick(wizard.template_button, Qt.MouseButton.LeftButton)
    target = tmp_path / "agenda-template.xlsx"
    qtbot.waitUntil(lambda: target.exists() and wizard.task is None)
    assert "agenda-template.xlsx" in wizard.busy_label.text()
    headers = next(load_workbook(target).active.iter_rows(values_only=True))
    assert headers[:3] == ("Title", "Start", "End")
    assert wizard.current() == FILE


def test_closing_with_unsaved_credentials_asks_first(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: WizardDialogs,
    tmp_path: Path,
) -> None:
    bot = make_chatbot(sqlite_db)
    wizard = open_wizard(qtbot, signed_in)
    to_preview(qtbot, wizard, dialogs, write_attendees(tmp_path / "people.xlsx"), bot)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.current() == SUMMARY, timeout=20_000)
    settle(qtbot, signed_in.ctx)
    assert wizard.unsaved_credentials() == 3  # Ann, Cara and Dan are new here

    dialogs.confirm_answer = False  # "keep the wizard open"
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert wizard.isVisible()
    assert "shown only this once" in dialogs.confirms[-1][1]

    dialogs.save_path = str(tmp_path / "badges.xlsx")
    qtbot.mouseClick(wizard.credentials_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.task is None and wizard.credentials_saved)
    assert wizard.unsaved_credentials() == 0
    asked = len(dialogs.confirms)
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()
    assert len(dialogs.confirms) == asked  # saved: no question
