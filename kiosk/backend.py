"""What the kiosk needs from the core, wrapped for background use: the database, the
assistant (a :class:`Responder`), sample questions. Everything here runs on worker threads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from shared.db import Database
from shared.models import MessageSource
from shared.services.responder import Reply, ReplyRequest, Responder

log = logging.getLogger("convergeai.kiosk")

#: Shown when no assistant engine is installed (the core's answers are not available).
FALLBACK_TEXT = (
    "I can't look that up right now. Please ask at the Help Desk, or try again in a moment."
)
FALLBACK_SUGGESTIONS = (
    "Who is speaking today?",
    "What is on now?",
    "Where is lunch served?",
)


class FallbackResponder:
    """A responder that always gives the same polite offline reply (no engine available)."""

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        if on_delta is not None:
            on_delta(FALLBACK_TEXT)
        return Reply(FALLBACK_TEXT, MessageSource.OFFLINE, answered=False)


def make_responder(db: Database) -> Responder:
    """The event assistant: offline answers, and the LLM when one is configured (it falls back
    to the offline answer by itself when the LLM server cannot be reached)."""
    try:
        from shared.assistant.engine import Assistant
        from shared.assistant.llm import LLMClient
    except ImportError:
        log.warning("the assistant engine is not available; using a fallback responder")
        return FallbackResponder()
    try:
        return Assistant(db, llm=LLMClient.from_settings())
    except Exception:  # noqa: BLE001 - a broken LLM setting must not stop the kiosk
        log.exception("the assistant could not start with its LLM; offline answers only")
        try:
            return Assistant(db)
        except Exception:  # noqa: BLE001
            log.exception("the assistant could not start; using a fallback responder")
            return FallbackResponder()


def suggestions(responder: Responder, chatbot_id: int | None, limit: int = 4) -> list[str]:
    """Sample questions for an assistant (or any assistant when ``chatbot_id`` is None)."""
    fn: Any = getattr(responder, "suggestions", None)
    if fn is not None and chatbot_id is not None:
        try:
            found = [str(q) for q in fn(chatbot_id)][:limit]
        except Exception:  # noqa: BLE001 - suggestions are a nicety
            log.warning("no suggestions for assistant %s", chatbot_id, exc_info=True)
        else:
            if found:
                return found
    return list(FALLBACK_SUGGESTIONS[:limit])


def connect(
    factory: Callable[[], Database], *, demo: bool = False, create_if_empty: bool | None = None
) -> Database:
    """Build the database and check its schema (creating it on an empty SQLite file);
    optionally load the demo conference into an empty database. Raises KnownErrors."""
    db = factory()
    try:
        sqlite = db.backend == "sqlite"
        from shared.migrate import (
            ensure_schema,
        )  # alembic: ~0.3 s to import, not on the first frame's path

        ensure_schema(db, create_if_empty=sqlite if create_if_empty is None else create_if_empty)
        if demo:
            _load_demo_if_empty(db)
    except BaseException:
        db.dispose()
        raise
    return db


def _load_demo_if_empty(db: Database) -> None:
    from sqlalchemy import func, select

    from shared.models import Chatbot

    with db.read() as s:
        count = s.scalar(select(func.count()).select_from(Chatbot)) or 0
    if count:
        return
    from shared.demo import load_demo

    started = time.monotonic()
    load_demo(db)
    log.info("demo data loaded in %.1f s", time.monotonic() - started)
