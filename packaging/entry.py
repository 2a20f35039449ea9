"""The one entry script of the frozen bundle: which program runs depends on the executable's name.

``build.spec`` builds three executables from this script (``convergeai``, ``convergeai-kiosk``,
``convergeai-admin``) over one Analysis, so they share every library in one folder. Each runs the
same ``main`` as its console script in ``pyproject.toml``.

``CONVERGEAI_BUNDLE_SELFTEST=1`` makes ``convergeai-kiosk`` check what a bundle most easily loses
(the Qt Virtual Keyboard's QML modules, QtCharts, the resources, the migrations) and exit 0 or 1;
``scripts/package-test.sh`` uses it.

``CONVERGEAI_REPORT_FIRST_FRAME=1`` makes the GUI programs print ``first-frame <seconds>`` on stderr
when a top-level window is first painted (``time.perf_counter``, the system's monotonic clock,
so a parent process can subtract the time it spawned the program): ``bench/package.py`` times the
frozen kiosk and the kiosk from source with it, through this same script.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROGRAMS = ("convergeai", "convergeai-kiosk", "convergeai-admin")


def program_name(*paths: str) -> str:
    """``convergeai-kiosk`` for ``/opt/convergeai/convergeai-kiosk`` or ``convergeai-kiosk.exe``:
    the first of ``paths`` that names one of the programs, else ``convergeai``."""
    for path in paths:
        name = Path(path).name
        if name.lower().endswith(".exe"):
            name = name[:-4]
        if name in PROGRAMS:
            return name
    return "convergeai"


def selftest() -> int:
    """Load the on-screen keyboard's QML and draw a chart offscreen; check the data files."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"
    from PySide6.QtCharts import QBarSeries, QBarSet, QChart, QChartView
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QFontInfo
    from PySide6.QtQuickWidgets import QQuickWidget
    from PySide6.QtWidgets import QApplication

    from shared.migrate import MIGRATIONS_DIR, head_revision
    from shared.ui.resources import resource_path

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    problems: list[str] = []
    quick = QQuickWidget()
    quick.setSource(QUrl.fromLocalFile(str(resource_path("kiosk", "keyboard.qml"))))
    if quick.status() != QQuickWidget.Status.Ready:
        errors = "; ".join(e.toString() for e in quick.errors())
        problems.append(f"the virtual keyboard QML did not load: {errors}")
    chart = QChart()
    series = QBarSeries()
    bars = QBarSet("messages")
    bars.append([1.0, 3.0, 2.0])
    series.append(bars)
    chart.addSeries(series)
    view = QChartView(chart)
    view.resize(320, 200)
    if view.grab().isNull():
        problems.append("a chart did not render")
    if not QFontInfo(app.font()).family():
        problems.append("no font found (install fonts-dejavu-core)")
    if not (MIGRATIONS_DIR / "env.py").is_file():
        problems.append(f"the migrations are missing from {MIGRATIONS_DIR}")
    else:
        head_revision()
    for part in ("themes", "kiosk", "admin"):
        if not resource_path(part).is_dir():
            problems.append(f"resources/{part} is missing")
    for problem in problems:
        print(f"bundle self-test: {problem}", file=sys.stderr)
    if not problems:
        print("bundle self-test: keyboard QML, chart, font, migrations and resources OK")
    quick.deleteLater()
    view.deleteLater()
    return 1 if problems else 0


def report_first_frame() -> None:
    """From the next ``QApplication.exec()`` on, print when a top-level window first paints."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    original = QApplication.exec

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and watched.isWindow()
            ):
                print(f"first-frame {time.perf_counter():.6f}", file=sys.stderr, flush=True)
                app = QApplication.instance()
                if app is not None:
                    app.removeEventFilter(self)
            return False

    def exec_with_report() -> int:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(FirstPaint(app))
        return int(original())

    # exec() is static in Qt: replace it with another static method
    QApplication.exec = staticmethod(exec_with_report)  # type: ignore[method-assign]


def main() -> int:
    """Run the program this executable is named after."""
    # The executable itself (symlinks resolved by the bootloader), then the name it was run by.
    name = program_name(sys.executable, sys.argv[0] if sys.argv else "")
    if name != "convergeai" and os.environ.get("CONVERGEAI_REPORT_FIRST_FRAME") == "1":
        report_first_frame()
    if name == "convergeai-kiosk":
        if os.environ.get("CONVERGEAI_BUNDLE_SELFTEST") == "1":
            return selftest()
        from kiosk.app import main as kiosk_main

        return kiosk_main()
    if name == "convergeai-admin":
        from admin_console.app import main as admin_main

        return admin_main()
    from shared.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
