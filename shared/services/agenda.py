"""An event's programme (agenda items: talks, panels, workshops, breaks) with their speakers.

Organizers create, edit and delete items; anyone who may use the assistant reads the programme
(the rules of guests: organizers any event's, attendees and walk-up visitors the events they may
use now). Speakers are guests of the same event.

Times: stored as aware UTC. An aware datetime (or ISO 8601 text with an offset) is taken as it is;
a naive one (or text without an offset) is read as the venue's wall-clock time in the
``event.timezone`` zone, which is what an organizer types in the console; a wall-clock time that
does not exist (skipped by a clock change) is refused rather than guessed. An item starts on one
of the event's days and may run past midnight into the next morning.

Every write touches ``updated_at``, so the assistant's knowledge fingerprint
(:func:`shared.assistant.knowledge.knowledge_fingerprint`) sees the change and its index is rebuilt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.db import utcnow
from shared.errors import NotFound, ValidationError
from shared.models import AgendaItem, Chatbot, Guest, Role
from shared.services.chatbots import available_chatbot
from shared.services.common import Actor, get_chatbot, require_admin, require_user
from shared.settings import get_settings
from shared.validation import clean_text

log = logging.getLogger("convergeai.agenda")

TITLE_MAX = 200
DESCRIPTION_MAX = 5_000
PLACE_MAX = 120
SPEAKERS_MAX = 50
#: How late (venue-local, on the day after the event's last day) an item may end.
LATEST_END = time(6, 0)
UPCOMING_DEFAULT = 3


@dataclass(frozen=True)
class SpeakerInfo:
    """A speaker (or moderator) of an agenda item: the guest's id and name."""

    guest_id: int
    name: str


@dataclass(frozen=True)
class AgendaItemInfo:
    """One item of a programme. Times are aware UTC; speakers in name order."""

    id: int
    chatbot_id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str
    track: str
    speakers: tuple[SpeakerInfo, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def speaker_ids(self) -> tuple[int, ...]:
        return tuple(sp.guest_id for sp in self.speakers)

    @property
    def speaker_names(self) -> tuple[str, ...]:
        return tuple(sp.name for sp in self.speakers)

    def is_on(self, at: datetime) -> bool:
        """Whether the item is running at ``at`` (from its start, until just before its end)."""
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class NowAndNext:
    """What is on at a moment, and the next items to start after it (by start time)."""

    at: datetime
    now: tuple[AgendaItemInfo, ...]
    next: tuple[AgendaItemInfo, ...]


def _info(item: AgendaItem) -> AgendaItemInfo:
    speakers = sorted(item.speakers, key=lambda g: (g.name.lower(), g.id))
    return AgendaItemInfo(
        id=item.id,
        chatbot_id=item.chatbot_id,
        title=item.title,
        description=item.description,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        location=item.location,
        track=item.track,
        speakers=tuple(SpeakerInfo(g.id, g.name) for g in speakers),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


# Validation ------------------------------------------------------------------------------------

_FIELDS = {"title", "description", "starts_at", "ends_at", "location", "track", "speaker_ids"}


def _exists_locally(local: datetime, zone: ZoneInfo) -> bool:
    """Whether a naive wall-clock time exists in a zone (not skipped by a clock change)."""
    aware = local.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return back == local


def as_utc(value: Any, field: str, label: str) -> datetime:
    """A time given as a datetime or ISO 8601 text, as aware UTC (naive = venue wall clock)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                f"{label} must be a date and time such as 2026-03-12 14:30.", field
            ) from None
    if not isinstance(value, datetime):
        raise ValidationError(f"{label} must be a date and time.", field)
    if value.tzinfo is None or value.utcoffset() is None:
        zone = get_settings().timezone()
        local = value.replace(tzinfo=None)
        if not _exists_locally(local, zone):
            raise ValidationError(
                f"{label}: {local:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks "
                "change then); choose another time.",
                field,
            )
        value = local.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _as_ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("Speakers must be a list of guest ids.", "speaker_ids")
    ids: list[int] = []
    for raw in value:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationError("Speakers must be a list of guest ids.", "speaker_ids")
        if raw not in ids:
            ids.append(raw)
    if len(ids) > SPEAKERS_MAX:
        raise ValidationError(
            f"An agenda item can have at most {SPEAKERS_MAX} speakers.", "speaker_ids"
        )
    return ids


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - _FIELDS
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "title":
            out[key] = clean_text(value, key, "Title", max_length=TITLE_MAX)
        elif key == "description":
            out[key] = clean_text(
                value,
                key,
                "Description",
                max_length=DESCRIPTION_MAX,
                required=False,
                multiline=True,
            )
        elif key == "location":
            out[key] = clean_text(value, key, "Location", max_length=PLACE_MAX, required=False)
        elif key == "track":
            out[key] = clean_text(value, key, "Track", max_length=PLACE_MAX, required=False)
        elif key == "starts_at":
            out[key] = as_utc(value, key, "Start")
        elif key == "ends_at":
            out[key] = as_utc(value, key, "End")
        else:
            out[key] = _as_ids(value)
    return out


def _speakers(s: Session, chatbot_id: int, ids: list[int]) -> list[Guest]:
    """The guests with these ids, all of them guests of this event."""
    if not ids:
        return []
    found = {g.id: g for g in s.scalars(select(Guest).where(Guest.id.in_(ids)))}
    for gid in ids:
        guest = found.get(gid)
        if guest is None:
            raise ValidationError(f"There is no guest with id {gid}.", "speaker_ids")
        if guest.chatbot_id != chatbot_id:
            raise ValidationError(
                f"{guest.name} is not a guest of this event; speakers must be its guests.",
                "speaker_ids",
            )
    return [found[gid] for gid in ids]


def _check_times(starts_at: datetime, ends_at: datetime, bot: Chatbot) -> None:
    if ends_at < starts_at:
        raise ValidationError("The end cannot be before the start.", "ends_at")
    zone = get_settings().timezone()
    start_day = starts_at.astimezone(zone).date()
    if not bot.start_date <= start_day <= bot.end_date:
        raise ValidationError(
            f"The start must be on one of the event's days ({bot.start_date:%d %b %Y} to "
            f"{bot.end_date:%d %b %Y}).",
            "starts_at",
        )
    latest = datetime.combine(bot.end_date + timedelta(days=1), LATEST_END, zone)
    if ends_at > latest.astimezone(UTC):
        raise ValidationError(
            f"The end must be by {LATEST_END:%H:%M} on the morning after the event's last day.",
            "ends_at",
        )


def _get_item(s: Session, item_id: int) -> AgendaItem:
    item = s.scalars(
        select(AgendaItem)
        .where(AgendaItem.id == item_id)
        .options(selectinload(AgendaItem.speakers))
    ).one_or_none()
    if item is None:
        raise NotFound(f"There is no agenda item with id {item_id}.")
    return item


# Organizer actions -----------------------------------------------------------------------------


def create(
    s: Session,
    actor: Actor,
    chatbot_id: int,
    *,
    title: str,
    starts_at: datetime | str,
    ends_at: datetime | str,
    description: str = "",
    location: str = "",
    track: str = "",
    speaker_ids: Iterable[int] = (),
) -> AgendaItemInfo:
    """Add an item to an event's programme."""
    require_admin(s, actor)
    bot = get_chatbot(s, chatbot_id)
    values = _clean(
        {
            "title": title,
            "description": description,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "location": location,
            "track": track,
            "speaker_ids": speaker_ids,
        }
    )
    speakers = _speakers(s, chatbot_id, values.pop("speaker_ids"))
    now = utcnow()
    _check_times(values["starts_at"], values["ends_at"], bot)
    item = AgendaItem(chatbot_id=chatbot_id, created_at=now, updated_at=now, **values)
    item.speakers = speakers
    s.add(item)
    s.flush()
    return _info(item)


def update_item(s: Session, actor: Actor, item_id: int, **changes: Any) -> AgendaItemInfo:
    """Change some fields of an agenda item (only those given; ``speaker_ids`` replaces the
    whole list). Nothing is changed when any value is refused."""
    require_admin(s, actor)
    values = _clean(changes)
    item = _get_item(s, item_id)
    bot = get_chatbot(s, item.chatbot_id)
    speakers = (
        _speakers(s, item.chatbot_id, values.pop("speaker_ids"))
        if "speaker_ids" in values
        else None
    )
    _check_times(values.get("starts_at", item.starts_at), values.get("ends_at", item.ends_at), bot)
    for key, value in values.items():
        setattr(item, key, value)
    if speakers is not None:
        item.speakers = speakers
    item.updated_at = utcnow()
    s.flush()
    return _info(item)


def delete_item(s: Session, actor: Actor, item_id: int) -> None:
    """Remove an item from the programme (its speakers stay guests)."""
    require_admin(s, actor)
    item = _get_item(s, item_id)
    s.delete(item)
    s.flush()
    log.info(
        "agenda item %s of chatbot %s deleted by user %s", item_id, item.chatbot_id, actor.user_id
    )


def get(s: Session, actor: Actor, item_id: int) -> AgendaItemInfo:
    """One agenda item (organizers)."""
    require_admin(s, actor)
    return _info(_get_item(s, item_id))


def list_for_organizers(s: Session, actor: Actor, chatbot_id: int) -> list[AgendaItemInfo]:
    """An event's whole programme in time order (organizers)."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    return _query(s, chatbot_id)


# Reading ---------------------------------------------------------------------------------------


def require_reader(s: Session, actor: Actor | None, chatbot_id: int) -> None:
    """Organizers read any event's programme; attendees and walk-up visitors those of the
    events they may use now."""
    if actor is not None:
        user = require_user(s, actor)
        if user.role == Role.ADMIN.value:
            get_chatbot(s, chatbot_id)
            return
    available_chatbot(s, actor, chatbot_id)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start and end (aware UTC) of a venue-local day."""
    zone = get_settings().timezone()
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _query(
    s: Session, chatbot_id: int, *, day: date | None = None, track: str | None = None
) -> list[AgendaItemInfo]:
    stmt = (
        select(AgendaItem)
        .where(AgendaItem.chatbot_id == chatbot_id)
        .options(selectinload(AgendaItem.speakers))
        .order_by(AgendaItem.starts_at, AgendaItem.title, AgendaItem.id)
    )
    if day is not None:
        start, end = day_bounds(day)
        stmt = stmt.where(AgendaItem.starts_at >= start, AgendaItem.starts_at < end)
    if track is not None and track.strip():
        stmt = stmt.where(AgendaItem.track == track.strip())
    return [_info(item) for item in s.scalars(stmt)]


def list_items(
    s: Session,
    actor: Actor | None,
    chatbot_id: int,
    *,
    day: date | None = None,
    track: str | None = None,
) -> list[AgendaItemInfo]:
    """An event's programme in time order, for whoever may read it; ``day`` (venue-local)
    keeps the items starting that day, ``track`` those of one track."""
    require_reader(s, actor, chatbot_id)
    return _query(s, chatbot_id, day=day, track=track)


#: The programme as attendees browse it (same as :func:`list_items`).
programme = list_items


def get_item(s: Session, actor: Actor | None, item_id: int) -> AgendaItemInfo:
    """One agenda item, for whoever may read its event's programme."""
    item = _get_item(s, item_id)
    try:
        require_reader(s, actor, item.chatbot_id)
    except NotFound:
        raise NotFound(f"There is no agenda item with id {item_id}.") from None
    return _info(item)


def tracks(s: Session, actor: Actor | None, chatbot_id: int) -> list[str]:
    """The tracks of an event's programme, sorted."""
    require_reader(s, actor, chatbot_id)
    rows = s.scalars(
        select(AgendaItem.track)
        .where(AgendaItem.chatbot_id == chatbot_id, AgendaItem.track != "")
        .distinct()
    )
    return sorted(set(rows), key=str.casefold)


def now_and_next(
    s: Session,
    actor: Actor | None,
    chatbot_id: int,
    *,
    at: datetime | None = None,
    upcoming: int = UPCOMING_DEFAULT,
) -> NowAndNext:
    """What is on at ``at`` (aware; default now) and the next ``upcoming`` items to start."""
    if at is None:
        at = utcnow()
    elif at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("now_and_next needs an aware datetime, not a naive one")
    at = at.astimezone(UTC)
    require_reader(s, actor, chatbot_id)
    base = (
        select(AgendaItem)
        .where(AgendaItem.chatbot_id == chatbot_id)
        .options(selectinload(AgendaItem.speakers))
        .order_by(AgendaItem.starts_at, AgendaItem.title, AgendaItem.id)
    )
    running = s.scalars(base.where(AgendaItem.starts_at <= at, AgendaItem.ends_at > at))
    nxt: list[AgendaItem] = []
    if upcoming > 0:
        nxt = list(s.scalars(base.where(AgendaItem.starts_at > at).limit(upcoming)))
    return NowAndNext(at, tuple(_info(i) for i in running), tuple(_info(i) for i in nxt))


def sessions_of_guest(s: Session, actor: Actor | None, guest_id: int) -> list[AgendaItemInfo]:
    """The items a guest speaks at or moderates, in time order."""
    guest = s.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"There is no guest with id {guest_id}.")
    try:
        require_reader(s, actor, guest.chatbot_id)
    except NotFound:
        raise NotFound(f"There is no guest with id {guest_id}.") from None
    stmt = (
        select(AgendaItem)
        .where(AgendaItem.speakers.any(Guest.id == guest_id))
        .options(selectinload(AgendaItem.speakers))
        .order_by(AgendaItem.starts_at, AgendaItem.title, AgendaItem.id)
    )
    return [_info(item) for item in s.scalars(stmt)]


__all__ = [
    "AgendaItemInfo",
    "NowAndNext",
    "SpeakerInfo",
    "as_utc",
    "create",
    "day_bounds",
    "delete_item",
    "get",
    "get_item",
    "list_for_organizers",
    "list_items",
    "now_and_next",
    "programme",
    "require_reader",
    "sessions_of_guest",
    "tracks",
    "update_item",
]
