"""The assistant benchmark runs end to end at tiny sizes: it writes its own section of the
Markdown file and nothing else, and its question mix and event are what it says. No timing is
asserted."""

from __future__ import annotations

import random
import threading
from datetime import date
from pathlib import Path

import pytest

from bench import assistant
from bench.__main__ import main
from bench.common import read_section
from shared.assistant.knowledge import load_knowledge
from shared.db import Database
from shared.settings import Settings, get_settings

TINY = assistant.Sizes(
    agenda_items=40, guests=30, faq_entries=8, days=3, questions=40, ttft_pairs=6
)
OTHER = "<!-- bench:core -->\ncore figures stay\n<!-- /bench:core -->"


def test_assistant_benchmark_writes_its_section_and_leaves_the_rest(
    tmp_path: Path, isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assistant, "DEFAULT_SIZES", TINY)
    # A target nobody can meet, so the run also takes the path of a missed target.
    monkeypatch.setattr(assistant, "OFFLINE_TARGET", 0.0)
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\nHow to run them.\n\n{OTHER}\n", encoding="utf-8")
    threads_before = set(threading.enumerate())

    code = main(["--only", "assistant", "--repeat", "2", "--warmup", "1", "--out", str(out)])

    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHow to run them.\n")
    assert OTHER in text
    assert text.count("<!-- bench:assistant -->") == text.count("<!-- /bench:assistant -->") == 1
    section = read_section(out, "assistant")
    assert section is not None
    assert "python -m bench --only assistant --repeat 2 --warmup 1" in section
    assert "**smoke sizes**" in section
    assert "40 agenda items (9 of them breaks), 30 guests" in section
    assert "40 questions" in section
    # The offline figures, their baseline, the target (missed here) and why.
    assert "**answer** (`answer_offline`" in section
    assert "baseline: one raw FTS5 MATCH" in section
    assert "p95 ≤ 0.00 ms: **MISSED**" in section
    assert "<summary>Why: the p95 is over" in section
    assert "index build, cold" in section
    assert "fingerprint check" in section
    # The time to first token, client against bare requests, with its verdict.
    assert "`LLMClient.stream_chat`" in section
    assert "bare `requests` stream" in section
    assert "median ≤ 5.00 ms: met" in section or "median ≤ 5.00 ms: **MISSED**" in section
    assert "6 pairs after 1 warm-up pairs" in section
    # The settings are restored and the loopback servers are gone.
    assert get_settings() is isolated_settings
    leftover = [
        t for t in set(threading.enumerate()) - threads_before if t.name == "llm-test-server"
    ]
    assert not leftover


def test_generated_event_and_questions(sqlite_db: Database) -> None:
    event = assistant.generate(sqlite_db, TINY, random.Random(1), date(2026, 3, 11))
    with sqlite_db.read() as s:
        knowledge = load_knowledge(s, event.chatbot_id)
    assert len(knowledge.guests) == TINY.guests
    assert len(knowledge.sessions) == TINY.agenda_items
    assert len(knowledge.faq) == TINY.faq_entries
    assert knowledge.start_date == date(2026, 3, 10)
    assert knowledge.end_date == date(2026, 3, 12)
    days = {sf.starts_at.date() for sf in knowledge.sessions}
    assert len(days) == 3
    assert any(sf.speaker_ids for sf in knowledge.sessions)
    panels = [sf for sf in knowledge.sessions if sf.title.startswith("Panel:")]
    assert panels
    assert all(len(sf.moderator_ids) == 1 and len(sf.speaker_ids) == 3 for sf in panels)

    asked = assistant.questions(random.Random(2), event, 200)
    assert len(asked) == 200
    kinds = {kind for kind, _q in asked}
    assert {"who", "talk", "now", "room", "topic", "faq", "out of scope"} <= kinds
    assert all(q.strip() for _kind, q in asked)


def test_typo_changes_long_words_by_one_slip() -> None:
    rng = random.Random(3)
    for word in ("lovelace", "parking", "security"):
        changed = assistant.typo(rng, word)
        assert changed[0] == word[0]
        assert abs(len(changed) - len(word)) <= 1
    assert assistant.typo(rng, "kim") == "kim"
