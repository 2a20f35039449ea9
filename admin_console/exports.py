"""Export actions: attendees, the participants of an assistant, its transcripts and its
statistics, as .xlsx (shared.spreadsheets.export), with a progress bar and Cancel. The export
runs in the TaskRunner; a cancelled export leaves no file behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Context
from admin_console.views.base import ChatbotPicker
from admin_console.widgets import fmt_int, muted
from shared.errors import KnownError
from shared.spreadsheets import EXPORT_KINDS, export
from shared.ui.tasks import Task

XLSX_FILTER = "Excel workbook (*.xlsx)"
EXPORT_LABELS = {
    "attendees": "Attendees (every attendee account)",
    "participants": "Participants of the assistant",
    "transcripts": "Transcripts of the assistant",
    "stats": "Statistics of the assistant",
}


class ExportDialog(QDialog):
    """Choose what to export (and of which assistant), where to, and watch it being written."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 kind: str = "attendees", chatbot_id: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Export to Excel"))
        self.setObjectName("exportDialog")
        self.task: Task[int] | None = None
        self.target: Path | None = None
        self.written: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        title = QLabel(self.tr("Export to Excel"))
        title.setObjectName("dialogTitle")
        layout.addWidget(title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.kind = QComboBox()
        for name in EXPORT_KINDS:
            self.kind.addItem(self.tr(EXPORT_LABELS.get(name, name)), name)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.currentIndexChanged.connect(lambda _i: self._update())
        form.addRow(self.tr("What"), self.kind)
        self.chatbot = ChatbotPicker(ctx)
        self.chatbot.chosen.connect(lambda _id: self._update())
        self.chatbot.reload()
        if chatbot_id is not None:
            self.chatbot.chosen.connect(lambda _id: self._preselect(chatbot_id))
        form.addRow(self.tr("Event assistant"), self.chatbot)
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = muted("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton(self.tr("Export…"))
        self.export_button.setObjectName("primary")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.resize(520, 260)
        self._update()

    _preselected = False

    def _preselect(self, chatbot_id: int) -> None:
        if not self._preselected:
            self._preselected = True
            self.chatbot.select(chatbot_id)

    def needs_chatbot(self) -> bool:
        return self.kind.currentData() != "attendees"

    def _update(self) -> None:
        busy = self.task is not None
        self.chatbot.setEnabled(self.needs_chatbot() and not busy)
        self.kind.setEnabled(not busy)
        self.export_button.setEnabled(
            not busy and (not self.needs_chatbot() or self.chatbot.current_id() is not None)
        )
        self.close_button.setText(self.tr("Cancel") if busy else self.tr("Close"))

    def start(self) -> None:
        """Ask where to save, then write the workbook in the background."""
        if self.task is not None or not self.export_button.isEnabled():
            return
        kind = str(self.kind.currentData())
        bot = self.chatbot.current_id() if self.needs_chatbot() else None
        suggested = f"{kind}.xlsx" if bot is None else f"{kind}-{bot}.xlsx"
        path = self.ctx.dialogs.save_file(self, self.tr("Export {0}").format(kind), suggested,
                                          XLSX_FILTER)
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".xlsx":
            target = target.with_suffix(".xlsx")
        self.target, self.written = target, None
        db, actor = self.ctx.database, self.ctx.actor
        self.progress.setRange(0, 0)
        self.status.setText(self.tr("Writing {0}…").format(target.name))

        def work(task: Task[int]) -> int:
            return export(db, actor, kind, target, chatbot_id=bot,
                          progress=lambda done, total: task.report((done, total)),
                          cancel=task.cancel_event)

        def alive() -> bool:
            return shiboken6.isValid(self)

        def progressed(value: Any) -> None:
            if alive():
                done, total = value
                self.progress.setRange(0, max(1, int(total)))
                self.progress.setValue(int(done))

        def done(n: int) -> None:
            if not alive():
                return
            self.task, self.written = None, n
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            message = self.tr("{0} row(s) written to {1}.").format(fmt_int(n), target)
            self.status.setText(message)
            self.ctx.notify.emit(
                self.tr("Exported {0} row(s) to {1}.").format(fmt_int(n), target.name), "success"
            )
            self._update()

        def failed(exc: BaseException) -> None:
            if not alive():
                return
            self.task = None
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self._update()
            if isinstance(exc, KnownError):
                self.status.setText(str(exc))
            else:
                self.status.clear()
                self.ctx.report_error(exc, self)

        self.task = self.ctx.runner.submit(work, on_done=done, on_error=failed,
                                           on_progress=progressed)
        self.task.relay.ended.connect(self._ended)
        self._update()

    def _ended(self) -> None:
        if not shiboken6.isValid(self) or self.task is None or not self.task.cancelled:
            return
        # Cancelled: the worker stopped (before saving, or the file was written just now).
        self.task = None
        if self.target is not None and self.written is None:
            self.target.unlink(missing_ok=True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(self.tr("Export cancelled."))
        self._update()

    def cancel(self) -> None:
        """Stop the export in flight (no file is left behind)."""
        if self.task is not None:
            self.task.cancel()
            self.status.setText(self.tr("Cancelling…"))

    def reject(self) -> None:
        if self.task is not None:
            self.cancel()
            return
        super().reject()


def open_export(ctx: Context, parent: QWidget | None = None, *, kind: str = "attendees",
                chatbot_id: int | None = None) -> ExportDialog:
    """Open the export dialog (window-modal, never blocking the event loop)."""
    dialog = ExportDialog(ctx, parent, kind=kind, chatbot_id=chatbot_id)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    return dialog
