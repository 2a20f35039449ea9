"""Lock-down: no way out but the hidden gesture and the admin PIN; the admin panel."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from pytestqt.qtbot import QtBot

from kiosk.window import KioskWindow
from shared.db import Database
from shared.services import kiosk_admin
from shared.settings import Settings, use_settings
from tests.factories import make_chatbot
from tests.kiosk.conftest import FlakyDatabase, KioskFactory, click

PIN = "246810"


def _enter(qtbot: QtBot, kiosk: KioskWindow, pin: str) -> None:
    pad = kiosk.pin_pad
    for digit in pin:
        click(qtbot, pad.keys[digit])
    click(qtbot, pad.ok_button)


def _corner_taps(qtbot: QtBot, kiosk: KioskWindow, n: int = 5) -> None:
    for _ in range(n):
        qtbot.mouseClick(kiosk, Qt.MouseButton.LeftButton, pos=QPoint(12, 12))


def test_close_escape_and_alt_f4_do_nothing(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_chatbot(sqlite_db)
    kiosk = make_kiosk(sqlite_db, windowed=False)
    assert kiosk.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert kiosk.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert kiosk.close() is False
    assert kiosk.isVisible()
    escape = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    alt_f4 = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert kiosk.lockdown.eventFilter(kiosk, escape) is True
    assert kiosk.lockdown.eventFilter(kiosk, alt_f4) is True
    qtbot.keyClick(kiosk, Qt.Key.Key_Escape)
    qtbot.keyClick(kiosk, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert kiosk.isVisible()


def test_windowed_mode_closes_normally(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    kiosk = make_kiosk(sqlite_db, windowed=True)
    escape = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    assert kiosk.lockdown.eventFilter(kiosk, escape) is False
    assert kiosk.close() is True


def test_corner_gesture_pin_pad_and_admin_panel(
    qtbot: QtBot,
    sqlite_db: Database,
    make_kiosk: KioskFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONVERGEAI_AUTH_MAX_FAILURES", "2")
    use_settings(Settings.load())
    kiosk_admin.set_kiosk_pin(sqlite_db, None, PIN)
    first = make_chatbot(sqlite_db, "First guide")
    make_chatbot(sqlite_db, "Second guide")
    kiosk = make_kiosk(sqlite_db, windowed=False)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 2)

    _corner_taps(qtbot, kiosk, 4)
    assert not kiosk.pin_pad.isVisible()  # four taps are not enough
    qtbot.mouseClick(kiosk, Qt.MouseButton.LeftButton, pos=QPoint(600, 400))
    _corner_taps(qtbot, kiosk, 5)
    assert kiosk.pin_pad.isVisible()

    _enter(qtbot, kiosk, "135799")
    qtbot.waitUntil(lambda: kiosk.pin_pad.message.text() == "Wrong PIN.")
    assert kiosk.pin_pad.pin == ""
    _enter(qtbot, kiosk, "135799")
    qtbot.waitUntil(lambda: not kiosk.pin_pad.busy)
    _enter(qtbot, kiosk, PIN)
    qtbot.waitUntil(lambda: "Too many failed attempts" in kiosk.pin_pad.message.text())
    assert not kiosk.admin.isVisible()

    # After the wait, the right PIN opens the panel.
    with sqlite_db.session() as s:
        from shared.services.auth import clear_failures

        clear_failures(s, [f"pin:{kiosk.kiosk_name}"])
    with qtbot.waitSignal(kiosk.admin_opened, timeout=10_000):
        _enter(qtbot, kiosk, PIN)
    assert not kiosk.pin_pad.isVisible()
    qtbot.waitUntil(lambda: len(kiosk.admin.checks) == 2)
    kiosk.admin.name.setText("Booth 7")
    kiosk.admin.checks[first].setChecked(True)
    click(qtbot, kiosk.admin.dark)
    click(qtbot, kiosk.admin.save_button)
    state = json.loads(kiosk.state_path.read_text())
    assert state["name"] == "Booth 7"
    assert state["chatbots"] == [first]
    assert state["theme"] == "dark"
    assert kiosk.theme == "dark"
    assert kiosk.kiosk_name == "Booth 7"
    qtbot.waitUntil(lambda: [b.id for b in kiosk.chatbots.chatbots()] == [first])

    with qtbot.waitSignal(kiosk.exit_requested):
        click(qtbot, kiosk.admin.exit_button)
    assert not kiosk.isVisible()


def test_pin_works_from_the_cached_hash_while_the_database_is_away(
    qtbot: QtBot, flaky_db: FlakyDatabase, make_kiosk: KioskFactory
) -> None:
    kiosk_admin.set_kiosk_pin(flaky_db, None, PIN)
    kiosk = make_kiosk(flaky_db, windowed=False)
    qtbot.waitUntil(lambda: kiosk.state.pin_hash is not None)
    flaky_db.down = True
    kiosk.open_pin_pad()
    _enter(qtbot, kiosk, "135799")
    qtbot.waitUntil(lambda: kiosk.pin_pad.message.text() == "Wrong PIN.")
    with qtbot.waitSignal(kiosk.admin_opened, timeout=10_000):
        _enter(qtbot, kiosk, PIN)
