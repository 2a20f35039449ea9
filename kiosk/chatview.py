"""The transcript view: a QListView with a bubble delegate, kinetic touch scrolling and
per-pixel scrolling, so long conversations stay smooth (only visible rows are painted)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QScroller,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from kiosk.models import FAILED, NOTICE, PENDING, SENDING, STREAMING, TranscriptModel, Turn
from kiosk.widgets import theme_color

PAD_X, PAD_Y = 22, 16  # inside a bubble
GAP = 10  # between rows
SIDE = 18  # view edge to bubble
RADIUS = 20
MAX_FRACTION = 0.78  # of the view width

AnyIndex = QModelIndex | QPersistentModelIndex


def small_font(font: QFont) -> QFont:
    """The caption font: three quarters of the bubble text (a copy, never the option's)."""
    small = QFont(font)
    if font.pixelSize() > 0:
        small.setPixelSize(max(14, round(font.pixelSize() * 0.72)))
    elif font.pointSizeF() > 0:
        small.setPointSizeF(max(9.0, font.pointSizeF() * 0.72))
    return small


def _tr(text: str) -> str:
    return QCoreApplication.translate("Transcript", text)


def caption(state: str, source: str | None, is_user: bool) -> str:
    """The small line under a bubble: delivery state, or the discreet offline mark."""
    if is_user:
        if state == PENDING:
            return _tr("Will be sent when the connection returns")
        if state == SENDING:
            return _tr("Sending…")
        if state == FAILED:
            return _tr("Could not be sent")
        return ""
    if source == "offline" and state != STREAMING:
        return _tr("Offline answer")
    return ""


class BubbleDelegate(QStyledItemDelegate):
    """Paints user bubbles on the right, the assistant's on the left, notices centred."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._sizes: dict[tuple[object, ...], QSize] = {}

    def _bubble_width(self) -> int:
        return max(200, int(self._view.viewport().width() * MAX_FRACTION))

    def _turn(self, index: AnyIndex) -> Turn:
        # Straight from the model: no QVariant round trip for each of many calls.
        model = index.model()
        turn = model.turn_at(index.row()) if isinstance(model, TranscriptModel) else None
        return turn if turn is not None else Turn("", "")

    def _layout(self, option: QStyleOptionViewItem, turn: Turn) -> tuple[QRect, QRect, str]:
        """Text rect (relative to the row), caption text and its rect."""
        fm = QFontMetrics(option.font)
        text = turn.text or " "
        cap = "" if turn.kind == NOTICE else caption(turn.state, turn.source, turn.is_user)
        inner = self._bubble_width() - 2 * PAD_X
        if turn.kind == NOTICE:
            inner = self._view.viewport().width() - 2 * SIDE - 2 * PAD_X
        bound = fm.boundingRect(
            QRect(0, 0, max(50, inner), 100_000),
            int(Qt.TextFlag.TextWordWrap),
            text,
        )
        text_rect = QRect(0, 0, bound.width(), bound.height())
        cap_rect = QRect()
        if cap:
            cfm = QFontMetrics(small_font(option.font))
            cap_rect = QRect(0, 0, cfm.horizontalAdvance(cap) + 4, cfm.height())
        return text_rect, cap_rect, cap

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:  # noqa: N802
        turn = self._turn(index)
        width = self._view.viewport().width()
        key = (turn.key, turn.text, turn.state, turn.source, width, option.font.key())
        cached = self._sizes.get(key)
        if cached is not None:
            return cached
        text_rect, cap_rect, _cap = self._layout(option, turn)
        height = text_rect.height() + 2 * PAD_Y + GAP
        if not cap_rect.isNull():
            height += cap_rect.height() + 4
        size = QSize(width, height)
        if len(self._sizes) > 2000:  # bounded: a long conversation does not grow it
            self._sizes.clear()
        self._sizes[key] = size
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        turn = self._turn(index)
        text_rect, cap_rect, cap = self._layout(option, turn)
        row = option.rect
        is_user = turn.is_user
        kind = turn.kind
        text = turn.text
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(option.font)
        w = text_rect.width() + 2 * PAD_X
        h = text_rect.height() + 2 * PAD_Y
        if kind == NOTICE:
            x = row.left() + (row.width() - w) // 2
            bubble = QRect(x, row.top() + GAP // 2, w, h)
            painter.setPen(theme_color("muted"))
            painter.drawText(
                bubble.adjusted(PAD_X, PAD_Y, -PAD_X, -PAD_Y),
                int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter),
                text,
            )
            painter.restore()
            return
        x = row.right() - SIDE - w if is_user else row.left() + SIDE
        bubble = QRect(x, row.top() + GAP // 2, w, h)
        path = QPainterPath()
        path.addRoundedRect(bubble, RADIUS, RADIUS)
        if is_user:
            painter.fillPath(path, theme_color("user_bubble"))
            painter.setPen(theme_color("on_user_bubble"))
        else:
            painter.fillPath(path, theme_color("bot_bubble"))
            painter.setPen(QPen(theme_color("border"), 1.5))
            painter.drawPath(path)
            painter.setPen(theme_color("text"))
        painter.drawText(
            bubble.adjusted(PAD_X, PAD_Y, -PAD_X, -PAD_Y),
            int(Qt.TextFlag.TextWordWrap),
            text,
        )
        if cap:
            painter.setFont(small_font(option.font))
            color = theme_color("danger") if turn.state == FAILED else theme_color("muted")
            painter.setPen(color)
            cx = bubble.right() - cap_rect.width() if is_user else bubble.left() + 4
            painter.drawText(
                QRect(cx, bubble.bottom() + 4, cap_rect.width(), cap_rect.height()),
                int(Qt.AlignmentFlag.AlignLeft),
                cap,
            )
        painter.restore()


class TranscriptView(QListView):
    """The conversation: per-pixel, kinetic scrolling; follows the newest turn while the
    attendee is at the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setItemDelegate(BubbleDelegate(self))
        self.verticalScrollBar().setSingleStep(24)
        QScroller.grabGesture(self.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._remember_follow)

    def _remember_follow(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 40

    def relayout(self) -> None:
        """Row heights changed (a reply streaming in): lay out again, keep following."""
        follow = self._follow
        self.scheduleDelayedItemsLayout()
        if follow:
            self.executeDelayedItemsLayout()
            self.scrollToBottom()

    def follow(self) -> None:
        self._follow = True
        self.scrollToBottom()

    def at_top(self) -> bool:
        return self.verticalScrollBar().value() <= 0
