"""``convergeai ask`` and ``convergeai chat``."""

from __future__ import annotations

import io
import json

import pytest

from shared.cli import main
from shared.db import Database
from shared.demo import load_demo
from shared.settings import Settings, use_settings
from tests.assistant.llm_server import LLMServer, stream_reply


@pytest.fixture
def demo_url(sqlite_db: Database) -> str:
    load_demo(sqlite_db)
    return sqlite_db.engine.url.render_as_string(hide_password=False)


def test_ask_offline_json(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--database",
            demo_url,
            "ask",
            "--event",
            "Converge Summit Guide",
            "--offline",
            "--json",
            "What",
            "is",
            "the",
            "wifi",
            "password?",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["source"] == "offline"
    assert "harbour2026" in payload["answer"]
    assert payload["references"] == ["faq:1"] or any(
        r.startswith("faq:") for r in payload["references"]
    )


def test_ask_streams_from_the_llm_when_configured(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with LLMServer() as server:
        server.set_default(stream_reply(["Lunch is at ", "12:30 in the Expo Hall."]))
        monkeypatch.setenv("CONVERGEAI_LLM_BASE_URL", server.url)
        monkeypatch.setenv("CONVERGEAI_LLM_MODEL", "test-model")
        use_settings(Settings.load())
        assert (
            main(["--database", demo_url, "ask", "--event", "1", "--json", "When is lunch?"]) == 0
        )
        sent = server.requests[-1].body
    payload = json.loads(capsys.readouterr().out)
    assert payload["source"] == "llm"
    assert payload["answer"] == "Lunch is at 12:30 in the Expo Hall."
    assert sent["model"] == "test-model"
    assert "When is lunch?" in sent["messages"][-1]["content"]


def test_chat_keeps_the_conversation_in_memory(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("when is lunch\nwhat's the weather\n\n"))
    assert main(["--database", demo_url, "chat", "--event", "1", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "12:30" in out
    assert "[offline]" in out
    assert "only help with" in out


def test_unknown_event_is_one_clear_line(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", demo_url, "ask", "--event", "Nope", "hello"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "convergeai: error: No event assistant called 'Nope': see `convergeai events list`."
    )
