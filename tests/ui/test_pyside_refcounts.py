"""Guard against a PySide6 release that leaks references to True/None (seen in 6.12.0).

PySide6 6.12.0 on Python 3.11 loses one reference to ``True`` on every ``Signal.emit()`` and one
to ``None`` in some calls (``beginInsertRows``, ``QModelIndex.data`` of an empty role); Python
3.11 aborts with "bool_dealloc: deallocating True or False" after a few hundred kiosk chat turns.
6.11.3, which pyproject.toml pins, does not. This test fails if an upgrade brings the leak back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    fired = Signal(int)


class _Rows(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self.count

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return None


def test_emits_and_model_calls_keep_true_and_none_alive(qtbot: QtBot) -> None:
    emitter = _Emitter()
    emitter.fired.connect(lambda _value: None)
    model = _Rows()
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for n in range(500):
        emitter.fired.emit(n)
        model.beginInsertRows(QModelIndex(), model.count, model.count)
        model.count += 1
        model.endInsertRows()
        model.index(0).data(Qt.ItemDataRole.UserRole + 7)
    # Allow a little noise from other objects; a leak would be 500 or more.
    assert sys.getrefcount(True) - true_before > -50
    assert sys.getrefcount(None) - none_before > -50
