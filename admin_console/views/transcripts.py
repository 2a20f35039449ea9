"""Transcripts: conversations per assistant or per user, message search, a transcript viewer and
export of a conversation or of search results (.xlsx or .csv)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.export import export_rows
from admin_console.models import RECORD_ROLE, Column, RecordModel
from admin_console.views.base import ChatbotPicker, View
from admin_console.widgets import SearchField, fmt_datetime, fmt_int, heading, make_table, muted
from shared.errors import NotFound
from shared.services import auth, transcripts
from shared.services.common import Page, UserInfo
from shared.services.transcripts import (
    ConversationSummary,
    MessageHit,
    SearchResult,
    Transcript,
)
from shared.settings import get_settings

PAGE = 100
EXPORT_MAX = 10_000

CONVERSATION_COLUMNS: tuple[Column[ConversationSummary], ...] = (
    Column("Started", lambda c: c.started_at, text=fmt_datetime),
    Column("Assistant", lambda c: c.chatbot_name),
    Column("Who", lambda c: c.username or "walk-up"),
    Column("Mode", lambda c: c.mode.value, text=str.capitalize),
    Column("Kiosk", lambda c: c.kiosk_name),
    Column("Messages", lambda c: c.message_count, text=fmt_int, numeric=True),
)
HIT_COLUMNS: tuple[Column[MessageHit], ...] = (
    Column("When", lambda h: h.created_at, text=fmt_datetime),
    Column("From", lambda h: (h.username or "walk-up") if h.is_user_message else "assistant"),
    Column("Message", lambda h: " ".join(h.content.split())),
)


def _local(value: Any) -> Any:
    if hasattr(value, "astimezone") and getattr(value, "tzinfo", None) is not None:
        return value.astimezone(get_settings().timezone()).replace(tzinfo=None)
    return value


def export_transcript(path: str, transcript: Transcript) -> int:
    c = transcript.conversation
    rows = (
        (
            _local(m.created_at),
            (c.username or "walk-up") if m.is_user_message else "assistant",
            m.source.value,
            "" if m.answered is None else ("yes" if m.answered else "no"),
            m.content,
        )
        for m in transcript.messages
    )
    return export_rows(
        path, ["Time", "From", "Source", "Answered", "Message"], rows,
        sheet=f"Conversation {c.id}",
    )


def export_hits(path: str, hits: list[MessageHit]) -> int:
    rows = (
        (
            _local(h.created_at),
            h.conversation_id,
            (h.username or "walk-up") if h.is_user_message else "assistant",
            h.source.value,
            h.content,
        )
        for h in hits
    )
    return export_rows(
        path, ["Time", "Conversation", "From", "Source", "Message"], rows, sheet="Search"
    )


class TranscriptsView(View):
    """Conversations and search on the left, the transcript on the right."""

    title = "Transcripts"
    watches = Changed.MESSAGES | Changed.CHATBOTS | Changed.USERS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.user: UserInfo | None = None
        self.conversations: list[ConversationSummary] = []
        self.conversation_total = 0
        self.hits: list[MessageHit] = []
        self.hit_result: SearchResult | None = None
        self.current: Transcript | None = None
        self.conv_model: RecordModel[ConversationSummary] = RecordModel(
            CONVERSATION_COLUMNS, self
        )
        self.hit_model: RecordModel[MessageHit] = RecordModel(HIT_COLUMNS, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("Transcripts")))
        self.source = QComboBox()
        self.source.addItem(self.tr("By assistant"), "chatbot")
        self.source.addItem(self.tr("By user"), "user")
        self.source.currentIndexChanged.connect(self._source_changed)
        top.addWidget(self.source)
        self.chooser = QStackedWidget()
        self.picker = ChatbotPicker(ctx)
        self.picker.chosen.connect(lambda _id: self.refresh())
        self.chooser.addWidget(self.picker)
        user_box = QWidget()
        user_row = QHBoxLayout(user_box)
        user_row.setContentsMargins(0, 0, 0, 0)
        self.user_field = QLineEdit()
        self.user_field.setPlaceholderText(self.tr("username or email"))
        self.user_field.returnPressed.connect(self.find_user)
        user_row.addWidget(self.user_field)
        self.user_button = QPushButton(self.tr("Show"))
        self.user_button.clicked.connect(self.find_user)
        user_row.addWidget(self.user_button)
        self.chooser.addWidget(user_box)
        self.chooser.setFixedWidth(400)
        top.addWidget(self.chooser)
        top.addStretch(1)
        layout.addLayout(top)
        search_row = QHBoxLayout()
        self.search = SearchField(self.tr("Search the messages of this assistant (Ctrl+F)"))
        self.search.setMinimumWidth(420)
        self.search.search.connect(self.run_search)
        search_row.addWidget(self.search)
        search_row.addStretch(1)
        layout.addLayout(search_row)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.tabs = QTabWidget()
        conv_page = QWidget()
        conv_column = QVBoxLayout(conv_page)
        conv_column.setContentsMargins(0, 8, 0, 0)
        self.conv_table = make_table(stretch_column=4)
        self.conv_table.setModel(self.conv_model)
        self.conv_table.setColumnHidden(1, True)
        self.conv_table.selectionModel().selectionChanged.connect(self._conversation_chosen)
        conv_column.addWidget(self.conv_table, 1)
        more_row = QHBoxLayout()
        self.conv_count = muted("")
        more_row.addWidget(self.conv_count, 1)
        self.more_button = QPushButton(self.tr("Load more"))
        self.more_button.clicked.connect(lambda: self.load_conversations(more=True))
        more_row.addWidget(self.more_button)
        conv_column.addLayout(more_row)
        self.tabs.addTab(conv_page, self.tr("Conversations"))

        hit_page = QWidget()
        hit_column = QVBoxLayout(hit_page)
        hit_column.setContentsMargins(0, 8, 0, 0)
        self.hit_table = make_table(stretch_column=2)
        self.hit_table.setModel(self.hit_model)
        self.hit_table.selectionModel().selectionChanged.connect(self._hit_chosen)
        hit_column.addWidget(self.hit_table, 1)
        hit_row = QHBoxLayout()
        self.hit_count = muted(self.tr("Type in the search box to search the messages."))
        hit_row.addWidget(self.hit_count, 1)
        self.hit_more = QPushButton(self.tr("Load more"))
        self.hit_more.clicked.connect(lambda: self.run_search(self.search.text(), more=True))
        hit_row.addWidget(self.hit_more)
        self.export_hits_button = QPushButton(self.tr("Export results…"))
        self.export_hits_button.clicked.connect(self.export_search)
        hit_row.addWidget(self.export_hits_button)
        hit_column.addLayout(hit_row)
        self.tabs.addTab(hit_page, self.tr("Search results"))
        splitter.addWidget(self.tabs)

        right = QWidget()
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(8, 0, 0, 0)
        head = QHBoxLayout()
        self.transcript_title = QLabel(self.tr("Transcript"))
        self.transcript_title.setObjectName("sectionTitle")
        head.addWidget(self.transcript_title, 1)
        self.export_button = QPushButton(self.tr("Export conversation…"))
        self.export_button.clicked.connect(self.export_conversation)
        head.addWidget(self.export_button)
        right_column.addLayout(head)
        self.viewer = QTextBrowser()
        self.viewer.setObjectName("transcriptViewer")
        self.viewer.setOpenLinks(False)
        self.viewer.setPlaceholderText(self.tr("Choose a conversation to read it."))
        right_column.addWidget(self.viewer, 1)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([600, 500])
        layout.addWidget(splitter, 1)
        ctx.signed_in.connect(self.picker.reload)
        self._update_buttons()

    # Sources -----------------------------------------------------------------------------------

    def _source_changed(self, index: int) -> None:
        self.chooser.setCurrentIndex(index)
        self.search.setEnabled(index == 0)
        self.conv_table.setColumnHidden(1, index == 0)
        self.refresh()

    def find_user(self) -> None:
        login = self.user_field.text().strip()
        if not login:
            return
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> UserInfo:
            with db.read() as s:
                from shared.services.common import require_admin

                require_admin(s, actor)
                user = auth.user_for_login(s, login)
            if user is None:
                raise NotFound(f"There is no user {login!r}.")
            return user

        def show(user: UserInfo) -> None:
            self.user = user
            self.load_conversations()

        self.ctx.run(load, show, owner=self)

    def refresh(self) -> None:
        if self.ctx.user is None:
            return
        super().refresh()
        self.load_conversations()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # Conversations -----------------------------------------------------------------------------

    def _filter(self) -> dict[str, int] | None:
        if self.source.currentData() == "user":
            return {"user_id": self.user.id} if self.user else None
        chatbot_id = self.picker.current_id()
        return {"chatbot_id": chatbot_id} if chatbot_id is not None else None

    def load_conversations(self, more: bool = False) -> None:
        where = self._filter()
        if where is None:
            self.conv_model.set_records([])
            self.conversations = []
            self.conv_count.setText("")
            self._update_buttons()
            return
        offset = len(self.conversations) if more else 0
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> Page[ConversationSummary]:
            with db.read() as s:
                return transcripts.list_conversations(
                    s, actor, offset=offset, limit=PAGE, **where
                )

        def show(page: Page[ConversationSummary]) -> None:
            self.conversations = (self.conversations if more else []) + list(page.items)
            self.conversation_total = page.total
            self.conv_model.set_records(self.conversations)
            self.conv_table.resizeColumnsToContents()
            self.conv_count.setText(
                self.tr("{0} of {1} conversation(s)").format(
                    fmt_int(len(self.conversations)), fmt_int(page.total)
                )
            )
            self._update_buttons()

        self.ctx.run(load, show, owner=self)

    def _conversation_chosen(self, *_args: object) -> None:
        rows = self.conv_table.selectionModel().selectedRows()
        record = rows[0].data(RECORD_ROLE) if rows else None
        if isinstance(record, ConversationSummary):
            self.open_conversation(record.id)

    def _hit_chosen(self, *_args: object) -> None:
        rows = self.hit_table.selectionModel().selectedRows()
        record = rows[0].data(RECORD_ROLE) if rows else None
        if isinstance(record, MessageHit):
            self.open_conversation(record.conversation_id, highlight=record.id)

    def open_conversation(self, conversation_id: int, highlight: int | None = None) -> None:
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> Transcript:
            with db.read() as s:
                return transcripts.transcript(s, actor, conversation_id)

        self.ctx.run(load, lambda t: self._show_transcript(t, highlight), owner=self)

    def _show_transcript(self, transcript: Transcript, highlight: int | None) -> None:
        self.current = transcript
        c = transcript.conversation
        who = c.username or self.tr("walk-up visitor")
        self.transcript_title.setText(
            self.tr("{0} · {1} · {2}").format(c.chatbot_name, who, fmt_datetime(c.started_at))
        )
        parts = []
        if transcript.truncated:
            note = html.escape(self.tr("Only the newest messages are shown."))
            parts.append(f"<p><i>{note}</i></p>")
        for m in transcript.messages:
            speaker = who if m.is_user_message else self.tr("Assistant")
            note = ""
            if not m.is_user_message:
                note = f" · {m.source.value}"
                if m.answered is False:
                    note += " · not answered"
            mark = " style='background-color: #ffe08a; color: #14213d'" if m.id == highlight else ""
            parts.append(
                f"<p{mark}><b>{html.escape(speaker)}</b> "
                f"<span style='color: gray'>{html.escape(fmt_datetime(m.created_at) + note)}"
                f"</span><br>{html.escape(m.content).replace(chr(10), '<br>')}</p>"
            )
        self.viewer.setHtml("".join(parts) or html.escape(self.tr("This conversation is empty.")))
        self._update_buttons()

    # Search ------------------------------------------------------------------------------------

    def run_search(self, text: str, more: bool = False) -> None:
        text = text.strip()
        chatbot_id = self.picker.current_id()
        if not text or chatbot_id is None or self.source.currentData() != "chatbot":
            if not more:
                self.hits = []
                self.hit_model.set_records([])
                self.hit_result = None
                self.hit_count.setText(self.tr("Type in the search box to search the messages."))
                self._update_buttons()
            return
        offset = len(self.hits) if more else 0
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> SearchResult:
            with db.read() as s:
                return transcripts.search_messages(
                    s, actor, chatbot_id, text, offset=offset, limit=PAGE
                )

        def show(result: SearchResult) -> None:
            self.hits = (self.hits if more else []) + list(result.items)
            self.hit_result = result
            self.hit_model.set_records(self.hits)
            self.hit_table.resizeColumnToContents(0)
            self.hit_table.resizeColumnToContents(1)
            total = fmt_int(result.total) + ("+" if result.capped else "")
            self.hit_count.setText(
                self.tr("{0} of {1} message(s) containing “{2}”").format(
                    fmt_int(len(self.hits)), total, text
                )
            )
            self.tabs.setCurrentIndex(1)
            self._update_buttons()

        self.ctx.run(load, show, owner=self)

    # Export ------------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        self.more_button.setEnabled(len(self.conversations) < self.conversation_total)
        self.hit_more.setEnabled(
            self.hit_result is not None and len(self.hits) < self.hit_result.total
        )
        self.export_hits_button.setEnabled(bool(self.hits))
        self.export_button.setEnabled(self.current is not None)

    def _ask_path(self, suggested: str) -> str | None:
        path = self.ctx.dialogs.save_file(
            self, self.tr("Export"), suggested, "Excel workbook (*.xlsx);;CSV (*.csv)"
        )
        if path and Path(path).suffix.lower() not in (".xlsx", ".csv"):
            path += ".xlsx"
        return path

    def export_conversation(self) -> None:
        transcript = self.current
        if transcript is None:
            return
        path = self._ask_path(f"conversation-{transcript.conversation.id}.xlsx")
        if not path:
            return
        self.ctx.run(
            lambda: export_transcript(path, transcript),
            lambda n: self.ctx.notify.emit(
                self.tr("Exported {0} message(s) to {1}.").format(n, path), "success"
            ),
            owner=self,
        )

    def export_search(self) -> None:
        result, text = self.hit_result, self.search.text().strip()
        chatbot_id = self.picker.current_id()
        if result is None or chatbot_id is None or not text:
            return
        path = self._ask_path("search-results.xlsx")
        if not path:
            return
        db, actor = self.ctx.database, self.ctx.actor

        def work() -> int:
            hits: list[MessageHit] = []
            while len(hits) < EXPORT_MAX:
                with db.read() as s:
                    page = transcripts.search_messages(
                        s, actor, chatbot_id, text, offset=len(hits), limit=500
                    )
                hits.extend(page.items)
                if len(page.items) < 500:
                    break
            return export_hits(path, hits[:EXPORT_MAX])

        self.ctx.run(
            work,
            lambda n: self.ctx.notify.emit(
                self.tr("Exported {0} message(s) to {1}.").format(n, path), "success"
            ),
            owner=self,
        )
