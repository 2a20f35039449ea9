"""Chatting with an event assistant: conversations, messages, and the send/reply round trip.

- Single mode: a signed-in attendee's own conversation. Starting one enrols them in the assistant
  and resumes their open conversation with it, from any kiosk.
- Multiple mode: a walk-up visit. Anonymous (no user, even when someone is signed in: it belongs
  to the visit), always new, ended by the kiosk when it goes idle. Whoever holds its id may use it
  until then; afterwards only organizers read it.
- Every message updates its counters in SQL (``n = n + 1``): the assistant's, the conversation's
  and the venue-local daily rollup. The attendee's own messages in their single-mode conversation
  also count for their enrolment and their account (``ChatbotParticipant.message_count`` and
  ``User.message_count`` count questions asked, never the assistant's replies; walk-up messages
  are anonymous and count for nobody).
- ``client_id`` is the kiosk outbox's idempotency key: a send retried after an unknown outcome is
  stored once, and the retry gets the stored message back. Replies are made idempotent the same
  way, with a key derived from the question (``reply:<question id>``), so even two racing
  attempts to answer one question store one reply.
- :func:`send_message` never holds a transaction while the assistant thinks.

Lock order, for MariaDB/MySQL: a write first updates the assistant's row (an exclusive lock that
queues writers to one assistant), then the other counters, and inserts the message last. Its
foreign keys then take shared locks on rows the transaction already holds exclusively; the other
way round two writers each holding a shared lock deadlock when both ask for the exclusive one.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import roles
from shared.db import Database, utcnow
from shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shared.models import (
    Chatbot,
    ChatbotParticipant,
    Conversation,
    ConversationMode,
    DailyMessageCount,
    Message,
    MessageSource,
    Role,
    User,
)
from shared.services.auth import visit_key_hash
from shared.services.chatbots import available_chatbot, ensure_participant
from shared.services.common import Actor, require_user, venue_today
from shared.services.responder import MessageInfo, Reply, ReplyRequest, Responder
from shared.services.sqlops import upsert_add
from shared.settings import get_settings
from shared.validation import clean_text

log = logging.getLogger("convergeai.chat")

MESSAGE_MAX = 2_000
#: Longer assistant replies are cut (a machine-made reply is never refused for its length).
REPLY_MAX = 20_000
CLIENT_ID_MAX = 64
PAGE_MAX = 200
#: Messages before the question handed to the assistant as context.
HISTORY_MESSAGES = 10
#: Prefix of the idempotency keys of replies; refused in keys chosen by kiosks.
REPLY_KEY_PREFIX = "reply:"

ENDED = "This conversation has ended; please start a new one."
_CLIENT_ID_RE = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces


@dataclass(frozen=True)
class ConversationInfo:
    """A conversation as the kiosk and the console see it."""

    id: int
    chatbot_id: int
    user_id: int | None
    mode: ConversationMode
    kiosk_name: str
    started_at: datetime
    ended_at: datetime | None
    message_count: int
    last_message_at: datetime | None

    @classmethod
    def of(cls, conv: Conversation) -> ConversationInfo:
        return cls(
            id=conv.id,
            chatbot_id=conv.chatbot_id,
            user_id=conv.user_id,
            mode=ConversationMode(conv.mode),
            kiosk_name=conv.kiosk_name,
            started_at=conv.started_at,
            ended_at=conv.ended_at,
            message_count=conv.message_count,
            last_message_at=conv.last_message_at,
        )


@dataclass(frozen=True)
class MessagePage:
    """One page of a conversation, oldest first. ``has_more``: older messages exist; pass
    ``before_id`` to :func:`list_messages` to get them."""

    items: tuple[MessageInfo, ...]
    has_more: bool
    before_id: int | None


# Helpers ---------------------------------------------------------------------------------------


def identify(s: Session, actor: Actor | None, access_key: str | None = None) -> None:
    """Tell the database who acts in this transaction: the attendee's session token and the
    walk-up visit's key (only PostgreSQL's kiosk role uses them: it sees the conversations of
    that attendee or visit alone; see shared.roles)."""
    roles.identify(s, token=actor.token if actor is not None else None, visit_key=access_key)


def _not_found(conversation_id: int) -> NotFound:
    return NotFound(f"There is no conversation with id {conversation_id}.")


def _conversation(s: Session, conversation_id: int) -> Conversation:
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        raise _not_found(conversation_id)
    return conv


def _access(s: Session, actor: Actor | None, conv: Conversation, *, write: bool) -> User | None:
    """Refuse unless the actor may read (or write in) the conversation; the owner's row for a
    single-mode conversation.

    Another attendee's conversation is reported as not found, so its existence is not revealed.
    """
    if conv.mode == ConversationMode.SINGLE.value:
        if actor is None:
            raise _not_found(conv.id)
        user = require_user(s, actor)
        if conv.user_id != user.id:
            if user.role != Role.ADMIN.value:
                raise _not_found(conv.id)
            if write:
                raise PermissionDenied(
                    "Organizers can read an attendee's conversation but not write in it."
                )
        if write and conv.ended_at is not None:
            raise PermissionDenied(ENDED)
        return user
    if conv.ended_at is not None:
        if write:
            raise PermissionDenied(ENDED)
        if actor is None or require_user(s, actor).role != Role.ADMIN.value:
            raise PermissionDenied("This conversation has ended.")
    return None


def _check_open(bot: Chatbot) -> None:
    if not bot.active or bot.end_date < venue_today():
        raise PermissionDenied(f"{bot.name} is not available any more.")


def _clean_client_id(client_id: object) -> str | None:
    if client_id is None:
        return None
    if (
        not isinstance(client_id, str)
        or not _CLIENT_ID_RE.match(client_id)
        or client_id.startswith(REPLY_KEY_PREFIX)
    ):
        raise ValidationError(
            f"The message id must be 1 to {CLIENT_ID_MAX} printable ASCII characters without "
            f"spaces, not starting with {REPLY_KEY_PREFIX!r}.",
            "client_id",
        )
    return client_id


def _clean_reply(text: object) -> str:
    """Machine-made text: drop control characters rather than refuse the reply, cut it at
    REPLY_MAX; only an empty reply is refused."""
    if not isinstance(text, str):
        raise ValidationError("The assistant's reply must be text.", "text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if not text:
        raise ValidationError("The assistant's reply is empty.", "text")
    if len(text) > REPLY_MAX:
        log.warning("reply of %d characters cut to %d", len(text), REPLY_MAX)
        text = text[: REPLY_MAX - 1].rstrip() + "…"
    return text


def _by_key(s: Session, key: str, *, locked: bool = False) -> Message | None:
    """The message stored under an idempotency key.

    ``locked``: after losing an insert race. A locking read returns the latest committed row even
    under MariaDB's REPEATABLE READ, whose plain reads could still show an older snapshot.
    """
    stmt = select(Message).where(Message.client_id == key)
    if locked:
        stmt = stmt.with_for_update(read=True)
    message = s.scalars(stmt).one_or_none()
    # MariaDB compares keys case-insensitively; only the very same key is the same message.
    if message is not None and message.client_id != key:
        raise Conflict("This message id is already used by another message.")
    return message


def _same_conversation(message: Message, conv: Conversation) -> MessageInfo:
    if message.conversation_id != conv.id:
        raise Conflict("This message id is already used in another conversation.")
    return MessageInfo.of(message)


def _no_sync(stmt: Any) -> Any:
    # Counters are never read back from the identity map; skip the ORM's evaluation of them.
    return stmt.execution_options(synchronize_session=False)


def _store(
    s: Session,
    conv: Conversation,
    *,
    content: str,
    source: MessageSource,
    answered: bool | None,
    reply_to_id: int | None,
    client_id: str | None,
) -> Message:
    """Insert a message and update every counter it affects, in the lock order above."""
    from_attendee = source is MessageSource.USER
    bot_values: dict[str, Any] = {
        "message_count": Chatbot.message_count + 1,
        "updated_at": Chatbot.updated_at,  # a message is not an edit of the assistant
    }
    if from_attendee:
        bot_values["user_message_count"] = Chatbot.user_message_count + 1
    s.execute(_no_sync(update(Chatbot).where(Chatbot.id == conv.chatbot_id).values(bot_values)))
    now = utcnow()  # taken under the assistant's lock: ids and times rise together
    s.execute(
        _no_sync(
            update(Conversation)
            .where(Conversation.id == conv.id)
            .values(message_count=Conversation.message_count + 1, last_message_at=now)
        )
    )
    if from_attendee and conv.user_id is not None:
        # Re-enrol if an organizer removed the enrolment meanwhile, so the counter stays exact.
        ensure_participant(s, conv.chatbot_id, conv.user_id)
        s.execute(
            _no_sync(
                update(ChatbotParticipant)
                .where(
                    ChatbotParticipant.chatbot_id == conv.chatbot_id,
                    ChatbotParticipant.user_id == conv.user_id,
                )
                .values(message_count=ChatbotParticipant.message_count + 1, last_activity_at=now)
            )
        )
        s.execute(
            _no_sync(
                update(User)
                .where(User.id == conv.user_id)
                .values(message_count=User.message_count + 1, updated_at=User.updated_at)
            )
        )
    day = now.astimezone(get_settings().timezone()).date()
    upsert_add(
        s,
        DailyMessageCount,
        {"chatbot_id": conv.chatbot_id, "day": day},
        {"messages": 1, "user_messages": 1 if from_attendee else 0},
    )
    message = Message(
        conversation_id=conv.id,
        chatbot_id=conv.chatbot_id,
        user_id=conv.user_id,
        is_user_message=from_attendee,
        content=content,
        source=source.value,
        answered=answered,
        reply_to_id=reply_to_id,
        client_id=client_id,
        created_at=now,
    )
    s.add(message)
    s.flush()
    return message


def _insert_once(s: Session, conv: Conversation, key: str | None, **fields: Any) -> MessageInfo:
    """Store a message; when another transaction stored one under ``key`` first, return that."""
    try:
        with s.begin_nested():
            message = _store(s, conv, client_id=key, **fields)
    except IntegrityError:
        if key is None:
            raise
        existing = _by_key(s, key, locked=True)
        if existing is None:
            raise
        log.info("message %s was stored by a concurrent attempt", key)
        return _same_conversation(existing, conv)
    return MessageInfo.of(message)


def _page(s: Session, conversation_id: int, before_id: int | None, limit: int) -> list[MessageInfo]:
    """Up to ``limit`` messages before ``before_id``, newest first (the (conversation_id, id)
    index, read backwards)."""
    # Plain columns, not ORM objects: a chat page is read on every kiosk refresh.
    stmt = select(*_MESSAGE_COLUMNS).where(Message.conversation_id == conversation_id)
    if before_id is not None:
        stmt = stmt.where(Message.id < before_id)
    stmt = stmt.order_by(Message.id.desc()).limit(limit)
    return [MessageInfo(*row[:6], MessageSource(row[6]), *row[7:]) for row in s.execute(stmt)]


# In MessageInfo's field order.
_MESSAGE_COLUMNS = (
    Message.id,
    Message.conversation_id,
    Message.chatbot_id,
    Message.user_id,
    Message.is_user_message,
    Message.content,
    Message.source,
    Message.answered,
    Message.reply_to_id,
    Message.client_id,
    Message.created_at,
)


# Conversations ---------------------------------------------------------------------------------


def start_conversation(
    s: Session,
    actor: Actor | None,
    chatbot_id: int,
    mode: ConversationMode,
    *,
    kiosk_name: str = "",
    resume: bool = True,
    access_key: str | None = None,
) -> ConversationInfo:
    """Open a conversation with an assistant at a kiosk.

    Single mode needs a signed-in attendee, enrols them, and (with ``resume``) continues their
    latest open conversation with the assistant, started at any kiosk. Multiple mode (walk-up)
    always starts a new, anonymous conversation; ``access_key`` is the visit's secret, of which
    its SHA-256 is stored: on PostgreSQL's kiosk role only a holder of the key reaches it.
    """
    identify(s, actor, access_key)
    try:
        mode = ConversationMode(mode)
    except ValueError:
        raise ValidationError(f"Unknown conversation mode {mode!r}.", "mode") from None
    kiosk = clean_text(kiosk_name, "kiosk_name", "Kiosk name", max_length=64, required=False)
    bot = available_chatbot(s, actor, chatbot_id)
    if mode is ConversationMode.MULTIPLE:
        if not bot.multiple_mode:
            raise PermissionDenied(
                "This assistant is not available for walk-up use; please sign in to use it."
            )
        conv = Conversation(
            chatbot_id=bot.id,
            user_id=None,
            mode=mode.value,
            kiosk_name=kiosk,
            started_at=utcnow(),
            access_key_hash=visit_key_hash(access_key),
        )
        s.add(conv)
        s.flush()
        return ConversationInfo.of(conv)

    if not bot.single_mode:
        raise PermissionDenied(
            "This assistant is not available for personal conversations; it is for walk-up use "
            "only."
        )
    if actor is None:
        raise PermissionDenied("Please sign in to have your own conversation with this assistant.")
    user = require_user(s, actor)
    enrolled = s.scalar(
        select(ChatbotParticipant.id).where(
            ChatbotParticipant.chatbot_id == bot.id, ChatbotParticipant.user_id == user.id
        )
    )
    if enrolled is None:
        # Lock the assistant's row before the enrolment's foreign key takes a shared lock on it
        # (the lock order above); ensure_participant then updates the participant counter.
        s.execute(select(Chatbot.id).where(Chatbot.id == bot.id).with_for_update())
        ensure_participant(s, bot.id, user.id)
    if resume:
        latest = _latest_open(s, user.id, bot.id)
        if latest is not None:
            return ConversationInfo.of(latest)
    conv = Conversation(
        chatbot_id=bot.id,
        user_id=user.id,
        mode=mode.value,
        kiosk_name=kiosk,
        started_at=utcnow(),
    )
    s.add(conv)
    s.flush()
    return ConversationInfo.of(conv)


def _latest_open(s: Session, user_id: int, chatbot_id: int) -> Conversation | None:
    # The (user_id, chatbot_id, started_at) index.
    return s.scalars(
        select(Conversation)
        .where(
            Conversation.user_id == user_id,
            Conversation.chatbot_id == chatbot_id,
            Conversation.mode == ConversationMode.SINGLE.value,
            Conversation.ended_at.is_(None),
        )
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(1)
    ).first()


def latest_conversation(s: Session, actor: Actor, chatbot_id: int) -> ConversationInfo | None:
    """The attendee's open conversation with an assistant (the one starting in single mode with
    ``resume`` continues), for "continue your previous conversation" at a kiosk."""
    identify(s, actor)
    user = require_user(s, actor)
    conv = _latest_open(s, user.id, chatbot_id)
    return ConversationInfo.of(conv) if conv is not None else None


def end_conversation(
    s: Session, actor: Actor | None, conversation_id: int, *, access_key: str | None = None
) -> None:
    """End a conversation (a walk-up one when the kiosk goes idle); ending twice is harmless.

    Only its owner ends a single-mode conversation; a walk-up one, whoever holds its id (on
    PostgreSQL's kiosk role: and its ``access_key``).
    """
    identify(s, actor, access_key)
    conv = _conversation(s, conversation_id)
    if conv.mode == ConversationMode.SINGLE.value:
        if actor is None:
            raise _not_found(conversation_id)
        if require_user(s, actor).id != conv.user_id:
            raise _not_found(conversation_id)
    if conv.ended_at is None:
        s.execute(
            update(Conversation)
            .where(Conversation.id == conv.id, Conversation.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        s.expire(conv)


# Messages --------------------------------------------------------------------------------------


def post_user_message(
    s: Session,
    actor: Actor | None,
    conversation_id: int,
    content: str,
    *,
    client_id: str | None = None,
    access_key: str | None = None,
) -> MessageInfo:
    """Store an attendee's message and count it.

    With a ``client_id`` already stored in this conversation, the stored message is returned and
    nothing changes (a retried send is delivered exactly once). ``access_key``: the walk-up
    visit's key (see :func:`start_conversation`).
    """
    identify(s, actor, access_key)
    conv = _conversation(s, conversation_id)
    _access(s, actor, conv, write=True)
    text = clean_text(content, "content", "Message", max_length=MESSAGE_MAX, multiline=True)
    key = _clean_client_id(client_id)
    if key is not None:
        existing = _by_key(s, key)
        if existing is not None:
            return _same_conversation(existing, conv)
    if conv.mode == ConversationMode.SINGLE.value:
        available_chatbot(s, actor, conv.chatbot_id)  # still open, still enrolled if private
    else:
        bot = s.get(Chatbot, conv.chatbot_id)
        assert bot is not None  # the foreign key cascades
        _check_open(bot)
    return _insert_once(
        s,
        conv,
        key,
        content=text,
        source=MessageSource.USER,
        answered=None,
        reply_to_id=None,
    )


def post_reply(s: Session, conversation_id: int, reply_to_id: int, reply: Reply) -> MessageInfo:
    """Store the assistant's reply to a question; a second call for the same question returns the
    stored reply. Also after the conversation ended (the kiosk went idle while the assistant was
    answering), so the transcript stays whole. Not an attendee action: no actor."""
    if reply.source is MessageSource.USER:
        raise ValueError("a reply must come from the assistant, not from MessageSource.USER")
    conv = _conversation(s, conversation_id)
    question = s.get(Message, reply_to_id)
    if question is None or question.conversation_id != conv.id or not question.is_user_message:
        raise NotFound(f"There is no question with id {reply_to_id} in this conversation.")
    text = _clean_reply(reply.text)
    key = f"{REPLY_KEY_PREFIX}{reply_to_id}"
    existing = _by_key(s, key)
    if existing is not None:
        return MessageInfo.of(existing)
    return _insert_once(
        s,
        conv,
        key,
        content=text,
        source=MessageSource(reply.source),
        answered=bool(reply.answered),
        reply_to_id=question.id,
    )


def stored_reply(s: Session, question_id: int) -> MessageInfo | None:
    """The stored reply to a question, if any."""
    message = _by_key(s, f"{REPLY_KEY_PREFIX}{question_id}")
    return MessageInfo.of(message) if message is not None else None


def list_messages(
    s: Session,
    actor: Actor | None,
    conversation_id: int,
    *,
    before_id: int | None = None,
    limit: int = 50,
    access_key: str | None = None,
) -> MessagePage:
    """A page of a conversation's messages, oldest first, ending just before ``before_id`` (the
    newest page without it). ``limit`` is kept within 1..200. ``access_key``: the walk-up
    visit's key (see :func:`start_conversation`)."""
    identify(s, actor, access_key)
    if actor is None:
        conv = _conversation(s, conversation_id)
    else:
        # The conversation and the actor's row in one round trip; _access then finds the user
        # in the identity map.
        row = s.execute(
            select(Conversation, User)
            .join(User, User.id == actor.user_id, isouter=True)
            .where(Conversation.id == conversation_id)
        ).first()
        if row is None:
            raise _not_found(conversation_id)
        conv = row[0]
    _access(s, actor, conv, write=False)
    limit = max(1, min(int(limit), PAGE_MAX))
    rows = _page(s, conv.id, before_id, limit + 1)
    has_more = len(rows) > limit
    items = tuple(reversed(rows[:limit]))
    return MessagePage(
        items=items, has_more=has_more, before_id=items[0].id if has_more and items else None
    )


def conversation_history(
    s: Session, conversation_id: int, *, limit: int = HISTORY_MESSAGES, before_id: int | None = None
) -> tuple[MessageInfo, ...]:
    """The last ``limit`` messages (before ``before_id``), oldest first: the assistant's context.
    No access check: for the assistant, after the caller's own check."""
    limit = max(0, min(int(limit), PAGE_MAX))
    if limit == 0:
        return ()
    return tuple(reversed(_page(s, conversation_id, before_id, limit)))


def send_message(
    db: Database,
    actor: Actor | None,
    conversation_id: int,
    content: str,
    responder: Responder,
    *,
    client_id: str | None = None,
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    access_key: str | None = None,
) -> tuple[MessageInfo, MessageInfo]:
    """Send an attendee's message and get the assistant's reply: (question, reply).

    Three short transactions: store the question; read the context; store the reply. The
    responder runs between them, outside any transaction, so no lock is held while it thinks.
    A retried send (same ``client_id``) that was already answered returns the stored pair without
    asking the assistant again. If the responder raises, the question stays stored without a
    reply, and a retry with the same ``client_id`` asks again. ``access_key``: the kiosk
    visit's key (see :func:`start_conversation`).
    """
    with db.session() as s:
        question = post_user_message(
            s, actor, conversation_id, content, client_id=client_id, access_key=access_key
        )
    with db.read() as s:
        identify(s, actor, access_key)
        if client_id is not None:
            answered = stored_reply(s, question.id)
            if answered is not None:
                return question, answered
        conv = _conversation(s, conversation_id)
        request = ReplyRequest(
            chatbot_id=conv.chatbot_id,
            conversation_id=conv.id,
            mode=ConversationMode(conv.mode),
            question=question.content,
            history=conversation_history(s, conv.id, before_id=question.id),
            now=utcnow(),
        )
    reply = responder.respond(request, on_delta, cancel)
    with db.session() as s:
        identify(s, actor, access_key)
        answer = post_reply(s, conversation_id, question.id, reply)
    return question, answer


__all__ = [
    "ConversationInfo",
    "MessageInfo",
    "MessagePage",
    "conversation_history",
    "end_conversation",
    "identify",
    "latest_conversation",
    "list_messages",
    "post_reply",
    "post_user_message",
    "send_message",
    "start_conversation",
    "stored_reply",
]
