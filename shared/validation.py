"""Input checks shared by every service: clear messages, nothing stored half-valid."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from shared.errors import ValidationError

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
# Pragmatic address check (local@domain.tld); the real test is a mail that arrives.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r")+$")
PASSWORD_MIN = 8
PASSWORD_MAX_BYTES = 72  # bcrypt's limit


def _bad_controls(text: str, multiline: bool) -> bool:
    if text.isprintable():  # control characters are never printable: the common, fast case
        return False
    allowed = {"\n", "\t", "\r"} if multiline else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def clean_text(
    value: object,
    field: str,
    label: str,
    *,
    max_length: int,
    required: bool = True,
    multiline: bool = False,
) -> str:
    """Strip, refuse control characters (NUL among them) and enforce a length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", field)
    text = value.strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _bad_controls(text, multiline):
        raise ValidationError(f"{label} contains control characters that cannot be stored.", field)
    if required and not text:
        raise ValidationError(f"{label} is required.", field)
    if len(text) > max_length:
        raise ValidationError(
            f"{label} is too long ({len(text)} characters; at most {max_length}).", field
        )
    return text


def clean_username(value: object) -> str:
    """Lower-case, 3-32 letters, digits, dots, dashes or underscores."""
    text = clean_text(value, "username", "Username", max_length=32).lower()
    if not USERNAME_RE.match(text):
        raise ValidationError(
            "Username must be 3 to 32 characters: letters a-z, digits, '.', '-' or '_', "
            "starting with a letter or digit.",
            "username",
        )
    return text


def clean_email(value: object, field: str = "email", required: bool = True) -> str:
    """Lower-case and trimmed; refuses anything that is not shaped like an address."""
    text = clean_text(value, field, "Email", max_length=254, required=required).lower()
    if not text and not required:
        return ""
    if not EMAIL_RE.match(text):
        raise ValidationError(f"{text!r} is not a valid email address.", field)
    return text


def clean_name(value: object, field: str = "name", label: str = "Name") -> str:
    return clean_text(value, field, label, max_length=120)


@cache
def common_passwords() -> frozenset[str]:
    """Passwords too common to allow (lower-cased)."""
    text = resources.files("shared").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_password(password: object, *, username: str = "", email: str = "") -> str:
    """A password a person chose: at least 8 characters, not common, not their username."""
    if not isinstance(password, str):
        raise ValidationError("Password must be text.", "password")
    if "\x00" in password:
        raise ValidationError("Password contains characters that cannot be used.", "password")
    if len(password) < PASSWORD_MIN:
        raise ValidationError(
            f"Password must be at least {PASSWORD_MIN} characters long.", "password"
        )
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise ValidationError(
            "Password is too long (at most 72 bytes, about 70 plain letters).", "password"
        )
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        raise ValidationError(
            "This password is too common and easy to guess; choose another.", "password"
        )
    if username and lowered == username.lower():
        raise ValidationError("Password must not be the same as the username.", "password")
    if email and lowered in (email.lower(), email.lower().split("@")[0]):
        raise ValidationError("Password must not be the email address.", "password")
    return password
