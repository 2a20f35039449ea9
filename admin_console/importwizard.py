"""The spreadsheet import wizard: file, kind and assistant; column mapping; a dry-run preview
with every problem; the import with a progress bar and Cancel; a summary with the error report
and the credentials workbook to save. Every file and database call runs in the TaskRunner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.views.base import ChatbotPicker
from admin_console.widgets import fmt_int, muted
from shared.errors import KnownError
from shared.services.guests import PHOTO_MAX_BYTES
from shared.spreadsheets import (
    KINDS,
    Cancelled,
    ColumnMapping,
    ImportPlan,
    ImportResult,
    Table,
    check_mapping,
    header_score,
    plan,
    read_table,
    suggest_mapping,
    write_credentials,
    write_report,
    write_template,
)
from shared.spreadsheets import apply as apply_import
from shared.spreadsheets.mapping import fields
from shared.ui.tasks import Task

T = TypeVar("T")

SPREADSHEET_FILTER = "Spreadsheets (*.xlsx *.xlsm *.xlsb *.xls *.ods *.csv);;All files (*)"
XLSX_FILTER = "Excel workbook (*.xlsx)"
KIND_LABELS = {
    "attendees": "Attendees",
    "guests": "Guests (speakers, moderators)",
    "agenda": "Agenda sessions",
    "faq": "FAQ",
}
CHANGES = {
    "attendees": Changed.USERS,
    "guests": Changed.GUESTS,
    "agenda": Changed.AGENDA,
    "faq": Changed.FAQ,
}
#: Pages of the wizard, in order.
FILE, MAPPING, PREVIEW, IMPORTING, SUMMARY = range(5)
PAGE_TITLES = (
    "1 · File",
    "2 · Columns",
    "3 · Preview",
    "4 · Import",
    "5 · Summary",
)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ImportWizard(QDialog):
    """Import a spreadsheet of attendees, guests, agenda sessions or FAQ, page by page."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Import a spreadsheet"))
        self.setObjectName("importWizard")
        self.table: Table | None = None
        self.mapping: ColumnMapping | None = None
        self.plan: ImportPlan | None = None
        self.outcome: ImportResult | None = None
        self.task: Task[Any] | None = None
        self.cancelling = False
        #: Set by the worker when the import committed (even if Cancel came too late).
        self.applied: ImportResult | None = None
        #: Whether the credentials workbook of the import was saved (codes are shown once).
        self.credentials_saved = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        self.title = QLabel()
        self.title.setObjectName("dialogTitle")
        layout.addWidget(self.title)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages, 1)
        self.busy_label = muted("")
        self.busy_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.busy_label)
        #: Known errors (unusable file, mapping refused, import failed or cancelled).
        self.status = QLabel()
        self.status.setObjectName("formError")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.hide()
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.back_button = QPushButton(self.tr("Back"))
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton(self.tr("Next"))
        self.next_button.setObjectName("primary")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next)
        self.close_button = QPushButton(self.tr("Cancel"))
        self.close_button.clicked.connect(self.reject)
        buttons.addStretch(1)
        for button in (self.back_button, self.next_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self._build_file_page()
        self._build_mapping_page()
        self._build_preview_page()
        self._build_import_page()
        self._build_summary_page()
        self._kind_changed()
        self.resize(760, 580)
        self.show_page(FILE)

    # Pages ------------------------------------------------------------------------------------

    def _build_file_page(self) -> None:
        page = QWidget()
        form = self.file_form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        self.path.setPlaceholderText(self.tr("No file chosen"))
        row.addWidget(self.path, 1)
        self.choose_button = QPushButton(self.tr("Choose…"))
        self.choose_button.clicked.connect(self.choose_file)
        row.addWidget(self.choose_button)
        form.addRow(self.tr("File"), row)
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(self.tr(KIND_LABELS.get(kind, kind)), kind)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.kind, 1)
        self.template_button = QPushButton(self.tr("Download a template…"))
        self.template_button.setToolTip(self.tr(
            "An empty workbook with the columns the import recognises, an example row and a "
            "sheet explaining each column."
        ))
        self.template_button.clicked.connect(self.save_template)
        kind_row.addWidget(self.template_button)
        form.addRow(self.tr("What it holds"), kind_row)
        self.chatbot = ChatbotPicker(self.ctx)
        self.chatbot.chosen.connect(lambda _id: self._update_buttons())
        self.chatbot.reload()
        form.addRow(self.tr("Event assistant"), self.chatbot)
        self.on_duplicate = QComboBox()
        self.on_duplicate.addItem(self.tr("Update them (blank cells keep what is stored)"),
                                  "update")
        self.on_duplicate.addItem(self.tr("Skip them (leave them as they are)"), "skip")
        form.addRow(self.tr("Records that exist already"), self.on_duplicate)
        photos_row = QHBoxLayout()
        self.photos = QLineEdit()
        self.photos.setReadOnly(True)
        self.photos.setPlaceholderText(self.tr("No folder: guests keep their photos"))
        photos_row.addWidget(self.photos, 1)
        self.photos_button = QPushButton(self.tr("Choose…"))
        self.photos_button.clicked.connect(self.choose_photos)
        photos_row.addWidget(self.photos_button)
        self.photos_clear = QPushButton(self.tr("Clear"))
        self.photos_clear.clicked.connect(lambda: self.photos.clear())
        photos_row.addWidget(self.photos_clear)
        self.photos_label = QLabel(self.tr("Photos folder"))
        form.addRow(self.photos_label, photos_row)
        self.photos_note = muted(self.tr(
            "The Photo column names image files in this folder (PNG, JPEG or WebP, up to "
            "{0} MB); the preview lists names that are missing or unusable."
        ).format(PHOTO_MAX_BYTES // 1_048_576
        ))
        self.photos_note.setWordWrap(True)
        form.addRow("", self.photos_note)
        self.kind_note = muted("")
        self.kind_note.setWordWrap(True)
        form.addRow("", self.kind_note)
        self.pages.addWidget(page)

    def _build_mapping_page(self) -> None:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        self.mapping_note = muted("")
        self.mapping_note.setWordWrap(True)
        column.addWidget(self.mapping_note)
        self.mapping_table = _table([self.tr("Field"), self.tr("Column in the file")])
        self.mapping_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.mapping_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        column.addWidget(self.mapping_table, 1)
        self.combos: dict[str, QComboBox] = {}
        self.pages.addWidget(page)

    def _build_preview_page(self) -> None:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        self.counts: dict[str, QLabel] = {}
        for i, (key, label) in enumerate((
            ("create", self.tr("New")),
            ("update", self.tr("Updated")),
            ("skip", self.tr("Skipped")),
            ("reject", self.tr("Rejected")),
        )):
            value = QLabel("0")
            value.setObjectName("figureValue")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = muted(label)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(value, 0, i)
            grid.addWidget(caption, 1, i)
            self.counts[key] = value
        column.addLayout(grid)
        self.problems_note = muted("")
        self.problems_note.setWordWrap(True)
        column.addWidget(self.problems_note)
        self.problems = _table([self.tr("Row"), self.tr("Column"), self.tr("Problem")])
        self.problems.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.problems.setColumnWidth(1, 180)
        column.addWidget(self.problems, 1)
        self.preview_report_button = QPushButton(self.tr("Save error report…"))
        self.preview_report_button.clicked.connect(self.save_report)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.preview_report_button)
        column.addLayout(row)
        self.pages.addWidget(page)

    def _build_import_page(self) -> None:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addStretch(1)
        self.progress_label = QLabel(self.tr("Importing…"))
        column.addWidget(self.progress_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        column.addWidget(self.progress)
        note = muted(self.tr("All rows are written in one transaction: Cancel leaves the "
                             "database exactly as it was."))
        note.setWordWrap(True)
        column.addWidget(note)
        column.addStretch(2)
        self.pages.addWidget(page)

    def _build_summary_page(self) -> None:
        page = QWidget()
        column = QVBoxLayout(page)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setObjectName("summaryText")
        column.addWidget(self.summary)
        self.credentials_note = muted(self.tr(
            "Badge codes are shown only once: save the credentials workbook now and keep it "
            "safe. Lost codes cannot be recovered."
        ))
        self.credentials_note.setWordWrap(True)
        column.addWidget(self.credentials_note)
        row = QHBoxLayout()
        self.credentials_button = QPushButton(self.tr("Save credentials…"))
        self.credentials_button.setObjectName("primary")
        self.credentials_button.clicked.connect(self.save_credentials)
        self.report_button = QPushButton(self.tr("Save error report…"))
        self.report_button.clicked.connect(self.save_report)
        row.addWidget(self.credentials_button)
        row.addWidget(self.report_button)
        row.addStretch(1)
        column.addLayout(row)
        self.saved_label = muted("")
        self.saved_label.setWordWrap(True)
        column.addWidget(self.saved_label)
        column.addStretch(1)
        self.pages.addWidget(page)

    def say(self, error: str = "", busy: str = "") -> None:
        """Show a known error (red) or what the background work is doing (muted)."""
        self.status.setText(error)
        self.status.setVisible(bool(error))
        self.busy_label.setText(busy)

    # Navigation -------------------------------------------------------------------------------

    def current(self) -> int:
        return self.pages.currentIndex()

    def show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.title.setText(self.tr(PAGE_TITLES[index]))
        self.say()
        self._update_buttons()

    def busy(self) -> bool:
        return self.task is not None

    def _update_buttons(self) -> None:
        page, busy = self.current(), self.busy()
        self.back_button.setVisible(page in (MAPPING, PREVIEW))
        self.back_button.setEnabled(not busy)
        self.next_button.setVisible(page in (FILE, MAPPING, PREVIEW))
        ready = {
            FILE: bool(self.path.text()) and (
                self.kind.currentData() == "attendees" or self.chatbot.current_id() is not None
            ),
            MAPPING: True,
            PREVIEW: self.plan is not None and (
                self.plan.created + self.plan.updated + self.plan.skipped > 0
            ),
        }.get(page, False)
        self.next_button.setEnabled(ready and not busy)
        self.next_button.setText(self.tr("Import") if page == PREVIEW else self.tr("Next"))
        for button in (self.choose_button, self.template_button, self.photos_button,
                       self.photos_clear):
            button.setEnabled(not busy)
        if page == IMPORTING:
            self.close_button.setText(self.tr("Cancel"))
            self.close_button.setEnabled(not self.cancelling)
        elif page == SUMMARY:
            self.close_button.setText(self.tr("Close"))
        else:
            self.close_button.setText(self.tr("Cancel"))
            self.close_button.setEnabled(True)

    def back(self) -> None:
        if not self.busy() and self.current() in (MAPPING, PREVIEW):
            self.show_page(self.current() - 1)

    def next(self) -> None:
        if self.busy() or not self.next_button.isEnabled():
            return
        page = self.current()
        if page == FILE:
            self.read_file()
        elif page == MAPPING:
            self.preview()
        elif page == PREVIEW:
            self.start_import()

    def reject(self) -> None:
        """Cancel: while importing it cancels the import (and waits for the rollback);
        otherwise it cancels any background read and closes."""
        if self.current() == IMPORTING:
            self.cancel_import()
            return
        unsaved = self.unsaved_credentials()
        if unsaved and not self.ctx.dialogs.confirm(
            self,
            self.tr("Close without saving the credentials?"),
            self.tr("The badge codes of {0} new attendee(s) are shown only this once: without "
                    "the credentials workbook they cannot sign in with a badge until you issue "
                    "new codes.").format(fmt_int(unsaved)),
            action=self.tr("Close without saving"),
        ):
            return
        if self.task is not None:
            self.task.cancel()
            self.task = None
        super().reject()

    def unsaved_credentials(self) -> int:
        """How many new attendees' badge codes would be lost by closing now."""
        result = self.outcome
        if self.current() != SUMMARY or result is None or self.credentials_saved:
            return 0
        return len(result.credentials)

    # Background work --------------------------------------------------------------------------

    def _submit(
        self,
        fn: Callable[[Task[Any]], T],
        on_done: Callable[[T], None],
        *,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Task[T]:
        """Run ``fn(task)`` in the TaskRunner; known errors show under the page."""

        def alive() -> bool:
            return shiboken6.isValid(self)

        def done(result: T) -> None:
            if alive():
                self.task = None
                on_done(result)
                self._update_buttons()

        def failed(exc: BaseException) -> None:
            if not alive():
                return
            self.task = None
            self._update_buttons()
            if isinstance(exc, KnownError):
                self.say(str(exc))
            else:
                self.ctx.report_error(exc, self)

        def progress(value: Any) -> None:
            if alive() and on_progress is not None:
                on_progress(value)

        task = self.ctx.runner.submit(fn, on_done=done, on_error=failed, on_progress=progress)
        self.task = task
        self._update_buttons()
        return task

    # Page 1: file -----------------------------------------------------------------------------

    def _kind_changed(self) -> None:
        guests = self.kind.currentData() == "guests"
        for widget in (self.photos_label, self.photos_note):  # their rows, spacing included
            self.file_form.setRowVisible(widget, guests)
        notes = {
            "attendees": self.tr("Attendees are enrolled in the chosen assistant and get a "
                                 "personal badge code; an existing account has the same email."),
            "guests": self.tr("Guests (speakers and moderators) join the chosen assistant's "
                              "event; an existing guest has the same name."),
            "agenda": self.tr("Sessions join the chosen assistant's agenda, speakers matched to "
                              "its guests by name; an existing session has the same title and "
                              "start."),
            "faq": self.tr("Questions and answers join the chosen assistant's FAQ; an existing "
                           "entry has the same question."),
        }
        self.kind_note.setText(
            notes.get(str(self.kind.currentData()), "") + " "
            + self.tr("Nothing is written before the preview.")
        )
        self._update_buttons()

    def photos_dir(self) -> Path | None:
        """The guests' photos folder, when importing guests and one was chosen."""
        if self.kind.currentData() != "guests" or not self.photos.text():
            return None
        return Path(self.photos.text())

    def choose_photos(self) -> None:
        path = self.ctx.dialogs.open_folder(self, self.tr("Choose the folder of guest photos"))
        if path:
            self.photos.setText(path)

    def save_template(self) -> None:
        """Save an empty workbook for the chosen kind: its columns, an example, notes."""
        kind = str(self.kind.currentData())

        def write(target: Path, _task: Task[Any]) -> int:
            write_template(kind, target)
            return 1

        self._save(self.tr("Save the template"), f"convergeai-{kind}-template.xlsx", write,
                   self.tr("Template saved to {0}."))

    def choose_file(self) -> None:
        path = self.ctx.dialogs.open_file(self, self.tr("Choose a spreadsheet"),
                                          SPREADSHEET_FILTER)
        if path:
            self.path.setText(path)
            self.table = None
        self._update_buttons()

    def read_file(self) -> None:
        path, kind = Path(self.path.text()), str(self.kind.currentData())
        self.say(busy=self.tr("Reading {0}…").format(path.name))

        def work(task: Task[Table]) -> Table:
            return read_table(path, header_score=header_score(kind), cancel=task.cancel_event)

        def read(table: Table) -> None:
            self.table = table
            self.fill_mapping(kind, table, suggest_mapping(kind, table.headers))
            self.show_page(MAPPING)

        self._submit(work, read)

    # Page 2: mapping --------------------------------------------------------------------------

    def fill_mapping(self, kind: str, table: Table, mapping: ColumnMapping) -> None:
        kind_fields = fields(kind)
        self.mapping_note.setText(self.tr(
            "{0} row(s) found under the headers in row {1}. Check which column holds each "
            "field; the suggestions come from the headers. * marks a required field."
        ).format(fmt_int(len(table)), table.header_row))
        self.mapping_table.setRowCount(len(kind_fields))
        self.combos = {}
        for i, field in enumerate(kind_fields):
            label = QTableWidgetItem(field.label + (" *" if field.required else ""))
            if field.help:
                label.setToolTip(field.help)
            self.mapping_table.setItem(i, 0, label)
            combo = QComboBox()
            combo.addItem(self.tr("— not imported —"), None)
            for index, header in enumerate(table.headers):
                letter = table.letters[index] if index < len(table.letters) else ""
                combo.addItem(f"{letter} · {header}" if letter else header, index)
            chosen = mapping.column(field.name)
            combo.setCurrentIndex(combo.findData(chosen) if chosen is not None else 0)
            self.mapping_table.setCellWidget(i, 1, combo)
            self.combos[field.name] = combo
        self.mapping_table.resizeRowsToContents()

    def chosen_mapping(self) -> ColumnMapping:
        """The mapping as the organizer left it in the combos."""
        kind = str(self.kind.currentData())
        columns = {
            name: int(combo.currentData())
            for name, combo in self.combos.items()
            if combo.currentData() is not None
        }
        return ColumnMapping(kind, columns)

    def preview(self) -> None:
        table = self.table
        if table is None:
            return
        mapping = self.chosen_mapping()
        try:
            check_mapping(mapping, table.headers)
        except KnownError as exc:
            self.say(str(exc))
            return
        used = [i for i in mapping.columns.values()]
        if len(used) != len(set(used)):
            self.say(self.tr("Each column can hold only one field."))
            return
        self.mapping = mapping
        db, actor = self.ctx.database, self.ctx.actor
        kind, bot, photos = mapping.kind, self.chatbot.current_id(), self.photos_dir()
        on_duplicate: Literal["update", "skip"] = (
            "skip" if self.on_duplicate.currentData() == "skip" else "update"
        )
        self.say(busy=self.tr("Checking every row…"))

        def work(task: Task[ImportPlan]) -> ImportPlan:
            with db.read() as s:
                return plan(s, actor, kind, table, mapping, chatbot_id=bot,
                            on_duplicate=on_duplicate, photos_dir=photos,
                            cancel=task.cancel_event)

        def checked(dry: ImportPlan) -> None:
            self.plan = dry
            self.show_preview(dry)
            self.show_page(PREVIEW)

        self._submit(work, checked)

    # Page 3: preview --------------------------------------------------------------------------

    def show_preview(self, dry: ImportPlan) -> None:
        for key, value in (("create", dry.created), ("update", dry.updated),
                           ("skip", dry.skipped), ("reject", dry.rejected)):
            self.counts[key].setText(fmt_int(value))
        if dry.problems:
            self.problems_note.setText(self.tr(
                "{0} problem(s). Rejected rows are left out of the import; save the error "
                "report, fix them in Excel and import them again."
            ).format(fmt_int(len(dry.problems))))
        else:
            self.problems_note.setText(self.tr("No problems: every row can be imported."))
        self.problems.setRowCount(len(dry.problems))
        for i, problem in enumerate(dry.problems):
            row = QTableWidgetItem()
            row.setData(Qt.ItemDataRole.DisplayRole, problem.row)
            column = f"{problem.column} · {problem.header}" if problem.header else problem.column
            self.problems.setItem(i, 0, row)
            self.problems.setItem(i, 1, QTableWidgetItem(column))
            self.problems.setItem(i, 2, QTableWidgetItem(problem.message))
        self.preview_report_button.setEnabled(dry.rejected > 0)

    # Page 4: import ---------------------------------------------------------------------------

    def start_import(self) -> None:
        dry = self.plan
        if dry is None:
            return
        db, actor = self.ctx.database, self.ctx.actor
        self.cancelling = False
        self.applied = None
        self.progress.setRange(0, 0)
        self.progress_label.setText(self.tr("Importing {0} row(s)…").format(
            fmt_int(dry.created + dry.updated + dry.skipped)))
        self.show_page(IMPORTING)

        def work(task: Task[ImportResult]) -> ImportResult:
            result = apply_import(db, actor, dry,
                                  progress=lambda done, total: task.report((done, total)),
                                  cancel=task.cancel_event)
            self.applied = result
            return result

        def progressed(value: Any) -> None:
            done, total = value
            self.progress.setRange(0, max(1, int(total)))
            self.progress.setValue(int(done))

        def failed_back() -> None:
            # An error (not a cancel) leaves the import page: back to the preview.
            if self.current() == IMPORTING and not self.cancelling:
                message = self.status.text()
                self.show_page(PREVIEW)
                self.say(message)

        task = self._submit(work, self._finished, on_progress=progressed)
        task.relay.failed.connect(lambda _e: failed_back())
        task.relay.ended.connect(self._import_ended)

    def _finished(self, result: ImportResult) -> None:
        self.outcome = result
        self.show_summary(result)
        self.show_page(SUMMARY)
        self.ctx.announce(CHANGES.get(result.kind, Changed.ALL), self.tr(
            "Import finished: {0} new, {1} updated.").format(
                fmt_int(result.created), fmt_int(result.updated)))

    def cancel_import(self) -> None:
        """Ask the import to stop; the transaction rolls back, then the preview shows again."""
        if self.task is None or self.cancelling:
            return
        self.cancelling = True
        self.task.cancel()
        self.progress_label.setText(self.tr("Cancelling… (undoing the changes)"))
        self._update_buttons()

    def _import_ended(self) -> None:
        if not shiboken6.isValid(self) or not self.cancelling:
            return
        # The worker has returned: the rollback is done.
        self.cancelling = False
        self.task = None
        if self.applied is not None:  # Cancel came after the commit: it was imported.
            self._finished(self.applied)
            return
        self.show_page(PREVIEW)
        self.say(str(Cancelled("The import was cancelled; nothing was changed.")))

    # Page 5: summary --------------------------------------------------------------------------

    def show_summary(self, result: ImportResult) -> None:
        lines = [
            self.tr("{0} row(s) read.").format(fmt_int(result.rows)),
            self.tr("New: {0} · Updated: {1} · Skipped: {2} · Rejected: {3}").format(
                fmt_int(result.created), fmt_int(result.updated),
                fmt_int(result.skipped), fmt_int(result.rejected)),
        ]
        if result.kind == "attendees" and self.chatbot.current_id() is not None:
            lines.append(self.tr("{0} attendee(s) enrolled in {1}.").format(
                fmt_int(result.enrolled), self.chatbot.currentText()))
        if result.rejected:
            lines.append(self.tr("Rejected rows were not imported: save the error report, "
                                 "fix them and import the report again."))
        self.summary.setText("\n".join(lines))
        self.credentials_button.setVisible(bool(result.credentials))
        self.credentials_note.setVisible(bool(result.credentials))
        self.report_button.setVisible(result.rejected > 0)

    def _save(self, title: str, suggested: str, write: Callable[[Path, Task[Any]], int],
              message: str, on_saved: Callable[[], None] | None = None) -> None:
        path = self.ctx.dialogs.save_file(self, title, suggested, XLSX_FILTER)
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".xlsx":
            target = target.with_suffix(".xlsx")

        def saved(_n: int) -> None:
            self.say(busy=message.format(target) if self.current() == FILE else "")
            self.saved_label.setText(message.format(target))
            self.ctx.notify.emit(message.format(target.name), "success")
            if on_saved is not None:
                on_saved()

        def progressed(value: Any) -> None:
            done, total = value
            self.say(busy=self.tr("Writing {0}: {1} of {2}…").format(
                target.name, fmt_int(done), fmt_int(total)))

        self.say(busy=self.tr("Writing {0}…").format(target.name))
        self._submit(lambda task: write(target, task), saved, on_progress=progressed)

    def save_report(self) -> None:
        """Save the rejected rows, problem cells highlighted, ready to fix and import again."""
        source: ImportPlan | ImportResult | None = self.outcome or self.plan
        if source is None:
            return
        stem = Path(self.path.text()).stem or "import"
        self._save(self.tr("Save the error report"), f"{stem}-problems.xlsx",
                   lambda target, _task: write_report(source, target),
                   self.tr("Error report saved to {0}."))

    def save_credentials(self) -> None:
        """Save the credentials workbook (badge codes and QR codes, shown only once)."""
        result = self.outcome
        if result is None or not result.credentials:
            return
        stem = Path(self.path.text()).stem or "import"

        def write(target: Path, task: Task[Any]) -> int:
            return write_credentials(result, target, cancel=task.cancel_event,
                                     progress=lambda done, total: task.report((done, total)))

        def saved() -> None:
            self.credentials_saved = True

        self._save(self.tr("Save the credentials"), f"{stem}-credentials.xlsx", write,
                   self.tr("Credentials saved to {0}."), on_saved=saved)


def open_import_wizard(ctx: Context, parent: QWidget | None = None) -> ImportWizard:
    """Open the wizard (window-modal, never blocking the event loop)."""
    wizard = ImportWizard(ctx, parent)
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    wizard.setWindowModality(Qt.WindowModality.WindowModal)
    wizard.open()
    return wizard


__all__ = ["ImportWizard", "open_import_wizard"]
