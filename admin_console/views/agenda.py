"""The programme of an assistant's event: sessions with times in the venue's time zone, rooms,
tracks and speakers chosen from the assistant's guests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.dialogs import EditDialog
from admin_console.models import Column, RecordModel, selected_record
from admin_console.views.base import ChatbotPicker, View
from admin_console.widgets import heading, make_table, muted
from shared.services import agenda, chatbots, guests
from shared.services.agenda import AgendaItemInfo
from shared.services.chatbots import ChatbotDetail
from shared.services.guests import GuestDetail
from shared.settings import get_settings


def venue_local(moment: datetime) -> datetime:
    """An aware time as the venue's naive wall-clock time."""
    return moment.astimezone(get_settings().timezone()).replace(tzinfo=None)


def to_qdatetime(value: datetime) -> QDateTime:
    return QDateTime(
        QDate(value.year, value.month, value.day), QTime(value.hour, value.minute)
    )


def from_qdatetime(value: QDateTime) -> datetime:
    """The wall-clock time of an edit, naive."""
    d, t = value.date(), value.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())


def venue_aware(value: datetime) -> datetime:
    """A naive venue-local wall-clock time made aware in the venue's zone (the service refuses
    naive times; an ambiguous time at the autumn change is read as the first one)."""
    return value.replace(tzinfo=get_settings().timezone())


def _time_span(item: AgendaItemInfo) -> str:
    start, end = venue_local(item.starts_at), venue_local(item.ends_at)
    same_day = start.date() == end.date()
    if same_day:
        return f"{start:%a %d %b %H:%M}–{end:%H:%M}"
    return f"{start:%d %b %H:%M}–{end:%d %b %H:%M}"


AGENDA_COLUMNS: tuple[Column[AgendaItemInfo], ...] = (
    Column("When", lambda i: i.starts_at, text=lambda _v: ""),
    Column("Title", lambda i: i.title),
    Column("Room", lambda i: i.location),
    Column("Track", lambda i: i.track),
    Column("Speakers", lambda i: ", ".join(i.speaker_names)),
)


class AgendaModel(RecordModel[AgendaItemInfo]):
    """The programme; the When column shows the venue-local span."""

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
            and index.isValid()
            and index.column() == 0
            and 0 <= index.row() < len(self.records)
        ):
            return _time_span(self.records[index.row()])
        return super().data(index, role)


class AgendaDialog(EditDialog):
    """Create or edit a session."""

    changes = Changed.AGENDA

    def __init__(
        self,
        ctx: Context,
        bot: ChatbotDetail,
        speakers: list[GuestDetail],
        item: AgendaItemInfo | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, ctx.tr("Edit session") if item else ctx.tr("New session"), parent)
        self.bot = bot
        self.item = item
        self.title_edit = QLineEdit(item.title if item else "")
        if item is not None:
            start, end = venue_local(item.starts_at), venue_local(item.ends_at)
        else:
            start = datetime.combine(bot.start_date, datetime.min.time()).replace(hour=9)
            end = start + timedelta(hours=1)
        self.starts = QDateTimeEdit(to_qdatetime(start))
        self.ends = QDateTimeEdit(to_qdatetime(end))
        for edit in (self.starts, self.ends):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.starts.dateTimeChanged.connect(self._keep_length)
        self._length = end - start
        times = QHBoxLayout()
        times.addWidget(self.starts)
        times.addWidget(self.ends)
        times.addStretch(1)
        zone = get_settings().timezone()
        self.location = QLineEdit(item.location if item else "")
        self.track = QLineEdit(item.track if item else "")
        self.description = QPlainTextEdit(item.description if item else "")
        self.description.setMinimumHeight(100)
        self.speakers = QListWidget()
        self.speakers.setObjectName("speakerList")
        self.speakers.setMinimumHeight(120)
        chosen = set(item.speaker_ids) if item else set()
        for guest in speakers:
            entry = QListWidgetItem(f"{guest.name} — {guest.title}" if guest.title else guest.name)
            entry.setData(Qt.ItemDataRole.UserRole, guest.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(
                Qt.CheckState.Checked if guest.id in chosen else Qt.CheckState.Unchecked
            )
            self.speakers.addItem(entry)
        self.add("title", self.title_edit, self.tr("Title"))
        self.add("starts_at", times, self.tr("Time ({0})").format(zone.key))
        self.errors.labels["ends_at"] = self.errors.labels["starts_at"]
        self.add("location", self.location, self.tr("Room"))
        self.add("track", self.track, self.tr("Track"))
        self.add("speaker_ids", self.speakers, self.tr("Speakers"))
        if not speakers:
            self.form.addRow("", muted(self.tr("Add guests to this assistant to pick speakers.")))
        self.add("description", self.description, self.tr("Description"))
        self.resize(640, 660)

    def _keep_length(self, value: QDateTime) -> None:
        self.ends.setDateTime(to_qdatetime(from_qdatetime(value) + self._length))

    def speaker_ids(self) -> list[int]:
        ids = []
        for row in range(self.speakers.count()):
            entry = self.speakers.item(row)
            if entry.checkState() == Qt.CheckState.Checked:
                ids.append(int(entry.data(Qt.ItemDataRole.UserRole)))
        return ids

    def work(self) -> Callable[[], AgendaItemInfo]:
        db, actor = self.ctx.database, self.ctx.actor
        values: dict[str, Any] = {
            "title": self.title_edit.text(),
            # the pickers show the venue's wall-clock time
            "starts_at": venue_aware(from_qdatetime(self.starts.dateTime())),
            "ends_at": venue_aware(from_qdatetime(self.ends.dateTime())),
            "location": self.location.text(),
            "track": self.track.text(),
            "description": self.description.toPlainText(),
            "speaker_ids": self.speaker_ids(),
        }
        item_id, chatbot_id = (self.item.id if self.item else None), self.bot.id

        def save() -> AgendaItemInfo:
            with db.session() as s:
                if item_id is None:
                    return agenda.create(s, actor, chatbot_id, **values)
                return agenda.update_item(s, actor, item_id, **values)

        return save

    def success_message(self, result: Any) -> str:
        return self.tr("Session {0} saved.").format(result.title)


class AgendaView(View):
    """The programme of the assistant chosen at the top."""

    title = "Agenda"
    watches = Changed.AGENDA | Changed.GUESTS | Changed.CHATBOTS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.dialog: AgendaDialog | None = None
        self.model = AgendaModel(AGENDA_COLUMNS, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("Agenda")))
        self.picker = ChatbotPicker(ctx)
        self.picker.chosen.connect(lambda _id: self.refresh())
        top.addWidget(self.picker)
        top.addStretch(1)
        self.new_button = QPushButton(self.tr("New session"))
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_item)
        self.edit_button = QPushButton(self.tr("Edit"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("danger")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.new_button, self.edit_button, self.delete_button):
            top.addWidget(button)
        layout.addLayout(top)
        self.table = make_table(stretch_column=1)
        self.table.setModel(self.model)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        layout.addWidget(self.table, 1)
        self.count = muted("")
        layout.addWidget(self.count)
        self.note = muted(
            self.tr("Times are the venue's local time ({0}).").format(
                get_settings().timezone().key
            )
        )
        layout.addWidget(self.note)
        ctx.signed_in.connect(self.picker.reload)

    def selected(self) -> AgendaItemInfo | None:
        return selected_record(self.table, AgendaItemInfo)

    def refresh(self) -> None:
        if self.ctx.user is None:
            return
        super().refresh()
        chatbot_id = self.picker.current_id()
        self.new_button.setEnabled(chatbot_id is not None)
        if chatbot_id is None:
            self.model.set_records([])
            return
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> list[AgendaItemInfo]:
            with db.read() as s:
                return agenda.list_items(s, actor, chatbot_id)

        def show(items: list[AgendaItemInfo]) -> None:
            self.model.set_records(items)
            for column in (0, 2, 3):
                self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(4, 260)
            self.count.setText(
                self.tr("{0} session(s).").format(len(items)) if items
                else self.tr("No sessions yet: add the programme (Ctrl+N).")
            )

        self.ctx.run(load, show, owner=self)

    def new_item(self) -> None:
        self._open(None)

    def edit_selected(self) -> None:
        item = self.selected()
        if item is not None:
            self._open(item)

    def _open(self, item: AgendaItemInfo | None) -> None:
        chatbot_id = self.picker.current_id()
        if chatbot_id is None:
            return
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> tuple[ChatbotDetail, list[GuestDetail]]:
            with db.read() as s:
                return chatbots.get(s, actor, chatbot_id), guests.list_for_organizers(
                    s, actor, chatbot_id
                )

        def show(found: tuple[ChatbotDetail, list[GuestDetail]]) -> None:
            self.dialog = AgendaDialog(self.ctx, found[0], found[1], item, self)
            self.dialog.open()

        self.ctx.run(load, show, owner=self)

    def delete_selected(self) -> None:
        item = self.selected()
        if item is None:
            return
        if not self.ctx.dialogs.confirm(
            self,
            self.tr("Delete {0}?").format(item.title),
            self.tr("The session is removed from the programme; its speakers stay guests."),
        ):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def delete() -> None:
            with db.session() as s:
                agenda.delete_item(s, actor, item.id)

        self.ctx.run(
            delete,
            lambda _r: self.ctx.announce(
                Changed.AGENDA, self.tr("Session {0} deleted.").format(item.title)
            ),
            owner=self,
        )
