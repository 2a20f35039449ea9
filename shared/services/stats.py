"""Figures for organizers: the dashboard, one assistant's figures, activity over time.

Every figure comes from a maintained counter, the daily rollup or a count over an index, never
from counting messages: at 2 million messages a ``COUNT(*)`` is a table scan on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from shared.errors import ValidationError
from shared.models import Chatbot, ChatbotParticipant, Conversation, DailyMessageCount, Guest, User
from shared.services.common import Actor, get_chatbot, require_admin, venue_today
from shared.settings import get_settings

DAYS_MAX = 366
TOP_MAX = 100


@dataclass(frozen=True)
class DashboardFigures:
    """The console's overview. ``active_chatbots``: switched on and running today at the venue;
    ``upcoming_events``: switched on and starting after today; ``active_users``: accounts not
    deactivated (``total_users`` counts every account, organizers included)."""

    total_chatbots: int
    active_chatbots: int
    upcoming_events: int
    total_users: int
    active_users: int
    total_messages: int
    messages_today: int


@dataclass(frozen=True)
class ChatbotFigures:
    """One assistant's figures: messages (attendees' questions, the assistant's replies),
    enrolled participants, guests, conversations."""

    chatbot_id: int
    user_messages: int
    bot_messages: int
    total_messages: int
    participants: int
    guests: int
    conversations: int


@dataclass(frozen=True)
class ActiveUser:
    """A user in a "most active" list, with the number of messages they wrote."""

    user_id: int
    username: str
    name: str
    message_count: int


def _sum_if(condition: Any) -> Any:
    # Portable conditional count (MariaDB has no FILTER clause).
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _window(days: int, today: date | None) -> tuple[date, date]:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= DAYS_MAX:
        raise ValidationError(f"The number of days must be from 1 to {DAYS_MAX}.", "days")
    last = today if today is not None else venue_today()
    return last - timedelta(days=days - 1), last


def _filled(first: date, last: date, counts: dict[date, int]) -> list[tuple[date, int]]:
    out = []
    day = first
    while day <= last:
        out.append((day, counts.get(day, 0)))
        day += timedelta(days=1)
    return out


def dashboard(s: Session, actor: Actor) -> DashboardFigures:
    """The overview figures: a handful of aggregate queries over small tables and indexes."""
    require_admin(s, actor)
    today = venue_today()
    bots = s.execute(
        select(
            func.count(),
            _sum_if(
                and_(
                    Chatbot.active.is_(True), Chatbot.start_date <= today, Chatbot.end_date >= today
                )
            ),
            _sum_if(and_(Chatbot.active.is_(True), Chatbot.start_date > today)),
            func.coalesce(func.sum(Chatbot.message_count), 0),
        ).select_from(Chatbot)
    ).one()
    # One pass over the (role, active) index, which covers both counts.
    users = s.execute(select(func.count(), _sum_if(User.active.is_(True))).select_from(User)).one()
    today_messages = s.scalar(
        select(func.coalesce(func.sum(DailyMessageCount.messages), 0)).where(
            DailyMessageCount.day == today
        )
    )
    return DashboardFigures(
        total_chatbots=int(bots[0]),
        active_chatbots=int(bots[1]),
        upcoming_events=int(bots[2]),
        total_users=int(users[0]),
        active_users=int(users[1]),
        total_messages=int(bots[3]),
        messages_today=int(today_messages or 0),
    )


def chatbot_figures(s: Session, actor: Actor, chatbot_id: int) -> ChatbotFigures:
    """One assistant's figures, from its counters and two indexed counts."""
    require_admin(s, actor)
    bot = get_chatbot(s, chatbot_id)
    guests = s.scalar(select(func.count()).select_from(Guest).where(Guest.chatbot_id == bot.id))
    conversations = s.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.chatbot_id == bot.id)
    )
    return ChatbotFigures(
        chatbot_id=bot.id,
        user_messages=bot.user_message_count,
        bot_messages=bot.message_count - bot.user_message_count,
        total_messages=bot.message_count,
        participants=bot.participant_count,
        guests=int(guests or 0),
        conversations=int(conversations or 0),
    )


def messages_per_day(
    s: Session,
    actor: Actor,
    *,
    days: int = 30,
    chatbot_id: int | None = None,
    today: date | None = None,
) -> list[tuple[date, int]]:
    """Messages per venue-local day over the last ``days`` days ending ``today`` (the venue's,
    by default), oldest first, every day present (zeros included). From the daily rollup."""
    require_admin(s, actor)
    first, last = _window(days, today)
    stmt = (
        select(DailyMessageCount.day, func.sum(DailyMessageCount.messages))
        .where(DailyMessageCount.day >= first, DailyMessageCount.day <= last)
        .group_by(DailyMessageCount.day)
    )
    if chatbot_id is not None:
        stmt = stmt.where(DailyMessageCount.chatbot_id == chatbot_id)
    counts = {day: int(n or 0) for day, n in s.execute(stmt)}
    return _filled(first, last, counts)


def most_active_users(
    s: Session, actor: Actor, *, limit: int = 10, chatbot_id: int | None = None
) -> list[ActiveUser]:
    """The users who wrote the most messages (overall, or with one assistant), most first; users
    who wrote none are left out. ``limit`` is kept within 1..100.

    Ties go to the newer account (or enrolment): ordering by the indexed count and the id both
    descending lets every backend read the index backwards and stop at ``limit``. (With the id
    ascending MariaDB sorts all users: 250 ms at 100,000 users instead of 2 ms.)
    """
    require_admin(s, actor)
    limit = max(1, min(int(limit), TOP_MAX))
    if chatbot_id is None:
        # The users.message_count index.
        rows = s.execute(
            select(User.id, User.username, User.name, User.message_count)
            .where(User.message_count > 0)
            .order_by(User.message_count.desc(), User.id.desc())
            .limit(limit)
        )
    else:
        # The (chatbot_id, message_count) index of chatbot_participants.
        rows = s.execute(
            select(User.id, User.username, User.name, ChatbotParticipant.message_count)
            .join(User, User.id == ChatbotParticipant.user_id)
            .where(
                ChatbotParticipant.chatbot_id == chatbot_id, ChatbotParticipant.message_count > 0
            )
            .order_by(ChatbotParticipant.message_count.desc(), ChatbotParticipant.id.desc())
            .limit(limit)
        )
    return [ActiveUser(int(uid), uname, name, int(n)) for uid, uname, name, n in rows]


def new_users_per_day(
    s: Session, actor: Actor, *, days: int = 30, today: date | None = None
) -> list[tuple[date, int]]:
    """Accounts created per venue-local day over the last ``days`` days, oldest first, zeros
    included.

    Each venue-local day is turned into its UTC bounds here (exact across daylight-saving
    changes, in any zone); the database then counts each day's range of the created_at index,
    all days in one statement. Portable SQL, no time zone support needed in the database, and
    about 30 ms for 100,000 accounts created in the window. (DAYS_MAX keeps the statement under
    SQLite's limit of 500 terms in a compound SELECT.)
    """
    require_admin(s, actor)
    first, last = _window(days, today)
    zone = get_settings().timezone()
    day_list = [first + timedelta(days=i) for i in range(days)]
    bounds = [_venue_midnight(day, zone) for day in [*day_list, last + timedelta(days=1)]]
    rows: Iterable[Any] = s.execute(
        union_all(
            *(
                select(literal_column(str(i)), func.count())
                .select_from(User)
                .where(User.created_at >= bounds[i], User.created_at < bounds[i + 1])
                for i in range(days)
            )
        )
    )
    counts = {day_list[int(i)]: int(n) for i, n in rows}
    return _filled(first, last, counts)


def _venue_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant a venue-local day starts (its first instant, should midnight be skipped
    or repeated by a clock change)."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


__all__ = [
    "ActiveUser",
    "ChatbotFigures",
    "DashboardFigures",
    "chatbot_figures",
    "dashboard",
    "messages_per_day",
    "most_active_users",
    "new_users_per_day",
]
