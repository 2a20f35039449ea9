"""Import attendees, guests, agenda items or FAQ entries from a :class:`Table`.

Two steps, as the wizard shows them:

1. :func:`plan` (the dry run): every row is checked; the result counts the rows that would be
   created, updated, skipped and rejected, with every problem (Excel row number, column letter,
   header, message). Nothing is written.
2. :func:`apply`: the same checks run again inside ONE write transaction (so what changed since
   the dry run is seen), then every valid row is written: all of them, or on any failure none.
   Rejected rows are left out; the caller decides (the CLI's exit code 3).

Attendees: an existing account with the row's email is updated (blank cells keep what it holds)
or skipped (``on_duplicate``); organizer accounts are never changed by an import. New attendees
get a username made from their name (unique) and a personal badge code, stored as an HMAC (the
core's badge sign-in; never bcrypt: 100,000 rows would take 100 minutes). Rows are written with
one streamed COPY on PostgreSQL and ``executemany`` in chunks elsewhere; every imported attendee
(skipped ones too) is enrolled in the chosen assistant, its ``participant_count`` raised in SQL
by the number of new enrolments. The common row takes fast paths (validation, usernames, badge
HMACs) that tests/spreadsheets/test_fast_paths.py holds to the plain rules.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Table as Table_
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import Database, utcnow
from shared.errors import Conflict, ValidationError
from shared.models import (
    AgendaItem,
    Chatbot,
    ChatbotParticipant,
    FaqEntry,
    Guest,
    Role,
    User,
)
from shared.services import agenda as agenda_service
from shared.services import faq as faq_service
from shared.services import guests as guest_service
from shared.services.auth import badge_key
from shared.services.common import Actor, get_chatbot, require_admin
from shared.spreadsheets.bulk import collector_paused
from shared.spreadsheets.mapping import ColumnMapping, check_mapping, fields
from shared.spreadsheets.reader import Cancelled, Table
from shared.spreadsheets.validate import CLEANERS, FieldProblem, attendee_fast_path

log = logging.getLogger("convergeai.import")

OnDuplicate = Literal["update", "skip"]
Action = Literal["create", "update", "skip", "reject"]
Progress = Callable[[int, int], None]
CHUNK = 2000
#: SQLite page cache (KiB) while an import writes many rows.
BIG_CACHE_KIB = 16 * 1024


@dataclass(frozen=True)
class Problem:
    """One problem of one row: its number as Excel shows it, the column (letter and header;
    empty when the problem is the row's as a whole) and a message."""

    row: int
    column: str
    header: str
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"row", "column", "header", "message"}``."""
        return {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "message": self.message,
        }


@dataclass(slots=True)
class RowOutcome:
    """What happens to one data row. ``index`` is its place in ``table.rows``; ``target_id``
    the existing record it updates or skips."""

    row: int
    index: int
    action: Action
    target_id: int | None = None


@dataclass(frozen=True)
class ImportRequest:
    """What to import, and how: the table, its mapping, the assistant, duplicates, photos."""

    kind: str
    table: Table
    mapping: ColumnMapping
    chatbot_id: int | None = None
    on_duplicate: OnDuplicate = "update"
    photos_dir: Path | None = None


@dataclass(frozen=True)
class ImportPlan:
    """The dry run's result: every row's outcome and every problem. Nothing was written."""

    request: ImportRequest
    outcomes: tuple[RowOutcome, ...]
    problems: tuple[Problem, ...]
    #: The cleaned values of every row (empty for rejected rows), aligned with ``outcomes``.
    values: tuple[dict[str, Any], ...] = field(repr=False, default=())

    @property
    def kind(self) -> str:
        return self.request.kind

    @cached_property
    def _counts(self) -> Counter[str]:
        return Counter(o.action for o in self.outcomes)

    def count(self, action: Action) -> int:
        return self._counts[action]

    @property
    def rows(self) -> int:
        return len(self.outcomes)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def skipped(self) -> int:
        return self.count("skip")

    @property
    def rejected(self) -> int:
        return self.count("reject")

    def summary(self, *, dry_run: bool = True) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return _summary(
            self.kind,
            dry_run,
            self.rows,
            self.created,
            self.updated,
            self.skipped,
            self.rejected,
            self.problems,
        )


@dataclass(slots=True)
class Credential:
    """A new attendee's sign-in: shown once, for the credentials workbook."""

    user_id: int
    name: str
    email: str
    username: str
    badge_code: str


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    kind: str
    rows: int
    created: int
    updated: int
    skipped: int
    rejected: int
    problems: tuple[Problem, ...]
    enrolled: int = 0
    credentials: tuple[Credential, ...] = ()
    plan: ImportPlan | None = field(repr=False, default=None)

    def summary(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return _summary(
            self.kind,
            False,
            self.rows,
            self.created,
            self.updated,
            self.skipped,
            self.rejected,
            self.problems,
        )


def _summary(
    kind: str,
    dry_run: bool,
    rows: int,
    created: int,
    updated: int,
    skipped: int,
    rejected: int,
    problems: Sequence[Problem],
) -> dict[str, Any]:
    return {
        "kind": kind,
        "dry_run": dry_run,
        "rows": rows,
        "created": created,
        "updated": updated,
        "skipped": skipped,
        "rejected": rejected,
        "errors": [p.as_dict() for p in problems],
    }


# Helpers ---------------------------------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _fold(text: str) -> str:
    """Case- and accent-insensitive key for matching names."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join((plain or text).casefold().split())


# Any byte to a Crockford base32 character by its low five bits (each of the 32 equally likely
# for a random byte).
_CROCKFORD_BYTES = bytes(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"[b & 31] for b in range(256))


def new_badge_codes(n: int) -> list[str]:
    """``n`` fresh badge codes in the core's format (``7K3Q-M2XD-9TRB-4HNA-ZC8W``: 20 random
    Crockford base32 characters, 100 bits), a hundred times faster than one
    ``generate_badge_code`` call each: 24 random bytes a code become characters in one
    ``translate``, and four of each 24 are overwritten by the dashes."""
    text = bytearray(secrets.token_bytes(24 * n).translate(_CROCKFORD_BYTES))
    for at in (4, 9, 14, 19):
        text[at::24] = b"-" * n
    codes = text.decode("ascii")
    return [codes[i : i + 24] for i in range(0, 24 * n, 24)]


def badge_hasher(key: bytes) -> Callable[[str], str]:
    """``badge_hash(code, key)`` (HMAC-SHA256) for codes made by :func:`new_badge_codes`
    (already normalized but for their dashes). HMAC written out as RFC 2104 defines it, with
    the padded key hashed once: three times faster than copying an ``hmac`` object per code
    (a test holds it to :func:`hmac.new`)."""
    if len(key) > 64:  # SHA-256's block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(code: str) -> str:
        i = inner.copy()
        i.update(code.replace("-", "").encode("ascii"))
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return digest


# For lower-cased ASCII text: separators (. _ -) become spaces, whitespace stays, every other
# character but a-z and 0-9 goes (NUL too: it stays only in the batch table, as the separator
# of names); then str.split() gives the words.
_STEM_TABLE = str.maketrans(
    {
        chr(c): (" " if chr(c) in "._-" or chr(c).isspace() else None)
        for c in range(128)
        if not ("a" <= chr(c) <= "z" or "0" <= chr(c) <= "9")
    }
)
_BATCH_TABLE = {**_STEM_TABLE, 0: 0}


def _ascii_lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _stem(words: str) -> str:
    """The username stem of the words (lower-case ASCII, translated), or "" when too short.
    Made of a-z, 0-9 and single dots, starting and ending with a letter or digit, at most 28
    characters: USERNAME_RE holds whenever it has three characters."""
    stem = ".".join(words.split())[:28].strip(".")
    return stem if len(stem) >= 3 else ""


def username_base(name: str, email: str) -> str:
    """A username stem from a name ('Zoë O'Brien' -> 'zoe.obrien'), else the email's local part:
    the words (split at spaces, dots, dashes, underscores) of letters and digits only, joined
    by dots."""
    for source in (name, email.split("@")[0]):
        stem = _stem(_ascii_lower(source).translate(_STEM_TABLE))
        if stem:
            return stem
    return "attendee"


def username_bases(people: Sequence[tuple[str, str]]) -> list[str]:
    """:func:`username_base` of every (name, email), the names translated in one go (NFKD
    decomposes each character on its own, so the names joined by NUL, which no name holds,
    come out as the names one by one)."""
    names = "\0".join(name for name, _ in people)
    parts = _ascii_lower(names).translate(_BATCH_TABLE).split("\0")
    if len(parts) != len(people):  # a NUL in a name after all
        return [username_base(name, email) for name, email in people]
    return [
        _stem(words) or username_base(name, email)
        for words, (name, email) in zip(parts, people, strict=True)
    ]


def unique_username(base: str, taken: set[str]) -> str:
    """``base``, or ``base2``, ``base3``... the first not in ``taken`` (which it joins)."""
    candidate = base
    n = 1
    while candidate in taken:
        n += 1
        suffix = str(n)
        candidate = base[: 32 - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


# Preparing (the dry run, and again inside the write) -------------------------------------------


@dataclass
class _Work:
    request: ImportRequest
    outcomes: list[RowOutcome]
    problems: list[Problem]
    values: list[dict[str, Any]]
    chatbot: Chatbot | None


def _row_cells(request: ImportRequest, row: Sequence[Any]) -> dict[str, Any]:
    return {f: row[i] for f, i in request.mapping.columns.items()}


def _problem(request: ImportRequest, row: int, fp: FieldProblem) -> Problem:
    index = request.mapping.column(fp.field)
    if index is None and fp.field == "name":
        index = request.mapping.column("first_name") or request.mapping.column("last_name")
    if index is None:
        return Problem(row, "", "", fp.field, fp.message)
    table = request.table
    return Problem(row, table.letters[index], table.headers[index], fp.field, fp.message)


def _prepare(
    s: Session, actor: Actor, request: ImportRequest, cancel: threading.Event | None = None
) -> _Work:
    require_admin(s, actor)
    kind_fields = fields(request.kind)  # refuses unknown kinds
    if request.on_duplicate not in ("update", "skip"):
        raise ValidationError("On duplicates: choose update or skip.", "on_duplicate")
    check_mapping(request.mapping, request.table.headers)
    chatbot = None
    if request.chatbot_id is not None:
        chatbot = get_chatbot(s, request.chatbot_id)
    elif request.kind != "attendees":
        raise ValidationError("Choose the event assistant to import into.", "chatbot_id")
    del kind_fields
    cleaner = CLEANERS[request.kind]
    fast = attendee_fast_path(request.mapping.columns) if request.kind == "attendees" else None
    work = _Work(request, [], [], [], chatbot)
    table = request.table
    for index, (number, row) in enumerate(zip(table.row_numbers, table.rows, strict=True)):
        if cancel is not None and index % 5000 == 0 and cancel.is_set():
            raise Cancelled("The import was cancelled; nothing was changed.")
        if fast is not None:
            quick = fast(row)
            if quick is not None:
                work.values.append(quick)
                work.outcomes.append(RowOutcome(number, index, "create"))
                continue
        values, problems = cleaner(_row_cells(request, row))
        work.values.append(values)
        if problems:
            work.problems.extend(_problem(request, number, p) for p in problems)
            work.outcomes.append(RowOutcome(number, index, "reject"))
        else:
            work.outcomes.append(RowOutcome(number, index, "create"))
    {
        "attendees": _match_attendees,
        "guests": _match_guests,
        "agenda": _match_agenda,
        "faq": _match_faq,
    }[request.kind](s, work)
    work.problems.sort(key=lambda p: p.row)
    return work


def _reject(work: _Work, i: int, fp: FieldProblem) -> None:
    o = work.outcomes[i]
    o.action, o.target_id = "reject", None
    work.values[i] = {}
    work.problems.append(_problem(work.request, o.row, fp))


def _decide(work: _Work, i: int, existing_id: int | None) -> None:
    if existing_id is None:
        return
    o = work.outcomes[i]
    o.action = "update" if work.request.on_duplicate == "update" else "skip"
    o.target_id = existing_id


def _first_rows(
    work: _Work, key: Callable[[dict[str, Any]], str | None], what: str, field_name: str
) -> None:
    """Reject later rows repeating a key of an earlier row of the file."""
    seen: dict[str, int] = {}
    for i, o in enumerate(work.outcomes):
        if o.action == "reject":
            continue
        k = key(work.values[i])
        if k is None:
            continue
        if k in seen:
            _reject(
                work,
                i,
                FieldProblem(
                    field_name, f"Same {what} as row {seen[k]}: each may appear once in the file."
                ),
            )
        else:
            seen[k] = o.row


def _match_attendees(s: Session, work: _Work) -> None:
    _first_rows(work, lambda v: v.get("email"), "email", "email")
    _first_rows(work, lambda v: v.get("username"), "username", "username")
    live = [i for i, o in enumerate(work.outcomes) if o.action != "reject"]
    # Every username is needed (generated ones must be new), so one pass over the accounts
    # finds the existing emails too: at 100,000 rows much faster than IN lists.
    existing: dict[str, tuple[int, str, str]] = {}
    taken: set[str] = set()
    wanted_emails = {work.values[i]["email"] for i in live}
    for uid, email, username, role in s.execute(
        select(User.id, User.email, User.username, User.role)
    ):
        taken.add(username)
        if email in wanted_emails:
            existing[email] = (uid, username, role)
    del wanted_emails
    for i in live:
        values = work.values[i]
        found = existing.get(values["email"])
        wanted = values.get("username")
        if found is not None and found[2] == Role.ADMIN.value:
            _reject(
                work,
                i,
                FieldProblem(
                    "email",
                    f"{values['email']} is an organizer's account; imports never "
                    "change organizer accounts.",
                ),
            )
            continue
        if found is None and "name" not in values:
            _reject(work, i, FieldProblem("name", "Name is required for a new attendee."))
            continue
        current = found[1] if found is not None else None
        if wanted is not None and wanted != current:
            if wanted in taken:
                _reject(work, i, FieldProblem("username", f"The username {wanted!r} is taken."))
                continue
            taken.add(wanted)
        _decide(work, i, found[0] if found is not None else None)
    # Generated usernames last, so they never take a name a later row asked for.
    unnamed = [
        work.values[i]
        for i in live
        if work.outcomes[i].action == "create" and "username" not in work.values[i]
    ]
    bases = username_bases([(values["name"], values["email"]) for values in unnamed])
    for values, base in zip(unnamed, bases, strict=True):
        values["username"] = unique_username(base, taken)


def _match_guests(s: Session, work: _Work) -> None:
    assert work.chatbot is not None
    _first_rows(work, lambda v: _fold(v["name"]) if "name" in v else None, "name", "name")
    existing = {
        _fold(name): gid
        for gid, name in s.execute(
            select(Guest.id, Guest.name).where(Guest.chatbot_id == work.chatbot.id)
        )
    }
    folder = work.request.photos_dir
    listing: dict[str, Path] | None = None
    for i, o in enumerate(work.outcomes):
        if o.action == "reject":
            continue
        values = work.values[i]
        if "name" not in values:
            _reject(work, i, FieldProblem("name", "Name is required."))
            continue
        photo = values.get("photo")
        if photo:
            if folder is None:
                _reject(
                    work,
                    i,
                    FieldProblem("photo", "A photo file is named but no photos folder was chosen."),
                )
                continue
            if listing is None:
                listing = _photo_files(folder)
            path = listing.get(Path(photo.replace("\\", "/")).name.casefold())
            if path is None:
                _reject(work, i, FieldProblem("photo", f"No file {photo!r} in {folder}."))
                continue
            problem = _photo_problem(path)
            if problem:
                _reject(work, i, FieldProblem("photo", problem))
                continue
            values["photo_path"] = path
        _decide(work, i, existing.get(_fold(values["name"])))


def _photo_files(folder: Path) -> dict[str, Path]:
    try:
        return {p.name.casefold(): p for p in folder.iterdir() if p.is_file()}
    except OSError as exc:
        raise ValidationError(
            f"Cannot read the photos folder {folder}: {exc.strerror or exc}.", "photos_dir"
        ) from None


def _photo_problem(path: Path) -> str | None:
    """The guests service's photo rules (PNG, JPEG or WebP, at most 5 MB) on a file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        return f"Cannot read {path.name}: {exc.strerror or exc}."
    if size > guest_service.PHOTO_MAX_BYTES:
        return (
            f"{path.name} is too large ({size / 1_048_576:.1f} MB; at most "
            f"{guest_service.PHOTO_MAX_BYTES // 1_048_576} MB)."
        )
    if size == 0 or guest_service.sniff_image(head) is None:
        return f"{path.name} is not a PNG, JPEG or WebP image."
    return None


def _match_agenda(s: Session, work: _Work) -> None:
    bot = work.chatbot
    assert bot is not None
    guests: dict[str, list[int]] = {}
    for gid, name in s.execute(select(Guest.id, Guest.name).where(Guest.chatbot_id == bot.id)):
        guests.setdefault(_fold(name), []).append(gid)
    existing = {
        (_fold(title), starts): iid
        for iid, title, starts in s.execute(
            select(AgendaItem.id, AgendaItem.title, AgendaItem.starts_at).where(
                AgendaItem.chatbot_id == bot.id
            )
        )
    }
    _first_rows(
        work, lambda v: f"{_fold(v['title'])}|{v['start'].isoformat()}", "title and start", "title"
    )
    for i, o in enumerate(work.outcomes):
        if o.action == "reject":
            continue
        values = work.values[i]
        try:
            agenda_service._check_times(values["start"], values["end"], bot)
        except ValidationError as exc:
            _reject(
                work, i, FieldProblem("end" if exc.field == "ends_at" else "start", exc.message)
            )
            continue
        ids: list[int] = []
        unknown: list[str] = []
        for name in values.get("speakers", []):
            match = guests.get(_fold(name))
            if not match:
                unknown.append(name)
            elif match[0] not in ids:
                ids.append(match[0])
        if unknown:
            _reject(
                work,
                i,
                FieldProblem(
                    "speakers",
                    f"Not a guest of this event: {', '.join(unknown)}. Import the "
                    "guests first, or fix the spelling.",
                ),
            )
            continue
        if "speakers" in values:
            values["speaker_ids"] = ids
        _decide(work, i, existing.get((_fold(values["title"]), values["start"])))


def _match_faq(s: Session, work: _Work) -> None:
    assert work.chatbot is not None
    _first_rows(work, lambda v: _fold(v["question"]), "question", "question")
    existing = {
        _fold(q): eid
        for eid, q in s.execute(
            select(FaqEntry.id, FaqEntry.question).where(FaqEntry.chatbot_id == work.chatbot.id)
        )
    }
    for i, o in enumerate(work.outcomes):
        if o.action != "reject":
            _decide(work, i, existing.get(_fold(work.values[i]["question"])))


def _as_plan(work: _Work) -> ImportPlan:
    return ImportPlan(work.request, tuple(work.outcomes), tuple(work.problems), tuple(work.values))


# Public API ------------------------------------------------------------------------------------


@collector_paused()
def plan(
    s: Session,
    actor: Actor,
    kind: str,
    table: Table,
    mapping: ColumnMapping,
    *,
    chatbot_id: int | None = None,
    on_duplicate: OnDuplicate = "update",
    photos_dir: Path | None = None,
    cancel: threading.Event | None = None,
) -> ImportPlan:
    """The dry run: what importing ``table`` would do, row by row, and every problem.
    Organizers only; writes nothing."""
    request = ImportRequest(kind, table, mapping, chatbot_id, on_duplicate, photos_dir)
    return _as_plan(_prepare(s, actor, request, cancel))


@collector_paused()
def apply(
    db: Database,
    actor: Actor,
    request: ImportRequest | ImportPlan,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Write every valid row in one transaction (all or none); rejected rows are left out.

    The rows are checked again inside the transaction. ``progress(done, total)`` is called
    between chunks; setting ``cancel`` rolls everything back (raises
    :class:`~shared.spreadsheets.reader.Cancelled`)."""
    if isinstance(request, ImportPlan):
        request = request.request
    try:
        with db.session() as s:
            work = _prepare(s, actor, request, cancel)
            writer = {
                "attendees": _write_attendees,
                "guests": _write_guests,
                "agenda": _write_agenda,
                "faq": _write_faq,
            }[request.kind]
            enrolled, credentials = writer(s, actor, work, progress, cancel)
    except IntegrityError:
        raise Conflict(
            "Someone changed the same records while the import ran; nothing was imported. "
            "Run the import again."
        ) from None
    done = _as_plan(work)
    log.info(
        "import of %s by user %s: %s created, %s updated, %s skipped, %s rejected",
        request.kind,
        actor.user_id,
        done.created,
        done.updated,
        done.skipped,
        done.rejected,
    )
    return ImportResult(
        kind=request.kind,
        rows=done.rows,
        created=done.created,
        updated=done.updated,
        skipped=done.skipped,
        rejected=done.rejected,
        problems=done.problems,
        enrolled=enrolled,
        credentials=tuple(credentials),
        plan=done,
    )


# Writers ---------------------------------------------------------------------------------------


class _Ticker:
    def __init__(
        self, total: int, progress: Progress | None, cancel: threading.Event | None
    ) -> None:
        self.total, self.done, self.progress, self.cancel = total, 0, progress, cancel

    def step(self, n: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("The import was cancelled; nothing was changed.")
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


WriteResult = tuple[int, list[Credential]]


def _write_attendees(
    s: Session, actor: Actor, work: _Work, progress: Progress | None, cancel: threading.Event | None
) -> WriteResult:
    now = utcnow()
    creates = [i for i, o in enumerate(work.outcomes) if o.action == "create"]
    updates = [i for i, o in enumerate(work.outcomes) if o.action == "update"]
    ticker = _Ticker(len(creates) + len(updates), progress, cancel)
    # New accounts get ids above every id there is now: reading them back is one range scan.
    before = s.scalar(select(func.max(User.id))) or 0
    with _sqlite_cache(s, len(creates)):
        enrolled, credentials = _insert_attendees(s, work, creates, updates, ticker, now, before)
    return enrolled, credentials


@contextmanager
def _sqlite_cache(s: Session, rows: int) -> Iterator[None]:
    """A bigger SQLite page cache while many rows go in: the random badge-code hashes spread
    over their whole unique index, which outgrows the default 2 MB cache (10-15 % faster at
    100,000 rows, bench/imports.py). Back to what it was afterwards: the connection is pooled."""
    conn = s.connection()
    if conn.dialect.name != "sqlite" or rows < 10_000:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-BIG_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _insert_attendees(
    s: Session,
    work: _Work,
    creates: list[int],
    updates: list[int],
    ticker: _Ticker,
    now: datetime,
    before: int,
) -> WriteResult:
    users = cast(Table_, User.__table__)
    codes = new_badge_codes(len(creates))
    hasher = badge_hasher(badge_key())
    credentials: list[Credential] = []
    stamp = _db_time(s, now)
    # The other columns take their server defaults (active, no password, no messages).
    columns = ("username", "email", "name", "role", "badge_code_hash", "created_at", "updated_at")
    attendee = Role.ATTENDEE.value
    values = work.values
    _insert_many(
        s,
        "users",
        columns,
        (
            (v["username"], v["email"], v["name"], attendee, hasher(code), stamp, stamp)
            for v, code in zip((values[i] for i in creates), codes, strict=True)
        ),
        ticker,
    )
    # Others may have added accounts meanwhile (not on SQLite, whose writers take turns):
    # the emails tell ours.
    ids = {e: i for e, i in s.execute(select(User.email, User.id).where(User.id > before))}
    for n, i in enumerate(creates):
        v = work.values[i]
        uid = ids[v["email"]]
        work.outcomes[i].target_id = uid
        credentials.append(Credential(uid, v["name"], v["email"], v["username"], codes[n]))
    # Updates: blank cells keep the stored value, so group rows by the fields they change.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for i in updates:
        v = work.values[i]
        changes = {k: v[k] for k in ("name", "username") if k in v}
        groups.setdefault(tuple(sorted(changes)), []).append(
            {"_id": work.outcomes[i].target_id, **{f"_{k}": x for k, x in changes.items()}}
        )
    for keys, params in groups.items():
        stmt = (
            update(users)
            .where(users.c.id == bindparam("_id"))
            .values(updated_at=now, **{k: bindparam(f"_{k}") for k in keys})
        )
        for batch in _chunks(params, CHUNK):
            s.execute(stmt, list(batch))
            ticker.step(len(batch))
    enrolled = 0
    if work.chatbot is not None:
        user_ids = [o.target_id for o in work.outcomes if o.action != "reject"]
        enrolled = _enrol(s, work.chatbot.id, [u for u in user_ids if u is not None], now, before)
    return enrolled, credentials


def _db_time(s: Session, when: datetime) -> Any:
    """An aware UTC time as the driver stores it for UTCDateTime: naive UTC (text on SQLite,
    where the sqlite3 datetime adapter is deprecated)."""
    naive = when.astimezone(UTC).replace(tzinfo=None)
    if s.get_bind().dialect.name == "sqlite":
        return naive.isoformat(sep=" ", timespec="microseconds")
    return naive


def _insert_many(
    s: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    ticker: _Ticker | None = None,
) -> None:
    """Insert rows inside the session's transaction, ``ticker.step()`` every CHUNK rows.

    PostgreSQL: one COPY (measured-facts.md: twice as fast as executemany), streamed, so the
    server inserts while we make the next rows. Elsewhere a raw DBAPI ``executemany`` a CHUNK
    at a time (as fast as SQLAlchemy's insertmanyvalues there, without its per-row work)."""
    conn = s.connection()
    it = iter(rows)
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        n = 0
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            write = copy.write_row
            for n, row in enumerate(it, 1):
                write(row)
                if ticker is not None and n % CHUNK == 0:
                    ticker.step(CHUNK)
        if ticker is not None and n % CHUNK:
            ticker.step(n % CHUNK)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    while chunk := list(islice(it, CHUNK)):
        conn.exec_driver_sql(sql, chunk)
        if ticker is not None:
            ticker.step(len(chunk))


def _enrol(
    s: Session, chatbot_id: int, user_ids: list[int], now: Any, created_above: int | None = None
) -> int:
    """Enrol users not yet enrolled; the counter goes up by exactly that many, in SQL.
    ``created_above``: the accounts with greater ids were all made by this import (and are
    among ``user_ids``)."""
    # Lock the assistant first: kiosks joining meanwhile (ensure_participant) wait for us.
    s.execute(select(Chatbot.id).where(Chatbot.id == chatbot_id).with_for_update())
    enrolled = set(
        s.scalars(
            select(ChatbotParticipant.user_id).where(ChatbotParticipant.chatbot_id == chatbot_id)
        )
    )
    joined = _db_time(s, now)
    added = 0
    conn = s.connection()
    if created_above is not None and conn.dialect.name == "sqlite":
        # SQLite's writers take turns, so every account above the mark is this import's and
        # none is enrolled yet: one statement, without a row through Python.
        added = conn.exec_driver_sql(
            "INSERT INTO chatbot_participants (chatbot_id, user_id, joined_at) "
            "SELECT ?, id, ? FROM users WHERE id > ?",
            (chatbot_id, joined, created_above),
        ).rowcount
        user_ids = [u for u in user_ids if u <= created_above]
    fresh = list(dict.fromkeys(u for u in user_ids if u not in enrolled))
    _insert_many(
        s,
        "chatbot_participants",
        ("chatbot_id", "user_id", "joined_at"),
        ((chatbot_id, uid, joined) for uid in fresh),
    )
    added += len(fresh)
    if added:
        s.execute(
            update(Chatbot)
            .where(Chatbot.id == chatbot_id)
            .values(
                participant_count=Chatbot.participant_count + added,
                updated_at=Chatbot.updated_at,
            )
        )
    return added


_GUEST_FIELDS = (
    "name",
    "title",
    "organization",
    "description",
    "email",
    "is_speaker",
    "is_moderator",
)


def _write_each(
    work: _Work,
    progress: Progress | None,
    cancel: threading.Event | None,
    create: Callable[[dict[str, Any]], int],
    update: Callable[[int, dict[str, Any]], object],
) -> WriteResult:
    """Write the rows to create or update one by one through the services (guests, agenda,
    FAQ: hundreds of rows, each with the services' own checks), ticking after each."""
    todo = [o for o in work.outcomes if o.action in ("create", "update")]
    ticker = _Ticker(len(todo), progress, cancel)
    for o in todo:
        v = work.values[o.index]
        if o.action == "create":
            o.target_id = create(v)
        else:
            assert o.target_id is not None
            update(o.target_id, v)
        ticker.step(1)
    return 0, []


def _write_guests(
    s: Session, actor: Actor, work: _Work, progress: Progress | None, cancel: threading.Event | None
) -> WriteResult:
    assert work.chatbot is not None
    bot = work.chatbot.id

    def photo(gid: int, v: dict[str, Any]) -> int:
        if "photo_path" in v:
            guest_service.set_photo(s, actor, gid, Path(v["photo_path"]).read_bytes())
        return gid

    def data(v: dict[str, Any]) -> dict[str, Any]:
        return {k: v[k] for k in _GUEST_FIELDS if k in v}

    return _write_each(
        work,
        progress,
        cancel,
        lambda v: photo(guest_service.create(s, actor, bot, **data(v)).id, v),
        lambda gid, v: photo(guest_service.update_guest(s, actor, gid, **data(v)).id, v),
    )


def _write_agenda(
    s: Session, actor: Actor, work: _Work, progress: Progress | None, cancel: threading.Event | None
) -> WriteResult:
    assert work.chatbot is not None
    bot = work.chatbot.id

    def data(v: dict[str, Any]) -> dict[str, Any]:
        fields_ = {"title": v["title"], "starts_at": v["start"], "ends_at": v["end"]}
        optional = ("location", "track", "description", "speaker_ids")
        return fields_ | {k: v[k] for k in optional if k in v}

    return _write_each(
        work,
        progress,
        cancel,
        lambda v: agenda_service.create(s, actor, bot, **data(v)).id,
        lambda iid, v: agenda_service.update_item(s, actor, iid, **data(v)),
    )


def _write_faq(
    s: Session, actor: Actor, work: _Work, progress: Progress | None, cancel: threading.Event | None
) -> WriteResult:
    assert work.chatbot is not None
    bot = work.chatbot.id
    return _write_each(
        work,
        progress,
        cancel,
        lambda v: faq_service.create(s, actor, bot, question=v["question"], answer=v["answer"]).id,
        lambda eid, v: faq_service.update_entry(s, actor, eid, answer=v["answer"]),
    )


def participant_total(s: Session, chatbot_id: int) -> int:
    """How many enrolments an assistant really has (for checking its counter)."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(ChatbotParticipant)
            .where(ChatbotParticipant.chatbot_id == chatbot_id)
        )
        or 0
    )


__all__ = [
    "Credential",
    "ImportPlan",
    "ImportRequest",
    "ImportResult",
    "Problem",
    "RowOutcome",
    "apply",
    "new_badge_codes",
    "participant_total",
    "plan",
    "unique_username",
    "username_base",
]
