"""Qt models of the kiosk: the chat transcript and the assistants to choose from.

The transcript keeps at most :data:`MAX_ROWS` turns: older ones are dropped from memory (and
read back from the database page by page when the attendee scrolls up), so a conversation of a
thousand turns costs no more memory than one of a few hundred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from shared.services.chatbots import ChatbotInfo
from shared.services.guests import GuestInfo
from shared.services.responder import MessageInfo

MAX_ROWS = 400

# Transcript roles
TextRole = Qt.ItemDataRole.UserRole + 1
IsUserRole = Qt.ItemDataRole.UserRole + 2
SourceRole = Qt.ItemDataRole.UserRole + 3
StateRole = Qt.ItemDataRole.UserRole + 4
KindRole = Qt.ItemDataRole.UserRole + 5
KeyRole = Qt.ItemDataRole.UserRole + 6

# Turn states
SENT = "sent"
SENDING = "sending"
PENDING = "pending"  # kept in the outbox until the database is back
STREAMING = "streaming"
FAILED = "failed"

# Kinds
MESSAGE = "message"
NOTICE = "notice"

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Turn:
    """One row of the transcript: a message bubble or a centred notice."""

    key: str
    text: str
    is_user: bool = False
    source: str | None = None
    state: str = SENT
    kind: str = MESSAGE
    message_id: int | None = None

    @classmethod
    def of(cls, message: MessageInfo) -> Turn:
        return cls(
            key=message.client_id or f"m{message.id}",
            text=message.content,
            is_user=message.is_user_message,
            source=str(message.source.value),
            message_id=message.id,
        )


class TranscriptModel(QAbstractListModel):
    """The turns of the conversation on screen, oldest first."""

    def __init__(self, parent: Any = None, *, max_rows: int = MAX_ROWS) -> None:
        super().__init__(parent)
        self._rows: list[Turn] = []
        self.max_rows = max_rows
        #: Older messages exist in the database (dropped from memory or not loaded yet).
        self.has_more = False
        #: The id to pass as ``before_id`` to load them.
        self.before_id: int | None = None

    # Qt API ------------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        turn = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, TextRole):
            return turn.text
        if role == IsUserRole:
            return turn.is_user
        if role == SourceRole:
            return turn.source or ""
        if role == StateRole:
            return turn.state
        if role == KindRole:
            return turn.kind
        if role == KeyRole:
            return turn.key
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return turn.text
        return None

    def roleNames(self) -> dict[int, QByteArray]:  # noqa: N802 - Qt override
        names = dict(super().roleNames())
        for role, name in (
            (TextRole, b"text"),
            (IsUserRole, b"isUser"),
            (SourceRole, b"source"),
            (StateRole, b"state"),
            (KindRole, b"kind"),
            (KeyRole, b"key"),
        ):
            names[role] = QByteArray(name)
        return names

    # Ours --------------------------------------------------------------------------------------

    def turn_at(self, row: int) -> Turn | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def turns(self) -> list[Turn]:
        return list(self._rows)

    def row_of(self, key: str) -> int:
        for row in range(len(self._rows) - 1, -1, -1):  # recent turns are at the end
            if self._rows[row].key == key:
                return row
        return -1

    def turn(self, key: str) -> Turn | None:
        row = self.row_of(key)
        return self._rows[row] if row >= 0 else None

    def append(self, turn: Turn) -> None:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(turn)
        self.endInsertRows()
        self._trim()

    def prepend(self, turns: Iterable[Turn]) -> None:
        new = [t for t in turns if self.row_of(t.key) < 0]
        if not new:
            return
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        self._rows[0:0] = new
        self.endInsertRows()

    def update(self, key: str, **changes: Any) -> bool:
        row = self.row_of(key)
        if row < 0:
            return False
        self._rows[row] = replace(self._rows[row], **changes)
        index = self.index(row)
        self.dataChanged.emit(index, index)
        return True

    def append_text(self, key: str, delta: str) -> bool:
        row = self.row_of(key)
        if row < 0:
            return False
        turn = self._rows[row]
        return self.update(key, text=turn.text + delta)

    def remove(self, key: str) -> None:
        row = self.row_of(key)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def clear(self) -> None:
        """Forget everything (the privacy wipe)."""
        self.beginResetModel()
        self._rows = []
        self.has_more = False
        self.before_id = None
        self.endResetModel()

    def _trim(self) -> None:
        excess = len(self._rows) - self.max_rows
        if excess <= 0:
            return
        dropped = self._rows[:excess]
        self.beginRemoveRows(QModelIndex(), 0, excess - 1)
        del self._rows[:excess]
        self.endRemoveRows()
        ids = [t.message_id for t in self._rows if t.message_id is not None]
        if any(t.message_id is not None for t in dropped) and ids:
            self.has_more = True
            self.before_id = min(ids)


# Assistants ------------------------------------------------------------------------------------

ChatbotRole = Qt.ItemDataRole.UserRole + 20
GuestsRole = Qt.ItemDataRole.UserRole + 21
IdRole = Qt.ItemDataRole.UserRole + 22


class ChatbotListModel(QAbstractListModel):
    """The assistants this kiosk offers, updated in place by the refresh loop."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ChatbotInfo] = []
        self._guests: dict[int, tuple[GuestInfo, ...]] = {}

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        bot = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return bot.name
        if role == ChatbotRole:
            return bot
        if role == GuestsRole:
            return self._guests.get(bot.id, ())
        if role == IdRole:
            return bot.id
        return None

    def chatbots(self) -> list[ChatbotInfo]:
        return list(self._rows)

    def chatbot(self, chatbot_id: int) -> ChatbotInfo | None:
        return next((b for b in self._rows if b.id == chatbot_id), None)

    def guests(self, chatbot_id: int) -> tuple[GuestInfo, ...]:
        return self._guests.get(chatbot_id, ())

    def set_chatbots(self, bots: list[ChatbotInfo]) -> None:
        """Bring the rows in line with ``bots``: remove, change and insert in place."""
        wanted = {b.id: b for b in bots}
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                gone = self._rows.pop(row)
                self._guests.pop(gone.id, None)
                self.endRemoveRows()
        for target_row, bot in enumerate(bots):
            current = next((i for i, b in enumerate(self._rows) if b.id == bot.id), -1)
            if current < 0:
                self.beginInsertRows(QModelIndex(), target_row, target_row)
                self._rows.insert(target_row, bot)
                self.endInsertRows()
                continue
            if current != target_row:
                self.beginMoveRows(
                    QModelIndex(),
                    current,
                    current,
                    QModelIndex(),
                    target_row if target_row < current else target_row + 1,
                )
                self._rows.insert(target_row, self._rows.pop(current))
                self.endMoveRows()
            if self._rows[target_row] != bot:
                self._rows[target_row] = bot
                index = self.index(target_row)
                self.dataChanged.emit(index, index)

    def set_guests(self, chatbot_id: int, guests: list[GuestInfo]) -> None:
        value = tuple(guests)
        if self._guests.get(chatbot_id) == value:
            return
        self._guests[chatbot_id] = value
        for row, bot in enumerate(self._rows):
            if bot.id == chatbot_id:
                index = self.index(row)
                self.dataChanged.emit(index, index, [GuestsRole])

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._guests = {}
        self.endResetModel()
