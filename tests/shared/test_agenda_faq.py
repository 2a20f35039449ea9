"""Agenda and FAQ services: create, edit, delete, list, order; validation and permissions, on
every backend.

The venue is in Europe/Paris (tests/conftest.py). The test event runs on 30 and 31 March 2030;
Paris moves its clocks from 02:00 to 03:00 on the 31st.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, update

from shared.assistant.knowledge import knowledge_fingerprint
from shared.db import Database
from shared.errors import NotFound, PermissionDenied, ValidationError
from shared.models import AgendaItem, FaqEntry, Role, User, agenda_item_speakers
from shared.services import agenda, chatbots, faq, guests
from shared.services.agenda import AgendaItemInfo
from shared.services.common import Actor
from shared.services.faq import FaqInfo
from tests.factories import make_admin, make_chatbot, make_user

DAY1, DAY2 = date(2030, 3, 30), date(2030, 3, 31)
PARIS_WINTER = timezone(timedelta(hours=1))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def admin(db: Database) -> Actor:
    return make_admin(db)


@pytest.fixture
def bot(db: Database, admin: Actor) -> int:
    return make_chatbot(db, "Spring summit", start=DAY1, end=DAY2, created_by=admin)


def add(db: Database, actor: Actor, chatbot_id: int, title: str, **kwargs: Any) -> AgendaItemInfo:
    kwargs.setdefault("starts_at", datetime(2030, 3, 30, 9, 0, tzinfo=PARIS_WINTER))
    kwargs.setdefault("ends_at", datetime(2030, 3, 30, 10, 0, tzinfo=PARIS_WINTER))
    with db.session() as s:
        return agenda.create(s, actor, chatbot_id, title=title, **kwargs)


def add_guest(db: Database, actor: Actor, chatbot_id: int, name: str, **kwargs: Any) -> int:
    with db.session() as s:
        return guests.create(s, actor, chatbot_id, name=name, **kwargs).id


def add_faq(db: Database, actor: Actor, chatbot_id: int, question: str) -> FaqInfo:
    with db.session() as s:
        return faq.create(s, actor, chatbot_id, question=question, answer=f"About {question}")


def fingerprint(db: Database, chatbot_id: int) -> str:
    with db.read() as s:
        return knowledge_fingerprint(s, chatbot_id)


# Agenda ----------------------------------------------------------------------------------------


def test_times_are_stored_as_utc_whatever_form_they_come_in(
    db: Database, admin: Actor, bot: int
) -> None:
    aware = add(db, admin, bot, "Aware")
    assert (aware.starts_at, aware.ends_at) == (utc(2030, 3, 30, 8), utc(2030, 3, 30, 9))
    assert aware.starts_at.tzinfo is UTC
    text = add(
        db, admin, bot, "Text", starts_at="2030-03-31T09:00+02:00", ends_at="2030-03-31T10:00Z"
    )
    assert (text.starts_at, text.ends_at) == (utc(2030, 3, 31, 7), utc(2030, 3, 31, 10))
    # naive: the venue's wall clock (summer time from the 31st)
    naive = add(
        db,
        admin,
        bot,
        "Naive",
        starts_at=datetime(2030, 3, 31, 9, 0),
        ends_at="2030-03-31 10:30",
    )
    assert (naive.starts_at, naive.ends_at) == (utc(2030, 3, 31, 7), utc(2030, 3, 31, 8, 30))
    with db.read() as s:
        stored = agenda.get(s, admin, naive.id)
    assert stored == naive
    assert stored.starts_at.tzinfo is UTC


def test_a_wall_clock_time_skipped_by_the_clock_change_is_refused(
    db: Database, admin: Actor, bot: int
) -> None:
    with pytest.raises(ValidationError, match="does not exist") as info, db.session() as s:
        agenda.create(
            s, admin, bot, title="Ghost", starts_at="2030-03-31 02:30", ends_at="2030-03-31 04:00"
        )
    assert info.value.field == "starts_at"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"title": "Nul\x00"}, "title"),
        ({"location": "l" * 121}, "location"),
        ({"track": "Main\x07"}, "track"),
        ({"description": "d" * 5_001}, "description"),
        ({"starts_at": "tomorrow morning"}, "starts_at"),
        ({"starts_at": 1_900_000_000}, "starts_at"),
        ({"ends_at": "2030-03-30T08:59+01:00"}, "ends_at"),
        ({"starts_at": "2030-03-29T09:00+01:00"}, "starts_at"),
        ({"starts_at": "2030-04-01T09:00+02:00", "ends_at": "2030-04-01T10:00+02:00"},
         "starts_at"),
        ({"ends_at": "2030-04-02T00:30+02:00"}, "ends_at"),
        ({"speaker_ids": "1,2"}, "speaker_ids"),
        ({"speaker_ids": [1, "2"]}, "speaker_ids"),
        ({"speaker_ids": [True]}, "speaker_ids"),
        ({"speaker_ids": [999_999]}, "speaker_ids"),
        ({"room": "A"}, None),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_its_field(
    db: Database, admin: Actor, bot: int, changes: dict[str, Any], field: str | None
) -> None:
    item = add(db, admin, bot, "Opening")
    with pytest.raises(ValidationError) as info, db.session() as s:
        agenda.update_item(s, admin, item.id, **changes)
    assert info.value.field == field
    assert str(info.value)
    with db.read() as s:
        assert agenda.get(s, admin, item.id) == item  # nothing stored half-valid


def test_multiline_descriptions_and_late_nights_are_fine(
    db: Database, admin: Actor, bot: int
) -> None:
    party = add(
        db,
        admin,
        bot,
        "Closing party",
        description="Drinks.\r\nMusic.\n\tDancing.",
        starts_at="2030-03-31T21:00+02:00",
        ends_at="2030-04-01T02:00+02:00",
    )
    assert party.description == "Drinks.\nMusic.\n\tDancing."
    assert party.ends_at == utc(2030, 4, 1)


def test_speakers_are_guests_of_the_same_event(db: Database, admin: Actor, bot: int) -> None:
    other = make_chatbot(db, "Other event", start=DAY1, end=DAY2)
    stranger = add_guest(db, admin, other, "Stranger")
    grace = add_guest(db, admin, bot, "Grace Hopper")
    ada = add_guest(db, admin, bot, "Ada Lovelace")
    item = add(db, admin, bot, "Panel", speaker_ids=[grace, ada, grace], location="Hall A")
    assert item.speaker_ids == (ada, grace)
    assert item.speaker_names == ("Ada Lovelace", "Grace Hopper")
    assert [sp.guest_id for sp in item.speakers] == [ada, grace]
    with pytest.raises(ValidationError, match="not a guest of this event"), db.session() as s:
        agenda.update_item(s, admin, item.id, speaker_ids=[ada, stranger])
    with db.session() as s:
        changed = agenda.update_item(s, admin, item.id, speaker_ids=[grace])
    assert changed.speaker_ids == (grace,)
    assert changed.location == "Hall A"
    # a deleted guest leaves the sessions they spoke at
    with db.session() as s:
        guests.delete_guest(s, admin, grace)
    with db.read() as s:
        assert agenda.get(s, admin, item.id).speakers == ()
    # a deleted session leaves its speakers as guests
    with db.session() as s:
        agenda.update_item(s, admin, item.id, speaker_ids=[ada])
        agenda.delete_item(s, admin, item.id)
    with db.read() as s:
        assert [g.id for g in guests.list_for_organizers(s, admin, bot)] == [ada]
        assert s.scalar(select(func.count()).select_from(agenda_item_speakers)) == 0


def test_programme_by_day_track_and_guest(db: Database, admin: Actor, bot: int) -> None:
    ada = add_guest(db, admin, bot, "Ada Lovelace")
    add(db, admin, bot, "Keynote", speaker_ids=[ada])
    add(
        db,
        admin,
        bot,
        "Workshop",
        ends_at="2030-03-30T12:00+01:00",
        track="Hands-on",
    )
    # 00:30 in Paris on the 31st is still the 30th in UTC: it belongs to the venue's 31st
    add(
        db,
        admin,
        bot,
        "Night owls",
        starts_at="2030-03-31T00:30+01:00",
        ends_at="2030-03-31T01:30+01:00",
    )
    add(
        db,
        admin,
        bot,
        "Talk",
        starts_at="2030-03-31T10:00+02:00",
        ends_at="2030-03-31T11:00+02:00",
        track="AI",
        speaker_ids=[ada],
    )
    with db.read() as s:
        everything = agenda.list_items(s, None, bot)
        assert [i.title for i in everything] == ["Keynote", "Workshop", "Night owls", "Talk"]
        assert [i.title for i in agenda.list_items(s, None, bot, day=DAY1)] == [
            "Keynote",
            "Workshop",
        ]
        assert [i.title for i in agenda.programme(s, None, bot, day=DAY2)] == [
            "Night owls",
            "Talk",
        ]
        assert [i.title for i in agenda.list_items(s, None, bot, track=" AI ")] == ["Talk"]
        assert agenda.tracks(s, None, bot) == ["AI", "Hands-on"]
        assert agenda.list_for_organizers(s, admin, bot) == everything
        assert [i.title for i in agenda.sessions_of_guest(s, None, ada)] == ["Keynote", "Talk"]
        with pytest.raises(NotFound):
            agenda.sessions_of_guest(s, None, 999_999)
        assert agenda.get_item(s, None, everything[0].id) == everything[0]


def test_now_and_next(db: Database, admin: Actor, bot: int) -> None:
    def at(hour: int, minute: int = 0) -> str:
        return f"2030-03-30T{hour:02d}:{minute:02d}+01:00"

    add(db, admin, bot, "Keynote", starts_at=at(9), ends_at=at(10))
    add(db, admin, bot, "Workshop", starts_at=at(9, 30), ends_at=at(12))
    add(db, admin, bot, "Coffee", starts_at=at(10), ends_at=at(10, 15))
    add(db, admin, bot, "Panel", starts_at=at(10, 15), ends_at=at(11))
    with db.read() as s:
        early = agenda.now_and_next(s, None, bot, at=utc(2030, 3, 30, 7))
        assert early.now == ()
        assert [i.title for i in early.next] == ["Keynote", "Workshop", "Coffee"]
        busy = agenda.now_and_next(s, None, bot, at=utc(2030, 3, 30, 8, 45), upcoming=1)
        assert [i.title for i in busy.now] == ["Keynote", "Workshop"]
        assert [i.title for i in busy.next] == ["Coffee"]
        at_ten = agenda.now_and_next(s, None, bot, at=utc(2030, 3, 30, 9), upcoming=0)
        assert [i.title for i in at_ten.now] == ["Workshop", "Coffee"]  # over at its end
        assert all(i.is_on(utc(2030, 3, 30, 9)) for i in at_ten.now)
        with pytest.raises(ValueError, match="naive"):
            agenda.now_and_next(s, None, bot, at=datetime(2030, 3, 30, 9))


def test_only_current_organizers_edit_the_programme(db: Database, admin: Actor, bot: int) -> None:
    attendee = make_user(db, "attendee")
    item = add(db, admin, bot, "Opening")
    calls = [
        lambda s, a: agenda.create(
            s, a, bot, title="Intruder", starts_at=item.starts_at, ends_at=item.ends_at
        ),
        lambda s, a: agenda.update_item(s, a, item.id, title="Renamed"),
        lambda s, a: agenda.delete_item(s, a, item.id),
        lambda s, a: agenda.get(s, a, item.id),
        lambda s, a: agenda.list_for_organizers(s, a, bot),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied), db.session() as s:
            call(s, attendee)
        with pytest.raises(PermissionDenied), db.session() as s:
            call(s, None)
    with db.session() as s:
        s.execute(update(User).where(User.id == admin.user_id).values(role=Role.ATTENDEE.value))
    with pytest.raises(PermissionDenied), db.session() as s:
        agenda.update_item(s, admin, item.id, title="Too late")
    with db.read() as s:
        assert s.scalar(select(AgendaItem.title).where(AgendaItem.id == item.id)) == "Opening"


def test_attendees_read_only_programmes_they_may_use(db: Database, admin: Actor) -> None:
    private = make_chatbot(db, "Invite only", start=DAY1, end=DAY2, public=False)
    item = add(db, admin, private, "Secret session")
    entry = add_faq(db, admin, private, "Dress code?")
    attendee = make_user(db, "attendee")
    for who in (None, attendee):
        with pytest.raises(NotFound), db.read() as s:
            agenda.list_items(s, who, private)
        with pytest.raises(NotFound), db.read() as s:
            faq.list_entries(s, who, private)
        with pytest.raises(NotFound), db.read() as s:
            agenda.get_item(s, who, item.id)
    with db.session() as s:
        chatbots.enroll(s, admin, private, [attendee.user_id])
    with db.read() as s:
        assert agenda.list_items(s, attendee, private) == [item]
        assert faq.list_entries(s, attendee, private) == [entry]
    with db.session() as s:
        chatbots.update_chatbot(s, admin, private, active=False)
    with pytest.raises(PermissionDenied), db.read() as s:
        agenda.now_and_next(s, attendee, private)
    with pytest.raises(PermissionDenied), db.read() as s:
        faq.list_entries(s, attendee, private)
    with db.read() as s:  # organizers still read it
        assert agenda.list_items(s, admin, private) == [item]
        assert faq.list_entries(s, admin, private) == [entry]


def test_unknown_event_or_item_is_not_found(db: Database, admin: Actor) -> None:
    with pytest.raises(NotFound), db.session() as s:
        agenda.create(
            s, admin, 424242, title="Orphan", starts_at=utc(2030, 3, 30), ends_at=utc(2030, 3, 30)
        )
    with pytest.raises(NotFound), db.session() as s:
        agenda.update_item(s, admin, 424242, title="Nothing")
    with pytest.raises(NotFound), db.session() as s:
        agenda.delete_item(s, admin, 424242)
    with pytest.raises(NotFound), db.read() as s:
        agenda.list_for_organizers(s, admin, 424242)
    with pytest.raises(NotFound), db.read() as s:
        agenda.list_items(s, None, 424242)


def test_agenda_writes_change_the_knowledge_fingerprint(
    db: Database, admin: Actor, bot: int
) -> None:
    empty = fingerprint(db, bot)
    item = add(db, admin, bot, "Opening")
    added = fingerprint(db, bot)
    with db.session() as s:
        changed = agenda.update_item(s, admin, item.id, location="Room B")
    assert changed.updated_at > item.updated_at
    edited = fingerprint(db, bot)
    assert len({empty, added, edited}) == 3
    with db.session() as s:
        agenda.delete_item(s, admin, item.id)
    assert fingerprint(db, bot) == empty  # the same data again: nothing to rebuild for


def test_deleting_the_assistant_deletes_its_programme_and_faq(
    db: Database, admin: Actor, bot: int
) -> None:
    speaker = add_guest(db, admin, bot, "Ada Lovelace")
    add(db, admin, bot, "Opening", speaker_ids=[speaker])
    add_faq(db, admin, bot, "Wi-Fi?")
    with db.session() as s:
        chatbots.delete_chatbot(s, admin, bot)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AgendaItem)) == 0
        assert s.scalar(select(func.count()).select_from(agenda_item_speakers)) == 0
        assert s.scalar(select(func.count()).select_from(FaqEntry)) == 0


# FAQ -------------------------------------------------------------------------------------------


def test_faq_crud_in_the_organizers_order(db: Database, admin: Actor, bot: int) -> None:
    wifi = add_faq(db, admin, bot, "Wi-Fi?")
    parking = add_faq(db, admin, bot, "Parking?")
    lunch = add_faq(db, admin, bot, "Lunch?")
    assert [e.position for e in (wifi, parking, lunch)] == [0, 1, 2]
    with db.session() as s:
        changed = faq.update_entry(s, admin, parking.id, answer="Garage P2.\nLevel -1.")
    assert changed.answer == "Garage P2.\nLevel -1."
    assert changed.question == "Parking?"
    assert changed.updated_at > parking.updated_at
    with db.read() as s:
        assert faq.get_entry(s, None, parking.id) == changed
        assert [e.question for e in faq.list_entries(s, None, bot)] == [
            "Wi-Fi?",
            "Parking?",
            "Lunch?",
        ]
    with db.session() as s:
        faq.delete_entry(s, admin, wifi.id)
        again = faq.create(s, admin, bot, question="Badges?", answer="At the desk.")
    assert again.position == 3
    with db.read() as s:
        assert [e.question for e in faq.list_entries(s, admin, bot)] == [
            "Parking?",
            "Lunch?",
            "Badges?",
        ]
        with pytest.raises(NotFound):
            faq.get_entry(s, admin, wifi.id)


def test_faq_move_and_reorder(db: Database, admin: Actor, bot: int) -> None:
    a, b, c = (add_faq(db, admin, bot, q) for q in ("A?", "B?", "C?"))
    with db.session() as s:
        order = faq.move_entry(s, admin, c.id, 0)
    assert [(e.question, e.position) for e in order] == [("C?", 0), ("A?", 1), ("B?", 2)]
    with db.session() as s:
        order = faq.move_entry(s, admin, c.id, 99)
    assert [e.question for e in order] == ["A?", "B?", "C?"]
    with db.session() as s:
        order = faq.reorder(s, admin, bot, [b.id, c.id, a.id])
    assert [(e.question, e.position) for e in order] == [("B?", 0), ("C?", 1), ("A?", 2)]
    with db.read() as s:
        assert [e.question for e in faq.list_entries(s, None, bot)] == ["B?", "C?", "A?"]
    for bad in ([a.id, b.id], [a.id, b.id, b.id], [a.id, b.id, c.id, 999_999]):
        with pytest.raises(ValidationError, match="exactly once"), db.session() as s:
            faq.reorder(s, admin, bot, bad)
    with pytest.raises(ValidationError), db.session() as s:
        faq.move_entry(s, admin, a.id, "first")  # type: ignore[arg-type]
    before = fingerprint(db, bot)
    with db.session() as s:
        faq.move_entry(s, admin, a.id, 0)
    assert fingerprint(db, bot) != before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"question": " "}, "question"),
        ({"question": "q" * 501}, "question"),
        ({"question": "two\nlines"}, "question"),
        ({"answer": ""}, "answer"),
        ({"answer": "a" * 5_001}, "answer"),
        ({"answer": "bell\x07"}, "answer"),
        ({"position": 3}, None),
    ],
)
def test_bad_faq_input_is_refused(
    db: Database, admin: Actor, bot: int, changes: dict[str, Any], field: str | None
) -> None:
    entry = add_faq(db, admin, bot, "Wi-Fi?")
    with pytest.raises(ValidationError) as info, db.session() as s:
        faq.update_entry(s, admin, entry.id, **changes)
    assert info.value.field == field
    with db.read() as s:
        assert faq.get_entry(s, admin, entry.id) == entry


def test_only_organizers_edit_the_faq(db: Database, admin: Actor, bot: int) -> None:
    attendee = make_user(db, "attendee")
    entry = add_faq(db, admin, bot, "Wi-Fi?")
    calls = [
        lambda s, a: faq.create(s, a, bot, question="Q?", answer="A."),
        lambda s, a: faq.update_entry(s, a, entry.id, answer="Hacked"),
        lambda s, a: faq.delete_entry(s, a, entry.id),
        lambda s, a: faq.move_entry(s, a, entry.id, 0),
        lambda s, a: faq.reorder(s, a, bot, [entry.id]),
    ]
    for call in calls:
        for who in (attendee, None):
            with pytest.raises(PermissionDenied), db.session() as s:
                call(s, who)
    with db.read() as s:
        assert faq.list_entries(s, attendee, bot) == [entry]
    with pytest.raises(NotFound), db.session() as s:
        faq.create(s, admin, 424242, question="Q?", answer="A.")
