"""Export a table of rows to .xlsx (openpyxl) or .csv, safe to open in a spreadsheet.

Attendees write the messages, so every text cell is treated as hostile: a cell starting with
``= + - @``, a tab or a carriage return gets a leading apostrophe (OWASP "CSV injection"), and in
the workbook every string cell is forced to the string type, so openpyxl never writes a formula.
A later issue brings full Excel import and export; this stays small on purpose.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.errors import KnownError, ValidationError

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_MAX = 31


def neutralize(value: Any) -> Any:
    """A cell value a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is not None else value
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    return neutralize(str(value))


def export_rows(
    path: str | Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "Export",
) -> int:
    """Write ``rows`` under ``headers`` to ``path`` (.xlsx or .csv by its suffix); returns the
    number of rows written. Datetimes should already be in the zone to show."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError("Export to a file ending in .xlsx or .csv.", "path")
    count = 0
    try:
        if suffix == ".csv":
            with target.open("w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow([neutralize(h) for h in headers])
                for row in rows:
                    writer.writerow([_csv_text(_cell(v)) for v in row])
                    count += 1
            return count
        from openpyxl import Workbook  # type: ignore[import-untyped]
        from openpyxl.styles import Font  # type: ignore[import-untyped]

        book = Workbook(write_only=False)
        ws = book.active
        assert ws is not None
        ws.title = sheet[:SHEET_TITLE_MAX] or "Export"
        ws.append([neutralize(h) for h in headers])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            values = [_cell(v) for v in row]
            ws.append(values)
            count += 1
            for cell, value in zip(ws[ws.max_row], values, strict=False):
                if isinstance(value, str):
                    cell.value = value
                    cell.data_type = "s"
                elif isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
        ws.freeze_panes = "A2"
        for column, header in zip(ws.columns, headers, strict=False):
            letter = column[0].column_letter
            ws.column_dimensions[letter].width = min(60, max(10, len(str(header)) + 4))
        book.save(target)
    except OSError as exc:
        raise KnownError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return count


def _csv_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value
