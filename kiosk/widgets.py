"""Small touch widgets: big buttons, chips in a flow layout, round guest avatars, and the
background photo cache."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLayout,
    QLayoutItem,
    QPushButton,
    QSizePolicy,
    QWidget,
    QWidgetItem,
)

from shared.ui.theme import palette

#: Smallest touch target, in pixels.
TOUCH = 64


def button(
    text: str, role: str = "secondary", *, parent: QWidget | None = None, literal: bool = False
) -> QPushButton:
    """A push button styled by ``role`` in kiosk.qss, at least TOUCH pixels high. ``literal``
    for text from data (a suggested question): an ``&`` in it is shown, not taken as a
    shortcut marker."""
    b = QPushButton(text.replace("&", "&&") if literal else text, parent)
    b.setProperty("role", role)
    b.setMinimumHeight(TOUCH)  # the width follows the text (never squeezed below it)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a tap never steals focus from a text field
    return b


def label(text: str = "", role: str = "body", *, wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setProperty("role", role)
    lab.setWordWrap(wrap)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    return lab


def restyle(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def theme_color(name: str, widget: QWidget | None = None) -> QColor:
    """A named colour of the running theme (for painting code; the palette files own them)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    theme = str(app.property("convergeai_theme") or "light") if app is not None else "light"
    return QColor(palette(theme)[name])


class FlowLayout(QLayout):
    """Lays widgets out left to right, wrapping to new lines (Qt's flow layout example)."""

    def __init__(
        self, parent: QWidget | None = None, spacing: int = 12, *, centered: bool = False
    ) -> None:
        super().__init__(parent)
        self.centered = centered
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def addWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt override
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._layout(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._layout(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _layout(self, rect: QRect, *, apply: bool) -> int:
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = 0
        for item in self._items:
            widget = item.widget()
            if widget is not None and widget.isHidden():
                continue
            hint = item.sizeHint()
            size = QSize(min(hint.width(), rect.width()), hint.height())
            if lines[-1] and x + size.width() > rect.width():
                lines.append([])
                x = 0
            lines[-1].append((item, size))
            x += size.width() + self._spacing
        y = rect.y()
        for line in lines:
            if not line:
                continue
            used = sum(sz.width() for _i, sz in line) + self._spacing * (len(line) - 1)
            x = rect.x() + ((rect.width() - used) // 2 if self.centered else 0)
            height = max(sz.height() for _i, sz in line)
            for item, sz in line:
                if apply:
                    item.setGeometry(QRect(QPoint(x, y), sz))
                x += sz.width() + self._spacing
            y += height + self._spacing
        return max(0, y - self._spacing - rect.y())

    def clear(self) -> None:
        while self._items:
            item = self._items.pop()
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalpha()]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][0].upper()
    return (parts[0][0] + parts[-1][0]).upper()


def round_pixmap(image: QImage, size: int) -> QPixmap:
    """The image cropped to a circle of ``size`` pixels."""
    scaled = image.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    out = QPixmap(size, size)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addEllipse(0, 0, size, size)
    painter.setClipPath(path)
    painter.drawImage(
        QRect(0, 0, size, size),
        scaled,
        QRect((scaled.width() - size) // 2, (scaled.height() - size) // 2, size, size),
    )
    painter.end()
    return out


class Avatar(QWidget):
    """A round guest photo, or the guest's initials until (or unless) the photo arrives."""

    def __init__(self, name: str, size: int = 72, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._size = size
        self._pixmap: QPixmap | None = None
        self.setFixedSize(size, size)
        self.setAccessibleName(name)

    def set_image(self, image: QImage | None) -> None:
        self._pixmap = round_pixmap(image, self._size) if image is not None else None
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._pixmap is not None:
            painter.drawPixmap(0, 0, self._pixmap)
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme_color("accent_soft"))
        painter.drawEllipse(0, 0, self._size, self._size)
        painter.setPen(theme_color("text"))
        font = painter.font()
        font.setPixelSize(max(12, self._size // 3))
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, initials(self._name))


PhotoKey = tuple[int, datetime | None]


class PhotoCache:
    """Guest photos by (guest id, photo_updated_at), decoded off the GUI thread; a small LRU."""

    def __init__(self, capacity: int = 200) -> None:
        self._images: OrderedDict[PhotoKey, QImage | None] = OrderedDict()
        self._waiting: dict[PhotoKey, list[Callable[[QImage | None], None]]] = {}
        self.capacity = capacity

    def get(self, key: PhotoKey) -> tuple[bool, QImage | None]:
        if key in self._images:
            self._images.move_to_end(key)
            return True, self._images[key]
        return False, None

    def want(self, key: PhotoKey, callback: Callable[[QImage | None], None]) -> bool:
        """Register a callback; True when the caller must start the load (first asker)."""
        first = key not in self._waiting
        self._waiting.setdefault(key, []).append(callback)
        return first

    def put(self, key: PhotoKey, image: QImage | None) -> None:
        self._images[key] = image
        self._images.move_to_end(key)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)
        for callback in self._waiting.pop(key, []):
            callback(image)

    def fail(self, key: PhotoKey) -> None:
        self._waiting.pop(key, None)

    def forget_waiters(self) -> None:
        self._waiting.clear()


class Card(QFrame):
    """A tappable card (an assistant in the chooser)."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def mouseReleaseEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.clicked.emit()
