"""A downloadable template per kind of import: the headers the importer recognises at once,
one example row, and a second sheet explaining each column."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from shared.spreadsheets.mapping import fields
from shared.spreadsheets.xlsx import neutralise

EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "attendees": [
        {"name": "Ada Lovelace", "email": "ada@example.org", "username": ""},
        {"name": "Alan Turing", "email": "alan@example.org", "username": "aturing"},
    ],
    "guests": [
        {
            "name": "Grace Hopper",
            "title": "Rear Admiral",
            "organization": "US Navy",
            "description": "Pioneer of compilers.",
            "email": "grace@example.org",
            "role": "speaker",
            "photo": "grace-hopper.jpg",
        },
    ],
    "agenda": [
        {
            "title": "Opening keynote",
            "start": datetime(2026, 3, 12, 9, 0),
            "end": datetime(2026, 3, 12, 10, 0),
            "location": "Main hall",
            "track": "Plenary",
            "description": "Welcome and keynote.",
            "speakers": "Grace Hopper",
        },
    ],
    "faq": [
        {"question": "What is the Wi-Fi password?", "answer": "Ask at the registration desk."},
    ],
}
#: Fields left out of the templates (alternatives to another column).
HIDDEN = {"first_name", "last_name", "date"}


def write_template(kind: str, path: str | Path) -> None:
    """Write the import template of ``kind`` (.xlsx)."""
    kind_fields = [f for f in fields(kind) if f.name not in HIDDEN]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = kind.capitalize()
    for j, field in enumerate(kind_fields, 1):
        cell = ws.cell(row=1, column=j, value=field.label)
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = 30 if field.name != "description" else 50
    for i, example in enumerate(EXAMPLES[kind], 2):
        for j, field in enumerate(kind_fields, 1):
            value = example.get(field.name)
            cell = ws.cell(row=i, column=j)
            if isinstance(value, str):
                cell.value = neutralise(value)
                cell.data_type = "s"
            else:
                cell.value = value
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("Columns")
    notes.append(["Column", "Required", "Also recognised as", "Notes"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for field in fields(kind):
        notes.append(
            [
                field.label,
                "yes" if field.required else "",
                ", ".join(field.synonyms[:8]),
                field.help,
            ]
        )
    for letter, width in zip("ABCD", (16, 10, 60, 70), strict=True):
        notes.column_dimensions[letter].width = width
    wb.save(Path(path))


__all__ = ["EXAMPLES", "write_template"]
