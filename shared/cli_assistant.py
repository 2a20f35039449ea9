"""``convergeai ask`` and ``convergeai chat``: try an event's assistant from a terminal.

Nothing is stored: organizers can rehearse before the doors open without adding to the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from itertools import count

from sqlalchemy import func, or_, select

from shared.assistant.engine import Assistant
from shared.assistant.llm import LLMClient
from shared.db import Database, utcnow
from shared.errors import NotFound, ValidationError
from shared.models import Chatbot, ConversationMode, MessageSource
from shared.services.responder import MessageInfo, Reply, ReplyRequest


@dataclass(frozen=True)
class EventRef:
    """The assistant a terminal session talks to."""

    id: int
    name: str
    event_name: str
    mode: ConversationMode


def find_event(db: Database, event: str) -> EventRef:
    """A chatbot by id, or by its name or event name (case-insensitive, unique)."""
    text = event.strip()
    with db.read() as s:
        if text.isdigit():
            bot = s.get(Chatbot, int(text))
            if bot is not None:
                return _ref(bot)
        lowered = text.lower()
        matches = [
            _ref(bot)
            for bot in s.scalars(
                select(Chatbot).where(
                    or_(
                        func.lower(Chatbot.name) == lowered,
                        func.lower(Chatbot.event_name) == lowered,
                    )
                )
            )
        ]
    if not matches:
        raise NotFound(f"No event assistant called {text!r}: see `convergeai events list`.")
    if len(matches) > 1:
        ids = ", ".join(str(b.id) for b in matches)
        raise ValidationError(f"Several event assistants are called {text!r}; use an id ({ids}).")
    return matches[0]


def _ref(bot: Chatbot) -> EventRef:
    mode = ConversationMode.SINGLE if bot.single_mode else ConversationMode.MULTIPLE
    return EventRef(bot.id, bot.name, bot.event_name, mode)


def _assistant(db: Database, offline: bool) -> Assistant:
    return Assistant(db, None if offline else LLMClient.from_settings())


def ask(db: Database, args: argparse.Namespace) -> int:
    """Answer one question; stream it to the terminal, or print JSON."""
    bot = find_event(db, args.event)
    assistant = _assistant(db, args.offline)
    question = " ".join(args.question).strip()
    if not question:
        raise ValidationError("Ask a question, for example: convergeai ask --event 1 'Who speaks?'")
    request = ReplyRequest(bot.id, 0, bot.mode, question, (), utcnow())
    streamed = False

    def show(piece: str) -> None:
        nonlocal streamed
        streamed = True
        sys.stdout.write(piece)
        sys.stdout.flush()

    reply = assistant.respond(request, on_delta=None if args.json else show)
    if args.json:
        payload = {
            "answer": reply.text,
            "source": "llm" if reply.source is MessageSource.LLM else "offline",
            "answered": reply.answered,
            "references": list(reply.references),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    elif not streamed:
        print(reply.text)
    else:
        print()
    return 0


def chat(db: Database, args: argparse.Namespace) -> int:
    """An interactive conversation, kept in memory only."""
    bot = find_event(db, args.event)
    assistant = _assistant(db, args.offline)
    source = "offline answers only" if args.offline or assistant.llm is None else "LLM"
    print(f"Talking to {bot.name} ({bot.event_name}), {source}. Empty line or Ctrl-D to stop.")
    for hint in assistant.suggestions(bot.id)[:3]:
        print(f"  try: {hint}")
    history: list[MessageInfo] = []
    ids = count(1)
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        now = utcnow()
        request = ReplyRequest(bot.id, 0, bot.mode, question, tuple(history[-12:]), now)
        sys.stdout.write("assistant> ")
        sys.stdout.flush()
        pieces: list[str] = []

        def show(piece: str, pieces: list[str] = pieces) -> None:
            pieces.append(piece)
            sys.stdout.write(piece)
            sys.stdout.flush()

        reply: Reply = assistant.respond(request, on_delta=show)
        if "".join(pieces).strip() != reply.text.strip():
            sys.stdout.write(("\n" if pieces else "") + reply.text)
        mark = "" if reply.source is MessageSource.LLM else "  [offline]"
        print(mark)
        question_id = next(ids)
        history.append(_memory(question_id, bot.id, question, True, MessageSource.USER, now))
        history.append(_memory(next(ids), bot.id, reply.text, False, reply.source, utcnow()))


def _memory(
    message_id: int, chatbot_id: int, text: str, from_user: bool, source: MessageSource, at: object
) -> MessageInfo:
    return MessageInfo(
        id=message_id,
        conversation_id=0,
        chatbot_id=chatbot_id,
        user_id=None,
        is_user_message=from_user,
        content=text,
        source=source,
        answered=None if from_user else True,
        reply_to_id=None,
        client_id=None,
        created_at=at,  # type: ignore[arg-type]
    )
