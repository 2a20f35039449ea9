"""A frozen snapshot of an event's public data: what the assistant may answer from.

:func:`load_knowledge` reads it in four queries (the assistant with its fingerprint, guests,
agenda items joined to their speakers, FAQ); :func:`knowledge_fingerprint` is one cheap query that
changes whenever any of it changes, so the index cache knows when to rebuild.

Only public data goes in: the event, its guests' public cards (never their email or linked
account), the programme and the FAQ. No attendee data, ever. Email addresses and phone numbers
that an organizer typed into a guest's biography are masked too: guests' contact details are not
public.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import NotFound
from shared.models import (
    AgendaItem,
    Chatbot,
    ConversationMode,
    FaqEntry,
    Guest,
    agenda_item_speakers,
)


@dataclass(frozen=True)
class GuestFact:
    """A guest's public card."""

    id: int
    name: str
    title: str
    organization: str
    description: str
    is_speaker: bool
    is_moderator: bool


@dataclass(frozen=True)
class SessionFact:
    """One agenda item. Times are aware UTC. ``speaker_ids`` in name order; ``moderator_ids``
    are the linked guests who moderate and do not speak (a panel's host)."""

    id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str
    track: str
    speaker_ids: tuple[int, ...]
    moderator_ids: tuple[int, ...]


@dataclass(frozen=True)
class FaqFact:
    """One FAQ entry."""

    id: int
    question: str
    answer: str
    position: int


@dataclass(frozen=True)
class EventKnowledge:
    """Everything public about one event, as of ``fingerprint``. Sessions are in time order,
    guests in name order, FAQ in the organizers' order."""

    chatbot_id: int
    name: str
    event_name: str
    description: str
    start_date: date
    end_date: date
    system_prompt: str
    modes: tuple[ConversationMode, ...]
    guests: tuple[GuestFact, ...]
    sessions: tuple[SessionFact, ...]
    faq: tuple[FaqFact, ...]
    fingerprint: str

    def guest(self, guest_id: int) -> GuestFact | None:
        """The guest with this id, if it is one of this event's."""
        for guest in self.guests:
            if guest.id == guest_id:
                return guest
        return None


# Fingerprint -----------------------------------------------------------------------------------


def _aware(value: Any) -> str:
    """A timestamp from an aggregate, as comparable text (aggregates may come back naive, or
    as text on SQLite)."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return str(value)


def _fingerprint_stmt(chatbot_id: int) -> Any:
    def aggregates(model: Any) -> list[Any]:
        return [
            select(func.count())
            .select_from(model)
            .where(model.chatbot_id == chatbot_id)
            .scalar_subquery(),
            select(func.max(model.updated_at))
            .where(model.chatbot_id == chatbot_id)
            .scalar_subquery(),
        ]

    return select(
        Chatbot.id,
        Chatbot.name,
        Chatbot.event_name,
        Chatbot.description,
        Chatbot.start_date,
        Chatbot.end_date,
        Chatbot.system_prompt,
        Chatbot.single_mode,
        Chatbot.multiple_mode,
        *aggregates(Guest),
        *aggregates(AgendaItem),
        *aggregates(FaqEntry),
    ).where(Chatbot.id == chatbot_id)


def _digest(row: Any) -> str:
    """The fingerprint of a row of :func:`_fingerprint_stmt`: a hash of the assistant's own
    fields (not its ``updated_at``, which counters may touch) and of the counts and latest
    changes of its guests, agenda and FAQ."""
    parts = [str(v) for v in row[:9]]
    parts += [str(int(row[9] or 0)), _aware(row[10])]
    parts += [str(int(row[11] or 0)), _aware(row[12])]
    parts += [str(int(row[13] or 0)), _aware(row[14])]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def knowledge_fingerprint(s: Session, chatbot_id: int) -> str:
    """A short text that changes whenever the event's public data changes (one query: the
    assistant's row and six indexed aggregates). Raises NotFound for an unknown assistant."""
    row = s.execute(_fingerprint_stmt(chatbot_id)).one_or_none()
    if row is None:
        raise NotFound(f"There is no event assistant with id {chatbot_id}.")
    return _digest(row)


# Loading ---------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\w:])\+?\d[\d ()./-]{7,}\d(?!\w)")


def mask_contacts(text: str) -> str:
    """Mask email addresses and phone numbers (guests' contact details are not public)."""
    text = _EMAIL_RE.sub("[email withheld]", text)
    return _PHONE_RE.sub(
        lambda m: m.group(0) if _looks_like_time(m.group(0)) else "[phone withheld]", text
    )


def _looks_like_time(text: str) -> bool:
    # Years, ranges of years and clock times are not phone numbers ("2019-2024", "09:00-10:30").
    digits = re.sub(r"\D", "", text)
    return len(digits) < 9


def load_knowledge(s: Session, chatbot_id: int) -> EventKnowledge:
    """The event's public data as a frozen snapshot, in four queries.

    The fingerprint is read first, in the same query as the assistant's row: if the data changes
    while the rest is read, the snapshot is newer than its fingerprint and the next check simply
    rebuilds it once more; it can never stay stale.
    """
    row = s.execute(_fingerprint_stmt(chatbot_id)).one_or_none()
    if row is None:
        raise NotFound(f"There is no event assistant with id {chatbot_id}.")
    fingerprint = _digest(row)
    modes: list[ConversationMode] = []
    if row.single_mode:
        modes.append(ConversationMode.SINGLE)
    if row.multiple_mode:
        modes.append(ConversationMode.MULTIPLE)

    guest_rows = s.execute(
        select(
            Guest.id,
            Guest.name,
            Guest.title,
            Guest.organization,
            Guest.description,
            Guest.is_speaker,
            Guest.is_moderator,
        )
        .where(Guest.chatbot_id == chatbot_id)
        .order_by(Guest.name, Guest.id)
    ).all()
    guests = tuple(
        GuestFact(
            id=g.id,
            name=g.name,
            title=g.title or "",
            organization=g.organization or "",
            description=mask_contacts(g.description or ""),
            is_speaker=bool(g.is_speaker),
            is_moderator=bool(g.is_moderator),
        )
        for g in guest_rows
    )
    by_id = {g.id: g for g in guests}

    item_rows = s.execute(
        select(
            AgendaItem.id,
            AgendaItem.title,
            AgendaItem.description,
            AgendaItem.starts_at,
            AgendaItem.ends_at,
            AgendaItem.location,
            AgendaItem.track,
            agenda_item_speakers.c.guest_id,
        )
        .outerjoin(agenda_item_speakers, agenda_item_speakers.c.agenda_item_id == AgendaItem.id)
        .where(AgendaItem.chatbot_id == chatbot_id)
        .order_by(AgendaItem.starts_at, AgendaItem.title, AgendaItem.id)
    ).all()
    items: dict[int, Any] = {}
    links: dict[int, list[int]] = {}
    for r in item_rows:
        items.setdefault(r.id, r)
        if r.guest_id is not None and r.guest_id in by_id:
            links.setdefault(r.id, []).append(r.guest_id)
    sessions = []
    for item_id, r in items.items():
        linked = sorted(links.get(item_id, []), key=lambda gid: (by_id[gid].name.lower(), gid))
        moderators = tuple(
            gid for gid in linked if by_id[gid].is_moderator and not by_id[gid].is_speaker
        )
        sessions.append(
            SessionFact(
                id=item_id,
                title=r.title,
                description=r.description or "",
                starts_at=_utc(r.starts_at),
                ends_at=_utc(r.ends_at),
                location=r.location or "",
                track=r.track or "",
                speaker_ids=tuple(gid for gid in linked if gid not in moderators),
                moderator_ids=moderators,
            )
        )

    faq_rows = s.execute(
        select(FaqEntry.id, FaqEntry.question, FaqEntry.answer, FaqEntry.position)
        .where(FaqEntry.chatbot_id == chatbot_id)
        .order_by(FaqEntry.position, FaqEntry.id)
    ).all()
    faq = tuple(FaqFact(f.id, f.question, f.answer, f.position) for f in faq_rows)

    return EventKnowledge(
        chatbot_id=row.id,
        name=row.name,
        event_name=row.event_name,
        description=row.description or "",
        start_date=row.start_date,
        end_date=row.end_date,
        system_prompt=row.system_prompt or "",
        modes=tuple(modes),
        guests=guests,
        sessions=tuple(sessions),
        faq=faq,
        fingerprint=fingerprint,
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = [
    "EventKnowledge",
    "FaqFact",
    "GuestFact",
    "SessionFact",
    "knowledge_fingerprint",
    "load_knowledge",
    "mask_contacts",
]
