"""The kiosk admin PIN: set by organizers (console or CLI), checked by kiosks.

The PIN is stored as a bcrypt hash in the shared ``app_settings`` table, so one PIN works on every
kiosk of the venue; kiosks keep a copy of the hash so the PIN still works while the database is
unreachable. Wrong PINs are throttled per kiosk like passwords.
"""

from __future__ import annotations

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import Database, utcnow
from shared.errors import AuthenticationFailed, ValidationError
from shared.models import AppSetting
from shared.services.auth import check_throttle, clear_failures, hash_password, record_failure
from shared.services.common import Actor, require_admin

PIN_KEY = "kiosk.admin_pin_hash"
PIN_MIN, PIN_MAX = 6, 12


def check_pin_format(pin: object) -> str:
    if not isinstance(pin, str) or not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX:
        raise ValidationError(f"The PIN must be {PIN_MIN} to {PIN_MAX} digits.", "pin")
    if len(set(pin)) == 1 or pin in "0123456789012" or pin in "9876543210987":
        raise ValidationError("This PIN is too easy to guess; choose another.", "pin")
    return pin


def set_pin_hash(s: Session, hashed: str) -> None:
    row = s.get(AppSetting, PIN_KEY)
    if row is None:
        s.add(AppSetting(key=PIN_KEY, value=hashed))
    else:
        row.value = hashed
        row.updated_at = utcnow()
    s.flush()


def set_kiosk_pin(db: Database, actor: Actor | None, pin: str) -> None:
    """Set the venue's kiosk admin PIN. ``actor`` None means IT at the command line (who has
    the database credentials anyway)."""
    check_pin_format(pin)
    if actor is not None:
        with db.read() as s:
            require_admin(s, actor)
    hashed = hash_password(pin)
    with db.session() as s:
        if actor is not None:
            require_admin(s, actor)
        set_pin_hash(s, hashed)


def pin_hash(s: Session) -> str | None:
    """The stored PIN hash (kiosks cache it for when the database is away)."""
    return s.scalar(select(AppSetting.value).where(AppSetting.key == PIN_KEY))


def pin_matches(pin: str, hashed: str | None) -> bool:
    if not hashed or not isinstance(pin, str) or not pin.isdigit() or len(pin) > PIN_MAX:
        return False
    try:
        return bcrypt.checkpw(pin.encode("ascii"), hashed.encode("ascii"))
    except ValueError:
        return False


def verify_kiosk_pin(db: Database, pin: str, *, device: str) -> None:
    """Raise AuthenticationFailed (or Throttled) unless the PIN is right."""
    keys = [f"pin:{device[:150]}"]
    with db.read() as s:
        check_throttle(s, keys)
        hashed = pin_hash(s)
    if hashed is None:
        raise AuthenticationFailed(
            "No kiosk admin PIN is set. Set one in the admin console or with "
            "`convergeai kiosk set-pin`."
        )
    ok = pin_matches(pin, hashed)
    with db.session() as s:
        if ok:
            clear_failures(s, keys)
            return
        record_failure(s, keys)
    raise AuthenticationFailed("Wrong PIN.")
