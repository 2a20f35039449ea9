"""Guests of an event (speakers and moderators): organizers manage them, attendees browse them.

Attendees see a guest's public card (name, title, organization, description, roles, whether a
photo exists); organizers also see the contact email and the linked user account. Photos live in
the database (a deferred column, so listings never load them) and are checked by their first bytes:
PNG, JPEG or WebP, at most :data:`PHOTO_MAX_BYTES`. ``photo_updated_at`` lets a kiosk cache them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import Conflict, NotFound, ValidationError
from shared.models import Guest, Role, User
from shared.services.chatbots import available_chatbot
from shared.services.common import (
    Actor,
    escape_like,
    get_chatbot,
    require_admin,
    require_user,
)
from shared.validation import clean_email, clean_name, clean_text

log = logging.getLogger("convergeai.guests")

DESCRIPTION_MAX = 5_000
PHOTO_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class GuestInfo:
    """A guest as attendees see it: no contact details, no account link."""

    id: int
    chatbot_id: int
    name: str
    title: str
    organization: str
    description: str
    is_speaker: bool
    is_moderator: bool
    has_photo: bool
    photo_updated_at: datetime | None


@dataclass(frozen=True)
class GuestDetail(GuestInfo):
    """A guest with what only organizers see."""

    email: str | None
    user_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Photo:
    """A guest's photo: the image bytes and their MIME type."""

    guest_id: int
    data: bytes
    mime: str
    updated_at: datetime | None


def _info(guest: Guest) -> GuestInfo:
    return GuestInfo(
        id=guest.id,
        chatbot_id=guest.chatbot_id,
        name=guest.name,
        title=guest.title,
        organization=guest.organization,
        description=guest.description,
        is_speaker=guest.is_speaker,
        is_moderator=guest.is_moderator,
        has_photo=guest.photo_mime is not None,
        photo_updated_at=guest.photo_updated_at,
    )


def _detail(guest: Guest) -> GuestDetail:
    return GuestDetail(
        **_info(guest).__dict__,
        email=guest.email,
        user_id=guest.user_id,
        created_at=guest.created_at,
        updated_at=guest.updated_at,
    )


# Validation ------------------------------------------------------------------------------------

_FIELDS = {
    "name",
    "title",
    "organization",
    "description",
    "email",
    "is_speaker",
    "is_moderator",
    "user_id",
}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - _FIELDS
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "name":
            out[key] = clean_name(value)
        elif key == "title":
            out[key] = clean_text(value, key, "Title", max_length=200, required=False)
        elif key == "organization":
            out[key] = clean_text(value, key, "Organization", max_length=200, required=False)
        elif key == "description":
            out[key] = clean_text(
                value,
                key,
                "Description",
                max_length=DESCRIPTION_MAX,
                required=False,
                multiline=True,
            )
        elif key == "email":
            out[key] = clean_email(value, required=False) or None
        elif key == "user_id":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValidationError("The linked account must be a user id.", key)
            out[key] = value
        else:
            if not isinstance(value, bool):
                raise ValidationError(f"{key} must be true or false.", key)
            out[key] = value
    return out


def _check_unique(s: Session, guest: Guest) -> None:
    """One guest per name, and per linked account, in an event (catches double submissions)."""
    others = select(Guest.id).where(Guest.chatbot_id == guest.chatbot_id)
    if guest.id is not None:
        others = others.where(Guest.id != guest.id)
    if s.scalar(others.where(func.lower(Guest.name) == guest.name.lower()).limit(1)) is not None:
        raise Conflict(f"This event has a guest named {guest.name!r} already.")
    if guest.user_id is not None:
        if s.get(User, guest.user_id) is None:
            raise ValidationError(f"There is no user with id {guest.user_id}.", "user_id")
        if s.scalar(others.where(Guest.user_id == guest.user_id).limit(1)) is not None:
            raise Conflict("That account is linked to another guest of this event already.")


def _get_guest(s: Session, guest_id: int) -> Guest:
    guest = s.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"There is no guest with id {guest_id}.")
    return guest


def sniff_image(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG or WebP image from its first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _check_photo(data: object) -> tuple[bytes, str]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValidationError("The photo must be image data.", "photo")
    raw = bytes(data)
    if not raw:
        raise ValidationError("The photo file is empty.", "photo")
    if len(raw) > PHOTO_MAX_BYTES:
        raise ValidationError(
            f"The photo is too large ({len(raw) / 1_048_576:.1f} MB; at most "
            f"{PHOTO_MAX_BYTES // 1_048_576} MB). Please use a smaller image.",
            "photo",
        )
    mime = sniff_image(raw)
    if mime is None:
        raise ValidationError("The photo must be a PNG, JPEG or WebP image.", "photo")
    return raw, mime


# Organizer actions -----------------------------------------------------------------------------


def create(
    s: Session,
    actor: Actor,
    chatbot_id: int,
    *,
    name: str,
    title: str = "",
    organization: str = "",
    description: str = "",
    email: str | None = None,
    is_speaker: bool = True,
    is_moderator: bool = False,
    user_id: int | None = None,
) -> GuestDetail:
    """Add a guest to an event assistant."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    values = _clean(
        {
            "name": name,
            "title": title,
            "organization": organization,
            "description": description,
            "email": email,
            "is_speaker": is_speaker,
            "is_moderator": is_moderator,
            "user_id": user_id,
        }
    )
    guest = Guest(chatbot_id=chatbot_id, **values)
    _check_unique(s, guest)
    s.add(guest)
    s.flush()
    return _detail(guest)


def update_guest(s: Session, actor: Actor, guest_id: int, **changes: Any) -> GuestDetail:
    """Change some fields of a guest (only those given)."""
    require_admin(s, actor)
    values = _clean(changes)
    guest = _get_guest(s, guest_id)
    for key, value in values.items():
        setattr(guest, key, value)
    _check_unique(s, guest)
    guest.updated_at = utcnow()
    s.flush()
    return _detail(guest)


def delete_guest(s: Session, actor: Actor, guest_id: int) -> None:
    """Remove a guest, photo and all."""
    require_admin(s, actor)
    guest = _get_guest(s, guest_id)
    s.delete(guest)
    s.flush()
    log.info("guest %s of chatbot %s deleted by user %s", guest_id, guest.chatbot_id, actor.user_id)


def get(s: Session, actor: Actor, guest_id: int) -> GuestDetail:
    """A guest with its organizer-only fields."""
    require_admin(s, actor)
    return _detail(_get_guest(s, guest_id))


def list_for_organizers(
    s: Session, actor: Actor, chatbot_id: int, *, search: str = ""
) -> list[GuestDetail]:
    """An event's guests by name; ``search`` matches name, title, organization or email."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    stmt = select(Guest).where(Guest.chatbot_id == chatbot_id).order_by(Guest.name, Guest.id)
    term = search.strip()
    if term:
        like = f"%{escape_like(term)}%"
        stmt = stmt.where(
            or_(
                Guest.name.ilike(like, escape="\\"),
                Guest.title.ilike(like, escape="\\"),
                Guest.organization.ilike(like, escape="\\"),
                Guest.email.ilike(like, escape="\\"),
            )
        )
    return [_detail(g) for g in s.scalars(stmt)]


def set_photo(s: Session, actor: Actor, guest_id: int, data: bytes) -> GuestDetail:
    """Store (or replace) a guest's photo: PNG, JPEG or WebP, at most 5 MB."""
    require_admin(s, actor)
    raw, mime = _check_photo(data)
    guest = _get_guest(s, guest_id)
    now = utcnow()
    guest.photo = raw
    guest.photo_mime = mime
    guest.photo_updated_at = now
    guest.updated_at = now
    s.flush()
    return _detail(guest)


def remove_photo(s: Session, actor: Actor, guest_id: int) -> GuestDetail:
    """Delete a guest's photo (a no-op when there is none)."""
    require_admin(s, actor)
    guest = _get_guest(s, guest_id)
    if guest.photo_mime is not None:
        now = utcnow()
        guest.photo = None
        guest.photo_mime = None
        guest.photo_updated_at = now
        guest.updated_at = now
        s.flush()
    return _detail(guest)


# Attendee actions ------------------------------------------------------------------------------


def list_for_attendees(s: Session, actor: Actor | None, chatbot_id: int) -> list[GuestInfo]:
    """The guests of an assistant the attendee (or walk-up visitor) may use now, by name."""
    available_chatbot(s, actor, chatbot_id)
    stmt = select(Guest).where(Guest.chatbot_id == chatbot_id).order_by(Guest.name, Guest.id)
    return [_info(g) for g in s.scalars(stmt)]


def photo(s: Session, actor: Actor | None, guest_id: int) -> Photo | None:
    """A guest's photo, or None when it has none.

    Organizers may fetch any guest's photo; attendees only those of assistants they may use.
    """
    guest = _get_guest(s, guest_id)
    user = require_user(s, actor) if actor is not None else None
    if user is None or user.role != Role.ADMIN.value:
        try:
            available_chatbot(s, actor, guest.chatbot_id)
        except NotFound:
            raise NotFound(f"There is no guest with id {guest_id}.") from None
    if guest.photo_mime is None:
        return None
    data = s.scalar(select(Guest.photo).where(Guest.id == guest.id))
    if data is None:
        return None
    return Photo(guest.id, bytes(data), guest.photo_mime, guest.photo_updated_at)
