"""Event assistants: validation, status, listings, join."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shared.db import Database
from shared.errors import NotFound, PermissionDenied, ValidationError
from shared.models import Chatbot, ChatbotStatus
from shared.services import chatbots
from shared.services.common import Actor, venue_today
from tests.factories import make_admin, make_chatbot, make_user


def create(db: Database, admin: Actor, **overrides: Any) -> chatbots.ChatbotDetail:
    today = venue_today()
    values: dict[str, Any] = {
        "name": "Summit assistant",
        "event_name": "Converge Summit",
        "start_date": today,
        "end_date": today + timedelta(days=2),
    }
    values.update(overrides)
    with db.session() as s:
        return chatbots.create(s, admin, **values)


@pytest.mark.parametrize(
    ("start", "end", "active", "status"),
    [
        (1, 3, True, ChatbotStatus.UPCOMING),
        (-1, 1, True, ChatbotStatus.ACTIVE),
        (0, 0, True, ChatbotStatus.ACTIVE),
        (-3, -1, True, ChatbotStatus.ENDED),
        (-1, 1, False, ChatbotStatus.INACTIVE),
    ],
)
def test_status_is_derived_from_dates_and_the_active_flag(
    start: int, end: int, active: bool, status: ChatbotStatus
) -> None:
    today = date(2026, 11, 25)
    got = chatbots.status_of(
        today + timedelta(days=start), today + timedelta(days=end), active, today
    )
    assert got is status


def test_create_validates_and_returns_figures(db: Database) -> None:
    admin = make_admin(db)
    bot = create(db, admin, system_prompt="Be brief.\r\nBe kind.", multiple_mode=True)
    assert bot.status is ChatbotStatus.ACTIVE
    assert bot.system_prompt == "Be brief.\nBe kind."
    assert bot.message_count == bot.participant_count == bot.guest_count == 0
    with pytest.raises(ValidationError, match="end date") as info:
        create(db, admin, start_date="2026-12-05", end_date="2026-12-01")
    assert info.value.field == "end_date"
    with pytest.raises(ValidationError, match="Name is required"):
        create(db, admin, name="  ")
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        create(db, admin, start_date="5th of December")
    with pytest.raises(ValidationError, match="at least one mode"):
        create(db, admin, single_mode=False, multiple_mode=False)
    with pytest.raises(ValidationError, match="too long"):
        create(db, admin, system_prompt="x" * 20_001)
    with db.read() as s:
        assert len(s.scalars(select(Chatbot)).all()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Café ☕ Summit — 2026",
        "مؤتمر الذكاء الاصطناعي",
        "כנס בינה מלאכותית",
        "🤖🎤👩🏽‍💻",
        "Robert'); DROP TABLE chatbots; --",
        "50% off _all_ \\ slashes",
    ],
)
def test_hostile_names_are_stored_exactly(db: Database, text: str) -> None:
    admin = make_admin(db)
    bot = create(db, admin, name=text, event_name=text, description=text)
    with db.read() as s:
        stored = chatbots.get(s, admin, bot.id)
        assert (stored.name, stored.event_name, stored.description) == (text, text, text)
        found = chatbots.list_for_organizers(s, admin, search=text[:5])
    assert [b.id for b in found] == [bot.id]


def test_nul_bytes_are_refused_clearly(db: Database) -> None:
    admin = make_admin(db)
    with pytest.raises(ValidationError, match="control characters"):
        create(db, admin, name="Bad\x00name")


def test_update_and_settings(db: Database) -> None:
    admin = make_admin(db)
    bot = create(db, admin)
    with db.session() as s:
        updated = chatbots.update_settings(
            s, admin, bot.id, system_prompt="Answer in French.", multiple_mode=True
        )
    assert updated.system_prompt == "Answer in French."
    assert updated.modes == (chatbots.ConversationMode.SINGLE, chatbots.ConversationMode.MULTIPLE)
    with db.session() as s, pytest.raises(ValidationError, match="Unknown field"):
        chatbots.update_chatbot(s, admin, bot.id, message_count=99)
    with db.session() as s, pytest.raises(NotFound):
        chatbots.update_chatbot(s, admin, 424242, name="x")


def test_attendee_listing_shows_public_active_not_ended_and_joined_private(db: Database) -> None:
    admin = make_admin(db)
    today = venue_today()
    live = make_chatbot(db, "Live")
    make_chatbot(db, "Ended", start=today - timedelta(days=5), end=today - timedelta(days=1))
    make_chatbot(db, "Off", active=False)
    private = make_chatbot(db, "Private", public=False)
    soon = make_chatbot(db, "Soon", start=today + timedelta(days=3), end=today + timedelta(days=4))
    attendee = make_user(db)
    with db.read() as s:
        walk_up = {b.name for b in chatbots.list_for_attendees(s, None)}
        assert walk_up == {"Live", "Soon"}
    with db.session() as s:
        chatbots.enroll(s, admin, private, [attendee.user_id])
    with db.read() as s:
        mine = {b.id for b in chatbots.list_for_attendees(s, attendee)}
        assert mine == {live, private, soon}
        limited = chatbots.list_for_attendees(s, attendee, kiosk_ids=frozenset({private}))
        assert [b.id for b in limited] == [private]
    with db.read() as s, pytest.raises(NotFound):
        chatbots.available_chatbot(s, None, private)


def test_join_is_idempotent_and_counts_once(db: Database) -> None:
    bot = make_chatbot(db)
    attendee = make_user(db)
    with db.session() as s:
        assert chatbots.join(s, attendee, bot) is True
    with db.session() as s:
        assert chatbots.join(s, attendee, bot) is False
    with db.read() as s:
        assert s.scalar(select(Chatbot.participant_count).where(Chatbot.id == bot)) == 1
        assert chatbots.joined_ids(s, attendee) == {bot}


def test_cannot_join_ended_or_inactive(db: Database) -> None:
    today = venue_today()
    ended = make_chatbot(db, start=today - timedelta(days=3), end=today - timedelta(days=1))
    off = make_chatbot(db, active=False)
    attendee = make_user(db)
    for bot in (ended, off):
        with db.session() as s, pytest.raises(PermissionDenied, match="not available"):
            chatbots.join(s, attendee, bot)


def test_delete_says_what_goes_with_it(db: Database) -> None:
    admin = make_admin(db)
    bot = make_chatbot(db)
    attendee = make_user(db)
    with db.session() as s:
        chatbots.join(s, attendee, bot)
    with db.session() as s:
        impact = chatbots.delete_chatbot(s, admin, bot)
    assert impact.participants == 1
    with db.read() as s:
        assert s.get(Chatbot, bot) is None


def test_organizer_search_treats_wildcards_literally(db: Database) -> None:
    admin = make_admin(db)
    create(db, admin, name="Deals 50% off")
    create(db, admin, name="Plain")
    with db.read() as s:
        assert [b.name for b in chatbots.list_for_organizers(s, admin, search="50%")] == [
            "Deals 50% off"
        ]
        assert chatbots.list_for_organizers(s, admin, search="_") == []
