"""Event assistants (chatbots): create, edit, delete, list, join, and their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import NotFound, PermissionDenied, ValidationError
from shared.models import (
    Chatbot,
    ChatbotParticipant,
    ChatbotStatus,
    Conversation,
    ConversationMode,
    Guest,
    Message,
)
from shared.services.common import (
    Actor,
    escape_like,
    get_chatbot,
    require_admin,
    require_user,
    venue_today,
)
from shared.validation import clean_text

SYSTEM_PROMPT_MAX = 20_000
DESCRIPTION_MAX = 5_000


def status_of(start: date, end: date, active: bool, today: date) -> ChatbotStatus:
    """Inactive when switched off; otherwise upcoming, active or ended by the venue's date."""
    if not active:
        return ChatbotStatus.INACTIVE
    if today < start:
        return ChatbotStatus.UPCOMING
    if today > end:
        return ChatbotStatus.ENDED
    return ChatbotStatus.ACTIVE


@dataclass(frozen=True)
class ChatbotInfo:
    """A chatbot as attendees and organizers see it."""

    id: int
    name: str
    event_name: str
    description: str
    start_date: date
    end_date: date
    status: ChatbotStatus
    single_mode: bool
    multiple_mode: bool
    public: bool
    active: bool
    guest_count: int
    participant_count: int
    updated_at: datetime

    @property
    def modes(self) -> tuple[ConversationMode, ...]:
        out = []
        if self.single_mode:
            out.append(ConversationMode.SINGLE)
        if self.multiple_mode:
            out.append(ConversationMode.MULTIPLE)
        return tuple(out)


@dataclass(frozen=True)
class ChatbotDetail(ChatbotInfo):
    """A chatbot with its organizer-only settings and figures."""

    system_prompt: str
    created_by_id: int | None
    message_count: int
    user_message_count: int
    bot_message_count: int
    created_at: datetime


def _guest_counts(s: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = s.execute(
        select(Guest.chatbot_id, func.count())
        .where(Guest.chatbot_id.in_(ids))
        .group_by(Guest.chatbot_id)
    )
    return {cid: int(n) for cid, n in rows}


def _info(bot: Chatbot, guests: int, today: date) -> ChatbotInfo:
    return ChatbotInfo(
        id=bot.id,
        name=bot.name,
        event_name=bot.event_name,
        description=bot.description,
        start_date=bot.start_date,
        end_date=bot.end_date,
        status=status_of(bot.start_date, bot.end_date, bot.active, today),
        single_mode=bot.single_mode,
        multiple_mode=bot.multiple_mode,
        public=bot.public,
        active=bot.active,
        guest_count=guests,
        participant_count=bot.participant_count,
        updated_at=bot.updated_at,
    )


def _detail(bot: Chatbot, guests: int, today: date) -> ChatbotDetail:
    base = _info(bot, guests, today)
    return ChatbotDetail(
        **base.__dict__,
        system_prompt=bot.system_prompt,
        created_by_id=bot.created_by_id,
        message_count=bot.message_count,
        user_message_count=bot.user_message_count,
        bot_message_count=bot.message_count - bot.user_message_count,
        created_at=bot.created_at,
    )


# Validation ------------------------------------------------------------------------------------

_FIELDS = {
    "name",
    "event_name",
    "description",
    "start_date",
    "end_date",
    "system_prompt",
    "single_mode",
    "multiple_mode",
    "public",
    "active",
}


def _as_date(value: Any, field: str, label: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{label} must be a date (YYYY-MM-DD).", field)


def _as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(f"{field} must be true or false.", field)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - _FIELDS
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "name":
            out[key] = clean_text(value, key, "Name", max_length=120)
        elif key == "event_name":
            out[key] = clean_text(value, key, "Event name", max_length=200)
        elif key == "description":
            out[key] = clean_text(
                value,
                key,
                "Description",
                max_length=DESCRIPTION_MAX,
                required=False,
                multiline=True,
            )
        elif key == "system_prompt":
            out[key] = clean_text(
                value,
                key,
                "System prompt",
                max_length=SYSTEM_PROMPT_MAX,
                required=False,
                multiline=True,
            )
        elif key == "start_date":
            out[key] = _as_date(value, key, "Start date")
        elif key == "end_date":
            out[key] = _as_date(value, key, "End date")
        else:
            out[key] = _as_bool(value, key)
    return out


def _check_consistent(bot: Chatbot) -> None:
    if bot.end_date < bot.start_date:
        raise ValidationError("The end date cannot be before the start date.", "end_date")
    if not (bot.single_mode or bot.multiple_mode):
        raise ValidationError(
            "Choose at least one mode: single-person (signed in) or multiple-person (walk-up).",
            "single_mode",
        )


# Organizer actions -----------------------------------------------------------------------------


def create(
    s: Session,
    actor: Actor,
    *,
    name: str,
    event_name: str,
    start_date: date | str,
    end_date: date | str,
    description: str = "",
    system_prompt: str = "",
    single_mode: bool = True,
    multiple_mode: bool = False,
    public: bool = True,
    active: bool = True,
) -> ChatbotDetail:
    """Create an event assistant."""
    admin = require_admin(s, actor)
    values = _clean(
        {
            "name": name,
            "event_name": event_name,
            "start_date": start_date,
            "end_date": end_date,
            "description": description,
            "system_prompt": system_prompt,
            "single_mode": single_mode,
            "multiple_mode": multiple_mode,
            "public": public,
            "active": active,
        }
    )
    bot = Chatbot(**values, created_by_id=admin.id)
    _check_consistent(bot)
    s.add(bot)
    s.flush()
    return _detail(bot, 0, venue_today())


def update_chatbot(s: Session, actor: Actor, chatbot_id: int, **changes: Any) -> ChatbotDetail:
    """Change some fields of an event assistant (only those given)."""
    require_admin(s, actor)
    values = _clean(changes)
    bot = get_chatbot(s, chatbot_id, for_update=True)
    for key, value in values.items():
        setattr(bot, key, value)
    _check_consistent(bot)
    bot.updated_at = utcnow()
    s.flush()
    return _detail(bot, _guest_counts(s, [bot.id]).get(bot.id, 0), venue_today())


def update_settings(
    s: Session,
    actor: Actor,
    chatbot_id: int,
    *,
    system_prompt: str | None = None,
    single_mode: bool | None = None,
    multiple_mode: bool | None = None,
) -> ChatbotDetail:
    """The assistant's settings page: system prompt and modes."""
    changes = {
        k: v
        for k, v in (
            ("system_prompt", system_prompt),
            ("single_mode", single_mode),
            ("multiple_mode", multiple_mode),
        )
        if v is not None
    }
    return update_chatbot(s, actor, chatbot_id, **changes)


@dataclass(frozen=True)
class DeletionImpact:
    """What deleting a chatbot takes with it (for the confirmation dialog)."""

    chatbot_id: int
    name: str
    guests: int
    participants: int
    conversations: int
    messages: int


def deletion_impact(s: Session, actor: Actor, chatbot_id: int) -> DeletionImpact:
    require_admin(s, actor)
    bot = get_chatbot(s, chatbot_id)
    conversations = s.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.chatbot_id == bot.id)
    )
    return DeletionImpact(
        chatbot_id=bot.id,
        name=bot.name,
        guests=_guest_counts(s, [bot.id]).get(bot.id, 0),
        participants=bot.participant_count,
        conversations=int(conversations or 0),
        messages=bot.message_count,
    )


def delete_chatbot(s: Session, actor: Actor, chatbot_id: int) -> DeletionImpact:
    """Delete an assistant with its guests, enrolments, conversations and messages."""
    impact = deletion_impact(s, actor, chatbot_id)
    # Messages first in bulk (the database cascades would do it too, row by row).
    s.execute(delete(Message).where(Message.chatbot_id == chatbot_id))
    s.execute(delete(Chatbot).where(Chatbot.id == chatbot_id))
    s.expire_all()
    return impact


def get(s: Session, actor: Actor, chatbot_id: int) -> ChatbotDetail:
    """An assistant with its settings (organizers only)."""
    require_admin(s, actor)
    bot = get_chatbot(s, chatbot_id)
    return _detail(bot, _guest_counts(s, [bot.id]).get(bot.id, 0), venue_today())


def list_for_organizers(
    s: Session, actor: Actor, *, search: str = "", status: ChatbotStatus | None = None
) -> list[ChatbotDetail]:
    """Every assistant with its figures, newest event first."""
    require_admin(s, actor)
    stmt = select(Chatbot).order_by(Chatbot.start_date.desc(), Chatbot.id.desc())
    term = search.strip()
    if term:
        like = f"%{escape_like(term)}%"
        stmt = stmt.where(
            or_(
                Chatbot.name.ilike(like, escape="\\"),
                Chatbot.event_name.ilike(like, escape="\\"),
            )
        )
    bots = list(s.scalars(stmt))
    counts = _guest_counts(s, [b.id for b in bots])
    today = venue_today()
    out = [_detail(b, counts.get(b.id, 0), today) for b in bots]
    if status is not None:
        out = [b for b in out if b.status is status]
    return out


# Attendee actions ------------------------------------------------------------------------------


def _available_clause(today: date) -> Any:
    return and_(Chatbot.active.is_(True), Chatbot.end_date >= today)


def list_for_attendees(
    s: Session, actor: Actor | None, *, kiosk_ids: frozenset[int] | None = None
) -> list[ChatbotInfo]:
    """Assistants an attendee may use: public, active and not ended, plus (for a signed-in
    attendee) the private ones they joined. ``kiosk_ids`` limits to what a kiosk shows."""
    today = venue_today()
    visible: Any = Chatbot.public.is_(True)
    if actor is not None:
        user = require_user(s, actor)
        joined = exists().where(
            ChatbotParticipant.chatbot_id == Chatbot.id, ChatbotParticipant.user_id == user.id
        )
        visible = or_(visible, joined)
    stmt = (
        select(Chatbot)
        .where(_available_clause(today), visible)
        .order_by(Chatbot.start_date, Chatbot.name, Chatbot.id)
    )
    if kiosk_ids is not None:
        stmt = stmt.where(Chatbot.id.in_(kiosk_ids))
    bots = list(s.scalars(stmt))
    counts = _guest_counts(s, [b.id for b in bots])
    return [_info(b, counts.get(b.id, 0), today) for b in bots]


def joined_ids(s: Session, actor: Actor) -> set[int]:
    """Ids of the assistants the attendee has joined."""
    user = require_user(s, actor)
    return set(
        s.scalars(
            select(ChatbotParticipant.chatbot_id).where(ChatbotParticipant.user_id == user.id)
        )
    )


def available_chatbot(s: Session, actor: Actor | None, chatbot_id: int) -> Chatbot:
    """The chatbot, if this attendee (or walk-up visitor) may use it now."""
    bot = s.get(Chatbot, chatbot_id)
    if bot is None:
        raise NotFound(f"There is no event assistant with id {chatbot_id}.")
    today = venue_today()
    if not bot.active or bot.end_date < today:
        raise PermissionDenied(f"{bot.name} is not available any more.")
    if not bot.public:
        if actor is None:
            raise NotFound(f"There is no event assistant with id {chatbot_id}.")
        user = require_user(s, actor)
        member = s.scalar(
            select(ChatbotParticipant.id).where(
                ChatbotParticipant.chatbot_id == bot.id, ChatbotParticipant.user_id == user.id
            )
        )
        if member is None and user.role != "admin":
            raise NotFound(f"There is no event assistant with id {chatbot_id}.")
    return bot


def join(s: Session, actor: Actor, chatbot_id: int) -> bool:
    """Enrol the attendee in an assistant; True when newly joined. Idempotent."""
    user = require_user(s, actor)
    available_chatbot(s, actor, chatbot_id)
    return ensure_participant(s, chatbot_id, user.id)


def ensure_participant(s: Session, chatbot_id: int, user_id: int) -> bool:
    """Add the enrolment if missing, keeping the participant counter exact; True if added."""
    already = s.scalar(
        select(ChatbotParticipant.id).where(
            ChatbotParticipant.chatbot_id == chatbot_id, ChatbotParticipant.user_id == user_id
        )
    )
    if already is not None:
        return False
    # Lock the chatbot row before inserting: the insert's foreign-key check takes a shared lock
    # on it, and upgrading that to the counter update's exclusive lock deadlocks two concurrent
    # joins on MariaDB. (No-op on SQLite, where BEGIN IMMEDIATE serializes writers already.)
    s.execute(select(Chatbot.id).where(Chatbot.id == chatbot_id).with_for_update())
    try:
        with s.begin_nested():
            s.add(ChatbotParticipant(chatbot_id=chatbot_id, user_id=user_id))
            s.flush()
    except IntegrityError:
        return False  # joined at the same moment from another kiosk
    s.execute(
        update(Chatbot)
        .where(Chatbot.id == chatbot_id)
        # Keep updated_at as is: a counter is not an edit (and the assistant's index keys on it).
        .values(participant_count=Chatbot.participant_count + 1, updated_at=Chatbot.updated_at)
    )
    return True


def enroll(s: Session, actor: Actor, chatbot_id: int, user_ids: list[int]) -> int:
    """Organizer action: enrol users in an assistant; returns how many were new."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    return sum(ensure_participant(s, chatbot_id, uid) for uid in user_ids)
