"""Guests of an event: organizer rules, what attendees see, photos, on every backend."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from shared.db import Database
from shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from shared.models import Guest, Role, User
from shared.services import chatbots, guests
from shared.services.common import Actor, venue_today
from shared.services.guests import GuestDetail, GuestInfo
from tests.factories import make_admin, make_chatbot, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def add(db: Database, actor: Actor, chatbot_id: int, name: str, **kwargs: Any) -> GuestDetail:
    with db.session() as s:
        return guests.create(s, actor, chatbot_id, name=name, **kwargs)


@pytest.fixture
def admin(db: Database) -> Actor:
    return make_admin(db)


@pytest.fixture
def bot(db: Database, admin: Actor) -> int:
    return make_chatbot(db, created_by=admin)


def test_organizer_adds_lists_edits_and_deletes(db: Database, admin: Actor, bot: int) -> None:
    ada = add(
        db,
        admin,
        bot,
        "  Ada Lovelace ",
        title="Keynote speaker",
        organization="Analytical Engines Ltd",
        description="Line one\r\nline two",
        email=" Ada@Example.ORG ",
    )
    assert ada.name == "Ada Lovelace"
    assert ada.email == "ada@example.org"
    assert ada.description == "Line one\nline two"
    assert (ada.is_speaker, ada.is_moderator, ada.has_photo) == (True, False, False)
    add(db, admin, bot, "Grace Hopper", is_moderator=True, is_speaker=False)
    add(db, admin, bot, "Alan Turing", email="")
    with db.read() as s:
        listed = guests.list_for_organizers(s, admin, bot)
        assert [g.name for g in listed] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
        assert listed[1].email is None
        assert chatbots.get(s, admin, bot).guest_count == 3
    with db.session() as s:
        edited = guests.update_guest(s, admin, ada.id, title="Opening keynote", email=None)
    assert (edited.title, edited.email, edited.organization) == (
        "Opening keynote",
        None,
        "Analytical Engines Ltd",
    )
    assert edited.updated_at >= ada.updated_at
    with db.session() as s:
        guests.delete_guest(s, admin, ada.id)
    with db.read() as s:
        with pytest.raises(NotFound):
            guests.get(s, admin, ada.id)
        assert len(guests.list_for_organizers(s, admin, bot)) == 2


def test_search_matches_fields_and_treats_wildcards_literally(
    db: Database, admin: Actor, bot: int
) -> None:
    add(db, admin, bot, "Half Price", title="50% off everything")
    add(db, admin, bot, "Club Host", title="500 club", email="host@club.example")
    add(db, admin, bot, "Under_Score", organization="Snake Case Inc")
    with db.read() as s:

        def search(term: str) -> list[str]:
            return [g.name for g in guests.list_for_organizers(s, admin, bot, search=term)]

        assert search("50%") == ["Half Price"]
        assert search("50") == ["Club Host", "Half Price"]
        assert search("_") == ["Under_Score"]
        assert search("SNAKE") == ["Under_Score"]
        assert search("club.example") == ["Club Host"]
        assert search("   ") == ["Club Host", "Half Price", "Under_Score"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Null\x00Byte"}, "name"),
        ({"title": "t" * 201}, "title"),
        ({"organization": 7}, "organization"),
        ({"description": "d" * (guests.DESCRIPTION_MAX + 1)}, "description"),
        ({"email": "not an email"}, "email"),
        ({"is_speaker": "yes"}, "is_speaker"),
        ({"user_id": "3"}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"photo": b""}, None),
    ],
)
def test_bad_input_is_refused_with_its_field(
    db: Database, admin: Actor, bot: int, changes: dict[str, Any], field: str | None
) -> None:
    guest = add(db, admin, bot, "Valid Name")
    with pytest.raises(ValidationError) as info, db.session() as s:
        guests.update_guest(s, admin, guest.id, **changes)
    assert info.value.field == field
    with db.read() as s:
        assert guests.get(s, admin, guest.id) == guest  # nothing stored half-valid


def test_duplicate_names_and_links_within_an_event_conflict(db: Database, admin: Actor) -> None:
    first, second = make_chatbot(db, "First"), make_chatbot(db, "Second")
    speaker = make_user(db, "speaker")
    ada = add(db, admin, first, "Ada Lovelace", user_id=speaker.user_id)
    with pytest.raises(Conflict, match="named 'ADA LOVELACE'"):
        add(db, admin, first, "ADA LOVELACE")
    with pytest.raises(Conflict, match="linked"):
        add(db, admin, first, "Someone Else", user_id=speaker.user_id)
    # the same person may be a guest of another event
    add(db, admin, second, "Ada Lovelace", user_id=speaker.user_id)
    grace = add(db, admin, first, "Grace Hopper")
    with pytest.raises(Conflict), db.session() as s:
        guests.update_guest(s, admin, grace.id, name="ada lovelace")
    with db.session() as s:  # saving a guest under its own name is no clash
        assert guests.update_guest(s, admin, ada.id, name="Ada Lovelace").name == "Ada Lovelace"
    with pytest.raises(ValidationError, match="no user") as info:
        add(db, admin, first, "Nobody", user_id=987654)
    assert info.value.field == "user_id"


def test_deleting_a_linked_user_keeps_the_guest(db: Database, admin: Actor, bot: int) -> None:
    speaker = make_user(db, "speaker")
    guest = add(db, admin, bot, "Speaker", user_id=speaker.user_id)
    with db.session() as s:
        s.delete(s.get(User, speaker.user_id))
    with db.read() as s:
        assert guests.get(s, admin, guest.id).user_id is None


def test_only_current_organizers_manage_guests(db: Database, admin: Actor, bot: int) -> None:
    attendee = make_user(db, "attendee")
    guest = add(db, admin, bot, "Ada Lovelace")
    calls = [
        lambda s, a: guests.create(s, a, bot, name="Intruder"),
        lambda s, a: guests.update_guest(s, a, guest.id, name="Renamed"),
        lambda s, a: guests.delete_guest(s, a, guest.id),
        lambda s, a: guests.get(s, a, guest.id),
        lambda s, a: guests.list_for_organizers(s, a, bot),
        lambda s, a: guests.set_photo(s, a, guest.id, PNG),
        lambda s, a: guests.remove_photo(s, a, guest.id),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied), db.session() as s:
            call(s, attendee)
    # an organizer demoted a moment ago loses the right at once, whatever the client believes
    with db.session() as s:
        s.execute(update(User).where(User.id == admin.user_id).values(role=Role.ATTENDEE.value))
    with pytest.raises(PermissionDenied), db.session() as s:
        guests.create(s, admin, bot, name="Too late")
    with db.read() as s:
        assert s.scalar(select(Guest.name).where(Guest.id == guest.id)) == "Ada Lovelace"


def test_unknown_event_or_guest_is_not_found(db: Database, admin: Actor) -> None:
    with pytest.raises(NotFound), db.session() as s:
        guests.create(s, admin, 424242, name="Orphan")
    with pytest.raises(NotFound), db.session() as s:
        guests.update_guest(s, admin, 424242, name="Nobody")
    with pytest.raises(NotFound), db.read() as s:
        guests.photo(s, None, 424242)


def test_attendees_see_public_cards_of_assistants_they_may_use(
    db: Database, admin: Actor, bot: int
) -> None:
    add(db, admin, bot, "Ada Lovelace", email="ada@example.org", user_id=admin.user_id)
    attendee = make_user(db, "attendee")
    with db.read() as s:
        cards = guests.list_for_attendees(s, None, bot)
        assert [type(c) for c in cards] == [GuestInfo]
        assert not hasattr(cards[0], "email")
        assert not hasattr(cards[0], "user_id")
        assert guests.list_for_attendees(s, attendee, bot) == cards
    private = make_chatbot(db, "Invite only", public=False)
    add(db, admin, private, "Secret Guest")
    with pytest.raises(NotFound), db.read() as s:
        guests.list_for_attendees(s, attendee, private)
    with db.session() as s:
        chatbots.enroll(s, admin, private, [attendee.user_id])
    with db.read() as s:
        assert [g.name for g in guests.list_for_attendees(s, attendee, private)] == ["Secret Guest"]
    ended = make_chatbot(
        db,
        "Last year",
        start=venue_today() - timedelta(days=400),
        end=venue_today() - timedelta(days=398),
    )
    with pytest.raises(PermissionDenied), db.read() as s:
        guests.list_for_attendees(s, None, ended)


@pytest.mark.parametrize(
    ("data", "mime"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")]
)
def test_photo_is_stored_served_and_removed(
    db: Database, admin: Actor, bot: int, data: bytes, mime: str
) -> None:
    guest = add(db, admin, bot, "Photogenic")
    with db.read() as s:
        assert guests.photo(s, None, guest.id) is None
    with db.session() as s:
        with_photo = guests.set_photo(s, admin, guest.id, data)
    assert with_photo.has_photo
    assert with_photo.photo_updated_at is not None
    with db.read() as s:
        photo = guests.photo(s, None, guest.id)
        assert photo is not None
        assert (photo.data, photo.mime, photo.guest_id) == (data, mime, guest.id)
        assert guests.list_for_attendees(s, None, bot)[0].has_photo
    with db.session() as s:
        without = guests.remove_photo(s, admin, guest.id)
    assert not without.has_photo
    assert without.photo_updated_at is not None  # a kiosk's cached copy is stale now
    assert without.photo_updated_at >= with_photo.photo_updated_at
    with db.read() as s:
        assert guests.photo(s, None, guest.id) is None


def test_the_largest_allowed_photo_fits_every_backend(db: Database, admin: Actor, bot: int) -> None:
    data = PNG + bytes(range(256)) * ((guests.PHOTO_MAX_BYTES - len(PNG)) // 256)
    data += b"\x00" * (guests.PHOTO_MAX_BYTES - len(data))
    assert len(data) == guests.PHOTO_MAX_BYTES
    guest = add(db, admin, bot, "Big Picture")
    with db.session() as s:
        guests.set_photo(s, admin, guest.id, data)
    with db.read() as s:
        photo = guests.photo(s, admin, guest.id)
    assert photo is not None
    assert photo.data == data
    with pytest.raises(ValidationError, match="too large"), db.session() as s:
        guests.set_photo(s, admin, guest.id, data + b"\x00")


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 16,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"RIFF1234WAVE",
        "text",
    ],
)
def test_photos_that_are_not_png_jpeg_or_webp_are_refused(
    db: Database, admin: Actor, bot: int, data: Any
) -> None:
    guest = add(db, admin, bot, "Photogenic")
    with pytest.raises(ValidationError) as info, db.session() as s:
        guests.set_photo(s, admin, guest.id, data)
    assert info.value.field == "photo"


def test_photo_access_follows_the_assistant(db: Database, admin: Actor) -> None:
    private = make_chatbot(db, "Invite only", public=False)
    guest = add(db, admin, private, "Secret Guest")
    with db.session() as s:
        guests.set_photo(s, admin, guest.id, PNG)
    attendee = make_user(db, "attendee")
    for who in (None, attendee):
        with pytest.raises(NotFound, match="no guest"), db.read() as s:
            guests.photo(s, who, guest.id)
    with db.read() as s:
        assert guests.photo(s, admin, guest.id) is not None
    # organizers still see the photos of a switched-off assistant; attendees do not
    with db.session() as s:
        chatbots.update_chatbot(s, admin, private, active=False, public=True)
    with db.read() as s:
        assert guests.photo(s, admin, guest.id) is not None
    with pytest.raises(PermissionDenied), db.read() as s:
        guests.photo(s, attendee, guest.id)


def test_listings_do_not_load_photos(db: Database, admin: Actor, bot: int) -> None:
    guest = add(db, admin, bot, "Photogenic")
    with db.session() as s:
        guests.set_photo(s, admin, guest.id, PNG)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.read() as s:
            guests.list_for_attendees(s, None, bot)
            guests.list_for_organizers(s, admin, bot)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    guest_selects = [st for st in statements if "from guests" in st]
    assert guest_selects
    assert not any(re.search(r"guests\.photo\b(?!_)", st) for st in guest_selects)
    assert all("guests.photo_mime" in st for st in guest_selects)


def test_deleting_the_assistant_deletes_its_guests(db: Database, admin: Actor, bot: int) -> None:
    guest = add(db, admin, bot, "Photogenic")
    with db.session() as s:
        guests.set_photo(s, admin, guest.id, PNG)
        chatbots.delete_chatbot(s, admin, bot)
    with db.read() as s:
        assert s.scalar(select(Guest.id).where(Guest.id == guest.id)) is None
