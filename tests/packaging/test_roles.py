"""``convergeai db create-roles`` on PostgreSQL: connect as the kiosk role and prove what it can
and cannot do, through the services (what a kiosk does) and through plain SQL (what someone
holding a kiosk's database password could try)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError

from shared import roles
from shared.db import Database, make_engine
from shared.errors import AuthenticationFailed, ConfigError, NotFound, PermissionDenied
from shared.migrate import upgrade
from shared.models import ConversationMode, Role
from shared.services import auth, chat, chatbots
from shared.services.auth import hash_password
from shared.services.common import Actor
from tests.factories import make_chatbot

PASSWORD = "correct horse battery staple"


def _server_url() -> str:
    url = os.environ.get("CONVERGEAI_TEST_POSTGRES_URL")
    if not url:
        message = "CONVERGEAI_TEST_POSTGRES_URL is not set: no postgresql server for this run"
        if os.environ.get("CONVERGEAI_REQUIRE_ALL_BACKENDS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@dataclass
class Setup:
    owner: Database
    kiosk: Database
    admin: Database
    created: roles.CreatedRoles


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    """A fresh migrated database, both roles created on it, and a Database for each role."""
    server = make_url(_server_url())
    suffix = secrets.token_hex(3)
    name = f"convergeai_roles_{os.getpid()}_{suffix}"
    kiosk_role, admin_role = f"cai_kiosk_{suffix}", f"cai_admin_{suffix}"
    root = create_engine(server, isolation_level="AUTOCOMMIT")
    with root.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    owner = Database(make_engine(server.set(database=name)))
    kiosk = admin = None
    try:
        upgrade(owner)
        created = roles.create_roles(
            owner,
            kiosk_role=kiosk_role,
            kiosk_password=roles.generate_password(),
            admin_role=admin_role,
            admin_password="an admin pass: with 'quotes'",
        )
        # again: idempotent (resets rights and passwords)
        created = roles.create_roles(
            owner,
            kiosk_role=kiosk_role,
            kiosk_password=roles.generate_password(),
            admin_role=admin_role,
            admin_password="an admin pass: with 'quotes'",
        )
        kiosk = Database(make_engine(created.kiosk_url))
        admin = Database(make_engine(created.admin_url))
        yield Setup(owner, kiosk, admin, created)
    finally:
        for database in (kiosk, admin, owner):
            if database is not None:
                database.dispose()
        with root.connect() as conn:
            # FORCE cannot end other roles' sessions without superuser rights: wait for the
            # disposed pools' connections to go away instead.
            for _ in range(100):
                if not conn.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE usename IN (:k, :a)"),
                    {"k": kiosk_role, "a": admin_role},
                ):
                    break
                time.sleep(0.05)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in (kiosk_role, admin_role):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        root.dispose()


@pytest.fixture
def people(setup: Setup) -> dict[str, int]:
    """An attendee with a password and a badge, another attendee, an organizer; an event."""
    owner = setup.owner
    with owner.engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE users, chatbots, conversations, messages, auth_throttles, "
                "session_tokens RESTART IDENTITY CASCADE"
            )
        )
    hashed = hash_password(PASSWORD)
    ids: dict[str, int] = {}
    with owner.engine.begin() as conn:
        for username, role, badge in (
            ("maya", "attendee", auth.badge_hash("7K3Q-M2XD-9TRB-4HNA-ZC8W")),
            ("jonas", "attendee", None),
            ("boss", "admin", None),
        ):
            ids[username] = int(
                conn.scalar(
                    text(
                        "INSERT INTO users (username, email, name, password_hash, role, active, "
                        "must_change_password, badge_code_hash, message_count, created_at, "
                        "updated_at) VALUES (:u, :e, :n, :h, :r, true, false, :b, 0, "
                        "now(), now()) RETURNING id"
                    ),
                    {
                        "u": username,
                        "e": f"{username}@example.org",
                        "n": username.title(),
                        "h": hashed,
                        "r": role,
                        "b": badge,
                    },
                )
            )
    ids["bot"] = make_chatbot(owner, multiple_mode=True)
    return ids


def _denied(database: Database, sql: str, params: Mapping[str, object] | None = None) -> None:
    """``sql`` run as that role fails with a permission error."""
    with pytest.raises((ProgrammingError, DBAPIError)) as info, database.engine.begin() as conn:
        conn.execute(text(sql), params or {})
    message = str(info.value).lower()
    assert "insufficientprivilege" in message or "must be owner" in message, message


def _kiosk_conversation(setup: Setup, actor: Actor, bot: int) -> int:
    with setup.kiosk.session() as s:
        chatbots.join(s, actor, bot)
        conv = chat.start_conversation(s, actor, bot, ConversationMode.SINGLE, kiosk_name="k1")
    with setup.kiosk.session() as s:
        chat.post_user_message(s, actor, conv.id, "Where is lunch served?", client_id="c-1")
    return conv.id


def test_kiosk_signs_in_chats_and_reads_its_own_conversation(setup: Setup, people: dict[str, int]):
    kiosk = setup.kiosk
    result = auth.sign_in(kiosk, "maya", PASSWORD, device="kiosk-1")
    assert result.user.id == people["maya"]
    assert result.user.has_password  # the view says a hash exists without showing it
    with pytest.raises(AuthenticationFailed):
        auth.sign_in(kiosk, "maya", "wrong password", device="kiosk-1")
    badge = auth.sign_in_with_badge(kiosk, "7k3q m2xd 9trb 4hna zc8w", device="kiosk-1")
    assert badge.user.id == people["maya"]
    with pytest.raises(AuthenticationFailed):
        auth.sign_in_with_badge(kiosk, "0000-0000-0000-0000-0000", device="kiosk-1")

    conv = _kiosk_conversation(setup, result.actor, people["bot"])
    with kiosk.read() as s:
        page = chat.list_messages(s, result.actor, conv, limit=50)
        assert [m.content for m in page.items] == ["Where is lunch served?"]
        assert auth.verify_token(s, result.token).id == people["maya"]
    # another attendee, through the service, cannot read it
    with kiosk.read() as s, pytest.raises((NotFound, PermissionDenied)):
        chat.list_messages(s, Actor(people["jonas"], Role.ATTENDEE), conv, limit=50)
    with setup.owner.engine.connect() as conn:
        assert (
            conn.scalar(
                text("SELECT message_count FROM users WHERE id = :i"), {"i": people["maya"]}
            )
            == 1
        )


def test_kiosk_runs_the_whole_visit_with_the_assistant(setup: Setup, people: dict[str, int]):
    """What the kiosk window does, as the kiosk role: list events and guests, read the PIN hash,
    sign in, join, chat with the real assistant (its counters), walk-up visits, sign out."""
    from shared.assistant.engine import Assistant
    from shared.services import guests, kiosk_admin

    kiosk = setup.kiosk
    with kiosk.read() as s:
        bots = chatbots.list_for_attendees(s, None)
        assert [b.id for b in bots] == [people["bot"]]
        guests.list_for_attendees(s, None, people["bot"])
        kiosk_admin.pin_hash(s)
    signed = auth.sign_in(kiosk, "maya@example.org", PASSWORD, device="kiosk-1")
    conv = _kiosk_conversation(setup, signed.actor, people["bot"])
    assistant = Assistant(kiosk)
    question, reply = chat.send_message(
        kiosk, signed.actor, conv, "When is lunch?", assistant, client_id="c-2"
    )
    assert reply.content
    with kiosk.session() as s:
        walk_up = chat.start_conversation(s, None, people["bot"], ConversationMode.MULTIPLE)
    chat.send_message(kiosk, None, walk_up.id, "Where are the toilets?", assistant)
    with kiosk.session() as s:
        chat.end_conversation(s, None, walk_up.id)
        auth.sign_out(s, signed.token)
    with kiosk.read() as s, pytest.raises(AuthenticationFailed):
        auth.verify_token(s, signed.token)
    with setup.owner.engine.connect() as conn:
        counts = conn.execute(
            text("SELECT message_count, user_message_count FROM chatbots WHERE id = :i"),
            {"i": people["bot"]},
        ).one()
    assert tuple(counts) == (5, 3)


def test_kiosk_registers_attendees_and_changes_passwords_in_the_database(
    setup: Setup, people: dict[str, int]
):
    kiosk = setup.kiosk
    info = auth.register(
        kiosk,
        username="newbie",
        email="newbie@example.org",
        name="New Bie",
        password="a fresh long password 42",
    )
    assert info.role is Role.ATTENDEE
    signed = auth.sign_in(kiosk, "newbie", "a fresh long password 42", device="kiosk-1")
    auth.change_password(kiosk, signed.actor, "a fresh long password 42", "another one entirely 7")
    with pytest.raises(AuthenticationFailed):
        auth.change_password(kiosk, signed.actor, "not the password", "yet another password 99")
    assert auth.sign_in(kiosk, "newbie", "another one entirely 7").user.id == info.id
    # the hash stored by the database function is a real bcrypt hash the console can check
    with setup.owner.engine.connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM users WHERE id = :i"), {"i": info.id})
    assert auth.verify_password("another one entirely 7", stored)


def test_kiosk_cannot_read_secrets_or_other_conversations(setup: Setup, people: dict[str, int]):
    maya = Actor(people["maya"], Role.ATTENDEE)
    _kiosk_conversation(setup, maya, people["bot"])
    kiosk = setup.kiosk
    _denied(kiosk, "SELECT password_hash FROM public.users")
    _denied(kiosk, "SELECT badge_code_hash FROM public.users")
    _denied(kiosk, "SELECT count(*) FROM public.users")
    with kiosk.engine.connect() as conn:
        rows = conn.execute(text("SELECT DISTINCT password_hash, badge_code_hash FROM users"))
        assert set(rows) <= {
            (roles.HIDDEN_SECRET, roles.HIDDEN_SECRET),
            (roles.HIDDEN_SECRET, None),
            (None, None),
        }
    # the owner's functions are not reachable; the trigger function is not callable directly
    _denied(kiosk, "SELECT convergeai_kiosk.users_write()")


def test_kiosk_cannot_take_over_accounts_delete_or_change_the_schema(
    setup: Setup, people: dict[str, int]
):
    kiosk = setup.kiosk
    me = {"i": people["jonas"]}
    _denied(kiosk, "UPDATE users SET role = 'admin' WHERE id = :i", me)
    _denied(kiosk, "UPDATE users SET password_hash = 'x' WHERE id = :i", me)
    _denied(kiosk, "UPDATE users SET email = 'me@evil.example' WHERE id = :i", me)
    _denied(kiosk, "UPDATE users SET badge_code_hash = 'known' WHERE id = :i", me)
    _denied(kiosk, "UPDATE users SET badge_code_hash = NULL WHERE id = :i", {"i": people["maya"]})
    _denied(kiosk, "UPDATE users SET active = false WHERE id = :i", me)
    _denied(
        kiosk,
        "INSERT INTO users (username, email, name, role, active, must_change_password, "
        "message_count, created_at, updated_at) VALUES ('evil', 'e@x.org', 'E', 'admin', true, "
        "false, 0, now(), now())",
    )
    # an organizer's password cannot be replaced even knowing nothing but the hash format
    with kiosk.engine.begin() as conn:
        assert not conn.scalar(
            text("SELECT convergeai_set_password(:i, 'guess', :h)"),
            {"i": people["boss"], "h": hash_password("taken over!")},
        )
    _denied(kiosk, "DELETE FROM users WHERE id = :i", me)
    _denied(kiosk, "DELETE FROM messages")
    _denied(kiosk, "DELETE FROM conversations")
    _denied(kiosk, "DELETE FROM chatbots")
    _denied(kiosk, "UPDATE chatbots SET name = 'hacked'")
    _denied(kiosk, "UPDATE messages SET content = 'changed'")
    _denied(kiosk, "INSERT INTO chatbots (name) VALUES ('x')")
    _denied(kiosk, "UPDATE app_settings SET value = 'x'")
    _denied(kiosk, "TRUNCATE auth_throttles")
    _denied(kiosk, "CREATE TABLE public.evil (id int)")
    _denied(kiosk, "CREATE TABLE convergeai_kiosk.evil (id int)")
    _denied(kiosk, "DROP TABLE messages")
    _denied(kiosk, "ALTER TABLE messages ADD COLUMN evil int")
    with setup.owner.engine.connect() as conn:
        row = conn.execute(text("SELECT role, email, active FROM users WHERE id = :i"), me).one()
    assert tuple(row) == ("attendee", "jonas@example.org", True)


def test_admin_role_reads_and_writes_everything_but_no_ddl(setup: Setup, people: dict[str, int]):
    admin = setup.admin
    result = auth.sign_in(admin, "boss", PASSWORD, device="laptop")
    assert result.user.role is Role.ADMIN
    with admin.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(password_hash) FROM users")) == 3
        conn.execute(text("UPDATE chatbots SET name = 'Renamed'"))
        conn.execute(text("DELETE FROM auth_throttles"))
    _denied(admin, "CREATE TABLE evil (id int)")
    _denied(admin, "DROP TABLE messages")
    _denied(admin, "ALTER TABLE users ADD COLUMN evil int")


def test_urls_and_refusals(setup: Setup, tmp_path):
    assert make_url(setup.created.kiosk_url).username == setup.created.kiosk_role
    assert make_url(setup.created.admin_url).password == "an admin pass: with 'quotes'"
    with pytest.raises(Exception, match="role name"):
        roles.check_role_name('kiosk"; DROP ROLE postgres; --')
    sqlite = Database(make_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    try:
        with pytest.raises(ConfigError, match="PostgreSQL only"):
            roles.create_roles(sqlite, kiosk_password="x" * 12, admin_password="y" * 12)
    finally:
        sqlite.dispose()
