"""Exports for organizers, as .xlsx: attendees, one assistant's participants, its transcripts,
and its statistics. Columns keep their types (numbers, dates) and get sensible widths; every text
cell is neutralised against formula injection (see :mod:`shared.spreadsheets.xlsx`). Rows are
fetched a page at a time and streamed into a write-only workbook, so 100,000 rows stay small.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import Database
from shared.models import ChatbotParticipant, Message, Role, User
from shared.services import stats, transcripts
from shared.services.common import Actor, get_chatbot, require_admin
from shared.settings import get_settings
from shared.spreadsheets.reader import Cancelled
from shared.spreadsheets.xlsx import header_cells, safe_cell, set_widths

ExportKind = Literal["attendees", "participants", "transcripts", "stats"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("attendees", "participants", "transcripts", "stats")
PAGE = 2000
Progress = Callable[[int, int], None]


def _local(value: datetime | None) -> datetime | None:
    """An aware UTC time as the venue's wall-clock time (what organizers read)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(get_settings().timezone()).replace(tzinfo=None)


def _pages(s: Session, stmt: Any, key: Any) -> Iterator[Any]:
    """Rows of ``stmt`` in keyset pages over the integer ``key`` column."""
    last = 0
    while True:
        rows = list(s.execute(stmt.where(key > last).order_by(key).limit(PAGE)))
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


class _Sheet:
    def __init__(
        self, wb: Workbook, title: str, headers: Sequence[str], widths: Sequence[float]
    ) -> None:
        self.ws = wb.create_sheet(title)
        set_widths(self.ws, widths)
        self.ws.freeze_panes = "A2"
        self.ws.append(header_cells(self.ws, headers))
        self.rows = 0

    def append(self, values: Iterable[Any]) -> None:
        self.ws.append([safe_cell(self.ws, v) for v in values])
        self.rows += 1


def _save(wb: Workbook, path: str | Path) -> None:
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    wb.save(tmp)
    tmp.replace(target)


def _tick(n: int, progress: Progress | None, cancel: threading.Event | None) -> None:
    if n % PAGE == 0:
        if cancel is not None and cancel.is_set():
            raise Cancelled("The export was cancelled.")
        if progress is not None:
            progress(n, 0)


def export(
    db: Database,
    actor: Actor,
    kind: str,
    path: str | Path,
    *,
    chatbot_id: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Write an export workbook; returns the number of data rows. Organizers only.

    ``attendees``: every attendee account (no secret). ``participants``, ``transcripts``,
    ``stats``: of the assistant ``chatbot_id``."""
    wb = Workbook(write_only=True)
    with db.read() as s:
        require_admin(s, actor)
        if kind == "attendees":
            n = _attendees(s, wb, progress, cancel)
        elif kind in ("participants", "transcripts", "stats"):
            if chatbot_id is None:
                from shared.errors import ValidationError

                raise ValidationError("Choose the event assistant to export.", "chatbot_id")
            get_chatbot(s, chatbot_id)
            fn = {"participants": _participants, "transcripts": _transcripts, "stats": _stats}[kind]
            n = fn(s, actor, wb, chatbot_id, progress, cancel)
        else:
            from shared.errors import ValidationError

            raise ValidationError(
                f"Unknown export {kind!r}: choose {', '.join(EXPORT_KINDS)}.", "kind"
            )
    _save(wb, path)
    return n


def _attendees(
    s: Session, wb: Workbook, progress: Progress | None, cancel: threading.Event | None
) -> int:
    sheet = _Sheet(
        wb,
        "Attendees",
        (
            "Name",
            "Email",
            "Username",
            "Active",
            "Badge code issued",
            "Messages",
            "Created",
            "Last sign-in",
        ),
        (28, 34, 22, 8, 10, 10, 18, 18),
    )
    stmt = select(
        User.id,
        User.name,
        User.email,
        User.username,
        User.active,
        User.badge_code_hash.is_not(None),
        User.message_count,
        User.created_at,
        User.last_login_at,
    ).where(User.role == Role.ATTENDEE.value)
    for row in _pages(s, stmt, User.id):
        sheet.append(
            [
                row[1],
                row[2],
                row[3],
                bool(row[4]),
                bool(row[5]),
                row[6],
                _local(row[7]),
                _local(row[8]),
            ]
        )
        _tick(sheet.rows, progress, cancel)
    return sheet.rows


def _participants(
    s: Session,
    actor: Actor,
    wb: Workbook,
    chatbot_id: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> int:
    sheet = _Sheet(
        wb,
        "Participants",
        ("Name", "Email", "Username", "Joined", "Messages", "Last activity"),
        (28, 34, 22, 18, 10, 18),
    )
    stmt = (
        select(
            ChatbotParticipant.id,
            User.name,
            User.email,
            User.username,
            ChatbotParticipant.joined_at,
            ChatbotParticipant.message_count,
            ChatbotParticipant.last_activity_at,
        )
        .join(User, User.id == ChatbotParticipant.user_id)
        .where(ChatbotParticipant.chatbot_id == chatbot_id)
    )
    for row in _pages(s, stmt, ChatbotParticipant.id):
        sheet.append([row[1], row[2], row[3], _local(row[4]), row[5], _local(row[6])])
        _tick(sheet.rows, progress, cancel)
    return sheet.rows


def _transcripts(
    s: Session,
    actor: Actor,
    wb: Workbook,
    chatbot_id: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> int:
    """One row per message, conversation by conversation (the transcripts service's data)."""
    sheet = _Sheet(
        wb,
        "Transcripts",
        (
            "Conversation",
            "Started",
            "Mode",
            "Kiosk",
            "Username",
            "Name",
            "Time",
            "From",
            "Message",
            "Answered",
        ),
        (12, 18, 9, 14, 18, 24, 18, 10, 80, 9),
    )
    convs: dict[int, transcripts.ConversationSummary] = {}
    stmt = select(
        Message.id,
        Message.conversation_id,
        Message.user_id,
        Message.created_at,
        Message.is_user_message,
        Message.source,
        Message.content,
        Message.answered,
    ).where(Message.chatbot_id == chatbot_id)
    for row in _pages(s, stmt, Message.id):
        conv = convs.get(row[1])
        if conv is None:
            summary = transcripts.get_conversation(s, actor, row[1])
            conv = convs[row[1]] = summary
            if len(convs) > 5000:
                convs.clear()
                convs[row[1]] = summary
        who = "attendee" if row[4] else f"assistant ({row[5]})"
        sheet.append(
            [
                row[1],
                _local(conv.started_at),
                conv.mode.value,
                conv.kiosk_name,
                conv.username,
                conv.user_name,
                _local(row[3]),
                who,
                row[6],
                None if row[7] is None else bool(row[7]),
            ]
        )
        _tick(sheet.rows, progress, cancel)
    return sheet.rows


def _stats(
    s: Session,
    actor: Actor,
    wb: Workbook,
    chatbot_id: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> int:
    figures = stats.chatbot_figures(s, actor, chatbot_id)
    summary = _Sheet(wb, "Figures", ("Figure", "Value"), (30, 14))
    for label, value in (
        ("Participants", figures.participants),
        ("Guests", figures.guests),
        ("Conversations", figures.conversations),
        ("Attendees' messages", figures.user_messages),
        ("Assistant's replies", figures.bot_messages),
        ("All messages", figures.total_messages),
    ):
        summary.append([label, value])
    days = _Sheet(wb, "Messages per day", ("Day", "Messages"), (14, 12))
    for day, count in stats.messages_per_day(s, actor, days=stats.DAYS_MAX, chatbot_id=chatbot_id):
        if count or days.rows:
            days.append([day, count])
    top = _Sheet(wb, "Most active", ("Username", "Name", "Messages"), (22, 28, 12))
    for user in stats.most_active_users(s, actor, limit=stats.TOP_MAX, chatbot_id=chatbot_id):
        top.append([user.username, user.name, user.message_count])
    questions = _Sheet(wb, "Top questions", ("Question", "Times asked", "Last asked"), (80, 12, 18))
    for q in transcripts.top_questions(
        s, actor, chatbot_id=chatbot_id, days=365, limit=transcripts.TOP_MAX
    ):
        questions.append([q.question, q.count, _local(q.last_asked_at)])
    return summary.rows + days.rows + top.rows + questions.rows


__all__ = ["EXPORT_KINDS", "ExportKind", "export"]
