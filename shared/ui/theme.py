"""Light and dark themes: QSS files under ``resources/themes`` filled from a colour palette.

``resources/themes/<theme>.toml`` holds the palette (names to colours); ``<app>.qss`` is the
style sheet of an app, written with ``@name`` placeholders (``@text``, ``@accent``...) and
``@font(N)`` for font sizes scaled by the large-text factor. One QSS per app, two palettes: the
themes cannot drift apart, and contrast is checked on the palettes (WCAG 2.1).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from shared.ui.resources import read_text, resource_path

THEMES = ("light", "dark")
_VAR = re.compile(r"@([a-z][a-z0-9_]*)")
_FONT = re.compile(r"@font\((\d+(?:\.\d+)?)\)")


@cache
def palette(theme: str) -> dict[str, str]:
    """The named colours of a theme."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    with resource_path("themes", f"{theme}.toml").open("rb") as fh:
        colors = tomllib.load(fh)
    return {str(k): str(v) for k, v in colors["colors"].items()}


def render_qss(app_name: str, theme: str, scale: float = 1.0) -> str:
    """The style sheet of ``app_name`` with the theme's colours and scaled font sizes."""
    colors = palette(theme)
    source = read_text("themes", f"{app_name}.qss")
    source = _FONT.sub(lambda m: f"{round(float(m.group(1)) * scale)}px", source)

    def color(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in colors:
            raise KeyError(f"{app_name}.qss uses @{name}, missing from {theme}.toml")
        return colors[name]

    return _VAR.sub(color, source)


def qpalette(theme: str) -> QPalette:
    """A QPalette matching the theme, for widgets the style sheet does not reach."""
    c = palette(theme)
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c["window"],
        QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: c["surface"],
        QPalette.ColorRole.AlternateBase: c["surface_alt"],
        QPalette.ColorRole.Text: c["text"],
        QPalette.ColorRole.Button: c["surface"],
        QPalette.ColorRole.ButtonText: c["text"],
        QPalette.ColorRole.Highlight: c["accent"],
        QPalette.ColorRole.HighlightedText: c["on_accent"],
        QPalette.ColorRole.ToolTipBase: c["surface"],
        QPalette.ColorRole.ToolTipText: c["text"],
        QPalette.ColorRole.PlaceholderText: c["muted"],
        QPalette.ColorRole.Link: c["link"],
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    return pal


def apply_theme(app: QApplication, app_name: str, theme: str, scale: float = 1.0) -> None:
    """Style the whole application."""
    app.setPalette(qpalette(theme))
    app.setStyleSheet(render_qss(app_name, theme, scale))
    app.setProperty("convergeai_theme", theme)


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour."""
    q = QColor(color)

    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(q.red()) + 0.7152 * channel(q.green()) + 0.0722 * channel(q.blue())


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio, from 1 to 21."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


#: Text/background pairs both apps rely on; each must reach 4.5:1 in both themes.
CONTRAST_PAIRS = (
    ("text", "window"),
    ("text", "surface"),
    ("text", "surface_alt"),
    ("muted", "window"),
    ("muted", "surface"),
    ("on_accent", "accent"),
    ("on_accent", "accent_hover"),
    ("on_danger", "danger"),
    ("on_user_bubble", "user_bubble"),
    ("text", "bot_bubble"),
    ("link", "window"),
    ("warning_text", "warning_bg"),
    ("success_text", "success_bg"),
    ("danger", "surface"),
)
