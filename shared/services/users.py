"""User administration: list, search, edit, (de)activate, change role, delete, activity.

Deleting a user erases their personal data: the account, its sessions and enrolments, and their
conversations and messages (the database cascades). The event figures (message counters and the
daily rollup) are aggregates without personal data and keep counting what was said; the enrolment
counters are adjusted. Organizers cannot delete, deactivate or demote themselves, so an event never
loses its last organizer by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shared.models import (
    Chatbot,
    ChatbotParticipant,
    Conversation,
    Message,
    Role,
    SessionToken,
    User,
)
from shared.services.common import (
    Actor,
    Page,
    UserInfo,
    escape_like,
    require_admin,
    require_user,
)
from shared.validation import clean_email, clean_name, clean_text, clean_username

SortKey = Literal[
    "name", "username", "email", "role", "active", "created_at", "last_login_at", "message_count"
]
SORT_COLUMNS: dict[str, Any] = {
    "name": User.name,
    "username": User.username,
    "email": User.email,
    "role": User.role,
    "active": User.active,
    "created_at": User.created_at,
    "last_login_at": User.last_login_at,
    "message_count": User.message_count,
}
MAX_PAGE = 1000


@dataclass(frozen=True)
class UserQuery:
    """What the users table shows: a search text, filters and a sort order."""

    search: str = ""
    role: Role | None = None
    active: bool | None = None
    sort: str = "name"
    descending: bool = False


def _filtered(stmt: Select[Any], query: UserQuery) -> Select[Any]:
    term = clean_text(query.search, "search", "Search", max_length=200, required=False)
    if term:
        like = f"%{escape_like(term.lower())}%"
        stmt = stmt.where(
            or_(
                User.username.like(like, escape="\\"),
                User.email.like(like, escape="\\"),
                func.lower(User.name).like(like, escape="\\"),
            )
        )
    if query.role is not None:
        stmt = stmt.where(User.role == Role(query.role).value)
    if query.active is not None:
        stmt = stmt.where(User.active.is_(query.active))
    return stmt


def list_users(
    s: Session, actor: Actor, query: UserQuery | None = None, *, offset: int = 0, limit: int = 100
) -> Page[UserInfo]:
    """One page of users matching the query, with the total count (organizers only)."""
    require_admin(s, actor)
    query = query or UserQuery()
    if query.sort not in SORT_COLUMNS:
        raise ValidationError(f"Cannot sort users by {query.sort!r}.", "sort")
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    column = SORT_COLUMNS[query.sort]
    order = [column.desc() if query.descending else column.asc()]
    order.append(User.id.desc() if query.descending else User.id.asc())
    rows = s.scalars(_filtered(select(User), query).order_by(*order).offset(offset).limit(limit))
    total = s.scalar(_filtered(select(func.count()).select_from(User), query)) or 0
    return Page(tuple(UserInfo.of(u) for u in rows), int(total), offset, limit)


def get_user(s: Session, actor: Actor, user_id: int) -> UserInfo:
    """A user: organizers see anyone, attendees only themselves."""
    me = require_user(s, actor)
    if me.id != user_id:
        require_admin(s, actor)
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return UserInfo.of(user)


def _target(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


def _apply_identity(
    s: Session, user: User, *, name: str | None, email: str | None, username: str | None
) -> None:
    if name is not None:
        user.name = clean_name(name)
    if email is not None:
        cleaned = clean_email(email)
        taken = s.scalar(select(User.id).where(User.email == cleaned, User.id != user.id))
        if taken is not None:
            raise Conflict(f"An account with the email {cleaned} exists already.")
        user.email = cleaned
    if username is not None:
        cleaned = clean_username(username)
        taken = s.scalar(select(User.id).where(User.username == cleaned, User.id != user.id))
        if taken is not None:
            raise Conflict(f"The username {cleaned!r} is taken.")
        user.username = cleaned
    user.updated_at = utcnow()
    s.flush()


def update_user(
    s: Session,
    actor: Actor,
    user_id: int,
    *,
    name: str | None = None,
    email: str | None = None,
    username: str | None = None,
) -> UserInfo:
    """Organizer edit of a user's name, email or username (only the fields given)."""
    require_admin(s, actor)
    user = _target(s, user_id)
    _apply_identity(s, user, name=name, email=email, username=username)
    return UserInfo.of(user)


def update_profile(
    s: Session, actor: Actor, *, name: str | None = None, email: str | None = None
) -> UserInfo:
    """An attendee's own profile: name and email."""
    me = require_user(s, actor)
    _apply_identity(s, me, name=name, email=email, username=None)
    return UserInfo.of(me)


def set_active(s: Session, actor: Actor, user_id: int, active: bool) -> UserInfo:
    """Activate or deactivate an account; deactivating signs it out everywhere at once."""
    admin = require_admin(s, actor)
    user = _target(s, user_id)
    if user.id == admin.id and not active:
        raise PermissionDenied("You cannot deactivate your own account.")
    user.active = bool(active)
    user.updated_at = utcnow()
    if not active:
        s.execute(
            update(SessionToken)
            .where(SessionToken.user_id == user.id, SessionToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    s.flush()
    return UserInfo.of(user)


def set_role(s: Session, actor: Actor, user_id: int, role: Role) -> UserInfo:
    """Make a user an organizer or an attendee."""
    admin = require_admin(s, actor)
    user = _target(s, user_id)
    role = Role(role)
    if user.id == admin.id and role is not Role.ADMIN:
        raise PermissionDenied("You cannot remove your own organizer role.")
    user.role = role.value
    user.updated_at = utcnow()
    s.flush()
    return UserInfo.of(user)


@dataclass(frozen=True)
class UserDeletion:
    """What deleting a user erased (for the confirmation and the notification)."""

    user_id: int
    username: str
    conversations: int
    messages: int
    enrolments: int


def deletion_impact(s: Session, actor: Actor, user_id: int) -> UserDeletion:
    require_admin(s, actor)
    user = _target(s, user_id)
    conversations = s.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.user_id == user.id)
    )
    enrolments = s.scalar(
        select(func.count())
        .select_from(ChatbotParticipant)
        .where(ChatbotParticipant.user_id == user.id)
    )
    return UserDeletion(
        user_id=user.id,
        username=user.username,
        conversations=int(conversations or 0),
        messages=user.message_count,
        enrolments=int(enrolments or 0),
    )


def delete_user(s: Session, actor: Actor, user_id: int) -> UserDeletion:
    """Delete an account and its personal data (see the module docstring)."""
    admin = require_admin(s, actor)
    if user_id == admin.id:
        raise PermissionDenied("You cannot delete your own account.")
    impact = deletion_impact(s, actor, user_id)
    stmt = select(ChatbotParticipant.chatbot_id).where(ChatbotParticipant.user_id == user_id)
    joined = list(s.scalars(stmt))
    if joined:
        s.execute(
            update(Chatbot)
            .where(Chatbot.id.in_(joined))
            .values(
                participant_count=Chatbot.participant_count - 1, updated_at=Chatbot.updated_at
            )
        )
    # Bulk deletes first: the cascades would do the same row by row.
    no_sync = {"synchronize_session": False}
    s.execute(delete(Message).where(Message.user_id == user_id), execution_options=no_sync)
    s.execute(
        delete(Conversation).where(Conversation.user_id == user_id), execution_options=no_sync
    )
    s.execute(delete(User).where(User.id == user_id), execution_options=no_sync)
    s.expire_all()
    return impact


@dataclass(frozen=True)
class Participation:
    """One assistant a user joined, with their own activity there."""

    chatbot_id: int
    chatbot_name: str
    joined_at: datetime
    message_count: int
    last_activity_at: datetime | None


@dataclass(frozen=True)
class UserActivity:
    """A user's activity for the organizers' user view."""

    user: UserInfo
    participations: tuple[Participation, ...]
    conversations: int
    last_message_at: datetime | None


def user_activity(s: Session, actor: Actor, user_id: int) -> UserActivity:
    """What a user did: assistants joined, messages, conversations (organizers only)."""
    require_admin(s, actor)
    user = _target(s, user_id)
    rows = s.execute(
        select(ChatbotParticipant, Chatbot.name)
        .join(Chatbot, Chatbot.id == ChatbotParticipant.chatbot_id)
        .where(ChatbotParticipant.user_id == user_id)
        .order_by(ChatbotParticipant.joined_at.desc())
    )
    participations = tuple(
        Participation(p.chatbot_id, name, p.joined_at, p.message_count, p.last_activity_at)
        for p, name in rows
    )
    conversations, last = s.execute(
        select(func.count(), func.max(Conversation.last_message_at)).where(
            Conversation.user_id == user_id
        )
    ).one()
    if last is not None and last.tzinfo is None:  # aggregates bypass the column type
        last = last.replace(tzinfo=UTC)
    return UserActivity(UserInfo.of(user), participations, int(conversations or 0), last)
