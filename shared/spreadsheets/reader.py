"""Read a spreadsheet into a :class:`Table`: headers, data rows and their Excel row numbers.

Formats: .xlsx, .xlsm, .xlsb, .xls and .ods through python-calamine (fast: 100,000 rows in about
a second), and .csv (UTF-8 with or without BOM, else Windows-1252; comma, semicolon or tab).

Refused clearly, before much memory is used (:class:`UnusableFile`): files over
:data:`MAX_FILE_BYTES`, archives whose entries would expand past :data:`MAX_EXPANDED_BYTES` or
expand suspiciously (a zip bomb; the zip central directory is checked before calamine opens the
file), sheets declaring more than :data:`MAX_ROWS` rows or :data:`MAX_COLUMNS` columns,
password-protected (encrypted OLE) files, corrupt files and files that are not spreadsheets.

Cells come out as ``str`` (trimmed; a whole number stored as a float, such as a phone number or a
badge id, without its ``.0``), ``date``/``datetime``/``time``, or ``None`` for a blank. The header
row is found among the first rows, so titles above it (merged or not) are skipped; blank rows and
columns are dropped. Row numbers are kept as Excel shows them, for error messages.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from shared.errors import KnownError
from shared.spreadsheets.bulk import collector_paused

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_EXPANDED_BYTES = 400 * 1024 * 1024
#: An entry expanding more than this many times over is a zip bomb (real sheets: 5 to 20x).
MAX_RATIO = 150
MAX_ZIP_ENTRIES = 10_000
MAX_ROWS = 200_000
MAX_COLUMNS = 200
#: How many rows from the top may hold titles before the header row.
HEADER_SEARCH_ROWS = 30

Cell = str | date | datetime | time | None
Progress = Callable[[int, int], None]

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".txt")


class UnusableFile(KnownError):
    """The file cannot be used at all (too big, encrypted, corrupt, not a spreadsheet)."""


class Cancelled(KnownError):
    """The organizer cancelled the operation; nothing was changed."""


@dataclass(frozen=True)
class Table:
    """A sheet as read: column headers, data rows (as many cells as headers) and, for each row,
    its number as Excel shows it."""

    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    row_numbers: list[int]
    header_row: int
    #: Excel column letter of each header (blank columns were dropped, so not always A, B, C).
    letters: tuple[str, ...]
    sheet: str = ""
    source: str = ""

    def __len__(self) -> int:
        return len(self.rows)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


# Cell values -----------------------------------------------------------------------------------


_INFINITIES = (float("inf"), float("-inf"))


def cell_value(raw: Any) -> Cell:
    """A calamine or CSV value as a Cell: trimmed text, integral floats without '.0'."""
    kind = type(raw)  # exact types first: this runs for every cell of the file
    if kind is str:
        return raw.strip() or None
    if kind is float:
        if raw.is_integer() and -1e16 < raw < 1e16:
            return str(int(raw))
        if raw != raw or raw in _INFINITIES:
            return None
        return repr(raw)
    if raw is None:
        return None
    if kind is datetime or kind is date:
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        return text or None
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw != raw or raw in _INFINITIES:
            return None
        if raw.is_integer() and abs(raw) < 1e16:
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, datetime | date | time):
        return raw
    if isinstance(raw, timedelta):
        seconds = int(raw.total_seconds())
        if 0 <= seconds < 86400:
            return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
        return str(raw)
    return str(raw).strip() or None


# Checks before opening -------------------------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


def _check_zip(path: Path) -> str:
    """Inspect the central directory; return 'xlsx' or 'ods', or refuse."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise UnusableFile(
                    f"{path.name} holds {len(entries):,} files inside; a spreadsheet has far "
                    "fewer. Refused as unsafe."
                )
            total = 0
            for entry in entries:
                total += entry.file_size
                ratio = entry.file_size / max(entry.compress_size, 1)
                bomb = entry.file_size > 1_000_000 and ratio > MAX_RATIO
                if total > MAX_EXPANDED_BYTES or bomb:
                    raise UnusableFile(
                        f"{path.name} would expand to far more data than a spreadsheet holds "
                        "(a zip bomb?). Refused as unsafe."
                    )
            names = {e.filename for e in entries}
            if "EncryptedPackage" in names:
                raise UnusableFile(f"{path.name} is password-protected. {_UNPROTECT}")
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                _check_xlsx_dimensions(archive, path)
                return "xlsx"
            if "mimetype" in names:
                kind = archive.read("mimetype")[:100]
                if kind.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                    return "ods"
    except zipfile.BadZipFile:
        raise UnusableFile(
            f"{path.name} is damaged (not a complete spreadsheet). Open it in Excel or "
            "LibreOffice and save it again."
        ) from None
    raise UnusableFile(f"{path.name} is not a spreadsheet (it is another kind of archive).")


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')


def _letters_to_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _check_xlsx_dimensions(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse a first sheet declaring more rows or columns than allowed (read from its first
    few kilobytes, without expanding the rest)."""
    name = "xl/worksheets/sheet1.xml"
    if name not in archive.namelist():
        return
    with archive.open(name) as fh:
        head = fh.read(4096)
    match = _DIMENSION.search(head)
    if not match or not match.group(3):
        return
    columns = _letters_to_index(match.group(3).decode())
    rows = int(match.group(4))
    _check_size(path, rows, columns)


def _check_size(path: Path, rows: int, columns: int) -> None:
    if rows > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise UnusableFile(
            f"{path.name} has {rows:,} rows; at most {MAX_ROWS:,} can be imported at once. "
            "Split it into several files."
        )
    if columns > MAX_COLUMNS:
        raise UnusableFile(
            f"{path.name} has {columns:,} columns; at most {MAX_COLUMNS} are supported. "
            "Delete the columns you do not need."
        )


_UNPROTECT = "Remove the password (in Excel: File > Info > Protect Workbook) and try again."


def _check_ole(path: Path) -> None:
    """An OLE compound file is an .xls workbook, or an encrypted .xlsx (refused)."""
    with path.open("rb") as fh:
        head = fh.read(1024 * 1024)
    if (
        "EncryptedPackage".encode("utf-16-le") in head
        or "EncryptionInfo".encode("utf-16-le") in head
    ):
        raise UnusableFile(f"{path.name} is password-protected. {_UNPROTECT}")


def detect_format(path: Path) -> str:
    """'xlsx', 'ods', 'xls' or 'csv' from the file's first bytes (not its name); refuses files
    that are too big, unsafe or not spreadsheets."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise UnusableFile(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise UnusableFile(f"{path} is a folder, not a spreadsheet.") from None
    except OSError as exc:
        raise UnusableFile(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if size > MAX_FILE_BYTES:
        raise UnusableFile(
            f"{path.name} is {size / 1_048_576:.0f} MB; at most "
            f"{MAX_FILE_BYTES // 1_048_576} MB can be imported. Split it into several files."
        )
    if size == 0:
        raise UnusableFile(f"{path.name} is empty.")
    if head.startswith(_ZIP):
        return _check_zip(path)
    if head.startswith(_OLE):
        _check_ole(path)
        return "xls"
    return "csv"


# Reading ---------------------------------------------------------------------------------------


def _raw_rows_calamine(path: Path) -> tuple[str, Iterable[list[Any]]]:
    import python_calamine as pc

    try:
        workbook = pc.CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except pc.PasswordError:
        raise UnusableFile(f"{path.name} is password-protected. {_UNPROTECT}") from None
    except Exception as exc:  # noqa: BLE001 - calamine's errors: all mean a file we cannot use
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise UnusableFile(f"{path.name} is password-protected. {_UNPROTECT}") from None
        raise UnusableFile(
            f"{path.name} cannot be read as a spreadsheet (damaged, or another kind of file). "
            "Open it in Excel or LibreOffice and save it again as .xlsx."
        ) from None
    end = sheet.end or (0, 0)
    _check_size(path, end[0] + 1, end[1] + 1)
    start = sheet.start or (0, 0)
    # calamine returns the rows above the used range (blank), not the columns left of it.
    return sheet.name, _offset_columns(sheet.iter_rows(), start[1])


def _offset_columns(rows: Iterable[list[Any]], left: int) -> Iterable[list[Any]]:
    if not left:
        return rows
    pad = [None] * left
    return (pad + list(row) for row in rows)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    best, best_score = ",", -1
    for delim in (",", ";", "\t"):
        counts = [line.count(delim) for line in lines]
        if not counts:
            continue
        # The delimiter appears on most lines (titles may have none), the same number of times.
        used = [c for c in counts if c]
        score = len(used) * 10 + (max(used) if used else 0) if used else 0
        if score > best_score:
            best, best_score = delim, score
    return best


def _raw_rows_csv(path: Path) -> tuple[str, Iterable[list[Any]]]:
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnusableFile(f"{path.name} is not a spreadsheet or a CSV text file.")
    text = _decode(data)
    delimiter = _sniff_delimiter(text[:20_000])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[Any]] = []
    try:
        for row in reader:
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                _check_size(path, len(rows), 0)
            if len(row) > MAX_COLUMNS:
                # Trailing empty cells (a delimiter at every line's end) are fine.
                while row and not row[-1].strip():
                    row.pop()
                _check_size(path, 0, len(row))
            rows.append(row)
    except csv.Error:
        raise UnusableFile(f"{path.name} is not a readable CSV file.") from None
    return path.stem, rows


def _is_text(cell: Cell) -> bool:
    return isinstance(cell, str)


def find_header_row(
    rows: Sequence[Sequence[Cell]], score: Callable[[Sequence[Cell]], int] | None = None
) -> int:
    """Index of the header row among the first rows: the row scoring best with ``score`` (how
    many cells name known fields), else the first row of text cells at least half as wide as the
    widest row near the top (a title, merged or not, fills one cell)."""
    top = rows[:HEADER_SEARCH_ROWS]
    if not top:
        return 0
    if score is not None:
        scores = [score(r) for r in top]
        best = max(scores)
        if best > 0:
            return scores.index(best)
    widest = max(sum(1 for c in r if c is not None) for r in top)
    for i, row in enumerate(top):
        filled = [c for c in row if c is not None]
        if filled and len(filled) >= max(1, (widest + 1) // 2) and all(map(_is_text, filled)):
            return i
    for i, row in enumerate(top):
        if any(c is not None for c in row):
            return i
    return 0


@collector_paused()
def read_table(
    path: str | Path,
    *,
    header_score: Callable[[Sequence[Cell]], int] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Table:
    """Read the first sheet of a spreadsheet (or a CSV file) into a Table.

    ``header_score`` (see :func:`shared.spreadsheets.mapping.header_score`) helps find the
    header row below titles; ``progress(done, total)`` is called every few thousand rows;
    ``cancel`` stops the reading (raises :class:`Cancelled`). Raises :class:`UnusableFile`.
    """
    path = Path(path)
    kind = detect_format(path)
    if kind == "csv" and path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        raise UnusableFile(
            f"{path.name} is not a spreadsheet. Use .xlsx, .xls, .ods or .csv files."
        )
    sheet, raw = _raw_rows_csv(path) if kind == "csv" else _raw_rows_calamine(path)
    cells: list[list[Cell]] = []
    convert = cell_value
    for n, raw_row in enumerate(raw, 1):
        # Text cells (most of them) trimmed inline; cell_value for the rest.
        cells.append([(v.strip() or None) if type(v) is str else convert(v) for v in raw_row])
        if n % 5000 == 0:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Reading the file was cancelled.")
            if progress is not None:
                progress(n, 0)
    if len(cells) > MAX_ROWS + HEADER_SEARCH_ROWS:
        _check_size(path, len(cells), 0)
    header_index = find_header_row(cells, header_score)
    header_cells = cells[header_index] if cells else []
    width = max((len(r) for r in cells), default=0)
    body = cells[header_index:]
    if any(len(r) != width for r in body):
        body = [r + [None] * (width - len(r)) for r in body]
    # Keep columns with a header or with any data below it (most have a header: the search
    # stops there).
    keep = [j for j in range(width) if any(r[j] is not None for r in body)]
    headers: list[str] = []
    seen: dict[str, int] = {}
    for j in keep:
        value = header_cells[j] if j < len(header_cells) else None
        name = _header_text(value) or f"Column {column_letter(j)}"
        key = name.lower()
        if key in seen:
            seen[key] += 1
            name = f"{name} ({seen[key]})"
        else:
            seen[key] = 1
        headers.append(name)
    rows: list[tuple[Cell, ...]] = []
    numbers: list[int] = []
    first = header_index + 1
    if len(keep) == width:
        for i, row in enumerate(body[1:], first):
            if any(row):
                rows.append(tuple(row))
                numbers.append(i + 1)
    elif keep:
        pick = itemgetter(*keep)
        for i, row in enumerate(body[1:], first):
            values = pick(row)
            values = values if isinstance(values, tuple) else (values,)
            if any(values):
                rows.append(values)
                numbers.append(i + 1)
    if not headers:
        raise UnusableFile(f"{path.name} has no data: the first sheet is empty.")
    return Table(
        headers=tuple(headers),
        rows=rows,
        row_numbers=numbers,
        header_row=header_index + 1,
        letters=tuple(column_letter(j) for j in keep),
        sheet=sheet,
        source=str(path),
    )


def _header_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    return str(value)


__all__ = [
    "MAX_COLUMNS",
    "MAX_EXPANDED_BYTES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "Cancelled",
    "Cell",
    "Table",
    "UnusableFile",
    "cell_value",
    "column_letter",
    "detect_format",
    "find_header_row",
    "read_table",
]
