"""Which column holds which field: header synonyms, fuzzy matching, explicit mappings.

Each kind of import declares its fields (:data:`FIELDS`) with the headers registration systems
and program committees use for them. :func:`suggest_mapping` matches a sheet's headers exactly
(after folding case, accents and punctuation) and then fuzzily (rapidfuzz, for "E-mail Adress"
or "Organisation name"); the organizer confirms or changes the result, or gives
``FIELD=HEADER`` pairs on the command line (:func:`parse_mapping`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from shared.errors import ValidationError
from shared.spreadsheets.reader import Cell

Kind = Literal["attendees", "guests", "agenda", "faq"]
KINDS: tuple[Kind, ...] = ("attendees", "guests", "agenda", "faq")
FUZZY_CUTOFF = 86


@dataclass(frozen=True)
class Field:
    """One importable field: its name, label, whether it is required, and header synonyms."""

    name: str
    label: str
    required: bool = False
    synonyms: tuple[str, ...] = ()
    help: str = ""


_NAME = (
    "name",
    "full name",
    "fullname",
    "attendee",
    "attendee name",
    "participant",
    "participant name",
    "display name",
    "contact name",
    "nom",
    "nom complet",
    "nome",
)
_FIRST = ("first name", "firstname", "given name", "forename", "first", "prenom", "vorname")
_LAST = ("last name", "lastname", "surname", "family name", "last", "nom de famille", "nachname")
_EMAIL = (
    "email",
    "e-mail",
    "email address",
    "e-mail address",
    "mail",
    "courriel",
    "work email",
    "business email",
    "contact email",
    "email id",
)
_ORG = (
    "organization",
    "organisation",
    "company",
    "company name",
    "employer",
    "affiliation",
    "institution",
    "entreprise",
    "societe",
    "firma",
)
_TITLE = ("title", "job title", "position", "role title", "function", "poste", "fonction")

FIELDS: dict[Kind, tuple[Field, ...]] = {
    "attendees": (
        Field("name", "Name", False, _NAME, "Full name (or First name + Last name)."),
        Field("first_name", "First name", False, _FIRST),
        Field("last_name", "Last name", False, _LAST),
        Field(
            "email",
            "Email",
            True,
            _EMAIL,
            "Unique: an existing account with this email is updated or skipped.",
        ),
        Field(
            "username",
            "Username",
            False,
            ("username", "user name", "login", "user id", "userid"),
            "Generated from the name when blank.",
        ),
    ),
    "guests": (
        Field("name", "Name", False, _NAME + ("speaker", "speaker name", "guest", "guest name")),
        Field("first_name", "First name", False, _FIRST),
        Field("last_name", "Last name", False, _LAST),
        Field("title", "Title", False, _TITLE),
        Field("organization", "Organization", False, _ORG),
        Field(
            "description",
            "Bio",
            False,
            ("bio", "biography", "description", "about", "profile", "short bio", "speaker bio"),
        ),
        Field("email", "Email", False, _EMAIL),
        Field(
            "role",
            "Role",
            False,
            ("role", "type", "guest type", "speaker or moderator"),
            "speaker, moderator, or both (default: speaker).",
        ),
        Field(
            "photo",
            "Photo file",
            False,
            ("photo", "photo file", "picture", "image", "headshot", "portrait", "photo filename"),
            "File name of a PNG, JPEG or WebP image in the photos folder.",
        ),
    ),
    "agenda": (
        Field(
            "title",
            "Title",
            True,
            (
                "title",
                "session",
                "session title",
                "talk",
                "talk title",
                "topic",
                "name",
                "activity",
            ),
        ),
        Field("date", "Date", False, ("date", "day"), "When Start and End hold times only."),
        Field(
            "start",
            "Start",
            True,
            ("start", "starts", "start time", "from", "begin", "starts at", "start date", "time"),
        ),
        Field(
            "end",
            "End",
            True,
            ("end", "ends", "end time", "to", "until", "finish", "ends at", "end date"),
        ),
        Field(
            "location",
            "Room",
            False,
            ("room", "location", "venue", "hall", "place", "stage", "salle"),
        ),
        Field("track", "Track", False, ("track", "stream", "theme", "category")),
        Field(
            "description", "Description", False, ("description", "abstract", "summary", "details")
        ),
        Field(
            "speakers",
            "Speakers",
            False,
            ("speakers", "speaker", "presenters", "presenter", "panelists", "moderator", "guests"),
            "Guest names separated by ';' or ',' (they must be guests of the event).",
        ),
    ),
    "faq": (
        Field("question", "Question", True, ("question", "questions", "q", "faq", "query")),
        Field("answer", "Answer", True, ("answer", "answers", "a", "response", "reply")),
    ),
}


def fields(kind: str) -> tuple[Field, ...]:
    """The fields of a kind of import; refuses an unknown kind."""
    if kind not in FIELDS:
        raise ValidationError(
            f"Unknown kind of import {kind!r}: choose {', '.join(KINDS)}.", "kind"
        )
    return FIELDS[kind]


def normalize_header(text: str) -> str:
    """Folded for matching: no accents, lower-case, words of letters and digits only."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("e-mail", "email")
    return " ".join(re.findall(r"[a-z0-9]+", folded))


@dataclass(frozen=True)
class ColumnMapping:
    """Field name -> column index in the table's headers (fields without a column are absent)."""

    kind: str
    columns: Mapping[str, int]

    def column(self, field: str) -> int | None:
        return self.columns.get(field)

    def describe(self, headers: Sequence[str]) -> dict[str, str]:
        """Field -> header, for showing the mapping."""
        return {f: headers[i] for f, i in self.columns.items()}


def _synonyms(field: Field) -> set[str]:
    return {normalize_header(s) for s in (*field.synonyms, field.name, field.label)}


def suggest_mapping(kind: str, headers: Sequence[str]) -> ColumnMapping:
    """The best guess: exact synonyms first, then fuzzy matches; each column used once."""
    kind_fields = fields(kind)
    normalized = [normalize_header(h) for h in headers]
    taken: set[int] = set()
    columns: dict[str, int] = {}
    for field in kind_fields:
        names = _synonyms(field)
        for i, h in enumerate(normalized):
            if i not in taken and h in names:
                columns[field.name] = i
                taken.add(i)
                break
    for field in kind_fields:
        if field.name in columns:
            continue
        best, best_score = -1, 0.0
        for i, h in enumerate(normalized):
            if i in taken or not h:
                continue
            for syn in _synonyms(field):
                if len(syn) < 4:  # "q", "to", "a": exact matches only
                    continue
                score = fuzz.ratio(h, syn)
                if score > best_score:
                    best, best_score = i, score
        if best >= 0 and best_score >= FUZZY_CUTOFF:
            columns[field.name] = best
            taken.add(best)
    return ColumnMapping(kind, columns)


def header_score(kind: str) -> Callable[[Sequence[Cell]], int]:
    """A function scoring a row as the header row of ``kind``: how many cells name a field."""
    names: set[str] = set()
    for field in fields(kind):
        names |= _synonyms(field)

    def score(row: Sequence[Cell]) -> int:
        return sum(1 for c in row if isinstance(c, str) and normalize_header(c) in names)

    return score


def parse_mapping(
    kind: str, headers: Sequence[str], pairs: Iterable[str], base: ColumnMapping | None = None
) -> ColumnMapping:
    """Apply ``FIELD=HEADER`` pairs (header matched case-insensitively; ``FIELD=`` unmaps it)
    over ``base`` (the suggestion)."""
    known = {f.name for f in fields(kind)}
    columns = dict(base.columns) if base is not None else {}
    folded = [normalize_header(h) for h in headers]
    for pair in pairs:
        field, sep, header = pair.partition("=")
        field = field.strip().lower().replace("-", "_")
        if not sep or field not in known:
            raise ValidationError(
                f"Bad mapping {pair!r}: write FIELD=HEADER with FIELD one of "
                f"{', '.join(sorted(known))}.",
                "map",
            )
        if not header.strip():
            columns.pop(field, None)
            continue
        wanted = normalize_header(header)
        matches = [i for i, h in enumerate(headers) if h.strip().lower() == header.strip().lower()]
        if not matches:
            matches = [i for i, h in enumerate(folded) if h == wanted]
        if not matches:
            raise ValidationError(
                f"No column {header!r} in the file; its columns are: {', '.join(headers)}.",
                "map",
            )
        for other, index in list(columns.items()):
            if index == matches[0]:
                del columns[other]
        columns[field] = matches[0]
    return ColumnMapping(kind, columns)


def check_mapping(mapping: ColumnMapping, headers: Sequence[str]) -> None:
    """Refuse a mapping missing a required field (the whole file would be rejected)."""
    present = set(mapping.columns)
    missing = []
    for field in fields(mapping.kind):
        if field.required and field.name not in present:
            missing.append(field.label)
    if (
        mapping.kind in ("attendees", "guests")
        and "name" not in present
        and not ({"first_name", "last_name"} & present)
    ):
        missing.append("Name (or First name and Last name)")
    if missing:
        raise ValidationError(
            f"No column for {', '.join(missing)}. The file's columns are: "
            f"{', '.join(headers)}. Rename a header, or map it (--map FIELD=HEADER).",
            "mapping",
        )


__all__ = [
    "FIELDS",
    "KINDS",
    "ColumnMapping",
    "Field",
    "Kind",
    "check_mapping",
    "fields",
    "header_score",
    "normalize_header",
    "parse_mapping",
    "suggest_mapping",
]
