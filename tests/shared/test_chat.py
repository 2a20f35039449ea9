"""Conversations and messages: modes, access rules, counters, idempotency, paging, hostile text."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from shared.db import Database, make_engine
from shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shared.models import (
    Chatbot,
    ChatbotParticipant,
    Conversation,
    ConversationMode,
    DailyMessageCount,
    Message,
    MessageSource,
    User,
)
from shared.services import chat, chatbots
from shared.services.chat import ConversationInfo, MessageInfo
from shared.services.common import Actor, venue_today
from shared.services.responder import Reply, ReplyRequest
from tests.factories import make_admin, make_chatbot, make_user

SINGLE = ConversationMode.SINGLE
MULTIPLE = ConversationMode.MULTIPLE


# Helpers ---------------------------------------------------------------------------------------


def start(
    db: Database,
    actor: Actor | None,
    chatbot_id: int,
    mode: ConversationMode,
    **kwargs: Any,
) -> ConversationInfo:
    with db.session() as s:
        return chat.start_conversation(s, actor, chatbot_id, mode, **kwargs)


def post(
    db: Database, actor: Actor | None, conversation_id: int, content: str, **kwargs: Any
) -> MessageInfo:
    with db.session() as s:
        return chat.post_user_message(s, actor, conversation_id, content, **kwargs)


def reply(db: Database, conversation_id: int, question_id: int, content: str) -> MessageInfo:
    with db.session() as s:
        return chat.post_reply(
            s, conversation_id, question_id, Reply(content, MessageSource.TEST, answered=True)
        )


def end(db: Database, actor: Actor | None, conversation_id: int) -> None:
    with db.session() as s:
        chat.end_conversation(s, actor, conversation_id)


def messages(
    db: Database, actor: Actor | None, conversation_id: int, **kwargs: Any
) -> chat.MessagePage:
    with db.read() as s:
        return chat.list_messages(s, actor, conversation_id, **kwargs)


@dataclass(frozen=True)
class Counters:
    bot_messages: int
    bot_user_messages: int
    bot_participants: int
    participant_messages: int | None
    user_messages: int | None
    daily: dict[date, tuple[int, int]]


def counters(db: Database, chatbot_id: int, user_id: int | None = None) -> Counters:
    with db.read() as s:
        bot = s.get(Chatbot, chatbot_id)
        assert bot is not None
        participant = None
        user_count = None
        if user_id is not None:
            participant = s.scalar(
                select(ChatbotParticipant.message_count).where(
                    ChatbotParticipant.chatbot_id == chatbot_id,
                    ChatbotParticipant.user_id == user_id,
                )
            )
            user_count = s.scalar(select(User.message_count).where(User.id == user_id))
        daily = {
            row.day: (row.messages, row.user_messages)
            for row in s.scalars(
                select(DailyMessageCount).where(DailyMessageCount.chatbot_id == chatbot_id)
            )
        }
        return Counters(
            bot.message_count,
            bot.user_message_count,
            bot.participant_count,
            participant,
            user_count,
            daily,
        )


def count_messages(db: Database, **where: Any) -> int:
    with db.read() as s:
        stmt = select(func.count()).select_from(Message)
        for key, value in where.items():
            stmt = stmt.where(getattr(Message, key) == value)
        return int(s.scalar(stmt) or 0)


@dataclass
class EchoResponder:
    """A test responder: echoes the question, records what it was asked."""

    calls: list[ReplyRequest] = field(default_factory=list)
    check: Callable[[], None] | None = None
    fail: bool = False

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        self.calls.append(request)
        if self.check is not None:
            self.check()
        if self.fail:
            raise RuntimeError("the assistant broke")
        answer = f"You asked: {request.question}"
        if on_delta is not None:
            for i in range(0, len(answer), 8):
                on_delta(answer[i : i + 8])
        return Reply(answer, MessageSource.TEST, answered=True, references=("programme",))


# Starting conversations ------------------------------------------------------------------------


def test_single_conversation_resumes_at_any_kiosk(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    first = start(db, ada, bot, SINGLE, kiosk_name="hall-a")
    assert first.user_id == ada.user_id
    assert first.mode is SINGLE
    assert first.kiosk_name == "hall-a"
    post(db, ada, first.id, "Where is room 4?")

    again = start(db, ada, bot, SINGLE, kiosk_name="hall-b")
    assert again.id == first.id
    assert again.kiosk_name == "hall-a"
    assert again.message_count == 1
    with db.read() as s:
        assert chat.latest_conversation(s, ada, bot) == again

    fresh = start(db, ada, bot, SINGLE, kiosk_name="hall-b", resume=False)
    assert fresh.id != first.id
    assert start(db, ada, bot, SINGLE).id == fresh.id  # the newest open one
    end(db, ada, fresh.id)
    assert start(db, ada, bot, SINGLE).id == first.id  # ended ones are never resumed

    # Auto-joined once, however many times started.
    with db.read() as s:
        enrolments = s.scalar(
            select(func.count())
            .select_from(ChatbotParticipant)
            .where(ChatbotParticipant.chatbot_id == bot)
        )
    assert enrolments == 1
    assert counters(db, bot).bot_participants == 1


def test_latest_conversation_is_none_without_one(db: Database) -> None:
    ada = make_user(db)
    bob = make_user(db)
    bot = make_chatbot(db)
    start(db, bob, bot, SINGLE)
    start(db, ada, bot, MULTIPLE)
    with db.read() as s:
        assert chat.latest_conversation(s, ada, bot) is None


def test_walk_up_is_anonymous_and_always_new(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    signed_in = start(db, ada, bot, MULTIPLE, kiosk_name="lobby")
    anonymous = start(db, None, bot, MULTIPLE, kiosk_name="lobby")
    third = start(db, None, bot, MULTIPLE)
    assert len({signed_in.id, anonymous.id, third.id}) == 3
    assert signed_in.user_id is None
    assert anonymous.user_id is None
    assert signed_in.mode is MULTIPLE
    message = post(db, ada, signed_in.id, "Hello")
    assert message.user_id is None
    # Walk-up use enrols nobody and counts for nobody.
    c = counters(db, bot, ada.user_id)
    assert c.bot_participants == 0
    assert c.participant_messages is None
    assert c.user_messages == 0


def test_modes_not_offered_are_refused(db: Database) -> None:
    ada = make_user(db)
    single_only = make_chatbot(db, "Single", multiple_mode=False)
    walk_up_only = make_chatbot(db, "Walk-up", single_mode=False)
    with pytest.raises(PermissionDenied, match="not available for walk-up use"):
        start(db, None, single_only, MULTIPLE)
    with pytest.raises(PermissionDenied, match="not available for walk-up use"):
        start(db, ada, single_only, MULTIPLE)
    with pytest.raises(PermissionDenied, match="not available for personal conversations"):
        start(db, ada, walk_up_only, SINGLE)
    with pytest.raises(ValidationError, match="Unknown conversation mode"):
        start(db, ada, single_only, "group")  # type: ignore[arg-type]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 0


def test_anonymous_cannot_start_a_single_conversation(db: Database) -> None:
    bot = make_chatbot(db)
    with pytest.raises(PermissionDenied, match="Please sign in"):
        start(db, None, bot, SINGLE)


def test_private_ended_and_inactive_chatbots_are_refused(db: Database) -> None:
    admin = make_admin(db)
    ada = make_user(db)
    bob = make_user(db)
    today = venue_today()
    private = make_chatbot(db, "Private", public=False)
    ended = make_chatbot(
        db, "Ended", start=today - timedelta(days=5), end=today - timedelta(days=1)
    )
    inactive = make_chatbot(db, "Off", active=False)
    for actor in (ada, None):
        with pytest.raises(NotFound):
            start(db, actor, private, SINGLE)
        with pytest.raises(NotFound):
            start(db, actor, private, MULTIPLE)
        for mode in (SINGLE, MULTIPLE):
            with pytest.raises(PermissionDenied, match="not available any more"):
                start(db, actor, ended, mode)
            with pytest.raises(PermissionDenied, match="not available any more"):
                start(db, actor, inactive, mode)
    with pytest.raises(NotFound):
        start(db, None, 999_999, MULTIPLE)
    # An enrolled attendee may use the private one.
    with db.session() as s:
        chatbots.enroll(s, admin, private, [bob.user_id])
    assert start(db, bob, private, SINGLE).user_id == bob.user_id


def test_deactivated_attendee_cannot_start_or_post(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    with db.session() as s:
        s.execute(update(User).where(User.id == ada.user_id).values(active=False))
    with pytest.raises(PermissionDenied, match="not active"):
        start(db, ada, bot, SINGLE)
    with pytest.raises(PermissionDenied, match="not active"):
        post(db, ada, conv.id, "Still here?")


def test_posting_after_the_chatbot_closed_is_refused(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    single = start(db, ada, bot, SINGLE)
    walk_up = start(db, None, bot, MULTIPLE)
    with db.session() as s:
        s.execute(update(Chatbot).where(Chatbot.id == bot).values(active=False))
    with pytest.raises(PermissionDenied, match="not available any more"):
        post(db, ada, single.id, "Hello?")
    with pytest.raises(PermissionDenied, match="not available any more"):
        post(db, None, walk_up.id, "Hello?")
    assert count_messages(db) == 0


# Posting and counters --------------------------------------------------------------------------


def test_posting_updates_every_counter_exactly(db: Database) -> None:
    ada = make_user(db)
    bob = make_user(db)
    bot = make_chatbot(db)
    other_bot = make_chatbot(db, "Other")
    single = start(db, ada, bot, SINGLE)
    walk_up = start(db, ada, bot, MULTIPLE)
    start(db, bob, bot, SINGLE)
    with db.read() as s:
        bot_updated_at = s.get(Chatbot, bot).updated_at
        ada_updated_at = s.get(User, ada.user_id).updated_at

    q1 = post(db, ada, single.id, "First question")
    a1 = reply(db, single.id, q1.id, "First answer")
    q2 = post(db, ada, single.id, "Second question")
    w1 = post(db, None, walk_up.id, "Walk-up question")
    reply(db, walk_up.id, w1.id, "Walk-up answer")

    assert (q1.is_user_message, q1.source, q1.answered, q1.user_id) == (
        True,
        MessageSource.USER,
        None,
        ada.user_id,
    )
    assert (a1.is_user_message, a1.source, a1.answered, a1.reply_to_id, a1.user_id) == (
        False,
        MessageSource.TEST,
        True,
        q1.id,
        ada.user_id,
    )
    assert w1.user_id is None
    c = counters(db, bot, ada.user_id)
    assert c.bot_messages == 5
    assert c.bot_user_messages == 3
    assert c.bot_participants == 2
    assert c.participant_messages == 2  # ada's own questions in her conversation only
    assert c.user_messages == 2
    assert c.daily == {venue_today(): (5, 3)}
    assert counters(db, bot, bob.user_id).participant_messages == 0
    assert counters(db, bot, bob.user_id).user_messages == 0
    assert counters(db, other_bot).bot_messages == 0
    assert count_messages(db) == 5
    with db.read() as s:
        conv = s.get(Conversation, single.id)
        walk = s.get(Conversation, walk_up.id)
        participant = s.scalars(
            select(ChatbotParticipant).where(ChatbotParticipant.user_id == ada.user_id)
        ).one()
        bot_row = s.get(Chatbot, bot)
        ada_row = s.get(User, ada.user_id)
        assert conv is not None
        assert walk is not None
        assert bot_row is not None
        assert ada_row is not None
        assert conv.message_count == 3
        assert conv.last_message_at == q2.created_at
        assert walk.message_count == 2
        assert participant.last_activity_at == q2.created_at
        # Counting a message is not an edit of the assistant or the account.
        assert bot_row.updated_at == bot_updated_at
        assert ada_row.updated_at == ada_updated_at


def test_daily_rollup_uses_the_venue_local_day(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The venue is in Europe/Paris (tests/conftest.py): UTC+1 in winter, UTC+2 in summer.
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    moments = [
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 23:59 on the 28th in Paris
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 on the 29th in Paris
        datetime(2026, 7, 1, 21, 59, tzinfo=UTC),  # 23:59 on 1 July
        datetime(2026, 7, 1, 22, 30, tzinfo=UTC),  # 00:30 on 2 July
        datetime(2026, 7, 1, 22, 31, tzinfo=UTC),
    ]
    for moment in moments:
        monkeypatch.setattr(chat, "utcnow", lambda moment=moment: moment)
        question = post(db, None, conv.id, "What time is it?")
        assert question.created_at == moment
    monkeypatch.setattr(chat, "utcnow", lambda: moments[-1])
    reply(db, conv.id, question.id, "Half past midnight.")
    assert counters(db, bot).daily == {
        date(2026, 3, 28): (1, 1),
        date(2026, 3, 29): (1, 1),
        date(2026, 7, 1): (1, 1),
        date(2026, 7, 2): (3, 2),
    }


def test_client_id_makes_a_send_happen_once(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    first = post(db, ada, conv.id, "Is lunch included?", client_id="k1-0001")
    before = counters(db, bot, ada.user_id)
    again = post(db, ada, conv.id, "Is lunch included? (retried)", client_id="k1-0001")
    assert again == first
    assert counters(db, bot, ada.user_id) == before
    assert count_messages(db) == 1
    other = post(db, ada, conv.id, "Is lunch included?", client_id="k1-0002")
    assert other.id != first.id
    assert count_messages(db) == 2


def test_client_id_race_is_settled_by_the_unique_constraint(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two kiosks' attempts at one send racing: the loser's insert hits the unique constraint,
    its counter updates roll back with the savepoint, and it returns the winner's message."""
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    first = post(db, ada, conv.id, "Where is the cloakroom?", client_id="race-1")
    before = counters(db, bot, ada.user_id)
    real = chat._by_key
    looked: list[bool] = []

    def unlucky(s: Any, key: str, *, locked: bool = False) -> Message | None:
        looked.append(locked)
        return real(s, key, locked=locked) if locked else None  # the winner not yet visible

    monkeypatch.setattr(chat, "_by_key", unlucky)
    again = post(db, ada, conv.id, "Where is the cloakroom?", client_id="race-1")
    assert looked == [False, True]
    assert again == first
    assert counters(db, bot, ada.user_id) == before
    assert count_messages(db) == 1
    with db.read() as s:
        assert s.get(Conversation, conv.id).message_count == 1


def test_client_id_of_another_conversation_is_not_handed_out(db: Database) -> None:
    ada = make_user(db)
    bob = make_user(db)
    bot = make_chatbot(db)
    ada_conv = start(db, ada, bot, SINGLE)
    bob_conv = start(db, bob, bot, SINGLE)
    post(db, ada, ada_conv.id, "My private question", client_id="shared-key")
    with pytest.raises(Conflict, match="another conversation"):
        post(db, bob, bob_conv.id, "Anything", client_id="shared-key")
    assert count_messages(db, conversation_id=bob_conv.id) == 0


@pytest.mark.parametrize(
    "client_id", ["", "x" * 65, "has space", "tab\tkey", "reply:12", "clé", 42]
)
def test_bad_client_ids_are_refused_clearly(db: Database, client_id: Any) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    with pytest.raises(ValidationError, match="message id") as info:
        post(db, None, conv.id, "Hi", client_id=client_id)
    assert info.value.field == "client_id"
    assert post(db, None, conv.id, "Hi", client_id="x" * 64).client_id == "x" * 64


def test_post_reply_is_idempotent_and_checks_the_question(db: Database) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    other = start(db, None, bot, MULTIPLE)
    question = post(db, None, conv.id, "When does it start?")
    answer = reply(db, conv.id, question.id, "At nine.")
    before = counters(db, bot)
    assert reply(db, conv.id, question.id, "At nine, again.") == answer
    assert counters(db, bot) == before
    with pytest.raises(NotFound, match="no question"):
        reply(db, other.id, question.id, "Wrong conversation")
    with pytest.raises(NotFound, match="no question"):
        reply(db, conv.id, answer.id, "A reply to a reply")
    with pytest.raises(NotFound, match="no question"):
        reply(db, conv.id, 999_999, "Nothing")
    with db.session() as s, pytest.raises(ValueError, match="assistant"):
        chat.post_reply(s, conv.id, question.id, Reply("x", MessageSource.USER, answered=True))
    assert counters(db, bot) == before


def test_replies_are_cleaned_not_refused(db: Database) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    q1 = post(db, None, conv.id, "One")
    q2 = post(db, None, conv.id, "Two")
    q3 = post(db, None, conv.id, "Three")
    assert reply(db, conv.id, q1.id, "Line\x00 one\r\nline\x07 two\t!").content == (
        "Line one\nline two\t!"
    )
    long = reply(db, conv.id, q2.id, "é" * (chat.REPLY_MAX + 50))
    assert len(long.content) == chat.REPLY_MAX
    assert long.content.endswith("…")
    with pytest.raises(ValidationError, match="empty"):
        reply(db, conv.id, q3.id, " \x00 ")


def test_ended_conversations_refuse_new_messages(db: Database) -> None:
    admin = make_admin(db)
    ada = make_user(db)
    bot = make_chatbot(db)
    single = start(db, ada, bot, SINGLE)
    walk_up = start(db, None, bot, MULTIPLE)
    question = post(db, None, walk_up.id, "Last question")
    for actor, conv in ((ada, single), (None, walk_up)):
        end(db, actor, conv.id)
        end(db, actor, conv.id)  # idempotent
        with pytest.raises(PermissionDenied, match="has ended"):
            post(db, actor, conv.id, "One more thing")
    with db.read() as s:
        ended_at = s.get(Conversation, walk_up.id).ended_at
    assert ended_at is not None
    # The walk-up visit is over: the kiosk cannot read it back, organizers can.
    with pytest.raises(PermissionDenied, match="has ended"):
        messages(db, None, walk_up.id)
    with pytest.raises(PermissionDenied, match="has ended"):
        messages(db, ada, walk_up.id)
    assert [m.id for m in messages(db, admin, walk_up.id).items] == [question.id]
    # Its owner still reads an ended single conversation.
    assert messages(db, ada, single.id).items == ()
    # A reply that arrives after the kiosk went idle completes the transcript.
    late = reply(db, walk_up.id, question.id, "Late answer")
    assert late.reply_to_id == question.id


# Access ----------------------------------------------------------------------------------------


def test_attendees_never_reach_each_others_conversations(db: Database) -> None:
    admin = make_admin(db)
    ada = make_user(db)
    bob = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    secret = post(db, ada, conv.id, "My badge code is 1234")
    for intruder in (bob, None):
        with pytest.raises(NotFound):
            messages(db, intruder, conv.id)
        with pytest.raises(NotFound):
            post(db, intruder, conv.id, "Let me in")
        with pytest.raises(NotFound):
            end(db, intruder, conv.id)
    # Organizers read transcripts but do not write in attendees' conversations.
    assert [m.content for m in messages(db, admin, conv.id).items] == [secret.content]
    with pytest.raises(PermissionDenied, match="not write"):
        post(db, admin, conv.id, "Hello from the organizer")
    with pytest.raises(NotFound):
        end(db, admin, conv.id)
    assert count_messages(db) == 1
    with pytest.raises(NotFound):
        messages(db, ada, 999_999)


def test_deactivated_organizer_cannot_read_transcripts(db: Database) -> None:
    admin = make_admin(db)
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    with db.session() as s:
        s.execute(update(User).where(User.id == admin.user_id).values(active=False))
    with pytest.raises(PermissionDenied, match="not active"):
        messages(db, admin, conv.id)


def test_walk_up_conversation_is_open_to_whoever_holds_its_id(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    post(db, None, conv.id, "From the visitor")
    post(db, ada, conv.id, "Someone signed in at the same kiosk")
    assert [m.user_id for m in messages(db, None, conv.id).items] == [None, None]


# Paging and history ----------------------------------------------------------------------------


def test_keyset_pagination_has_no_gaps_or_duplicates(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    other = start(db, None, bot, MULTIPLE)
    ids = []
    for i in range(25):
        ids.append(post(db, ada, conv.id, f"message {i}").id)
        if i % 5 == 0:
            post(db, None, other.id, f"noise {i}")
    pages = []
    before = None
    while True:
        page = messages(db, ada, conv.id, before_id=before, limit=10)
        pages.append(page)
        if not page.has_more:
            assert page.before_id is None
            break
        before = page.before_id
    assert [len(p.items) for p in pages] == [10, 10, 5]
    for page in pages:
        assert [m.id for m in page.items] == sorted(m.id for m in page.items)  # oldest first
    seen = [m.id for p in reversed(pages) for m in p.items]
    assert seen == ids
    assert [m.content for m in pages[-1].items] == [f"message {i}" for i in range(5)]
    # Limits are clamped.
    assert len(messages(db, ada, conv.id, limit=0).items) == 1
    assert len(messages(db, ada, conv.id, limit=10_000).items) == 25


def test_conversation_history_is_the_last_messages_oldest_first(db: Database) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    ids = [post(db, None, conv.id, f"q{i}").id for i in range(6)]
    with db.read() as s:
        assert [m.id for m in chat.conversation_history(s, conv.id, limit=3)] == ids[3:]
        assert [m.id for m in chat.conversation_history(s, conv.id, before_id=ids[2])] == ids[:2]
        assert chat.conversation_history(s, conv.id, limit=0) == ()


# send_message ----------------------------------------------------------------------------------


@pytest.fixture
def outside_transaction(db: Database) -> Iterator[Callable[[], None]]:
    """A check for a responder to run: no connection of ``db`` is in use (so no transaction is
    open), and on SQLite another connection takes the write lock at once."""
    other: Database | None = None
    if db.backend == "sqlite":
        other = Database(make_engine(db.url, busy_timeout=0.2))

    def check() -> None:
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        if other is not None:
            with other.session() as s:
                s.execute(text("UPDATE chatbots SET name = name"))

    yield check
    if other is not None:
        other.dispose()


def test_send_message_asks_the_responder_outside_any_transaction(
    db: Database, outside_transaction: Callable[[], None]
) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    responder = EchoResponder(check=outside_transaction)
    deltas: list[str] = []
    q1, a1 = chat.send_message(db, ada, conv.id, "Where is the keynote?", responder)
    q2, a2 = chat.send_message(
        db, ada, conv.id, "And after lunch?", responder, client_id="k-2", on_delta=deltas.append
    )
    assert a1.content == "You asked: Where is the keynote?"
    assert (a1.source, a1.answered, a1.reply_to_id) == (MessageSource.TEST, True, q1.id)
    assert a2.reply_to_id == q2.id
    assert "".join(deltas) == a2.content
    first, second = responder.calls
    assert first.history == ()
    assert second.history == (q1, a1)
    assert (second.question, second.conversation_id, second.chatbot_id, second.mode) == (
        "And after lunch?",
        conv.id,
        bot,
        SINGLE,
    )
    assert second.now.tzinfo is not None
    # A retried send that was answered gets the stored pair; the assistant is not asked again.
    assert chat.send_message(db, ada, conv.id, "And after lunch?", responder, client_id="k-2") == (
        q2,
        a2,
    )
    assert len(responder.calls) == 2
    c = counters(db, bot, ada.user_id)
    assert (c.bot_messages, c.bot_user_messages, c.participant_messages, c.user_messages) == (
        4,
        2,
        2,
        2,
    )


def test_transaction_check_catches_a_held_transaction(
    db: Database, outside_transaction: Callable[[], None]
) -> None:
    """The check above can fail: inside a session it does."""
    check = outside_transaction
    with db.session() as s:
        s.execute(select(1))
        with pytest.raises(AssertionError):
            check()


def test_failed_responder_keeps_the_question_and_a_retry_answers(db: Database) -> None:
    ada = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    broken = EchoResponder(fail=True)
    with pytest.raises(RuntimeError, match="broke"):
        chat.send_message(db, ada, conv.id, "Is there Wi-Fi?", broken, client_id="k-9")
    assert count_messages(db) == 1
    working = EchoResponder()
    question, answer = chat.send_message(
        db, ada, conv.id, "Is there Wi-Fi?", working, client_id="k-9"
    )
    assert answer.reply_to_id == question.id
    assert len(working.calls) == 1
    c = counters(db, bot, ada.user_id)
    assert (c.bot_messages, c.bot_user_messages, c.user_messages) == (2, 1, 1)


def test_send_message_refuses_before_asking(db: Database) -> None:
    ada = make_user(db)
    bob = make_user(db)
    bot = make_chatbot(db)
    conv = start(db, ada, bot, SINGLE)
    responder = EchoResponder()
    with pytest.raises(NotFound):
        chat.send_message(db, bob, conv.id, "Hi", responder)
    with pytest.raises(ValidationError):
        chat.send_message(db, ada, conv.id, "   ", responder)
    assert responder.calls == []
    assert count_messages(db) == 0


# Hostile input ---------------------------------------------------------------------------------

HOSTILE = [
    "'); DROP TABLE messages; --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "%_\\ LIKE wildcards and a backslash \\",
    "مرحبا، أين قاعة المؤتمرات؟",
    "שלום, איפה האולם הראשי?",
    "👩🏽‍💻🎉",
    "a\u200db\u200cc\u200bd\u2060e",  # zero-width joiner, non-joiner, space, word joiner
    "\u202eevil\u202c and \u200fRTL mark",  # bidi overrides are text, not controls
    "e\u0301 vs é",  # combining accent vs precomposed: not normalized
    "line one\nline two\n\ttabbed",
    "𝕌𝕟𝕚𝕔𝕠𝕕𝕖 outside the BMP 𠜎",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("content", HOSTILE)
def test_hostile_text_is_stored_and_read_back_exactly(db: Database, content: str) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    question = post(db, None, conv.id, content)
    answer = reply(db, conv.id, question.id, content)
    page = messages(db, None, conv.id)
    assert [m.content for m in page.items] == [content, content]
    assert question.content == answer.content == content
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2  # nothing dropped
        assert s.scalar(select(func.count()).select_from(User)) == 0


def test_longest_message_in_four_byte_characters_round_trips(db: Database) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    content = "🎉" * chat.MESSAGE_MAX
    post(db, None, conv.id, content)
    assert messages(db, None, conv.id).items[0].content == content


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x" * (chat.MESSAGE_MAX + 1), "too long"),
        ("x" * 10_000_000, "too long"),
        ("nul\x00byte", "control characters"),
        ("\x00", "control characters"),
        ("escape \x1b[31m red", "control characters"),
        ("", "required"),
        ("  \n\t ", "required"),
        (None, "required"),
        (b"bytes", "must be text"),
    ],
)
def test_bad_messages_are_refused_clearly(db: Database, content: Any, message: str) -> None:
    bot = make_chatbot(db)
    conv = start(db, None, bot, MULTIPLE)
    with pytest.raises(ValidationError, match=message) as info:
        post(db, None, conv.id, content)
    assert info.value.field == "content"
    assert count_messages(db) == 0
    assert counters(db, bot).bot_messages == 0
