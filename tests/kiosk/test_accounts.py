"""Signing in, badges, registration and the profile at the kiosk: the messages people see."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from kiosk.window import KioskWindow
from shared.db import Database
from shared.models import Role
from shared.services import auth
from shared.settings import Settings, use_settings
from tests.factories import PASSWORD, make_admin, make_chatbot, make_user
from tests.kiosk.conftest import KioskFactory, click, type_into


def _sign_in(qtbot: QtBot, kiosk: KioskWindow, login: str, password: str) -> None:
    k = kiosk
    type_into(qtbot, k.signin.login.edit, login)
    type_into(qtbot, k.signin.password.edit, password)
    click(qtbot, k.signin.submit)


def test_wrong_password_then_throttled(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVERGEAI_AUTH_MAX_FAILURES", "2")
    use_settings(Settings.load())
    make_user(sqlite_db, "ada")
    make_chatbot(sqlite_db)
    kiosk = make_kiosk(sqlite_db)
    kiosk.go("signin")
    _sign_in(qtbot, kiosk, "ada", "not the password")
    qtbot.waitUntil(lambda: kiosk.signin.message.isVisible())
    assert kiosk.signin.message.text() == "Wrong username or password."
    assert kiosk.signin.password.text() == ""
    assert kiosk.current() == "signin"
    _sign_in(qtbot, kiosk, "ada", "still wrong")
    qtbot.waitUntil(lambda: not kiosk.signin.busy)
    _sign_in(qtbot, kiosk, "ada", PASSWORD)
    qtbot.waitUntil(lambda: "Too many failed attempts" in kiosk.signin.message.text())
    assert kiosk.signed is None


def test_badge_scanner_signs_in_from_the_attract_screen(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    admin = make_admin(sqlite_db)
    user = make_user(sqlite_db, "scanned", name="Scanned Person")
    make_chatbot(sqlite_db)
    make_chatbot(sqlite_db, "Second guide")
    with sqlite_db.session() as s:
        code = auth.issue_badge_codes(s, admin, [user.user_id])[user.user_id]
    kiosk = make_kiosk(sqlite_db)
    assert kiosk.current() == "attract"
    qtbot.keyClicks(kiosk.attract, code)  # a scanner types fast...
    qtbot.keyClick(kiosk.attract, "\r")  # ...and ends with Enter
    qtbot.waitUntil(lambda: kiosk.signed is not None, timeout=10_000)
    assert kiosk.signed is not None
    assert kiosk.signed.user.role is Role.ATTENDEE
    qtbot.waitUntil(lambda: kiosk.current() == "chooser")


def test_wrong_badge_code_message(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_chatbot(sqlite_db)
    kiosk = make_kiosk(sqlite_db)
    kiosk.go("start")
    click(qtbot, kiosk.start_screen.badge_tile)
    assert kiosk.current() == "badge"
    type_into(qtbot, kiosk.badge.code.edit, "AAAA-BBBB-CCCC-DDDD-EEEE")
    qtbot.keyClick(kiosk.badge.code.edit, "\r")
    qtbot.waitUntil(lambda: kiosk.badge.message.isVisible())
    assert kiosk.badge.message.text() == "This badge code is not valid."
    assert kiosk.badge.code.text() == ""


def test_registration_shows_errors_beside_the_field(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_user(sqlite_db, "taken")
    make_chatbot(sqlite_db)
    make_chatbot(sqlite_db, "Second guide")
    kiosk = make_kiosk(sqlite_db)
    kiosk.go("start")
    click(qtbot, kiosk.start_screen.register_tile)
    fields = kiosk.register.fields
    type_into(qtbot, fields["name"].edit, "New Person")
    type_into(qtbot, fields["email"].edit, "not-an-email")
    type_into(qtbot, fields["username"].edit, "newperson")
    type_into(qtbot, fields["password"].edit, "a long enough pass 42")
    click(qtbot, kiosk.register.submit)
    qtbot.waitUntil(lambda: fields["email"].error.isVisible())
    assert "not a valid email address" in fields["email"].error.text()
    assert not fields["username"].error.isVisible()

    type_into(qtbot, fields["email"].edit, "new@example.org")
    type_into(qtbot, fields["username"].edit, "taken")
    click(qtbot, kiosk.register.submit)
    qtbot.waitUntil(lambda: fields["username"].error.isVisible())
    assert "taken" in fields["username"].error.text()
    assert not fields["email"].error.isVisible()

    type_into(qtbot, fields["username"].edit, "newperson")
    click(qtbot, kiosk.register.submit)
    qtbot.waitUntil(lambda: kiosk.signed is not None, timeout=10_000)
    assert kiosk.signed is not None
    assert kiosk.signed.user.username == "newperson"
    assert fields["password"].text() == ""


def test_profile_change_password_and_sign_out(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_user(sqlite_db, "ada", name="Ada Lovelace", email="ada@example.org")
    make_chatbot(sqlite_db)
    make_chatbot(sqlite_db, "Second guide")
    kiosk = make_kiosk(sqlite_db)
    kiosk.go("signin")
    _sign_in(qtbot, kiosk, "ada", PASSWORD)
    qtbot.waitUntil(lambda: kiosk.current() == "chooser", timeout=10_000)
    assert kiosk.profile_button.isVisible()
    click(qtbot, kiosk.profile_button)
    assert kiosk.current() == "profile"
    assert "Ada Lovelace" in kiosk.profile.who.text()
    assert kiosk.profile.email.text() == "ada@example.org"
    type_into(qtbot, kiosk.profile.current.edit, "wrong current")
    type_into(qtbot, kiosk.profile.new.edit, "brand new secret 99")
    click(qtbot, kiosk.profile.change_button)
    qtbot.waitUntil(lambda: kiosk.profile.current.error.isVisible())
    assert "current password is wrong" in kiosk.profile.current.error.text()
    type_into(qtbot, kiosk.profile.current.edit, PASSWORD)
    type_into(qtbot, kiosk.profile.new.edit, "brand new secret 99")
    click(qtbot, kiosk.profile.change_button)
    qtbot.waitUntil(lambda: "changed" in kiosk.profile.message.text(), timeout=10_000)
    click(qtbot, kiosk.profile.sign_out_button)
    assert kiosk.signed is None
    assert kiosk.current() == "attract"
    assert kiosk.profile.who.text() == ""
