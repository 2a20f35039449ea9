"""The app as a whole: entry point, smoke run, shortcuts, layout memory, toasts, errors,
layering, and every screen rendered by the screenshots script."""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from admin_console import app as app_module
from admin_console.context import Changed, Context
from admin_console.mainwindow import MainWindow
from admin_console.views.assistants import AssistantsView
from admin_console.views.users import UsersView
from shared.db import Database
from tests.admin_console.conftest import FakeDialogs, settle
from tests.factories import make_admin

ROOT = Path(__file__).resolve().parents[2]


def non_blank(path: Path) -> bool:
    image = QImage(str(path))
    if image.isNull() or image.width() < 100:
        return False
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
    }
    return len(colours) > 8  # text is anti-aliased: many shades


def test_smoke_run_with_screenshot(qapp, sqlite_db: Database, tmp_path: Path) -> None:
    make_admin(sqlite_db)
    shot = tmp_path / "smoke.png"
    url = sqlite_db.engine.url.render_as_string(hide_password=False)
    code = app_module.main(["--smoke", "--screenshot", str(shot), "--database", url,
                            "--theme", "dark"])
    assert code == 0
    assert non_blank(shot)


def test_demo_option_loads_the_demo_conference(qapp, tmp_path: Path) -> None:
    from shared.db import Database, make_engine
    from shared.models import Chatbot

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert app_module.main(["--smoke", "--demo", "--database", url]) == 0
    db = Database(make_engine(url))
    try:
        with db.read() as s:
            assert s.query(Chatbot).count() >= 2
    finally:
        db.dispose()


def test_smoke_reports_a_database_it_cannot_use(qapp, tmp_path: Path) -> None:
    from sqlalchemy import text

    from shared.db import make_engine

    path = tmp_path / "foreign.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    assert app_module.main(["--smoke", "--database", f"sqlite:///{path}"]) == 3


def test_arguments() -> None:
    import pytest

    with pytest.raises(SystemExit):
        app_module.parse_args(["--screenshot", "x.png"])
    assert app_module.parse_args(["--theme", "dark"]).theme == "dark"


def test_shortcuts_switch_views_and_act(qtbot: QtBot, signed_in: MainWindow) -> None:
    signed_in.activateWindow()
    qtbot.keyClick(signed_in, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(signed_in.current_view(), AssistantsView)
    qtbot.keyClick(signed_in, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(signed_in.current_view(), UsersView)
    settle(qtbot, signed_in.ctx)
    view = signed_in.current_view()
    assert isinstance(view, UsersView)
    qtbot.keyClick(signed_in, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search.hasFocus()
    signed_in.show_view(1)
    assistants = signed_in.current_view()
    assert isinstance(assistants, AssistantsView)
    qtbot.keyClick(signed_in, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert assistants.dialog is not None
    assert assistants.dialog.isVisible()
    assistants.dialog.reject()
    settle(qtbot, signed_in.ctx)


def test_window_layout_is_remembered(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, dialogs: FakeDialogs
) -> None:
    signed_in.resize(1100, 700)
    signed_in.show_view(5)
    settle(qtbot, signed_in.ctx)
    saved = signed_in.saveGeometry()
    signed_in.close()
    ctx2 = Context(sqlite_db)
    ctx2.dialogs = dialogs
    second = MainWindow(ctx2)
    qtbot.addWidget(second)
    try:
        from admin_console.context import qsettings

        assert qsettings().value("window/geometry") == saved
        # (the offscreen screen is small: the width may be clamped, the height is not)
        assert second.height() == 700
        assert int(qsettings().value("window/view")) == 5
    finally:
        ctx2.shutdown()
        second.close()


def test_writes_show_a_toast_and_bugs_a_calm_dialog(
    qtbot: QtBot, signed_in: MainWindow, dialogs: FakeDialogs
) -> None:
    signed_in.ctx.announce(Changed.NONE, "Assistant saved.")
    assert signed_in.toaster.toasts
    assert signed_in.toaster.toasts[-1].label.text() == "Assistant saved."
    assert signed_in.status_label.text() == "Assistant saved."
    from shared.errors import NotFound

    signed_in.ctx.report_error(NotFound("There is no guest with id 9."))
    assert signed_in.toaster.toasts[-1].label.text() == "There is no guest with id 9."
    assert not dialogs.errors
    signed_in.ctx.report_error(ZeroDivisionError("division by zero"))
    assert dialogs.errors
    assert "ZeroDivisionError" in dialogs.errors[-1][1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_layers() -> None:
    """The console never imports the kiosk; the core never imports the console or Qt."""
    for path in (ROOT / "admin_console").rglob("*.py"):
        assert not any(n == "kiosk" or n.startswith("kiosk.") for n in _imports(path)), path
    for path in (ROOT / "shared").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "shared").parts:
            continue
        names = _imports(path)
        assert not any(n.startswith(("admin_console", "PySide6")) for n in names), path


def test_every_screen_renders_in_both_themes(qapp, tmp_path: Path) -> None:
    from admin_console import screenshots

    paths = screenshots.render(tmp_path, [(1280, 800)], ["light", "dark"])
    names = {p.name for p in paths}
    for theme in ("light", "dark"):
        for screen in ("00-sign-in", "00-first-admin", "01-dashboard", "02-assistants",
                       "03-guests", "04-agenda", "05-faq", "06-users", "07-transcripts",
                       "08-settings", "90-assistant-dialog"):
            assert f"{theme}-1280x800-{screen}.png" in names
    for path in paths:
        assert non_blank(path), path
