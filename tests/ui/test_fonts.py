"""Guard against text silently rendering as boxes (no font installed)."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QFontInfo
from PySide6.QtWidgets import QApplication


def test_a_font_is_found(qapp: QApplication) -> None:
    assert QFontDatabase.families(), "no font found: install fonts-dejavu-core"
    assert QFontInfo(qapp.font()).family(), "the application font resolves to nothing"
