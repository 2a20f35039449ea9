"""The on-screen keyboard, inside the kiosk window whenever a text field has focus.

First choice: the Qt Virtual Keyboard's ``InputPanel`` embedded as QML in a ``QQuickWidget``
(needs ``QT_IM_MODULE=qtvirtualkeyboard`` set before the QApplication exists, which
:func:`kiosk.app.main` does). If the QML cannot load, a plain QWidget keyboard that types into
the focused field takes its place.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.widgets import TOUCH
from shared.ui.resources import resource_path

log = logging.getLogger("convergeai.kiosk")

IM_MODULE = "qtvirtualkeyboard"


def virtual_keyboard_requested() -> bool:
    return os.environ.get("QT_IM_MODULE") == IM_MODULE


class _QmlPanel(QWidget):
    """The Qt Virtual Keyboard in a QQuickWidget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtQuickWidgets import QQuickWidget

        self.quick = QQuickWidget(self)
        self.quick.setResizeMode(QQuickWidget.ResizeMode.SizeRootObjectToView)
        self.quick.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.quick.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.quick.setClearColor(Qt.GlobalColor.transparent)
        self.quick.setSource(QUrl.fromLocalFile(str(resource_path("kiosk", "keyboard.qml"))))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.quick)
        self.ok = self.quick.status() == QQuickWidget.Status.Ready
        if not self.ok:
            log.warning(
                "the Qt Virtual Keyboard did not load: %s",
                "; ".join(e.toString() for e in self.quick.errors()),
            )

    def fit(self, width: int, max_height: int) -> None:
        root = self.quick.rootObject()
        if root is None:
            return
        self.quick.resize(width, max_height)
        root.setProperty("width", width)  # now, not when the view is next laid out
        root.setProperty("maxPanelWidth", min(width, int(max_height * 3.3)))
        height = int(root.property("panelHeight") or 0)
        self.setFixedHeight(max(120, min(height, max_height)))


class _WidgetPanel(QWidget):
    """A plain keyboard that sends key presses to the focused field (the fallback)."""

    ROWS = ("1234567890", "qwertyuiop", "asdfghjkl@", "zxcvbnm.-_")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "keyboard")
        self.ok = True
        self._shift = False
        grid = QVBoxLayout(self)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setSpacing(8)
        self._keys: list[QPushButton] = []
        for chars in self.ROWS:
            row = QHBoxLayout()
            row.setSpacing(8)
            for ch in chars:
                key = self._key(ch, lambda _=False, c=ch: self._type(c))
                self._keys.append(key)
                row.addWidget(key)
            grid.addLayout(row)
        bottom = QGridLayout()
        tr = QCoreApplication.translate
        shift = self._key(tr("Keyboard", "Shift"), self._toggle_shift)
        space = self._key(tr("Keyboard", "Space"), lambda: self._type(" "))
        back = self._key("⌫", lambda: self._press(Qt.Key.Key_Backspace))
        enter = self._key(tr("Keyboard", "Enter"), lambda: self._press(Qt.Key.Key_Return))
        bottom.addWidget(shift, 0, 0)
        bottom.addWidget(space, 0, 1)
        bottom.setColumnStretch(1, 4)
        bottom.addWidget(back, 0, 2)
        bottom.addWidget(enter, 0, 3)
        grid.addLayout(bottom)

    def _key(self, text: str, slot: object) -> QPushButton:
        key = QPushButton(text)
        key.setProperty("role", "key")
        key.setMinimumHeight(TOUCH)
        key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        key.clicked.connect(slot)
        return key

    def _toggle_shift(self) -> None:
        self._shift = not self._shift
        for key in self._keys:
            text = key.text()
            key.setText(text.upper() if self._shift else text.lower())

    def _type(self, ch: str) -> None:
        text = ch.upper() if self._shift else ch
        self._send(Qt.Key.Key_unknown, text)

    def _press(self, key: Qt.Key) -> None:
        self._send(key, "\r" if key == Qt.Key.Key_Return else "")

    def _send(self, key: Qt.Key, text: str) -> None:
        target = QApplication.focusWidget()
        if target is None:
            return
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(
                target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
            )

    def fit(self, width: int, max_height: int) -> None:
        self.setFixedHeight(min(max_height, 5 * (TOUCH + 8) + 16))

    def reset(self) -> None:
        if self._shift:
            self._toggle_shift()


class KeyboardPanel(QWidget):
    """Shown at the bottom of the kiosk window while a text field has focus."""

    def __init__(self, parent: QWidget | None = None, *, prefer_qml: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("keyboard")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.prefer_qml = prefer_qml
        self.panel: _QmlPanel | _WidgetPanel | None = None
        self.uses_qt_virtual_keyboard = False
        self.hide()

    def ensure_panel(self) -> _QmlPanel | _WidgetPanel:
        """Build the keyboard the first time it is needed (QML costs start-up time)."""
        if self.panel is not None:
            return self.panel
        panel: _QmlPanel | _WidgetPanel | None = None
        if self.prefer_qml:
            try:
                panel = _QmlPanel(self)
            except Exception:  # noqa: BLE001 - any QML trouble: fall back
                log.exception("the Qt Virtual Keyboard failed")
                panel = None
            if panel is not None and not panel.ok:
                panel.deleteLater()
                panel = None
        self.uses_qt_virtual_keyboard = panel is not None
        if panel is None:
            log.info("using the built-in on-screen keyboard")
            panel = _WidgetPanel(self)
        self.panel = panel
        self._layout.addWidget(panel)
        return panel

    def fit(self, width: int, window_height: int) -> None:
        panel = self.ensure_panel()
        panel.fit(width, int(window_height * 0.38))
        self.setFixedHeight(panel.height())

    def reset(self) -> None:
        """Forget any keyboard state (shift, half-typed composition)."""
        QGuiApplication.inputMethod().reset()
        if isinstance(self.panel, _WidgetPanel):
            self.panel.reset()
        elif isinstance(self.panel, _QmlPanel):
            root = self.panel.quick.rootObject()
            if root is not None:  # back to letters, no shift, for the next person
                root.setProperty("maxPanelWidth", root.property("maxPanelWidth"))
        self.hide()


def is_text_field(widget: QWidget | None) -> bool:
    return isinstance(widget, QLineEdit) and not widget.isReadOnly()
