"""Sign-in, throttling, tokens, passwords and badge codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shared.db import Database, utcnow
from shared.errors import (
    AuthenticationFailed,
    Conflict,
    PasswordChangeRequired,
    PermissionDenied,
    Throttled,
    ValidationError,
)
from shared.models import AuthThrottle, Role, SessionToken, User
from shared.services import auth
from tests.factories import PASSWORD, make_admin, make_user


def test_register_then_sign_in_by_username_or_email(db: Database) -> None:
    info = auth.register(
        db,
        username="Ada.L",
        email="Ada@Example.ORG",
        name="Ada Lovelace",
        password="engine-notes-1843",
    )
    assert info.username == "ada.l"
    assert info.email == "ada@example.org"
    assert info.role is Role.ATTENDEE
    by_name = auth.sign_in(db, "ADA.L", "engine-notes-1843", device="k1")
    by_mail = auth.sign_in(db, "ada@EXAMPLE.org", "engine-notes-1843", device="k1")
    assert by_name.user.id == by_mail.user.id == info.id
    with db.read() as s:
        stored = s.scalars(select(User.password_hash)).one()
    assert stored is not None
    assert stored.startswith("$2b$04$")
    assert "engine-notes" not in stored


@pytest.mark.parametrize(
    ("field", "kwargs", "message"),
    [
        ("username", {"username": "a"}, "3 to 32"),
        ("username", {"username": "bad name!"}, "3 to 32"),
        ("email", {"email": "not-an-email"}, "not a valid email"),
        ("name", {"name": "   "}, "required"),
        ("name", {"name": "x" * 121}, "too long"),
        ("name", {"name": "Ada\x00"}, "control characters"),
        ("password", {"password": "short1"}, "at least 8"),
        ("password", {"password": "password123"}, "too common"),
        ("password", {"password": "aaaaaaaaaa"}, "too common"),
        ("password", {"password": "ada.lovelace"}, "same as the username"),
        ("password", {"password": "é" * 40}, "too long"),
    ],
)
def test_register_refuses_bad_input_clearly(
    sqlite_db: Database, field: str, kwargs: dict[str, str], message: str
) -> None:
    values = {
        "username": "ada.lovelace",
        "email": "ada@example.org",
        "name": "Ada Lovelace",
        "password": "analytical-engine",
    }
    values.update(kwargs)
    with pytest.raises(ValidationError, match=message) as info:
        auth.register(sqlite_db, **values)
    assert info.value.field == field
    with sqlite_db.read() as s:
        assert s.scalars(select(User)).all() == []


def test_emails_and_usernames_are_unique_case_insensitively(db: Database) -> None:
    auth.register(
        db, username="grace", email="grace@example.org", name="G", password="cobol-compiler"
    )
    with pytest.raises(Conflict, match="email"):
        auth.register(
            db, username="grace2", email="GRACE@example.org", name="G", password="cobol-compiler"
        )
    with pytest.raises(Conflict, match="username"):
        auth.register(
            db, username="GRACE", email="other@example.org", name="G", password="cobol-compiler"
        )


def test_wrong_password_and_unknown_user_give_the_same_message(db: Database) -> None:
    make_user(db, "alan")
    with pytest.raises(AuthenticationFailed) as wrong:
        auth.sign_in(db, "alan", "not the password", device="k1")
    with pytest.raises(AuthenticationFailed) as unknown:
        auth.sign_in(db, "nobody", "not the password", device="k2")
    assert str(wrong.value) == str(unknown.value) == auth.WRONG_CREDENTIALS


def test_inactive_user_cannot_sign_in(db: Database) -> None:
    make_user(db, "ghost", active=False)
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        auth.sign_in(db, "ghost", PASSWORD)


def test_throttling_per_account_grows_and_says_when(db: Database) -> None:
    make_user(db, "target")
    for attempt in range(5):
        with pytest.raises(AuthenticationFailed) as info:
            auth.sign_in(db, "target", f"guess-{attempt}", device=f"kiosk-{attempt}")
        assert not isinstance(info.value, Throttled)
    # Locked now, even with the right password and from a fresh device.
    with pytest.raises(Throttled, match=r"try again in \d+ seconds") as info:
        auth.sign_in(db, "target", PASSWORD, device="fresh-kiosk")
    first_wait = info.value.retry_at - utcnow()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    # Let the lock pass, fail once more: the wait doubles.
    with db.session() as s:
        s.execute(update(AuthThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    with pytest.raises(AuthenticationFailed):
        auth.sign_in(db, "target", "guess-6", device="kiosk-x")
    with pytest.raises(Throttled) as info:
        auth.sign_in(db, "target", PASSWORD, device="fresh-kiosk")
    assert info.value.retry_at - utcnow() > timedelta(seconds=50)


def test_throttling_per_device_covers_many_accounts(db: Database) -> None:
    for n in range(5):
        make_user(db, f"victim{n}")
        with pytest.raises(AuthenticationFailed):
            auth.sign_in(db, f"victim{n}", "wrong-password", device="booth-7")
    make_user(db, "innocent")
    with pytest.raises(Throttled):
        auth.sign_in(db, "innocent", PASSWORD, device="booth-7")
    assert auth.sign_in(db, "innocent", PASSWORD, device="booth-8").user.username == "innocent"


def test_success_clears_failures(db: Database) -> None:
    make_user(db, "typo")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            auth.sign_in(db, "typo", "wrong-password", device="k")
    auth.sign_in(db, "typo", PASSWORD, device="k")
    with db.read() as s:
        assert s.scalars(select(AuthThrottle)).all() == []


def test_tokens_are_stored_hashed_expire_and_can_be_revoked(db: Database) -> None:
    make_user(db, "tok")
    result = auth.sign_in(db, "tok", PASSWORD, device="laptop", remember=True)
    assert result.expires_at - utcnow() > timedelta(days=29)
    with db.read() as s:
        row = s.scalars(select(SessionToken)).one()
        assert row.token_hash != result.token
        assert result.token not in row.token_hash
        assert auth.verify_token(s, result.token).username == "tok"
    with db.session() as s:
        auth.sign_out(s, result.token)
    with db.read() as s, pytest.raises(AuthenticationFailed, match="session has ended"):
        auth.verify_token(s, result.token)
    short = auth.sign_in(db, "tok", PASSWORD)
    assert short.expires_at - utcnow() < timedelta(hours=13)
    with db.session() as s:
        s.execute(update(SessionToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with db.read() as s, pytest.raises(AuthenticationFailed):
        auth.verify_token(s, short.token)


def test_deactivating_a_user_invalidates_their_tokens(db: Database) -> None:
    actor = make_user(db, "leaver")
    result = auth.sign_in(db, "leaver", PASSWORD)
    with db.session() as s:
        s.execute(update(User).where(User.id == actor.user_id).values(active=False))
    with db.read() as s, pytest.raises(AuthenticationFailed, match="deactivated"):
        auth.verify_token(s, result.token)


def test_change_password_needs_the_current_one(db: Database) -> None:
    actor = make_user(db, "changer")
    with pytest.raises(AuthenticationFailed, match="current password is wrong"):
        auth.change_password(db, actor, "nope-nope-nope", "a-brand-new-secret")
    with pytest.raises(ValidationError, match="at least 8"):
        auth.change_password(db, actor, PASSWORD, "short")
    auth.change_password(db, actor, PASSWORD, "a-brand-new-secret")
    assert auth.sign_in(db, "changer", "a-brand-new-secret").user.id == actor.user_id
    with pytest.raises(AuthenticationFailed):
        auth.sign_in(db, "changer", PASSWORD)


def test_admin_reset_gives_a_one_time_password(db: Database) -> None:
    admin = make_admin(db)
    actor = make_user(db, "forgetful")
    old = auth.sign_in(db, "forgetful", PASSWORD)
    temporary = auth.reset_password(db, admin, actor.user_id)
    assert len(temporary) == 19
    with db.read() as s, pytest.raises(AuthenticationFailed):
        auth.verify_token(s, old.token)  # signed out everywhere
    with pytest.raises(PasswordChangeRequired):
        auth.sign_in(db, "forgetful", temporary)
    with pytest.raises(ValidationError, match="not the temporary"):
        auth.complete_password_reset(db, "forgetful", temporary, temporary)
    result = auth.complete_password_reset(db, "forgetful", temporary, "my-own-secret-42")
    assert result.user.must_change_password is False
    assert auth.sign_in(db, "forgetful", "my-own-secret-42").user.id == actor.user_id
    with pytest.raises(AuthenticationFailed):
        auth.sign_in(db, "forgetful", temporary)


def test_attendees_cannot_reset_or_issue_badges(db: Database) -> None:
    attendee = make_user(db, "curious")
    other = make_user(db, "other")
    with pytest.raises(PermissionDenied):
        auth.reset_password(db, attendee, other.user_id)
    with db.session() as s, pytest.raises(PermissionDenied):
        auth.issue_badge_codes(s, attendee, [other.user_id])
    with db.session() as s, pytest.raises(PermissionDenied):
        auth.revoke_sessions(s, attendee, other.user_id)


def test_badge_codes_sign_in_and_are_stored_under_a_keyed_hash(db: Database) -> None:
    admin = make_admin(db)
    attendee = make_user(db, "badge", password=False)
    with db.session() as s:
        codes = auth.issue_badge_codes(s, admin, [attendee.user_id])
    code = codes[attendee.user_id]
    assert len(code) == 24
    assert code.count("-") == 4
    with db.read() as s:
        stored = s.scalars(select(User.badge_code_hash).where(User.id == attendee.user_id)).one()
    assert stored is not None
    assert code.replace("-", "") not in stored
    # A plain SHA-256 of the code (what someone with only the database could try) differs.
    import hashlib

    assert stored != hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    # Scanned or typed: case, separators and look-alike letters do not matter.
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    result = auth.sign_in_with_badge(db, typed, device="k")
    assert result.user.id == attendee.user_id
    with pytest.raises(AuthenticationFailed, match="not valid"):
        auth.sign_in_with_badge(db, auth.generate_badge_code(), device="k")


def test_badge_codes_are_throttled_per_device(db: Database) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            auth.sign_in_with_badge(db, auth.generate_badge_code(), device="scanner-1")
    with pytest.raises(Throttled):
        auth.sign_in_with_badge(db, auth.generate_badge_code(), device="scanner-1")


def test_badge_key_file_is_created_once_when_not_configured(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import Settings, use_settings

    monkeypatch.delenv("CONVERGEAI_AUTH_BADGE_KEY")
    settings = Settings.load()
    use_settings(settings)
    key = auth.badge_key()
    path = settings.data_dir() / "badge.key"
    assert path.read_bytes().strip() == key
    assert path.stat().st_mode & 0o077 == 0
    assert auth.badge_key() == key


def test_first_admin_only_on_a_fresh_database(db: Database) -> None:
    with db.read() as s:
        assert not auth.has_admin(s)
    info = auth.create_first_admin(
        db, username="boss", email="boss@example.org", name="Boss", password="run-the-show-2026"
    )
    assert info.role is Role.ADMIN
    with pytest.raises(PermissionDenied, match="exists already"):
        auth.create_first_admin(
            db, username="boss2", email="boss2@example.org", name="B", password="run-the-show-2026"
        )


def test_stale_actor_loses_rights_at_once(db: Database) -> None:
    admin = make_admin(db)
    target = make_user(db, "target")
    with db.session() as s:
        s.execute(update(User).where(User.id == admin.user_id).values(role="attendee"))
    with pytest.raises(PermissionDenied):
        auth.reset_password(db, admin, target.user_id)
