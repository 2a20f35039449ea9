"""The outbox against a real PostgreSQL server stopped and restarted in the middle of a chat.

The test starts its own throw-away server (the shared test servers cannot be stopped), so it
needs the PostgreSQL server binaries; it is marked ``slow``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from kiosk.models import PENDING, SENT
from shared.db import Database, make_engine
from shared.migrate import upgrade
from shared.models import Message
from tests.factories import make_chatbot
from tests.kiosk.conftest import KioskFactory, SlowResponder


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowAwayPostgres:
    """initdb + pg_ctl in a temporary folder, run as ``postgres`` when we are root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.data.mkdir(mode=0o700)
        self.log = self.root / "pg.log"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.data, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120, cwd="/")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowAwayPostgres]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    server = ThrowAwayPostgres(bindir)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.mark.slow
def test_outbox_delivers_exactly_once_across_a_real_postgresql_restart(
    qtbot: QtBot, throwaway_pg: ThrowAwayPostgres, make_kiosk: KioskFactory,
    responder: SlowResponder,
) -> None:  # fmt: skip
    db = Database(make_engine(throwaway_pg.url, connect_timeout=2))
    try:
        upgrade(db)
        make_chatbot(db, "Harbour guide", multiple_mode=True)
        kiosk = make_kiosk(db, retry_seconds=0.3)
        qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
        kiosk.just_ask()
        qtbot.waitUntil(lambda: kiosk.current() == "chat", timeout=10_000)
        with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
            kiosk.send("Before the outage")

        throwaway_pg.stop()
        kiosk.send("During the outage")
        qtbot.waitUntil(lambda: not kiosk.online, timeout=15_000)
        qtbot.waitUntil(lambda: kiosk.transcript.turns()[-1].state == PENDING, timeout=15_000)
        assert kiosk.banner.isVisible()
        assert [e.content for e in kiosk.outbox.pending()] == ["During the outage"]

        throwaway_pg.start()
        with qtbot.waitSignal(kiosk.reply_finished, timeout=30_000):
            pass
        qtbot.waitUntil(lambda: kiosk.online, timeout=10_000)
        with db.read() as s:
            counts = dict(
                s.execute(
                    select(Message.content, func.count())
                    .where(Message.is_user_message.is_(True))
                    .group_by(Message.content)
                ).all()
            )
        assert counts == {"Before the outage": 1, "During the outage": 1}
        assert len(kiosk.outbox) == 0
        mine = [t for t in kiosk.transcript.turns() if t.is_user]
        assert [(t.text, t.state) for t in mine] == [
            ("Before the outage", SENT),
            ("During the outage", SENT),
        ]
        assert kiosk.transcript.turns()[-1].text == responder.text
        kiosk.shutdown()
    finally:
        db.dispose()
