"""The kiosk's screens. Each is a view: it shows what the window gives it and emits what the
attendee asked for; the window (:mod:`kiosk.window`) runs the work in the background."""

from __future__ import annotations

import contextlib
import time
from datetime import date

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.chatview import TranscriptView
from kiosk.models import ChatbotListModel, TranscriptModel
from kiosk.widgets import TOUCH, Avatar, Card, FlowLayout, button, label, restyle
from shared.models import ChatbotStatus
from shared.services.chatbots import ChatbotInfo
from shared.services.guests import GuestInfo

COLUMN = 960  # widest a form or text column gets


class Screen(QWidget):
    """A full-window page of the kiosk."""

    name = "screen"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("screen", self.name)

    def reset(self) -> None:
        """Forget everything typed or shown (the privacy wipe)."""
        for edit in self.findChildren(QLineEdit):
            edit.clear()
        for field in self.findChildren(Field):
            field.set_error("")

    def entered(self) -> None:
        """Called when the screen is shown."""

    def set_portrait(self, portrait: bool) -> None:
        """Re-arrange for a tall screen."""


def column(parent: QWidget, max_width: int = COLUMN) -> tuple[QVBoxLayout, QVBoxLayout]:
    """An outer layout centring an inner column of at most ``max_width`` pixels."""
    outer = QVBoxLayout(parent)
    outer.setContentsMargins(32, 24, 32, 24)
    row = QHBoxLayout()
    row.addStretch(1)
    holder = QWidget()
    holder.setMaximumWidth(max_width)
    holder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    inner = QVBoxLayout(holder)
    inner.setContentsMargins(0, 0, 0, 0)
    inner.setSpacing(20)
    row.addWidget(holder, 100)
    row.addStretch(1)
    outer.addLayout(row, 1)
    return outer, inner


class Field(QWidget):
    """A labelled text field with its own inline error line."""

    def __init__(self, caption: str, *, password: bool = False, hint: str = "") -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.caption = label(caption, "field-label")
        self.edit = QLineEdit()
        self.edit.setMinimumHeight(TOUCH)
        self.edit.setPlaceholderText(hint)
        if password:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.edit.setInputMethodHints(
                Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText
            )
        else:
            self.edit.setInputMethodHints(
                Qt.InputMethodHint.ImhNoAutoUppercase | Qt.InputMethodHint.ImhNoPredictiveText
            )
        self.caption.setBuddy(self.edit)
        self.error = label("", "error")
        self.error.hide()
        layout.addWidget(self.caption)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)

    def text(self) -> str:
        return self.edit.text()

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.edit.setProperty("invalid", bool(message))
        restyle(self.edit)


# Connecting ------------------------------------------------------------------------------------


class ConnectingScreen(Screen):
    """A calm "Connecting..." while the database cannot be reached."""

    name = "connecting"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _outer, inner = column(self, 900)
        inner.addStretch(1)
        self.title = label(self.tr("Connecting…"), "hero")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = label(self.tr("The assistant will be ready in a moment."), "lead")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.problem = label("", "muted")
        self.problem.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(self.title)
        inner.addWidget(self.detail)
        inner.addWidget(self.problem)
        inner.addStretch(1)

    def show_problem(self, message: str, retry_in: float | None) -> None:
        text = message
        if retry_in is not None:
            text += "\n" + self.tr("Trying again in {0} s.").format(max(1, round(retry_in)))
        self.problem.setText(text)

    def reset(self) -> None:
        pass


# Attract ---------------------------------------------------------------------------------------


class AttractScreen(Screen):
    """The event's name, one large "Tap to start" and a few sample questions."""

    name = "attract"
    start = Signal()
    ask = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _outer, inner = column(self, 1200)
        inner.addStretch(2)
        self.welcome = label(self.tr("Welcome to"), "lead")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.event_label = label("", "hero")
        self.event_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tagline = label(
            self.tr("Ask me about speakers, sessions, rooms, food and everything practical."),
            "lead",
        )
        self.tagline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.start_button = button(self.tr("Tap to start"), "hero")
        self.start_button.setMinimumHeight(120)
        self.start_button.clicked.connect(self.start)
        inner.addWidget(self.welcome)
        inner.addWidget(self.event_label)
        inner.addWidget(self.tagline)
        inner.addSpacing(24)
        self.start_button.setMaximumWidth(760)
        self.start_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        inner.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignHCenter)
        inner.addSpacing(24)
        self.try_label = label(self.tr("Or try asking:"), "muted")
        self.try_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(self.try_label)
        self.chips_box = QWidget()
        self.chips = FlowLayout(self.chips_box, spacing=16, centered=True)
        inner.addWidget(self.chips_box)
        inner.addStretch(3)
        self.set_event("", [])

    def set_event(self, name: str, questions: list[str]) -> None:
        self.event_label.setText(name or self.tr("the event assistant"))
        self.chips.clear()
        for question in questions:
            chip = button(question, "chip", literal=True)
            chip.clicked.connect(lambda _=False, q=question: self.ask.emit(q))
            self.chips.addWidget(chip)
        self.try_label.setVisible(bool(questions))
        self.chips_box.updateGeometry()

    def mouseReleaseEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.start.emit()  # anywhere on the screen starts

    def reset(self) -> None:
        pass


# Start choice ----------------------------------------------------------------------------------


class Tile(Card):
    """A big tappable choice: a title and a line saying what it means."""

    def __init__(self, title: str, detail: str, *, primary: bool = False) -> None:
        super().__init__()
        self.setProperty("role", "tile-primary" if primary else "tile")
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(6)
        self.title = label(title, "tile-title")
        self.detail = label(detail, "tile-detail")
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addStretch(1)
        self.setAccessibleName(title)


class StartScreen(Screen):
    """How to start: just ask (walk-up), sign in, badge, or create an account."""

    name = "start"
    just_ask = Signal()
    sign_in = Signal()
    badge = Signal()
    register = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _outer, inner = column(self, 1100)
        inner.addStretch(1)
        title = label(self.tr("How would you like to start?"), "title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(title)
        self.message = label("", "notice")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.hide()
        inner.addWidget(self.message)
        self.grid = QGridLayout()
        self.grid.setSpacing(24)
        self.ask_tile = self._tile(
            self.tr("Just ask"), self.tr("No sign-in needed. Nothing is kept about you."), "primary"
        )
        self.sign_in_tile = self._tile(
            self.tr("Sign in"), self.tr("With your username or email and password.")
        )
        self.badge_tile = self._tile(
            self.tr("Scan my badge"), self.tr("Hold your badge's code under the scanner.")
        )
        self.register_tile = self._tile(
            self.tr("Create an account"), self.tr("Keep your conversation for later.")
        )
        self.ask_tile.clicked.connect(self.just_ask)
        self.sign_in_tile.clicked.connect(self.sign_in)
        self.badge_tile.clicked.connect(self.badge)
        self.register_tile.clicked.connect(self.register)
        inner.addLayout(self.grid)
        inner.addStretch(2)
        self._portrait = False
        self._walk_up = True
        self._arrange()

    def _tile(self, title: str, detail: str, role: str = "tile") -> Tile:
        return Tile(title, detail, primary=role == "primary")

    def _arrange(self) -> None:
        tiles = [self.ask_tile, self.sign_in_tile, self.badge_tile, self.register_tile]
        for tile in tiles:
            self.grid.removeWidget(tile)
        shown = [t for t in tiles if t is not self.ask_tile or self._walk_up]
        self.ask_tile.setVisible(self._walk_up)
        cols = 1 if self._portrait else 2
        for i, tile in enumerate(shown):
            self.grid.addWidget(tile, i // cols, i % cols)

    def set_walk_up(self, available: bool) -> None:
        if available != self._walk_up:
            self._walk_up = available
            self._arrange()

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_portrait(self, portrait: bool) -> None:
        if portrait != self._portrait:
            self._portrait = portrait
            self._arrange()

    def reset(self) -> None:
        self.set_message("")


class SignInScreen(Screen):
    """Username or email and password; a reset password is replaced here too."""

    name = "signin"
    submitted = Signal(str, str, str)  # login, password, new password ("" unless a reset)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _outer, inner = column(self, 820)
        title = label(self.tr("Sign in"), "title")
        inner.addWidget(title)
        self.login = Field(self.tr("Username or email"))
        self.password = Field(self.tr("Password"), password=True)
        self.new_password = Field(self.tr("New password (at least 8 characters)"), password=True)
        self.new_password.hide()
        self.message = label("", "error")
        self.message.hide()
        self.submit = button(self.tr("Sign in"), "primary")
        self.busy = False
        inner.addWidget(self.login)
        inner.addWidget(self.password)
        inner.addWidget(self.new_password)
        inner.addWidget(self.message)
        inner.addWidget(self.submit)
        inner.addStretch(1)
        self.submit.clicked.connect(self._submit)
        self.login.edit.returnPressed.connect(self.password.edit.setFocus)
        self.password.edit.returnPressed.connect(self._submit)
        self.new_password.edit.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        if self.busy:
            return
        self.set_message("")
        self.submitted.emit(
            self.login.text(),
            self.password.text(),
            self.new_password.text() if self.new_password.isVisible() else "",
        )

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.submit.setEnabled(not busy)
        self.submit.setText(self.tr("Signing in…") if busy else self.tr("Sign in"))

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def ask_new_password(self, message: str) -> None:
        self.new_password.show()
        self.set_message(message)
        self.new_password.edit.setFocus()

    def entered(self) -> None:
        self.login.edit.setFocus()

    def reset(self) -> None:
        super().reset()
        self.new_password.hide()
        self.set_message("")
        self.set_busy(False)


class BadgeScanFilter(QObject):
    """Recognises a USB scanner: a fast burst of keystrokes ending in Enter, typed anywhere."""

    scanned = Signal(str)

    def __init__(self, parent: QObject | None = None, *, max_gap: float = 0.06) -> None:
        super().__init__(parent)
        self.max_gap = max_gap
        self.enabled = False
        self._buffer = ""
        self._last = 0.0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        if not isinstance(obj, QWidget) or not obj.isWindow():
            # An unaccepted key travels up to the window: count it once, there. (A text
            # field accepts its keys, so typing in one never reaches this point.)
            return False
        now = time.monotonic()
        if now - self._last > self.max_gap:
            self._buffer = ""
        self._last = now
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            code, self._buffer = self._buffer, ""
            if len(code) >= 16:
                self.scanned.emit(code)
                return True
            return False
        if event.text() and event.text().isprintable():
            self._buffer += event.text()
        return False


class BadgeScreen(Screen):
    """Sign in with the badge code: typed, or scanned (the scanner types it, then Enter)."""

    name = "badge"
    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _outer, inner = column(self, 820)
        inner.addWidget(label(self.tr("Scan your badge"), "title"))
        inner.addWidget(
            label(
                self.tr(
                    "Hold the code on your badge under the scanner, or type the code printed "
                    "below it."
                ),
                "lead",
            )
        )
        self.code = Field(self.tr("Badge code"), hint="XXXX-XXXX-XXXX-XXXX-XXXX")
        self.code.edit.setInputMethodHints(
            Qt.InputMethodHint.ImhPreferUppercase
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhSensitiveData
        )
        self.message = label("", "error")
        self.message.hide()
        self.submit = button(self.tr("Sign in"), "primary")
        self.busy = False
        inner.addWidget(self.code)
        inner.addWidget(self.message)
        inner.addWidget(self.submit)
        inner.addStretch(1)
        self.submit.clicked.connect(self._submit)
        self.code.edit.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        if self.busy or not self.code.text().strip():
            return
        self.set_message("")
        self.submitted.emit(self.code.text())

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.submit.setEnabled(not busy)

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def entered(self) -> None:
        self.code.edit.setFocus()

    def reset(self) -> None:
        super().reset()
        self.set_message("")
        self.set_busy(False)


class RegisterScreen(Screen):
    """Create an attendee account, with inline messages beside the field at fault."""

    name = "register"
    submitted = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer, inner = column(self, 820)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        QScroller.grabGesture(
            scroll.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture
        )
        body = QWidget()
        form = QVBoxLayout(body)
        form.setSpacing(14)
        form.addWidget(label(self.tr("Create an account"), "title"))
        self.fields = {
            "name": Field(self.tr("Your name")),
            "email": Field(self.tr("Email")),
            "username": Field(self.tr("Username (3 to 32 letters, digits, . - _)")),
            "password": Field(self.tr("Password (at least 8 characters)"), password=True),
        }
        order = list(self.fields.values())
        for i, field in enumerate(order):
            form.addWidget(field)
            if i + 1 < len(order):
                field.edit.returnPressed.connect(order[i + 1].edit.setFocus)
        self.fields["email"].edit.setInputMethodHints(
            Qt.InputMethodHint.ImhEmailCharactersOnly | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        self.fields["password"].edit.returnPressed.connect(self._submit)
        self.message = label("", "error")
        self.message.hide()
        form.addWidget(self.message)
        self.submit = button(self.tr("Create my account"), "primary")
        self.submit.clicked.connect(self._submit)
        form.addWidget(self.submit)
        form.addStretch(1)
        scroll.setWidget(body)
        inner.addWidget(scroll)
        self.busy = False

    def _submit(self) -> None:
        if self.busy:
            return
        for field in self.fields.values():
            field.set_error("")
        self.set_message("")
        self.submitted.emit({k: f.text() for k, f in self.fields.items()})

    def show_error(self, field: str | None, message: str) -> None:
        target = self.fields.get(field or "")
        if target is None:
            self.set_message(message)
        else:
            target.set_error(message)
            target.edit.setFocus()

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.submit.setEnabled(not busy)

    def entered(self) -> None:
        self.fields["name"].edit.setFocus()

    def reset(self) -> None:
        super().reset()
        self.set_message("")
        self.set_busy(False)


# Chooser ---------------------------------------------------------------------------------------


def date_range(start: date, end: date) -> str:
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"


class ChatbotCard(Card):
    """One assistant: name, event, dates, status and guest photos."""

    def __init__(self, bot: ChatbotInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bot = bot
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(8)
        top = QHBoxLayout()
        self.title = label("", "card-title")
        self.status = label("", "status")
        self.status.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        top.addWidget(self.title, 1)
        top.addWidget(self.status, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.event_label = label("", "lead")
        self.dates = label("", "muted")
        self.modes = label("", "muted")
        layout.addWidget(self.event_label)
        layout.addWidget(self.dates)
        layout.addWidget(self.modes)
        self.faces = QHBoxLayout()
        self.faces.setSpacing(10)
        layout.addLayout(self.faces)
        self.avatars: dict[int, Avatar] = {}
        self.set_chatbot(bot)

    def set_chatbot(self, bot: ChatbotInfo) -> None:
        self.bot = bot
        self.title.setText(bot.name)
        self.event_label.setText(bot.event_name)
        self.dates.setText(date_range(bot.start_date, bot.end_date))
        status = {
            ChatbotStatus.ACTIVE: self.tr("On now"),
            ChatbotStatus.UPCOMING: self.tr("Coming soon"),
            ChatbotStatus.ENDED: self.tr("Ended"),
            ChatbotStatus.INACTIVE: self.tr("Paused"),
        }[bot.status]
        self.status.setText(status)
        self.status.setProperty("state", bot.status.value)
        restyle(self.status)
        modes = []
        if bot.multiple_mode:
            modes.append(self.tr("Just ask, no sign-in"))
        if bot.single_mode:
            modes.append(self.tr("Personal, with sign-in"))
        self.modes.setText(" · ".join(modes))
        self.setAccessibleName(bot.name)

    def set_guests(self, guests: tuple[GuestInfo, ...], max_faces: int = 6) -> list[Avatar]:
        """Show the guests' faces; returns the new avatars (their photos load later)."""
        while self.faces.count():
            item = self.faces.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.avatars = {}
        new = []
        for guest in guests[:max_faces]:
            avatar = Avatar(guest.name, 64)
            avatar.setToolTip(guest.name)
            avatar.setProperty("guest", guest)
            self.faces.addWidget(avatar)
            self.avatars[guest.id] = avatar
            new.append(avatar)
        if len(guests) > max_faces:
            self.faces.addWidget(label(f"+{len(guests) - max_faces}", "muted"))
        self.faces.addStretch(1)
        return new


class ChooserScreen(Screen):
    """The assistants to choose from, kept in step with the model (refreshed in place)."""

    name = "chooser"
    chosen = Signal(int)
    avatars_added = Signal(list)

    def __init__(self, model: ChatbotListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        _outer, inner = column(self, 1400)
        self.title = label(self.tr("Choose an assistant"), "title")
        inner.addWidget(self.title)
        self.empty = label(
            self.tr("No assistant is available at the moment. Please ask at the Help Desk."),
            "lead",
        )
        self.empty.hide()
        inner.addWidget(self.empty)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        QScroller.grabGesture(
            scroll.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture
        )
        body = QWidget()
        self.grid = QGridLayout(body)
        self.grid.setSpacing(24)
        self.grid.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(body)
        inner.addWidget(scroll, 1)
        self.cards: dict[int, ChatbotCard] = {}
        self.walk_up_only = False
        self._portrait = False
        for sig in (model.rowsInserted, model.rowsRemoved, model.rowsMoved, model.modelReset):
            sig.connect(self.sync)
        model.dataChanged.connect(self._changed)

    def visible_bots(self) -> list[ChatbotInfo]:
        bots = self.model.chatbots()
        if self.walk_up_only:
            bots = [b for b in bots if b.multiple_mode]
        return bots

    def set_walk_up_only(self, walk_up: bool) -> None:
        self.walk_up_only = walk_up
        self.title.setText(
            self.tr("Who would you like to ask?") if walk_up else self.tr("Choose an assistant")
        )
        self.sync()

    def sync(self, *_args: object) -> None:
        bots = self.visible_bots()
        ids = {b.id for b in bots}
        for bot_id in list(self.cards):
            if bot_id not in ids:
                card = self.cards.pop(bot_id)
                self.grid.removeWidget(card)
                card.deleteLater()
        added: list[Avatar] = []
        for bot in bots:
            existing = self.cards.get(bot.id)
            if existing is None:
                card = ChatbotCard(bot)
                card.clicked.connect(lambda bid=bot.id: self.chosen.emit(bid))
                self.cards[bot.id] = card
                added += card.set_guests(self.model.guests(bot.id))
            elif existing.bot != bot:
                existing.set_chatbot(bot)
        cols = 1 if self._portrait or len(bots) == 1 else 2
        for card in self.cards.values():
            self.grid.removeWidget(card)
        for i, bot in enumerate(bots):
            self.grid.addWidget(self.cards[bot.id], i // cols, i % cols)
        self.grid.setRowStretch(max(1, (len(bots) + cols - 1) // cols), 1)
        self.empty.setVisible(not bots)
        if added:
            self.avatars_added.emit(added)

    def _changed(self, top: object, bottom: object, roles: list[int] | None = None) -> None:
        added: list[Avatar] = []
        for bot in self.visible_bots():
            card = self.cards.get(bot.id)
            if card is None:
                continue
            if card.bot != bot:
                card.set_chatbot(bot)
            guests = self.model.guests(bot.id)
            shown = [a.property("guest") for a in card.avatars.values()]
            if list(guests[: len(shown) or 6]) != shown:
                added += card.set_guests(guests)
        if added:
            self.avatars_added.emit(added)

    def set_portrait(self, portrait: bool) -> None:
        if portrait != self._portrait:
            self._portrait = portrait
            self.sync()

    def reset(self) -> None:
        self.walk_up_only = False


# Chat ------------------------------------------------------------------------------------------


class TypingIndicator(QLabel):
    """ "The assistant is typing" with moving dots."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "typing")
        self._dots = 0
        self._timer = QTimer(self)
        self._timer.setInterval(400)
        self._timer.timeout.connect(self._tick)
        self.hide()

    def _tick(self) -> None:
        self._dots = (self._dots + 1) % 4
        self.setText(self.tr("The assistant is typing") + " " + "•" * self._dots)

    def start(self) -> None:
        self._dots = 0
        self._tick()
        self.show()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.hide()


class GuestChip(QFrame):
    """A guest's face, name and title, in the chat's guest strip."""

    def __init__(self, guest: GuestInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "guest")
        self.guest = guest
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 8, 16, 8)
        layout.setSpacing(12)
        self.avatar = Avatar(guest.name, 64)
        self.avatar.setProperty("guest", guest)
        layout.addWidget(self.avatar)
        text = QVBoxLayout()
        text.setSpacing(0)
        name = label(guest.name, "guest-name", wrap=False)
        title = guest.title or guest.organization
        if guest.title and guest.organization:
            title = f"{guest.title}, {guest.organization}"
        sub = label(title, "guest-title", wrap=False)
        sub.setMaximumWidth(320)
        text.addWidget(name)
        text.addWidget(sub)
        layout.addLayout(text)


class ChatScreen(Screen):
    """The conversation: guests, transcript, typing indicator, suggestion chips, input."""

    name = "chat"
    send = Signal(str)
    load_older = Signal()
    avatars_added = Signal(list)

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._compact = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 12, 24, 16)
        outer.setSpacing(10)
        head = QVBoxLayout()
        head.setSpacing(2)
        self.title = label("", "title", wrap=True)
        self.mode = label("", "muted", wrap=True)
        head.addWidget(self.title)
        head.addWidget(self.mode)
        outer.addLayout(head)
        self.guests_scroll = QScrollArea()
        self.guests_scroll.setObjectName("guests")
        self.guests_scroll.setWidgetResizable(True)
        self.guests_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.guests_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.guests_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.guests_scroll.setFixedHeight(96)
        QScroller.grabGesture(
            self.guests_scroll.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture
        )
        guests_body = QWidget()
        self.guests_row = QHBoxLayout(guests_body)
        self.guests_row.setContentsMargins(0, 0, 0, 0)
        self.guests_row.setSpacing(12)
        self.guests_row.addStretch(1)
        self.guests_scroll.setWidget(guests_body)
        self.guests_scroll.hide()
        outer.addWidget(self.guests_scroll)
        self.view = TranscriptView()
        self.view.setModel(model)
        outer.addWidget(self.view, 1)
        self.view.verticalScrollBar().valueChanged.connect(self._scrolled)
        model.rowsInserted.connect(self._rows_inserted)
        model.dataChanged.connect(self._data_changed)
        self.typing = TypingIndicator()
        outer.addWidget(self.typing)
        self.chips_box = QWidget()
        self.chips = FlowLayout(self.chips_box, spacing=12)
        outer.addWidget(self.chips_box)
        row = QHBoxLayout()
        row.setSpacing(12)
        self.input = QLineEdit()
        self.input.setObjectName("chat-input")
        self.input.setMinimumHeight(TOUCH + 8)
        self.input.setMaxLength(2000)
        self.input.setPlaceholderText(self.tr("Type your question…"))
        self.input.returnPressed.connect(self._send)
        self.send_button = button(self.tr("Send"), "primary")
        self.send_button.setMinimumWidth(160)
        self.send_button.clicked.connect(self._send)
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button)
        outer.addLayout(row)
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(40)
        self._relayout_timer.timeout.connect(self.view.relayout)

    def _send(self) -> None:
        text = self.input.text().strip()
        if not text:
            return
        self.input.clear()
        self.send.emit(text)

    def _rows_inserted(self, *_args: object) -> None:
        # Laid out once per burst of rows (the relayout timer), following the newest turn
        # while the attendee is at the bottom.
        if not self._relayout_timer.isActive():
            self._relayout_timer.start()

    def _data_changed(self, *_args: object) -> None:
        if not self._relayout_timer.isActive():
            self._relayout_timer.start()

    def _scrolled(self, value: int) -> None:
        if value <= 0 and self.model.has_more:
            self.load_older.emit()

    def set_chatbot(self, name: str, event: str, walk_up: bool) -> None:
        self.title.setText(name)
        self.mode.setText(
            self.tr("Walk-up conversation: ends when you leave")
            if walk_up
            else self.tr("Your personal conversation")
        )

    def set_suggestions(self, questions: list[str]) -> None:
        self.chips.clear()
        for question in questions:
            chip = button(question, "chip", literal=True)
            chip.clicked.connect(lambda _=False, q=question: self.send.emit(q))
            self.chips.addWidget(chip)
        self.chips_box.setVisible(bool(questions) and not self._compact)
        self.chips_box.updateGeometry()

    def set_guests(self, guests: list[GuestInfo]) -> None:
        while self.guests_row.count() > 1:
            item = self.guests_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        avatars = []
        for i, guest in enumerate(guests):
            chip = GuestChip(guest)
            self.guests_row.insertWidget(i, chip)
            avatars.append(chip.avatar)
        self.guests_scroll.setVisible(bool(guests) and not self._compact)
        if avatars:
            self.avatars_added.emit(avatars)

    def set_compact(self, compact: bool) -> None:
        """While the on-screen keyboard is up: keep the transcript and the input, drop the rest."""
        self._compact = compact
        self.title.setVisible(not compact)
        self.mode.setVisible(not compact)
        self.guests_scroll.setVisible(not compact and self.guests_row.count() > 1)
        self.chips_box.setVisible(not compact and self.chips.count() > 0)

    def set_sending(self, busy: bool) -> None:
        if busy:
            self.typing.start()
        else:
            self.typing.stop()

    def entered(self) -> None:
        self.view.follow()

    def reset(self) -> None:
        super().reset()
        self.title.clear()
        self.mode.clear()
        self.set_suggestions([])
        self.set_guests([])
        self.typing.stop()


# Profile ---------------------------------------------------------------------------------------


class ProfileScreen(Screen):
    """The signed-in attendee: name, email, change password, sign out."""

    name = "profile"
    change_password = Signal(str, str)
    sign_out = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _outer, inner = column(self, 820)
        inner.addWidget(label(self.tr("Your profile"), "title"))
        self.who = label("", "lead")
        self.email = label("", "muted")
        inner.addWidget(self.who)
        inner.addWidget(self.email)
        inner.addSpacing(12)
        inner.addWidget(label(self.tr("Change your password"), "subtitle"))
        self.current = Field(self.tr("Current password"), password=True)
        self.new = Field(self.tr("New password (at least 8 characters)"), password=True)
        self.current.edit.returnPressed.connect(self.new.edit.setFocus)
        self.new.edit.returnPressed.connect(self._change)
        inner.addWidget(self.current)
        inner.addWidget(self.new)
        self.message = label("", "notice")
        self.message.hide()
        inner.addWidget(self.message)
        buttons = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        buttons.setSpacing(16)
        self.change_button = button(self.tr("Change password"), "secondary")
        self.change_button.clicked.connect(self._change)
        self.sign_out_button = button(self.tr("Sign out"), "danger")
        self.sign_out_button.clicked.connect(self.sign_out)
        buttons.addWidget(self.change_button)
        buttons.addWidget(self.sign_out_button)
        inner.addLayout(buttons)
        inner.addStretch(1)

    def _change(self) -> None:
        self.current.set_error("")
        self.new.set_error("")
        self.set_message("")
        self.change_password.emit(self.current.text(), self.new.text())

    def set_user(self, name: str, email: str) -> None:
        self.who.setText(self.tr("Signed in as {0}").format(name))
        self.email.setText(email)

    def set_message(self, text: str, ok: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("role", "success" if ok else "error")
        restyle(self.message)
        self.message.setVisible(bool(text))

    def reset(self) -> None:
        super().reset()
        self.who.clear()
        self.email.clear()
        self.set_message("")


def set_avatar_image(avatar: Avatar, image: QImage | None) -> None:
    """Deliver a photo to an avatar that may have been deleted meanwhile."""
    with contextlib.suppress(RuntimeError):  # the C++ widget is gone (the list changed)
        avatar.set_image(image)
