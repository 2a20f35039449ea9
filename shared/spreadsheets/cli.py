"""``convergeai import`` and ``convergeai export`` (wired into :data:`shared.cli.COMMANDS`).

Exit codes of ``import``: 0 every row was accepted; 3 some rows were rejected (the valid ones
are imported unless ``--dry-run``); 2 the file cannot be used at all (one clear line on stderr);
1 another known problem (no such event, database unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.db import Database
from shared.errors import ValidationError
from shared.spreadsheets.exporter import export
from shared.spreadsheets.importer import ImportPlan, ImportRequest, ImportResult, apply, plan
from shared.spreadsheets.mapping import check_mapping, header_score, parse_mapping, suggest_mapping
from shared.spreadsheets.reader import UnusableFile, read_table

EXIT_OK = 0
EXIT_UNUSABLE = 2
EXIT_REJECTED = 3
#: Problems listed on the terminal; the rest are in the --report workbook.
SHOWN_PROBLEMS = 50


def _err(message: str) -> None:
    print(f"convergeai: error: {message}", file=sys.stderr)


def _print_summary(
    outcome: ImportPlan | ImportResult, dry_run: bool, mapping: dict[str, str], header_row: int
) -> None:
    print(
        f"Columns (headers on row {header_row}): "
        + ", ".join(f"{field}={header!r}" for field, header in mapping.items())
    )
    tail = " (dry run: nothing was written)" if dry_run else ""
    print(
        f"{outcome.kind}: {outcome.rows} rows: {outcome.created} new, {outcome.updated} updated, "
        f"{outcome.skipped} skipped, {outcome.rejected} rejected{tail}."
    )
    for problem in outcome.problems[:SHOWN_PROBLEMS]:
        where = f", column {problem.column} ({problem.header})" if problem.column else ""
        print(f"  row {problem.row}{where}: {problem.message}")
    more = len(outcome.problems) - SHOWN_PROBLEMS
    if more > 0:
        print(f"  ... and {more} more problems (write them all with --report FILE.xlsx)")


def run_import(db: Database, args: argparse.Namespace) -> int:
    """Read, check and (unless --dry-run) import a file; see the module docstring for codes."""
    from shared.cli import system_actor
    from shared.cli_assistant import find_event

    event = find_event(db, args.event)
    path = Path(args.file)
    try:
        table = read_table(path, header_score=header_score(args.kind))
        mapping = parse_mapping(
            args.kind, table.headers, args.map or (), suggest_mapping(args.kind, table.headers)
        )
        check_mapping(mapping, table.headers)
    except (UnusableFile, ValidationError) as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    photos = Path(args.photos) if args.photos else None
    if photos is not None and not photos.is_dir():
        _err(f"The photos folder {photos} does not exist.")
        return EXIT_UNUSABLE
    request = ImportRequest(args.kind, table, mapping, event.id, args.on_duplicate, photos)
    outcome: ImportPlan | ImportResult
    if args.dry_run:
        with db.read() as s:
            outcome = plan(
                s,
                system_actor(s),
                args.kind,
                table,
                mapping,
                chatbot_id=event.id,
                on_duplicate=args.on_duplicate,
                photos_dir=photos,
            )
    else:
        with db.read() as s:
            actor = system_actor(s)
        outcome = apply(db, actor, request)
    if args.report and outcome.rejected:
        from shared.spreadsheets.report import write_report

        write_report(outcome, args.report)
    credentials_note = ""
    if isinstance(outcome, ImportResult) and outcome.credentials:
        if args.credentials:
            from shared.spreadsheets.credentials import write_credentials

            write_credentials(outcome, args.credentials)
            credentials_note = (
                f"Badge codes of the {len(outcome.credentials)} new attendees "
                f"written to {args.credentials}."
            )
        else:
            print(
                f"convergeai: warning: {len(outcome.credentials)} new attendees got badge "
                "codes, but no --credentials file was given: the codes are not kept anywhere; "
                "issue new ones to print badges.",
                file=sys.stderr,
            )
    if args.json:
        summary = (
            outcome.summary(dry_run=True)
            if isinstance(outcome, ImportPlan)
            else (outcome.summary())
        )
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        _print_summary(outcome, args.dry_run, mapping.describe(table.headers), table.header_row)
        if isinstance(outcome, ImportResult) and outcome.enrolled:
            print(f"{outcome.enrolled} attendees enrolled in {event.name}.")
        if credentials_note:
            print(credentials_note)
        if args.report and outcome.rejected:
            print(f"Rejected rows written to {args.report}.")
    return EXIT_REJECTED if outcome.rejected else EXIT_OK


def run_export(db: Database, args: argparse.Namespace) -> int:
    """Write an export workbook."""
    from shared.cli import system_actor
    from shared.cli_assistant import find_event

    event = find_event(db, args.event)
    with db.read() as s:
        actor = system_actor(s)
    n = export(db, actor, args.kind, args.output, chatbot_id=event.id)
    print(f"{n} rows written to {args.output}.")
    return EXIT_OK


__all__ = ["run_export", "run_import"]
