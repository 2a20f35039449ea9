"""The kiosk benchmark runs end to end at a tiny size, offscreen: both figures are measured in
real processes and its section goes into the Markdown file, leaving the rest alone. No timing
is asserted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

from bench import kiosk
from bench.common import BenchConfig, read_section, write_section
from shared.services.responder import ReplyRequest
from shared.settings import Settings

OTHER = "<!-- bench:core -->\ncore figures stay\n<!-- /bench:core -->"


def test_kiosk_benchmark_writes_its_section(tmp_path: Path, isolated_settings: Settings) -> None:
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\nHow to run them.\n\n{OTHER}\n", encoding="utf-8")

    body = kiosk.run(BenchConfig(repeat=1, out=out), turns=6, early=3)
    write_section(out, kiosk.NAME, body)

    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHow to run them.\n")
    assert OTHER in text
    section = read_section(out, "kiosk")
    assert section is not None
    assert "`python -m bench --only kiosk --repeat 1`" in section
    assert "QT_QPA_PLATFORM=offscreen" in section
    # First frame: one timed run of each kind, the ratio and its verdict, the kiosk's phases.
    assert "1 of each kind" in section
    assert "| **Kiosk** first frame |" in section
    assert "| Bare PySide6 window |" in section
    assert "Ratio kiosk / bare window: **" in section
    assert "target ≤ 1.5×: " in section
    assert "| `import kiosk.window` (and all it imports) |" in section
    # Memory: every turn was answered and shown (a greeting, then a question and a reply each).
    assert "| after 3 turns |" in section
    assert "| after 6 turns |" in section
    assert "13 rows on screen at the end" in section
    assert "target under 10 %: " in section


def test_instant_responder_streams_the_whole_reply() -> None:
    pieces: list[str] = []
    reply = kiosk.InstantResponder().respond(cast(ReplyRequest, None), on_delta=pieces.append)
    assert "".join(pieces) == reply.text == kiosk.REPLY
    assert len(pieces) == 3


def test_rss_is_measured() -> None:
    assert kiosk.rss_bytes() > 1_000_000
