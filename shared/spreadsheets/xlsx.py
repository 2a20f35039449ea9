"""Small helpers shared by the workbooks we write: safe text cells, widths, QR code PNGs.

- :func:`safe_text`: user text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is prefixed with an apostrophe-like quote character so no spreadsheet program runs it as a
  formula (OWASP "CSV injection"), and every text cell is written with ``data_type = "s"``
  (openpyxl turns any string starting with ``=`` into a live formula otherwise).
- :func:`qr_png`: a badge code's QR code as a PNG (segno builds the matrix; the PNG is written
  here, several times faster than segno's writer).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.worksheet._write_only import WriteOnlyWorksheet  # type: ignore[import-untyped]

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True)


def neutralise(text: str) -> str:
    """Text a spreadsheet will never read as a formula: a leading ' before = + - @ tab CR."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def safe_cell(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    """A write-only cell: text neutralised and typed as a string; numbers, dates, booleans kept
    with their types; None stays blank."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=None)
        cell.value = neutralise(value)
        cell.data_type = "s"
    elif value is None or isinstance(value, bool | int | float | datetime | date | time):
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    else:
        cell = WriteOnlyCell(ws, value=None)
        cell.value = neutralise(str(value))
        cell.data_type = "s"
    for key, v in style.items():
        setattr(cell, key, v)
    return cell


def header_cells(ws: WriteOnlyWorksheet, headers: Iterable[str]) -> list[WriteOnlyCell]:
    """Bold header cells."""
    return [safe_cell(ws, h, font=HEADER_FONT) for h in headers]


def set_widths(ws: WriteOnlyWorksheet, widths: Iterable[float]) -> None:
    """Column widths in characters (before any row is written)."""
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width


WRAP = Alignment(wrap_text=True, vertical="top")


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def matrix_png(
    matrix: Iterable[Iterable[int]], scale: int = 4, border: int = 4
) -> tuple[bytes, int]:
    """A black-on-white 8-bit grayscale PNG of a module matrix; returns it and its side."""
    rows = [bytes(r) for r in matrix]
    n = len(rows)
    side = (n + 2 * border) * scale
    light = b"\x00" + b"\xff" * side
    lines = [light] * (border * scale)
    dark_px, light_px = b"\x00" * scale, b"\xff" * scale
    pad = light_px * border
    for row in rows:
        line = b"\x00" + pad + b"".join(dark_px if m & 1 else light_px for m in row) + pad
        lines.extend([line] * scale)
    lines.extend([light] * (border * scale))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"".join(lines), 6))
        + _chunk(b"IEND", b"")
    )
    return png, side


def qr_png(text: str, scale: int = 4) -> tuple[bytes, int]:
    """A QR code of ``text`` (error correction M) as PNG bytes, and its side in pixels.

    The mask is fixed (pattern 0) instead of chosen among eight: five times faster, and every
    reader decodes any mask."""
    import segno

    code = segno.make_qr(text, error="m", mask=0, boost_error=False)
    return matrix_png(code.matrix, scale=scale)


__all__ = [
    "DANGEROUS_PREFIXES",
    "header_cells",
    "matrix_png",
    "neutralise",
    "qr_png",
    "safe_cell",
    "set_widths",
]
