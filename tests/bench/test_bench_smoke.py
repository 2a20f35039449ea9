"""The benchmark suite runs end to end on tiny data: the data it makes is consistent, and it
writes its own section of the Markdown file and nothing else. No timing is asserted."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import datagen
from bench.__main__ import main
from bench.common import Timing, read_section, write_section
from shared.db import Database, make_engine
from shared.models import Role
from shared.services import stats
from shared.services.common import Actor
from shared.settings import Settings, get_settings, use_settings

TINY = ["--messages", "3001", "--users", "300", "--chatbots", "5"]
OTHER = "<!-- bench:kiosk -->\nkiosk figures stay\n<!-- /bench:kiosk -->"


def run_core(out: Path, data: Path) -> int:
    return main(
        [
            "--only",
            "core",
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


def test_core_benchmark_writes_its_section_and_leaves_the_rest(
    tmp_path: Path, isolated_settings: Settings
) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\nHow to run them.\n\n{OTHER}\n", encoding="utf-8")
    data = tmp_path / "data"

    assert run_core(out, data) == 0

    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHow to run them.\n")
    assert OTHER in text
    section = read_section(out, "core")
    assert section is not None
    assert "### SQLite" in section
    for figure in ("Dashboard", "Chat page", "Users table", "chatbot_figures"):
        assert figure in section
    assert "3,001 messages, 300 users, 5 assistants" in section
    assert section.count("≤ 50.0 ms: ") == 1  # the dashboard target, met or missed
    assert section.count("≤ 2.00 ms: ") == 2  # two chat pages
    assert "loaded with `executemany`" in section
    # The benchmark pinned the venue's zone to UTC only while it ran.
    assert get_settings() is isolated_settings

    # A second run reuses the cached database and replaces its section in place.
    assert run_core(out, data) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count("<!-- bench:core -->") == 1
    assert text.count("<!-- /bench:core -->") == 1
    assert OTHER in text
    assert "reused the cached file" in (read_section(out, "core") or "")
    assert len(list(data.glob("core-*.db"))) == 1


def test_generated_data_is_consistent(tmp_path: Path) -> None:
    sizes = datagen.Sizes(messages=3001, users=300, chatbots=5)
    rows = datagen.generate(sizes, progress=lambda _m: None)
    path = tmp_path / "bench.db"
    database = Database(make_engine(f"sqlite:///{path}"))
    from shared.migrate import upgrade

    upgrade(database)
    datagen.load(database, rows, progress=lambda _m: None)
    database = Database(make_engine(f"sqlite:///{path}"))
    try:
        assert datagen.verify(database) == []
        use_settings(Settings.load(env={**os.environ, "CONVERGEAI_EVENT_TIMEZONE": "UTC"}))
        admin = Actor(1, Role.ADMIN)
        with database.read() as s:
            figures = stats.dashboard(s, admin)
            per_day = stats.messages_per_day(s, admin, days=60)
            top = stats.most_active_users(s, admin, limit=10)
        assert figures.total_messages == 3001
        assert figures.total_users == 300
        assert figures.total_chatbots == 5
        # Every message falls in the last 60 venue days, so the rollup accounts for all.
        assert sum(n for _day, n in per_day) == 3001
        assert per_day[-1][0] == datetime.now(UTC).date()
        assert top
        assert top[0].message_count >= top[-1].message_count > 0
        with database.engine.connect() as conn:
            newest = conn.exec_driver_sql("SELECT MAX(created_at) FROM messages").scalar()
            replies = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM messages m JOIN messages q ON q.id = m.reply_to_id "
                "WHERE m.is_user_message = 0 AND q.is_user_message = 1 "
                "AND q.conversation_id = m.conversation_id AND q.created_at < m.created_at"
            ).scalar()
            bot_messages = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM messages WHERE is_user_message = 0"
            ).scalar()
        assert str(newest) <= datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        assert replies == bot_messages == 1500
    finally:
        database.dispose()


def test_write_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    write_section(path, "core", "first")
    write_section(path, "import", "imports")
    write_section(path, "core", "second\nrun")
    text = path.read_text(encoding="utf-8")
    assert text == (
        "# Benchmarks\n\n<!-- bench:core -->\nsecond\nrun\n<!-- /bench:core -->\n\n"
        "<!-- bench:import -->\nimports\n<!-- /bench:import -->\n"
    )
    path.write_text("<!-- bench:core -->\nno end", encoding="utf-8")
    with pytest.raises(ValueError, match="no closing"):
        write_section(path, "core", "x")


def test_timing_median_and_p95() -> None:
    timing = Timing(tuple(float(n) for n in range(1, 41)))
    assert timing.median == 20.5
    assert timing.p95 == 38.0
