"""The refresh loop, the on-screen keyboard, the models, the screenshots and the smoke run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kiosk.models import ChatbotListModel, TranscriptModel, Turn
from kiosk.outbox import Outbox, OutboxEntry
from shared.db import Database
from shared.services import chatbots
from tests.factories import make_admin, make_chatbot
from tests.kiosk.conftest import KioskFactory, click

ROOT = Path(__file__).resolve().parents[2]


def test_new_and_changed_assistants_appear_within_the_interval(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    admin = make_admin(sqlite_db)
    first = make_chatbot(sqlite_db, "First guide")
    kiosk = make_kiosk(sqlite_db, refresh_seconds=1)
    kiosk.go("start")
    kiosk.go("chooser")
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
    card = kiosk.chooser.cards[first]
    second = make_chatbot(sqlite_db, "Second guide")
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 2, timeout=3_000)
    assert second in kiosk.chooser.cards
    with sqlite_db.session() as s:
        chatbots.update_chatbot(s, admin, first, name="Renamed guide")
    qtbot.waitUntil(lambda: card.title.text() == "Renamed guide", timeout=3_000)
    assert kiosk.chooser.cards[first] is card  # updated in place
    with sqlite_db.session() as s:
        chatbots.update_chatbot(s, admin, second, active=False)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1, timeout=3_000)


def test_fallback_keyboard_types_into_the_focused_field(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    kiosk = make_kiosk(sqlite_db, virtual_keyboard=True)
    kiosk.go("signin")
    kiosk.signin.login.edit.setFocus()
    qtbot.waitUntil(kiosk.keyboard.isVisible)
    panel = kiosk.keyboard.panel
    assert panel is not None
    assert not kiosk.keyboard.uses_qt_virtual_keyboard
    keys = {k.text(): k for k in panel.findChildren(type(kiosk.finish_button)) if k.text()}
    for ch in "ada":
        click(qtbot, keys[ch])
    assert kiosk.signin.login.text() == "ada"
    assert all(b.height() >= 60 for b in keys.values())
    kiosk.go("attract")
    assert not kiosk.keyboard.isVisible()


def test_keyboard_setting_off_shows_no_keyboard(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    kiosk = make_kiosk(sqlite_db, virtual_keyboard=False)
    kiosk.go("signin")
    kiosk.signin.login.edit.setFocus()
    qtbot.wait(50)
    assert not kiosk.keyboard.isVisible()


def _non_blank(path: Path) -> bool:
    image = QImage(str(path))
    if image.isNull() or image.width() < 100:
        return False
    colors = {
        image.pixel(x, y)
        for x in range(0, image.width(), max(1, image.width() // 40))
        for y in range(0, image.height(), max(1, image.height() // 40))
    }
    return len(colors) > 3


@pytest.mark.no_qt_log  # the QML keyboard's render thread logs; pytest-qt's handler deadlocks it
@pytest.mark.slow
def test_qt_virtual_keyboard_renders_inside_the_window(
    qtbot: QtBot,
    sqlite_db: Database,
    make_kiosk: KioskFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("QT_IM_MODULE", "qtvirtualkeyboard")
    kiosk = make_kiosk(sqlite_db, virtual_keyboard=True)
    kiosk.go("chat")
    kiosk.chat.input.setFocus()
    qtbot.waitUntil(kiosk.keyboard.isVisible)
    assert kiosk.keyboard.uses_qt_virtual_keyboard
    qtbot.wait(300)
    shot = tmp_path / "keyboard.png"
    kiosk.keyboard.grab().save(str(shot))
    assert kiosk.keyboard.height() > 150
    assert _non_blank(shot)


@pytest.mark.no_qt_log
@pytest.mark.slow
def test_screenshots_script_renders_every_screen(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.screenshots import render_all

    monkeypatch.setenv("QT_IM_MODULE", os.environ.get("QT_IM_MODULE", ""))
    files = render_all(tmp_path / "shots", sizes=((1280, 800), (800, 1280)), data_dir=tmp_path)
    names = {f.name for f in files}
    for screen in (
        "attract",
        "start",
        "signin-error",
        "register-error",
        "chooser",
        "chat",
        "idle",
        "pin",
        "admin",
        "profile",
        "connecting",
    ):
        for theme in ("light", "dark"):
            assert f"{screen}-{theme}-1280x800.png" in names
            assert f"{screen}-{theme}-800x1280.png" in names
    assert all(_non_blank(f) for f in files)


def test_transcript_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = TranscriptModel(max_rows=5)
    for i in range(3):
        model.append(Turn(f"k{i}", f"text {i}", is_user=i % 2 == 0, message_id=i + 1))
    qtmodeltester.check(model)
    for i in range(3, 9):
        model.append(Turn(f"k{i}", f"text {i}", message_id=i + 1))
    assert model.rowCount() == 5
    assert model.has_more
    assert model.before_id == 5
    model.append_text("k8", " more")
    k8 = model.turn("k8")
    assert k8 is not None
    assert k8.text == "text 8 more"
    model.prepend([Turn("old", "older")])
    assert model.turns()[0].key == "old"
    qtmodeltester.check(model)
    model.clear()
    assert model.rowCount() == 0
    assert not model.has_more


def test_chatbot_model_updates_in_place(qtmodeltester: ModelTester, sqlite_db: Database) -> None:
    ids = [make_chatbot(sqlite_db, f"Guide {i}") for i in range(3)]
    with sqlite_db.read() as s:
        bots = chatbots.list_for_attendees(s, None)
    model = ChatbotListModel()
    model.set_chatbots(bots)
    qtmodeltester.check(model)
    model.set_chatbots([bots[2], bots[0]])
    assert [b.id for b in model.chatbots()] == [ids[2], ids[0]]
    model.set_chatbots(bots)
    assert [b.id for b in model.chatbots()] == ids
    qtmodeltester.check(model)


def test_outbox_keeps_pending_messages_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    for n in range(3):
        box.add(OutboxEntry(f"c{n}", 1, f"message {n}", None, None, "visit"))
    box.mark_delivered("c1")
    with path.open("a") as fh:
        fh.write('{"client_id": "torn')  # a power cut mid-write
    again = Outbox(path)
    assert [e.client_id for e in again.pending()] == ["c0", "c2"]
    again.mark_delivered("c0")
    again.mark_delivered("c2")
    assert len(again) == 0
    assert not path.exists()
    assert len(Outbox(path)) == 0


def test_smoke_run_exits_zero_with_a_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "smoke.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONVERGEAI_KIOSK_VIRTUAL_KEYBOARD="0")
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "--smoke", "--demo", "--screenshot", str(shot)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _non_blank(shot)


def test_start_tiles_are_big_enough(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_chatbot(sqlite_db, multiple_mode=True)
    kiosk = make_kiosk(sqlite_db)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
    click(qtbot, kiosk.attract.start_button)
    for tile in (kiosk.start_screen.ask_tile, kiosk.start_screen.sign_in_tile):
        assert tile.height() >= 60
        assert tile.width() >= 60
    for b in (kiosk.back_button, kiosk.finish_button, kiosk.text_button):
        assert b.height() >= 60
    click(qtbot, kiosk.text_button)
    assert kiosk.large_text


def _png(color: str) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor

    image = QImage(48, 48, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs want bytes
    return bytes(data.data())


def test_guest_photos_load_in_the_background_and_are_cached(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    from shared.services import guests

    admin = make_admin(sqlite_db)
    bot = make_chatbot(sqlite_db, multiple_mode=True)
    with sqlite_db.session() as s:
        guest = guests.create(s, admin, bot, name="Amara Okafor", title="Chief Scientist")
        guests.set_photo(s, admin, guest.id, _png("#336699"))
    kiosk = make_kiosk(sqlite_db)
    kiosk.go("start")
    kiosk.go("chooser")
    qtbot.waitUntil(lambda: bot in kiosk.chooser.cards and bool(kiosk.chooser.cards[bot].avatars))
    avatar = kiosk.chooser.cards[bot].avatars[guest.id]
    qtbot.waitUntil(lambda: avatar._pixmap is not None, timeout=5_000)
    kiosk.just_ask()
    qtbot.waitUntil(lambda: kiosk.current() == "chat")
    strip = kiosk.chat.guests_scroll.widget()
    assert strip is not None
    chips = strip.findChildren(type(avatar))
    assert len(chips) == 1
    assert chips[0]._pixmap is not None  # straight from the cache, no second fetch
    assert "Chief Scientist" in [
        lab.text() for lab in kiosk.chat.guests_scroll.findChildren(type(kiosk.chat.title))
    ]


def test_suggested_questions_with_an_ampersand_show_and_send_it(qtbot: QtBot) -> None:
    """Chip text comes from the event's data: an & is shown (not taken as a Qt shortcut
    marker, which would hide it and underline the next letter) and sent as it is."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    from kiosk.screens import ChatScreen

    screen = ChatScreen(TranscriptModel())
    qtbot.addWidget(screen)
    screen.set_suggestions(["Which sessions are about AI & Data?"])
    chip = next(b for b in screen.findChildren(QPushButton) if "Data" in b.text())
    assert chip.text() == "Which sessions are about AI && Data?"  # Qt shows "AI & Data"
    with qtbot.waitSignal(screen.send) as sent:
        qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert sent.args == ["Which sessions are about AI & Data?"]
