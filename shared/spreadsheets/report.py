"""The error report workbook: the rejected rows exactly as they were, under the same headers,
each problem cell filled in red with a comment saying what is wrong, and a last column listing
every problem of the row. Fix it and import it again: the headers are the file's own.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.comments import Comment  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]

from shared.spreadsheets.importer import ImportPlan, ImportResult, Problem
from shared.spreadsheets.xlsx import WRAP, neutralise

PROBLEM_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
PROBLEM_FONT = Font(color="9C0006")
PROBLEMS_HEADER = "Problems"


def write_report(plan: ImportPlan | ImportResult, path: str | Path) -> int:
    """Write the rejected rows with their problems; returns how many rows it holds."""
    if isinstance(plan, ImportResult):
        if plan.plan is None:
            raise ValueError("this import result carries no plan")
        plan = plan.plan
    table = plan.request.table
    by_row: dict[int, list[Problem]] = defaultdict(list)
    for problem in plan.problems:
        by_row[problem.row].append(problem)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Rejected rows"
    headers = [*table.headers, PROBLEMS_HEADER]
    for j, header in enumerate(headers, 1):
        cell = ws.cell(row=1, column=j)
        cell.value = neutralise(header)
        cell.data_type = "s"
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    column_of = {letter: j for j, letter in enumerate(table.letters, 1)}
    out_row = 1
    for outcome in plan.outcomes:
        if outcome.action != "reject":
            continue
        out_row += 1
        for j, value in enumerate(table.rows[outcome.index], 1):
            cell = ws.cell(row=out_row, column=j)
            if isinstance(value, str):
                cell.value = neutralise(value)
                cell.data_type = "s"
            else:
                cell.value = value
        problems = by_row.get(outcome.row, [])
        for problem in problems:
            at = column_of.get(problem.column)
            if at is None:
                continue
            cell = ws.cell(row=out_row, column=at)
            cell.fill = PROBLEM_FILL
            text = problem.message
            if cell.comment is not None:
                text = cell.comment.text + "\n" + text
            cell.comment = Comment(text, "ConvergeAI")
        summary = ws.cell(row=out_row, column=len(headers))
        summary.value = neutralise(
            f"Row {outcome.row}: "
            + " ".join((f"[{p.header}] " if p.header else "") + p.message for p in problems)
        )
        summary.data_type = "s"
        summary.font = PROBLEM_FONT
        summary.alignment = WRAP
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    for j, header in enumerate(headers, 1):
        ws.column_dimensions[get_column_letter(j)].width = (
            60 if header == PROBLEMS_HEADER else (max(12, min(40, len(header) + 4)))
        )
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    wb.save(tmp)
    tmp.replace(target)
    return out_row - 1


__all__ = ["write_report"]
