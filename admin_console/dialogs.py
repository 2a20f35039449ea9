"""The edit dialog every form of the console uses: fields with their validation messages beside
them, Save runs in the background, the dialog closes only when the write succeeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.widgets import FormErrors
from shared.errors import KnownError


class EditDialog(QDialog):
    """A form that saves itself. Subclasses add fields and implement :meth:`work`."""

    saved = Signal(object)
    #: What a successful save changes (announced on the bus).
    changes = Changed.NONE

    def __init__(self, ctx: Context, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setObjectName("editDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(20, 18, 20, 16)
        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        self.layout_.addWidget(heading)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.layout_.addLayout(self.form, 1)
        general = QLabel()
        self.errors = FormErrors(self.form, general)
        self.layout_.addWidget(general)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("primary")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)
        self.saving = False

    def add(self, field: str, widget: QWidget | QLayout, label: str) -> None:
        self.errors.add(field, widget, label)

    def work(self) -> Callable[[], Any]:
        """The write to run in the background (read the widgets here, on the GUI thread)."""
        raise NotImplementedError

    def success_message(self, result: Any) -> str:
        return self.tr("Saved.")

    def accept(self) -> None:
        if self.saving:
            return
        self.errors.clear()
        try:
            fn = self.work()
        except KnownError as exc:
            self.errors.show(exc)
            return
        self.saving = True
        self.save_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.saving = False
            self.save_button.setEnabled(True)
            if isinstance(exc, KnownError):
                self.errors.show(exc)
            else:
                self.ctx.report_error(exc, self)

        def done(result: Any) -> None:
            self.saving = False
            self.save_button.setEnabled(True)
            self.saved.emit(result)
            self.ctx.announce(self.changes, self.success_message(result))
            super(EditDialog, self).accept()

        self.ctx.run(fn, done, owner=self, on_error=failed)
