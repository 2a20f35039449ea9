"""Entry point: ``convergeai-admin [--theme light|dark] [--demo] [--database URL]
[--smoke [--screenshot PATH]]``.

``--smoke`` builds the window offscreen-friendly, runs the event loop until the first screen is
ready (the sign-in screen, or the dashboard with a remembered sign-in, or a database message),
optionally saves a screenshot, and exits 0 — a quick check that the app starts on this machine.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QApplication

from admin_console.context import Context, qsettings
from admin_console.theme import apply_admin_theme
from shared.errors import ConfigError
from shared.settings import APP_NAME, get_settings
from shared.ui.theme import THEMES

log = logging.getLogger("convergeai.admin")

SMOKE_TIMEOUT_MS = 15_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="convergeai-admin", description="The ConvergeAI admin console for organizers."
    )
    parser.add_argument("--theme", choices=THEMES, help="colour theme (default: as last chosen)")
    parser.add_argument(
        "--smoke", action="store_true", help="start, show the first screen, and exit (a check)"
    )
    parser.add_argument("--screenshot", type=Path, help="with --smoke: save the window as PNG")
    parser.add_argument("--database", help="database URL (default: from the settings)")
    parser.add_argument(
        "--demo", action="store_true", help="add the demo conference to the database first"
    )
    args = parser.parse_args(argv)
    if args.screenshot and not args.smoke:
        parser.error("--screenshot needs --smoke")
    return args


def chosen_theme(explicit: str | None) -> str:
    """--theme, else the theme last chosen in the console, else the admin.theme setting."""
    if explicit:
        return explicit
    saved = qsettings().value("ui/theme", "")
    if saved in THEMES:
        return str(saved)
    theme = str(get_settings()["admin.theme"])
    return theme if theme in THEMES else "light"


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv or [sys.argv[0]])
    app.setApplicationName(f"{APP_NAME} Admin Console")
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(f"{APP_NAME} Admin Console")
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console; returns the exit code."""
    args = parse_args(argv)
    try:
        from shared.logs import setup_logging

        setup_logging("admin")
    except Exception:  # noqa: BLE001 - logging must never stop the console from starting
        logging.basicConfig(level=logging.INFO)
    try:
        get_settings()
    except ConfigError as exc:
        print(f"convergeai-admin: {exc}", file=sys.stderr)
        return 2
    app = create_app()
    if not QFontInfo(app.font()).family():
        print("convergeai-admin: no font found; install fonts-dejavu-core", file=sys.stderr)
    from admin_console.mainwindow import MainWindow
    from shared.db import Database

    db = None
    if args.database:
        try:
            db = Database.from_settings(args.database)
        except ConfigError as exc:
            print(f"convergeai-admin: {exc}", file=sys.stderr)
            return 2
    ctx = Context(db)
    theme = chosen_theme(args.theme)
    ctx.theme = theme
    apply_admin_theme(app, theme)
    window = MainWindow(ctx, theme=theme, demo=args.demo)
    window.show()
    window.start()
    # What exists now lives as long as the console: keep it out of the cyclic collector's full
    # passes, which otherwise pause every thread (the GUI too) for 150 ms and more.
    gc.collect()
    gc.freeze()
    if args.smoke:
        return run_smoke(app, window, args.screenshot)
    code = app.exec()
    ctx.shutdown()
    return int(code)


def run_smoke(app: QApplication, window: object, screenshot: Path | None) -> int:
    """Wait until the first screen is up (not "Opening the database…"), then exit."""
    from admin_console.mainwindow import MainWindow

    assert isinstance(window, MainWindow)
    state = {"code": 1}
    # A local loop, not app.exec()/app.quit(): quitting the application leaves Qt's "quit now"
    # flag set until the next app.exec(), which would stop every later event loop at once.
    loop = QEventLoop()

    def ready() -> bool:
        page = window.pages.currentWidget()
        if page is window.startup:
            return window.startup.retry_button.isVisible()
        if page is window.console:
            view = window.current_view()
            return view is not None and not view.loading and window.ctx.runner.active == 0
        return True

    def poll() -> None:
        if not ready():
            return
        timer.stop()
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(screenshot))
        state["code"] = 0 if window.pages.currentWidget() is not window.startup else 3
        loop.quit()

    def give_up() -> None:
        print("convergeai-admin: the first screen did not come up in time", file=sys.stderr)
        loop.quit()

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(poll)
    timer.start()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(give_up)
    deadline.start(SMOKE_TIMEOUT_MS)
    loop.exec()
    timer.stop()
    deadline.stop()
    window.ctx.shutdown()
    window.close()
    return state["code"]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
