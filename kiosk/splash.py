"""The kiosk's first frame: a calm "Starting..." screen painted before the heavy imports.

Importing the database stack (SQLAlchemy, the services) and building every screen takes about a
second on a small machine; the attendee sees this screen, in the theme's colours, meanwhile. It
imports nothing beyond Qt widgets and the theme palette.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from shared.ui.theme import palette


class Splash(QWidget):
    """A full-window message shown while the kiosk starts."""

    def __init__(self, theme: str) -> None:
        super().__init__()
        colors = palette(theme)
        self.setObjectName("kioskSplash")
        self.setWindowTitle("ConvergeAI")
        # Inline colours on purpose: kiosk.qss is not loaded yet (it comes with the window).
        self.setStyleSheet(
            f"#kioskSplash {{ background: {colors['window']}; }}"
            f"QLabel {{ color: {colors['text']}; font-size: 40px; }}"
        )
        layout = QVBoxLayout(self)
        text = QCoreApplication.translate("Splash", "Starting...")
        message = QLabel(text, self)
        message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(message)


def show_splash(
    app: QApplication, theme: str, *, windowed: bool, size: tuple[int, int] | None
) -> Splash:
    """Show the splash and paint it now."""
    splash = Splash(theme)
    if windowed:
        splash.setWindowFlag(Qt.WindowType.FramelessWindowHint, False)
        splash.resize(*(size or (1280, 800)))
        splash.show()
    else:
        splash.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        splash.showFullScreen()
    app.processEvents()
    return splash
