"""Several kiosk processes chatting with one assistant at the same moment.

Four processes (spawned, so nothing is shared but the database) each send 50 messages through
:func:`shared.services.chat.send_message`: half in walk-up visits, half as one of two signed-in
attendees (each attendee used by two processes at once, so their counters are contended), plus
a few sends every process makes with the same keys into one shared conversation (the same
outbox message delivered by racing kiosks) and retries of their own sends. Afterwards every
message must be stored exactly once and every counter must equal a count of the rows.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db import Database, make_engine
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
from shared.services import chat
from shared.services.common import Actor
from shared.services.responder import Reply, ReplyRequest
from shared.settings import Settings, use_settings
from tests.factories import make_chatbot, make_user

PROCESSES = 4
SINGLE_SENDS = 25  # per process, as a signed-in attendee
VISITS = 5  # walk-up visits per process ...
VISIT_SENDS = 5  # ... of this many messages each
SHARED_SENDS = 5  # the same keys from every process, into one conversation
RETRY_EVERY = 10  # every 10th single send is retried with its key
ATTENDEES = 2
TIMEOUT = 240.0  # seconds for the whole run

SENDS = SINGLE_SENDS + VISITS * VISIT_SENDS  # 50 distinct sends per process
assert SENDS == 50


@dataclass(frozen=True)
class Sent:
    """What a child saw for one send."""

    key: str
    question_id: int
    reply_id: int
    content: str
    reply: str


class EchoResponder:
    """Answers at once, after checking that its process holds no database connection."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.calls = 0

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        checked_out = self.database.engine.pool.checkedout()  # type: ignore[attr-defined]
        if checked_out:
            raise AssertionError(f"responder called with {checked_out} connection(s) in use")
        self.calls += 1
        return Reply(f"echo: {request.question}", MessageSource.TEST, answered=True)


def _child(
    index: int,
    url: str,
    chatbot_id: int,
    attendee_id: int,
    shared_conversation: int,
    barrier: Any,
    results: Any,
) -> None:
    """One kiosk process. Reports ``(index, error or None, [Sent...])`` on ``results``."""
    sent: list[Sent] = []
    database: Database | None = None
    try:
        use_settings(Settings.load())  # the parent's test environment, inherited
        database = Database(make_engine(url))
        responder = EchoResponder(database)
        attendee = Actor(attendee_id, Role.ATTENDEE)

        def send(actor: Actor | None, conversation_id: int, key: str, content: str) -> Sent:
            assert database is not None
            question, answer = chat.send_message(
                database, actor, conversation_id, content, responder, client_id=key
            )
            if question.client_id != key or question.content != content:
                raise AssertionError(f"{key}: got back {question}")
            if answer.reply_to_id != question.id or answer.content != f"echo: {content}":
                raise AssertionError(f"{key}: wrong reply {answer}")
            return Sent(key, question.id, answer.id, content, answer.content)

        barrier.wait(timeout=120)  # start together, for the most contention
        with database.session() as s:
            mine = chat.start_conversation(s, attendee, chatbot_id, ConversationMode.SINGLE).id
        visit: int | None = None
        for k in range(SINGLE_SENDS):
            # A signed-in attendee's message ...
            key = f"p{index}-s{k}"
            result = send(attendee, mine, key, f"process {index} attendee question {k}")
            sent.append(result)
            if k % RETRY_EVERY == RETRY_EVERY - 1:
                calls = responder.calls
                again = send(attendee, mine, key, result.content)
                if again != result or responder.calls != calls:
                    raise AssertionError(f"{key}: a retry was not answered from the store")
            # ... a walk-up visitor's ...
            if k % VISIT_SENDS == 0:
                with database.session() as s:
                    if visit is not None:
                        chat.end_conversation(s, None, visit)
                    visit = chat.start_conversation(
                        s, None, chatbot_id, ConversationMode.MULTIPLE, kiosk_name=f"kiosk-{index}"
                    ).id
            assert visit is not None
            sent.append(send(None, visit, f"p{index}-w{k}", f"process {index} visitor {k} 👋"))
            # ... and now and then the outbox message every kiosk delivers.
            if k % (SINGLE_SENDS // SHARED_SENDS) == 0:
                j = k // (SINGLE_SENDS // SHARED_SENDS)
                sent.append(send(None, shared_conversation, f"shared-{j}", f"shared question {j}"))
        with database.session() as s:
            assert visit is not None
            chat.end_conversation(s, None, visit)
        results.put((index, None, sent))
    except BaseException:  # report everything, KeyboardInterrupt included
        results.put((index, traceback.format_exc(), sent))
    finally:
        if database is not None:
            database.dispose()


def _run_children(db: Database, chatbot_id: int, attendees: list[int], shared: int) -> list[Sent]:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    barrier = ctx.Barrier(PROCESSES)
    url = db.engine.url.render_as_string(hide_password=False)
    processes = [
        ctx.Process(
            target=_child,
            args=(i, url, chatbot_id, attendees[i % ATTENDEES], shared, barrier, results),
            name=f"kiosk-{i}",
        )
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    deadline = time.monotonic() + TIMEOUT
    reports: dict[int, tuple[str | None, list[Sent]]] = {}
    try:
        while len(reports) < PROCESSES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                index, error, sent = results.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if all(not p.is_alive() for p in processes) and results.empty():
                    break  # a child died without reporting
                continue
            reports[index] = (error, sent)
        for process in processes:
            process.join(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
    errors = {i: error for i, (error, _) in reports.items() if error}
    assert not errors, "\n".join(f"process {i}:\n{e}" for i, e in errors.items())
    assert sorted(reports) == list(range(PROCESSES)), "a process did not report"
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    return [item for _, sent in reports.values() for item in sent]


@pytest.mark.slow
def test_concurrent_kiosks_store_every_message_once_and_count_exactly(db: Database) -> None:
    bot = make_chatbot(db)
    attendees = [make_user(db).user_id for _ in range(ATTENDEES)]
    with db.session() as s:
        shared = chat.start_conversation(s, None, bot, ConversationMode.MULTIPLE).id

    started = time.monotonic()
    sent = _run_children(db, bot, attendees, shared)
    elapsed = time.monotonic() - started

    distinct = PROCESSES * SENDS + SHARED_SENDS
    total = 2 * distinct
    # What the children were told agrees with itself: one question and one reply per key.
    by_key: dict[str, set[tuple[int, int]]] = {}
    for item in sent:
        by_key.setdefault(item.key, set()).add((item.question_id, item.reply_id))
    assert len(by_key) == distinct
    assert all(len(ids) == 1 for ids in by_key.values()), "a key got two different messages"

    with db.read() as s:
        rows = s.execute(
            select(
                Message.id,
                Message.conversation_id,
                Message.user_id,
                Message.is_user_message,
                Message.client_id,
                Message.content,
                Message.reply_to_id,
            ).where(Message.chatbot_id == bot)
        ).all()
        questions = [r for r in rows if r.is_user_message]
        replies = [r for r in rows if not r.is_user_message]
        # Every message stored exactly once, and what the children got back is what is stored.
        assert len(rows) == total
        assert len(questions) == distinct
        assert {r.client_id for r in questions} == set(by_key)
        stored = {r.client_id: r.id for r in questions}
        assert all(stored[key] == next(iter(ids))[0] for key, ids in by_key.items())
        # One reply per question, the right one.
        content = {r.id: r.content for r in questions}
        assert Counter(r.reply_to_id for r in replies) == Counter({q.id: 1 for q in questions})
        assert all(r.content == f"echo: {content[r.reply_to_id]}" for r in replies)

        bot_row = s.get(Chatbot, bot)
        assert bot_row is not None
        assert bot_row.message_count == len(rows) == total
        assert bot_row.user_message_count == distinct
        assert bot_row.participant_count == ATTENDEES
        for user_id in attendees:
            own = sum(1 for q in questions if q.user_id == user_id)
            assert own == SINGLE_SENDS * PROCESSES // ATTENDEES
            assert s.scalar(select(User.message_count).where(User.id == user_id)) == own
            assert (
                s.scalar(
                    select(ChatbotParticipant.message_count).where(
                        ChatbotParticipant.chatbot_id == bot, ChatbotParticipant.user_id == user_id
                    )
                )
                == own
            )
        # Walk-up messages are anonymous.
        assert sum(1 for q in questions if q.user_id is None) == (
            PROCESSES * VISITS * VISIT_SENDS + SHARED_SENDS
        )
        # Every conversation's counter equals its rows.
        per_conversation = Counter(r.conversation_id for r in rows)
        conversations = s.execute(
            select(
                Conversation.id,
                Conversation.mode,
                Conversation.message_count,
                Conversation.ended_at,
            ).where(Conversation.chatbot_id == bot)
        ).all()
        assert {c.id: c.message_count for c in conversations if c.message_count} == dict(
            per_conversation
        )
        walk_ups = [c for c in conversations if c.mode == "multiple" and c.id != shared]
        assert len(walk_ups) == PROCESSES * VISITS
        assert all(c.ended_at is not None for c in walk_ups)
        assert all(c.mode == "single" for c in conversations if c.id not in per_conversation)
        # The daily rollup adds up (whatever day it is at the venue, even across midnight).
        daily = s.execute(
            select(
                func.sum(DailyMessageCount.messages), func.sum(DailyMessageCount.user_messages)
            ).where(DailyMessageCount.chatbot_id == bot)
        ).one()
        assert (int(daily[0]), int(daily[1])) == (total, distinct)
    print(f"{db.backend}: {PROCESSES} processes, {total} messages in {elapsed:.1f} s")
