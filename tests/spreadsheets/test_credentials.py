"""The credentials workbook: streamed QR pictures that make a well-formed .xlsx, and no file at
all when it is cancelled."""

from __future__ import annotations

import posixpath
import threading
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree  # type: ignore[import-untyped]
from openpyxl import load_workbook  # type: ignore[import-untyped]

from shared.spreadsheets import write_credentials
from shared.spreadsheets.credentials import QR_ROW_HEIGHT
from shared.spreadsheets.importer import Credential, new_badge_codes
from shared.spreadsheets.reader import Cancelled

XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def people(n: int) -> list[Credential]:
    return [
        Credential(i, f"Person {i}", f"p{i}@example.org", f"p{i}", code)
        for i, code in enumerate(new_badge_codes(n), 1)
    ]


def test_qr_pictures_are_anchored_one_per_row(tmp_path: Path) -> None:
    creds = people(3)
    target = tmp_path / "badges.xlsx"
    assert write_credentials(creds, target) == 3

    with zipfile.ZipFile(target) as z:
        names = set(z.namelist())
        for name in names:  # every XML part is well-formed
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(z.read(name))
        assert {f"xl/media/image{k}.png" for k in (1, 2, 3)} <= names
        assert all(z.read(f"xl/media/image{k}.png").startswith(b"\x89PNG") for k in (1, 2, 3))
        types = z.read("[Content_Types].xml").decode()
        assert 'Extension="png"' in types
        assert "/xl/drawings/drawing1.xml" in types
        sheet_rels = ElementTree.fromstring(z.read("xl/worksheets/_rels/sheet1.xml.rels"))
        assert [r.get("Target") for r in sheet_rels.iter(f"{PKG}Relationship")] == [
            "../drawings/drawing1.xml"
        ]
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
        assert sheet.find(f"{MAIN}drawing").get(f"{R}id") == "rId1"
        heights = [row.get("ht") for row in sheet.iter(f"{MAIN}row")]
        assert heights == [None] + [str(QR_ROW_HEIGHT)] * 3
        rels = {
            r.get("Id"): r.get("Target")
            for r in ElementTree.fromstring(z.read("xl/drawings/_rels/drawing1.xml.rels")).iter(
                f"{PKG}Relationship"
            )
        }
        drawing = ElementTree.fromstring(z.read("xl/drawings/drawing1.xml"))
        anchors = []
        for anchor in drawing.iter(f"{XDR}oneCellAnchor"):
            start = anchor.find(f"{XDR}from")
            blip = anchor.find(f".//{A}blip")
            part = posixpath.normpath(posixpath.join("xl/drawings", rels[blip.get(f"{R}embed")]))
            anchors.append(
                (int(start.find(f"{XDR}col").text), int(start.find(f"{XDR}row").text), part)
            )
    # Column E (4), rows 2-4 (1-3 counted from 0), each its own picture in the archive.
    assert [(c, r) for c, r, _ in anchors] == [(4, 1), (4, 2), (4, 3)]
    assert sorted(p for _, _, p in anchors) == [f"xl/media/image{k}.png" for k in (1, 2, 3)]

    sheet = load_workbook(target).active
    assert [c.value for c in sheet[1]] == ["Name", "Email", "Username", "Badge code", "QR code"]
    assert [sheet.cell(row=r, column=4).value for r in (2, 3, 4)] == [c.badge_code for c in creds]


def test_without_qr_codes_no_drawing(tmp_path: Path) -> None:
    target = tmp_path / "codes.xlsx"
    assert write_credentials(people(2), target, qr_codes=False) == 2
    with zipfile.ZipFile(target) as z:
        assert not [n for n in z.namelist() if "drawing" in n or "media" in n]


def test_cancelled_credentials_leave_no_file(tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        cancel.set()

    target = tmp_path / "badges.xlsx"
    with pytest.raises(Cancelled):
        write_credentials(people(2500), target, progress=progress, cancel=cancel)
    assert seen == [1000]
    assert list(tmp_path.iterdir()) == []  # neither the workbook nor its .part
