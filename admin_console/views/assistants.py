"""Event assistants: the list with their figures, the create/edit form, delete (saying what goes
with it) and a preview to chat with the selected assistant as a kiosk would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.dialogs import EditDialog
from admin_console.models import Column, RecordModel, selected_record
from admin_console.preview import PreviewPane
from admin_console.views.base import View
from admin_console.widgets import SearchField, fmt_date, fmt_int, heading, make_table
from shared.services import chatbots
from shared.services.chatbots import ChatbotDetail, DeletionImpact
from shared.services.common import venue_today


def _modes(bot: ChatbotDetail) -> str:
    parts = []
    if bot.single_mode:
        parts.append("Single")
    if bot.multiple_mode:
        parts.append("Walk-up")
    return " + ".join(parts)


def _dates(span: tuple[date, date]) -> str:
    start, end = span
    if start == end:
        return fmt_date(start)
    return f"{fmt_date(start)} → {end:%d %b}" if start.year == end.year else (
        f"{fmt_date(start)} → {fmt_date(end)}"
    )


ASSISTANT_COLUMNS: tuple[Column[ChatbotDetail], ...] = (
    Column("Name", lambda b: b.name),
    Column("Event", lambda b: b.event_name),
    Column("Status", lambda b: b.status.value, text=str.capitalize),
    Column("Dates", lambda b: (b.start_date, b.end_date), text=_dates),
    Column("Modes", _modes),
    Column("Public", lambda b: b.public, text=lambda v: "Public" if v else "Private"),
    Column("Guests", lambda b: b.guest_count, text=fmt_int, numeric=True),
    Column("Participants", lambda b: b.participant_count, text=fmt_int, numeric=True),
    Column("Messages", lambda b: b.message_count, text=fmt_int, numeric=True),
)


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class AssistantDialog(EditDialog):
    """Create or edit an assistant."""

    changes = Changed.CHATBOTS

    def __init__(self, ctx: Context, bot: ChatbotDetail | None, parent: QWidget | None = None):
        super().__init__(
            ctx, ctx.tr("Edit assistant") if bot else ctx.tr("New assistant"), parent
        )
        self.bot = bot
        self.name = QLineEdit(bot.name if bot else "")
        self.name.setPlaceholderText(self.tr("Shown on the kiosks, e.g. Summit Helper"))
        self.event_name = QLineEdit(bot.event_name if bot else "")
        self.description = QPlainTextEdit(bot.description if bot else "")
        self.description.setFixedHeight(70)
        today = venue_today()
        self.start = QDateEdit(qdate(bot.start_date if bot else today))
        self.end = QDateEdit(qdate(bot.end_date if bot else today + timedelta(days=1)))
        for picker in (self.start, self.end):
            picker.setCalendarPopup(True)
            picker.setDisplayFormat("yyyy-MM-dd")
        dates = QHBoxLayout()
        dates.addWidget(self.start)
        dates.addWidget(self.end)
        dates.addStretch(1)
        self.prompt = QPlainTextEdit(bot.system_prompt if bot else "")
        self.prompt.setObjectName("promptEditor")
        self.prompt.setPlaceholderText(
            self.tr(
                "How the assistant should behave: tone, what to stress, what to leave out. "
                "It always answers from the event's data only."
            )
        )
        self.prompt.setMinimumHeight(200)
        self.single = QCheckBox(self.tr("Single-person: signed-in attendees, resumable"))
        self.multiple = QCheckBox(self.tr("Multiple-person: walk-up, anonymous"))
        self.single.setChecked(bot.single_mode if bot else True)
        self.multiple.setChecked(bot.multiple_mode if bot else True)
        modes = QVBoxLayout()
        modes.addWidget(self.single)
        modes.addWidget(self.multiple)
        self.public = QCheckBox(self.tr("Public: every attendee sees it (else only enrolled ones)"))
        self.public.setChecked(bot.public if bot else True)
        self.active = QCheckBox(self.tr("Active: switched on"))
        self.active.setChecked(bot.active if bot else True)
        flags = QVBoxLayout()
        flags.addWidget(self.public)
        flags.addWidget(self.active)
        self.add("name", self.name, self.tr("Name"))
        self.add("event_name", self.event_name, self.tr("Event"))
        self.add("description", self.description, self.tr("Description"))
        self.add("start_date", dates, self.tr("Dates"))
        self.errors.labels["end_date"] = self.errors.labels["start_date"]
        self.add("system_prompt", self.prompt, self.tr("System prompt"))
        self.add("single_mode", modes, self.tr("Modes"))
        self.add("public", flags, self.tr("Visibility"))
        self.resize(760, 720)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "event_name": self.event_name.text(),
            "description": self.description.toPlainText(),
            "start_date": pydate(self.start.date()),
            "end_date": pydate(self.end.date()),
            "system_prompt": self.prompt.toPlainText(),
            "single_mode": self.single.isChecked(),
            "multiple_mode": self.multiple.isChecked(),
            "public": self.public.isChecked(),
            "active": self.active.isChecked(),
        }

    def work(self) -> Callable[[], ChatbotDetail]:
        db, actor, values = self.ctx.database, self.ctx.actor, self.values()
        bot_id = self.bot.id if self.bot else None

        def save() -> ChatbotDetail:
            with db.session() as s:
                if bot_id is None:
                    return chatbots.create(s, actor, **values)
                return chatbots.update_chatbot(s, actor, bot_id, **values)

        return save

    def success_message(self, result: Any) -> str:
        verb = self.tr("saved") if self.bot else self.tr("created")
        return self.tr("Assistant {0} {1}.").format(result.name, verb)


def impact_text(impact: DeletionImpact) -> str:
    return (
        f"Deleting “{impact.name}” also deletes its {impact.guests:,} guest(s), "
        f"{impact.participants:,} enrolment(s), {impact.conversations:,} conversation(s) and "
        f"{impact.messages:,} message(s), with its programme and FAQ. This cannot be undone."
    )


class AssistantsView(View):
    """Every assistant with its figures; edit, delete, preview."""

    title = "Assistants"
    watches = Changed.CHATBOTS | Changed.GUESTS | Changed.MESSAGES | Changed.USERS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.dialog: AssistantDialog | None = None
        self._pending_select: int | None = None
        self.model: RecordModel[ChatbotDetail] = RecordModel(ASSISTANT_COLUMNS, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("Assistants")))
        top.addStretch(1)
        self.search = SearchField(self.tr("Search assistants (Ctrl+F)"))
        self.search.setFixedWidth(280)
        self.search.search.connect(lambda _t: self.refresh())
        top.addWidget(self.search)
        self.new_button = QPushButton(self.tr("New assistant"))
        self.new_button.setObjectName("primary")
        self.new_button.setToolTip("Ctrl+N")
        self.new_button.clicked.connect(self.new_item)
        self.edit_button = QPushButton(self.tr("Edit"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("danger")
        self.delete_button.setToolTip("Del")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.new_button, self.edit_button, self.delete_button):
            top.addWidget(button)
        layout.addLayout(top)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = make_table(stretch_column=1)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # by dates
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.preview = PreviewPane(ctx)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        self._update_buttons()

    # State -------------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("assistants/splitter", self.splitter.saveState())

    def restore_state(self, settings: QSettings) -> None:
        state = settings.value("assistants/splitter")
        if state is not None:
            self.splitter.restoreState(state)

    def selected(self) -> ChatbotDetail | None:
        return selected_record(self.table, ChatbotDetail)

    def _selected(self, *_args: object) -> None:
        bot = self.selected()
        self.preview.set_chatbot(bot.id if bot else None, bot.name if bot else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    # Actions -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.ctx.user is None:
            return
        super().refresh()
        db, actor, term = self.ctx.database, self.ctx.actor, self.search.text().strip()
        chosen = self.selected()

        def load() -> list[ChatbotDetail]:
            with db.read() as s:
                return chatbots.list_for_organizers(s, actor, search=term)

        def show(bots: list[ChatbotDetail]) -> None:
            header = self.table.horizontalHeader()
            self.model.set_records(bots)
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
            target = self._pending_select or (chosen.id if chosen is not None else None)
            self._pending_select = None
            if target is not None:
                self.select(target)
            for column in range(self.model.columnCount()):
                if column != 1:
                    self.table.resizeColumnToContents(column)
            self._update_buttons()

        self.ctx.run(load, show, owner=self)

    def select(self, chatbot_id: int) -> None:
        row = self.model.row_of(chatbot_id)
        if row >= 0:
            self.table.selectRow(row)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def new_item(self) -> None:
        self._open(None)

    def edit_selected(self) -> None:
        bot = self.selected()
        if bot is not None:
            self._open(bot)

    def _open(self, bot: ChatbotDetail | None) -> None:
        self.dialog = AssistantDialog(self.ctx, bot, self)
        self.dialog.saved.connect(lambda saved: self._saved_id(saved.id))
        self.dialog.open()

    def _saved_id(self, chatbot_id: int) -> None:
        self._pending_select = chatbot_id

    def delete_selected(self) -> None:
        bot = self.selected()
        if bot is None:
            return
        db, actor = self.ctx.database, self.ctx.actor

        def impact() -> DeletionImpact:
            with db.read() as s:
                return chatbots.deletion_impact(s, actor, bot.id)

        def ask(found: DeletionImpact) -> None:
            if not self.ctx.dialogs.confirm(
                self, self.tr("Delete {0}?").format(found.name), impact_text(found)
            ):
                return

            def delete() -> DeletionImpact:
                with db.session() as s:
                    return chatbots.delete_chatbot(s, actor, bot.id)

            self.ctx.run(
                delete,
                lambda gone: self.ctx.announce(
                    Changed.ALL, self.tr("Assistant {0} deleted.").format(gone.name)
                ),
                owner=self,
            )

        self.ctx.run(impact, ask, owner=self)
