"""The admin console benchmark runs end to end at tiny sizes, offscreen: it writes its own
section of the Markdown file and nothing else, and its baseline loads what the dashboard loads.
No timing is asserted."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QApplication

from admin_console.context import Context
from admin_console.views.dashboard import load_dashboard
from bench import admin
from bench.__main__ import main
from bench.common import read_section
from shared.db import Database
from shared.services import users
from shared.settings import Settings, get_settings
from tests.factories import make_admin, make_chatbot, make_user

TINY = ["--messages", "3001", "--users", "300", "--chatbots", "5"]
OTHER = "<!-- bench:core -->\ncore figures stay\n<!-- /bench:core -->"


def run_admin(out: Path, data: Path) -> int:
    return main(
        [
            "--only",
            "admin",
            "--backends",
            "sqlite",
            *TINY,
            "--repeat",
            "2",
            "--warmup",
            "1",
            "--out",
            str(out),
            "--data-dir",
            str(data),
        ]
    )


def test_admin_benchmark_writes_its_section_and_leaves_the_rest(
    qapp: QApplication, tmp_path: Path, isolated_settings: Settings
) -> None:
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\nHow to run them.\n\n{OTHER}\n", encoding="utf-8")
    data = tmp_path / "data"

    assert run_admin(out, data) == 0

    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHow to run them.\n")
    assert OTHER in text
    assert text.count("<!-- bench:admin -->") == text.count("<!-- /bench:admin -->") == 1
    section = read_section(out, "admin")
    assert section is not None
    assert "python -m bench --only admin --messages 3001 --users 300 --chatbots 5" in section
    assert "QT_QPA_PLATFORM=offscreen" in section
    assert "### SQLite" in section
    assert "loaded with `executemany`" in section  # the core benchmark's generator and cache
    # The dashboard: the refresh beside its baseline, two timed runs, what it showed, and why.
    assert "**Dashboard refresh** (2) |" in section
    assert "· of which the GUI thread fills the widgets (2)" in section
    assert "Shown: 3,001 messages, 300 users, 5 assistants." in section
    assert "`transcripts.top_questions(30 days, 10)`" in section
    # The users table: every row of the model, two passes of the whole scenario.
    assert "**Users table**, 300 rows" in section
    steps = admin.PAGE_STEPS_DOWN + 1 + admin.PAGE_STEPS_UP + 10
    assert f"2 pass(es) of {steps} steps" in section
    assert f"| every scroll step ({2 * steps}) |" in section
    assert "first page, fresh model (2)" in section
    assert "Longest GUI stall while scrolling:" in section
    assert "Longest GUI stall while refreshing:" in section
    # The venue's zone was pinned only while it ran; no window is left open.
    assert get_settings() is isolated_settings
    assert not [w for w in qapp.topLevelWidgets() if w.isVisible()]

    # A second run reuses the cached database and replaces its section in place.
    assert run_admin(out, data) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count("<!-- bench:admin -->") == 1
    assert OTHER in text
    assert "reused the cached file" in (read_section(out, "admin") or "")
    assert len(list(data.glob("core-*.db"))) == 1


def test_baseline_loads_what_the_dashboard_loads(qapp: QApplication, sqlite_db: Database) -> None:
    actor = make_admin(sqlite_db)
    make_user(sqlite_db, "ada")
    make_chatbot(sqlite_db)
    ctx = Context(sqlite_db)
    try:
        with sqlite_db.read() as s:
            ctx.user = users.get_user(s, actor, actor.user_id)
        shown = load_dashboard(ctx, None)
    finally:
        ctx.shutdown()

    direct = admin.load_direct(sqlite_db, actor)

    assert direct == (
        shown.figures,
        shown.messages,
        shown.new_users,
        shown.top,
        shown.unanswered,
        shown.recent,
    )
    assert shown.figures.total_users == 2
    assert len(shown.recent) == 1


def test_scroll_scenario_goes_to_the_end_and_back() -> None:
    moves = admin._scenario(1000)
    assert moves[: admin.PAGE_STEPS_DOWN] == [("page", None)] * admin.PAGE_STEPS_DOWN
    assert moves[admin.PAGE_STEPS_DOWN] == ("jump", 1000)
    ups = moves[admin.PAGE_STEPS_DOWN + 1 : admin.PAGE_STEPS_DOWN + 1 + admin.PAGE_STEPS_UP]
    assert ups == [("page", -1)] * admin.PAGE_STEPS_UP
    assert [v for _k, v in moves[-10:]] == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
