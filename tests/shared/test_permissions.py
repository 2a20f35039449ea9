"""No path from an attendee (or a deactivated organizer) to any organizer action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.db import Database
from shared.errors import PermissionDenied
from shared.models import Role
from shared.services import agenda, auth, chatbots, faq, guests, kiosk_admin, stats, users
from shared.services.common import Actor
from shared.services.users import UserQuery
from tests.factories import make_admin, make_chatbot, make_user

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def organizer_actions(db: Database, ids: dict[str, int]) -> dict[str, Callable[[Actor], Any]]:
    """Every organizer-only service call, each taking the acting user."""
    start = datetime.now(UTC) + timedelta(hours=1)

    def session_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[Actor], Any]:
        def call(actor: Actor) -> Any:
            with db.session() as s:
                return fn(s, actor, *args, **kwargs)

        return call

    bot, user, guest = ids["bot"], ids["user"], ids["guest"]
    return {
        "chatbots.create": session_call(
            chatbots.create,
            name="X",
            event_name="X",
            start_date="2026-12-01",
            end_date="2026-12-02",
        ),
        "chatbots.update": session_call(chatbots.update_chatbot, bot, name="Y"),
        "chatbots.settings": session_call(chatbots.update_settings, bot, system_prompt="p"),
        "chatbots.delete": session_call(chatbots.delete_chatbot, bot),
        "chatbots.impact": session_call(chatbots.deletion_impact, bot),
        "chatbots.get": session_call(chatbots.get, bot),
        "chatbots.list": session_call(chatbots.list_for_organizers),
        "chatbots.enroll": session_call(chatbots.enroll, bot, [user]),
        "guests.create": session_call(guests.create, bot, name="Guest Two"),
        "guests.update": session_call(guests.update_guest, guest, title="T"),
        "guests.delete": session_call(guests.delete_guest, guest),
        "guests.get": session_call(guests.get, guest),
        "guests.list": session_call(guests.list_for_organizers, bot),
        "guests.photo": session_call(guests.set_photo, guest, PNG),
        "agenda.create": session_call(
            agenda.create, bot, title="Talk", starts_at=start, ends_at=start + timedelta(hours=1)
        ),
        "agenda.list": session_call(agenda.list_for_organizers, bot),
        "faq.create": session_call(faq.create, bot, question="Q?", answer="A."),
        "users.list": session_call(users.list_users, UserQuery()),
        "users.get_other": session_call(users.get_user, user),
        "users.update": session_call(users.update_user, user, name="Z"),
        "users.deactivate": session_call(users.set_active, user, False),
        "users.role": session_call(users.set_role, user, Role.ADMIN),
        "users.delete": session_call(users.delete_user, user),
        "users.activity": session_call(users.user_activity, user),
        "stats.dashboard": session_call(stats.dashboard),
        "stats.chatbot": session_call(stats.chatbot_figures, bot),
        "stats.per_day": session_call(stats.messages_per_day),
        "stats.top_users": session_call(stats.most_active_users),
        "stats.new_users": session_call(stats.new_users_per_day),
        "auth.badges": session_call(auth.issue_badge_codes, [user]),
        "auth.revoke_other": session_call(auth.revoke_sessions, user),
        "auth.reset": lambda actor: auth.reset_password(db, actor, user),
        "kiosk.pin": lambda actor: kiosk_admin.set_kiosk_pin(db, actor, "482913"),
    }


@pytest.fixture
def world(db: Database) -> dict[str, Any]:
    admin = make_admin(db)
    bot = make_chatbot(db)
    user = make_user(db, "someone")
    with db.session() as s:
        guest = guests.create(s, admin, bot, name="Guest One")
    ids = {"bot": bot, "user": user.user_id, "guest": guest.id}
    return {"admin": admin, "ids": ids}


def test_an_attendee_reaches_no_organizer_action(db: Database, world: dict[str, Any]) -> None:
    attendee = make_user(db, "curious")
    reached = []
    for name, action in organizer_actions(db, world["ids"]).items():
        try:
            action(attendee)
        except PermissionDenied:
            continue
        reached.append(name)
    assert reached == []


def test_a_deactivated_organizer_reaches_none_either(db: Database, world: dict[str, Any]) -> None:
    former = make_user(db, "former", role=Role.ADMIN, active=False)
    reached = []
    for name, action in organizer_actions(db, world["ids"]).items():
        try:
            action(former)
        except PermissionDenied:
            continue
        reached.append(name)
    assert reached == []


def test_the_list_is_not_vacuous(db: Database, world: dict[str, Any]) -> None:
    """An active organizer can do each of these (so the checks above test something)."""
    failures = []
    for name, action in organizer_actions(db, world["ids"]).items():
        if name in ("users.delete", "chatbots.delete", "guests.delete"):
            continue  # destructive: would change what the next actions need
        try:
            action(world["admin"])
        except Exception as exc:  # noqa: BLE001 - collected for the message
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    assert failures == []
