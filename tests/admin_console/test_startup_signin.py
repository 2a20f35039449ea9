"""Opening the database, the first organizer, sign-in, remember me, sign-out."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from admin_console.context import Context, qsettings
from admin_console.mainwindow import MainWindow
from admin_console.signin import NOT_ORGANIZER, TOKEN_KEY, remembered_token
from shared.db import Database, make_engine
from shared.errors import AuthenticationFailed
from shared.models import Role
from shared.services import auth
from tests.admin_console.conftest import FakeDialogs, settle
from tests.factories import PASSWORD, make_admin, make_user


def start(qtbot: QtBot, window: MainWindow) -> None:
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is not window.startup
                    or window.startup.retry_button.isVisible())


def test_fresh_database_asks_for_the_first_organizer(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database
) -> None:
    start(qtbot, window)
    assert window.pages.currentWidget() is window.first_admin
    page = window.first_admin
    page.name.setText("Olivia Organizer")
    page.username.setText("olivia")
    page.email.setText("olivia@example.org")
    page.password.setText("a long organizer secret")
    page.password2.setText("a different secret")
    page.submit()
    assert page.errors.message("password2") == "The passwords differ."
    page.password2.setText("a long organizer secret")
    page.password.setText("short")
    page.password2.setText("short")
    page.submit()
    qtbot.waitUntil(lambda: bool(page.errors.message("password")))
    assert "at least 8" in page.errors.message("password")
    page.password.setText("a long organizer secret")
    page.password2.setText("a long organizer secret")
    page.submit()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.sign_in)
    assert window.sign_in.login.text() == "olivia"
    with sqlite_db.read() as s:
        assert auth.has_admin(s)


def test_empty_sqlite_file_gets_its_schema(qtbot: QtBot, tmp_path: Path, dialogs: FakeDialogs):
    db = Database(make_engine(f"sqlite:///{tmp_path / 'new.db'}"))
    ctx = Context(db)
    ctx.dialogs = dialogs
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    try:
        start(qtbot, window)
        assert window.pages.currentWidget() is window.first_admin
        with db.read() as s:
            assert s.execute(text("SELECT count(*) FROM users")).scalar() == 0
    finally:
        ctx.shutdown()
        window.close()
        db.dispose()


def test_a_foreign_database_gets_a_clear_message_and_retry(
    qtbot: QtBot, tmp_path: Path, dialogs: FakeDialogs
) -> None:
    path = tmp_path / "other.db"
    db = Database(make_engine(f"sqlite:///{path}"))
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    ctx = Context(db)
    ctx.dialogs = dialogs
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    try:
        start(qtbot, window)
        assert window.pages.currentWidget() is window.startup
        assert "did not create" in window.startup.message.text()
        assert window.startup.retry_button.isVisible()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE invoices"))
        window.startup.retry_button.click()
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.first_admin)
    finally:
        ctx.shutdown()
        window.close()
        db.dispose()


def sign_in(qtbot: QtBot, window: MainWindow, login: str, password: str, remember: bool = False):
    page = window.sign_in
    page.login.setText(login)
    page.password.setText(password)
    page.remember.setChecked(remember)
    page.submit()
    qtbot.waitUntil(lambda: page.submit_button.isEnabled())


def test_wrong_password_and_attendees_are_refused(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database
) -> None:
    make_admin(sqlite_db)
    make_user(sqlite_db, "ana")
    start(qtbot, window)
    assert window.pages.currentWidget() is window.sign_in
    sign_in(qtbot, window, "organizer", "not the password")
    assert window.sign_in.error.text() == auth.WRONG_CREDENTIALS
    assert window.pages.currentWidget() is window.sign_in
    assert window.sign_in.password.text() == ""
    sign_in(qtbot, window, "ana", PASSWORD)
    assert window.sign_in.error.text() == NOT_ORGANIZER
    assert window.pages.currentWidget() is window.sign_in
    assert ctx.user is None
    sign_in(qtbot, window, "organizer", PASSWORD)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.console)
    assert ctx.user is not None
    assert ctx.user.role is Role.ADMIN
    assert remembered_token() is None  # not asked to remember
    settle(qtbot, ctx)


def test_remember_me_reuses_the_token_until_it_is_revoked(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database, dialogs: FakeDialogs
) -> None:
    make_admin(sqlite_db)
    start(qtbot, window)
    sign_in(qtbot, window, "organizer", PASSWORD, remember=True)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.console)
    token = remembered_token()
    assert token
    assert token == ctx.token
    settle(qtbot, ctx)

    # A second start on this computer goes straight in.
    ctx2 = Context(sqlite_db)
    ctx2.dialogs = dialogs
    second = MainWindow(ctx2)
    qtbot.addWidget(second)
    try:
        start(qtbot, second)
        assert second.pages.currentWidget() is second.console
        assert ctx2.user is not None
        assert ctx2.user.username == "organizer"
        settle(qtbot, ctx2)
        # Signing out revokes the token on the server and forgets it here.
        second.sign_out()
        settle(qtbot, ctx2)
        assert second.pages.currentWidget() is second.sign_in
        assert remembered_token() is None
        with sqlite_db.session() as s, pytest.raises(AuthenticationFailed):
            auth.verify_token(s, token)
    finally:
        ctx2.shutdown()
        second.close()


def test_a_revoked_remembered_token_leads_to_sign_in(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database
) -> None:
    admin = make_admin(sqlite_db)
    result = auth.sign_in(sqlite_db, "organizer", PASSWORD, remember=True)
    settings = qsettings()
    settings.setValue(TOKEN_KEY, result.token)
    settings.sync()
    with sqlite_db.session() as s:
        auth.revoke_sessions(s, admin, admin.user_id)
    start(qtbot, window)
    assert window.pages.currentWidget() is window.sign_in
    assert "session has ended" in window.sign_in.error.text()
    assert remembered_token() is None


def test_a_demoted_organizers_token_is_refused(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database
) -> None:
    make_admin(sqlite_db)
    user = make_user(sqlite_db, "former", role=Role.ADMIN)
    result = auth.sign_in(sqlite_db, "former", PASSWORD, remember=True)
    settings = qsettings()
    settings.setValue(TOKEN_KEY, result.token)
    settings.sync()
    with sqlite_db.session() as s:
        s.execute(text("UPDATE users SET role = 'attendee' WHERE id = :id"), {"id": user.user_id})
    start(qtbot, window)
    assert window.pages.currentWidget() is window.sign_in
    assert window.sign_in.error.text() == NOT_ORGANIZER


def test_an_organizer_with_a_reset_password_chooses_a_new_one(
    qtbot: QtBot, window: MainWindow, ctx: Context, sqlite_db: Database
) -> None:
    boss = make_admin(sqlite_db)
    make_user(sqlite_db, "second", role=Role.ADMIN)
    from shared.services.users import UserQuery, list_users

    with sqlite_db.read() as s:
        second = next(u for u in list_users(s, boss, UserQuery()).items if u.username == "second")
    temporary = auth.reset_password(sqlite_db, boss, second.id)
    start(qtbot, window)
    sign_in(qtbot, window, "second", temporary)
    page = window.sign_in
    assert page.changing
    assert page.new_password.isVisible()
    assert "reset by another organizer" in page.error.text()
    page.new_password.setText("short")
    page.new_password2.setText("short")
    page.submit()
    qtbot.waitUntil(lambda: page.submit_button.isEnabled())
    assert "at least 8" in page.error.text()
    assert page.changing
    page.new_password.setText("my own new secret 42")
    page.new_password2.setText("my own new secret 42")
    page.submit()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.console)
    assert ctx.user is not None
    assert ctx.user.username == "second"
    assert not page.changing
    settle(qtbot, ctx)
    auth.sign_in(sqlite_db, "second", "my own new secret 42")  # the new password works


def test_an_unreachable_server_gets_a_clear_message(
    qtbot: QtBot, dialogs: FakeDialogs
) -> None:
    db = Database(make_engine("postgresql://nobody:secret@127.0.0.1:1/convergeai"))
    ctx = Context(db)
    ctx.dialogs = dialogs
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    try:
        start(qtbot, window)
        assert window.pages.currentWidget() is window.startup
        text = window.startup.message.text()
        assert "Cannot reach the database" in text
        assert "secret" not in text  # the password is never shown
        assert window.startup.retry_button.isVisible()
        assert not dialogs.errors
    finally:
        ctx.shutdown()
        window.close()
        db.dispose()


def test_secret_dialog_copies_the_password(qtbot: QtBot) -> None:
    from PySide6.QtGui import QGuiApplication

    from admin_console.context import SecretDialog

    dialog = SecretDialog(None, "Temporary password", "For ana:", "abcd-efgh-jkmn-pqrs")
    qtbot.addWidget(dialog)
    assert dialog.field.isReadOnly()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "abcd-efgh-jkmn-pqrs"
    assert dialog.copy_button.text() == "Copied"
