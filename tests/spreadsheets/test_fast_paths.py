"""The import's fast paths give exactly what the plain implementations give.

Every shortcut taken for speed at 100,000 rows (bench/imports.py) is held here to a
straightforward version of the same rule, on random input.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.services.auth import badge_hash
from shared.spreadsheets.importer import (
    badge_hasher,
    new_badge_codes,
    username_base,
    username_bases,
)
from shared.spreadsheets.reader import Cell
from shared.spreadsheets.validate import attendee_fast_path, clean_attendee
from shared.validation import USERNAME_RE

names = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["Zoë O'Brien", "Ada  Lovelace", "J.-P. Sartre", "x", "__", "Ωμέγα", "ﬁne", "a\u0301b"]
    ),
)


def reference_username_base(name: str, email: str) -> str:
    """The username rule written plainly, with regular expressions."""
    for source in (name, email.split("@")[0]):
        plain = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode().lower()
        words = [re.sub(r"[^a-z0-9]", "", w) for w in re.split(r"[\s._-]+", plain)]
        stem = ".".join(w for w in words if w)[:28].strip(".")
        if len(stem) >= 3 and USERNAME_RE.match(stem):
            return stem
    return "attendee"


@settings(max_examples=300, deadline=None)
@given(name=names, email=st.emails())
def test_username_base_is_the_plain_rule(name: str, email: str) -> None:
    assert username_base(name, email) == reference_username_base(name, email)


@settings(max_examples=200, deadline=None)
@given(people=st.lists(st.tuples(names, st.emails()), max_size=20))
def test_username_bases_in_one_go_are_one_by_one(people: list[tuple[str, str]]) -> None:
    assert username_bases(people) == [username_base(n, e) for n, e in people]


@settings(max_examples=100, deadline=None)
@given(key=st.binary(min_size=1, max_size=200), n=st.integers(1, 20))
def test_badge_hasher_is_hmac_sha256(key: bytes, n: int) -> None:
    hasher = badge_hasher(key)
    for code in new_badge_codes(n):
        expected = hmac.new(key, code.replace("-", "").encode(), hashlib.sha256).hexdigest()
        assert hasher(code) == expected == badge_hash(code, key)


def test_badge_code_characters_are_uniform() -> None:
    """20 characters from 32 a code, each equally likely: 100 random bits."""
    counts = Counter("".join(new_badge_codes(20_000)).replace("-", ""))
    assert len(counts) == 32
    expected = 20 * 20_000 / 32
    assert all(abs(c - expected) < 0.06 * expected for c in counts.values())


cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.from_regex(r"[A-Za-z.]{1,8}@[a-z]{1,8}\.(org|com) ?", fullmatch=True),
    st.sampled_from(["Ada", " Lovelace ", "", " ", "x" * 121, "a\tb", "\x00", "é@x.org"]),
    st.dates(),
)
LAYOUTS: list[dict[str, int]] = [
    {"name": 0, "email": 1},
    {"first_name": 0, "last_name": 2, "email": 1},
    {"name": 0, "first_name": 2, "last_name": 3, "email": 1},
    {"name": 0, "email": 1, "username": 3},
    {"first_name": 0, "email": 1},
    {"name": 0},
]


@settings(max_examples=400, deadline=None)
@given(row=st.tuples(cells, cells, cells, cells), layout=st.sampled_from(LAYOUTS))
def test_attendee_fast_path_agrees_with_the_full_checks(
    row: tuple[Cell, ...], layout: dict[str, int]
) -> None:
    fast = attendee_fast_path(layout)(row)
    values, problems = clean_attendee({f: row[i] for f, i in layout.items()})
    if fast is not None:
        assert problems == []
        assert fast == values


def test_attendee_fast_path_takes_the_common_rows() -> None:
    fast = attendee_fast_path({"first_name": 0, "last_name": 1, "email": 2})
    row: tuple[Any, ...] = ("Ada", "Lovelace", "Ada@Example.org")
    assert fast(row) == {"name": "Ada Lovelace", "email": "ada@example.org"}
    assert fast(("Ada", None, "a@b")) is None  # left to clean_attendee, for its message
