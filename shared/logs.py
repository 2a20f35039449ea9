"""Logging set-up: named loggers under ``convergeai``, a rotating file per app, secrets redacted.

Every part of ConvergeAI logs through ``logging.getLogger("convergeai.<subsystem>")``. Each app
(kiosk, admin console, CLI) calls :func:`setup_logging` once at start-up; its records go to
``<log folder>/<app>.log`` (2 MB x 5 files). A filter on every handler masks whatever looks like a
secret (passwords, tokens, API keys, passwords in URLs, badge codes), so one careless log call
cannot leak one. If the log folder cannot be created, logging falls back to stderr with a warning:
a full or read-only disk never stops an app from starting.
"""

from __future__ import annotations

import logging
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from shared.settings import get_settings

ROOT_LOGGER = "convergeai"
#: The subsystems' loggers (any other ``convergeai.*`` logger works the same way).
LOGGERS = (
    "convergeai.db",
    "convergeai.auth",
    "convergeai.assistant",
    "convergeai.kiosk",
    "convergeai.admin",
    "convergeai.cli",
)
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(process)d %(levelname)-7s %(name)s: %(message)s"
CONSOLE_FORMAT = "%(name)s: %(levelname)s: %(message)s"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_APP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

# Redaction -------------------------------------------------------------------------------------

MASK = "***"
_SECRET_KEYS = (
    r"password|passwd|pwd|passphrase|secret|client_secret|token|access_token|refresh_token|"
    r"api[_-]?key|apikey|badge[_-]?key|badge[_-]?code"
)
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host  ->  scheme://user:***@host
    (
        re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s:/@]*):[^\s/]*@", re.IGNORECASE),
        r"\1:" + MASK + "@",
    ),
    # Authorization: Bearer xyz / Authorization: Basic xyz / bare "Bearer xyz"
    (
        re.compile(
            r"\b(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)?\s*)[^\s\"',;]+",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + MASK),
    # password=xyz, "api_key": "xyz", token: xyz, --password xyz is not caught (never log argv)
    (
        re.compile(
            r"([\"']?\b(?:[a-z_]*_)?(?:" + _SECRET_KEYS + r")(?:_[a-z_]*)?[\"']?\s*[=:]\s*)"
            r"(?:\"[^\"]*\"|'[^']*'|[^\s&,;\"'}\]]+)",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
    # badge codes: five groups of four Crockford base32 characters (and typed look-alikes)
    (
        re.compile(r"\b[0-9A-TV-Z]{4}(?:-[0-9A-TV-Z]{4}){4}\b", re.IGNORECASE),
        "****-****-****-****-****",
    ),
)


def redact(text: str) -> str:
    """``text`` with everything that looks like a secret masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback before any handler writes it."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: let the handler report it
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _BriefFormatter(logging.Formatter):
    """One line per record, no traceback: for the stderr fallback, so a terminal user never
    sees a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


# Set-up ----------------------------------------------------------------------------------------

_installed: list[logging.Handler] = []
_log_file: Path | None = None


def _level(level: str | None) -> int:
    name = (level or str(get_settings()["log.level"])).strip().upper()
    if name not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(_LEVELS)}")
    return int(getattr(logging, name))


def _remove_installed() -> None:
    root = logging.getLogger(ROOT_LOGGER)
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()


def setup_logging(app: str, *, level: str | None = None, console: bool = False) -> Path:
    """Send ``convergeai.*`` records to ``<log folder>/<app>.log``; return that file's path.

    ``level`` overrides the ``log.level`` setting; ``console`` also copies records to stderr.
    Calling it again replaces the handlers of the previous call. If the folder or the file
    cannot be created, records go to stderr instead (warnings and worse) and a warning says
    why; :func:`log_file` then returns None.
    """
    global _log_file
    if not _APP_RE.match(app):
        raise ValueError(f"not a valid app name for a log file: {app!r}")
    numeric = _level(level)
    _remove_installed()
    root = logging.getLogger(ROOT_LOGGER)
    root.setLevel(numeric)
    for name in LOGGERS:
        logging.getLogger(name)
    redactor = RedactingFilter()
    formatter = logging.Formatter(FORMAT)

    path = get_settings().log_dir() / f"{app}.log"
    problem: str | None = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        file_handler: logging.Handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as exc:
        problem = f"{exc.strerror or exc} ({path.parent})"
        _log_file = None
    else:
        file_handler.setFormatter(formatter)
        file_handler.addFilter(redactor)
        root.addHandler(file_handler)
        _installed.append(file_handler)
        _log_file = path

    if console or problem is not None:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(
            logging.Formatter(CONSOLE_FORMAT) if console else _BriefFormatter(CONSOLE_FORMAT)
        )
        stream.addFilter(redactor)
        if not console:
            stream.setLevel(logging.WARNING)
        root.addHandler(stream)
        _installed.append(stream)
    if problem is not None:
        root.warning("cannot write the log file, logging to stderr only: %s", problem)
    return path


def log_file() -> Path | None:
    """The file the last :func:`setup_logging` writes to; None before it, or when it fell back
    to stderr."""
    return _log_file


def close_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` installed and forget its level
    (tests, app shutdown)."""
    global _log_file
    _remove_installed()
    logging.getLogger(ROOT_LOGGER).setLevel(logging.NOTSET)
    _log_file = None
