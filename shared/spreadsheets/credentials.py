"""The credentials workbook for badge printing: one row per new attendee with name, email,
username, badge code and the badge code's QR code (a picture in the row).

Badge codes are shown here once: only their HMAC is stored. The file is written with openpyxl's
write-only mode, so 100,000 rows stream; the QR codes (about 2 ms each) dominate the time, so
``qr_codes=False`` leaves them out (a badge printer's mail merge can make them from the code
column), and the workbook is then written by :mod:`shared.spreadsheets.fastxlsx`, without
openpyxl: 100,000 rows in about 2 s instead of 11.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.worksheet.dimensions import RowDimension  # type: ignore[import-untyped]

from shared.spreadsheets.bulk import collector_paused
from shared.spreadsheets.fastxlsx import write_table
from shared.spreadsheets.importer import Credential, ImportResult
from shared.spreadsheets.reader import Cancelled
from shared.spreadsheets.xlsx import PngImage, header_cells, qr_png, safe_cell, set_widths

HEADERS = ("Name", "Email", "Username", "Badge code", "QR code")
QR_SCALE = 3
#: Row height (points) fitting a QR picture: 33 modules x 3 px = 99 px = 75 pt.
QR_ROW_HEIGHT = 78


@collector_paused()
def write_credentials(
    result: ImportResult | Sequence[Credential],
    path: str | Path,
    *,
    qr_codes: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Write the credentials workbook (.xlsx); returns the number of attendees in it."""
    credentials = result.credentials if isinstance(result, ImportResult) else tuple(result)
    if not qr_codes:
        return write_table(
            path,
            "Credentials",
            HEADERS[:4],
            ((c.name, c.email, c.username, c.badge_code) for c in credentials),
            (28, 34, 22, 28),
        )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Credentials")
    set_widths(ws, (28, 34, 22, 28, 16 if qr_codes else 4))
    ws.append(header_cells(ws, HEADERS if qr_codes else HEADERS[:4]))
    ws.freeze_panes = "A2"
    total = len(credentials)
    for n, cred in enumerate(credentials, 2):
        if qr_codes:
            # Row heights are written with the row, in write-only mode: set them first.
            ws.row_dimensions[n] = RowDimension(ws, index=n, ht=QR_ROW_HEIGHT)
            data, side = qr_png(cred.badge_code, scale=QR_SCALE)
            image = PngImage(data, side, side)
            image.anchor = f"E{n}"
            ws.add_image(image)
        ws.append(
            [
                safe_cell(ws, cred.name),
                safe_cell(ws, cred.email),
                safe_cell(ws, cred.username),
                safe_cell(ws, cred.badge_code),
            ]
        )
        if qr_codes:
            del ws.row_dimensions[n]  # written: keep the dict small
        if n % 1000 == 0:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Writing the credentials was cancelled.")
            if progress is not None:
                progress(n - 1, total)
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    wb.save(tmp)
    tmp.replace(target)
    return total


__all__ = ["HEADERS", "write_credentials"]
