"""Entry point: ``convergeai-kiosk [--windowed] [--demo] [--smoke [--screenshot PATH]]
[--theme light|dark] [--size WxH]``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

log = logging.getLogger("convergeai.kiosk")

SMOKE_MS = 1500


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="convergeai-kiosk", description="The ConvergeAI kiosk for venue touchscreens."
    )
    parser.add_argument(
        "--windowed", action="store_true", help="a normal, closable window (development)"
    )
    parser.add_argument(
        "--demo", action="store_true", help="load the demo conference into an empty database"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="start, run briefly, exit 0 (checks the install)"
    )
    parser.add_argument("--screenshot", type=Path, help="with --smoke: save a PNG of the window")
    parser.add_argument("--theme", choices=("light", "dark"), help="colour theme")
    parser.add_argument("--size", help="window size WxH, for example 1280x800")
    args = parser.parse_args(argv)
    if args.screenshot and not args.smoke:
        parser.error("--screenshot needs --smoke")
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            parser.error("--size must look like 1280x800")
        args.size = (w, h)
    return args


def install_translator(app: object) -> object | None:
    """Load resources/translations/kiosk_<lang>.qm for the system locale, if there is one."""
    from PySide6.QtCore import QLocale, QTranslator
    from PySide6.QtWidgets import QApplication

    from shared.ui.resources import resource_path

    assert isinstance(app, QApplication)
    translator = QTranslator(app)
    folder = resource_path("translations")
    if translator.load(QLocale.system(), "kiosk", "_", str(folder)):
        app.installTranslator(translator)
        return translator
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kiosk; returns the exit status."""
    args = parse_args(argv)
    from shared.settings import get_settings

    try:
        settings = get_settings()
    except Exception as exc:  # noqa: BLE001 - a bad config file: say so, plainly
        print(f"convergeai-kiosk: {exc}", file=sys.stderr)
        return 2
    if settings["kiosk.virtual_keyboard"]:
        os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")  # before the QApplication
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from shared import logs

    logs.setup_logging("kiosk", console=args.smoke)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("ConvergeAI kiosk")
    install_translator(app)

    from kiosk.splash import show_splash

    splash = show_splash(
        app,
        args.theme or settings["kiosk.theme"],
        windowed=args.windowed or args.smoke,
        size=args.size,
    )

    from kiosk.window import KioskWindow

    window = KioskWindow(windowed=args.windowed or args.smoke, demo=args.demo, theme=args.theme)

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        with contextlib.suppress(Exception):  # the hook itself must never crash the kiosk
            window.show_calm_error()

    sys.excepthook = excepthook
    window.exit_requested.connect(app.quit)
    if args.size:
        window.resize(*args.size)
    if args.windowed or args.smoke:
        window.show()
    else:
        window.showFullScreen()
    splash.close()
    splash.deleteLater()

    if args.smoke:

        def finish() -> None:
            if args.screenshot:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                window.grab().save(str(args.screenshot))
            window.shutdown()
            window.close()
            app.quit()

        window.ready.connect(lambda: QTimer.singleShot(300, finish))
        QTimer.singleShot(SMOKE_MS * 4, finish)  # ready or not
    status = app.exec()
    window.shutdown()
    return int(status)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
