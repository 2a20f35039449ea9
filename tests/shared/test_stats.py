"""Organizers' figures against hand-computed expectations, and who may see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.db import Database
from shared.errors import NotFound, PermissionDenied, ValidationError
from shared.models import ConversationMode, DailyMessageCount, Guest, MessageSource, Role, User
from shared.services import chat, stats
from shared.services.common import Actor, venue_today
from shared.services.responder import Reply
from tests.factories import make_admin, make_chatbot, make_user


def ask(
    db: Database, actor: Actor | None, conversation_id: int, questions: int, replies: int
) -> None:
    """Post ``questions`` attendee messages and answer the first ``replies`` of them."""
    with db.session() as s:
        asked = [
            chat.post_user_message(s, actor, conversation_id, f"question {i}")
            for i in range(questions)
        ]
        for question in asked[:replies]:
            chat.post_reply(
                s, conversation_id, question.id, Reply("answer", MessageSource.TEST, True)
            )


def start(db: Database, actor: Actor | None, chatbot_id: int, mode: ConversationMode) -> int:
    with db.session() as s:
        return chat.start_conversation(s, actor, chatbot_id, mode).id


def set_user(db: Database, actor: Actor, **values: Any) -> None:
    with db.session() as s:
        s.execute(update(User).where(User.id == actor.user_id).values(**values))


def add_daily(db: Database, chatbot_id: int, day: date, messages: int) -> None:
    with db.session() as s:
        s.add(DailyMessageCount(chatbot_id=chatbot_id, day=day, messages=messages, user_messages=0))


def test_dashboard_and_chatbot_figures(db: Database) -> None:
    today = venue_today()
    admin = make_admin(db)
    ada = make_user(db)
    bob = make_user(db)
    make_user(db, active=False)
    make_user(db, "former-organizer", role=Role.ADMIN, active=False)
    running = make_chatbot(db, "Running")
    today_only = make_chatbot(db, "Today only", start=today, end=today)
    make_chatbot(db, "Upcoming", start=today + timedelta(days=2), end=today + timedelta(days=5))
    make_chatbot(
        db,
        "Upcoming, off",
        start=today + timedelta(days=2),
        end=today + timedelta(days=3),
        active=False,
    )
    make_chatbot(db, "Ended", start=today - timedelta(days=5), end=today - timedelta(days=1))
    make_chatbot(db, "Off", active=False)

    ada_conv = start(db, ada, running, ConversationMode.SINGLE)
    bob_conv = start(db, bob, running, ConversationMode.SINGLE)
    walk_up = start(db, None, running, ConversationMode.MULTIPLE)
    bob_today = start(db, bob, today_only, ConversationMode.SINGLE)
    ask(db, ada, ada_conv, 3, 2)
    ask(db, bob, bob_conv, 1, 1)
    ask(db, None, walk_up, 2, 2)
    ask(db, bob, bob_today, 1, 0)
    with db.session() as s:
        s.add_all(
            [Guest(chatbot_id=running, name="Speaker A"), Guest(chatbot_id=running, name="B")]
        )
    # An older day in the rollup: in messages per day, not in "today", and the total comes from
    # the assistants' counters (12), never from adding the rollup up.
    add_daily(db, running, today - timedelta(days=1), 7)

    with db.read() as s:
        figures = stats.dashboard(s, admin)
        assert figures == stats.DashboardFigures(
            total_chatbots=6,
            active_chatbots=2,
            upcoming_events=1,
            total_users=5,
            active_users=3,
            total_messages=12,
            messages_today=12,
        )
        assert stats.chatbot_figures(s, admin, running) == stats.ChatbotFigures(
            chatbot_id=running,
            user_messages=6,
            bot_messages=5,
            total_messages=11,
            participants=2,
            guests=2,
            conversations=3,
        )
        assert stats.chatbot_figures(s, admin, today_only) == stats.ChatbotFigures(
            chatbot_id=today_only,
            user_messages=1,
            bot_messages=0,
            total_messages=1,
            participants=1,
            guests=0,
            conversations=1,
        )
        with pytest.raises(NotFound):
            stats.chatbot_figures(s, admin, 999_999)
        assert stats.messages_per_day(s, admin, days=3) == [
            (today - timedelta(days=2), 0),
            (today - timedelta(days=1), 7),
            (today, 12),
        ]
        assert stats.messages_per_day(s, admin, days=2, chatbot_id=today_only) == [
            (today - timedelta(days=1), 0),
            (today, 1),
        ]
        top = stats.most_active_users(s, admin)
        assert [(u.user_id, u.message_count) for u in top] == [(ada.user_id, 3), (bob.user_id, 2)]
        per_bot = stats.most_active_users(s, admin, chatbot_id=running)
        assert [(u.user_id, u.message_count) for u in per_bot] == [
            (ada.user_id, 3),
            (bob.user_id, 1),
        ]
        assert [u.user_id for u in stats.most_active_users(s, admin, chatbot_id=today_only)] == [
            bob.user_id
        ]


def test_messages_per_day_fills_the_window_with_zeros(db: Database) -> None:
    admin = make_admin(db)
    a = make_chatbot(db, "A")
    b = make_chatbot(db, "B")
    today = date(2026, 3, 30)  # the window crosses the switch to summer time (29 March)
    for bot, day, n in [
        (a, date(2026, 3, 20), 5),  # before the window
        (a, date(2026, 3, 25), 4),  # the day before the window
        (a, date(2026, 3, 28), 2),
        (b, date(2026, 3, 28), 3),
        (a, date(2026, 3, 30), 1),
        (a, date(2026, 3, 31), 9),  # after "today"
    ]:
        add_daily(db, bot, day, n)
    with db.read() as s:
        assert stats.messages_per_day(s, admin, days=5, today=today) == [
            (date(2026, 3, 26), 0),
            (date(2026, 3, 27), 0),
            (date(2026, 3, 28), 5),
            (date(2026, 3, 29), 0),
            (date(2026, 3, 30), 1),
        ]
        assert stats.messages_per_day(s, admin, days=5, today=today, chatbot_id=b) == [
            (date(2026, 3, 26), 0),
            (date(2026, 3, 27), 0),
            (date(2026, 3, 28), 3),
            (date(2026, 3, 29), 0),
            (date(2026, 3, 30), 0),
        ]
        assert stats.messages_per_day(s, admin, days=1, today=today) == [(today, 1)]
        month = stats.messages_per_day(s, admin, today=today)
        assert len(month) == 30
        assert month[0] == (date(2026, 3, 1), 0)
        assert month[-1] == (today, 1)
        assert sum(n for _, n in month) == 5 + 4 + 2 + 3 + 1
        assert len(stats.messages_per_day(s, admin, days=stats.DAYS_MAX)) == stats.DAYS_MAX
        for bad in (0, -1, stats.DAYS_MAX + 1, True, 2.5):
            with pytest.raises(ValidationError, match="number of days"):
                stats.messages_per_day(s, admin, days=bad)  # type: ignore[arg-type]


def test_most_active_users_order_limit_and_ties(db: Database) -> None:
    admin = make_admin(db)
    first = make_user(db)
    second = make_user(db)
    third = make_user(db)
    quiet = make_user(db)
    set_user(db, first, message_count=5)
    set_user(db, second, message_count=7)
    set_user(db, third, message_count=5)
    with db.read() as s:
        top = stats.most_active_users(s, admin)
        assert [(u.user_id, u.message_count) for u in top] == [
            (second.user_id, 7),
            (third.user_id, 5),  # a tie goes to the newer account
            (first.user_id, 5),
        ]
        assert quiet.user_id not in [u.user_id for u in top]
        assert [u.user_id for u in stats.most_active_users(s, admin, limit=2)] == [
            second.user_id,
            third.user_id,
        ]
        assert len(stats.most_active_users(s, admin, limit=0)) == 1  # clamped
        user = s.get(User, second.user_id)
        assert user is not None
        assert top[0] == stats.ActiveUser(second.user_id, user.username, user.name, 7)


def test_new_users_per_day_by_venue_local_day(db: Database) -> None:
    admin = make_admin(db)
    set_user(db, admin, created_at=datetime(2020, 1, 1, tzinfo=UTC))
    # Europe/Paris: UTC+1 until 29 March 2026 01:00 UTC, UTC+2 after.
    stamps = [
        datetime(2026, 3, 26, 22, 59, tzinfo=UTC),  # 26th 23:59: before the window
        datetime(2026, 3, 26, 23, 0, tzinfo=UTC),  # 27th 00:00
        datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC),  # 28th 23:59:59.999999
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # 29th 00:00
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 29th 01:59, just before the switch
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 29th 03:00 summer time
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 30th 00:00 (UTC still says the 29th)
        datetime(2026, 3, 30, 21, 59, tzinfo=UTC),  # 30th 23:59
        datetime(2026, 3, 30, 22, 0, tzinfo=UTC),  # 31st 00:00: after the window
    ]
    for stamp in stamps:
        set_user(db, make_user(db), created_at=stamp)
    with db.read() as s:
        assert stats.new_users_per_day(s, admin, days=4, today=date(2026, 3, 30)) == [
            (date(2026, 3, 27), 1),
            (date(2026, 3, 28), 1),
            (date(2026, 3, 29), 3),
            (date(2026, 3, 30), 2),
        ]
        year = stats.new_users_per_day(s, admin, days=stats.DAYS_MAX, today=date(2026, 12, 31))
        assert len(year) == stats.DAYS_MAX
        assert year[0] == (date(2025, 12, 31), 0)
        assert sum(n for _, n in year) == len(stamps)
        with pytest.raises(ValidationError, match="number of days"):
            stats.new_users_per_day(s, admin, days=0)
    make_user(db)  # created now
    with db.read() as s:
        recent = stats.new_users_per_day(s, admin, days=2)
    assert recent == [(venue_today() - timedelta(days=1), 0), (venue_today(), 1)]


StatsCall = Callable[[Session, Actor, int], object]
CALLS: list[tuple[str, StatsCall]] = [
    ("dashboard", lambda s, a, bot: stats.dashboard(s, a)),
    ("chatbot_figures", lambda s, a, bot: stats.chatbot_figures(s, a, bot)),
    ("messages_per_day", lambda s, a, bot: stats.messages_per_day(s, a)),
    ("messages_per_day_one", lambda s, a, bot: stats.messages_per_day(s, a, chatbot_id=bot)),
    ("most_active_users", lambda s, a, bot: stats.most_active_users(s, a)),
    ("most_active_users_one", lambda s, a, bot: stats.most_active_users(s, a, chatbot_id=bot)),
    ("new_users_per_day", lambda s, a, bot: stats.new_users_per_day(s, a)),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_only_active_organizers_see_figures(db: Database, name: str, call: StatsCall) -> None:
    admin = make_admin(db)
    attendee = make_user(db)
    former = make_user(db, "former-organizer", role=Role.ADMIN, active=False)
    bot = make_chatbot(db)
    with db.read() as s:
        call(s, admin, bot)  # works for an organizer
        with pytest.raises(PermissionDenied, match="Only organizers"):
            call(s, attendee, bot)
        with pytest.raises(PermissionDenied, match="not active"):
            call(s, former, bot)
        with pytest.raises(PermissionDenied, match="sign in"):
            call(s, None, bot)  # type: ignore[arg-type]
    # A demoted organizer loses access at once, whatever their Actor says.
    with db.session() as s:
        s.execute(update(User).where(User.id == admin.user_id).values(role=Role.ATTENDEE.value))
    with db.read() as s, pytest.raises(PermissionDenied, match="Only organizers"):
        call(s, admin, bot)
