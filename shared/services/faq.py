"""An event's FAQ: questions and answers the organizers prepared (Wi-Fi, parking, lunch...).

Organizers create, edit, delete and order the entries; anyone who may use the assistant lists
them (the same rules as guests). Entries are kept in the organizers' order by ``position``; new
ones go to the end, :func:`move_entry` and :func:`reorder` renumber them 0, 1, 2... Every write
touches ``updated_at``, so the assistant's knowledge fingerprint sees the change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import NotFound, ValidationError
from shared.models import FaqEntry, Role
from shared.services.chatbots import available_chatbot
from shared.services.common import Actor, get_chatbot, require_admin, require_user
from shared.validation import clean_text

log = logging.getLogger("convergeai.faq")

QUESTION_MAX = 500
ANSWER_MAX = 5_000


@dataclass(frozen=True)
class FaqInfo:
    """One FAQ entry."""

    id: int
    chatbot_id: int
    question: str
    answer: str
    position: int
    created_at: datetime
    updated_at: datetime


def _info(entry: FaqEntry) -> FaqInfo:
    return FaqInfo(
        id=entry.id,
        chatbot_id=entry.chatbot_id,
        question=entry.question,
        answer=entry.answer,
        position=entry.position,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - {"question", "answer"}
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    if "question" in values:
        out["question"] = clean_text(
            values["question"], "question", "Question", max_length=QUESTION_MAX
        )
    if "answer" in values:
        out["answer"] = clean_text(
            values["answer"], "answer", "Answer", max_length=ANSWER_MAX, multiline=True
        )
    return out


def _get_entry(s: Session, entry_id: int) -> FaqEntry:
    entry = s.get(FaqEntry, entry_id)
    if entry is None:
        raise NotFound(f"There is no FAQ entry with id {entry_id}.")
    return entry


def _ordered(s: Session, chatbot_id: int) -> list[FaqEntry]:
    return list(
        s.scalars(
            select(FaqEntry)
            .where(FaqEntry.chatbot_id == chatbot_id)
            .order_by(FaqEntry.position, FaqEntry.id)
        )
    )


def _renumber(entries: list[FaqEntry]) -> None:
    now = utcnow()
    for n, entry in enumerate(entries):
        if entry.position != n:
            entry.position = n
            entry.updated_at = now


# Organizer actions -----------------------------------------------------------------------------


def create(s: Session, actor: Actor, chatbot_id: int, *, question: str, answer: str) -> FaqInfo:
    """Add an entry at the end of an event's FAQ."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    values = _clean({"question": question, "answer": answer})
    last = s.scalar(select(func.max(FaqEntry.position)).where(FaqEntry.chatbot_id == chatbot_id))
    now = utcnow()
    entry = FaqEntry(
        chatbot_id=chatbot_id,
        position=0 if last is None else int(last) + 1,
        created_at=now,
        updated_at=now,
        **values,
    )
    s.add(entry)
    s.flush()
    return _info(entry)


def update_entry(s: Session, actor: Actor, entry_id: int, **changes: Any) -> FaqInfo:
    """Change the question and/or the answer of an entry."""
    require_admin(s, actor)
    values = _clean(changes)
    entry = _get_entry(s, entry_id)
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = utcnow()
    s.flush()
    return _info(entry)


def delete_entry(s: Session, actor: Actor, entry_id: int) -> None:
    """Remove an entry; the others keep their order."""
    require_admin(s, actor)
    entry = _get_entry(s, entry_id)
    s.delete(entry)
    s.flush()
    log.info(
        "FAQ entry %s of chatbot %s deleted by user %s", entry_id, entry.chatbot_id, actor.user_id
    )


def move_entry(s: Session, actor: Actor, entry_id: int, index: int) -> list[FaqInfo]:
    """Move an entry to place ``index`` (0 = first; past the end = last); returns the new order."""
    require_admin(s, actor)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValidationError("The new place must be a whole number.", "position")
    entry = _get_entry(s, entry_id)
    entries = [e for e in _ordered(s, entry.chatbot_id) if e.id != entry.id]
    entries.insert(max(0, min(index, len(entries))), entry)
    _renumber(entries)
    s.flush()
    return [_info(e) for e in entries]


def reorder(s: Session, actor: Actor, chatbot_id: int, entry_ids: list[int]) -> list[FaqInfo]:
    """Put an event's FAQ in the given order; ``entry_ids`` must name each entry exactly once."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    entries = {e.id: e for e in _ordered(s, chatbot_id)}
    if sorted(entry_ids) != sorted(entries) or len(set(entry_ids)) != len(entry_ids):
        raise ValidationError(
            "The new order must list every entry of this FAQ exactly once.", "entry_ids"
        )
    ordered = [entries[i] for i in entry_ids]
    _renumber(ordered)
    s.flush()
    return [_info(e) for e in ordered]


# Reading ---------------------------------------------------------------------------------------


def require_reader(s: Session, actor: Actor | None, chatbot_id: int) -> None:
    """Organizers read any event's FAQ; attendees and walk-up visitors those of the events they
    may use now (the rules of guests)."""
    if actor is not None:
        user = require_user(s, actor)
        if user.role == Role.ADMIN.value:
            get_chatbot(s, chatbot_id)
            return
    available_chatbot(s, actor, chatbot_id)


def get_entry(s: Session, actor: Actor | None, entry_id: int) -> FaqInfo:
    """One entry, for whoever may read its event's FAQ."""
    entry = _get_entry(s, entry_id)
    try:
        require_reader(s, actor, entry.chatbot_id)
    except NotFound:
        raise NotFound(f"There is no FAQ entry with id {entry_id}.") from None
    return _info(entry)


def list_entries(s: Session, actor: Actor | None, chatbot_id: int) -> list[FaqInfo]:
    """An event's FAQ in the organizers' order."""
    require_reader(s, actor, chatbot_id)
    return [_info(e) for e in _ordered(s, chatbot_id)]


__all__ = [
    "FaqInfo",
    "create",
    "delete_entry",
    "get_entry",
    "list_entries",
    "move_entry",
    "reorder",
    "update_entry",
]
