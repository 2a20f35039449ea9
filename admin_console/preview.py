"""The assistant preview: organizers chat with an assistant exactly as a kiosk's walk-up visitor
would, before the doors open.

Decision: the preview calls the same responder a kiosk uses (``shared.assistant.engine.Assistant``
with the configured LLM server, falling back to offline answers the same way) but stores nothing:
its conversation lives in this widget only, so trying an assistant never adds messages, counts or
"unanswered questions" to the event's figures. The reply streams in as it is produced.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from shared.db import Database, utcnow
from shared.errors import KnownError
from shared.models import ConversationMode, MessageSource
from shared.services.responder import MessageInfo, Reply, ReplyRequest, Responder
from shared.ui.tasks import Task

HISTORY = 10
_ids = itertools.count(1)


def make_responder(db: Database) -> Responder:
    """The responder kiosks use, with the LLM server from the settings (if any)."""
    try:
        from shared.assistant.engine import Assistant
        from shared.assistant.llm import LLMClient
    except ImportError as exc:  # the assistant package is part of every install
        raise KnownError(f"The assistant is not available in this installation ({exc}).") from exc
    responder: Responder = Assistant(db, LLMClient.from_settings())
    return responder


class Bubble(QLabel):
    """One message of the preview."""

    def __init__(self, text: str, mine: bool) -> None:
        super().__init__(text)
        self.setObjectName("userBubble" if mine else "botBubble")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setMaximumWidth(520)


class PreviewPane(QFrame):
    """Chat with the selected assistant; nothing is stored."""

    def __init__(
        self,
        ctx: Context,
        parent: QWidget | None = None,
        responder_factory: Callable[[Database], Responder] = make_responder,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("panel")
        self.responder_factory = responder_factory
        self.responder: Responder | None = None
        self.chatbot_id: int | None = None
        self.history: list[MessageInfo] = []
        self.task: Task[Any] | None = None
        self.streaming: Bubble | None = None
        self.replies: list[Reply] = []
        ctx.bus.changed.connect(self._on_changed)

        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        top = QHBoxLayout()
        self.heading = QLabel(self.tr("Preview"))
        self.heading.setObjectName("sectionTitle")
        top.addWidget(self.heading)
        top.addStretch(1)
        self.mode = QComboBox()
        self.mode.addItem(self.tr("Walk-up (multiple)"), ConversationMode.MULTIPLE.value)
        self.mode.addItem(self.tr("Signed-in (single)"), ConversationMode.SINGLE.value)
        self.mode.setToolTip(self.tr("The mode the assistant is told it is talking in"))
        top.addWidget(self.mode)
        self.reset_button = QPushButton(self.tr("New conversation"))
        self.reset_button.clicked.connect(self.reset)
        top.addWidget(self.reset_button)
        column.addLayout(top)
        note = QLabel(
            self.tr("Answers come from the same assistant the kiosks use. Nothing here is stored.")
        )
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        column.addWidget(note)

        self.chat_scroll = QScrollArea()
        self.chat_scroll.setWidgetResizable(True)
        self.chat_scroll.setObjectName("chatScroll")
        self.transcript = QWidget()
        self.transcript.setObjectName("chatArea")
        self.lines = QVBoxLayout(self.transcript)
        self.lines.addStretch(1)
        self.chat_scroll.setWidget(self.transcript)
        column.addWidget(self.chat_scroll, 1)

        row = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setPlaceholderText(self.tr("Ask what an attendee would ask…"))
        self.input.returnPressed.connect(self.send)
        row.addWidget(self.input, 1)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setObjectName("primary")
        self.send_button.clicked.connect(self.send)
        row.addWidget(self.send_button)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.hide()
        row.addWidget(self.stop_button)
        column.addLayout(row)
        self.set_chatbot(None, "")

    def _on_changed(self, value: int) -> None:
        if Changed(value) & Changed.SETTINGS:
            self.responder = None  # the LLM server may have changed

    def set_chatbot(self, chatbot_id: int | None, name: str) -> None:
        if chatbot_id == self.chatbot_id and chatbot_id is not None:
            return
        self.chatbot_id = chatbot_id
        self.heading.setText(self.tr("Preview: {0}").format(name) if name else self.tr("Preview"))
        self.reset()
        enabled = chatbot_id is not None
        self.input.setEnabled(enabled)
        self.send_button.setEnabled(enabled)

    def reset(self) -> None:
        self.stop()
        self.history.clear()
        while self.lines.count() > 1:
            item = self.lines.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _add(self, text: str, mine: bool) -> Bubble:
        bubble = Bubble(text, mine)
        holder = QHBoxLayout()
        if mine:
            holder.addStretch(1)
        holder.addWidget(bubble)
        if not mine:
            holder.addStretch(1)
        wrapper = QWidget()
        wrapper.setLayout(holder)
        holder.setContentsMargins(0, 0, 0, 0)
        self.lines.insertWidget(self.lines.count() - 1, wrapper)
        bar = self.chat_scroll.verticalScrollBar()
        bar.rangeChanged.connect(lambda _lo, hi: bar.setValue(hi))
        return bubble

    def _message(self, text: str, mine: bool, source: MessageSource) -> MessageInfo:
        return MessageInfo(
            id=next(_ids),
            conversation_id=0,
            chatbot_id=self.chatbot_id or 0,
            user_id=None,
            is_user_message=mine,
            content=text,
            source=source,
            answered=None if mine else True,
            reply_to_id=None,
            client_id=None,
            created_at=utcnow(),
        )

    def send(self) -> None:
        question = self.input.text().strip()
        if not question or self.chatbot_id is None or self.task is not None:
            return
        self.input.clear()
        self._add(question, True)
        self.streaming = self._add("…", False)
        request = ReplyRequest(
            chatbot_id=self.chatbot_id,
            conversation_id=0,
            mode=ConversationMode(self.mode.currentData()),
            question=question,
            history=tuple(self.history[-HISTORY:]),
            now=utcnow(),
        )
        self.history.append(self._message(question, True, MessageSource.USER))
        db = self.ctx.database
        received: list[str] = []

        def work(task: Task[Reply]) -> Reply:
            if self.responder is None:
                self.responder = self.responder_factory(db)
            return self.responder.respond(
                request, lambda piece: task.report(piece), task.cancel_event
            )

        def progress(piece: object) -> None:
            received.append(str(piece))
            if self.streaming is not None:
                self.streaming.setText("".join(received))

        def done(reply: Reply) -> None:
            self._finished()
            self.replies.append(reply)
            if self.streaming is not None:
                label = {
                    MessageSource.OFFLINE: self.tr("offline answer"),
                    MessageSource.LLM: self.tr("LLM answer"),
                }.get(reply.source, reply.source.value)
                if not reply.answered:
                    label += self.tr(", not answered")
                self.streaming.setText(reply.text)
                self.streaming.setToolTip(label)
            self.history.append(self._message(reply.text, False, reply.source))

        def failed(exc: BaseException) -> None:
            self._finished()
            if self.streaming is not None:
                self.streaming.setText(self.tr("(no answer: {0})").format(exc))
            if not isinstance(exc, KnownError):
                self.ctx.report_error(exc, self)

        self.send_button.hide()
        self.stop_button.show()
        self.task = self.ctx.runner.submit(
            work, on_done=done, on_error=failed, on_progress=progress
        )

    def _finished(self) -> None:
        self.task = None
        self.stop_button.hide()
        self.send_button.show()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            if self.streaming is not None:
                self.streaming.setText(self.streaming.text() + self.tr(" (stopped)"))
            self._finished()

    def last_reply_time(self) -> datetime | None:
        return self.history[-1].created_at if self.history else None
