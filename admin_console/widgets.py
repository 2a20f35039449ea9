"""Small widgets the views share: toasts, figure cards, debounced search, forms with errors
shown next to their fields, and a configured table view."""

from __future__ import annotations

from datetime import date, datetime

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shared.errors import ValidationError
from shared.settings import get_settings

TOAST_MS = 4500


def fmt_datetime(value: datetime | None) -> str:
    """A timestamp in the venue's time zone, as organizers read it."""
    if value is None:
        return ""
    return value.astimezone(get_settings().timezone()).strftime("%Y-%m-%d %H:%M")


def fmt_date(value: date | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


def fmt_int(value: int) -> str:
    return f"{value:,}"


class Toast(QFrame):
    """One notification: non-modal, fades away by itself, click to dismiss."""

    def __init__(self, parent: QWidget, text: str, kind: str) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setProperty("kind", kind)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setObjectName("toastText")
        self.label.setProperty("kind", kind)
        layout.addWidget(self.label)
        self.setMaximumWidth(420)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.dismiss)
        self.timer.start(TOAST_MS if kind != "error" else TOAST_MS * 2)

    def mousePressEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.dismiss()

    def dismiss(self) -> None:
        self.timer.stop()
        self.hide()
        self.deleteLater()


class Toaster(QObject):
    """Stacks toasts in the bottom-right corner of a window."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.host = host
        self.toasts: list[Toast] = []
        host.installEventFilter(self)

    def show(self, text: str, kind: str = "info") -> Toast:
        toast = Toast(self.host, text, kind)
        toast.destroyed.connect(lambda *_: self._forget(toast))
        self.toasts.append(toast)
        toast.show()
        toast.raise_()
        self._layout()
        return toast

    def _forget(self, toast: Toast) -> None:
        if toast in self.toasts:
            self.toasts.remove(toast)
        if shiboken6.isValid(self.host):
            self._layout()

    def _layout(self) -> None:
        y = self.host.height() - 40
        for toast in reversed(self.toasts):
            if not shiboken6.isValid(toast) or not toast.isVisible():
                continue
            toast.adjustSize()
            y -= toast.height() + 8
            toast.move(self.host.width() - toast.width() - 20, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self._layout()
        return False


class FigureCard(QFrame):
    """A dashboard figure: a big number and its label."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figureCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.value = QLabel("–")
        self.value.setObjectName("figureValue")
        self.caption = QLabel(label)
        self.caption.setObjectName("figureLabel")
        self.caption.setWordWrap(True)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)

    def set_value(self, value: int) -> None:
        self.value.setText(fmt_int(value))


class SearchField(QLineEdit):
    """A search box that waits until typing pauses before it says what to look for."""

    search = Signal(str)

    def __init__(self, placeholder: str, parent: QWidget | None = None, delay_ms: int = 300):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.setObjectName("searchField")
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(lambda: self.search.emit(self.text().strip()))
        self.textChanged.connect(lambda _t: self.timer.start())
        self.returnPressed.connect(self.flush)

    def flush(self) -> None:
        """Search now (Enter, tests)."""
        self.timer.stop()
        self.search.emit(self.text().strip())


class FormErrors:
    """A form whose validation messages appear under the field they concern
    (``ValidationError.field``), plus one general message for the rest."""

    def __init__(self, form: QFormLayout, general: QLabel) -> None:
        self.form = form
        self.general = general
        self.labels: dict[str, QLabel] = {}
        general.setObjectName("formError")
        general.setWordWrap(True)
        general.hide()

    def add(self, field: str, widget: QWidget | QLayout, label: str) -> QLabel:
        """Add a row for ``field`` with an (initially hidden) error label below the widget."""
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if isinstance(widget, QLayout):
            column.addLayout(widget)
        else:
            column.addWidget(widget)
            if widget.maximumHeight() < 16_777_215:  # a fixed-height field: do not pad it
                holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        self.labels[field] = error
        self.form.addRow(label, holder)
        return error

    def clear(self) -> None:
        for label in self.labels.values():
            label.hide()
            label.clear()
        self.general.hide()
        self.general.clear()

    def show(self, exc: BaseException) -> None:
        self.clear()
        field = exc.field if isinstance(exc, ValidationError) else None
        target = self.labels.get(field or "")
        if target is None:
            self.general.setText(str(exc))
            self.general.show()
        else:
            target.setText(str(exc))
            target.show()

    def message(self, field: str | None = None) -> str:
        """The error shown for ``field`` (or the general one); empty when none (for tests)."""
        label = self.labels.get(field) if field else self.general
        return label.text() if label is not None and not label.isHidden() else ""


def make_table(parent: QWidget | None = None, *, stretch_column: int | None = None) -> QTableView:
    """A table view set up the way every console list works."""
    view = QTableView(parent)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setSortingEnabled(False)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(30)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header = view.horizontalHeader()
    header.setStretchLastSection(stretch_column is None)
    if stretch_column is not None:
        # Section modes are reset with the model's columns: apply it whenever they appear.
        def stretch(*_args: object) -> None:
            if header.count() > stretch_column:
                header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)

        header.sectionCountChanged.connect(stretch)
        stretch()
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    return view


def heading(text: str, role: str = "title") -> QLabel:
    label = QLabel(text)
    label.setObjectName("viewTitle" if role == "title" else "sectionTitle")
    return label


def muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "muted")
    label.setWordWrap(True)
    return label
