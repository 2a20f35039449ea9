"""What every view has: its context, reload on "data changed", and the standard actions the
main window's shortcuts call (new, search, refresh, delete)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from admin_console.context import Changed, Context
from shared.services import chatbots
from shared.services.chatbots import ChatbotDetail


class View(QWidget):
    """A page of the main window."""

    #: Sidebar and window title.
    title = "View"
    #: What changes make this view reload.
    watches = Changed.ALL

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.stale = True
        self.loading = False
        ctx.bus.changed.connect(self._on_changed)

    def _on_changed(self, value: int) -> None:
        if not Changed(value) & self.watches:
            return
        self.stale = True
        if self.isVisible():
            self.refresh()

    def activate(self) -> None:
        """The view was brought to the front: reload when something changed meanwhile."""
        if self.stale:
            self.refresh()

    def refresh(self) -> None:
        """Reload the view's data in the background."""
        self.stale = False

    def new_item(self) -> None:
        """Ctrl+N."""

    def focus_search(self) -> None:
        """Ctrl+F."""

    def delete_selected(self) -> None:
        """Del."""


class ChatbotPicker(QComboBox):
    """Choose an assistant; keeps its choice across reloads, reloads when assistants change."""

    chosen = Signal(object)  # int | None

    def __init__(self, ctx: Context, *, allow_all: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.allow_all = allow_all
        self.setObjectName("chatbotPicker")
        self.setMinimumWidth(260)
        self.bots: list[ChatbotDetail] = []
        self.loaded = False
        self.currentIndexChanged.connect(self._emit)
        self._quiet = False
        ctx.bus.changed.connect(self._on_changed)

    def _on_changed(self, value: int) -> None:
        if Changed(value) & Changed.CHATBOTS:
            self.reload()

    def reload(self) -> None:
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> list[ChatbotDetail]:
            with db.read() as s:
                return chatbots.list_for_organizers(s, actor)

        self.ctx.run(load, self._fill, owner=self)

    def _fill(self, bots: list[ChatbotDetail]) -> None:
        previous = self.current_id()
        self._quiet = True
        self.clear()
        self.bots = bots
        if self.allow_all:
            self.addItem(self.tr("All assistants"), None)
        for bot in bots:
            self.addItem(f"{bot.name} — {bot.event_name}", bot.id)
        index = self.findData(previous) if previous is not None else -1
        self.setCurrentIndex(index if index >= 0 else 0)
        self._quiet = False
        self.loaded = True
        if self.current_id() != previous or not self._announced:
            self._announced = True
            self.chosen.emit(self.current_id())

    _announced = False

    def _emit(self, _index: int) -> None:
        if not self._quiet:
            self.chosen.emit(self.current_id())

    def current_id(self) -> int | None:
        value = self.currentData()
        return int(value) if value is not None else None

    def select(self, chatbot_id: int | None) -> None:
        index = self.findData(chatbot_id)
        if index >= 0:
            self.setCurrentIndex(index)
