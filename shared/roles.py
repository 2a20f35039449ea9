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
  :func:`finish_in_db`, after the current or temporary one was checked).
- Credentials are checked only by SECURITY DEFINER functions, which also throttle and open
  sessions: :func:`attempt_in_db` checks a password or badge digest and counts the attempt in
  ``auth_throttles`` before anyone can know its outcome; :func:`finish_in_db`, in a *later*
  transaction (it refuses attempts of its own transaction), reads the outcome, clears the
  failures of a right one and opens the session whose token hashes to the attempt's handle
  (optionally setting a new password first). So rolling an attempt back hides nothing, and past
  ``auth.max_failures`` per account or device name (fixed when ``db create-roles`` runs) nothing
  is checked until the wait is over. The kiosk role has no right at all on ``session_tokens``,
  ``auth_throttles`` or the attempts table: it cannot mint a session, clear the throttling or
  read who signed in; signing out goes through a function that only revokes.
- ``conversations`` and ``messages`` have row-level security. A transaction names whom the
  kiosk acts for with :func:`identify` (transaction-local settings: the attendee's session token,
  the kiosk visit's secret key); the kiosk role's policies show and accept only the conversations
  of the attendee whose valid session that token (or the visit key bound to it at sign-in) is,
  and the walk-up conversations whose ``access_key_hash`` is the key's SHA-256, and only the
  messages of those. Someone holding the kiosk's password alone sees no conversation at all.
- Everything else the kiosk does (events, counters, enrolments) is granted table by table, with
  UPDATE limited to the columns it changes, no DELETE, and no DDL (it owns nothing and may not
  create in any schema). It still reads the user directory (names, usernames, e-mails) and can
  bump any message counter.

The admin role can read and write every row of every table (the console manages everything; a
policy ``USING (true)`` lets it past the row security) but owns nothing: it cannot change the
schema or grant rights. Migrations (``db upgrade``) and ``db create-roles`` run as the database
owner, which row security does not apply to.

MariaDB/MySQL have no equivalent of the view-and-definer design here; see docs/deployment.md.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from shared.db import ROW_SECURITY_SCHEMA, Database
from shared.errors import ConfigError, ValidationError
from shared.settings import get_settings

#: The value the kiosk role reads instead of a password hash or badge-code hash.
HIDDEN_SECRET = "(hidden)"
#: The schema holding the kiosk role's ``users`` view and credential functions.
KIOSK_SCHEMA = ROW_SECURITY_SCHEMA
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
)


#: The functions the kiosk role may call (in :data:`KIOSK_SCHEMA`).
_KIOSK_FUNCTIONS = (
    "current_attendee()",
    "current_visit()",
    "convergeai_attempt(text, text, text, text, text)",
    "convergeai_finish_sign_in(text, text, boolean, integer, text, text)",
    "convergeai_sign_out(text, text)",
)
#: Transaction-local settings naming who acts: a session token, a kiosk visit's key.
TOKEN_SETTING = "convergeai.session_token"
VISIT_KEY_SETTING = "convergeai.visit_key"


def _throttle_limits() -> tuple[int, int, int]:
    """The sign-in limits the database enforces for the kiosk role: the ``auth.*`` settings of
    the machine running ``db create-roles`` (run it again after changing them)."""
    settings = get_settings()
    return (
        max(1, int(settings["auth.max_failures"])),
        max(1, int(settings["auth.lockout_seconds"])),
        max(1, int(settings["auth.lockout_max_seconds"])),
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


def _function_sql(schema: str, crypto: str, limits: tuple[int, int, int]) -> list[str]:
    s = _ident(schema)
    k = _ident(KIOSK_SCHEMA)
    path = f"pg_catalog, {s}, {_ident(crypto)}"
    max_failures, lockout, lockout_max = limits
    utc_now = "(now() at time zone 'utc')"
    # Python's bcrypt writes $2b$ hashes; pgcrypto reads only $2a$, which hashes identically
    # for passwords of up to 72 bytes (bcrypt ignores the rest on both sides).
    matches = (
        "h IS NOT NULL AND h ~ '^[$]2[abxy][$]' AND "
        "crypt(p_secret, '$2a$' || substr(h, 5)) = '$2a$' || substr(h, 5)"
    )

    def sha(setting: str) -> str:
        return (
            f"encode(sha256(convert_to(NULLIF(current_setting('{setting}', true), ''), 'UTF8')),"
            " 'hex')"
        )

    return [
        # Functions of earlier versions: unthrottled password checks.
        f"DROP FUNCTION IF EXISTS {k}.convergeai_check_password(bigint, text)",
        f"DROP FUNCTION IF EXISTS {k}.convergeai_set_password(bigint, text, text)",
        f"DROP FUNCTION IF EXISTS {k}.convergeai_user_by_badge(text)",
        # Who acts in this transaction (the kiosk sets these with set_config(..., true)).
        f"""CREATE OR REPLACE FUNCTION {k}.current_visit() RETURNS text
            LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
                SELECT {sha(VISIT_KEY_SETTING)}
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION {k}.current_attendee() RETURNS bigint
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
                SELECT t.user_id FROM {s}.session_tokens t JOIN {s}.users u ON u.id = t.user_id
                 WHERE u.active AND t.revoked_at IS NULL AND t.expires_at > {utc_now}
                   AND (t.token_hash = {sha(TOKEN_SETTING)}
                        OR t.visit_key_hash = {sha(VISIT_KEY_SETTING)})
                 ORDER BY t.token_hash = {sha(TOKEN_SETTING)} DESC, t.id DESC
                 LIMIT 1
            $fn$""",
        # Sign-in attempts: only these functions read or write them (and auth_throttles).
        f"""CREATE TABLE IF NOT EXISTS {k}.sign_in_attempts (
                handle varchar(64) PRIMARY KEY,
                kind varchar(16) NOT NULL,
                user_id bigint,
                ok boolean NOT NULL,
                keys text[] NOT NULL,
                created_at timestamp NOT NULL,
                created_xid bigint NOT NULL,
                used boolean NOT NULL DEFAULT false
            )""",
        # Step 1: check a password (or a badge digest) and count the attempt as a failure
        # before anyone can know its outcome. Returns the lock's end while locked (nothing is
        # checked then), else NULL. The outcome is only readable in a later transaction
        # (convergeai_finish_sign_in), so rolling this one back hides nothing and saves nothing.
        f"""CREATE OR REPLACE FUNCTION {k}.convergeai_attempt(
                p_kind text, p_login text, p_secret text, p_device text, p_handle text)
            RETURNS timestamp
            LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {path} AS $fn$
            DECLARE
                uid bigint; h text; ok boolean := false; keys text[]; until timestamp;
                n integer; kk text; login text := lower(btrim(COALESCE(p_login, '')));
                now_ timestamp := {utc_now};
            BEGIN
                IF p_handle IS NULL OR p_handle !~ '^[0-9a-f]{{64}}$' THEN
                    RAISE EXCEPTION 'not a sign-in handle'
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                DELETE FROM {k}.sign_in_attempts WHERE created_at < now_ - interval '1 hour';
                IF p_kind = 'password' THEN
                    IF login = '' THEN
                        uid := NULL;
                    ELSIF strpos(login, '@') > 0 THEN
                        SELECT id, password_hash INTO uid, h FROM {s}.users WHERE email = login;
                    ELSE
                        SELECT id, password_hash INTO uid, h FROM {s}.users WHERE username = login;
                    END IF;
                ELSIF p_kind = 'badge' THEN
                    SELECT id INTO uid FROM {s}.users
                     WHERE badge_code_hash = p_secret AND p_secret <> '';
                ELSE
                    RAISE EXCEPTION 'unknown sign-in kind'
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                keys := array_remove(ARRAY[
                    CASE WHEN COALESCE(p_device, '') <> ''
                         THEN 'device:' || left(p_device, 150) END,
                    CASE WHEN p_kind = 'password' AND uid IS NOT NULL THEN 'user:' || uid END
                ], NULL);
                SELECT max(locked_until) INTO until FROM {s}.auth_throttles
                 WHERE key = ANY(keys) AND locked_until > now_;
                IF until IS NOT NULL THEN
                    RETURN until;
                END IF;
                IF p_kind = 'password' THEN
                    IF h IS NULL OR h !~ '^[$]2[abxy][$]' THEN  -- spend the same time anyway
                        h := NULL;
                        PERFORM crypt(COALESCE(p_secret, ''), gen_salt('bf', 10));
                    END IF;
                    ok := COALESCE({matches}, false);
                ELSE
                    ok := uid IS NOT NULL;
                END IF;
                FOREACH kk IN ARRAY keys LOOP
                    -- failures long ago do not count: start again after a quiet period
                    UPDATE {s}.auth_throttles SET failures = 0, locked_until = NULL
                     WHERE auth_throttles.key = kk
                       AND last_failure_at < now_ - interval '{lockout_max} seconds';
                    INSERT INTO {s}.auth_throttles AS t (key, failures, last_failure_at)
                    VALUES (kk, 1, now_)
                    ON CONFLICT ON CONSTRAINT pk_auth_throttles
                    DO UPDATE SET failures = t.failures + 1, last_failure_at = now_
                    RETURNING t.failures INTO n;
                    IF n >= {max_failures} THEN
                        UPDATE {s}.auth_throttles
                           SET locked_until = now_ + make_interval(
                               secs => least({lockout} * power(2, n - {max_failures}),
                                             {lockout_max}))
                         WHERE auth_throttles.key = kk;
                    END IF;
                END LOOP;
                INSERT INTO {k}.sign_in_attempts (handle, kind, user_id, ok, keys, created_at,
                                                  created_xid)
                VALUES (p_handle, p_kind, uid, ok, keys, now_, txid_current());
                RETURN NULL;
            END
            $fn$""",
        # Step 2, in a later transaction: the outcome ('ok', 'wrong', 'inactive', 'must_change'
        # or 'unknown'); a right one clears the failures. With p_lifetime_seconds it opens the
        # session whose token hashes to the handle (bound to the visit p_visit_hash); with
        # p_new_hash it sets the password first (an organizer's reset, or changing one's own
        # password: then only for the attendee signed in in this transaction).
        f"""CREATE OR REPLACE FUNCTION {k}.convergeai_finish_sign_in(
                p_handle text, p_device text, p_remember boolean, p_lifetime_seconds integer,
                p_visit_hash text, p_new_hash text)
            RETURNS TABLE (status text, user_id bigint, expires_at timestamp)
            LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {path} AS $fn$
            DECLARE
                a {k}.sign_in_attempts; u {s}.users; now_ timestamp := {utc_now};
                expires timestamp;
            BEGIN
                SELECT * INTO a FROM {k}.sign_in_attempts WHERE handle = p_handle FOR UPDATE;
                IF NOT FOUND OR a.created_xid = txid_current() OR a.used
                   OR a.created_at < now_ - interval '10 minutes' THEN
                    RETURN QUERY SELECT 'unknown'::text, NULL::bigint, NULL::timestamp;
                    RETURN;
                END IF;
                IF NOT a.ok THEN
                    RETURN QUERY SELECT 'wrong'::text, NULL::bigint, NULL::timestamp;
                    RETURN;
                END IF;
                DELETE FROM {s}.auth_throttles WHERE key = ANY(a.keys);
                SELECT * INTO u FROM {s}.users WHERE id = a.user_id FOR UPDATE;
                IF NOT FOUND OR NOT u.active THEN
                    RETURN QUERY SELECT 'inactive'::text, a.user_id, NULL::timestamp;
                    RETURN;
                END IF;
                IF p_new_hash IS NOT NULL THEN
                    IF a.kind <> 'password' OR p_new_hash !~ '^[$]2[abxy][$]'
                       OR length(p_new_hash) <> 60 THEN
                        RAISE EXCEPTION 'not a bcrypt hash'
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                    IF p_lifetime_seconds IS NULL
                       AND a.user_id IS DISTINCT FROM {k}.current_attendee() THEN
                        RETURN QUERY SELECT 'unknown'::text, NULL::bigint, NULL::timestamp;
                        RETURN;
                    END IF;
                    UPDATE {s}.users SET password_hash = p_new_hash, must_change_password = false,
                           updated_at = now_
                     WHERE id = u.id;
                    IF p_lifetime_seconds IS NOT NULL THEN  -- reset: sign out everywhere
                        UPDATE {s}.session_tokens SET revoked_at = now_
                         WHERE session_tokens.user_id = u.id AND revoked_at IS NULL;
                    END IF;
                    UPDATE {k}.sign_in_attempts SET used = true WHERE handle = p_handle;
                ELSIF a.kind = 'password' AND u.must_change_password THEN
                    RETURN QUERY SELECT 'must_change'::text, a.user_id, NULL::timestamp;
                    RETURN;
                END IF;
                IF p_lifetime_seconds IS NOT NULL THEN
                    IF p_lifetime_seconds <= 0 THEN
                        RAISE EXCEPTION 'not a session lifetime'
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                    expires := now_ + make_interval(secs => p_lifetime_seconds);
                    INSERT INTO {s}.session_tokens (token_hash, user_id, device, remember,
                                                    created_at, expires_at, last_used_at,
                                                    visit_key_hash)
                    VALUES (p_handle, u.id, left(COALESCE(p_device, ''), 64),
                            COALESCE(p_remember, false), now_, expires, now_, p_visit_hash);
                    UPDATE {s}.users SET last_login_at = now_ WHERE id = u.id;
                    UPDATE {k}.sign_in_attempts SET used = true WHERE handle = p_handle;
                END IF;
                RETURN QUERY SELECT 'ok'::text, u.id::bigint, expires;
            END
            $fn$""",
        f"""CREATE OR REPLACE FUNCTION {k}.convergeai_sign_out(p_token text, p_visit_key text)
            RETURNS integer
            LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = {path} AS $fn$
                WITH revoked AS (
                    UPDATE {s}.session_tokens SET revoked_at = {utc_now}
                     WHERE revoked_at IS NULL
                       AND (token_hash
                               = encode(sha256(convert_to(NULLIF(p_token, ''), 'UTF8')), 'hex')
                            OR visit_key_hash
                               = encode(sha256(convert_to(NULLIF(p_visit_key, ''), 'UTF8')), 'hex'))
                    RETURNING 1)
                SELECT count(*)::integer FROM revoked
            $fn$""",
    ]


def _row_security_sql(schema: str, kiosk: str, admin: str) -> list[str]:
    """Conversations and messages: the admin role sees every row, the kiosk role only those of
    the attendee or walk-up visit it identified in the transaction (the tables' owner, which runs
    migrations, is not subject to these policies)."""
    s, k = _ident(schema), _ident(KIOSK_SCHEMA)
    mine = (
        f"user_id = (SELECT {k}.current_attendee()) OR "
        f"(user_id IS NULL AND access_key_hash = (SELECT {k}.current_visit()))"
    )
    in_mine = f"EXISTS (SELECT 1 FROM {s}.conversations c WHERE c.id = messages.conversation_id)"
    fits = (
        f"EXISTS (SELECT 1 FROM {s}.conversations c WHERE c.id = messages.conversation_id "
        "AND c.chatbot_id = messages.chatbot_id "
        "AND c.user_id IS NOT DISTINCT FROM messages.user_id)"
    )
    statements = []
    for table, using, check in (("conversations", mine, mine), ("messages", in_mine, fits)):
        t = f"{s}.{_ident(table)}"
        statements += [
            f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS convergeai_admin ON {t}",
            f"CREATE POLICY convergeai_admin ON {t} TO {admin} USING (true) WITH CHECK (true)",
            f"DROP POLICY IF EXISTS convergeai_kiosk ON {t}",
            f"CREATE POLICY convergeai_kiosk ON {t} TO {kiosk} USING ({using}) "
            f"WITH CHECK ({check})",
        ]
    return statements


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
            *_function_sql(schema, crypto, _throttle_limits()),
            f"REVOKE ALL ON SCHEMA {k} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {k} TO {kiosk}",
            f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {k} FROM PUBLIC",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {k} FROM PUBLIC",
            *(f"GRANT EXECUTE ON FUNCTION {k}.{fn} TO {kiosk}" for fn in _KIOSK_FUNCTIONS),
            f"GRANT SELECT, INSERT, UPDATE ON {k}.users TO {kiosk}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {kiosk}",
            *(f"GRANT {what} ON {s}.{_ident(table)} TO {kiosk}" for table, what in _KIOSK_GRANTS),
            f"ALTER ROLE {kiosk} SET search_path = {k}, {s}",
            *_row_security_sql(schema, kiosk, admin),
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
    """Whether this session runs as the kiosk role: it cannot read credential hashes, checks
    credentials through the database's functions and sees conversations by identity (asked once
    per pooled connection)."""
    if s.get_bind().dialect.name != "postgresql":
        return False
    conn = s.connection()
    flag = conn.info.get("convergeai_row_security")
    if flag is None:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        flag = conn.info["convergeai_row_security"] = schema == KIOSK_SCHEMA
    return bool(flag)


def identify(s: Session, *, token: str | None = None, visit_key: str | None = None) -> None:
    """Tell the database who acts in this transaction: the signed-in attendee's session token
    and/or the kiosk visit's key. Only the kiosk role needs it (its row security shows it the
    conversations of that attendee or visit alone); elsewhere it costs nothing."""
    if (token or visit_key) and secrets_hidden(s):
        s.execute(
            text("SELECT set_config(:ts, :t, true), set_config(:vs, :v, true)"),
            {"ts": TOKEN_SETTING, "t": token or "", "vs": VISIT_KEY_SETTING, "v": visit_key or ""},
        )


def current_attendee(s: Session) -> int | None:
    """The attendee :func:`identify` named in this transaction, if their session is valid."""
    found = s.scalar(text("SELECT current_attendee()"))
    return int(found) if found is not None else None


@dataclass(frozen=True)
class Finished:
    """The outcome of a sign-in attempt checked in the database."""

    status: str  # "ok", "wrong", "inactive", "must_change" or "unknown"
    user_id: int | None
    expires_at: datetime | None


def attempt_in_db(
    s: Session, kind: str, login: str, secret: str, device: str, handle: str
) -> datetime | None:
    """Step 1 of a sign-in on the kiosk role: the database checks the password (``kind``
    "password", ``login`` a username or e-mail) or badge digest (``kind`` "badge") and counts
    the attempt. Returns when the lock ends if the account or device is locked. Commit before
    :func:`finish_in_db`: the outcome is not readable in the same transaction."""
    until = s.scalar(
        text("SELECT convergeai_attempt(:k, :l, :p, :d, :h)"),
        {"k": kind, "l": login, "p": secret, "d": device, "h": handle},
    )
    return until.replace(tzinfo=UTC) if until is not None else None


def finish_in_db(
    s: Session,
    handle: str,
    *,
    device: str = "",
    remember: bool = False,
    lifetime: timedelta | None = None,
    visit_key_hash: str | None = None,
    new_hash: str | None = None,
) -> Finished:
    """Step 2: the attempt's outcome; with ``lifetime``, open the session whose token hashes to
    ``handle``; with ``new_hash``, set the password first (see the SQL function)."""
    row = s.execute(
        text("SELECT * FROM convergeai_finish_sign_in(:h, :d, :r, :l, :v, :n)"),
        {
            "h": handle,
            "d": device,
            "r": remember,
            "l": int(lifetime.total_seconds()) if lifetime is not None else None,
            "v": visit_key_hash,
            "n": new_hash,
        },
    ).one()
    expires = row.expires_at.replace(tzinfo=UTC) if row.expires_at is not None else None
    return Finished(str(row.status), row.user_id, expires)


def sign_out_in_db(s: Session, token: str | None, visit_key: str | None) -> int:
    """Revoke the session of ``token`` and those bound to the kiosk visit ``visit_key``."""
    return int(
        s.scalar(
            text("SELECT convergeai_sign_out(:t, :v)"), {"t": token or "", "v": visit_key or ""}
        )
        or 0
    )
