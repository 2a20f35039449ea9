"""Small builders for test data, written straight to the database (no bcrypt at cost 12)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import bcrypt

from shared.db import Database
from shared.models import Chatbot, Role, User
from shared.services.common import Actor, venue_today

PASSWORD = "correct horse battery"
_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
_counter = itertools.count(1)


def make_user(
    db: Database,
    username: str | None = None,
    *,
    role: Role = Role.ATTENDEE,
    active: bool = True,
    name: str | None = None,
    email: str | None = None,
    password: bool = True,
) -> Actor:
    """A user with the password ``PASSWORD``; returns its Actor."""
    n = next(_counter)
    username = username or f"user{n}"
    with db.session() as s:
        user = User(
            username=username,
            email=email or f"{username}@example.org",
            name=name or f"User {n}",
            password_hash=_HASH if password else None,
            role=role.value,
            active=active,
        )
        s.add(user)
        s.flush()
        return Actor(user.id, role)


def make_admin(db: Database, username: str = "organizer") -> Actor:
    return make_user(db, username, role=Role.ADMIN)


def make_chatbot(
    db: Database,
    name: str = "Summit assistant",
    *,
    start: date | None = None,
    end: date | None = None,
    public: bool = True,
    active: bool = True,
    single_mode: bool = True,
    multiple_mode: bool = True,
    created_by: Actor | None = None,
) -> int:
    """A chatbot running from yesterday to tomorrow unless told otherwise; returns its id."""
    today = venue_today()
    with db.session() as s:
        bot = Chatbot(
            name=name,
            event_name=f"{name} event",
            description="An event for tests.",
            start_date=start or today - timedelta(days=1),
            end_date=end or today + timedelta(days=1),
            public=public,
            active=active,
            single_mode=single_mode,
            multiple_mode=multiple_mode,
            created_by_id=created_by.user_id if created_by else None,
        )
        s.add(bot)
        s.flush()
        return bot.id
