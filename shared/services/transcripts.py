"""Transcripts for organizers: conversations, message search, what attendees asked (in vain).

Everything here is organizer-only (``require_admin``) and read-only. Each listing runs over an
index of :mod:`shared.models`: conversations per assistant by ``(chatbot_id, started_at)``, per
user by ``(user_id, chatbot_id, started_at)``, a conversation's messages by
``(conversation_id, id)``, search and question statistics by ``(chatbot_id, created_at)``.

- Message search is a case-insensitive ``LIKE`` (wildcards in the search text are escaped), newest
  first; its count stops at :data:`SEARCH_COUNT_CAP` so a common word never scans millions of rows
  just to be counted.
- "Most asked questions" groups the attendees' messages of a recent window after normalizing them
  (case, spacing, trailing punctuation), over at most :data:`QUESTION_SAMPLE` of the newest ones,
  in Python: the same on every backend, and bounded at 2 million messages.
- "Unanswered questions" are replies stored with ``answered = False`` (an offline "I don't know"
  or a fallback), each with the question it answered (``reply_to_id``); their count stops at
  :data:`UNANSWERED_COUNT_CAP`.
"""

from __future__ import annotations

import heapq
import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from shared.db import utcnow
from shared.errors import NotFound, ValidationError
from shared.models import Chatbot, Conversation, ConversationMode, Message, MessageSource, User
from shared.services.common import Actor, Page, escape_like, get_chatbot, require_admin
from shared.services.responder import MessageInfo
from shared.validation import clean_text

PAGE_MAX = 500
TRANSCRIPT_MAX = 5_000
SEARCH_COUNT_CAP = 10_000
QUESTION_SAMPLE = 5_000
UNANSWERED_COUNT_CAP = 1_000
DAYS_MAX = 366
TOP_MAX = 100


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation in a list: who, where, when, how long."""

    id: int
    chatbot_id: int
    chatbot_name: str
    user_id: int | None
    username: str | None
    user_name: str | None
    mode: ConversationMode
    kiosk_name: str
    started_at: datetime
    ended_at: datetime | None
    message_count: int
    last_message_at: datetime | None


@dataclass(frozen=True)
class Transcript:
    """One conversation with its messages, oldest first. ``truncated``: only the newest
    :data:`TRANSCRIPT_MAX` messages are included."""

    conversation: ConversationSummary
    messages: tuple[MessageInfo, ...]
    truncated: bool


@dataclass(frozen=True)
class MessageHit:
    """A message found by a search, with its conversation and author."""

    id: int
    conversation_id: int
    chatbot_id: int
    user_id: int | None
    username: str | None
    is_user_message: bool
    content: str
    source: MessageSource
    answered: bool | None
    created_at: datetime


@dataclass(frozen=True)
class SearchResult:
    """A page of search hits. ``total`` stops at :data:`SEARCH_COUNT_CAP` (``capped`` says so)."""

    items: tuple[MessageHit, ...]
    total: int
    capped: bool
    offset: int
    limit: int


@dataclass(frozen=True)
class QuestionCount:
    """A question attendees asked, as first written, and how often (normalized) it was asked."""

    question: str
    count: int
    last_asked_at: datetime


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question whose reply was an offline or "don't know" answer."""

    question_id: int
    reply_id: int
    conversation_id: int
    chatbot_id: int
    question: str
    reply: str
    source: MessageSource
    asked_at: datetime


# Helpers ---------------------------------------------------------------------------------------


def _paging(offset: int, limit: int) -> tuple[int, int]:
    return max(0, int(offset)), max(1, min(int(limit), PAGE_MAX))


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # aggregates bypass the column type
        return value.replace(tzinfo=UTC)
    return value


def _since(days: int) -> datetime:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= DAYS_MAX:
        raise ValidationError(f"The number of days must be from 1 to {DAYS_MAX}.", "days")
    return utcnow() - timedelta(days=days)


def _summary_select() -> Any:
    stmt = (
        select(Conversation, Chatbot.name, User.username, User.name)
        .join(Chatbot, Chatbot.id == Conversation.chatbot_id)
        .outerjoin(User, User.id == Conversation.user_id)
    )
    return stmt


def _summary(conv: Conversation, bot: str, username: str | None, name: str | None) -> (
    ConversationSummary
):
    return ConversationSummary(
        id=conv.id,
        chatbot_id=conv.chatbot_id,
        chatbot_name=bot,
        user_id=conv.user_id,
        username=username,
        user_name=name,
        mode=ConversationMode(conv.mode),
        kiosk_name=conv.kiosk_name,
        started_at=conv.started_at,
        ended_at=conv.ended_at,
        message_count=conv.message_count,
        last_message_at=conv.last_message_at,
    )


_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?!.,;:…]+$")


def normalize_question(text: str) -> str:
    """The form questions are grouped by: NFKC, case-folded, single spaces, no end punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _TRAILING.sub("", _SPACES.sub(" ", folded).strip())


def _chatbot_ids(s: Session, chatbot_id: int | None) -> list[int]:
    if chatbot_id is not None:
        return [get_chatbot(s, chatbot_id).id]
    return list(s.scalars(select(Chatbot.id)))


# Conversations ---------------------------------------------------------------------------------


def list_conversations(
    s: Session,
    actor: Actor,
    *,
    chatbot_id: int | None = None,
    user_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[ConversationSummary]:
    """Conversations of an assistant or of a user (or both), newest first."""
    require_admin(s, actor)
    if chatbot_id is None and user_id is None:
        raise ValidationError("Choose an assistant or a user.", "chatbot_id")
    offset, limit = _paging(offset, limit)
    conditions = []
    if chatbot_id is not None:
        get_chatbot(s, chatbot_id)
        conditions.append(Conversation.chatbot_id == chatbot_id)
    if user_id is not None:
        if s.get(User, user_id) is None:
            raise NotFound(f"There is no user with id {user_id}.")
        conditions.append(Conversation.user_id == user_id)
    rows = s.execute(
        _summary_select()
        .where(*conditions)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .offset(offset)
        .limit(limit)
    )
    items = tuple(_summary(conv, bot, uname, name) for conv, bot, uname, name in rows)
    total = s.scalar(select(func.count()).select_from(Conversation).where(*conditions)) or 0
    return Page(items, int(total), offset, limit)


def get_conversation(s: Session, actor: Actor, conversation_id: int) -> ConversationSummary:
    """One conversation's summary."""
    require_admin(s, actor)
    row = s.execute(_summary_select().where(Conversation.id == conversation_id)).one_or_none()
    if row is None:
        raise NotFound(f"There is no conversation with id {conversation_id}.")
    conv, bot, username, name = row
    return _summary(conv, bot, username, name)


def transcript(s: Session, actor: Actor, conversation_id: int) -> Transcript:
    """A whole conversation, oldest first (the newest :data:`TRANSCRIPT_MAX` messages)."""
    summary = get_conversation(s, actor, conversation_id)
    rows = list(
        s.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(TRANSCRIPT_MAX + 1)
        )
    )
    truncated = len(rows) > TRANSCRIPT_MAX
    messages = tuple(MessageInfo.of(m) for m in reversed(rows[:TRANSCRIPT_MAX]))
    return Transcript(summary, messages, truncated)


# Search ----------------------------------------------------------------------------------------


def search_messages(
    s: Session,
    actor: Actor,
    chatbot_id: int,
    text: str,
    *,
    offset: int = 0,
    limit: int = 100,
) -> SearchResult:
    """Messages of an assistant containing ``text`` (case-insensitive), newest first."""
    require_admin(s, actor)
    get_chatbot(s, chatbot_id)
    term = clean_text(text, "text", "Search text", max_length=200)
    offset, limit = _paging(offset, limit)
    like = f"%{escape_like(term)}%"
    where = (Message.chatbot_id == chatbot_id, Message.content.ilike(like, escape="\\"))
    rows = s.execute(
        select(Message, User.username)
        .outerjoin(User, User.id == Message.user_id)
        .where(*where)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .offset(offset)
        .limit(limit)
    )
    items = tuple(
        MessageHit(
            id=m.id,
            conversation_id=m.conversation_id,
            chatbot_id=m.chatbot_id,
            user_id=m.user_id,
            username=username,
            is_user_message=m.is_user_message,
            content=m.content,
            source=MessageSource(m.source),
            answered=m.answered,
            created_at=m.created_at,
        )
        for m, username in rows
    )
    capped_ids = select(Message.id).where(*where).limit(SEARCH_COUNT_CAP + 1).subquery()
    total = int(s.scalar(select(func.count()).select_from(capped_ids)) or 0)
    capped = total > SEARCH_COUNT_CAP
    return SearchResult(items, min(total, SEARCH_COUNT_CAP), capped, offset, limit)


# What attendees ask ----------------------------------------------------------------------------


def top_questions(
    s: Session,
    actor: Actor,
    *,
    chatbot_id: int | None = None,
    days: int = 30,
    limit: int = 10,
) -> list[QuestionCount]:
    """The questions asked most often over the last ``days`` days, most first (ties: the most
    recently asked first). Identical questions after :func:`normalize_question` count as one."""
    require_admin(s, actor)
    since = _since(days)
    limit = max(1, min(int(limit), TOP_MAX))
    ids = _chatbot_ids(s, chatbot_id)
    if not ids:
        return []
    stmt = select(Message.content, Message.created_at).where(
        Message.created_at >= since, Message.is_user_message.is_(True)
    )
    if chatbot_id is not None:
        # The (chatbot_id, created_at) index, read backwards.
        stmt = stmt.where(Message.chatbot_id == ids[0]).order_by(Message.created_at.desc())
    else:
        # Every assistant: ids grow with time, so the primary key read backwards gives the
        # newest questions without sorting the window (measured: 600-800 ms -> a few ms at
        # 2 million messages).
        stmt = stmt.order_by(Message.id.desc())
    rows = s.execute(stmt.limit(QUESTION_SAMPLE))
    counts: Counter[str] = Counter()
    first_text: dict[str, str] = {}
    latest: dict[str, datetime] = {}
    for content, created in rows:
        key = normalize_question(content)
        if not key:
            continue
        counts[key] += 1
        first_text.setdefault(key, content.strip())  # the newest wording
        if key not in latest or created > latest[key]:
            latest[key] = created
    ranked = sorted(counts, key=lambda k: (-counts[k], -latest[k].timestamp(), k))
    return [QuestionCount(first_text[k], counts[k], latest[k]) for k in ranked[:limit]]


def unanswered_questions(
    s: Session,
    actor: Actor,
    *,
    chatbot_id: int | None = None,
    days: int = 30,
    offset: int = 0,
    limit: int = 50,
) -> Page[UnansweredQuestion]:
    """Questions whose reply said the assistant did not know, newest first. ``total`` stops at
    :data:`UNANSWERED_COUNT_CAP`."""
    require_admin(s, actor)
    since = _since(days)
    offset, limit = _paging(offset, limit)
    ids = _chatbot_ids(s, chatbot_id)
    if not ids:
        return Page((), 0, offset, limit)
    question = aliased(Message)

    def unanswered(chatbot: int) -> Any:
        # One assistant at a time: each walks its (chatbot_id, created_at) index backwards and
        # stops early; an IN list over every assistant would sort the whole window instead.
        return (
            select(Message, question.content, question.created_at)
            .join(question, question.id == Message.reply_to_id)
            .where(
                Message.chatbot_id == chatbot,
                Message.created_at >= since,
                Message.is_user_message.is_(False),
                Message.answered.is_(False),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
        )

    per_bot = [list(s.execute(unanswered(bot).limit(offset + limit))) for bot in ids]
    newest = heapq.merge(*per_bot, key=lambda row: (row[0].created_at, row[0].id), reverse=True)
    rows = list(itertools.islice(newest, offset, offset + limit))
    items = tuple(
        UnansweredQuestion(
            question_id=reply.reply_to_id or 0,
            reply_id=reply.id,
            conversation_id=reply.conversation_id,
            chatbot_id=reply.chatbot_id,
            question=content,
            reply=reply.content,
            source=MessageSource(reply.source),
            asked_at=_aware(asked) or reply.created_at,
        )
        for reply, content, asked in rows
    )
    # Counted up to a cap, so a busy month is never counted in full.
    total = 0
    for bot in ids:
        matching = unanswered(bot).with_only_columns(Message.id).limit(
            UNANSWERED_COUNT_CAP - total
        )
        total += int(s.scalar(select(func.count()).select_from(matching.subquery())) or 0)
        if total >= UNANSWERED_COUNT_CAP:
            break
    return Page(items, total, offset, limit)


__all__ = [
    "ConversationSummary",
    "MessageHit",
    "QuestionCount",
    "SearchResult",
    "Transcript",
    "UnansweredQuestion",
    "get_conversation",
    "list_conversations",
    "normalize_question",
    "search_messages",
    "top_questions",
    "transcript",
    "unanswered_questions",
]
