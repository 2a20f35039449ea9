"""The credentials workbook for badge printing: one row per new attendee with name, email,
username, badge code and the badge code's QR code (a picture in the row).

Badge codes are shown here once: only their HMAC is stored. The workbook is streamed by
:mod:`shared.spreadsheets.fastxlsx` (each QR picture goes into the file as it is made), so
100,000 attendees take flat memory; the QR codes themselves (about 1 ms each, segno) dominate
the time, so ``qr_codes=False`` leaves them out (a badge printer's mail merge can make them from
the code column).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from shared.spreadsheets.bulk import collector_paused
from shared.spreadsheets.fastxlsx import Picture, write_table
from shared.spreadsheets.importer import Credential, ImportResult
from shared.spreadsheets.reader import Cancelled
from shared.spreadsheets.xlsx import qr_png

HEADERS = ("Name", "Email", "Username", "Badge code", "QR code")
WIDTHS = (28, 34, 22, 28, 16)
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
    """Write the credentials workbook (.xlsx); returns the number of attendees in it.

    ``progress(done, total)`` every thousand attendees; setting ``cancel`` stops it (raises
    :class:`Cancelled`) and leaves no file."""
    credentials = result.credentials if isinstance(result, ImportResult) else tuple(result)
    total = len(credentials)

    def rows() -> Iterator[tuple[object, ...]]:
        for n, cred in enumerate(credentials, 1):
            row: tuple[object, ...] = (cred.name, cred.email, cred.username, cred.badge_code)
            if qr_codes:
                data, side = qr_png(cred.badge_code, scale=QR_SCALE)
                row = (*row, Picture(data, side, side))
            yield row
            if n % 1000 == 0:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Writing the credentials was cancelled.")
                if progress is not None:
                    progress(n, total)

    return write_table(
        path,
        "Credentials",
        HEADERS if qr_codes else HEADERS[:4],
        rows(),
        WIDTHS if qr_codes else WIDTHS[:4],
        pictures=qr_codes,
        row_height=QR_ROW_HEIGHT if qr_codes else None,
    )


__all__ = ["HEADERS", "write_credentials"]
