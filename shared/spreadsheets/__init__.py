"""Spreadsheet import and export: the core behind the console's wizard and the CLI.

Qt-free and organizer-only. A wizard (or the CLI) goes::

    table = read_table(path, header_score=header_score(kind), progress=..., cancel=...)
    mapping = suggest_mapping(kind, table.headers)          # the organizer may change it
    with db.read() as s:
        dry = plan(s, actor, kind, table, mapping, chatbot_id=..., on_duplicate="update")
    write_report(dry, "problems.xlsx")                      # when dry.rejected
    result = apply(db, actor, dry, progress=..., cancel=...)  # one transaction, all or none
    write_credentials(result, "badges.xlsx")

and exports with :func:`export` (attendees, participants, transcripts, stats).
"""

from shared.spreadsheets.credentials import write_credentials
from shared.spreadsheets.exporter import EXPORT_KINDS, export
from shared.spreadsheets.importer import (
    Credential,
    ImportPlan,
    ImportRequest,
    ImportResult,
    Problem,
    apply,
    plan,
)
from shared.spreadsheets.mapping import (
    KINDS,
    ColumnMapping,
    check_mapping,
    header_score,
    parse_mapping,
    suggest_mapping,
)
from shared.spreadsheets.reader import Cancelled, Table, UnusableFile, read_table
from shared.spreadsheets.report import write_report
from shared.spreadsheets.templates import write_template

__all__ = [
    "EXPORT_KINDS",
    "KINDS",
    "Cancelled",
    "ColumnMapping",
    "Credential",
    "ImportPlan",
    "ImportRequest",
    "ImportResult",
    "Problem",
    "Table",
    "UnusableFile",
    "apply",
    "check_mapping",
    "export",
    "header_score",
    "parse_mapping",
    "plan",
    "read_table",
    "suggest_mapping",
    "write_credentials",
    "write_report",
    "write_template",
]
