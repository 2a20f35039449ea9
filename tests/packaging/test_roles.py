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
from shared.errors import (
    AuthenticationFailed,
    ConfigError,
    NotFound,
    PasswordChangeRequired,
    PermissionDenied,
    Throttled,
    ValidationError,
)
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
    key = secrets.token_urlsafe(32)
    with kiosk.session() as s:
        walk_up = chat.start_conversation(
            s, None, people["bot"], ConversationMode.MULTIPLE, access_key=key
        )
    chat.send_message(kiosk, None, walk_up.id, "Where are the toilets?", assistant, access_key=key)
    with kiosk.session() as s:
        chat.end_conversation(s, None, walk_up.id, access_key=key)
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
    maya = auth.sign_in(setup.kiosk, "maya", PASSWORD).actor
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
    # an organizer's password cannot be replaced without a right password checked before
    with kiosk.engine.begin() as conn:
        row = conn.execute(
            text("SELECT * FROM convergeai_finish_sign_in(:h, '', false, 3600, NULL, :n)"),
            {"h": "0" * 64, "n": hash_password("taken over!")},
        ).one()
    assert row.status == "unknown"
    # the unthrottled checks of earlier versions are gone
    for old in ("convergeai_check_password(1, 'x')", "convergeai_user_by_badge('x')"):
        with pytest.raises(ProgrammingError, match="does not exist"), kiosk.engine.begin() as c:
            c.execute(text(f"SELECT {old}"))
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
    maya = auth.sign_in(setup.kiosk, "maya", PASSWORD).actor
    conv = _kiosk_conversation(setup, maya, people["bot"])
    with admin.read() as s:  # the console reads every conversation
        page = chat.list_messages(s, Actor(people["boss"], Role.ADMIN), conv)
        assert [m.content for m in page.items] == ["Where is lunch served?"]
    with admin.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM conversations")) == 1
        assert conn.scalar(text("SELECT count(*) FROM messages")) == 1
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


# Row security, sessions and throttling on the kiosk role ----------------------------------------


def _as_kiosk(
    setup: Setup, sql: str, *, token: str = "", key: str = "", **params: object
) -> list[tuple[object, ...]]:
    """Run ``sql`` on the kiosk role (in one transaction) as someone holding ``token`` / ``key``
    (what psql with the kiosk's password can do), and return its rows."""
    with setup.kiosk.engine.begin() as conn:
        conn.execute(
            text(
                "SELECT set_config('convergeai.session_token', :t, true), "
                "set_config('convergeai.visit_key', :v, true)"
            ),
            {"t": token, "v": key},
        )
        result = conn.execute(text(sql), params)
        return [tuple(r) for r in result] if result.returns_rows else []


def _chats(setup: Setup, people: dict[str, int]) -> tuple[int, int, str, str]:
    """Maya's conversation (one message) and a walk-up visit's (one message), both made at a
    kiosk; returns their ids, Maya's session token and the visit's key."""
    maya = auth.sign_in(setup.kiosk, "maya", PASSWORD, device="kiosk-1")
    mine = _kiosk_conversation(setup, maya.actor, people["bot"])
    key = secrets.token_urlsafe(32)
    with setup.kiosk.session() as s:
        walk_up = chat.start_conversation(
            s, None, people["bot"], ConversationMode.MULTIPLE, access_key=key
        )
        chat.post_user_message(s, None, walk_up.id, "Where are the toilets?", access_key=key)
    return mine, walk_up.id, maya.token, key


def test_kiosk_role_reads_only_the_conversations_of_whom_it_identifies(
    setup: Setup, people: dict[str, int]
):
    mine, walk_up, token, key = _chats(setup, people)
    jonas = auth.sign_in(setup.kiosk, "jonas", PASSWORD).token
    count = "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)"
    # plain psql with the kiosk's password: nothing
    assert _as_kiosk(setup, count) == [(0, 0)]
    assert _as_kiosk(setup, "SELECT content FROM public.messages") == []
    # another attendee's session, a made-up token or key: nothing of Maya's or the visit's
    assert _as_kiosk(setup, count, token=jonas) == [(0, 0)]
    assert _as_kiosk(setup, count, token="x" * 43, key="y" * 43) == [(0, 0)]
    # the rightful holders see their own, and only that
    assert _as_kiosk(setup, "SELECT id FROM conversations", token=token) == [(mine,)]
    assert _as_kiosk(setup, "SELECT id FROM conversations", key=key) == [(walk_up,)]
    assert _as_kiosk(setup, "SELECT content FROM messages", key=key) == [
        ("Where are the toilets?",)
    ]
    # nor can it write into, end or forge others' conversations
    write = (
        "INSERT INTO messages (conversation_id, chatbot_id, user_id, is_user_message, content, "
        "source, created_at) VALUES (:c, :b, :u, true, 'hi', 'user', now())"
    )
    for conv, user in ((mine, people["maya"]), (walk_up, None)):
        _denied(setup.kiosk, write, {"c": conv, "b": people["bot"], "u": user})
    _denied(
        setup.kiosk,
        "INSERT INTO conversations (chatbot_id, user_id, mode, kiosk_name, started_at, "
        "message_count) VALUES (:b, :u, 'single', '', now(), 0)",
        {"b": people["bot"], "u": people["maya"]},
    )
    assert _as_kiosk(setup, "UPDATE conversations SET ended_at = now() RETURNING id") == []
    # the services report another attendee's or visit's conversation as not found
    with setup.kiosk.read() as s:
        for conv in (mine, walk_up):
            with pytest.raises(NotFound):
                chat.list_messages(s, None, conv, access_key="not the key")
    # signing out (the visit's end) closes the signed-in conversation to the key and the token
    with setup.kiosk.session() as s:
        auth.sign_out(s, token, visit_key=key)
    assert _as_kiosk(setup, "SELECT id FROM conversations", token=token) == []
    with setup.owner.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM messages")) == 2


def test_kiosk_role_cannot_mint_sessions_or_touch_throttles(setup: Setup, people: dict[str, int]):
    kiosk = setup.kiosk
    mint = (
        "INSERT INTO session_tokens (token_hash, user_id, device, remember, created_at, "
        "expires_at) VALUES (:h, :u, 'evil', false, now(), now() + interval '1 day')"
    )
    _denied(kiosk, mint, {"h": "a" * 64, "u": people["maya"]})
    _denied(kiosk, "SELECT token_hash FROM session_tokens")
    _denied(kiosk, "UPDATE session_tokens SET revoked_at = NULL")
    _denied(kiosk, "SELECT * FROM auth_throttles")
    _denied(kiosk, "DELETE FROM auth_throttles")
    _denied(kiosk, "INSERT INTO auth_throttles (key, failures) VALUES ('user:1', 0)")
    _denied(kiosk, "UPDATE auth_throttles SET locked_until = NULL")
    _denied(kiosk, "SELECT * FROM convergeai_kiosk.sign_in_attempts")
    _denied(kiosk, "SELECT convergeai_kiosk.users_write()")
    # a right password's outcome cannot be read (nor a session opened) in the attempt's own
    # transaction: it is counted, and committed, before anyone learns it
    handle = secrets.token_hex(32)
    with kiosk.engine.begin() as conn:
        assert (
            conn.scalar(
                text("SELECT convergeai_attempt('password', 'maya', :p, 'psql', :h)"),
                {"p": PASSWORD, "h": handle},
            )
            is None
        )
        row = conn.execute(
            text("SELECT * FROM convergeai_finish_sign_in(:h, 'psql', false, 3600, NULL, NULL)"),
            {"h": handle},
        ).one()
        assert row.status == "unknown"
        conn.rollback()
    with setup.owner.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM session_tokens")) == 0


def test_password_guessing_in_the_database_is_limited(setup: Setup, people: dict[str, int]):
    """Guessing through the kiosk role's functions, from psql, with a new device name each time
    and rolling back whatever can be rolled back: locked after auth.max_failures guesses."""
    limit = 5  # the default auth.max_failures the roles were created with
    guess = text("SELECT convergeai_attempt('password', 'maya', :p, :d, :h)")
    finish = text("SELECT status FROM convergeai_finish_sign_in(:h, '', false, NULL, NULL, NULL)")
    outcomes = []
    for n in range(limit + 2):
        handle = secrets.token_hex(32)
        with setup.kiosk.engine.connect() as conn:
            locked = conn.scalar(guess, {"p": f"guess {n}", "d": f"psql-{n}", "h": handle})
            # rolled back: nothing learnt; a guess only tells its outcome once committed
            conn.rollback()
            locked = conn.scalar(guess, {"p": f"guess {n}", "d": f"psql-{n}", "h": handle})
            conn.commit()
            outcome = conn.scalar(finish, {"h": handle}) if locked is None else "locked"
            conn.rollback()
        outcomes.append(outcome)
    assert outcomes == ["wrong"] * limit + ["locked", "locked"]
    # locked means locked: the right password is not even checked until the wait is over
    with pytest.raises(Throttled):
        auth.sign_in(setup.kiosk, "maya", PASSWORD, device="kiosk-1")
    # the services' own throttling on the kiosk role (another account)
    for _ in range(limit):
        with pytest.raises(AuthenticationFailed):
            auth.sign_in(setup.kiosk, "jonas", "wrong password", device="kiosk-1")
    with pytest.raises(Throttled):
        auth.sign_in(setup.kiosk, "jonas", PASSWORD, device="kiosk-2")
    # changing a password is throttled the same way (it checks the current one)
    with setup.owner.engine.begin() as conn:
        conn.execute(text("DELETE FROM auth_throttles"))
    signed = auth.sign_in(setup.kiosk, "jonas", PASSWORD, device="kiosk-1")
    for _ in range(limit):
        with pytest.raises(AuthenticationFailed):
            auth.change_password(setup.kiosk, signed.actor, "not it", "a brand new password 1")
    with pytest.raises(Throttled):
        auth.change_password(setup.kiosk, signed.actor, PASSWORD, "a brand new password 1")


def test_kiosk_role_signs_in_by_badge_and_completes_a_reset(setup: Setup, people: dict[str, int]):
    kiosk = setup.kiosk
    key = secrets.token_urlsafe(32)
    badge = auth.sign_in_with_badge(kiosk, "7K3Q-M2XD-9TRB-4HNA-ZC8W", visit_key=key)
    assert badge.user.id == people["maya"]
    assert _as_kiosk(setup, "SELECT current_attendee()", token=badge.token) == [(people["maya"],)]
    assert _as_kiosk(setup, "SELECT current_attendee()", key=key) == [(people["maya"],)]
    temporary = auth.reset_password(setup.owner, Actor(people["boss"], Role.ADMIN), people["jonas"])
    with pytest.raises(PasswordChangeRequired):
        auth.sign_in(kiosk, "jonas", temporary)
    with pytest.raises(AuthenticationFailed):
        auth.complete_password_reset(kiosk, "jonas", "not the temporary", "my own password 123")
    with pytest.raises(ValidationError):
        auth.complete_password_reset(kiosk, "jonas", temporary, temporary)
    result = auth.complete_password_reset(kiosk, "jonas", temporary, "my own password 123")
    assert result.user.id == people["jonas"]
    assert not result.user.must_change_password
    assert (
        auth.sign_in(kiosk, "jonas@example.org", "my own password 123").user.id == people["jonas"]
    )


def test_kiosk_outbox_delivers_once_after_a_restart_without_the_session_token(
    setup: Setup, people: dict[str, int], tmp_path
):
    """What kiosk/outbox.py keeps on disk (the visit's key, never the session token) is enough
    to deliver a queued message after a restart, exactly once; the visit's end revokes it."""
    from kiosk.backend import FallbackResponder
    from kiosk.outbox import Outbox, OutboxEntry, new_client_id

    kiosk = setup.kiosk
    key = secrets.token_urlsafe(32)
    signed = auth.sign_in(kiosk, "maya", PASSWORD, device="kiosk-1", visit_key=key)
    with kiosk.session() as s:
        conv = chat.start_conversation(
            s, signed.actor, people["bot"], ConversationMode.SINGLE, access_key=key
        )
        walk_up = chat.start_conversation(
            s, None, people["bot"], ConversationMode.MULTIPLE, access_key=key
        )
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    for conv_id, actor in ((conv.id, signed.actor), (walk_up.id, None)):
        box.add(
            OutboxEntry(
                client_id=new_client_id(),
                conversation_id=conv_id,
                content="Is there wifi?",
                user_id=actor.user_id if actor else None,
                role=actor.role.value if actor else None,
                visit="visit-1",
                access_key=key,
            )
        )
    assert signed.token not in path.read_text()
    assert path.stat().st_mode & 0o077 == 0
    restarted = Outbox(path)  # the kiosk restarted: only the file is left
    for entry in restarted.pending():
        assert entry.actor is None or entry.actor.token is None
        for _ in range(2):  # a retry after an unknown outcome
            question, reply = chat.send_message(
                kiosk,
                entry.actor,
                entry.conversation_id,
                entry.content,
                FallbackResponder(),
                client_id=entry.client_id,
                access_key=entry.access_key,
            )
        restarted.mark_delivered(entry.client_id)
        assert reply.reply_to_id == question.id
    with setup.owner.engine.connect() as conn:
        per_conversation = conn.execute(
            text("SELECT conversation_id, count(*) FROM messages GROUP BY 1 ORDER BY 1")
        ).all()
    assert [tuple(r) for r in per_conversation] == [(conv.id, 2), (walk_up.id, 2)]
    with kiosk.session() as s:
        auth.sign_out(s, None, visit_key=key)  # what the kiosk does once the outbox is empty
    with kiosk.read() as s, pytest.raises(NotFound):
        chat.list_messages(s, Actor(people["maya"], Role.ATTENDEE), conv.id, access_key=key)
