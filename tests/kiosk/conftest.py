"""Fixtures for the kiosk: a window on a test database with a slow, streaming test responder,
short timeouts and its files in the test's folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk.window import KioskWindow
from shared.db import Database
from shared.errors import DatabaseUnavailable
from shared.models import MessageSource
from shared.services.responder import Reply, ReplyRequest


class SlowResponder:
    """Streams its answer word by word with a small delay between words."""

    def __init__(
        self,
        text: str = "The keynote is at nine in the Main Hall on level zero.",
        *,
        delay: float = 0.01,
        source: MessageSource = MessageSource.LLM,
        repeat: int = 1,
    ) -> None:
        self.text = " ".join([text] * repeat)
        self.delay = delay
        self.source = source
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        with self.lock:
            self.calls.append(request.question)
        words = self.text.split(" ")
        sent: list[str] = []
        for i, word in enumerate(words):
            if cancel is not None and cancel.is_set():
                break
            piece = word if i == 0 else " " + word
            sent.append(piece)
            if on_delta is not None:
                on_delta(piece)
            time.sleep(self.delay)
        return Reply("".join(sent) or "…", self.source, answered=True)

    def suggestions(self, chatbot_id: int) -> list[str]:
        return ["Who is speaking?", "Where is lunch?"]


class FlakyDatabase(Database):
    """A database that can be made unreachable (every new session fails while ``down``)."""

    down = False

    def session(self, *, write: bool = True) -> Any:
        if self.down:
            raise DatabaseUnavailable("Cannot reach the database at test: connection refused")
        return super().session(write=write)


@pytest.fixture
def flaky_db(sqlite_db: Database) -> FlakyDatabase:
    return FlakyDatabase(sqlite_db.engine)


@pytest.fixture
def responder() -> SlowResponder:
    return SlowResponder()


KioskFactory = Callable[..., KioskWindow]


@pytest.fixture
def make_kiosk(qtbot: QtBot, tmp_path: Path, responder: SlowResponder) -> Iterator[KioskFactory]:
    windows: list[KioskWindow] = []

    def make(
        db: Database | None = None,
        *,
        factory: Callable[[], Database] | None = None,
        wait_ready: bool = True,
        **kwargs: Any,
    ) -> KioskWindow:
        chosen = kwargs.pop("the_responder", responder)
        options: dict[str, Any] = {
            "windowed": True,
            "idle_timeout": 60,
            "idle_warning": 20,
            "refresh_seconds": 1,
            "retry_seconds": 0.2,
            "state_path": tmp_path / "kiosk-state.json",
            "outbox_path": tmp_path / "outbox.jsonl",
            "virtual_keyboard": False,
            "responder_factory": lambda _db: chosen,
        }
        options.update(kwargs)
        if factory is None:
            assert db is not None
            factory = lambda: db  # noqa: E731
        window = KioskWindow(db_factory=factory, **options)
        windows.append(window)
        window.resize(1280, 800)
        window.show()
        if wait_ready:
            with qtbot.waitSignal(window.ready, timeout=10_000):
                pass
        return window

    yield make
    for window in windows:
        window.shutdown()
        window._allow_close = True
        window.close()
        window.deleteLater()


def click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, text)


def visible_texts(root: QWidget) -> list[str]:
    """Every text a person could read in the window (labels, fields, buttons)."""
    out = []
    for widget in root.findChildren(QWidget):
        if isinstance(widget, (QLabel, QLineEdit, QPushButton)):
            out.append(widget.text())
    return out
