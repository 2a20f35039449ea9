"""What every view shares: the database, the background runner, the signed-in organizer, the
"data changed" bus and the modal dialogs (one replaceable object, so tests never block)."""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
import shiboken6
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from shared.db import Database
from shared.errors import KnownError
from shared.services.common import Actor, UserInfo
from shared.settings import APP_SLUG
from shared.ui.tasks import Task, TaskRunner

log = logging.getLogger("convergeai.admin")

T = TypeVar("T")


class Changed(enum.Flag):
    """What a write changed; views decide themselves whether to reload (STYLE rule 6)."""

    NONE = 0
    CHATBOTS = enum.auto()
    GUESTS = enum.auto()
    AGENDA = enum.auto()
    FAQ = enum.auto()
    USERS = enum.auto()
    MESSAGES = enum.auto()
    SETTINGS = enum.auto()
    ALL = CHATBOTS | GUESTS | AGENDA | FAQ | USERS | MESSAGES | SETTINGS


class Bus(QObject):
    """The app-wide "data changed" signal. ``changed`` carries the :class:`Changed` value."""

    changed = Signal(int)

    def announce(self, what: Changed) -> None:
        self.changed.emit(what.value)


def settings_file() -> Path:
    """The console's own preferences (window layout, remembered sign-in), per user."""
    return Path(platformdirs.user_config_dir(APP_SLUG, appauthor=False)) / "admin-console.ini"


def qsettings() -> QSettings:
    """A QSettings on :func:`settings_file` (an explicit path: isolated per test, per user)."""
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def protect_settings_file() -> None:
    """The file holds a sign-in token: readable by its owner only."""
    path = settings_file()
    if path.exists() and os.name == "posix":
        path.chmod(0o600)


class Dialogs:
    """Every modal question the console asks. Tests replace these methods (STYLE rule 14)."""

    def confirm(
        self, parent: QWidget | None, title: str, text: str, *, action: str = "Delete"
    ) -> bool:
        """Ask before a destructive action; the safe choice is the default."""
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(title)
        box.setInformativeText(text)
        ok = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is ok

    def open_image(self, parent: QWidget | None) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            parent,
            parent.tr("Choose a photo") if parent else "Choose a photo",
            str(Path.home()),
            "Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif)",
        )
        return path or None

    def open_file(self, parent: QWidget | None, title: str, filters: str) -> str | None:
        """Choose an existing file to read (a spreadsheet to import)."""
        path, _ = QFileDialog.getOpenFileName(parent, title, str(Path.home()), filters)
        return path or None

    def open_folder(self, parent: QWidget | None, title: str) -> str | None:
        """Choose an existing folder (the guests' photos)."""
        path = QFileDialog.getExistingDirectory(parent, title, str(Path.home()))
        return path or None

    def save_file(
        self, parent: QWidget | None, title: str, suggested: str, filters: str
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            parent, title, str(Path.home() / suggested), filters
        )
        return path or None

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def show_secret(self, parent: QWidget | None, title: str, text: str, secret: str) -> None:
        """Show a secret once (a temporary password), with a copy button."""
        SecretDialog(parent, title, text, secret).exec()


class SecretDialog(QDialog):
    """A one-time secret: shown here once, never stored by the console."""

    def __init__(self, parent: QWidget | None, title: str, text: str, secret: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("secretDialog")
        layout = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        row = QHBoxLayout()
        self.field = QLineEdit(secret)
        self.field.setReadOnly(True)
        self.field.setObjectName("secretField")
        row.addWidget(self.field, 1)
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        note = QLabel(self.tr("This is the only time it is shown."))
        note.setProperty("role", "muted")
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(440, 180)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.field.text())
        self.copy_button.setText(self.tr("Copied"))


class Context(QObject):
    """The signed-in session of the console and its services."""

    signed_in = Signal()
    signed_out = Signal()
    #: (message, kind) for the toasts: kind is "info", "success" or "error".
    notify = Signal(str, str)
    #: The colour theme changed ("light" or "dark"); charts restyle themselves.
    theme_changed = Signal(str)

    def __init__(self, db: Database | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db: Database | None = db
        self.runner = TaskRunner(self)
        self.bus = Bus(self)
        self.dialogs = Dialogs()
        self.user: UserInfo | None = None
        self.token: str | None = None
        self.theme = "light"

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise KnownError("Please sign in first.")
        return self.user.actor

    @property
    def database(self) -> Database:
        if self.db is None:
            raise KnownError("The database is not open yet.")
        return self.db

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        *,
        owner: QObject | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        error_parent: QWidget | None = None,
    ) -> Task[T]:
        """Run ``fn`` off the GUI thread; callbacks run on it, and only while ``owner`` lives.
        Errors go to ``on_error``, or else :meth:`report_error`."""

        def alive() -> bool:
            return owner is None or shiboken6.isValid(owner)

        def done(result: T) -> None:
            if alive() and on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            if not alive():
                return
            if on_error is not None:
                on_error(exc)
            else:
                self.report_error(exc, error_parent)

        return self.runner.run(fn, on_done=done, on_error=failed)

    def report_error(self, exc: BaseException, parent: QWidget | None = None) -> None:
        """A known error becomes a clear message; anything else is a bug: logged, shown calmly."""
        if isinstance(exc, KnownError):
            self.notify.emit(str(exc), "error")
            return
        log.error("unexpected error", exc_info=exc)
        self.dialogs.error(
            parent,
            "Something went wrong",
            "The console hit an unexpected problem and did not finish this action. "
            f"Details were written to the log file.\n\n{type(exc).__name__}: {exc}",
        )

    def announce(self, what: Changed, message: str | None = None) -> None:
        """A write finished: tell the views, and the organizer."""
        self.bus.announce(what)
        if message:
            self.notify.emit(message, "success")

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.wait(5000)


def call_with(db: Database, fn: Callable[..., T], *args: Any, write: bool = False,
              **kwargs: Any) -> T:
    """Run a service function in its own transaction (``fn(s, *args, **kwargs)``)."""
    with db.session(write=write) as s:
        return fn(s, *args, **kwargs)
