"""Reading: the messy corpus in every format, header detection, mapping, refusals."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest

from shared.errors import ValidationError
from shared.spreadsheets import reader
from shared.spreadsheets.mapping import (
    check_mapping,
    header_score,
    parse_mapping,
    suggest_mapping,
)
from shared.spreadsheets.reader import UnusableFile, cell_value, read_table
from shared.spreadsheets.validate import parse_date, parse_datetime, parse_time
from tests.spreadsheets.corpus import (
    MESSY_HEADERS,
    MESSY_ROW_NUMBERS,
    MESSY_ROWS,
    XLS_SKIP,
    write_csv,
    write_ods,
    write_xlsx,
)


def _as_csv_rows() -> list[list[object]]:
    return [[int(v) if isinstance(v, float) else v for v in row] for row in MESSY_ROWS]


def _make(fmt: str, tmp_path: Path) -> Path:
    if fmt == "xlsx":
        return write_xlsx(tmp_path / "list.xlsx", MESSY_ROWS, merge="A1:F1")
    if fmt == "xlsm":
        return write_xlsx(tmp_path / "list.xlsm", MESSY_ROWS)
    if fmt == "ods":
        return write_ods(tmp_path / "list.ods", MESSY_ROWS)
    if fmt == "csv-utf8-bom":
        return write_csv(tmp_path / "list.csv", _as_csv_rows(), bom=True)
    if fmt == "csv-utf8":
        return write_csv(tmp_path / "list.csv", _as_csv_rows())
    if fmt == "csv-cp1252-semicolon":
        return write_csv(tmp_path / "list.csv", _as_csv_rows(), encoding="cp1252", delimiter=";")
    if fmt == "csv-tab":
        return write_csv(tmp_path / "list.csv", _as_csv_rows(), delimiter="\t")
    raise AssertionError(fmt)


FORMATS = ["xlsx", "xlsm", "ods", "csv-utf8-bom", "csv-utf8", "csv-cp1252-semicolon", "csv-tab"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_messy_attendee_list_reads_the_same_in_every_format(fmt: str, tmp_path: Path) -> None:
    table = read_table(_make(fmt, tmp_path), header_score=header_score("attendees"))

    assert table.headers == MESSY_HEADERS
    assert table.header_row == 3
    assert table.row_numbers == MESSY_ROW_NUMBERS
    assert table.letters == ("A", "B", "D", "E", "F")  # the blank column C is dropped
    first = table.rows[0]
    assert first[:4] == ("Ada Lovelace", "ADA@example.org", "Analytical", "1001")
    # Phone-like numbers stored as floats come out without ".0" (or an exponent).
    assert table.rows[-1][0] == "Zoë O'Brien"
    assert table.rows[-1][2] == "Café Ltd"
    assert table.rows[-1][3] == "4412345678"
    # Row 9's blank name cell is None, not "".
    assert table.rows[4][0] is None
    expected_date = date(2026, 1, 5) if not fmt.startswith("csv") else "2026-01-05"
    assert first[4] == expected_date


def test_xls_is_read_through_calamine() -> None:
    pytest.skip(XLS_SKIP)


def test_header_found_below_titles_without_a_kind(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [["Speakers for the programme"], [], ["Name", "Bio", "Photo"], ["Grace", "Hi", "g.png"]],
    )
    table = read_table(path)
    assert table.header_row == 3
    assert table.headers == ("Name", "Bio", "Photo")
    assert table.rows == [("Grace", "Hi", "g.png")]


def test_header_row_offset_and_used_range_not_at_a1(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx", [[None, "Email", "Name"], [None, "a@b.org", "A B"]], start_row=5
    )
    table = read_table(path, header_score=header_score("attendees"))
    assert table.header_row == 5
    assert table.row_numbers == [6]
    assert table.letters == ("B", "C")


def test_duplicate_and_blank_headers_get_distinct_names(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [["Email", "email", ""], ["a@b.org", "c@d.org", "x"]])
    table = read_table(path)
    assert table.headers == ("Email", "email (2)", "Column C")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1001.0, "1001"),
        (4412345678.0, "4412345678"),
        (3.5, "3.5"),
        ("  padded  ", "padded"),
        ("   ", None),
        ("", None),
        (True, "TRUE"),
        (7, "7"),
        (datetime(2026, 3, 12, 9, 30), datetime(2026, 3, 12, 9, 30)),
        (float("nan"), None),
    ],
)
def test_cell_values(raw: object, expected: object) -> None:
    assert cell_value(raw) == expected


# Mapping ---------------------------------------------------------------------------------------


def test_synonyms_and_fuzzy_headers() -> None:
    headers = ["E-mail Address", "First name", "Last Name", "Organisation", "Job title"]
    mapping = suggest_mapping("attendees", headers)
    assert mapping.describe(headers) == {
        "email": "E-mail Address",
        "first_name": "First name",
        "last_name": "Last Name",
    }
    guests = suggest_mapping("guests", ["Full name", "Company", "Job title", "Biography"])
    assert guests.columns == {"name": 0, "organization": 1, "title": 2, "description": 3}
    typo = suggest_mapping("attendees", ["Emial Adress", "Ful name"])
    assert typo.columns == {"email": 0, "name": 1}


def test_explicit_mapping_overrides_and_errors() -> None:
    headers = ["Contact", "Mail of the person"]
    base = suggest_mapping("attendees", headers)
    assert "email" not in base.columns
    with pytest.raises(ValidationError, match="No column for Email"):
        check_mapping(base, headers)
    mapping = parse_mapping(
        "attendees", headers, ["email=mail of the person", "name=Contact"], base
    )
    assert mapping.columns == {"email": 1, "name": 0}
    check_mapping(mapping, headers)
    with pytest.raises(ValidationError, match="No column 'Nope'"):
        parse_mapping("attendees", headers, ["email=Nope"])
    with pytest.raises(ValidationError, match="Bad mapping"):
        parse_mapping("attendees", headers, ["colour=Contact"])


# Dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-12", date(2026, 3, 12)),
        ("12/03/2026", date(2026, 3, 12)),
        ("03/25/2026", date(2026, 3, 25)),
        ("12.03.2026", date(2026, 3, 12)),
        ("12 March 2026", date(2026, 3, 12)),
        ("March 12, 2026", date(2026, 3, 12)),
        ("Thu 12 Mar 2026", date(2026, 3, 12)),
        ("31/02/2026", None),
        ("soon", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_parse_times_and_datetimes() -> None:
    assert parse_time("14:30") == time(14, 30)
    assert parse_time("2:30 PM") == time(14, 30)
    assert parse_time("9h30") == time(9, 30)
    assert parse_time("25:00") is None
    assert parse_time("42") is None
    day = date(2026, 3, 12)
    assert parse_datetime("2026-03-12 14:30", None) == datetime(2026, 3, 12, 14, 30)
    assert parse_datetime("12/03/2026 14:30", None) == datetime(2026, 3, 12, 14, 30)
    assert parse_datetime("12 March 2026 2:30 PM", None) == datetime(2026, 3, 12, 14, 30)
    assert parse_datetime(time(9, 0), day) == datetime(2026, 3, 12, 9, 0)
    assert parse_datetime("09:00", None) is None


# Refusals --------------------------------------------------------------------------------------


def test_refuses_a_file_over_the_size_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "big.csv", [["Email"], *[[f"u{i}@x.org"] for i in range(200)]])
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 1000)
    with pytest.raises(UnusableFile, match=r"big\.csv is .* at most"):
        read_table(path)


def test_refuses_a_zip_bomb_before_expanding_it(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    assert path.stat().st_size < 100_000
    with pytest.raises(UnusableFile, match="zip bomb"):
        read_table(path)


def test_refuses_archives_expanding_past_the_total_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["Email"], ["a@b.org"]])
    monkeypatch.setattr(reader, "MAX_EXPANDED_BYTES", 2000)
    with pytest.raises(UnusableFile, match="expand"):
        read_table(path)


def test_refuses_too_many_rows_and_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_ROWS", 50)
    monkeypatch.setattr(reader, "HEADER_SEARCH_ROWS", 5)
    rows = write_xlsx(tmp_path / "rows.xlsx", [["Email"], *[[f"u{i}@x.org"] for i in range(80)]])
    with pytest.raises(UnusableFile, match="81 rows; at most 50"):
        read_table(rows)
    csv_rows = write_csv(tmp_path / "rows.csv", [["Email"], *[[f"u{i}@x.org"] for i in range(80)]])
    with pytest.raises(UnusableFile, match="at most 50"):
        read_table(csv_rows)
    monkeypatch.setattr(reader, "MAX_COLUMNS", 10)
    wide = write_xlsx(tmp_path / "wide.xlsx", [[f"c{i}" for i in range(30)], ["x"] * 30])
    with pytest.raises(UnusableFile, match="30 columns; at most 10"):
        read_table(wide)
    wide_ods = write_ods(tmp_path / "wide.ods", [[f"c{i}" for i in range(30)], ["x"] * 30])
    with pytest.raises(UnusableFile, match="30 columns"):
        read_table(wide_ods)


def test_refuses_password_protected_files(tmp_path: Path) -> None:
    # An encrypted .xlsx is an OLE compound file holding an "EncryptedPackage" stream.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    directory = "EncryptionInfo".encode("utf-16-le") + b"\0" * 50
    directory += "EncryptedPackage".encode("utf-16-le")
    path = tmp_path / "secret.xlsx"
    path.write_bytes(header + directory + b"\0" * 4096)
    with pytest.raises(UnusableFile, match="password-protected"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.xlsx", b"PK\x03\x04" + b"garbage" * 100, "damaged"),
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a spreadsheet"),
        ("empty.csv", b"", "empty"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "cannot be read"),
    ],
)
def test_refuses_corrupt_files_and_non_spreadsheets(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnusableFile, match=message):
        read_table(path)


def test_refuses_another_kind_of_archive(tmp_path: Path) -> None:
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnusableFile, match="not a spreadsheet"):
        read_table(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UnusableFile, match="There is no file"):
        read_table(tmp_path / "nope.xlsx")
    with pytest.raises(UnusableFile, match="folder"):
        read_table(tmp_path)


@pytest.mark.parametrize("kind", ["attendees", "guests", "agenda", "faq"])
def test_templates_map_themselves(kind: str, tmp_path: Path) -> None:
    from shared.spreadsheets import write_template

    path = tmp_path / f"{kind}.xlsx"
    write_template(kind, path)
    table = read_table(path, header_score=header_score(kind))
    mapping = suggest_mapping(kind, table.headers)
    check_mapping(mapping, table.headers)
    assert len(mapping.columns) == len(table.headers)  # every template column is recognised
    assert table.header_row == 1
    assert len(table.rows) >= 1
