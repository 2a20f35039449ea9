"""The kiosk admin PIN."""

from __future__ import annotations

import pytest

from shared.db import Database
from shared.errors import AuthenticationFailed, PermissionDenied, Throttled, ValidationError
from shared.services import kiosk_admin
from tests.factories import make_admin, make_user


def test_pin_is_stored_hashed_and_verified(db: Database) -> None:
    admin = make_admin(db)
    kiosk_admin.set_kiosk_pin(db, admin, "482913")
    with db.read() as s:
        stored = kiosk_admin.pin_hash(s)
    assert stored is not None
    assert "482913" not in stored
    kiosk_admin.verify_kiosk_pin(db, "482913", device="booth-1")
    with pytest.raises(AuthenticationFailed, match="Wrong PIN"):
        kiosk_admin.verify_kiosk_pin(db, "482914", device="booth-1")
    assert kiosk_admin.pin_matches("482913", stored)


def test_no_pin_says_how_to_set_one(db: Database) -> None:
    with pytest.raises(AuthenticationFailed, match="set-pin"):
        kiosk_admin.verify_kiosk_pin(db, "123456", device="k")


@pytest.mark.parametrize("pin", ["12345", "abcdef", "111111", "123456", "9876543", "1" * 13])
def test_weak_or_malformed_pins_are_refused(sqlite_db: Database, pin: str) -> None:
    with pytest.raises(ValidationError):
        kiosk_admin.set_kiosk_pin(sqlite_db, None, pin)


def test_only_organizers_set_the_pin(db: Database) -> None:
    with pytest.raises(PermissionDenied):
        kiosk_admin.set_kiosk_pin(db, make_user(db), "482913")


def test_wrong_pins_back_off(db: Database) -> None:
    kiosk_admin.set_kiosk_pin(db, None, "482913")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            kiosk_admin.verify_kiosk_pin(db, "000001", device="booth-2")
    with pytest.raises(Throttled):
        kiosk_admin.verify_kiosk_pin(db, "482913", device="booth-2")
    kiosk_admin.verify_kiosk_pin(db, "482913", device="booth-3")


def test_cli_sets_the_pin(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from shared.cli import main

    url = sqlite_db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    assert main(["--database", url, "kiosk", "set-pin", "--pin-stdin"]) == 1
    assert "6 to 12 digits" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("482913\n"))
    assert main(["--database", url, "kiosk", "set-pin", "--pin-stdin"]) == 0
    kiosk_admin.verify_kiosk_pin(sqlite_db, "482913", device="k")
