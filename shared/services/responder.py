"""The assistant's side of a chat: what it is asked, what it answers, and how it is called.

:func:`shared.services.chat.send_message` builds a :class:`ReplyRequest`, calls a
:class:`Responder` outside any database transaction (a reply can take seconds) and stores the
:class:`Reply`. The real assistant (offline answers, an LLM) implements :class:`Responder`; tests
bring their own. Nothing here makes up a reply.

:class:`MessageInfo` lives here rather than in ``chat`` because a request carries the history, and
``chat`` imports this module (not the other way round).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.models import ConversationMode, Message, MessageSource


@dataclass(frozen=True)
class MessageInfo:
    """One stored chat message, from the attendee or the assistant.

    ``user_id`` is the owner of a single-mode conversation (on the attendee's messages and on the
    replies to them) and None in a walk-up conversation. ``answered`` is None for the attendee's
    messages. ``reply_to_id`` links a reply to the question it answers.
    """

    id: int
    conversation_id: int
    chatbot_id: int
    user_id: int | None
    is_user_message: bool
    content: str
    source: MessageSource
    answered: bool | None
    reply_to_id: int | None
    client_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageInfo:
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            chatbot_id=message.chatbot_id,
            user_id=message.user_id,
            is_user_message=message.is_user_message,
            content=message.content,
            source=MessageSource(message.source),
            answered=message.answered,
            reply_to_id=message.reply_to_id,
            client_id=message.client_id,
            created_at=message.created_at,
        )


@dataclass(frozen=True)
class ReplyRequest:
    """What the assistant gets: the question, the last few turns before it, and the time."""

    chatbot_id: int
    conversation_id: int
    mode: ConversationMode
    question: str
    #: The last few messages before the question, oldest first.
    history: tuple[MessageInfo, ...]
    #: Aware UTC.
    now: datetime


@dataclass(frozen=True)
class Reply:
    """The assistant's answer. ``answered`` is False for "I don't know"-style replies, so
    organizers can see which questions went unanswered. ``references`` name the sources the
    answer used (for display; they are not stored)."""

    text: str
    source: MessageSource
    answered: bool
    references: tuple[str, ...] = ()


class Responder(Protocol):
    """Produces the assistant's reply to one question.

    Called outside any database transaction and possibly on a worker thread. ``on_delta`` receives
    pieces of the text as they arrive (for a streaming display); when ``cancel`` is set the
    responder stops as soon as it can and either returns what it has (which is then stored as the
    reply) or raises.
    """

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply: ...


__all__ = ["MessageInfo", "Reply", "ReplyRequest", "Responder"]
