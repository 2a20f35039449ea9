"""The demo conference: realistic, valid, live around today, idempotent, no organizer account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

import shared.demo
from shared.db import Database
from shared.demo import (
    DEMO_ATTENDEES,
    DEMO_CHATBOTS,
    DEMO_CONVERSATIONS,
    DEMO_GUESTS,
    DEMO_PASSWORD,
    load_demo,
)
from shared.errors import AuthenticationFailed
from shared.models import (
    Chatbot,
    ChatbotParticipant,
    ChatbotStatus,
    Conversation,
    DailyMessageCount,
    Guest,
    Message,
    MessageSource,
    Role,
    User,
)
from shared.services import auth
from shared.services.chatbots import status_of
from shared.services.common import venue_today

TABLES = (Chatbot, Guest, User, ChatbotParticipant, Conversation, Message, DailyMessageCount)


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {
            t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES
        }


def count_messages(db: Database) -> int:
    return row_counts(db)["messages"]


def demo_bots(db: Database) -> dict[str, Chatbot]:
    names = {spec.name: spec.key for spec in DEMO_CHATBOTS}
    with db.read() as s:
        bots = {names[b.name]: b for b in s.scalars(select(Chatbot)) if b.name in names}
        s.expunge_all()  # keep the loaded values after the read transaction ends
    return bots


def test_demo_loads_a_live_conference(db: Database) -> None:
    summary = load_demo(db)

    assert summary.created
    assert 2 <= len(summary.chatbots) <= 3
    assert summary.guests >= 12
    assert summary.attendees == len(DEMO_ATTENDEES) >= 20
    assert summary.messages == sum(2 * len(c.exchanges) for c in DEMO_CONVERSATIONS)
    assert [login.username for login in summary.logins] == [
        "maya.patel",
        "jonas.weber",
        "chloe.dubois",
    ]
    assert row_counts(db)["chatbots"] == len(summary.chatbots)

    today = venue_today()
    bots = demo_bots(db)
    main, workshops, forum = bots["main"], bots["workshops"], bots["forum"]
    assert (main.start_date, main.end_date) == (
        today - timedelta(days=1),
        today + timedelta(days=1),
    )
    assert (main.public, main.single_mode, main.multiple_mode) == (True, True, True)
    assert "Help Desk" in main.system_prompt
    assert (workshops.public, workshops.single_mode, workshops.multiple_mode) == (True, True, False)
    for bot in (main, workshops):
        assert status_of(bot.start_date, bot.end_date, bot.active, today) is ChatbotStatus.ACTIVE
    assert forum.start_date == today + timedelta(days=20)
    assert status_of(forum.start_date, forum.end_date, forum.active, today) is (
        ChatbotStatus.UPCOMING
    )
    assert not forum.public


def test_demo_guests_have_titles_bios_and_roles(db: Database) -> None:
    load_demo(db)
    with db.read() as s:
        guests = list(s.scalars(select(Guest)))
        s.expunge_all()
    assert len(guests) >= 12
    for guest in guests:
        assert guest.title, guest.name
        assert guest.organization, guest.name
        sentences = [p for p in re.split(r"[.!?](?:\s|$)", guest.description) if p.strip()]
        assert 2 <= len(sentences) <= 4, guest.name
    moderators = [g for g in guests if g.is_moderator]
    assert 2 <= len(moderators) <= 4
    assert sum(g.is_speaker for g in guests) >= 10
    assert len({g.name for g in guests}) == len(guests)


def test_attendees_enrolled_and_no_organizer_created(db: Database) -> None:
    load_demo(db)
    bots = demo_bots(db)
    with db.read() as s:
        users = list(s.scalars(select(User)))
        main_members = set(
            s.scalars(
                select(ChatbotParticipant.user_id).where(
                    ChatbotParticipant.chatbot_id == bots["main"].id
                )
            )
        )
        main_count = s.scalar(
            select(Chatbot.participant_count).where(Chatbot.id == bots["main"].id)
        )
        s.expunge_all()
    assert {u.role for u in users} == {Role.ATTENDEE.value}
    assert main_members == {u.id for u in users}
    assert main_count == len(users)
    for user in users:
        assert user.email.endswith(("@example.org", "@example.com"))
    with_password = sorted(u.username for u in users if u.password_hash)
    assert with_password == ["chloe.dubois", "jonas.weber", "maya.patel"]
    # hashed at the configured cost (4 in the tests)
    assert all(u.password_hash.startswith("$2b$04$") for u in users if u.password_hash)


def test_a_demo_attendee_can_sign_in(db: Database) -> None:
    load_demo(db)
    result = auth.sign_in(db, "maya.patel", DEMO_PASSWORD)
    assert result.user.username == "maya.patel"
    assert result.user.role is Role.ATTENDEE
    with pytest.raises(AuthenticationFailed):
        auth.sign_in(db, "samuel.osei", DEMO_PASSWORD)  # no password: badge-only attendee


def test_demo_conversations_are_offline_answers_with_counters(db: Database) -> None:
    summary = load_demo(db)
    with db.read() as s:
        messages = list(s.scalars(select(Message).order_by(Message.id)))
        bots = list(s.scalars(select(Chatbot)))
        daily = sum(s.scalars(select(DailyMessageCount.messages)))
        walkups = list(s.scalars(select(Conversation).where(Conversation.user_id.is_(None))))
        s.expunge_all()
    replies = [m for m in messages if not m.is_user_message]
    questions = [m for m in messages if m.is_user_message]
    assert len(replies) == len(questions) > 0
    assert {m.source for m in replies} == {MessageSource.OFFLINE.value}
    assert {m.source for m in questions} == {MessageSource.USER.value}
    assert all(r.reply_to_id in {q.id for q in questions} for r in replies)
    assert sum(r.answered is False for r in replies) == 1  # the unanswered-questions list
    assert sum(b.message_count for b in bots) == len(messages) == daily == summary.messages
    assert walkups
    assert all(c.ended_at is not None for c in walkups)


def test_demo_answers_only_quote_the_demo_data() -> None:
    """Every session title quoted in an answer is in a guest's bio of that assistant."""
    for conversation in DEMO_CONVERSATIONS:
        bios = " ".join(g.description for g in DEMO_GUESTS if g.chatbot == conversation.chatbot)
        for exchange in conversation.exchanges:
            for title in re.findall(r"\"([^\"]+)\"", exchange.answer):
                assert title in bios, title


def test_demo_is_idempotent(db: Database) -> None:
    first = load_demo(db)
    before = row_counts(db)
    second = load_demo(db)
    assert not second.created
    assert second.added == 0
    assert second.chatbots == first.chatbots
    assert (second.guests, second.attendees, second.messages) == (
        first.guests,
        first.attendees,
        first.messages,
    )
    assert row_counts(db) == before


def test_demo_fills_in_what_is_missing(db: Database) -> None:
    load_demo(db)
    before = row_counts(db)
    with db.session() as s:
        s.execute(delete(Guest).where(Guest.name == "Grace Adeyemi"))
    summary = load_demo(db)
    assert summary.created
    assert summary.added == 1
    assert row_counts(db) == before


def test_demo_password_is_documented_for_attendees_only() -> None:
    doc = " ".join((shared.demo.__doc__ or "").split())
    assert DEMO_PASSWORD in doc
    assert "the demo never creates an organizer account" in doc


def test_reloading_after_the_demo_ended_adds_no_conversation(db: Database) -> None:
    load_demo(db)
    with db.session() as s:
        s.execute(delete(Message))
        s.execute(delete(Conversation))
        s.execute(
            update(Chatbot).values(
                start_date=venue_today() - timedelta(days=30),
                end_date=venue_today() - timedelta(days=28),
            )
        )
    summary = load_demo(db)
    assert not summary.created
    assert count_messages(db) == 0
