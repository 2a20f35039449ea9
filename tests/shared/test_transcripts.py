"""Transcripts for organizers: conversations, search, most asked and unanswered questions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from shared.db import Database, utcnow
from shared.errors import NotFound, PermissionDenied, ValidationError
from shared.models import ConversationMode, Message, MessageSource
from shared.services import chat, transcripts
from shared.services.common import Actor
from shared.services.responder import Reply
from tests.factories import make_admin, make_chatbot, make_user


def converse(
    db: Database,
    actor: Actor | None,
    chatbot_id: int,
    pairs: list[tuple[str, str, bool]],
    *,
    mode: ConversationMode = ConversationMode.MULTIPLE,
) -> int:
    """A conversation of (question, reply, answered) pairs; returns its id."""
    with db.session() as s:
        conv = chat.start_conversation(s, actor, chatbot_id, mode, kiosk_name="hall")
    for question, answer, answered in pairs:
        with db.session() as s:
            q = chat.post_user_message(s, actor, conv.id, question)
            source = MessageSource.OFFLINE if not answered else MessageSource.TEST
            chat.post_reply(s, conv.id, q.id, Reply(answer, source, answered=answered))
    return conv.id


@pytest.fixture
def setup(db: Database) -> tuple[Database, Actor, Actor, int, int]:
    admin = make_admin(db)
    attendee = make_user(db, "ana")
    bot = make_chatbot(db, "Summit")
    other = make_chatbot(db, "Workshops")
    return db, admin, attendee, bot, other


def test_conversations_per_assistant_and_per_user(setup) -> None:
    db, admin, attendee, bot, other = setup
    walk_up = converse(db, None, bot, [("Where is lunch?", "Hall B.", True)])
    mine = converse(
        db, attendee, bot, [("Wifi?", "Ask the desk.", True)], mode=ConversationMode.SINGLE
    )
    converse(db, None, other, [("Parking?", "Lot C.", True)])
    with db.read() as s:
        page = transcripts.list_conversations(s, admin, chatbot_id=bot)
        assert page.total == 2
        assert {c.id for c in page.items} == {walk_up, mine}
        assert page.items[0].started_at >= page.items[1].started_at
        by_user = transcripts.list_conversations(s, admin, user_id=attendee.user_id)
        assert [c.id for c in by_user.items] == [mine]
        assert by_user.items[0].username == "ana"
        assert by_user.items[0].chatbot_name == "Summit"
        assert by_user.items[0].message_count == 2
        second = transcripts.list_conversations(s, admin, chatbot_id=bot, offset=1, limit=1)
        assert len(second.items) == 1
        assert second.total == 2
        with pytest.raises(ValidationError):
            transcripts.list_conversations(s, admin)
        with pytest.raises(NotFound):
            transcripts.list_conversations(s, admin, chatbot_id=bot + other + 100)


def test_transcript_is_the_whole_conversation_in_order(setup) -> None:
    db, admin, _attendee, bot, _other = setup
    conv = converse(db, None, bot, [("One?", "First.", True), ("Two?", "Second.", False)])
    with db.read() as s:
        t = transcripts.transcript(s, admin, conv)
    assert [m.content for m in t.messages] == ["One?", "First.", "Two?", "Second."]
    assert t.conversation.kiosk_name == "hall"
    assert not t.truncated
    with db.read() as s, pytest.raises(NotFound):
        transcripts.transcript(s, admin, conv + 1000)


def test_search_is_case_insensitive_escaped_and_per_assistant(setup) -> None:
    db, admin, _attendee, bot, other = setup
    converse(db, None, bot, [("Is there a 50% discount?", "No.", True)])
    converse(db, None, bot, [("Is there a 500 euro fee?", "No.", True)])
    converse(db, None, bot, [("WHERE is the KEYNOTE", "Hall A.", True)])
    converse(db, None, other, [("keynote time?", "9:00.", True)])
    with db.read() as s:
        hits = transcripts.search_messages(s, admin, bot, "keynote")
        assert [h.content for h in hits.items] == ["WHERE is the KEYNOTE"]
        assert hits.total == 1
        assert not hits.capped
        percent = transcripts.search_messages(s, admin, bot, "50%")
        assert [h.content for h in percent.items] == ["Is there a 50% discount?"]
        underscore = transcripts.search_messages(s, admin, bot, "5_0")
        assert underscore.total == 0
        no = transcripts.search_messages(s, admin, bot, "no", limit=1)
        assert no.total >= 3
        assert len(no.items) == 1
        with pytest.raises(ValidationError):
            transcripts.search_messages(s, admin, bot, "  ")


def test_top_questions_group_normalized_text(setup) -> None:
    db, admin, _attendee, bot, other = setup
    converse(db, None, bot, [("Where is lunch?", "Hall B.", True)])
    converse(db, None, bot, [("where is  LUNCH", "Hall B.", True)])
    converse(db, None, bot, [("Where is lunch ?!", "Hall B.", True)])
    converse(db, None, bot, [("Wifi password?", "On your badge.", True)])
    converse(db, None, other, [("Wifi password?", "On your badge.", True)])
    with db.read() as s:
        top = transcripts.top_questions(s, admin, chatbot_id=bot)
        overall = transcripts.top_questions(s, admin, limit=1)
    assert [(q.count, transcripts.normalize_question(q.question)) for q in top] == [
        (3, "where is lunch"),
        (1, "wifi password"),
    ]
    assert overall[0].count == 3
    assert len(overall) == 1


def test_window_leaves_old_questions_out(setup) -> None:
    db, admin, _attendee, bot, _other = setup
    converse(db, None, bot, [("Old question?", "Old.", False)])
    with db.session() as s:
        s.execute(update(Message).values(created_at=utcnow() - timedelta(days=40)))
    with db.read() as s:
        assert transcripts.top_questions(s, admin, chatbot_id=bot, days=30) == []
        assert transcripts.unanswered_questions(s, admin, chatbot_id=bot, days=30).total == 0
        assert transcripts.top_questions(s, admin, chatbot_id=bot, days=60)[0].count == 1
        with pytest.raises(ValidationError):
            transcripts.top_questions(s, admin, days=0)


def test_unanswered_questions_come_with_their_question(setup) -> None:
    db, admin, _attendee, bot, other = setup
    converse(
        db,
        None,
        bot,
        [("Who won the 1998 cup?", "I don't know that.", False), ("Lunch?", "12:30.", True)],
    )
    converse(db, None, other, [("Is there a sauna?", "Not that I know.", False)])
    with db.read() as s:
        page = transcripts.unanswered_questions(s, admin, chatbot_id=bot)
        everywhere = transcripts.unanswered_questions(s, admin)
    assert page.total == 1
    item = page.items[0]
    assert item.question == "Who won the 1998 cup?"
    assert item.reply == "I don't know that."
    assert item.source is MessageSource.OFFLINE
    assert everywhere.total == 2
    # newest first, across assistants, and pages that follow on
    assert [q.question for q in everywhere.items] == ["Is there a sauna?", "Who won the 1998 cup?"]
    with db.read() as s:
        second = transcripts.unanswered_questions(s, admin, offset=1, limit=1)
    assert [q.question for q in second.items] == ["Who won the 1998 cup?"]
    assert second.total == 2


def test_attendees_and_anonymous_are_refused(setup) -> None:
    db, _admin, attendee, bot, _other = setup
    conv = converse(db, None, bot, [("Hi?", "Hello.", True)])
    calls = [
        lambda s, a: transcripts.list_conversations(s, a, chatbot_id=bot),
        lambda s, a: transcripts.transcript(s, a, conv),
        lambda s, a: transcripts.get_conversation(s, a, conv),
        lambda s, a: transcripts.search_messages(s, a, bot, "hi"),
        lambda s, a: transcripts.top_questions(s, a),
        lambda s, a: transcripts.unanswered_questions(s, a),
    ]
    for call in calls:
        for actor in (attendee, None):
            with db.read() as s, pytest.raises(PermissionDenied):
                call(s, actor)


def test_deactivated_organizer_is_refused(setup) -> None:
    db, _admin, _attendee, bot, _other = setup
    from shared.models import Role

    former = make_user(db, "former", role=Role.ADMIN, active=False)
    with db.read() as s, pytest.raises(PermissionDenied):
        transcripts.list_conversations(s, former, chatbot_id=bot)
