"""The ``convergeai`` command line, for IT: database schema, settings, accounts, events, demo.

Each subcommand is a function taking the parsed ``argparse.Namespace`` and returning an exit code,
listed once in :data:`COMMANDS` with the function that declares its arguments; adding a command
means writing those two functions and one table row.

Exit codes: 0 success; 1 a known problem (``convergeai: error: <message>`` on stderr: invalid
input, database unreachable or not migrated, ...); 2 bad arguments; 70 a bug (one line on stderr,
the traceback in the log file); 130 interrupted. A traceback never reaches the terminal.

The CLI is run by IT with direct database access, so organizer actions act as the first active
organizer account (see :func:`system_actor`); there is no default account of any kind.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shared import __version__
from shared.db import Database, get_database, normalize_url, set_database, translate_db_error
from shared.demo import DEMO_PASSWORD, DemoSummary, load_demo
from shared.errors import (
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    KnownError,
    PermissionDenied,
    ValidationError,
)
from shared.logs import log_file, redact, setup_logging
from shared.migrate import SchemaState, check_schema, report, upgrade
from shared.models import Role, User
from shared.services import chatbots
from shared.services.auth import create_admin, user_for_login
from shared.services.common import Actor, UserInfo
from shared.services.kiosk_admin import check_pin_format, set_kiosk_pin
from shared.services.users import UserQuery, list_users
from shared.settings import SETTINGS, get_settings, settings_markdown
from shared.validation import check_password, clean_email, clean_name, clean_username

log = logging.getLogger("convergeai.cli")

PROG = "convergeai"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BUG = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130
#: Rows fetched per query by listings that may be long (100,000 users).
PAGE_SIZE = 1000

NO_ORGANIZER = "Create an organizer first: convergeai create-admin USERNAME --email EMAIL"

Handler = Callable[[argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """One subcommand: its words (one, ``("demo",)``, or a group and a name,
    ``("db", "upgrade")``), its help, the function adding its arguments, and its handler.

    ``needs_schema``: check the database schema is current before running, so an empty, older or
    newer database gives its clear message instead of an SQL error half-way.
    """

    words: tuple[str, ...]
    help: str
    handler: Handler
    arguments: Arguments | None = None
    needs_schema: bool = True


# Helpers ---------------------------------------------------------------------------------------


def database() -> Database:
    """The database of this run (``--database`` or the settings)."""
    try:
        return get_database()
    except OSError as exc:  # the SQLite file's folder cannot be created
        raise DatabaseUnavailable(f"Cannot open the database: {exc.strerror or exc}") from None


def system_actor(s: Session) -> Actor:
    """The first active organizer, whose rights the CLI uses for organizer actions.

    The CLI is run by IT with direct database access: it needs no sign-in, but it never acts
    without an organizer account existing (so nothing is created "by nobody").
    """
    user_id = s.scalar(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    if user_id is None:
        raise PermissionDenied(NO_ORGANIZER)
    return Actor(user_id, Role.ADMIN)


def out(line: str = "") -> None:
    """Print a result line on stdout."""
    print(line, file=sys.stdout)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Role):
        return value.value
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return value


def write_json_list(items: Iterable[dict[str, Any]], stream: TextIO | None = None) -> int:
    """Write a JSON array one object per line as the items come (so long listings stream);
    returns how many were written."""
    stream = sys.stdout if stream is None else stream
    n = 0
    stream.write("[")
    for item in items:
        stream.write(",\n" if n else "\n")
        stream.write(json.dumps({k: _json_value(v) for k, v in item.items()}, ensure_ascii=False))
        n += 1
    stream.write("\n]\n" if n else "]\n")
    stream.flush()
    return n


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int] | None = None
) -> Iterator[str]:
    """Lines of a left-aligned table; widths fit the headers and rows unless given."""
    if widths is None:
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        yield "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# db --------------------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the schema to this version's."""
    db = database()
    before = report(db)
    after = upgrade(db)
    if before.state is SchemaState.CURRENT and before.current == after.current:
        out(f"The database at {db.describe()} is already up to date (revision {after.current}).")
    else:
        out(f"Database at {db.describe()} upgraded to revision {after.current}.")
    return EXIT_OK


def cmd_db_current(args: argparse.Namespace) -> int:
    """Say whether the schema is current; exit 1 when it is not."""
    result = report(database())
    out(result.message())
    return EXIT_OK if result.state is SchemaState.CURRENT else EXIT_ERROR


def cmd_db_create_roles(args: argparse.Namespace) -> int:
    """Create the kiosk and admin database roles (see shared.roles)."""
    from shared import cli_roles

    return cli_roles.run(database(), args)


def _args_db_create_roles(p: argparse.ArgumentParser) -> None:
    from shared import cli_roles

    cli_roles.add_arguments(p)


# config ----------------------------------------------------------------------------------------


def _effective_database(override: str | None) -> tuple[str, str]:
    settings = get_settings()
    if override:
        url, source = override, "--database option"
    else:
        url = settings.database_url()
        source = settings.source("database.url")
        if source == "default":
            source = "default (SQLite file in the data folder)"
    try:
        shown = normalize_url(url).render_as_string(hide_password=True)
    except ConfigError as exc:
        shown = f"(not usable: {exc})"
    return shown, source


def cmd_config_show(args: argparse.Namespace) -> int:
    """Every setting with its effective value (secrets masked) and where it came from."""
    settings = get_settings()
    found = "" if settings.config_found else " (not found)"
    db_shown, db_source = _effective_database(args.database)
    out(f"Config file: {settings.config_path}{found}")
    out(f"Database:    {db_shown}  [{db_source}]")
    out(f"Log folder:  {settings.log_dir()}")
    out()
    rows = [
        (s.key, settings.values[s.key].display() or "(empty)", settings.values[s.key].source)
        for s in SETTINGS
    ]
    for line in format_table(("SETTING", "VALUE", "SOURCE"), rows):
        out(line)
    return EXIT_OK


def cmd_config_docs(args: argparse.Namespace) -> int:
    """The Markdown reference of every setting (docs/settings.md is this output)."""
    sys.stdout.write(settings_markdown())
    return EXIT_OK


def cmd_kiosk_set_pin(args: argparse.Namespace) -> int:
    """Set the venue's kiosk admin PIN (the PIN that unlocks every kiosk's admin panel)."""
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        try:
            pin = getpass.getpass("Kiosk admin PIN (6 to 12 digits): ")
            check_pin_format(pin)
            again = getpass.getpass("Repeat the PIN: ")
        except EOFError:
            raise ValidationError("No PIN given.", "pin") from None
        if pin != again:
            raise ValidationError("The PINs do not match.", "pin")
    set_kiosk_pin(database(), None, pin)
    out("Kiosk admin PIN set. Running kiosks use it from their next PIN check.")
    return EXIT_OK


def _args_kiosk_set_pin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")


def cmd_ask(args: argparse.Namespace) -> int:
    """Ask an event's assistant one question (nothing is stored)."""
    from shared import cli_assistant

    return cli_assistant.ask(database(), args)


def _args_ask(p: argparse.ArgumentParser) -> None:
    p.add_argument("--event", required=True, help="the assistant's id, name or event name")
    p.add_argument("--offline", action="store_true", help="offline answers only, no LLM server")
    p.add_argument("--json", action="store_true", help="print the answer, source and references")
    p.add_argument("question", nargs="+", help="the question")


def cmd_chat(args: argparse.Namespace) -> int:
    """Talk to an event's assistant in the terminal (nothing is stored)."""
    from shared import cli_assistant

    return cli_assistant.chat(database(), args)


def _args_chat(p: argparse.ArgumentParser) -> None:
    p.add_argument("--event", required=True, help="the assistant's id, name or event name")
    p.add_argument("--offline", action="store_true", help="offline answers only, no LLM server")


# Accounts --------------------------------------------------------------------------------------


def _read_new_password(args: argparse.Namespace, username: str, email: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise ValidationError("No password on standard input (expected one line).", "password")
        return password
    try:
        password = getpass.getpass("Password for the new organizer: ")
        # Refuse a weak password before asking for it again.
        check_password(password, username=username, email=email)
        again = getpass.getpass("Repeat the password: ")
    except EOFError:
        raise ValidationError("No password given.", "password") from None
    if password != again:
        raise ValidationError("The passwords do not match.", "password")
    return password


def cmd_create_admin(args: argparse.Namespace) -> int:
    """Create an organizer account (the first one, or another)."""
    username = clean_username(args.username)
    email = clean_email(args.email)
    name = clean_name(args.name if args.name is not None else args.username)
    db = database()
    with db.read() as s:
        if user_for_login(s, username) is not None:
            raise Conflict(f"The username {username!r} is taken.")
        if user_for_login(s, email) is not None:
            raise Conflict(f"An account with the email {email} exists already.")
    password = _read_new_password(args, username, email)
    info = create_admin(db, username=username, email=email, name=name, password=password)
    log.info("organizer account %s (id %s) created from the command line", info.username, info.id)
    out(f"Organizer account {info.username} created.")
    return EXIT_OK


def _args_create_admin(p: argparse.ArgumentParser) -> None:
    p.add_argument("username", metavar="USERNAME", help="sign-in name (3-32 of a-z 0-9 . - _)")
    p.add_argument("--email", required=True, metavar="EMAIL", help="the organizer's email")
    p.add_argument("--name", metavar="NAME", help="full name (default: USERNAME)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password as one line from standard input instead of prompting",
    )


_USER_FIELDS = (
    "id",
    "username",
    "email",
    "name",
    "role",
    "active",
    "message_count",
    "created_at",
    "last_login_at",
)


def _user_record(user: UserInfo) -> dict[str, Any]:
    # Named fields only: UserInfo holds no secret today, and a field added to it later must not
    # reach this output unseen.
    return {field: getattr(user, field) for field in _USER_FIELDS}


def iter_users(search: str, role: Role | None, page_size: int | None = None) -> Iterator[UserInfo]:
    """Every matching user by name, fetched a page at a time, so 100,000 users stream.

    One read transaction serves all pages: on SQLite (WAL) and MySQL it reads one snapshot, so an
    import running meanwhile cannot make a user appear twice or be skipped (PostgreSQL's default
    isolation reads each page afresh).
    """
    query = UserQuery(search=search, role=role)
    size = page_size or PAGE_SIZE
    with database().read() as s:
        actor = system_actor(s)
        offset = 0
        while True:
            page = list_users(s, actor, query, offset=offset, limit=size)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return


def cmd_users_list(args: argparse.Namespace) -> int:
    """List users (never a secret), streaming so 100,000 users work."""
    role = Role(args.role) if args.role else None
    users = (_user_record(u) for u in iter_users(args.search, role))
    if args.json:
        write_json_list(users)
        return EXIT_OK
    headers = ("ID", "USERNAME", "EMAIL", "NAME", "ROLE", "ACTIVE")
    widths: list[int] | None = None
    n = 0
    batch: list[tuple[str, ...]] = []

    def flush() -> None:
        nonlocal widths
        if widths is None:  # column widths from the first page, kept after (output streams)
            widths = [max([len(h), *(len(r[i]) for r in batch)]) for i, h in enumerate(headers)]
            lines = format_table(headers, batch, widths)
        else:
            lines = itertools.islice(format_table(headers, batch, widths), 1, None)
        for line in lines:
            out(line)
        batch.clear()

    for u in users:
        batch.append(
            (str(u["id"]), u["username"], u["email"], u["name"], u["role"].value, _yes(u["active"]))
        )
        n += 1
        if len(batch) >= PAGE_SIZE:
            flush()
    if batch or widths is None:
        flush()
    out(f"{n} user{'s' if n != 1 else ''}.")
    return EXIT_OK


def _args_users_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--search", default="", metavar="TEXT", help="part of a name, username or email")
    p.add_argument("--role", choices=[r.value for r in Role], help="only attendees or organizers")
    p.add_argument("--json", action="store_true", help="a JSON array of objects instead of a table")


# Events ----------------------------------------------------------------------------------------


def _read_prompt(args: argparse.Namespace) -> str:
    if args.system_prompt_file is None:
        return str(args.system_prompt or "")
    path = Path(args.system_prompt_file)
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValidationError(f"Cannot read the system prompt file {path}: {reason}.") from None


def cmd_events_create(args: argparse.Namespace) -> int:
    """Create an event assistant."""
    prompt = _read_prompt(args)
    with database().session() as s:
        bot = chatbots.create(
            s,
            system_actor(s),
            name=args.name,
            event_name=args.event_name,
            start_date=args.start,
            end_date=args.end,
            description=args.description,
            system_prompt=prompt,
            single_mode=args.single_mode,
            multiple_mode=args.multiple_mode,
            public=not args.private,
        )
    log.info("event assistant %s (%r) created from the command line", bot.id, bot.name)
    out(f"Event assistant {bot.name!r} created with id {bot.id}.")
    return EXIT_OK


def _args_events_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the assistant's name, as attendees see it")
    p.add_argument("--event-name", required=True, metavar="TEXT", help="the event it serves")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first day of the event")
    p.add_argument("--end", required=True, metavar="YYYY-MM-DD", help="last day of the event")
    p.add_argument("--description", default="", metavar="TEXT", help="shown to attendees")
    prompt = p.add_mutually_exclusive_group()
    prompt.add_argument("--system-prompt", metavar="TEXT", help="the organizers' instructions")
    prompt.add_argument("--system-prompt-file", metavar="PATH", help="read them from a file")
    p.add_argument("--private", action="store_true", help="only enrolled attendees see it")
    p.add_argument(
        "--multiple-mode",
        action="store_true",
        help="also allow walk-up (anonymous, multiple-person) conversations",
    )
    p.add_argument(
        "--no-single-mode",
        dest="single_mode",
        action="store_false",
        help="no signed-in (single-person) conversations; needs --multiple-mode",
    )


def _event_record(bot: chatbots.ChatbotDetail) -> dict[str, Any]:
    return {
        "id": bot.id,
        "name": bot.name,
        "event_name": bot.event_name,
        "start_date": bot.start_date,
        "end_date": bot.end_date,
        "status": bot.status.value,
        "public": bot.public,
        "active": bot.active,
        "modes": [m.value for m in bot.modes],
        "guests": bot.guest_count,
        "participants": bot.participant_count,
        "messages": bot.message_count,
    }


def cmd_events_list(args: argparse.Namespace) -> int:
    """Every event assistant with its status and figures."""
    with database().read() as s:
        bots = chatbots.list_for_organizers(s, system_actor(s))
    records = [_event_record(b) for b in bots]
    if args.json:
        write_json_list(records)
        return EXIT_OK
    if not records:
        out("No event assistants yet. Create one with `convergeai events create`.")
        return EXIT_OK
    headers = (
        "ID",
        "NAME",
        "EVENT",
        "START",
        "END",
        "STATUS",
        "PUBLIC",
        "MODES",
        "PARTICIPANTS",
        "MESSAGES",
    )
    rows = [
        (
            str(r["id"]),
            r["name"],
            r["event_name"],
            r["start_date"].isoformat(),
            r["end_date"].isoformat(),
            r["status"],
            _yes(r["public"]),
            "+".join(r["modes"]),
            str(r["participants"]),
            str(r["messages"]),
        )
        for r in records
    ]
    for line in format_table(headers, rows):
        out(line)
    return EXIT_OK


def _args_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="a JSON array of objects instead of a table")


# Demo ------------------------------------------------------------------------------------------


def print_demo_summary(summary: DemoSummary) -> None:
    """What ``convergeai demo`` prints."""
    if summary.created:
        out("Demo conference loaded.")
    else:
        out("The demo conference is already loaded; nothing changed.")
    for bot in summary.chatbots:
        out(f"  event assistant {bot.id}: {bot.name} ({bot.start_date} to {bot.end_date})")
    out(f"  {summary.guests} guests, {summary.attendees} attendees, {summary.messages} messages")
    if summary.created and summary.logins:
        out()
        out("Sign in at a kiosk as a demo attendee (demo data only, never an organizer):")
        for login in summary.logins:
            out(f"  username {login.username}  password {DEMO_PASSWORD}  ({login.name})")
        out("No organizer account is created: use `convergeai create-admin` for the console.")


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the demo conference (idempotent)."""
    summary = load_demo(database())
    log.info("demo conference %s", "loaded" if summary.created else "already present")
    print_demo_summary(summary)
    return EXIT_OK


# Spreadsheets ----------------------------------------------------------------------------------

IMPORT_KINDS = ("attendees", "guests", "agenda", "faq")
EXPORT_KINDS = ("attendees", "participants", "transcripts", "stats")


def cmd_import(args: argparse.Namespace) -> int:
    """Import attendees, guests, agenda items or FAQ entries from a spreadsheet (exit 0: all rows
    accepted; 3: some rejected; 2: the file cannot be used)."""
    from shared.spreadsheets.cli import run_import

    return run_import(database(), args)


def _args_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=IMPORT_KINDS, help="what the file holds")
    p.add_argument("file", metavar="FILE", help=".xlsx, .xlsm, .xls, .ods or .csv")
    p.add_argument("--event", required=True, help="the assistant's id, name or event name")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument(
        "--on-duplicate",
        choices=("update", "skip"),
        default="update",
        help="existing records: update them (blank cells keep values) or skip them "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--map",
        action="append",
        metavar="FIELD=HEADER",
        help="use the column HEADER for FIELD (repeatable; FIELD= unmaps it)",
    )
    p.add_argument("--report", metavar="OUT.xlsx", help="write the rejected rows and problems")
    p.add_argument(
        "--credentials", metavar="OUT.xlsx", help="write new attendees' badge codes and QR codes"
    )
    p.add_argument("--photos", metavar="DIR", help="folder of the guests' photo files")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")


def cmd_export(args: argparse.Namespace) -> int:
    """Export attendees, an assistant's participants, transcripts or figures as .xlsx."""
    from shared.spreadsheets.cli import run_export

    return run_export(database(), args)


def _args_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=EXPORT_KINDS, help="what to export")
    p.add_argument("--event", required=True, help="the assistant's id, name or event name")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help="where to write")


# The command table -----------------------------------------------------------------------------

GROUPS: dict[str, str] = {
    "db": "the database schema",
    "config": "the settings",
    "events": "event assistants",
    "users": "user accounts",
    "kiosk": "kiosk set-up",
}

COMMANDS: tuple[Command, ...] = (
    Command(
        ("db", "upgrade"),
        "create or migrate the database schema",
        cmd_db_upgrade,
        needs_schema=False,
    ),
    Command(
        ("db", "current"),
        "say whether the schema is current (exit 1 if not)",
        cmd_db_current,
        needs_schema=False,
    ),
    Command(
        ("db", "create-roles"),
        "create the least-privileged kiosk and admin roles (PostgreSQL)",
        cmd_db_create_roles,
        _args_db_create_roles,
    ),
    Command(
        ("config", "show"),
        "show every setting, its value and where it came from",
        cmd_config_show,
        needs_schema=False,
    ),
    Command(
        ("config", "docs"),
        "print the reference of every setting as Markdown",
        cmd_config_docs,
        needs_schema=False,
    ),
    Command(
        ("kiosk", "set-pin"),
        "set the kiosk admin PIN (asked twice, or --pin-stdin)",
        cmd_kiosk_set_pin,
        _args_kiosk_set_pin,
    ),
    Command(("create-admin",), "create an organizer account", cmd_create_admin, _args_create_admin),
    Command(
        ("events", "create"), "create an event assistant", cmd_events_create, _args_events_create
    ),
    Command(("events", "list"), "list the event assistants", cmd_events_list, _args_json),
    Command(("users", "list"), "list user accounts", cmd_users_list, _args_users_list),
    Command(("ask",), "ask an event's assistant one question", cmd_ask, _args_ask),
    Command(("chat",), "talk to an event's assistant in the terminal", cmd_chat, _args_chat),
    Command(("demo",), "load the demo conference (safe to run again)", cmd_demo),
    Command(
        ("import",),
        "import a spreadsheet of attendees, guests, agenda or FAQ",
        cmd_import,
        _args_import,
    ),
    Command(
        ("export",),
        "export attendees, participants, transcripts or figures as .xlsx",
        cmd_export,
        _args_export,
    ),
)


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The argument parser for ``commands``; each leaf stores its Command as ``args.command``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="ConvergeAI administration: database, settings, accounts, events, demo data.",
        epilog="Run `convergeai COMMAND --help` for a command's options.",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL for this run, overriding the settings "
        "(e.g. postgresql://user@host/convergeai)",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    top = parser.add_subparsers(title="commands", metavar="COMMAND", dest="top", required=True)
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in commands:
        *group_words, leaf = command.words
        subparsers = top
        if group_words:
            (group,) = group_words
            if group not in groups:
                group_parser = top.add_parser(group, help=GROUPS.get(group, ""))
                groups[group] = group_parser.add_subparsers(
                    title="commands", metavar="COMMAND", dest=f"{group}_command", required=True
                )
            subparsers = groups[group]
        sub = subparsers.add_parser(leaf, help=command.help, description=command.help)
        if command.arguments is not None:
            command.arguments(sub)
        sub.set_defaults(command=command)
    return parser


# Entry point -----------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    """One line of an error message, secrets masked (a driver's message may quote a URL)."""
    lines = text.strip().splitlines()
    return redact(lines[0].strip()) if lines else ""


def _error(message: str) -> None:
    print(f"{PROG}: error: {_first_line(message) or 'unknown error'}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    command: Command = args.command
    if args.database:
        try:
            set_database(Database.from_settings(args.database))
        except OSError as exc:
            raise DatabaseUnavailable(f"Cannot open the database: {exc.strerror or exc}") from None
    log.info("running %r", " ".join(command.words))
    if command.needs_schema:
        check_schema(database())
    try:
        return command.handler(args)
    except DBAPIError as exc:
        known = translate_db_error(exc, database().describe())
        if known is exc:
            raise
        raise known from exc


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        setup_logging("cli")
    except KnownError as exc:  # a malformed setting: nothing can run
        _error(str(exc))
        return EXIT_ERROR
    try:
        return _run(args)
    except KnownError as exc:
        log.info("%s: %s", type(exc).__name__, exc)
        _error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        log.info("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`convergeai users list | head`): stop quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        log.exception("internal error")
        where = log_file()
        details = f"details in {where}" if where else "no log file could be written"
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {_first_line(str(exc))} ({details})",
            file=sys.stderr,
        )
        return EXIT_BUG
    finally:
        if args.database:
            set_database(None)


if __name__ == "__main__":
    sys.exit(main())
