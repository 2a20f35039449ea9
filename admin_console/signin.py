"""The screens before the console: opening the database, creating the first organizer on a fresh
database, and signing in (organizers only) with "remember me"."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Context, protect_settings_file, qsettings
from admin_console.widgets import FormErrors, muted
from shared.db import Database
from shared.errors import AuthenticationFailed, KnownError, PasswordChangeRequired, ValidationError
from shared.models import Role
from shared.services import auth
from shared.services.common import UserInfo

TOKEN_KEY = "session/token"
NOT_ORGANIZER = (
    "This account is an attendee account. The admin console is for organizers only; "
    "attendees use the kiosks."
)


def device_name() -> str:
    return f"admin-console:{socket.gethostname()}"[:64]


@dataclass(frozen=True)
class Startup:
    """What the console found when it opened the database."""

    has_admin: bool
    user: UserInfo | None
    token: str | None
    note: str = ""


def open_database(
    db: Database | None, token: str | None, *, demo: bool = False
) -> tuple[Database, Startup]:
    """Open (and on a fresh SQLite file, create) the database; check a remembered sign-in.
    ``demo`` adds the demo conference (idempotent) first."""
    if db is None:
        db = Database.from_settings()
    from shared.migrate import (
        ensure_schema,
    )  # alembic: ~0.3 s to import, not on the first frame's path

    ensure_schema(db, create_if_empty=db.backend == "sqlite")
    if demo:
        from shared.demo import load_demo

        load_demo(db)
    with db.session() as s:
        has_admin = auth.has_admin(s)
        if not token:
            return db, Startup(has_admin, None, None)
        try:
            user = auth.verify_token(s, token)
        except AuthenticationFailed as exc:
            return db, Startup(has_admin, None, None, str(exc))
        if user.role is not Role.ADMIN:
            auth.sign_out(s, token)
            return db, Startup(has_admin, None, None, NOT_ORGANIZER)
        return db, Startup(has_admin, user, token)


def remembered_token() -> str | None:
    value = qsettings().value(TOKEN_KEY, "")
    return str(value) if value else None


def remember_token(token: str | None) -> None:
    settings = qsettings()
    if token:
        settings.setValue(TOKEN_KEY, token)
    else:
        settings.remove(TOKEN_KEY)
    settings.sync()
    protect_settings_file()


class Card(QFrame):
    """A centred card on the plain window background."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("authCard")
        self.setFixedWidth(460)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(32, 28, 32, 28)
        self.body.setSpacing(12)
        brand = QLabel("ConvergeAI")
        brand.setObjectName("brand")
        self.body.addWidget(brand)
        heading = QLabel(title)
        heading.setObjectName("viewTitle")
        heading.setWordWrap(True)
        self.body.addWidget(heading)
        if subtitle:
            self.body.addWidget(muted(subtitle))


def centred(card: QWidget) -> QWidget:
    page = QWidget()
    outer = QVBoxLayout(page)
    outer.addStretch(1)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(card)
    row.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    return page


class StartupPage(QWidget):
    """Opening the database; its clear message and Retry when that fails."""

    retry = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        card = Card(self.tr("Opening the database…"), "")
        self.heading = card.findChild(QLabel, "viewTitle")
        self.message = muted("")
        self.message.setObjectName("startupMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        card.body.addWidget(self.message)
        self.retry_button = QPushButton(self.tr("Retry"))
        self.retry_button.setObjectName("primary")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()
        card.body.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addWidget(centred(card))

    def busy(self) -> None:
        if self.heading is not None:
            self.heading.setText(self.tr("Opening the database…"))
        self.message.setText("")
        self.retry_button.hide()

    def failed(self, text: str) -> None:
        if self.heading is not None:
            self.heading.setText(self.tr("The database cannot be used"))
        self.message.setText(text)
        self.retry_button.show()


class FirstAdminPage(QWidget):
    """A fresh database has no organizer yet: create the first one."""

    created = Signal(object)  # UserInfo

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        card = Card(
            self.tr("Create the first organizer account"),
            self.tr(
                "This database has no organizer yet. The account you create here can sign in "
                "to this console and add other organizers later."
            ),
        )
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        general = QLabel()
        self.errors = FormErrors(form, general)
        self.name = QLineEdit()
        self.username = QLineEdit()
        self.email = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = QLineEdit()
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        self.errors.add("name", self.name, self.tr("Full name"))
        self.errors.add("username", self.username, self.tr("Username"))
        self.errors.add("email", self.email, self.tr("Email"))
        self.errors.add("password", self.password, self.tr("Password"))
        self.errors.add("password2", self.password2, self.tr("Repeat password"))
        card.body.addLayout(form)
        card.body.addWidget(general)
        self.submit_button = QPushButton(self.tr("Create account"))
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self.submit)
        self.password2.returnPressed.connect(self.submit)
        card.body.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(centred(card))

    def submit(self) -> None:
        self.errors.clear()
        if self.password.text() != self.password2.text():
            self.errors.show(ValidationError(self.tr("The passwords differ."), "password2"))
            return
        db = self.ctx.database
        values = {
            "username": self.username.text(),
            "email": self.email.text(),
            "name": self.name.text(),
            "password": self.password.text(),
        }
        self.submit_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.submit_button.setEnabled(True)
            if isinstance(exc, KnownError):
                self.errors.show(exc)
            else:
                self.ctx.report_error(exc, self)

        def done(user: UserInfo) -> None:
            self.submit_button.setEnabled(True)
            self.password.clear()
            self.password2.clear()
            self.created.emit(user)

        self.ctx.run(
            lambda: auth.create_first_admin(db, **values), done, owner=self, on_error=failed
        )


class SignInPage(QWidget):
    """Organizers sign in by username or email; attendees are told this is not for them. After
    another organizer reset the password, the temporary one is replaced here before going on."""

    signed_in = Signal(object, bool)  # SignInResult, remember

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.changing = False
        card = Card(
            self.tr("Sign in"),
            self.tr("The admin console is for event organizers."),
        )
        self.heading = card.findChild(QLabel, "viewTitle")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.login = QLineEdit()
        self.login.setPlaceholderText(self.tr("username or email"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Username"), self.login)
        form.addRow(self.tr("Password"), self.password)
        self.new_password = QLineEdit()
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_password2 = QLineEdit()
        self.new_password2.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_label = QLabel(self.tr("New password"))
        self.new_label2 = QLabel(self.tr("Repeat"))
        form.addRow(self.new_label, self.new_password)
        form.addRow(self.new_label2, self.new_password2)
        card.body.addLayout(form)
        self.remember = QCheckBox(self.tr("Remember me on this computer"))
        card.body.addWidget(self.remember)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        card.body.addWidget(self.error)
        self.submit_button = QPushButton(self.tr("Sign in"))
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self.new_password2.returnPressed.connect(self.submit)
        self.login.returnPressed.connect(self.password.setFocus)
        card.body.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(centred(card))
        self.set_changing(False)

    def set_changing(self, changing: bool) -> None:
        """Show (or hide) the fields to replace a temporary password."""
        self.changing = changing
        for widget in (self.new_label, self.new_label2, self.new_password, self.new_password2):
            widget.setVisible(changing)
        self.login.setReadOnly(changing)
        if self.heading is not None:
            self.heading.setText(
                self.tr("Choose a new password") if changing else self.tr("Sign in")
            )
        self.submit_button.setText(
            self.tr("Set password and sign in") if changing else self.tr("Sign in")
        )
        if not changing:
            self.new_password.clear()
            self.new_password2.clear()

    def show_message(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def submit(self) -> None:
        self.show_message("")
        db = self.ctx.database
        login, password = self.login.text(), self.password.text()
        remember, changing = self.remember.isChecked(), self.changing
        new = self.new_password.text()
        if changing and new != self.new_password2.text():
            self.show_message(self.tr("The new passwords differ."))
            return
        self.submit_button.setEnabled(False)
        label = self.submit_button.text()
        self.submit_button.setText(self.tr("Signing in…"))

        def work() -> auth.SignInResult:
            if changing:
                result = auth.complete_password_reset(
                    db, login, password, new, device=device_name(), remember=remember
                )
            else:
                result = auth.sign_in(db, login, password, device=device_name(), remember=remember)
            if result.user.role is not Role.ADMIN:
                with db.session() as s:
                    auth.sign_out(s, result.token)
                raise AuthenticationFailed(NOT_ORGANIZER)
            return result

        def finish() -> None:
            self.submit_button.setEnabled(True)
            self.submit_button.setText(label)

        def failed(exc: BaseException) -> None:
            finish()
            if isinstance(exc, PasswordChangeRequired):
                # Keep the temporary password: it is needed once more, with the new one.
                self.set_changing(True)
                self.show_message(
                    self.tr(
                        "Your password was reset by another organizer. Choose a new one "
                        "(at least 8 characters) to go on."
                    )
                )
                self.new_password.setFocus()
                return
            if isinstance(exc, ValidationError) and changing:
                self.show_message(str(exc))
                return
            self.password.clear()
            if changing:
                self.set_changing(False)
            if isinstance(exc, KnownError):
                self.show_message(str(exc))
            else:
                self.ctx.report_error(exc, self)

        def done(result: auth.SignInResult) -> None:
            finish()
            self.password.clear()
            self.set_changing(False)
            self.signed_in.emit(result, remember)

        self.ctx.run(work, done, owner=self, on_error=failed)
