"""Sign-in, sessions, passwords and badge codes.

- Passwords: bcrypt (cost from the settings, 12 by default). Hashing takes about 250 ms, so the
  functions that hash take the Database and hash outside any write transaction.
- Throttling: failed attempts are counted per account and per device in the database (so every
  kiosk sees them); past the limit each further failure doubles the wait, up to a ceiling.
- Session tokens: 256 random bits shown once; only their SHA-256 is stored.
- Badge codes: 100 random bits in Crockford base32 (what a badge's QR code carries), stored as an
  HMAC-SHA256 under a key kept outside the database: fast to issue by the hundred thousand,
  useless to anyone holding only the database.
- No default admin password exists: the first admin is created by ``convergeai create-admin`` or
  the admin console's first screen.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import bcrypt
from sqlalchemy import ColumnElement, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import roles
from shared.db import Database, utcnow
from shared.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PasswordChangeRequired,
    PermissionDenied,
    Throttled,
    ValidationError,
)
from shared.models import AuthThrottle, Role, SessionToken, User
from shared.services.common import Actor, UserInfo, require_admin, require_user
from shared.services.sqlops import upsert_add
from shared.settings import get_settings
from shared.validation import check_password, clean_email, clean_name, clean_text, clean_username

log = logging.getLogger("convergeai.auth")

WRONG_CREDENTIALS = "Wrong username or password."
WRONG_BADGE = "This badge code is not valid."


# Passwords -------------------------------------------------------------------------------------


def hash_password(password: str, cost: int | None = None) -> str:
    cost = cost if cost is not None else get_settings()["auth.bcrypt_cost"]
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=cost)).decode("ascii")


def verify_password(password: str, hashed: str | None) -> bool:
    """Constant-time check; with no hash it still spends the time, so timing tells nothing."""
    candidate = password.encode("utf-8")[:72]
    if not hashed:
        bcrypt.checkpw(candidate, _dummy_hash())
        return False
    try:
        return bcrypt.checkpw(candidate, hashed.encode("ascii"))
    except ValueError:
        log.warning("unreadable password hash")
        return False


_DUMMY: dict[int, bytes] = {}


def _dummy_hash() -> bytes:
    cost = get_settings()["auth.bcrypt_cost"]
    if cost not in _DUMMY:
        _DUMMY[cost] = bcrypt.hashpw(b"not a real password", bcrypt.gensalt(rounds=cost))
    return _DUMMY[cost]


def temporary_password() -> str:
    """A one-time password an organizer reads out or hands over: 4 groups of 4, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


# Badge codes -----------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})
BADGE_GROUPS = 5


def generate_badge_code() -> str:
    """A fresh badge code like ``7K3Q-M2XD-9TRB-4HNA-ZC8W`` (100 random bits)."""
    bits = secrets.randbits(5 * 4 * BADGE_GROUPS)
    chars = "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in range(4 * BADGE_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normalize_badge_code(code: str) -> str:
    """Upper-case, without separators, look-alike letters read as digits (what a scanner or a
    person typing might produce)."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum()).translate(_CROCKFORD_MAP)
    return cleaned


def badge_key() -> bytes:
    """The key badge codes are hashed with: the setting, or a key file made on first use."""
    settings = get_settings()
    configured: str = settings["auth.badge_key"]
    if configured:
        return configured.encode("utf-8")
    path = settings.data_dir() / "badge.key"
    return _read_or_create_key(path)


def _read_or_create_key(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    log.info("created the badge key file %s", path)
    return key


def badge_hash(code: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the normalized code under the badge key."""
    key = key if key is not None else badge_key()
    return hmac.new(key, normalize_badge_code(code).encode("ascii"), hashlib.sha256).hexdigest()


# Tokens ----------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignInResult:
    """A successful sign-in: the user and a session token (shown here once, stored hashed)."""

    user: UserInfo
    token: str
    expires_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.role, token=self.token)


def visit_key_hash(visit_key: str | None) -> str | None:
    """What is stored of a kiosk visit's secret key (on its sessions and walk-up
    conversations): its SHA-256."""
    return _token_hash(visit_key) if visit_key else None


def _lifetime(remember: bool) -> timedelta:
    settings = get_settings()
    if remember:
        return timedelta(days=settings["auth.session_days"])
    return timedelta(hours=settings["auth.session_hours"])


def _new_session(
    s: Session, user: User, *, device: str, remember: bool, visit_key: str | None = None
) -> SignInResult:
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires = now + _lifetime(remember)
    s.add(
        SessionToken(
            token_hash=_token_hash(token),
            user_id=user.id,
            device=device[:64],
            remember=remember,
            created_at=now,
            expires_at=expires,
            last_used_at=now,
            visit_key_hash=visit_key_hash(visit_key),
        )
    )
    user.last_login_at = now
    s.flush()
    return SignInResult(UserInfo.of(user), token, expires)


def verify_token(s: Session, token: str) -> UserInfo:
    """The user a session token belongs to, if it is valid, unrevoked and the user active."""
    if not token:
        raise AuthenticationFailed("Please sign in.")
    if roles.secrets_hidden(s):  # kiosk role: session tokens are not readable; ask the database
        roles.identify(s, token=token)
        found = roles.current_attendee(s)
        user = s.get(User, found) if found is not None else None
        if user is None:
            raise AuthenticationFailed("Your session has ended; please sign in again.")
        return UserInfo.of(user)
    row = s.scalars(
        select(SessionToken).where(SessionToken.token_hash == _token_hash(token))
    ).one_or_none()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise AuthenticationFailed("Your session has ended; please sign in again.")
    user = s.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed("This account is deactivated. Ask an organizer.")
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now
    return UserInfo.of(user)


def sign_out(s: Session, token: str | None, *, visit_key: str | None = None) -> None:
    """Revoke a session token (signing out) and, with ``visit_key``, the sessions opened in
    that kiosk visit; unknown tokens and keys are ignored."""
    if roles.secrets_hidden(s):  # kiosk role: no direct access to session tokens
        roles.sign_out_in_db(s, token, visit_key)
        return
    hashes = [_token_hash(token)] if token else []
    matches: list[ColumnElement[bool]] = [SessionToken.token_hash.in_(hashes)] if hashes else []
    if visit_key:
        matches.append(SessionToken.visit_key_hash == visit_key_hash(visit_key))
    if not matches:
        return
    s.execute(
        update(SessionToken)
        .where(or_(*matches), SessionToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_sessions(s: Session, actor: Actor, user_id: int) -> int:
    """Revoke every session of a user: the user themselves, or an organizer."""
    me = require_user(s, actor)
    if me.id != user_id:
        require_admin(s, actor)
    result = s.execute(
        update(SessionToken)
        .where(SessionToken.user_id == user_id, SessionToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_expired_sessions(s: Session) -> int:
    """Delete tokens that expired or were revoked more than a day ago."""
    cutoff = utcnow() - timedelta(days=1)
    result = s.execute(
        delete(SessionToken).where(
            (SessionToken.expires_at < cutoff) | (SessionToken.revoked_at < cutoff)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Throttling ------------------------------------------------------------------------------------


def _throttle_keys(user_id: int | None, device: str) -> list[str]:
    keys = [f"device:{device[:150]}"] if device else []
    if user_id is not None:
        keys.append(f"user:{user_id}")
    return keys


def _wait_text(seconds: float) -> str:
    if seconds < 60:
        n = max(1, math.ceil(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check_throttle(s: Session, keys: list[str]) -> None:
    """Raise Throttled while any of the keys is locked."""
    if not keys:
        return
    now = utcnow()
    until = s.scalar(
        select(func.max(AuthThrottle.locked_until)).where(
            AuthThrottle.key.in_(keys), AuthThrottle.locked_until > now
        )
    )
    if until is not None:
        if until.tzinfo is None:  # aggregate results bypass the column type on some backends
            until = until.replace(tzinfo=UTC)
        raise _throttled(until)


def _throttled(until: datetime) -> Throttled:
    wait = (until - utcnow()).total_seconds()
    return Throttled(f"Too many failed attempts. Please try again in {_wait_text(wait)}.", until)


def record_failure(s: Session, keys: list[str]) -> None:
    """Count a failure against each key (atomically) and lock keys past the limit."""
    settings = get_settings()
    now = utcnow()
    quiet = timedelta(seconds=settings["auth.lockout_max_seconds"])
    limit: int = settings["auth.max_failures"]
    for key in keys:
        # Failures long ago do not count: start again after a quiet period.
        s.execute(
            update(AuthThrottle)
            .where(AuthThrottle.key == key, AuthThrottle.last_failure_at < now - quiet)
            .values(failures=0, locked_until=None)
        )
        upsert_add(s, AuthThrottle, {"key": key}, {"failures": 1}, {"last_failure_at": now})
        failures = s.scalar(select(AuthThrottle.failures).where(AuthThrottle.key == key)) or 0
        if failures >= limit:
            wait = min(
                settings["auth.lockout_seconds"] * 2 ** (failures - limit),
                settings["auth.lockout_max_seconds"],
            )
            s.execute(
                update(AuthThrottle)
                .where(AuthThrottle.key == key)
                .values(locked_until=now + timedelta(seconds=wait))
            )


def clear_failures(s: Session, keys: list[str]) -> None:
    if keys:
        s.execute(delete(AuthThrottle).where(AuthThrottle.key.in_(keys)))


# Sign-in ---------------------------------------------------------------------------------------


def _find_login(s: Session, login: str) -> User | None:
    login = login.strip().lower()
    if not login:
        return None
    column = User.email if "@" in login else User.username
    return s.scalars(select(User).where(column == login)).one_or_none()


def sign_in(
    db: Database,
    login: str,
    password: str,
    *,
    device: str = "",
    remember: bool = False,
    visit_key: str | None = None,
) -> SignInResult:
    """Sign in by username or email and password. ``visit_key``: the kiosk visit's secret,
    which also identifies the session to the database (the kiosk's outbox keeps that key, not
    the token).

    Raises Throttled while locked out, AuthenticationFailed for wrong credentials or an inactive
    account, PasswordChangeRequired after an organizer's reset.
    """
    if not isinstance(login, str) or not isinstance(password, str):
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    if db.row_security:  # the kiosk role: the database checks, throttles and opens sessions
        return _sign_in_in_db(
            db, "password", login.strip(), password, device, remember, visit_key, WRONG_CREDENTIALS
        )
    with db.read() as s:
        user = _find_login(s, login)
        user_id = user.id if user else None
        stored = user.password_hash if user else None
        keys = _throttle_keys(user_id, device)
        check_throttle(s, keys)
    ok = verify_password(password, stored)  # outside any transaction: ~250 ms
    with db.session() as s:
        if not ok:
            record_failure(s, keys)
        else:
            user = s.get(User, user_id)
            if user is None:
                raise AuthenticationFailed(WRONG_CREDENTIALS)
            clear_failures(s, keys)
            if not user.active:
                raise AuthenticationFailed("This account is deactivated. Please ask an organizer.")
            if user.must_change_password:
                raise PasswordChangeRequired(
                    "Your password was reset: please choose a new one.", user.id
                )
            return _new_session(s, user, device=device, remember=remember, visit_key=visit_key)
    log.info("failed sign-in on device %r", device)
    raise AuthenticationFailed(WRONG_CREDENTIALS)


def _sign_in_in_db(
    db: Database,
    kind: str,
    login: str,
    secret: str,
    device: str,
    remember: bool,
    visit_key: str | None,
    wrong: str,
    *,
    new_hash: str | None = None,
) -> SignInResult:
    """Sign in on PostgreSQL's kiosk role (see shared.roles): the database checks the password
    or badge, counts the attempt (committed before the outcome can be read) and opens the
    session; this side only picks the token, of which the database stores the hash."""
    token = secrets.token_urlsafe(32)
    handle = _token_hash(token)
    with db.session() as s:
        until = roles.attempt_in_db(s, kind, login, secret, device, handle)
    if until is not None:
        raise _throttled(until)
    return _open_session_in_db(db, handle, token, device, remember, visit_key, wrong, new_hash)


def _open_session_in_db(
    db: Database,
    handle: str,
    token: str,
    device: str,
    remember: bool,
    visit_key: str | None,
    wrong: str,
    new_hash: str | None,
) -> SignInResult:
    """Step 2 on the kiosk role: the database opens the session of a successful attempt (and
    sets ``new_hash`` as the password, for a reset); anything else raises what it means."""
    with db.session() as s:
        done = roles.finish_in_db(
            s,
            handle,
            device=device[:64],
            remember=remember,
            lifetime=_lifetime(remember),
            visit_key_hash=visit_key_hash(visit_key),
            new_hash=new_hash,
        )
        user = s.get(User, done.user_id) if done.status == "ok" and done.user_id else None
        if user is not None and done.expires_at is not None:
            return SignInResult(UserInfo.of(user), token, done.expires_at)
    _refuse(done, wrong)
    raise AuthenticationFailed(wrong)  # "ok" without a user: deleted meanwhile


def _refuse(done: roles.Finished, wrong: str) -> None:
    """Raise what an unsuccessful outcome of the database's check means."""
    if done.status == "inactive":
        raise AuthenticationFailed("This account is deactivated. Please ask an organizer.")
    if done.status == "must_change" and done.user_id is not None:
        raise PasswordChangeRequired(
            "Your password was reset: please choose a new one.", done.user_id
        )
    if done.status != "ok":
        log.info("failed sign-in (%s)", done.status)
        raise AuthenticationFailed(wrong)


def sign_in_with_badge(
    db: Database,
    code: str,
    *,
    device: str = "",
    remember: bool = False,
    visit_key: str | None = None,
) -> SignInResult:
    """Sign in with the code printed on (or encoded in the QR code of) an attendee's badge.

    Wrong codes are throttled per device, like passwords.
    """
    keys = _throttle_keys(None, device)
    normalized = normalize_badge_code(code if isinstance(code, str) else "")
    digest = badge_hash(normalized) if 16 <= len(normalized) <= 64 else None
    if db.row_security:  # the kiosk role: the database checks, throttles and opens sessions
        return _sign_in_in_db(
            db, "badge", "", digest or "", device, remember, visit_key, WRONG_BADGE
        )
    with db.session() as s:
        check_throttle(s, keys)
        user = None
        if digest is not None:
            user = s.scalars(select(User).where(User.badge_code_hash == digest)).one_or_none()
        if user is not None:
            if not user.active:
                raise AuthenticationFailed("This account is deactivated. Please ask an organizer.")
            clear_failures(s, keys)
            return _new_session(s, user, device=device, remember=remember, visit_key=visit_key)
        record_failure(s, keys)
    log.info("failed badge sign-in on device %r", device)
    raise AuthenticationFailed(WRONG_BADGE)


# Accounts --------------------------------------------------------------------------------------


def _check_unique(s: Session, username: str, email: str, exclude_id: int | None = None) -> None:
    q = select(User.id, User.username, User.email).where(
        (User.username == username) | (User.email == email)
    )
    for uid, uname, mail in s.execute(q):
        if uid == exclude_id:
            continue
        if uname == username:
            raise Conflict(f"The username {username!r} is taken.")
        if mail == email:
            raise Conflict(f"An account with the email {email} exists already.")


def _validated_account(
    username: str, email: str, name: str, password: str
) -> tuple[str, str, str, str]:
    errors: list[ValidationError] = []
    values: dict[str, str] = {}
    for field, fn, raw in (
        ("username", clean_username, username),
        ("email", clean_email, email),
        ("name", clean_name, name),
    ):
        try:
            values[field] = fn(raw)
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    check_password(password, username=values["username"], email=values["email"])
    return values["username"], values["email"], values["name"], password


def register(db: Database, *, username: str, email: str, name: str, password: str) -> UserInfo:
    """Create an attendee account (what the kiosk's registration form does)."""
    username, email, name, password = _validated_account(username, email, name, password)
    with db.read() as s:
        _check_unique(s, username, email)
    hashed = hash_password(password)
    return _insert_user(db, username, email, name, hashed, Role.ATTENDEE)


def _insert_user(
    db: Database, username: str, email: str, name: str, hashed: str | None, role: Role
) -> UserInfo:
    try:
        with db.session() as s:
            _check_unique(s, username, email)
            user = User(
                username=username, email=email, name=name, password_hash=hashed, role=role.value
            )
            s.add(user)
            s.flush()
            return UserInfo.of(user)
    except IntegrityError:
        raise Conflict("That username or email was taken a moment ago; choose another.") from None


def create_admin(db: Database, *, username: str, email: str, name: str, password: str) -> UserInfo:
    """Create an organizer account. For IT (the ``create-admin`` command, run with database
    access) and for the console's first screen through :func:`create_first_admin`."""
    username, email, name, password = _validated_account(username, email, name, password)
    with db.read() as s:
        _check_unique(s, username, email)
    return _insert_user(db, username, email, name, hash_password(password), Role.ADMIN)


def has_admin(s: Session) -> bool:
    return s.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)) is not None


def create_first_admin(
    db: Database, *, username: str, email: str, name: str, password: str
) -> UserInfo:
    """Create the first organizer of a fresh database; refused once any admin exists."""
    with db.read() as s:
        if has_admin(s):
            raise PermissionDenied("An organizer account exists already; sign in with it.")
    info = create_admin(db, username=username, email=email, name=name, password=password)
    return info


def change_password(db: Database, actor: Actor, current: str, new: str) -> None:
    """Change one's own password; needs the current one. Other sessions are signed out."""
    with db.read() as s:
        user = require_user(s, actor)
        stored, username, email = user.password_hash, user.username, user.email
    check_password(new, username=username, email=email)
    current = current if isinstance(current, str) else ""
    if db.row_security:  # the kiosk role: the database checks (throttled) and writes it
        _change_password_in_db(db, actor, username, current, new)
        return
    if not verify_password(current, stored):
        raise AuthenticationFailed("The current password is wrong.")
    if current == new:
        raise ValidationError("The new password must differ from the current one.", "password")
    hashed = hash_password(new)
    with db.session() as s:
        user = require_user(s, actor)
        user.password_hash = hashed
        user.must_change_password = False


def _change_password_in_db(
    db: Database, actor: Actor, username: str, current: str, new: str
) -> None:
    handle = _token_hash(secrets.token_urlsafe(32))
    with db.session() as s:
        until = roles.attempt_in_db(s, "password", username, current, "", handle)
    if until is not None:
        raise _throttled(until)
    wrong = "The current password is wrong."
    hashed = hash_password(new) if current != new else None
    with db.session() as s:
        roles.identify(s, token=actor.token)
        done = roles.finish_in_db(s, handle, new_hash=hashed)
    if done.status == "unknown" and hashed is not None:
        raise PermissionDenied("Your session has ended; please sign in again.")
    if done.status not in ("ok", "must_change"):
        _refuse(done, wrong)
    if hashed is None:
        raise ValidationError("The new password must differ from the current one.", "password")


def complete_password_reset(
    db: Database,
    login: str,
    temporary: str,
    new: str,
    *,
    device: str = "",
    remember: bool = False,
    visit_key: str | None = None,
) -> SignInResult:
    """After an organizer's reset: sign in with the temporary password and set a new one."""
    if db.row_security:  # the kiosk role: the database checks (throttled) and writes it
        return _complete_reset_in_db(db, login, temporary, new, device, remember, visit_key)
    with db.read() as s:
        user = _find_login(s, login)
        user_id = user.id if user else None
        stored = user.password_hash if user else None
        keys = _throttle_keys(user_id, device)
        check_throttle(s, keys)
        username, email = (user.username, user.email) if user else ("", "")
    if not verify_password(temporary, stored) or user_id is None:
        with db.session() as s:
            record_failure(s, keys)
        raise AuthenticationFailed("The temporary password is wrong.")
    check_password(new, username=username, email=email)
    if new == temporary:
        raise ValidationError("Choose a password of your own, not the temporary one.", "password")
    hashed = hash_password(new)
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None or not user.active:
            raise AuthenticationFailed("This account is deactivated. Please ask an organizer.")
        user.password_hash = hashed
        user.must_change_password = False
        clear_failures(s, keys)
        s.execute(
            update(SessionToken)
            .where(SessionToken.user_id == user.id, SessionToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return _new_session(s, user, device=device, remember=remember, visit_key=visit_key)


def _complete_reset_in_db(
    db: Database,
    login: str,
    temporary: str,
    new: str,
    device: str,
    remember: bool,
    visit_key: str | None,
) -> SignInResult:
    login = login.strip() if isinstance(login, str) else ""
    temporary = temporary if isinstance(temporary, str) else ""
    with db.read() as s:
        user = _find_login(s, login)
        username, email = (user.username, user.email) if user else ("", "")
    wrong = "The temporary password is wrong."
    token = secrets.token_urlsafe(32)
    handle = _token_hash(token)
    with db.session() as s:
        until = roles.attempt_in_db(s, "password", login, temporary, device, handle)
    if until is not None:
        raise _throttled(until)
    with db.session() as s:
        checked = roles.finish_in_db(s, handle)
    if checked.status not in ("ok", "must_change"):
        _refuse(checked, wrong)
    check_password(new, username=username, email=email)
    if new == temporary:
        raise ValidationError("Choose a password of your own, not the temporary one.", "password")
    hashed = hash_password(new)
    return _open_session_in_db(db, handle, token, device, remember, visit_key, wrong, hashed)


def reset_password(db: Database, actor: Actor, user_id: int) -> str:
    """Organizer action: give a user a one-time temporary password (returned once, to show to
    the organizer) that must be changed at the next sign-in. Signs the user out everywhere."""
    with db.read() as s:
        require_admin(s, actor)
        if s.get(User, user_id) is None:
            raise NotFound(f"There is no user with id {user_id}.")
    temporary = temporary_password()
    hashed = hash_password(temporary)
    with db.session() as s:
        require_admin(s, actor)
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"There is no user with id {user_id}.")
        user.password_hash = hashed
        user.must_change_password = True
        s.execute(
            update(SessionToken)
            .where(SessionToken.user_id == user_id, SessionToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        clear_failures(s, [f"user:{user_id}"])
    log.info("password of user %s reset by user %s", user_id, actor.user_id)
    return temporary


def issue_badge_codes(s: Session, actor: Actor, user_ids: list[int]) -> dict[int, str]:
    """Organizer action: give each user a new badge code (replacing any old one); the codes are
    returned once, for printing. Fast: one HMAC per user, no bcrypt."""
    require_admin(s, actor)
    key = badge_key()
    codes: dict[int, str] = {}
    existing = set(s.scalars(select(User.id).where(User.id.in_(user_ids))))
    missing = [uid for uid in user_ids if uid not in existing]
    if missing:
        raise NotFound(f"There is no user with id {missing[0]}.")
    rows = []
    for uid in user_ids:
        code = generate_badge_code()
        codes[uid] = code
        rows.append({"uid": uid, "digest": badge_hash(code, key)})
    if rows:  # one executemany, not an UPDATE round trip per user
        users = cast(Table, User.__table__)
        s.execute(
            update(users)
            .where(users.c.id == bindparam("uid"))
            .values(badge_code_hash=bindparam("digest")),
            rows,
        )
    return codes


def user_for_login(s: Session, login: str) -> UserInfo | None:
    """Look a user up by username or email (for messages such as 'this account needs...')."""
    login = clean_text(login, "login", "Username or email", max_length=254, required=False)
    user = _find_login(s, login)
    return UserInfo.of(user) if user else None
