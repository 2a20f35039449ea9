"""User administration."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.db import Database
from shared.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from shared.models import Chatbot, ChatbotParticipant, Role, User
from shared.services import auth, chatbots, users
from shared.services.common import Actor, Page, UserInfo
from shared.services.users import UserQuery
from tests.factories import PASSWORD, make_admin, make_chatbot, make_user


def names(page: Page[UserInfo]) -> list[str]:
    return [u.username for u in page.items]


@pytest.fixture
def people(db: Database) -> dict[str, Actor]:
    admin = make_admin(db, "boss")
    out = {"boss": admin}
    for username, name in [
        ("ada", "Ada Lovelace"),
        ("alan", "Alan Turing"),
        ("grace", "Grace Hopper"),
        ("edsger", "Edsger Dijkstra"),
        ("barbara", "Barbara Liskov"),
    ]:
        out[username] = make_user(db, username, name=name)
    out["ghost"] = make_user(db, "ghost", name="Ghost Writer", active=False)
    return out


def test_list_search_filter_sort_and_page(db: Database, people: dict[str, Actor]) -> None:
    boss = people["boss"]
    with db.read() as s:
        page = users.list_users(s, boss, UserQuery(), limit=3)
        assert page.total == 7
        assert names(page) == ["ada", "alan", "barbara"]
        second = users.list_users(s, boss, UserQuery(), offset=3, limit=3)
        assert names(second) == ["edsger", "ghost", "grace"]
        assert names(users.list_users(s, boss, UserQuery(search="LOVE"))) == ["ada"]
        assert users.list_users(s, boss, UserQuery(search="@example.org")).total == 7
        assert names(users.list_users(s, boss, UserQuery(role=Role.ADMIN))) == ["boss"]
        inactive = users.list_users(s, boss, UserQuery(active=False))
        assert names(inactive) == ["ghost"]
        by_username_desc = users.list_users(s, boss, UserQuery(sort="username", descending=True))
        assert names(by_username_desc)[0] == "grace"
        # LIKE wildcards in the search are literal
        assert users.list_users(s, boss, UserQuery(search="%")).total == 0
        assert users.list_users(s, boss, UserQuery(search="_")).total == 0
        with pytest.raises(ValidationError, match="sort"):
            users.list_users(s, boss, UserQuery(sort="password_hash"))


def test_page_items_never_carry_secrets(db: Database, people: dict[str, Actor]) -> None:
    with db.read() as s:
        info = users.list_users(s, people["boss"]).items[0]
    fields = set(info.__dataclass_fields__)
    assert not {f for f in fields if "hash" in f or f == "password" or "code" in f}


def test_update_user_and_profile(db: Database, people: dict[str, Actor]) -> None:
    with db.session() as s:
        info = users.update_user(
            s,
            people["boss"],
            people["ada"].user_id,
            name=" Augusta Ada King ",
            email="ADA@Example.com",
        )
    assert info.name == "Augusta Ada King"
    assert info.email == "ada@example.com"
    with db.session() as s, pytest.raises(Conflict, match="email"):
        users.update_user(s, people["boss"], people["alan"].user_id, email="ada@example.com")
    with db.session() as s, pytest.raises(Conflict, match="username"):
        users.update_user(s, people["boss"], people["alan"].user_id, username="ADA")
    with db.session() as s:
        mine = users.update_profile(s, people["grace"], name="Rear Admiral Grace Hopper")
    assert mine.name == "Rear Admiral Grace Hopper"
    with db.session() as s, pytest.raises(PermissionDenied):
        users.update_user(s, people["grace"], people["ada"].user_id, name="Hacked")


def test_attendees_see_only_themselves(db: Database, people: dict[str, Actor]) -> None:
    with db.read() as s:
        assert users.get_user(s, people["ada"], people["ada"].user_id).username == "ada"
        with pytest.raises(PermissionDenied):
            users.get_user(s, people["ada"], people["alan"].user_id)
        with pytest.raises(PermissionDenied):
            users.list_users(s, people["ada"])
        with pytest.raises(NotFound):
            users.get_user(s, people["boss"], 999_999)


def test_deactivate_signs_out_and_blocks_sign_in(db: Database, people: dict[str, Actor]) -> None:
    token = auth.sign_in(db, "alan", PASSWORD).token
    with db.session() as s:
        users.set_active(s, people["boss"], people["alan"].user_id, False)
    with db.read() as s, pytest.raises(AuthenticationFailed):
        auth.verify_token(s, token)
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        auth.sign_in(db, "alan", PASSWORD)
    with db.session() as s:
        users.set_active(s, people["boss"], people["alan"].user_id, True)
    assert auth.sign_in(db, "alan", PASSWORD).user.username == "alan"


def test_organizers_cannot_lock_themselves_out(db: Database, people: dict[str, Actor]) -> None:
    boss = people["boss"]
    with db.session() as s:
        with pytest.raises(PermissionDenied):
            users.set_active(s, boss, boss.user_id, False)
        with pytest.raises(PermissionDenied):
            users.set_role(s, boss, boss.user_id, Role.ATTENDEE)
        with pytest.raises(PermissionDenied):
            users.delete_user(s, boss, boss.user_id)


def test_role_change_takes_effect_at_once(db: Database, people: dict[str, Actor]) -> None:
    with db.session() as s:
        users.set_role(s, people["boss"], people["grace"].user_id, Role.ADMIN)
    with db.read() as s:
        # Grace's old Actor still says attendee, but the row decides.
        assert users.list_users(s, Actor(people["grace"].user_id, Role.ADMIN)).total == 7


def test_delete_user_erases_personal_data_and_keeps_counters_right(
    db: Database, people: dict[str, Actor]
) -> None:
    boss = people["boss"]
    bot = make_chatbot(db)
    with db.session() as s:
        chatbots.join(s, people["edsger"], bot)
        chatbots.join(s, people["barbara"], bot)
    with db.session() as s:
        impact = users.deletion_impact(s, boss, people["edsger"].user_id)
        assert impact.enrolments == 1
        users.delete_user(s, boss, people["edsger"].user_id)
    with db.read() as s:
        assert s.get(User, people["edsger"].user_id) is None
        assert s.scalar(select(Chatbot.participant_count).where(Chatbot.id == bot)) == 1
        assert s.scalar(select(func.count()).select_from(ChatbotParticipant)) == 1
    with db.session() as s, pytest.raises(NotFound):
        users.delete_user(s, boss, people["edsger"].user_id)


def test_user_activity(db: Database, people: dict[str, Actor]) -> None:
    bot = make_chatbot(db, "Expo assistant")
    with db.session() as s:
        chatbots.join(s, people["ada"], bot)
    with db.read() as s:
        activity = users.user_activity(s, people["boss"], people["ada"].user_id)
    assert [p.chatbot_name for p in activity.participations] == ["Expo assistant"]
    assert activity.conversations == 0
