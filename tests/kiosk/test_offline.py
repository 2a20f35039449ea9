"""Never freeze, never lose a message: the database away at start and mid-chat, the LLM away,
and the event loop's lag while a slow reply streams."""

from __future__ import annotations

import gc
import json
import time

from PySide6.QtCore import QElapsedTimer, QTimer
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.chatview import caption
from kiosk.models import PENDING, SENT
from kiosk.window import KioskWindow
from shared.db import Database
from shared.errors import DatabaseUnavailable, SchemaMismatch
from shared.models import Message, MessageSource
from tests.factories import make_chatbot
from tests.kiosk.conftest import FlakyDatabase, KioskFactory, SlowResponder, click, visible_texts


def _walk_up_chat(qtbot: QtBot, kiosk: KioskWindow) -> None:
    k = kiosk
    qtbot.waitUntil(lambda: k.chatbots.rowCount() == 1)
    k.just_ask()
    qtbot.waitUntil(lambda: k.current() == "chat")


def _count(db: Database, content: str) -> int:
    with Database(db.engine).read() as s:  # past a FlakyDatabase's switch
        return int(
            s.scalar(select(func.count()).select_from(Message).where(Message.content == content))
            or 0
        )


def test_database_unreachable_at_start_then_recovers(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_chatbot(sqlite_db)
    attempts: list[int] = []

    def factory() -> Database:
        attempts.append(1)
        if len(attempts) < 3:
            raise DatabaseUnavailable("Cannot reach the database at db.venue: connection refused")
        return sqlite_db

    kiosk = make_kiosk(factory=factory, wait_ready=False)
    assert kiosk.current() == "connecting"
    qtbot.waitUntil(lambda: "connection refused" in kiosk.connecting.problem.text())
    assert "Trying again" in kiosk.connecting.problem.text()
    with qtbot.waitSignal(kiosk.ready, timeout=10_000):
        pass
    assert kiosk.current() == "attract"
    assert len(attempts) == 3


def test_schema_mismatch_is_shown_and_not_retried_fast(
    qtbot: QtBot, make_kiosk: KioskFactory
) -> None:
    calls: list[int] = []

    def factory() -> Database:
        calls.append(1)
        raise SchemaMismatch("The database has an older schema. Run `convergeai db upgrade`.")

    kiosk = make_kiosk(factory=factory, wait_ready=False)
    qtbot.waitUntil(lambda: "older schema" in kiosk.connecting.problem.text())
    assert kiosk.connect_timer.remainingTime() > 30_000
    assert calls == [1]


def test_mid_chat_loss_keeps_the_message_and_delivers_it_once(
    qtbot: QtBot, flaky_db: FlakyDatabase, make_kiosk: KioskFactory, responder: SlowResponder
) -> None:
    make_chatbot(flaky_db, multiple_mode=True)
    kiosk = make_kiosk(flaky_db)
    _walk_up_chat(qtbot, kiosk)
    flaky_db.down = True
    kiosk.send("Where is the cloakroom?")
    qtbot.waitUntil(lambda: not kiosk.online)
    assert kiosk.banner.isVisible()
    turn = kiosk.transcript.turns()[-1]
    assert turn.text == "Where is the cloakroom?"
    qtbot.waitUntil(lambda: kiosk.transcript.turns()[-1].state == PENDING)
    assert caption(PENDING, None, True) == "Will be sent when the connection returns"
    lines = [json.loads(x) for x in kiosk.outbox.path.read_text().splitlines()]
    assert [x["content"] for x in lines] == ["Where is the cloakroom?"]
    assert _count(flaky_db, "Where is the cloakroom?") == 0

    flaky_db.down = False
    with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: kiosk.online and not kiosk.banner.isVisible())
    assert _count(flaky_db, "Where is the cloakroom?") == 1
    assert len(kiosk.outbox) == 0
    assert not kiosk.outbox.path.exists()
    states = [(t.text, t.state) for t in kiosk.transcript.turns() if t.kind == "message"]
    assert states == [("Where is the cloakroom?", SENT), (responder.text, SENT)]


def test_wiped_visit_delivers_in_the_background_without_showing_it(
    qtbot: QtBot, flaky_db: FlakyDatabase, make_kiosk: KioskFactory
) -> None:
    make_chatbot(flaky_db, multiple_mode=True)
    kiosk = make_kiosk(flaky_db)
    _walk_up_chat(qtbot, kiosk)
    flaky_db.down = True
    kiosk.send("A private question")
    qtbot.waitUntil(lambda: not kiosk.online)
    kiosk.wipe()
    assert kiosk.transcript.rowCount() == 0
    assert len(kiosk.outbox) == 1
    flaky_db.down = False
    with qtbot.waitSignal(kiosk.delivered, timeout=10_000):
        pass
    assert _count(flaky_db, "A private question") == 1
    assert kiosk.transcript.rowCount() == 0
    assert "A private question" not in "\n".join(visible_texts(kiosk))


def test_outbox_survives_a_restart(
    qtbot: QtBot, flaky_db: FlakyDatabase, make_kiosk: KioskFactory
) -> None:
    make_chatbot(flaky_db, multiple_mode=True)
    kiosk = make_kiosk(flaky_db)
    _walk_up_chat(qtbot, kiosk)
    flaky_db.down = True
    kiosk.send("Kept across a power cut")
    qtbot.waitUntil(lambda: not kiosk.online)
    kiosk.shutdown()
    flaky_db.down = False
    again = make_kiosk(flaky_db)
    qtbot.waitUntil(lambda: len(again.outbox) == 0, timeout=10_000)
    assert _count(flaky_db, "Kept across a power cut") == 1


def test_offline_answers_are_marked(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_chatbot(sqlite_db, multiple_mode=True)
    offline = SlowResponder("Lunch is at 12:30 in the Expo Hall.", source=MessageSource.OFFLINE)
    kiosk = make_kiosk(sqlite_db, the_responder=offline)
    _walk_up_chat(qtbot, kiosk)
    with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
        kiosk.send("Lunch?")
    reply = kiosk.transcript.turns()[-1]
    assert reply.source == "offline"
    assert caption(reply.state, reply.source, False) == "Offline answer"
    assert caption(SENT, "llm", False) == ""


def test_event_loop_never_stalls_while_a_slow_reply_streams(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    for i in range(3):
        make_chatbot(sqlite_db, f"Guide {i}", multiple_mode=True)
    slow = SlowResponder("word " * 10, delay=0.02, repeat=8)
    kiosk = make_kiosk(sqlite_db, the_responder=slow, refresh_seconds=0.05)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 3)
    kiosk.choose(kiosk.chatbots.chatbots()[0].id)
    qtbot.waitUntil(lambda: kiosk.current() == "chat")
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: gaps.append(clock.restart()))
    timer.start()
    refreshes: list[int] = []
    kiosk.refreshed.connect(lambda: refreshes.append(1))
    pauses: list[float] = []  # the cyclic collector's, for the failure message
    started_gc = [0.0]

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started_gc[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - started_gc[0]) * 1000)

    gc.callbacks.append(on_gc)
    started = time.monotonic()
    with qtbot.waitSignal(kiosk.reply_finished, timeout=20_000):
        kiosk.send("Tell me everything")
    timer.stop()
    gc.callbacks.remove(on_gc)
    assert time.monotonic() - started > 1.0  # it really was slow
    assert len(refreshes) >= 3, "the database was not queried meanwhile"
    assert len(gaps) > 50
    worst_gc = max(pauses, default=0.0)
    assert max(gaps[1:]) < 100, (
        f"event loop stalled {max(gaps)} ms (worst GC pause {worst_gc:.0f} ms)"
    )


def test_a_thousand_turns_keep_the_model_bounded(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    from kiosk.models import MAX_ROWS, Turn

    make_chatbot(sqlite_db, multiple_mode=True)
    kiosk = make_kiosk(sqlite_db)
    _walk_up_chat(qtbot, kiosk)
    for i in range(1000):
        turn = Turn(f"k{i}", f"turn {i} " * 8, is_user=i % 2 == 0, message_id=i + 1)
        kiosk.transcript.append(turn)
    assert kiosk.transcript.rowCount() == MAX_ROWS
    assert kiosk.transcript.has_more
    click(qtbot, kiosk.finish_button)
    assert kiosk.transcript.rowCount() == 0


def test_llm_unreachable_gives_marked_offline_answers(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    import socket

    from shared.assistant.engine import Assistant
    from shared.assistant.llm import LLMClient

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = LLMClient(
        f"http://127.0.0.1:{port}/v1", "test", connect_timeout=0.3, total_timeout=2, max_retries=0
    )
    make_chatbot(sqlite_db, multiple_mode=True)
    kiosk = make_kiosk(sqlite_db, the_responder=Assistant(sqlite_db, llm=llm))
    _walk_up_chat(qtbot, kiosk)
    with qtbot.waitSignal(kiosk.reply_finished, timeout=15_000):
        kiosk.send("When does the event start?")
    reply = kiosk.transcript.turns()[-1]
    assert not reply.is_user
    assert reply.source == "offline"
    assert reply.text
    assert caption(reply.state, reply.source, False) == "Offline answer"
