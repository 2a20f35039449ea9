"""Least-privileged PostgreSQL roles for the machines sharing one database (``db create-roles``).

A kiosk is an unattended machine: anyone who gets at its config file holds its database
password. So kiosks connect as a role that can run the kiosk and no more:

- ``users`` is not readable as a table. The kiosk role's ``search_path`` starts with the schema
  ``convergeai_kiosk``, whose view ``users`` shows every column but ``password_hash`` and
  ``badge_code_hash``, which read ``(hidden)`` (or NULL when unset). The services see the marker
  and check credentials through SECURITY DEFINER functions instead (pgcrypto's bcrypt, in the
  server), so a password hash never leaves the database. Writes through the view go through a
  trigger that allows only registering an attendee and the sign-in / counter columns: no
  changing roles, e-mails, active flags, badges or passwords (a password changes only through
  :func:`set_password_in_db`, which checks the current one first).
- Everything else the kiosk does (conversations, messages, counters, throttling, session
  tokens) is granted table by table, with UPDATE limited to the columns it changes, DELETE
  only on ``auth_throttles``, and no DDL (it owns nothing and may not create in any schema).

The admin role can read and write every row of every table (the console manages everything)
but owns nothing: it cannot change the schema or grant rights. Migrations (``db upgrade``) and
``db create-roles`` run as the database owner.

MariaDB/MySQL have no equivalent of the view-and-definer design here; see docs/deployment.md.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from shared.db import Database
from shared.errors import ConfigError, ValidationError

#: The value the kiosk role reads instead of a password hash or badge-code hash.
HIDDEN_SECRET = "(hidden)"
#: The schema holding the kiosk role's ``users`` view and credential functions.
KIOSK_SCHEMA = "convergeai_kiosk"
DEFAULT_KIOSK_ROLE = "convergeai_kiosk"
DEFAULT_ADMIN_ROLE = "convergeai_admin"

_ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: Columns of ``users`` the kiosk may change (through the view's trigger).
_USER_WRITABLE = ("last_login_at", "message_count", "updated_at")
#: What the kiosk role may do, table by table (in the tables' schema).
_KIOSK_GRANTS: tuple[tuple[str, str], ...] = (
    ("alembic_version", "SELECT"),
    ("chatbots", "SELECT"),
    ("chatbots", "UPDATE (message_count, user_message_count, participant_count, updated_at)"),
    ("chatbot_participants", "SELECT, INSERT"),
    ("chatbot_participants", "UPDATE (message_count, last_activity_at)"),
    ("guests", "SELECT"),
    ("agenda_items", "SELECT"),
    ("agenda_item_speakers", "SELECT"),
    ("faq_entries", "SELECT"),
    ("app_settings", "SELECT"),
    ("conversations", "SELECT, INSERT"),
    ("conversations", "UPDATE (ended_at, last_message_at, message_count)"),
    ("messages", "SELECT, INSERT"),
    ("daily_message_counts", "SELECT, INSERT"),
    ("daily_message_counts", "UPDATE (messages, user_messages)"),
    ("session_tokens", "SELECT, INSERT"),
    ("session_tokens", "UPDATE (last_used_at, revoked_at)"),
    ("auth_throttles", "SELECT, INSERT, UPDATE, DELETE"),
)


@dataclass(frozen=True)
class CreatedRoles:
    """What ``db create-roles`` made: the role names and the URL each machine should use."""

    kiosk_role: str
    admin_role: str
    kiosk_url: str
    admin_url: str


def check_role_name(name: str) -> str:
    """A role name we can quote safely: lower-case letters, digits, underscores."""
    if not _ROLE_RE.match(name or ""):
        raise ValidationError(
            f"{name!r} is not a usable role name: use lower-case letters, digits and _ "
            "(at most 63, not starting with a digit).",
            "role",
        )
    return name


def generate_password() -> str:
    """A strong random password for a database role (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def _literal(value: str) -> str:
    if "\x00" in value:
        raise ValidationError("A password cannot contain a NUL character.", "password")
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw(sql: str) -> str:
    """SQL for ``exec_driver_sql`` (no parsing of ``:name``), with ``%`` escaped for the
    driver's placeholder syntax."""
    return sql.replace("%", "%%")


def role_url(base: URL, role: str, password: str) -> str:
    """``base`` (the owner's URL) with another user and password: the URL for a machine."""
    return base.set(username=role, password=password).render_as_string(hide_password=False)


def _view_sql(schema: str) -> list[str]:
    s = _ident(schema)
    k = _ident(KIOSK_SCHEMA)
    hidden = _literal(HIDDEN_SECRET)
    writable = ", ".join(f"{c} = NEW.{c}" for c in _USER_WRITABLE if c != "message_count")
    return [
        f"CREATE SCHEMA IF NOT EXISTS {k}",
        f"""CREATE OR REPLACE VIEW {k}.users AS
            SELECT id, username, email, name,
                   CAST(CASE WHEN password_hash IS NULL THEN NULL ELSE {hidden} END
                        AS VARCHAR(60)) AS password_hash,
                   role, active, must_change_password,
                   CAST(CASE WHEN badge_code_hash IS NULL THEN NULL ELSE {hidden} END
                        AS VARCHAR(64)) AS badge_code_hash,
                   message_count, created_at, updated_at, last_login_at
            FROM {s}.users""",
        # Writes through the view: register an attendee; update sign-in time and counters.
        f"""CREATE OR REPLACE FUNCTION {k}.users_write() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {s} AS $fn$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF COALESCE(NEW.role, 'attendee') <> 'attendee'
                       OR NEW.badge_code_hash IS NOT NULL
                       OR COALESCE(NEW.must_change_password, false)
                       OR NOT COALESCE(NEW.active, true)
                       OR COALESCE(NEW.message_count, 0) <> 0 THEN
                        RAISE EXCEPTION 'a kiosk may only register active attendees'
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    INSERT INTO {s}.users (username, email, name, password_hash, role, active,
                                           must_change_password, message_count, created_at,
                                           updated_at, last_login_at)
                    VALUES (NEW.username, NEW.email, NEW.name, NEW.password_hash, 'attendee',
                            true, false, 0, COALESCE(NEW.created_at, now() at time zone 'utc'),
                            COALESCE(NEW.updated_at, now() at time zone 'utc'),
                            NEW.last_login_at)
                    RETURNING id INTO NEW.id;
                    NEW.password_hash := CASE WHEN NEW.password_hash IS NULL THEN NULL
                                              ELSE {hidden} END;
                    RETURN NEW;
                END IF;
                IF NEW.id IS DISTINCT FROM OLD.id
                   OR NEW.username IS DISTINCT FROM OLD.username
                   OR NEW.email IS DISTINCT FROM OLD.email
                   OR NEW.name IS DISTINCT FROM OLD.name
                   OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
                   OR NEW.role IS DISTINCT FROM OLD.role
                   OR NEW.active IS DISTINCT FROM OLD.active
                   OR NEW.must_change_password IS DISTINCT FROM OLD.must_change_password
                   OR NEW.badge_code_hash IS DISTINCT FROM OLD.badge_code_hash
                   OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
                    RAISE EXCEPTION 'a kiosk may not change this account'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                -- counters move by their difference, applied atomically to the row
                UPDATE {s}.users
                   SET {writable},
                       message_count = message_count + (NEW.message_count - OLD.message_count)
                 WHERE id = OLD.id;
                RETURN NEW;
            END
            $fn$""",
        f"DROP TRIGGER IF EXISTS users_write ON {k}.users",
        f"""CREATE TRIGGER users_write INSTEAD OF INSERT OR UPDATE ON {k}.users
            FOR EACH ROW EXECUTE FUNCTION {k}.users_write()""",
    ]


def _function_sql(schema: str, crypto: str) -> list[str]:
    s = _ident(schema)
    k = _ident(KIOSK_SCHEMA)
    path = f"pg_catalog, {s}, {_ident(crypto)}"
    # Python's bcrypt writes $2b$ hashes; pgcrypto reads only $2a$, which hashes identically
    # for passwords of up to 72 bytes (bcrypt ignores the rest on both sides).
    matches = (
        "h IS NOT NULL AND h ~ '^[$]2[abxy][$]' AND "
        "crypt(p_password, '$2a$' || substr(h, 5)) = '$2a$' || substr(h, 5)"
    )
    return [
        f"""CREATE OR REPLACE FUNCTION {k}.convergeai_check_password(
                p_user_id bigint, p_password text) RETURNS boolean
            LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
            DECLARE h text;
            BEGIN
                SELECT password_hash INTO h FROM {s}.users WHERE id = p_user_id;
                RETURN COALESCE({matches}, false);
            END
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION {k}.convergeai_set_password(
                p_user_id bigint, p_current text, p_new_hash text) RETURNS boolean
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $fn$
            DECLARE h text;
            BEGIN
                IF p_new_hash IS NULL OR p_new_hash !~ '^[$]2[abxy][$]' OR length(p_new_hash) <> 60
                THEN
                    RAISE EXCEPTION 'not a bcrypt hash' USING ERRCODE = 'invalid_parameter_value';
                END IF;
                SELECT password_hash INTO h FROM {s}.users
                 WHERE id = p_user_id AND active AND role = 'attendee' FOR UPDATE;
                IF NOT COALESCE({matches.replace("p_password", "p_current")}, false) THEN
                    RETURN false;
                END IF;
                UPDATE {s}.users SET password_hash = p_new_hash, must_change_password = false,
                       updated_at = now() at time zone 'utc'
                 WHERE id = p_user_id;
                RETURN true;
            END
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION {k}.convergeai_user_by_badge(p_digest text)
            RETURNS bigint
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
                SELECT id FROM {s}.users WHERE badge_code_hash = p_digest
            $fn$""",
    ]


def create_roles(
    db: Database,
    *,
    kiosk_role: str = DEFAULT_KIOSK_ROLE,
    kiosk_password: str,
    admin_role: str = DEFAULT_ADMIN_ROLE,
    admin_password: str,
) -> CreatedRoles:
    """Create (or update) the kiosk and admin roles on a migrated PostgreSQL database.

    Run as the owner of the tables (the account that ran ``db upgrade``), which needs the
    CREATEROLE right. Idempotent: running it again resets both roles' rights and passwords.
    """
    if db.backend != "postgresql":
        raise ConfigError(
            "db create-roles works on PostgreSQL only; for MariaDB see 'Database accounts' in "
            "docs/deployment.md."
        )
    kiosk_role, admin_role = check_role_name(kiosk_role), check_role_name(admin_role)
    if kiosk_role == admin_role:
        raise ValidationError("The kiosk and admin roles need different names.", "role")
    for password in (kiosk_password, admin_password):
        if len(password) < 12:
            raise ValidationError(
                "Database role passwords need at least 12 characters.", "password"
            )
    with db.engine.begin() as conn:
        me = conn.scalar(text("SELECT current_user"))
        if kiosk_role == me or admin_role == me:
            raise ValidationError(
                f"{me!r} is the account running this command (the tables' owner); choose other "
                "role names.",
                "role",
            )
        database = str(conn.scalar(text("SELECT current_database()")))
        schema = str(conn.scalar(text("SELECT current_schema()")))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgcrypto"))
        crypto = str(
            conn.scalar(
                text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                    "ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'"
                )
            )
        )
        tables = [
            str(t)
            for t in conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"),
                {"s": schema},
            )
        ]
        if "users" not in tables:
            raise ConfigError(
                f"No ConvergeAI tables in schema {schema} of {database}: run "
                "`convergeai db upgrade` first."
            )
        for role, password in ((kiosk_role, kiosk_password), (admin_role, admin_password)):
            found = conn.execute(
                text(
                    "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication "
                    "OR rolbypassrls FROM pg_roles WHERE rolname = :r"
                ),
                {"r": role},
            ).first()
            if found is not None and found[0]:
                raise ValidationError(
                    f"The role {role} exists with administrative rights; choose another name.",
                    "role",
                )
            options = "LOGIN" if found else "LOGIN NOINHERIT"
            verb = "ALTER" if found else "CREATE"
            conn.exec_driver_sql(
                _raw(f"{verb} ROLE {_ident(role)} WITH {options} PASSWORD {_literal(password)}")
            )
            # A role inherits nothing from other roles it might be a member of.
            conn.exec_driver_sql(_raw(f"ALTER ROLE {_ident(role)} NOINHERIT"))
        s, k = _ident(schema), _ident(KIOSK_SCHEMA)
        kiosk, admin = _ident(kiosk_role), _ident(admin_role)
        statements = [
            # Nobody but the owner creates objects in the tables' schema.
            f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
            f"GRANT CONNECT ON DATABASE {_ident(database)} TO {kiosk}, {admin}",
            f"GRANT USAGE ON SCHEMA {s} TO {kiosk}, {admin}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {kiosk}, {admin}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {kiosk}, {admin}",
            # admin: every row of every table, no DDL
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {admin}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {admin}",
            f"ALTER ROLE {admin} SET search_path = {s}",
            # kiosk
            *_view_sql(schema),
            *_function_sql(schema, crypto),
            f"REVOKE ALL ON SCHEMA {k} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {k} TO {kiosk}",
            f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {k} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {k}.convergeai_check_password(bigint, text) TO {kiosk}",
            f"GRANT EXECUTE ON FUNCTION {k}.convergeai_set_password(bigint, text, text) TO {kiosk}",
            f"GRANT EXECUTE ON FUNCTION {k}.convergeai_user_by_badge(text) TO {kiosk}",
            f"GRANT SELECT, INSERT, UPDATE ON {k}.users TO {kiosk}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {kiosk}",
            *(f"GRANT {what} ON {s}.{_ident(table)} TO {kiosk}" for table, what in _KIOSK_GRANTS),
            f"ALTER ROLE {kiosk} SET search_path = {k}, {s}",
        ]
        for statement in statements:
            conn.exec_driver_sql(_raw(statement))
    base = db.url
    return CreatedRoles(
        kiosk_role=kiosk_role,
        admin_role=admin_role,
        kiosk_url=role_url(base, kiosk_role, kiosk_password),
        admin_url=role_url(base, admin_role, admin_password),
    )


# Used by shared.services.auth when it reads HIDDEN_SECRET instead of a hash -------------------


def secrets_hidden(s: Session) -> bool:
    """Whether this session runs as the kiosk role (which cannot read credential hashes)."""
    if s.get_bind().dialect.name != "postgresql":
        return False
    return bool(s.scalar(text("SELECT current_schema() = :k"), {"k": KIOSK_SCHEMA}))


def check_password_in_db(s: Session, user_id: int, password: str) -> bool:
    """bcrypt-check ``password`` against the user's stored hash inside the database."""
    return bool(
        s.scalar(text("SELECT convergeai_check_password(:u, :p)"), {"u": user_id, "p": password})
    )


def set_password_in_db(s: Session, user_id: int, current: str, new_hash: str) -> bool:
    """Replace the user's password hash if ``current`` is their password; False if it is not."""
    return bool(
        s.scalar(
            text("SELECT convergeai_set_password(:u, :c, :h)"),
            {"u": user_id, "c": current, "h": new_hash},
        )
    )


def user_by_badge(s: Session, digest: str) -> int | None:
    """The id of the user whose badge-code hash is ``digest``."""
    found = s.scalar(text("SELECT convergeai_user_by_badge(:d)"), {"d": digest})
    return int(found) if found is not None else None
