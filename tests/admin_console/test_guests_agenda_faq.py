"""Guests (with photo upload), the agenda and the FAQ of an assistant."""

from __future__ import annotations

from datetime import datetime, time
from functools import partial
from pathlib import Path

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from admin_console.context import Changed
from admin_console.mainwindow import MainWindow
from admin_console.views.agenda import AgendaView
from admin_console.views.faq import FaqView
from admin_console.views.guests import GuestsView, prepare_photo
from shared.db import Database
from shared.services import agenda, faq, guests
from shared.services.common import Actor, venue_today
from shared.settings import get_settings
from tests.admin_console.conftest import FakeDialogs, settle, write_png
from tests.factories import make_chatbot


def open_view(qtbot: QtBot, window: MainWindow, cls: type) -> object:
    index = next(i for i, v in enumerate(window.views) if isinstance(v, cls))
    window.show_view(index)
    settle(qtbot, window.ctx)
    return window.views[index]


def test_prepare_photo_scales_and_reencodes(tmp_path: Path, qapp) -> None:
    big = write_png(tmp_path / "big.png", 2000, 1000)
    data = prepare_photo(str(big))
    image = QImage.fromData(data)
    assert (image.width(), image.height()) == (512, 256)
    assert data.startswith(b"\xff\xd8\xff")  # opaque: JPEG
    small = write_png(tmp_path / "small.png", 100, 80)
    assert QImage.fromData(prepare_photo(str(small))).width() == 100
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"this is not an image at all")
    import pytest

    from shared.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        prepare_photo(str(fake))
    assert info.value.field == "photo"


def test_guest_with_photo(
    qtbot: QtBot,
    signed_in: MainWindow,
    sqlite_db: Database,
    admin: Actor,
    dialogs: FakeDialogs,
    tmp_path: Path,
    qtmodeltester,
) -> None:
    bot = make_chatbot(sqlite_db, "Summit")
    signed_in.ctx.announce(Changed.CHATBOTS)
    view = open_view(qtbot, signed_in, GuestsView)
    assert isinstance(view, GuestsView)
    settle(qtbot, signed_in.ctx)
    assert view.picker.current_id() == bot
    view.new_item()
    new = view.dialog
    assert new is not None
    dialog = new
    dialog.name.setText("Dr. Ada Lovelace")
    dialog.title_edit.setText("Keynote speaker")
    dialog.email.setText("not an email")
    dialog.moderator.setChecked(True)
    dialogs.image_path = str(write_png(tmp_path / "ada.png", 1600, 1200))
    dialog.choose_photo()
    qtbot.waitUntil(lambda: dialog.new_photo is not None)
    assert not dialog.photo_label.pixmap().isNull()
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.saving)
    assert "not a valid email" in dialog.errors.message("email")
    dialog.email.setText("ada@example.org")
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    settle(qtbot, signed_in.ctx)
    assert view.model.rowCount() == 1
    guest = view.model.record(0)
    assert guest is not None
    assert (guest.name, guest.is_speaker, guest.is_moderator, guest.has_photo) == (
        "Dr. Ada Lovelace", True, True, True
    )
    with sqlite_db.read() as s:
        photo = guests.photo(s, admin, guest.id)
    assert photo is not None
    image = QImage.fromData(photo.data)
    assert max(image.width(), image.height()) == 512
    assert photo.mime == "image/jpeg"
    qtmodeltester.check(view.model)

    # A file that is not an image is refused next to the photo.
    view.table.selectRow(0)
    view.edit_selected()
    again = view.dialog
    assert again is not None
    dialog = again
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"GIF89a not really")
    dialogs.image_path = str(bad)
    dialog.choose_photo()
    qtbot.waitUntil(lambda: dialog.choose_button.isEnabled())
    assert dialog.errors.message("photo")
    dialog.remove_photo()
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    settle(qtbot, signed_in.ctx)
    with sqlite_db.read() as s:
        assert guests.photo(s, admin, guest.id) is None

    # Delete, after a confirmation.
    view.table.selectRow(0)
    view.delete_selected()
    settle(qtbot, signed_in.ctx)
    assert "Dr. Ada Lovelace" in dialogs.confirms[-1][0]
    assert view.model.rowCount() == 0


def test_agenda_session_in_venue_time_with_speakers(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, admin: Actor, qtmodeltester
) -> None:
    bot = make_chatbot(sqlite_db, "Summit")
    with sqlite_db.session() as s:
        ada = guests.create(s, admin, bot, name="Ada Lovelace")
        guests.create(s, admin, bot, name="Alan Turing")
    signed_in.ctx.announce(Changed.CHATBOTS)
    view = open_view(qtbot, signed_in, AgendaView)
    assert isinstance(view, AgendaView)
    settle(qtbot, signed_in.ctx)
    view.new_item()
    qtbot.waitUntil(lambda: view.dialog is not None and view.dialog.isVisible())
    dialog = view.dialog
    assert dialog is not None
    assert dialog.speakers.count() == 2
    today = venue_today()
    dialog.title_edit.setText("Opening keynote")
    dialog.starts.setDateTime(QDateTime(QDate(today.year, today.month, today.day), QTime(9, 30)))
    assert dialog.ends.dateTime().time() == QTime(10, 30)  # keeps the length
    dialog.location.setText("Main Hall")
    for row in range(dialog.speakers.count()):
        item = dialog.speakers.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == ada.id:
            item.setCheckState(Qt.CheckState.Checked)
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    settle(qtbot, signed_in.ctx)
    with sqlite_db.read() as s:
        items = agenda.list_items(s, admin, bot)
    assert len(items) == 1
    zone = get_settings().timezone()
    assert items[0].starts_at == datetime.combine(today, time(9, 30), zone)
    assert items[0].speaker_ids == (ada.id,)
    assert view.model.rowCount() == 1
    assert "09:30" in view.model.index(0, 0).data()
    qtmodeltester.check(view.model)

    # A session outside the event is refused next to the times.
    view.table.selectRow(0)
    view.edit_selected()
    qtbot.waitUntil(lambda: view.dialog is not dialog and view.dialog is not None)
    edit = view.dialog
    assert edit is not None
    edit.starts.setDateTime(QDateTime(QDate(2001, 1, 1), QTime(9, 0)))
    edit.accept()
    qtbot.waitUntil(lambda: not edit.saving)
    assert edit.errors.message("starts_at")
    edit.reject()


def test_faq_entries(
    qtbot: QtBot,
    signed_in: MainWindow,
    sqlite_db: Database,
    admin: Actor,
    dialogs: FakeDialogs,
    qtmodeltester,
) -> None:
    bot = make_chatbot(sqlite_db, "Summit")
    signed_in.ctx.announce(Changed.CHATBOTS)
    view = open_view(qtbot, signed_in, FaqView)
    assert isinstance(view, FaqView)
    settle(qtbot, signed_in.ctx)
    for question, answer in (("Wi-Fi?", "Summit-Guest"), ("Parking?", "Lot C.")):
        view.new_item()
        dialog = view.dialog
        assert dialog is not None
        dialog.question.setText(question)
        dialog.answer.setPlainText(answer)
        dialog.accept()
        qtbot.waitUntil(partial(lambda d: not d.isVisible(), dialog))
        settle(qtbot, signed_in.ctx)
    assert [e.question for e in view.model.records] == ["Wi-Fi?", "Parking?"]
    qtmodeltester.check(view.model)
    view.table.selectRow(1)
    view.move_selected(-1)
    settle(qtbot, signed_in.ctx)
    with sqlite_db.read() as s:
        assert [e.question for e in faq.list_entries(s, admin, bot)] == ["Parking?", "Wi-Fi?"]
    view.new_item()
    empty = view.dialog
    assert empty is not None
    empty.accept()
    qtbot.waitUntil(lambda: not empty.saving)
    assert empty.errors.message("question") == "Question is required."
    empty.reject()
    view.table.selectRow(0)
    view.delete_selected()
    settle(qtbot, signed_in.ctx)
    assert "Parking?" in dialogs.confirms[-1][1]
    assert [e.question for e in view.model.records] == ["Wi-Fi?"]
