"""The admin console at event scale: the dashboard's refresh and scrolling the users table.

On the data set of the core benchmark (2,000,000 messages, 100,000 users, 50 assistants; the
same cached SQLite file and PostgreSQL database, made by :mod:`bench.datagen`), offscreen
(``QT_QPA_PLATFORM=offscreen``), with the console's own widgets, models and background runner:

- **Dashboard refresh**: from ``DashboardView.refresh()`` until every figure card, both charts
  and the three tables hold the new data and the window has been painted. The baseline, in the
  same run and interleaved: the same service calls as ``load_dashboard`` on a plain thread
  (started and joined), no Qt at all. The ratio is what the GUI adds (the thread-pool hop, the
  queued signal, filling the widgets, painting).
- **Users table at 100,000 users**: the users view (its ``QTableView`` and ``UsersModel``),
  scrolled with ``verticalScrollBar().setValue(...)``: page steps down from the top, a jump to
  the end, page steps up, and jumps back to the top in tenths. Each step is timed until no
  placeholder row is left on screen and the rows are painted. The baseline: the same pages
  fetched with ``users.list_users`` directly, one after another. A 10 ms ``QTimer`` on the GUI
  thread measures the longest gap between its ticks during the whole scroll: the longest the
  GUI was frozen. Over 100 ms is a problem, and the section says so.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from bench import core, datagen
from bench.common import BenchConfig, Timing, compare, machine, measure, ms, progress, table
from shared.db import Database
from shared.models import Role
from shared.services import chatbots, stats, transcripts, users
from shared.services.common import Actor
from shared.settings import Settings, get_settings, use_settings

NAME = "admin"
#: Refreshes timed (at most; fewer when ``--repeat`` is lower).
DASHBOARD_REPEAT = 20
#: Scroll passes timed (at most), each over the whole scenario from a fresh model.
SCROLL_PASSES = 3
PAGE_STEPS_DOWN = 25
PAGE_STEPS_UP = 10
#: The GUI thread must never stall longer than this.
STALL_LIMIT = 0.100
TICK_MS = 10
WAIT_TIMEOUT_MS = 60_000
WINDOW = (1280, 800)


# Qt helpers ------------------------------------------------------------------------------------


def _app() -> Any:
    """The running QApplication, or a new offscreen one."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([])
    return cast(QApplication, app)


class StallMonitor:
    """A 10 ms timer on the GUI thread; the gaps between its ticks show how long the GUI thread
    was busy (a frozen window) at worst."""

    def __init__(self, interval_ms: int = TICK_MS) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._tick()  # the time since the last tick counts too

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)

    def over(self, limit: float) -> int:
        return sum(1 for gap in self.gaps if gap > limit)


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


def _settle(ctx: Any) -> None:
    """Let every background task (and what it started) finish and deliver."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.perf_counter() + WAIT_TIMEOUT_MS / 1000
    while ctx.runner.active and time.perf_counter() < deadline:
        ctx.runner.wait(50)
        QCoreApplication.processEvents()
    QCoreApplication.processEvents()


def _close(widget: Any) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


class _GcWatch:
    """The longest pause of Python's garbage collector while it is entered (it stops every
    thread, the GUI thread too)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.where = ""
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            pause = time.perf_counter() - self._started
            if pause > self.longest:
                self.longest = pause
                on_gui = threading.current_thread() is threading.main_thread()
                self.where = f"generation {info.get('generation')}, " + (
                    "on the GUI thread" if on_gui else "on a worker thread"
                )

    def __enter__(self) -> _GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)


# Dashboard -------------------------------------------------------------------------------------


@dataclass
class DashboardResult:
    """The refresh timed in the console beside the same services on a plain thread."""

    gui: Timing
    baseline: Timing
    gui_thread: Timing  # the view's own work on the GUI thread: filling the widgets
    longest_gap: float
    figures: dict[str, int] = field(default_factory=dict)
    #: Each service call of the load alone (median of a few runs): where the time goes.
    breakdown: list[tuple[str, Timing]] = field(default_factory=list)
    gc_longest: float = 0.0
    gc_where: str = ""

    @property
    def ratio(self) -> float:
        return self.gui.median / self.baseline.median if self.baseline.median else 0.0


def load_direct(db: Database, actor: Actor) -> object:
    """What ``admin_console.views.dashboard.load_dashboard`` loads, called directly."""
    from admin_console.views.dashboard import DAYS, RECENT

    with db.read() as s:
        return (
            stats.dashboard(s, actor),
            stats.messages_per_day(s, actor, days=DAYS, chatbot_id=None),
            stats.new_users_per_day(s, actor, days=DAYS),
            transcripts.top_questions(s, actor, chatbot_id=None, days=DAYS, limit=10),
            transcripts.unanswered_questions(s, actor, chatbot_id=None, days=DAYS, limit=10).items,
            chatbots.list_for_organizers(s, actor)[:RECENT],
        )


def breakdown(db: Database, actor: Actor, repeat: int) -> list[tuple[str, Timing]]:
    """Each call of :func:`load_direct` alone, in its own read session, slowest first."""
    from admin_console.views.dashboard import DAYS, RECENT

    calls: list[tuple[str, Callable[[Any], object]]] = [
        ("`stats.dashboard`", lambda s: stats.dashboard(s, actor)),
        ("`stats.messages_per_day(30)`", lambda s: stats.messages_per_day(s, actor, days=DAYS)),
        ("`stats.new_users_per_day(30)`", lambda s: stats.new_users_per_day(s, actor, days=DAYS)),
        (
            "`transcripts.top_questions(30 days, 10)`",
            lambda s: transcripts.top_questions(s, actor, days=DAYS, limit=10),
        ),
        (
            "`transcripts.unanswered_questions(30 days, 10)`",
            lambda s: transcripts.unanswered_questions(s, actor, days=DAYS, limit=10),
        ),
        (
            f"`chatbots.list_for_organizers` (first {RECENT})",
            lambda s: chatbots.list_for_organizers(s, actor)[:RECENT],
        ),
    ]

    def timed(fn: Callable[[Any], object]) -> Callable[[], object]:
        def run() -> object:
            with db.read() as s:
                return fn(s)

        return run

    out = [(label, measure(timed(fn), repeat=repeat, warmup=1)) for label, fn in calls]
    return sorted(out, key=lambda item: -item[1].median)


def _on_plain_thread(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        out: list[object] = []
        worker = threading.Thread(target=lambda: out.append(fn()), name="bench-baseline")
        worker.start()
        worker.join()
        if not out:
            raise RuntimeError("the baseline call failed (see the traceback above)")
        return out[0]

    return run


def bench_dashboard(ctx: Any, repeat: int, warmup: int) -> DashboardResult:
    """Time ``repeat`` dashboard refreshes against the same services on a plain thread."""
    from PySide6.QtCore import QCoreApplication, QObject, Signal

    from admin_console.views.dashboard import DashboardView

    class Probe(QObject):
        shown = Signal()

    probe = Probe()
    view = DashboardView(ctx)
    view.resize(*WINDOW)
    view.show()
    QCoreApplication.processEvents()
    original = view._show
    gui_thread: list[float] = []

    def show(data: Any) -> None:
        # Instrumentation only: the view's own method, timed, then a signal to stop waiting.
        started = time.perf_counter()
        original(data)
        gui_thread.append(time.perf_counter() - started)
        probe.shown.emit()

    view._show = show  # type: ignore[method-assign]
    monitor = StallMonitor()
    gaps: list[float] = []

    def refresh() -> None:
        before = view.refreshes
        monitor.gaps.clear()
        monitor.start()
        view.refresh()
        _wait(lambda: view.refreshes > before and not view.loading, probe.shown, "the dashboard")
        QCoreApplication.processEvents()  # paint what changed
        monitor.stop()
        gaps.append(monitor.longest)

    actor = ctx.actor
    try:
        with _GcWatch() as watch:
            gui, baseline = compare(
                [refresh, _on_plain_thread(lambda: load_direct(ctx.database, actor))],
                repeat=repeat,
                warmup=warmup,
            )
        data = _check_dashboard(view)
        figures = {key: int(getattr(data.figures, key)) for key in view.cards}
    finally:
        _settle(ctx)
        _close(view)
    timed = gui_thread[warmup:]
    return DashboardResult(
        gui,
        baseline,
        Timing(tuple(timed)),
        max(gaps[warmup:], default=0.0),
        figures,
        breakdown(ctx.database, actor, max(1, min(repeat, 5))),
        watch.longest,
        watch.where,
    )


def _check_dashboard(view: Any) -> Any:
    """The refresh really showed the data: every card, both charts, the tables."""
    data = view.data
    if data is None:
        raise RuntimeError("the dashboard never showed its data")
    problems = []
    for key, card in view.cards.items():
        if not card.value.text():
            problems.append(f"the card {key} is empty")
    if view.messages_chart.counts.count() != 2 * len(data.messages):
        problems.append("the messages chart does not show every day")
    if view.users_chart.counts.count() != 2 * len(data.new_users):
        problems.append("the new users chart does not show every day")
    if view.top_model.rowCount() != len(data.top):
        problems.append("the most asked questions table is not filled")
    if view.unanswered_model.rowCount() != len(data.unanswered):
        problems.append("the unanswered questions table is not filled")
    if view.recent_model.rowCount() != len(data.recent):
        problems.append("the latest assistants table is not filled")
    if problems:
        raise RuntimeError("; ".join(problems))
    return data


# Users table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One scroll step: what it did, how long until the rows showed, the pages it fetched."""

    kind: str  # "page" or "jump"
    seconds: float
    pages: tuple[int, ...]
    longest_gap: float = 0.0


@dataclass
class ScrollResult:
    """Every scroll step of every timed pass, the direct page queries, the GUI thread's gaps."""

    total: int
    visible_rows: int
    steps: list[Step] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)  # per step, the same pages directly
    first_page: list[float] = field(default_factory=list)
    first_page_direct: list[float] = field(default_factory=list)
    longest_gap: float = 0.0
    gaps_over_limit: int = 0
    ticks: int = 0
    passes: int = 0
    repaint: list[float] = field(default_factory=list)  # one synchronous repaint of the table
    gc_longest: float = 0.0
    gc_where: str = ""


def _scenario(maximum: int) -> list[tuple[str, int | None]]:
    """Scroll-bar moves: (kind, absolute value), or (kind, None) for "one page step"; negative
    page steps are written as ``-1``."""
    moves: list[tuple[str, int | None]] = [("page", None)] * PAGE_STEPS_DOWN
    moves.append(("jump", maximum))
    moves += [("page", -1)] * PAGE_STEPS_UP
    moves += [("jump", maximum * tenth // 10) for tenth in range(9, -1, -1)]
    return moves


def bench_users(ctx: Any, passes: int, warmup: int) -> ScrollResult:
    """Scroll the users view's table through the scenario ``passes`` times (each from a fresh
    model: nothing cached), timing each step; then fetch the same pages directly."""
    from PySide6.QtCore import QCoreApplication

    from admin_console.models import USERS_PAGE
    from admin_console.views.users import UsersView

    view = UsersView(ctx)
    view.resize(*WINDOW)
    view.show()
    model, table_view = view.model, view.table
    bar = table_view.verticalScrollBar()
    arrived: list[int] = []
    model.page_loaded.connect(arrived.append)
    db, actor = ctx.database, ctx.actor
    monitor = StallMonitor()

    def visible_rows() -> range:
        top = table_view.rowAt(0)
        bottom = table_view.rowAt(table_view.viewport().height() - 1)
        if top < 0:
            return range(0)
        if bottom < 0:
            bottom = model.rowCount() - 1
        return range(top, bottom + 1)

    def shown() -> bool:
        return all(model.user(row) is not None for row in visible_rows())

    def start_over() -> float:
        """A fresh model (the view's first load): until page 1 is on screen."""
        started = time.perf_counter()
        if model.loaded_once:
            model.reload()
        else:
            view.refresh()
        _wait(
            lambda: model.loaded_once and not model.pending and shown(),
            model.page_loaded,
            "the first page of users",
        )
        QCoreApplication.processEvents()
        return time.perf_counter() - started

    def direct(pages: Sequence[int]) -> float:
        started = time.perf_counter()
        for page in pages:
            with db.read() as s:
                users.list_users(
                    s, actor, users.UserQuery(), offset=page * USERS_PAGE, limit=USERS_PAGE
                )
        return time.perf_counter() - started

    def one_pass(out: ScrollResult | None) -> None:
        first = start_over()
        bar.setValue(0)
        QCoreApplication.processEvents()
        moves = _scenario(bar.maximum())
        steps: list[Step] = []
        monitor.gaps.clear()
        monitor.start()
        for kind, target in moves:
            mark, ticks = len(arrived), len(monitor.gaps)
            started = time.perf_counter()
            if target is None:
                bar.setValue(bar.value() + bar.pageStep())
            elif target < 0:
                bar.setValue(bar.value() - bar.pageStep())
            else:
                bar.setValue(target)
            QCoreApplication.processEvents()  # lay out and paint: asks for missing pages
            _wait(shown, model.page_loaded, f"the users at scroll position {bar.value()}")
            QCoreApplication.processEvents()  # paint the rows that arrived
            seconds = time.perf_counter() - started
            gap = max(monitor.gaps[ticks:], default=0.0)
            steps.append(Step(kind, seconds, tuple(arrived[mark:]), gap))
        monitor.stop()
        _settle(ctx)
        if out is None:
            return
        out.passes += 1
        out.first_page.append(first)
        out.first_page_direct.append(direct([0]))
        out.steps += steps
        out.direct += [direct(step.pages) if step.pages else 0.0 for step in steps]
        out.longest_gap = max(out.longest_gap, monitor.longest)
        out.gaps_over_limit += monitor.over(STALL_LIMIT)
        out.ticks += len(monitor.gaps)
        for _ in range(5):
            started = time.perf_counter()
            table_view.viewport().repaint()
            out.repaint.append(time.perf_counter() - started)

    try:
        result = ScrollResult(0, 0)
        for _ in range(min(1, warmup)):
            one_pass(None)
        with _GcWatch() as watch:
            for _ in range(passes):
                one_pass(result)
        result.gc_longest = watch.longest
        result.gc_where = watch.where
        result.total = model.rowCount()
        result.visible_rows = len(visible_rows())
    finally:
        _settle(ctx)
        _close(view)
    return result


# Running ---------------------------------------------------------------------------------------


@dataclass
class BackendRun:
    """The results on one backend, or why it did not run."""

    backend: str
    version: str = ""
    data_note: str = ""
    dashboard: DashboardResult | None = None
    scroll: ScrollResult | None = None
    skipped: str = ""
    gc_objects: int = 0


def _context(db: Database) -> Any:
    from admin_console.context import Context
    from admin_console.theme import apply_admin_theme

    app = _app()
    apply_admin_theme(app, "light")
    ctx = Context(db)
    admin = Actor(1, Role.ADMIN)
    with db.read() as s:
        ctx.user = users.get_user(s, admin, admin.user_id)
    return ctx


def run_backend(config: BenchConfig, backend: str, cache: Any) -> BackendRun:
    """Open (or make) the core benchmark's data set on ``backend``, then time both figures."""
    out = BackendRun(backend)
    if backend == "sqlite":
        db, out.data_note = core._sqlite_database(config, cache.sizes, cache)
    elif backend == "postgresql":
        url = config.server_url(backend)
        if not url:
            out.skipped = "not run: no server (CONVERGEAI_TEST_POSTGRES_URL is not set)"
            progress(f"postgresql: {out.skipped}")
            return out
        db, out.data_note = core._postgresql_database(config, cache.sizes, cache, url)
    else:
        raise ValueError(f"the admin benchmark runs on sqlite and postgresql, not {backend!r}")
    # The generated rows (millions of tuples) are not part of a running console: let them go,
    # or every full garbage collection would walk them and stall the GUI thread for it.
    cache._data = None
    gc.collect()
    out.gc_objects = len(gc.get_objects())
    ctx = _context(db)
    try:
        out.version = core._server_version(db)
        repeat = min(config.repeat, DASHBOARD_REPEAT)
        progress(f"  {backend}: dashboard, {repeat} refreshes ...")
        out.dashboard = d = bench_dashboard(ctx, repeat, config.warmup)
        progress(
            f"  {backend:10} dashboard refresh: {ms(d.gui.median)} (p95 {ms(d.gui.p95)}) vs "
            f"direct {ms(d.baseline.median)}, x{d.ratio:.2f}; GUI thread {ms(d.gui_thread.median)}"
            f", longest gap {ms(d.longest_gap)}"
        )
        passes = min(config.repeat, SCROLL_PASSES)
        progress(f"  {backend}: users table, {passes} scroll passes ...")
        out.scroll = sc = bench_users(ctx, passes, config.warmup)
        all_steps = Timing(tuple(s.seconds for s in sc.steps))
        progress(
            f"  {backend:10} users scroll: {len(sc.steps)} steps, median {ms(all_steps.median)} "
            f"(p95 {ms(all_steps.p95)}), longest gap {ms(sc.longest_gap)}"
        )
    finally:
        ctx.shutdown()
        db.dispose()
    return out


def _row(label: str, gui: Sequence[float], direct: Sequence[float] | None) -> list[str]:
    g = Timing(tuple(gui)) if gui else None
    d = Timing(tuple(direct)) if direct else None
    ratio = f"{g.median / d.median:.2f}×" if g is not None and d is not None and d.median else "—"
    return [
        f"{label} ({len(gui)})",
        ms(g.median) if g else "—",
        ms(g.p95) if g else "—",
        ms(d.median) if d else "—",
        ms(d.p95) if d else "—",
        ratio,
    ]


def _scroll_rows(sc: ScrollResult) -> list[list[str]]:
    pairs = list(zip(sc.steps, sc.direct, strict=True))

    def pick(kind: str | None, fetched: bool | None) -> tuple[list[float], list[float]]:
        chosen = [
            (s, d)
            for s, d in pairs
            if (kind is None or s.kind == kind) and (fetched is None or bool(s.pages) == fetched)
        ]
        return [s.seconds for s, _d in chosen], [d for s, d in chosen if s.pages]

    rows = [_row("first page, fresh model", sc.first_page, sc.first_page_direct)]
    for label, kind, fetched in (
        ("page step, rows already loaded", "page", False),
        ("page step that fetched a page", "page", True),
        ("jump to a page not loaded", "jump", True),
        ("jump to rows already loaded", "jump", False),
        ("every scroll step", None, None),
    ):
        gui, direct = pick(kind, fetched)
        if gui:
            # Over every step the direct figures would mix in steps that needed no query.
            rows.append(_row(label, gui, direct if kind is not None and direct else None))
    return rows


def _section(config: BenchConfig, sizes: datagen.Sizes, runs: list[BackendRun], took: float) -> str:
    import PySide6

    custom = (sizes.messages, sizes.users, sizes.chatbots) != (2_000_000, 100_000, 50)
    command = "python -m bench --only admin" + (
        f" --messages {sizes.messages} --users {sizes.users} --chatbots {sizes.chatbots}"
        if custom
        else ""
    )
    lines = [
        "## Admin console: dashboard refresh, users table scrolling (`bench/admin.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` in {took / 60:.1f} min: "
        f"{sizes.messages:,} messages, {sizes.users:,} users, {sizes.chatbots} assistants (the "
        f"core benchmark's data set), offscreen (`QT_QPA_PLATFORM="
        f"{os.environ.get('QT_QPA_PLATFORM', '')}`), light theme, a {WINDOW[0]}×{WINDOW[1]} "
        "window.",
        "",
        f"Machine: {machine()}; PySide6 {PySide6.__version__}.",
        "",
        "- **Dashboard refresh**: from `DashboardView.refresh()` until every figure card, both "
        "charts and the three tables hold the new data (checked) and the window is painted. "
        "Baseline: the same service calls as `load_dashboard` (`stats.dashboard`, "
        "`messages_per_day`, `new_users_per_day`, `transcripts.top_questions`, "
        "`unanswered_questions`, `chatbots.list_for_organizers`) in one read session on a plain "
        "thread, started and joined, no Qt; refreshes and baseline interleaved, after "
        f"{config.warmup} warm-up runs. *GUI thread* is the view's own work on arrival "
        "(`_show`: filling the cards, charts and tables), before painting.",
        "- **Users table**: the users view (its `QTableView` and `UsersModel`, 100 users a "
        "page, 40 pages cached), scrolled with `verticalScrollBar().setValue()`: "
        f"{PAGE_STEPS_DOWN} page steps down from the top, a jump to the end, {PAGE_STEPS_UP} "
        "page steps up, then jumps back to the top in tenths. A step is timed until no "
        "placeholder row is left on screen and the rows are painted. Each pass starts from a "
        "fresh model (`UsersModel.reload()`: nothing cached). Baseline: the pages that step "
        "fetched, with `users.list_users` directly, one after another (the model fetches them "
        "on the thread pool, in parallel). Count in brackets.",
        f"- **Longest GUI stall**: the longest gap between the ticks of a {TICK_MS} ms `QTimer` "
        "on the GUI thread while refreshing or scrolling: how long the window could not "
        f"respond. Over {ms(STALL_LIMIT)} is a freeze organizers notice.",
    ]
    header = ["", "console median", "p95", "direct median", "p95", "ratio"]
    for run in runs:
        title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(run.backend, run.backend)
        lines += ["", f"### {title}" + (f" ({run.version})" if run.version else ""), ""]
        if run.skipped or run.dashboard is None or run.scroll is None:
            lines.append(run.skipped or "not run")
            continue
        d, sc = run.dashboard, run.scroll
        lines += [
            f"Data: {run.data_note}. Python objects tracked by the garbage collector before the "
            f"console opened: {run.gc_objects:,}.",
            "",
        ]
        lines.append(
            table(
                header,
                [
                    _row("**Dashboard refresh**", d.gui.runs, d.baseline.runs),
                    [
                        f"· of which the GUI thread fills the widgets ({len(d.gui_thread.runs)})",
                        ms(d.gui_thread.median),
                        ms(d.gui_thread.p95),
                        "—",
                        "—",
                        "—",
                    ],
                ],
            )
        )
        lines += [
            "",
            f"Shown: {d.figures.get('total_messages', 0):,} messages, "
            f"{d.figures.get('total_users', 0):,} users, "
            f"{d.figures.get('total_chatbots', 0)} assistants. Longest GUI stall while "
            f"refreshing: {ms(d.longest_gap)}"
            + (
                f" — **over {ms(STALL_LIMIT)}: the window freezes during a refresh**."
                if d.longest_gap > STALL_LIMIT
                else f" (under {ms(STALL_LIMIT)})."
            )
            + f" Longest garbage-collector pause meanwhile: {ms(d.gc_longest)}"
            + (f" ({d.gc_where})." if d.gc_where else "."),
            "",
            "Where the load's time goes: each service call alone, in its own read session "
            f"(median of {len(d.breakdown[0][1].runs) if d.breakdown else 0}):",
            "",
            table(
                ["call", "median", "p95"],
                [[label, ms(tm.median), ms(tm.p95)] for label, tm in d.breakdown],
            ),
            "",
            f"**Users table**, {sc.total:,} rows, {sc.visible_rows} on screen, "
            f"{sc.passes} pass(es) of {len(sc.steps) // max(1, sc.passes)} steps:",
            "",
            table(header, _scroll_rows(sc)),
            "",
        ]
        verdict = (
            f"**Longest GUI stall while scrolling: {ms(sc.longest_gap)} — over "
            f"{ms(STALL_LIMIT)} ({sc.gaps_over_limit} of {sc.ticks:,} gaps): the table freezes "
            "while scrolling; this is a problem to fix.**"
            if sc.longest_gap > STALL_LIMIT
            else f"Longest GUI stall while scrolling: {ms(sc.longest_gap)} over {sc.ticks:,} "
            f"timer gaps: under {ms(STALL_LIMIT)}, the table never froze."
        )
        stalled = [s for s in sc.steps if s.longest_gap > STALL_LIMIT]
        kinds = sorted({("fetching " if s.pages else "cached ") + s.kind for s in stalled})
        lines += [
            verdict,
            "",
            f"One synchronous repaint of the table (`viewport().repaint()`): "
            f"{ms(Timing(tuple(sc.repaint)).median) if sc.repaint else '—'} median; a step whose "
            "rows are loaded costs about one repaint, a step that fetches about two (one with "
            "placeholders, one with the rows) plus the query and the thread hop. "
            f"Steps with a stall over {ms(STALL_LIMIT)}: {len(stalled)} of {len(sc.steps)}"
            + (f" ({', '.join(kinds)})" if kinds else "")
            + f"; longest garbage-collector pause while scrolling: {ms(sc.gc_longest)}"
            + (f" ({sc.gc_where})." if sc.gc_where else "."),
        ]
    return "\n".join(lines) + "\n"


def run(config: BenchConfig) -> str:
    """Run the admin console benchmark on the configured backends; returns its section."""
    started = time.perf_counter()
    sizes = datagen.Sizes(config.messages, config.users, config.chatbots).resolved()
    previous = get_settings()
    # The rollup's days are UTC days (see bench.datagen): pin the venue's zone to match.
    use_settings(Settings.load(env={**os.environ, "CONVERGEAI_EVENT_TIMEZONE": "UTC"}))
    try:
        cache = core._DataCache(sizes)
        runs = [run_backend(config, backend, cache) for backend in config.backends]
    finally:
        use_settings(previous)
    took = time.perf_counter() - started
    progress(f"admin: done in {took:.0f} s")
    return _section(config, sizes, runs, took)


__all__ = [
    "NAME",
    "BackendRun",
    "DashboardResult",
    "ScrollResult",
    "StallMonitor",
    "bench_dashboard",
    "bench_users",
    "load_direct",
    "run",
    "run_backend",
]
