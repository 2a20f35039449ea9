"""The kiosk: time to its first frame, and its memory over a long day of chat turns.

Offscreen (``QT_QPA_PLATFORM=offscreen``), on the demo conference in a SQLite file prepared once
(migrated, :func:`shared.demo.load_demo`) and copied afresh for every process:

- **First frame**: a fresh Python process per run, timed from just before it is spawned until the
  first ``Paint`` event of its top-level window (``time.perf_counter`` is the system's monotonic
  clock, shared by the parent and the child). The kiosk process does what ``kiosk.app.main``
  does: it paints the splash (``kiosk/splash.py``) first, then imports the kiosk, builds a
  :class:`kiosk.window.KioskWindow` (windowed, 1280x800) on its copy of the database and shows
  it; the baseline process, in the same run and alternated with it, shows a bare PySide6
  ``QLabel`` of the same size. Target: the kiosk's median within 1.5x the baseline's. The time
  until the kiosk is ``ready`` (connected, the attract screen on) is reported beside it.
- **Memory**: one fresh process, a kiosk on the demo database with an instant test responder
  (the way tests/kiosk drive it): a walk-up conversation, each turn typed into the chat input and
  sent with the Send button, then waiting for ``reply_finished``. Resident memory
  (``/proc/self/statm``, after ``gc.collect()``) after 10 turns and after 1,000; target: under
  10 % growth.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import ROOT, BenchConfig, machine, ms, progress, table

if TYPE_CHECKING:
    from shared.services.responder import Reply, ReplyRequest

NAME = "kiosk"
FIRST_FRAME_TARGET = 1.5
MEMORY_TARGET = 0.10
#: First-frame runs of each kind (at most; fewer when ``--repeat`` is lower).
FRAME_RUNS = 7
EARLY_TURNS = 10
TURNS = 1_000
WINDOW = (1280, 800)
CHILD_TIMEOUT = 120.0
MEMORY_TIMEOUT = 900.0
WAIT_TIMEOUT_MS = 30_000
REPLY = "The keynote is at nine in the Main Hall on level zero."


# The demo database -----------------------------------------------------------------------------


def prepare_demo(path: Path) -> None:
    """A migrated SQLite file with the demo conference in it, to copy for every process."""
    from shared.db import Database, make_engine
    from shared.demo import load_demo
    from shared.migrate import upgrade

    database = Database(make_engine(f"sqlite:///{path}"))
    try:
        upgrade(database)
        load_demo(database)
    finally:
        database.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _child_env(home: Path) -> dict[str, str]:
    """Offscreen, with the user folders (logs, state) inside the benchmark's own folder."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for kind in ("DATA", "CONFIG", "STATE", "CACHE"):
        env[f"XDG_{kind}_HOME"] = str(home / "xdg" / kind.lower())
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


def _run_child(
    code: str, args: list[str], env: dict[str, str], timeout: float
) -> tuple[float, dict[str, Any]]:
    """Spawn ``python -c code args...``; returns when it was spawned and the JSON its last line
    holds."""
    spawned = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"the benchmark process failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return spawned, json.loads(lines[-1])


# First frame -----------------------------------------------------------------------------------

#: Shared by both processes: the time the script starts, and a filter noting the first paint.
_FRAME_HEAD = """
import time
started = time.perf_counter()
import json, os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
marks = {"started": started}
app = QApplication(sys.argv[:1])
marks["app"] = time.perf_counter()
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "frame" not in marks:
            marks["frame"] = time.perf_counter()
            QTimer.singleShot(0, finish)
        return False
def done():
    print(json.dumps(marks), flush=True)
    os._exit(0)
QTimer.singleShot(60_000, done)
width, height = int(sys.argv[1]), int(sys.argv[2])
"""

BARE_CODE = (
    _FRAME_HEAD
    + """
from PySide6.QtWidgets import QLabel
window = QLabel("ConvergeAI")
def finish():
    done()
watch = FirstPaint()
window.installEventFilter(watch)
window.resize(width, height)
window.show()
app.exec()
"""
)

KIOSK_CODE = (
    _FRAME_HEAD
    + """
from pathlib import Path
def finish():
    if "ready" in marks:
        done()
watch = FirstPaint()
# As kiosk.app.main does: the splash is the first frame, painted before the heavy imports.
from kiosk.splash import Splash
splash = Splash("light")
splash.installEventFilter(watch)
splash.resize(width, height)
splash.show()
app.processEvents()
from kiosk.window import KioskWindow
from shared.db import Database, make_engine
marks["imported"] = time.perf_counter()
home = Path(sys.argv[3])
url = "sqlite:///" + sys.argv[4]
window = KioskWindow(
    db_factory=lambda: Database(make_engine(url)),
    windowed=True,
    virtual_keyboard=False,
    state_path=home / "kiosk-state.json",
    outbox_path=home / "outbox.jsonl",
)
marks["built"] = time.perf_counter()
def ready():
    marks["ready"] = time.perf_counter()
    finish()
window.ready.connect(ready)
window.resize(width, height)
window.show()
splash.close()
app.exec()
"""
)


#: The kiosk process's phases, each from the previous mark: (label, mark).
PHASES = (
    ("Python start-up (spawn to the script's first line)", "started"),
    ("`import PySide6` + `QApplication()`", "app"),
    ("the splash (`kiosk.splash`) shown and painted: the first frame", "frame"),
    ("`import kiosk.window` (and all it imports)", "imported"),
    ("`KioskWindow(...)` built", "built"),
)


@dataclass(frozen=True)
class FrameRun:
    """One process: from spawn to the first paint, from the script's start to it, and the
    kiosk's phases (seconds each)."""

    to_frame: float
    in_script: float
    to_ready: float | None = None
    phases: tuple[float, ...] = ()


def _phases(spawned: float, marks: dict[str, float]) -> tuple[float, ...]:
    times = [spawned] + [marks[mark] for _label, mark in PHASES]
    return tuple(b - a for a, b in zip(times, times[1:], strict=False))


def first_frame(demo: Path, home: Path, runs: int) -> tuple[list[FrameRun], list[FrameRun]]:
    """Alternate kiosk and bare-window processes ``runs`` times each (one untimed pair first,
    to warm the disk cache); returns (kiosk runs, bare runs)."""
    env = _child_env(home)
    kiosk_runs: list[FrameRun] = []
    bare_runs: list[FrameRun] = []
    for i in range(runs + 1):
        folder = home / f"frame-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "kiosk.db"
        shutil.copyfile(demo, db)
        size = [str(WINDOW[0]), str(WINDOW[1])]
        spawned, marks = _run_child(KIOSK_CODE, [*size, str(folder), str(db)], env, CHILD_TIMEOUT)
        kiosk = FrameRun(
            marks["frame"] - spawned,
            marks["frame"] - marks["started"],
            marks["ready"] - spawned,
            _phases(spawned, marks),
        )
        spawned, marks = _run_child(BARE_CODE, size, env, CHILD_TIMEOUT)
        bare = FrameRun(marks["frame"] - spawned, marks["frame"] - marks["started"])
        shutil.rmtree(folder, ignore_errors=True)
        if i == 0:
            continue  # warm-up
        kiosk_runs.append(kiosk)
        bare_runs.append(bare)
        progress(
            f"  first frame {i}/{runs}: kiosk {ms(kiosk.to_frame)} (ready "
            f"{ms(kiosk.to_ready or 0.0)}), bare window {ms(bare.to_frame)}"
        )
    return kiosk_runs, bare_runs


# Memory ----------------------------------------------------------------------------------------


class InstantResponder:
    """Answers at once, in three streamed pieces: no time spent thinking, only the kiosk's own."""

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        from shared.models import MessageSource
        from shared.services.responder import Reply

        words = REPLY.split(" ")
        pieces = [" ".join(words[:4]), " " + " ".join(words[4:8]), " " + " ".join(words[8:])]
        if on_delta is not None:
            for piece in pieces:
                on_delta(piece)
        return Reply(REPLY, MessageSource.LLM, answered=True)

    def suggestions(self, chatbot_id: int) -> list[str]:
        return ["Who is speaking?", "Where is lunch?"]


def rss_bytes() -> int:
    """Resident memory of this process now, after a full garbage collection."""
    import gc

    gc.collect()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _wait(done: Callable[[], bool], signal: Any, what: str) -> None:
    """Run the event loop until ``done()`` holds, checking whenever ``signal`` fires."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done():
        return
    loop = QEventLoop()

    def check(*_args: object) -> None:
        if done():
            loop.quit()

    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    signal.connect(check)
    guard.start(WAIT_TIMEOUT_MS)
    try:
        loop.exec()
    finally:
        guard.stop()
        signal.disconnect(check)
    if not done():
        raise RuntimeError(f"timed out after {WAIT_TIMEOUT_MS / 1000:.0f} s waiting for {what}")


def memory_child(db_path: str, home: str, early: int, turns: int) -> None:
    """In a fresh process: chat ``turns`` turns; print the resident memory after ``early`` and
    after all of them (JSON, on the last line)."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from kiosk.window import KioskWindow
    from shared.db import Database, make_engine

    app = QApplication(sys.argv[:1])
    folder = Path(home)
    window = KioskWindow(
        db_factory=lambda: Database(make_engine(f"sqlite:///{db_path}")),
        responder_factory=lambda _db: InstantResponder(),
        windowed=True,
        virtual_keyboard=False,
        idle_timeout=24 * 3600,
        state_path=folder / "kiosk-state.json",
        outbox_path=folder / "outbox.jsonl",
    )
    window.resize(*WINDOW)
    window.show()
    _wait(
        lambda: window.db is not None and window.chatbots.rowCount() > 0, window.refreshed, "ready"
    )
    walk_up = [b for b in window.chatbots.chatbots() if b.multiple_mode]
    if not walk_up:
        raise RuntimeError("the demo has no walk-up assistant")
    window.choose(walk_up[0].id)
    _wait(lambda: window.current() == "chat", window.screen_changed, "the chat screen")
    finished: list[str] = []
    window.reply_finished.connect(finished.append)
    marks: dict[str, Any] = {"chatbot": walk_up[0].name}
    started = time.perf_counter()
    for turn in range(1, turns + 1):
        window.chat.input.setText(f"Question {turn}: when is the keynote?")
        window.chat.send_button.click()
        _wait(lambda: len(finished) >= turn, window.reply_finished, f"reply {turn}")  # noqa: B023
        if turn == early:
            QCoreApplication.processEvents()
            marks["rss_early"] = rss_bytes()
            marks["early_at"] = time.perf_counter() - started
    QCoreApplication.processEvents()
    marks["rss_end"] = rss_bytes()
    marks["seconds"] = time.perf_counter() - started
    marks["rows"] = window.transcript.rowCount()
    marks["replies"] = len(finished)
    window.shutdown()
    del app
    print(json.dumps(marks), flush=True)
    os._exit(0)


@dataclass(frozen=True)
class MemoryResult:
    """Resident memory after the early turns and after all of them."""

    early: int
    turns: int
    rss_early: int
    rss_end: int
    seconds: float
    rows: int
    chatbot: str

    @property
    def growth(self) -> float:
        return (self.rss_end - self.rss_early) / self.rss_early


def memory(demo: Path, home: Path, early: int, turns: int) -> MemoryResult:
    """Run :func:`memory_child` in a fresh offscreen process on a copy of the demo database."""
    folder = home / "memory"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "kiosk.db"
    shutil.copyfile(demo, db)
    code = (
        "import sys; from bench.kiosk import memory_child; "
        "memory_child(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))"
    )
    args = [str(db), str(folder), str(early), str(turns)]
    _spawned, marks = _run_child(code, args, _child_env(home), MEMORY_TIMEOUT)
    if marks["replies"] != turns:
        raise RuntimeError(f"{marks['replies']} replies for {turns} turns")
    return MemoryResult(
        early,
        turns,
        int(marks["rss_early"]),
        int(marks["rss_end"]),
        float(marks["seconds"]),
        int(marks["rows"]),
        str(marks["chatbot"]),
    )


# Running ---------------------------------------------------------------------------------------


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _section(
    kiosk: list[FrameRun], bare: list[FrameRun], mem: MemoryResult, took: float, command: str
) -> str:
    import PySide6

    k_frame = statistics.median(r.to_frame for r in kiosk)
    b_frame = statistics.median(r.to_frame for r in bare)
    ratio = k_frame / b_frame
    ready = statistics.median(r.to_ready or 0.0 for r in kiosk)
    frame_met = ratio <= FIRST_FRAME_TARGET
    mem_met = mem.growth < MEMORY_TARGET
    lines = [
        "## Kiosk: first frame, memory over 1,000 chat turns (`bench/kiosk.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` in {took / 60:.1f} min, "
        "offscreen (`QT_QPA_PLATFORM=offscreen`), on the demo conference in a SQLite file "
        f"(copied afresh for every process), a {WINDOW[0]}×{WINDOW[1]} windowed kiosk.",
        "",
        f"Machine: {machine()}; PySide6 {PySide6.__version__}.",
        "",
        "### First frame",
        "",
        f"A fresh Python process per run, {len(kiosk)} of each kind, kiosk and bare window "
        "alternated (after one untimed pair), timed from just before the process is spawned to "
        "the first `Paint` event of its window. The kiosk process, as `kiosk.app.main` does, shows "
        "the splash (`kiosk/splash.py`, painted before the database stack is imported), then "
        "imports `kiosk.window`, builds a `KioskWindow` on its database and shows it (the time "
        "to `ready` is reported too); the baseline shows a bare PySide6 "
        "`QLabel` of the same size. *In the script* leaves out the interpreter's own start-up.",
        "",
        table(
            ["", "median", "min", "max", "in the script (median)"],
            [
                [
                    label,
                    ms(statistics.median(r.to_frame for r in runs)),
                    ms(min(r.to_frame for r in runs)),
                    ms(max(r.to_frame for r in runs)),
                    ms(statistics.median(r.in_script for r in runs)),
                ]
                for label, runs in (("**Kiosk** first frame", kiosk), ("Bare PySide6 window", bare))
            ],
        ),
        "",
        f"Ratio kiosk / bare window: **{ratio:.2f}×**; target ≤ {FIRST_FRAME_TARGET}×: "
        + ("met." if frame_met else "**MISSED**.")
        + f" The kiosk is `ready` (connected, assistants loaded, attract screen on) "
        f"{ms(ready)} after spawn (median).",
        "",
        "Where the kiosk's time to its first frame goes (medians):",
        "",
        table(
            ["phase", "median"],
            [
                [label, ms(statistics.median(r.phases[i] for r in kiosk))]
                for i, (label, _mark) in enumerate(PHASES)
            ],
        ),
        "",
        "### Memory",
        "",
        f"One fresh process, a kiosk with an instant test responder (three streamed pieces), "
        f"one walk-up conversation with “{mem.chatbot}”: each turn typed into the chat input, "
        "sent with the Send button, then waiting for `reply_finished`. Resident memory from "
        "`/proc/self/statm` after `gc.collect()`. One very long visit: the transcript keeps "
        f"only the newest turns (`kiosk.models.MAX_ROWS`; {mem.rows:,} rows on screen at the "
        "end), so what grows beyond that is what the kiosk keeps per turn elsewhere.",
        "",
        table(
            ["", "resident memory"],
            [
                [f"after {mem.early} turns", _mib(mem.rss_early)],
                [f"after {mem.turns:,} turns", _mib(mem.rss_end)],
            ],
        ),
        "",
        f"Growth: **{100 * mem.growth:.1f} %** ({_mib(mem.rss_end - mem.rss_early)}, "
        f"{(mem.rss_end - mem.rss_early) / max(1, mem.turns - mem.early) / 1024:.1f} KiB a turn); "
        f"target under {100 * MEMORY_TARGET:.0f} %: "
        + ("met." if mem_met else "**MISSED**.")
        + f" {mem.turns:,} turns took {mem.seconds:.0f} s "
        f"({ms(mem.seconds / mem.turns)} a turn).",
    ]
    return "\n".join(lines) + "\n"


def run(config: BenchConfig, *, turns: int = TURNS, early: int = EARLY_TURNS) -> str:
    """Run the kiosk benchmark (first frame, memory); returns its Markdown section."""
    started = time.perf_counter()
    runs = max(1, min(config.repeat, FRAME_RUNS))
    with tempfile.TemporaryDirectory(prefix="convergeai-bench-kiosk-") as tmp:
        home = Path(tmp)
        demo = home / "demo.db"
        progress("kiosk: preparing the demo database ...")
        prepare_demo(demo)
        progress(f"kiosk: first frame, {runs} runs of each ...")
        kiosk, bare = first_frame(demo, home, runs)
        progress(f"kiosk: memory over {turns:,} chat turns ...")
        mem = memory(demo, home, early, turns)
        progress(
            f"  memory: {_mib(mem.rss_early)} after {early} turns, {_mib(mem.rss_end)} after "
            f"{turns:,}: {100 * mem.growth:+.1f} %"
        )
    took = time.perf_counter() - started
    progress(f"kiosk: done in {took:.0f} s")
    command = "python -m bench --only kiosk" + (
        f" --repeat {config.repeat}" if config.repeat < FRAME_RUNS else ""
    )
    return _section(kiosk, bare, mem, took, command)


__all__ = [
    "NAME",
    "FrameRun",
    "InstantResponder",
    "MemoryResult",
    "first_frame",
    "memory",
    "memory_child",
    "prepare_demo",
    "rss_bytes",
    "run",
]
