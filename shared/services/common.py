"""What every service needs: the acting user, permission checks, paging, small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import NotFound, PermissionDenied
from shared.models import Chatbot, Role, User
from shared.settings import get_settings

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user's id and role as known when they signed in.

    Services re-read the user row on every call (one primary-key lookup), so an account that was
    deactivated or demoted loses its rights at once, on every machine.
    """

    user_id: int
    role: Role
    #: The session token the user signed in with, when the caller holds one: on PostgreSQL's
    #: kiosk role the database shows conversations only to the attendee it identifies.
    token: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, with the total number of matching rows."""

    items: tuple[T, ...]
    total: int
    offset: int
    limit: int


def require_user(s: Session, actor: Actor | None) -> User:
    """The acting user's row; refuses anonymous, deleted and deactivated users."""
    if actor is None:
        raise PermissionDenied("Please sign in first.")
    user = s.get(User, actor.user_id)
    if user is None or not user.active:
        raise PermissionDenied("Your account is not active any more. Please sign in again.")
    return user


def require_admin(s: Session, actor: Actor | None) -> User:
    """The acting user's row, refusing anyone who is not an active organizer right now."""
    user = require_user(s, actor)
    if user.role != Role.ADMIN.value:
        raise PermissionDenied("Only organizers can do this.")
    return user


def get_chatbot(s: Session, chatbot_id: int, *, for_update: bool = False) -> Chatbot:
    stmt = select(Chatbot).where(Chatbot.id == chatbot_id)
    if for_update:
        stmt = stmt.with_for_update()
    chatbot = s.scalars(stmt).one_or_none()
    if chatbot is None:
        raise NotFound(f"There is no event assistant with id {chatbot_id}.")
    return chatbot


def venue_today() -> date:
    """Today's date at the venue (the configured time zone)."""
    return datetime.now(get_settings().timezone()).date()


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so a search for '50%' means that text."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class UserInfo:
    """A user as services hand it out: never a secret, never an ORM object."""

    id: int
    username: str
    email: str
    name: str
    role: Role
    active: bool
    must_change_password: bool
    has_password: bool
    has_badge: bool
    message_count: int
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserInfo:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            name=user.name,
            role=Role(user.role),
            active=user.active,
            must_change_password=user.must_change_password,
            has_password=user.password_hash is not None,
            has_badge=user.badge_code_hash is not None,
            message_count=user.message_count,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.role)
