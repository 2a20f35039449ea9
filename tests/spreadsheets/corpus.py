"""Messy spreadsheets made by the tests, in every format we can write without extra tools.

- .xlsx: openpyxl.
- .csv: bytes written by hand (UTF-8 with and without BOM, Windows-1252, comma or semicolon).
- .ods: the OpenDocument zip and its content.xml written by hand (small, and calamine reads it).
- .xls: no writer is installed (no xlwt, no LibreOffice), so .xls cases are skipped with that
  reason; the reader handles them through the same calamine path as .xlsx.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook  # type: ignore[import-untyped]

XLS_SKIP = "no .xls writer available (xlwt and LibreOffice are not installed)"


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    merge: str | None = None,
    start_row: int = 1,
) -> Path:
    """Rows written from ``start_row`` (1-based), with an optional merged range."""
    wb = Workbook()
    ws = wb.active
    for i, row in enumerate(rows, start_row):
        for j, value in enumerate(row, 1):
            if value is not None:
                ws.cell(row=i, column=j, value=value)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def write_csv(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    def cell(v: Any) -> str:
        text = "" if v is None else str(v)
        if any(c in text for c in (delimiter, '"', "\n")):
            text = '"' + text.replace('"', '""') + '"'
        return text

    text = "\r\n".join(delimiter.join(cell(v) for v in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        return (
            f'<table:table-cell office:value-type="boolean" '
            f'office:boolean-value="{str(value).lower()}"><text:p>{value}</text:p>'
            "</table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime | date):
        return (
            f'<table:table-cell office:value-type="date" '
            f'office:date-value="{value.isoformat()}"><text:p>{value}</text:p>'
            "</table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
        "</text:p></table:table-cell>"
    )


def write_ods(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """A minimal OpenDocument spreadsheet, written by hand."""
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Sheet1">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


# The messy attendee list, in every format ------------------------------------------------------

#: Titles above the header, a blank row, trailing spaces, a blank column, float ids and phones,
#: a real date, a duplicate, a bad email, an empty row in the middle.
MESSY_ROWS: list[list[Any]] = [
    ["Summit 2026 — registrations export", None, None, None, None, None],
    [None, None, None, None, None, None],
    ["Full name ", "E-mail Address", None, "Company", "Badge ID", "Registered"],
    ["  Ada Lovelace ", "ADA@example.org ", None, "Analytical", 1001.0, date(2026, 1, 5)],
    ["Alan Turing", "alan@example.org", None, "Bletchley", 1002.0, date(2026, 1, 6)],
    [None, None, None, None, None, None],
    ["Grace Hopper", "not-an-email", None, "Navy", 1003.0, date(2026, 1, 7)],
    ["Ada Again", "ada@EXAMPLE.org", None, "Analytical", 1004.0, date(2026, 1, 8)],
    ["", "noname@example.org", None, "", 1005.0, None],
    ["Zoë O'Brien", "zoe@example.org", None, "Café Ltd", 4412345678.0, date(2026, 1, 9)],
]
#: What the reader gives for it: header row 3, data rows by Excel row number.
MESSY_HEADERS = ("Full name", "E-mail Address", "Company", "Badge ID", "Registered")
MESSY_ROW_NUMBERS = [4, 5, 7, 8, 9, 10]
