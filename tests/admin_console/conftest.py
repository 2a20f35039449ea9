"""Fixtures for the console's GUI tests: a context on an SQLite database, dialogs that answer
without blocking, a main window, a signed-in organizer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from admin_console.context import Context, Dialogs
from admin_console.mainwindow import MainWindow
from admin_console.theme import apply_admin_theme
from shared.db import Database
from shared.services import auth
from shared.services.common import Actor
from tests.factories import PASSWORD, make_admin


@dataclass
class FakeDialogs(Dialogs):
    """Answers every modal question at once and records it."""

    confirm_answer: bool = True
    confirms: list[tuple[str, str]] = field(default_factory=list)
    image_path: str | None = None
    save_path: str | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    secrets: list[tuple[str, str]] = field(default_factory=list)

    def confirm(
        self, parent: QWidget | None, title: str, text: str, *, action: str = "Delete"
    ) -> bool:
        self.confirms.append((title, text))
        return self.confirm_answer

    def open_image(self, parent: QWidget | None) -> str | None:
        return self.image_path

    def save_file(
        self, parent: QWidget | None, title: str, suggested: str, filters: str
    ) -> str | None:
        return self.save_path

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        self.errors.append((title, text))

    def show_secret(self, parent: QWidget | None, title: str, text: str, secret: str) -> None:
        self.secrets.append((text, secret))


def settle(qtbot: QtBot, ctx: Context, timeout: int = 10_000) -> None:
    """Wait until no background work (nor the work it started) is left."""
    qtbot.waitUntil(lambda: ctx.runner.active == 0, timeout=timeout)


@pytest.fixture
def dialogs() -> FakeDialogs:
    return FakeDialogs()


@pytest.fixture
def ctx(qapp: QApplication, sqlite_db: Database, dialogs: FakeDialogs) -> Iterator[Context]:
    context = Context(sqlite_db)
    context.dialogs = dialogs
    apply_admin_theme(qapp, "light")
    yield context
    context.shutdown()


@pytest.fixture
def window(qtbot: QtBot, ctx: Context) -> Iterator[MainWindow]:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    yield win
    ctx.runner.cancel_all()
    ctx.runner.wait(5000)
    win.close()


@pytest.fixture
def admin(sqlite_db: Database) -> Actor:
    return make_admin(sqlite_db)


@pytest.fixture
def signed_in(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database, admin: Actor
) -> MainWindow:
    """The window, shown, with the organizer signed in and the first view loaded."""
    result = auth.sign_in(sqlite_db, "organizer", PASSWORD)
    window.show()
    window._opened((sqlite_db, auth_startup(result)))
    settle(qtbot, ctx)
    return window


def auth_startup(result: auth.SignInResult) -> Any:
    from admin_console.signin import Startup

    return Startup(True, result.user, result.token)


def write_png(path: Path, width: int = 1200, height: int = 800) -> Path:
    """A real PNG made with QImage."""
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    assert image.save(str(path))  # the format follows the .png suffix
    return path
