"""What covers the screens: the "Still there?" countdown, the admin PIN pad and panel, and a
calm error message. Also the idle watcher and the lock-down event filter (Escape, Alt+F4, the
hidden five-taps-in-the-corner gesture)."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QTouchEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.widgets import TOUCH, button, label
from shared.services.chatbots import ChatbotInfo

#: Input events that mean somebody is there.
ACTIVITY = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseMove,
    QEvent.Type.KeyPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.TouchUpdate,
    QEvent.Type.Wheel,
    QEvent.Type.InputMethod,
}


class IdleWatcher(QObject):
    """Emits ``idle`` after ``timeout_ms`` without any input anywhere in the application."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(timeout_ms)
        self.timer.timeout.connect(self.idle)
        self.enabled = True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in ACTIVITY:
            self.poke()
        return False

    def poke(self) -> None:
        if self.enabled:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


class LockdownFilter(QObject):
    """Swallows Escape and Alt+F4; counts taps in the top-left corner for the admin gesture."""

    corner_gesture = Signal()

    def __init__(
        self,
        window: QWidget,
        *,
        locked: bool,
        taps: int = 5,
        within: float = 3.0,
        corner: int = 110,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.locked = locked
        self.taps = taps
        self.within = within
        self.corner = corner
        self._times: deque[float] = deque(maxlen=taps)
        self._last_stamp = -1

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and self.locked:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            if key == Qt.Key.Key_Escape or (key == Qt.Key.Key_F4 and alt):
                return True
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            self._tap(event.globalPosition(), event.timestamp())
        elif kind == QEvent.Type.TouchBegin and isinstance(event, QTouchEvent):
            points = event.points()
            if points:
                self._tap(points[0].globalPosition(), event.timestamp())
        return False

    def _tap(self, global_pos: QPointF, stamp: int) -> None:
        if not self.window.isVisible() or stamp == self._last_stamp:
            return  # the same press seen again on its way up to the parents
        self._last_stamp = stamp
        local = self.window.mapFromGlobal(QPoint(int(global_pos.x()), int(global_pos.y())))
        if not (0 <= local.x() < self.corner and 0 <= local.y() < self.corner):
            return
        now = time.monotonic()
        self._times.append(now)
        if len(self._times) == self.taps and now - self._times[0] <= self.within:
            self._times.clear()
            self.corner_gesture.emit()


class Overlay(QFrame):
    """A dimmed layer over the whole window with a centred panel."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.panel = QFrame()
        self.panel.setProperty("role", "dialog")
        self.panel.setMaximumWidth(900)
        self.body = QVBoxLayout(self.panel)
        self.body.setContentsMargins(40, 36, 40, 36)
        self.body.setSpacing(20)
        row.addWidget(self.panel, 8)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self.hide()

    def open(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()


class IdleOverlay(Overlay):
    """ "Still there?" with a countdown and a big Continue."""

    continue_ = Signal()
    finish = Signal()
    expired = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.title = label(self.tr("Still there?"), "hero")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count = label("", "lead")
        self.count.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.continue_button = button(self.tr("Continue"), "hero")
        self.continue_button.setMinimumHeight(110)
        self.finish_button = button(self.tr("I'm done: clear everything now"), "secondary")
        self.body.addWidget(self.title)
        self.body.addWidget(self.count)
        self.body.addWidget(self.continue_button)
        self.body.addWidget(self.finish_button)
        self.continue_button.clicked.connect(self._continue)
        self.finish_button.clicked.connect(self._finish)
        self.remaining = 0
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)

    def start(self, seconds: int) -> None:
        self.remaining = seconds
        self._show_count()
        self.open()
        self.timer.start()

    def _show_count(self) -> None:
        self.count.setText(
            self.tr("For your privacy, everything will be cleared in {0} seconds.").format(
                self.remaining
            )
        )

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.stop()
            self.expired.emit()
        else:
            self._show_count()

    def stop(self) -> None:
        self.timer.stop()
        self.hide()

    def _continue(self) -> None:
        self.stop()
        self.continue_.emit()

    def _finish(self) -> None:
        self.stop()
        self.finish.emit()


class PinPad(Overlay):
    """The admin PIN: big digits, dots for what was typed."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.panel.setMaximumWidth(560)
        title = label(self.tr("Kiosk administration"), "title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.display = label("", "pin")
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = label(self.tr("Enter the admin PIN."), "muted")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(title)
        self.body.addWidget(self.display)
        self.body.addWidget(self.message)
        grid = QGridLayout()
        grid.setSpacing(14)
        self.keys: dict[str, QPushButton] = {}
        for i, digit in enumerate("123456789"):
            self._digit(grid, digit, i // 3, i % 3)
        clear = button(self.tr("Clear"), "secondary")
        clear.clicked.connect(self.clear)
        grid.addWidget(clear, 3, 0)
        self._digit(grid, "0", 3, 1)
        back = button("⌫", "secondary")
        back.setAccessibleName(self.tr("Delete"))
        back.clicked.connect(self._back)
        grid.addWidget(back, 3, 2)
        self.body.addLayout(grid)
        row = QHBoxLayout()
        self.cancel_button = button(self.tr("Cancel"), "secondary")
        self.ok_button = button(self.tr("OK"), "primary")
        self.cancel_button.clicked.connect(self._cancel)
        self.ok_button.clicked.connect(self._submit)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        self.body.addLayout(row)
        self.pin = ""
        self.busy = False

    def _digit(self, grid: QGridLayout, digit: str, r: int, c: int) -> None:
        key = button(digit, "digit")
        key.setMinimumSize(TOUCH + 36, TOUCH + 16)
        key.clicked.connect(lambda _=False, d=digit: self.press(d))
        grid.addWidget(key, r, c)
        self.keys[digit] = key

    def press(self, digit: str) -> None:
        if len(self.pin) < 12 and not self.busy:
            self.pin += digit
            self.display.setText("●" * len(self.pin))

    def _back(self) -> None:
        self.pin = self.pin[:-1]
        self.display.setText("●" * len(self.pin))

    def clear(self) -> None:
        self.pin = ""
        self.display.setText("")

    def _submit(self) -> None:
        if self.pin and not self.busy:
            self.submitted.emit(self.pin)

    def _cancel(self) -> None:
        self.close_pad()
        self.cancelled.emit()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.ok_button.setEnabled(not busy)

    def set_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("role", "error" if error else "muted")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def open_pad(self) -> None:
        self.clear()
        self.set_busy(False)
        self.set_message(self.tr("Enter the admin PIN."))
        self.open()

    def close_pad(self) -> None:
        self.clear()
        self.hide()


class AdminPanel(Overlay):
    """Exit the kiosk, set its name, choose the assistants it shows, choose the theme."""

    save = Signal(str, object, str)  # name, chatbot ids (tuple or None), theme
    exit_kiosk = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.panel.setMaximumWidth(1000)
        self.body.addWidget(label(self.tr("Kiosk administration"), "title"))
        self.body.addWidget(label(self.tr("Kiosk name"), "field-label"))
        self.name = QLineEdit()
        self.name.setMinimumHeight(TOUCH)
        self.name.setMaxLength(64)
        self.body.addWidget(self.name)
        self.body.addWidget(
            label(self.tr("Assistants shown on this kiosk (none ticked: all)"), "field-label")
        )
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumHeight(150)
        scroll.setMaximumHeight(300)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        box = QWidget()
        self.checks_layout = QVBoxLayout(box)
        self.checks_layout.setSpacing(6)
        scroll.setWidget(box)
        self.body.addWidget(scroll)
        self.checks: dict[int, QCheckBox] = {}
        theme_row = QHBoxLayout()
        theme_row.addWidget(label(self.tr("Theme"), "field-label"))
        self.light = button(self.tr("Light"), "toggle")
        self.dark = button(self.tr("Dark"), "toggle")
        for b in (self.light, self.dark):
            b.setCheckable(True)
            theme_row.addWidget(b)
        self.light.clicked.connect(lambda: self._pick_theme("light"))
        self.dark.clicked.connect(lambda: self._pick_theme("dark"))
        self.body.addLayout(theme_row)
        self.message = label("", "muted")
        self.body.addWidget(self.message)
        row = QHBoxLayout()
        row.setSpacing(14)
        self.exit_button = button(self.tr("Exit the kiosk"), "danger")
        self.close_button = button(self.tr("Close"), "secondary")
        self.save_button = button(self.tr("Save"), "primary")
        row.addWidget(self.exit_button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        row.addWidget(self.save_button)
        self.body.addLayout(row)
        self.exit_button.clicked.connect(self.exit_kiosk)
        self.close_button.clicked.connect(self._close)
        self.save_button.clicked.connect(self._save)
        self.theme = "light"

    def _pick_theme(self, theme: str) -> None:
        self.theme = theme
        self.light.setChecked(theme == "light")
        self.dark.setChecked(theme == "dark")

    def populate(
        self,
        name: str,
        bots: list[ChatbotInfo],
        selected: tuple[int, ...] | None,
        theme: str,
    ) -> None:
        self.name.setText(name)
        for check in self.checks.values():
            check.deleteLater()
        self.checks = {}
        for bot in bots:
            check = QCheckBox(bot.name)
            check.setToolTip(bot.event_name)
            check.setMinimumHeight(TOUCH - 8)
            check.setChecked(selected is not None and bot.id in selected)
            self.checks_layout.addWidget(check)
            self.checks[bot.id] = check
        self._pick_theme(theme)
        self.message.setText("")

    def _save(self) -> None:
        ids = tuple(i for i, c in self.checks.items() if c.isChecked())
        self.save.emit(self.name.text().strip(), ids or None, self.theme)

    def _close(self) -> None:
        self.hide()
        self.closed.emit()


class MessageOverlay(Overlay):
    """A calm message (something unexpected happened) with one OK."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.title = label("", "title")
        self.text = label("", "lead")
        self.ok = button(self.tr("OK"), "primary")
        self.ok.clicked.connect(self.hide)
        self.body.addWidget(self.title)
        self.body.addWidget(self.text)
        self.body.addWidget(self.ok)

    def show_message(self, title: str, text: str) -> None:
        self.title.setText(title)
        self.text.setText(text)
        self.open()
