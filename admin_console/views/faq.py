"""The FAQ of an assistant: questions and answers in the organizers' order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.dialogs import EditDialog
from admin_console.models import Column, RecordModel, selected_record
from admin_console.views.base import ChatbotPicker, View
from admin_console.widgets import fmt_datetime, heading, make_table, muted
from shared.services import faq
from shared.services.faq import FaqInfo

FAQ_COLUMNS: tuple[Column[FaqInfo], ...] = (
    Column("#", lambda e: e.position + 1, numeric=True),
    Column("Question", lambda e: e.question),
    Column("Answer", lambda e: " ".join(e.answer.split())),
    Column("Updated", lambda e: e.updated_at, text=fmt_datetime),
)


class FaqDialog(EditDialog):
    """Create or edit an entry."""

    changes = Changed.FAQ

    def __init__(
        self, ctx: Context, chatbot_id: int, entry: FaqInfo | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, ctx.tr("Edit FAQ entry") if entry else ctx.tr("New FAQ entry"),
                         parent)
        self.chatbot_id = chatbot_id
        self.entry = entry
        self.question = QLineEdit(entry.question if entry else "")
        self.question.setPlaceholderText(self.tr("e.g. What is the Wi-Fi password?"))
        self.answer = QPlainTextEdit(entry.answer if entry else "")
        self.answer.setMinimumHeight(180)
        self.add("question", self.question, self.tr("Question"))
        self.add("answer", self.answer, self.tr("Answer"))
        self.resize(620, 420)

    def work(self) -> Callable[[], FaqInfo]:
        db, actor = self.ctx.database, self.ctx.actor
        question, answer = self.question.text(), self.answer.toPlainText()
        entry_id, chatbot_id = (self.entry.id if self.entry else None), self.chatbot_id

        def save() -> FaqInfo:
            with db.session() as s:
                if entry_id is None:
                    return faq.create(s, actor, chatbot_id, question=question, answer=answer)
                return faq.update_entry(s, actor, entry_id, question=question, answer=answer)

        return save

    def success_message(self, result: Any) -> str:
        return self.tr("FAQ entry saved.")


class FaqView(View):
    """The FAQ of the assistant chosen at the top."""

    title = "FAQ"
    watches = Changed.FAQ | Changed.CHATBOTS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.dialog: FaqDialog | None = None
        self.model: RecordModel[FaqInfo] = RecordModel(FAQ_COLUMNS, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("FAQ")))
        self.picker = ChatbotPicker(ctx)
        self.picker.chosen.connect(lambda _id: self.refresh())
        top.addWidget(self.picker)
        top.addStretch(1)
        self.up_button = QPushButton(self.tr("Move up"))
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button = QPushButton(self.tr("Move down"))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.new_button = QPushButton(self.tr("New entry"))
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_item)
        self.edit_button = QPushButton(self.tr("Edit"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("danger")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.up_button, self.down_button, self.new_button, self.edit_button,
                       self.delete_button):
            top.addWidget(button)
        layout.addLayout(top)
        self.table = make_table(stretch_column=2)
        self.table.setModel(self.model)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        layout.addWidget(self.table, 1)
        layout.addWidget(
            muted(self.tr("The assistant answers attendees from these entries: keep each "
                          "answer short, factual and complete on its own."))
        )
        ctx.signed_in.connect(self.picker.reload)

    def selected(self) -> FaqInfo | None:
        return selected_record(self.table, FaqInfo)

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
        chosen = self.selected()

        def load() -> list[FaqInfo]:
            with db.read() as s:
                return faq.list_entries(s, actor, chatbot_id)

        def show(entries: list[FaqInfo]) -> None:
            self.model.set_records(entries)
            self.table.resizeColumnToContents(0)
            self.table.setColumnWidth(1, 360)
            self.table.setColumnWidth(3, 140)
            if chosen is not None and (row := self.model.row_of(chosen.id)) >= 0:
                self.table.selectRow(row)

        self.ctx.run(load, show, owner=self)

    def move_selected(self, step: int) -> None:
        entry = self.selected()
        if entry is None:
            return
        db, actor = self.ctx.database, self.ctx.actor
        target = max(0, entry.position + step)

        def work() -> list[FaqInfo]:
            with db.session() as s:
                return faq.move_entry(s, actor, entry.id, target)

        self.ctx.run(work, lambda _r: self.ctx.announce(Changed.FAQ), owner=self)

    def new_item(self) -> None:
        chatbot_id = self.picker.current_id()
        if chatbot_id is not None:
            self.dialog = FaqDialog(self.ctx, chatbot_id, None, self)
            self.dialog.open()

    def edit_selected(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.dialog = FaqDialog(self.ctx, entry.chatbot_id, entry, self)
            self.dialog.open()

    def delete_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        if not self.ctx.dialogs.confirm(
            self,
            self.tr("Delete this FAQ entry?"),
            self.tr("“{0}” and its answer are removed. This cannot be undone.").format(
                entry.question
            ),
        ):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def delete() -> None:
            with db.session() as s:
                faq.delete_entry(s, actor, entry.id)

        self.ctx.run(
            delete, lambda _r: self.ctx.announce(Changed.FAQ, self.tr("FAQ entry deleted.")),
            owner=self,
        )
