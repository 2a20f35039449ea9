"""Transcripts (conversations, search, export), settings (LLM test, config file, PIN), theme."""

from __future__ import annotations

import csv
import json
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pytestqt.qtbot import QtBot

from admin_console.configfile import dumps, toml_string, update_section
from admin_console.context import Changed
from admin_console.export import export_rows, neutralize
from admin_console.mainwindow import MainWindow
from admin_console.views.settings_view import SettingsView
from admin_console.views.transcripts import TranscriptsView
from shared.db import Database
from shared.models import ConversationMode, MessageSource
from shared.services import chat, kiosk_admin
from shared.services.common import Actor
from shared.services.responder import Reply
from shared.settings import default_config_path, get_settings
from tests.admin_console.conftest import FakeDialogs, settle
from tests.factories import make_chatbot, make_user

INJECTION = "=HYPERLINK(\"http://evil.example\",\"click\")"


def converse(db: Database, actor: Actor | None, bot: int, pairs: list[tuple[str, str]]) -> int:
    mode = ConversationMode.SINGLE if actor else ConversationMode.MULTIPLE
    with db.session() as s:
        conv = chat.start_conversation(s, actor, bot, mode, kiosk_name="Hall")
    for question, answer in pairs:
        with db.session() as s:
            q = chat.post_user_message(s, actor, conv.id, question)
            chat.post_reply(s, conv.id, q.id, Reply(answer, MessageSource.OFFLINE, True))
    return conv.id


def open_view(qtbot: QtBot, window: MainWindow, cls: type) -> object:
    index = next(i for i, v in enumerate(window.views) if isinstance(v, cls))
    window.show_view(index)
    settle(qtbot, window.ctx)
    return window.views[index]


def test_conversations_search_and_export(
    qtbot: QtBot,
    signed_in: MainWindow,
    sqlite_db: Database,
    dialogs: FakeDialogs,
    tmp_path: Path,
    qtmodeltester,
) -> None:
    bot = make_chatbot(sqlite_db, "Summit")
    ana = make_user(sqlite_db, "ana")
    walk_up = converse(
        sqlite_db, None, bot, [(INJECTION, "I cannot open links."), ("Lunch?", "12:30.")]
    )
    converse(sqlite_db, ana, bot, [("Where is the keynote?", "Main Hall.")])
    signed_in.ctx.announce(Changed.CHATBOTS)
    view = open_view(qtbot, signed_in, TranscriptsView)
    assert isinstance(view, TranscriptsView)
    settle(qtbot, signed_in.ctx)
    assert view.conv_model.rowCount() == 2
    assert view.conv_count.text() == "2 of 2 conversation(s)"
    qtmodeltester.check(view.conv_model)
    row = view.conv_model.row_of(walk_up)
    view.conv_table.selectRow(row)
    settle(qtbot, signed_in.ctx)
    assert view.current is not None
    assert view.current.conversation.id == walk_up
    assert "HYPERLINK" in view.viewer.toPlainText()

    # Export the conversation: the formula stays text.
    out = tmp_path / "conv.xlsx"
    dialogs.save_path = str(out)
    view.export_conversation()
    settle(qtbot, signed_in.ctx)
    book = load_workbook(out)
    ws = book.active
    assert ws is not None
    assert [c.value for c in ws[1]] == ["Time", "From", "Source", "Answered", "Message"]
    cell = ws.cell(row=2, column=5)
    assert cell.value == "'" + INJECTION
    assert cell.data_type == "s"
    assert ws.cell(row=3, column=5).value == "I cannot open links."
    assert ws.max_row == 5

    # Search, then export the results as CSV.
    view.search.setText("keynote")
    view.search.flush()
    settle(qtbot, signed_in.ctx)
    assert view.tabs.currentIndex() == 1
    assert [h.content for h in view.hit_model.records] == ["Where is the keynote?"]
    qtmodeltester.check(view.hit_model)
    view.search.setText("=HYPER")
    view.search.flush()
    settle(qtbot, signed_in.ctx)
    assert len(view.hits) == 1
    out_csv = tmp_path / "hits.csv"
    dialogs.save_path = str(out_csv)
    view.export_search()
    settle(qtbot, signed_in.ctx)
    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Time", "Conversation", "From", "Source", "Message"]
    assert rows[1][4] == "'" + INJECTION

    # By user.
    view.source.setCurrentIndex(1)
    view.user_field.setText("ana")
    view.find_user()
    settle(qtbot, signed_in.ctx)
    assert view.conv_model.rowCount() == 1
    assert view.conv_model.records[0].username == "ana"


def test_export_neutralizes_every_dangerous_start(tmp_path: Path) -> None:
    values = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]
    assert [neutralize(v) for v in values] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b"
    ]
    path = tmp_path / "x.xlsx"
    assert export_rows(path, ["=head"], [[v] for v in values] + [[42]]) == len(values) + 1
    ws = load_workbook(path).active
    assert ws is not None
    assert ws.cell(row=1, column=1).value == "'=head"
    for row, value in enumerate(values, start=2):
        cell = ws.cell(row=row, column=1)
        # (XML reads a stored CR back as LF)
        assert cell.value == neutralize(value).replace("\r", "\n")
        assert cell.data_type == "s"
    assert ws.cell(row=len(values) + 2, column=1).value == 42
    from shared.errors import ValidationError

    with pytest.raises(ValidationError):
        export_rows(tmp_path / "x.txt", ["a"], [])


# Settings --------------------------------------------------------------------------------------


class _Models(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.endswith("/v1/models"):
            if self.headers.get("Authorization") != "Bearer sk-test":
                body, status = json.dumps({"error": {"message": "bad key"}}).encode(), 401
            else:
                body, status = json.dumps({"data": [{"id": "tiny-model"}]}).encode(), 200
        else:
            body, status = b"{}", 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def llm_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join(5)


def settings_view(qtbot: QtBot, window: MainWindow) -> SettingsView:
    view = open_view(qtbot, window, SettingsView)
    assert isinstance(view, SettingsView)
    return view


def test_test_connection_against_a_loopback_server(
    qtbot: QtBot, signed_in: MainWindow, llm_server: str
) -> None:
    view = settings_view(qtbot, signed_in)
    view.base_url.setText(llm_server)
    view.model_edit.setText("tiny-model")
    view.api_key.setText("wrong")
    view.test_connection()
    qtbot.waitUntil(lambda: view.test_button.isEnabled())
    assert view.test_result.text().startswith("✗")
    assert "refused the API key" in view.test_result.text()
    view.api_key.setText("sk-test")
    view.test_connection()
    qtbot.waitUntil(lambda: view.test_button.isEnabled())
    assert view.test_result.text().startswith("✓")
    assert "tiny-model" in view.test_result.text()
    assert "sk-test" not in view.test_result.text()
    view.base_url.setText("http://127.0.0.1:9/v1")  # discard port: nothing listens
    view.test_connection()
    qtbot.waitUntil(lambda: view.test_button.isEnabled(), timeout=15_000)
    assert view.test_result.text().startswith("✗")
    view.base_url.setText("")
    view.test_connection()
    qtbot.waitUntil(lambda: view.test_button.isEnabled())
    assert view.llm_errors.message("base_url") == "Enter the server's URL first."


def test_saving_llm_settings_keeps_the_rest_of_the_config_file(
    qtbot: QtBot, signed_in: MainWindow
) -> None:
    path = default_config_path()
    path.write_text('[event]\ntimezone = "Europe/Paris"\n\n[llm]\ntemperature = 0.5\n')
    view = settings_view(qtbot, signed_in)
    view.base_url.setText("http://127.0.0.1:11434/v1")
    view.model_edit.setText('odd "model" \\ name')
    view.api_key.setText("sk-secret")
    with qtbot.waitSignal(signed_in.ctx.bus.changed):
        view.save_llm()
    data = tomllib.loads(path.read_text())
    assert data["event"] == {"timezone": "Europe/Paris"}
    assert data["llm"] == {
        "temperature": 0.5,
        "base_url": "http://127.0.0.1:11434/v1",
        "model": 'odd "model" \\ name',
        "api_key": "sk-secret",
    }
    assert get_settings()["llm.model"] == 'odd "model" \\ name'
    assert (path.stat().st_mode & 0o777) == 0o600
    view.api_key.setText("")
    view.save_llm()
    settle(qtbot, signed_in.ctx)
    assert "api_key" not in tomllib.loads(path.read_text())["llm"]


def test_toml_writer_round_trips_hostile_text(tmp_path: Path) -> None:
    hostile = 'a"b\\c\nd\te\x00f\x1b[0m ünï 🎉'
    assert tomllib.loads(f"x = {toml_string(hostile)}")["x"] == hostile
    text = dumps({"top": 1, "llm": {"base_url": hostile, "max_tokens": 400, "on": True},
                  "odd key": {"k": 1.5}})
    assert tomllib.loads(text) == {
        "top": 1, "llm": {"base_url": hostile, "max_tokens": 400, "on": True},
        "odd key": {"k": 1.5},
    }
    path = tmp_path / "c.toml"
    update_section(path, "llm", {"model": "m"})
    update_section(path, "llm", {"model": None})
    assert tomllib.loads(path.read_text()) == {}


def test_kiosk_pin(qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database) -> None:
    view = settings_view(qtbot, signed_in)
    view.pin.setText("1111111")
    view.pin2.setText("1111111")
    view.set_pin()
    qtbot.waitUntil(lambda: view.pin_button.isEnabled())
    assert "too easy" in view.pin_errors.message("pin")
    view.pin.setText("40917362")
    view.pin2.setText("40917363")
    view.set_pin()
    assert view.pin_errors.message("pin2") == "The PINs differ."
    view.pin2.setText("40917362")
    view.set_pin()
    qtbot.waitUntil(lambda: view.pin.text() == "")
    with sqlite_db.read() as s:
        assert kiosk_admin.pin_matches("40917362", kiosk_admin.pin_hash(s))


def test_theme_switch(qtbot: QtBot, signed_in: MainWindow, qapp) -> None:
    from shared.ui.theme import palette

    view = settings_view(qtbot, signed_in)
    view.theme.setCurrentIndex(view.theme.findData("dark"))
    assert qapp.property("convergeai_theme") == "dark"
    assert palette("dark")["window"] in qapp.styleSheet()
    assert signed_in.ctx.theme == "dark"
    from admin_console.context import qsettings

    assert qsettings().value("ui/theme") == "dark"
    view.theme.setCurrentIndex(view.theme.findData("light"))
    assert qapp.property("convergeai_theme") == "light"
