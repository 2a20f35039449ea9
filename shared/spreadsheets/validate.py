"""Per-row checks of imported cells, with the same rules (and messages) as the services.

Each ``clean_*`` function takes one row as ``{field: cell}`` and returns the cleaned values and
the problems found, per field. A blank cell gives no value at all, so an update keeps what the
database holds; whether a field is required depends on creating or updating, which the importer
knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from shared.errors import ValidationError
from shared.services import agenda as agenda_service
from shared.services import faq as faq_service
from shared.services import guests as guest_service
from shared.spreadsheets.reader import Cell
from shared.validation import EMAIL_RE, clean_email, clean_name, clean_text, clean_username

Row = dict[str, Cell]


@dataclass(frozen=True)
class FieldProblem:
    """A problem with one field of a row."""

    field: str
    message: str


Cleaned = tuple[dict[str, Any], list[FieldProblem]]


def _text(cell: Cell) -> str | None:
    """A cell as text for a text field (dates written as ISO text); None when blank."""
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="minutes")
    if isinstance(cell, date | time):
        return cell.isoformat()
    return cell


def _run(
    values: dict[str, Any], problems: list[FieldProblem], field: str, fn: Callable[[], Any]
) -> None:
    try:
        values[field] = fn()
    except ValidationError as exc:
        problems.append(FieldProblem(field, exc.message))


def full_name(row: Row) -> str | None:
    """The Name cell, or First name + Last name."""
    name = _text(row.get("name"))
    if name:
        return name
    parts = [p for p in (_text(row.get("first_name")), _text(row.get("last_name"))) if p]
    return " ".join(parts) if parts else None


def _name_field(row: Row) -> str:
    if row.get("name") is not None or (
        row.get("first_name") is None and row.get("last_name") is None
    ):
        return "name"
    return "first_name" if row.get("first_name") is not None else "last_name"


def _fast_name(text: str) -> str:
    """clean_name's result for the common case (printable text: no control character can be
    in it), without its per-character scan; anything else goes through clean_name itself."""
    if text.isprintable():
        stripped = text.strip()
        if 0 < len(stripped) <= 120:
            return stripped
    return clean_name(text)


def _fast_email(cell: Cell) -> str:
    """clean_email's result for the common case, else clean_email itself (for its message)."""
    if isinstance(cell, str) and cell.isprintable():
        text = cell.strip().lower()
        if 0 < len(text) <= 254 and EMAIL_RE.match(text):
            return text
    return clean_email(_text(cell))


def clean_attendee(row: Row) -> Cleaned:
    """Name (or first + last), email (required) and username of an attendee row."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    name = full_name(row)
    if name is not None:
        _run(values, problems, _name_field(row), lambda: _fast_name(name))
        if "first_name" in values or "last_name" in values:
            values["name"] = values.pop("first_name", None) or values.pop("last_name")
    _run(values, problems, "email", lambda: _fast_email(row.get("email")))
    username = _text(row.get("username"))
    if username is not None:
        _run(values, problems, "username", lambda: clean_username(username))
    return values, problems


def attendee_fast_path(
    columns: Mapping[str, int],
) -> Callable[[Sequence[Cell]], dict[str, Any] | None]:
    """A per-row function for the common attendee row (text name or first + last name, a
    well-formed email, no username cell): the same values as :func:`clean_attendee`, without
    its per-field calls. It returns None for any other row, which then goes through
    :func:`clean_attendee` (for its messages)."""
    n, f, la = columns.get("name"), columns.get("first_name"), columns.get("last_name")
    e, u = columns.get("email"), columns.get("username")
    match = EMAIL_RE.match
    if e is None:
        return lambda row: None

    def fast(row: Sequence[Cell]) -> dict[str, Any] | None:
        if u is not None and row[u] is not None:
            return None
        email = row[e]
        if type(email) is not str or not email.isprintable():
            return None
        email = email.strip().lower()
        if not 0 < len(email) <= 254 or not match(email):
            return None
        name = row[n] if n is not None else None
        if name is None:
            first = row[f] if f is not None else None
            last = row[la] if la is not None else None
            if first is None:
                name = last
            elif last is None:
                name = first
            elif type(first) is str and type(last) is str:
                name = f"{first} {last}"
            else:
                return None
            if name is None:
                return {"email": email}
        if type(name) is not str or not name.isprintable():
            return None
        name = name.strip()
        if not 0 < len(name) <= 120:
            return None
        return {"name": name, "email": email}

    return fast


_YES = {"yes", "y", "true", "1", "x", "oui", "ja", "si"}


def clean_guest(row: Row) -> Cleaned:
    """A guest row: the guests service's rules, the role as speaker/moderator, a photo name."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    name = full_name(row)
    if name is not None:
        _run(values, problems, _name_field(row), lambda: clean_name(name))
        if "first_name" in values or "last_name" in values:
            values["name"] = values.pop("first_name", None) or values.pop("last_name")
    limits = {"title": ("Title", 200), "organization": ("Organization", 200)}
    for field, (label, size) in limits.items():
        text = _text(row.get(field))
        if text is not None:
            _run(
                values,
                problems,
                field,
                lambda t=text, f=field, lab=label, n=size: clean_text(  # type: ignore[misc]
                    t, f, lab, max_length=n, required=False
                ),
            )
    bio = _text(row.get("description"))
    if bio is not None:
        _run(
            values,
            problems,
            "description",
            lambda: clean_text(
                bio,
                "description",
                "Bio",
                max_length=guest_service.DESCRIPTION_MAX,
                required=False,
                multiline=True,
            ),
        )
    email = _text(row.get("email"))
    if email is not None:
        _run(values, problems, "email", lambda: clean_email(email, required=False) or None)
    role = _text(row.get("role"))
    if role is not None:
        folded = role.lower()
        speaker = "speak" in folded or "both" in folded or folded in _YES
        moderator = "moder" in folded or "both" in folded or "host" in folded
        if not (speaker or moderator):
            problems.append(
                FieldProblem(
                    "role", f"Role {role!r} is not understood: write speaker, moderator or both."
                )
            )
        else:
            values["is_speaker"] = speaker
            values["is_moderator"] = moderator
    photo = _text(row.get("photo"))
    if photo is not None:
        _run(
            values,
            problems,
            "photo",
            lambda: clean_text(photo, "photo", "Photo file", max_length=255, required=False),
        )
    return values, problems


# Dates and times -------------------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january", "janv", "janvier"),
            ("feb", "february", "fev", "fevr", "fevrier"),
            ("mar", "march", "mars"),
            ("apr", "april", "avr", "avril"),
            ("may", "mai"),
            ("jun", "june", "juin"),
            ("jul", "july", "juil", "juillet"),
            ("aug", "august", "aout"),
            ("sep", "sept", "september", "septembre"),
            ("oct", "october", "octobre"),
            ("nov", "november", "novembre"),
            ("dec", "december", "decembre"),
        ]
    )
    for m in names
}
_TIME = re.compile(
    r"^(\d{1,2})\s*(?:[:h.]\s*(\d{2}))?(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE
)


def parse_time(text: str) -> time | None:
    """'14:30', '2:30 PM', '9h30', '14.30', '9 am'; None when it is not a time."""
    m = _TIME.match(text.strip())
    if not m:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    suffix = (m.group(4) or "").lower().replace(".", "")
    if m.group(2) is None and not suffix:
        return None  # a bare number is not a time
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_date(text: str) -> date | None:
    """'2026-03-12', '12/03/2026' (day first unless that cannot be), '12.03.2026',
    '12 March 2026', 'March 12, 2026', 'Thu 12 Mar 2026'; None otherwise."""
    t = text.strip().lower().replace(",", " ")
    try:
        return date.fromisoformat(t)
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})", t)
    try:
        if m:
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            y = y + 2000 if y < 100 else y
            day, month = (b, a) if b > 12 and a <= 12 else (a, b)
            return date(y, month, day)
        words = [w.strip(".") for w in t.split()]
        words = [w for w in words if w and w not in _WEEKDAYS]
        if len(words) == 3:
            nums = [w for w in words if w.isdigit()]
            names = [w for w in words if not w.isdigit()]
            if len(nums) == 2 and len(names) == 1 and names[0] in _MONTHS:
                day_s, year_s = (nums[0], nums[1]) if len(nums[1]) == 4 else (nums[1], nums[0])
                return date(int(year_s), _MONTHS[names[0]], int(day_s))
    except ValueError:
        return None
    return None


_WEEKDAYS = {
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}


def parse_datetime(cell: Cell, day: date | None) -> datetime | None:
    """A naive (venue wall-clock) datetime from a date-time cell, or a time cell with ``day``."""
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=None) if cell.tzinfo is None else cell
    if isinstance(cell, time):
        return datetime.combine(day, cell) if day is not None else None
    if isinstance(cell, date):
        return None  # a day without a time
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("T", " ") if "T" in text else text)
        if len(text) > 10:
            return parsed
    except ValueError:
        pass
    only_time = parse_time(text)
    if only_time is not None:
        return datetime.combine(day, only_time) if day is not None else None
    # "12/03/2026 14:30", "12 March 2026 2:30 PM": the date, then a time.
    m = re.match(
        r"^(.*?)[ T]+(\d{1,2}\s*[:h.]\s*\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)$", text, re.IGNORECASE
    )
    if m:
        d, t = parse_date(m.group(1)), parse_time(m.group(2))
        if d is not None and t is not None:
            return datetime.combine(d, t)
    return None


def _day(cell: Cell) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, str):
        return parse_date(cell)
    return None


def split_names(text: str) -> list[str]:
    """Speaker names separated by ';', ',', '/', ' & ' or new lines."""
    parts = re.split(r"[;,/\n]| & | and ", text)
    return [" ".join(p.split()) for p in parts if p.strip()]


def clean_agenda(row: Row) -> Cleaned:
    """An agenda row: title, start and end (date-times, or times with a Date column), room,
    track, description, and speaker names (matched to guests by the importer)."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    _run(
        values,
        problems,
        "title",
        lambda: clean_text(
            _text(row.get("title")), "title", "Title", max_length=agenda_service.TITLE_MAX
        ),
    )
    day: date | None = None
    if row.get("date") is not None:
        day = _day(row.get("date"))
        if day is None:
            problems.append(
                FieldProblem(
                    "date",
                    f"{_text(row.get('date'))!r} is not a date (write 2026-03-12 or 12/03/2026).",
                )
            )
    for field, label in (("start", "Start"), ("end", "End")):
        cell = row.get(field)
        if cell is None:
            problems.append(FieldProblem(field, f"{label} is required."))
            continue
        when = parse_datetime(cell, day)
        if when is None:
            hint = (
                " (or add a Date column)"
                if isinstance(cell, time) or (isinstance(cell, str) and parse_time(cell))
                else ""
            )
            problems.append(
                FieldProblem(
                    field,
                    f"{label} {_text(cell)!r} is not a date and time such as "
                    f"2026-03-12 14:30{hint}.",
                )
            )
            continue
        _run(
            values,
            problems,
            field,
            lambda w=when, f=field, lab=label: (  # type: ignore[misc]
                agenda_service.as_utc(w, f, lab)
            ),
        )
    if "start" in values and "end" in values and values["end"] < values["start"]:
        problems.append(FieldProblem("end", "The end cannot be before the start."))
    for field, label in (("location", "Room"), ("track", "Track")):
        text = _text(row.get(field))
        if text is not None:
            _run(
                values,
                problems,
                field,
                lambda t=text, f=field, lab=label: (  # type: ignore[misc]
                    clean_text(t, f, lab, max_length=agenda_service.PLACE_MAX, required=False)
                ),
            )
    desc = _text(row.get("description"))
    if desc is not None:
        _run(
            values,
            problems,
            "description",
            lambda: clean_text(
                desc,
                "description",
                "Description",
                max_length=agenda_service.DESCRIPTION_MAX,
                required=False,
                multiline=True,
            ),
        )
    speakers = _text(row.get("speakers"))
    if speakers is not None:
        names = split_names(speakers)
        if len(names) > agenda_service.SPEAKERS_MAX:
            problems.append(FieldProblem("speakers", "Too many speakers."))
        else:
            values["speakers"] = names
    return values, problems


def clean_faq(row: Row) -> Cleaned:
    """A FAQ row: question and answer, both required."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    _run(
        values,
        problems,
        "question",
        lambda: clean_text(
            _text(row.get("question")), "question", "Question", max_length=faq_service.QUESTION_MAX
        ),
    )
    _run(
        values,
        problems,
        "answer",
        lambda: clean_text(
            _text(row.get("answer")),
            "answer",
            "Answer",
            max_length=faq_service.ANSWER_MAX,
            multiline=True,
        ),
    )
    return values, problems


CLEANERS: dict[str, Callable[[Row], Cleaned]] = {
    "attendees": clean_attendee,
    "guests": clean_guest,
    "agenda": clean_agenda,
    "faq": clean_faq,
}

__all__ = [
    "CLEANERS",
    "FieldProblem",
    "clean_agenda",
    "clean_attendee",
    "clean_faq",
    "clean_guest",
    "parse_date",
    "parse_datetime",
    "parse_time",
    "split_names",
]
