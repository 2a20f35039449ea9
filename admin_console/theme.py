"""The console's theme: the shared palettes and ``resources/themes/admin.qss``, plus the
console's own icons (``resources/admin``) referenced from the sheet as ``%ICONS%``."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from shared.ui.resources import resource_path
from shared.ui.theme import THEMES, qpalette, render_qss


def admin_qss(theme: str, scale: float = 1.0) -> str:
    """The rendered style sheet, icon paths filled in."""
    icons = resource_path("admin").as_posix()
    return render_qss("admin", theme, scale).replace("%ICONS%", icons).replace("%THEME%", theme)


def apply_admin_theme(app: QApplication, theme: str, scale: float = 1.0) -> None:
    """Style the whole application in ``theme`` ("light" or "dark")."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    app.setPalette(qpalette(theme))
    app.setStyleSheet(admin_qss(theme, scale))
    app.setProperty("convergeai_theme", theme)
