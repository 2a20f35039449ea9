"""Known, environmental errors: each becomes a clear message for the user.

Anything that is not a :class:`KnownError` is a bug: it is logged with its traceback and shown
calmly (the qutebrowser ``KnownError``/``BugError`` split).
"""

from __future__ import annotations

from datetime import datetime


class KnownError(Exception):
    """An error a user can understand and act on; ``str(err)`` is the message to show."""


class ValidationError(KnownError):
    """Input that breaks a rule. ``field`` names the offending input, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class PermissionDenied(KnownError):
    """The acting user may not do this."""


class NotFound(KnownError):
    """The thing asked for does not exist (or the actor may not know it exists)."""


class Conflict(KnownError):
    """The change clashes with existing data (a taken username, for example)."""


class AuthenticationFailed(KnownError):
    """Sign-in refused: wrong credentials, inactive account, expired token."""


class PasswordChangeRequired(AuthenticationFailed):
    """The password was reset by an organizer and must be changed before going on."""

    def __init__(self, message: str, user_id: int) -> None:
        super().__init__(message)
        self.user_id = user_id


class Throttled(AuthenticationFailed):
    """Too many failed attempts; ``retry_at`` says when trying again is allowed."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class DatabaseUnavailable(KnownError):
    """The database server cannot be reached (network, server down, wrong credentials)."""


class DatabaseBusy(KnownError):
    """The database stayed locked by other writers past the busy timeout."""


class SchemaMismatch(KnownError):
    """The database schema is not the one this version of ConvergeAI expects."""


class ConfigError(KnownError):
    """A setting in the environment or the config file is malformed."""
