"""The core's database work at event scale, each figure beside hand-written SQL.

At 2,000,000 messages, 100,000 users and 50 assistants (issue 2), on SQLite and PostgreSQL:

- the dashboard: ``stats.dashboard`` + ``stats.messages_per_day`` (30 days) +
  ``stats.most_active_users`` (10), in one read session; target 50 ms all together;
- a chat page: ``chat.list_messages`` (50 messages), the newest page and an older one
  (``before_id``) of the longest conversation; target 2 ms each;
- the users table: ``users.list_users`` at offset 0, at a deep offset, and a search;
- one assistant's figures (``stats.chatbot_figures``).

Each service call is timed interleaved with its baseline: the same statements, written by hand,
run with ``exec_driver_sql`` on a connection from the same engine (the same pooled connection),
fetching the same rows as tuples. The ratio of the medians is the cost of the service layer
(ORM, dataclasses, checks). When a target is missed, the section shows each statement's time and
its query plan.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import datagen
from bench.common import BenchConfig, Timing, compare, machine, ms, progress, table
from shared.db import Database, make_engine, normalize_url
from shared.migrate import SchemaState, head_revision, report, upgrade
from shared.models import Role
from shared.services import chat, stats, users
from shared.services.common import Actor
from shared.settings import Settings, get_settings, use_settings

NAME = "core"
PG_DATABASE = "convergeai_bench"
DASHBOARD_TARGET = 0.050
CHAT_PAGE_TARGET = 0.002
PAGE = 50
USERS_PAGE = 100
SEARCH = "smith"

Query = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Case:
    """One figure: a service call, the hand-written statements it is compared with, a target."""

    group: str
    label: str
    service: Callable[[], object]
    queries: tuple[Query, ...]
    target: float | None = None


@dataclass(frozen=True)
class Result:
    """A case's timings, and for a missed target the statements' times and plans."""

    case: Case
    service: Timing
    baseline: Timing
    diagnosis: str = ""

    @property
    def ratio(self) -> float:
        return self.service.median / self.baseline.median if self.baseline.median else 0.0

    @property
    def met(self) -> bool | None:
        return None if self.case.target is None else self.service.median <= self.case.target


@dataclass
class BackendRun:
    """The results on one backend, or why it did not run."""

    backend: str
    version: str = ""
    data_note: str = ""
    results: list[Result] | None = None
    skipped: str = ""


# Databases -------------------------------------------------------------------------------------


def _marker(sizes: datagen.Sizes, today: date) -> str:
    return f"core-{sizes.key()}-r{head_revision()}-d{datagen.DATAGEN_VERSION}-{today.isoformat()}"


class _DataCache:
    """The generated rows, made at most once per run and shared by the backends."""

    def __init__(self, sizes: datagen.Sizes) -> None:
        self.sizes = sizes
        self._data: datagen.Dataset | None = None

    def get(self) -> datagen.Dataset:
        if self._data is None:
            progress(f"generating {self.sizes.key()} ...")
            self._data = datagen.generate(self.sizes, progress=progress)
        return self._data


def _sqlite_database(
    config: BenchConfig, sizes: datagen.Sizes, cache: _DataCache
) -> tuple[Database, str]:
    """The cached SQLite file for these sizes, schema and day, generated when missing."""
    marker = _marker(sizes, datetime.now(UTC).date())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    path = config.data_dir / f"{marker}.db"
    if path.exists():
        progress(f"sqlite: reusing {path}")
        return Database(make_engine(f"sqlite:///{path}")), f"reused the cached file `{path.name}`"
    for stale in config.data_dir.glob(f"core-{sizes.key()}-*.db*"):
        progress(f"sqlite: removing the stale {stale.name}")
        stale.unlink()
    tmp = path.with_name(path.name + ".partial")
    for leftover in config.data_dir.glob(tmp.name + "*"):
        leftover.unlink()
    database = Database(make_engine(f"sqlite:///{tmp}"))
    upgrade(database)
    data = cache.get()
    progress(f"sqlite: loading into {tmp}")
    seconds = datagen.load(database, data, progress)
    database.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.replace(path)
    note = (
        f"generated in {data.seconds:.0f} s, loaded with `executemany` in {seconds:.0f} s "
        f"(cached as `{path.name}`)"
    )
    return Database(make_engine(f"sqlite:///{path}")), note


def _postgresql_database(
    config: BenchConfig, sizes: datagen.Sizes, cache: _DataCache, server_url: str
) -> tuple[Database, str]:
    """The ``convergeai_bench`` database on the server: kept when its marker matches, else
    created afresh, migrated and loaded."""
    marker = _marker(sizes, datetime.now(UTC).date())
    server = normalize_url(server_url)
    url = server.set(database=PG_DATABASE)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            comment = conn.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :name"
                ),
                {"name": PG_DATABASE},
            ).first()
        if comment is not None and comment[0] == marker:
            database = Database(make_engine(url))
            if report(database).state is SchemaState.CURRENT:
                progress(f"postgresql: reusing the database {PG_DATABASE} ({marker})")
                return database, f"reused the database `{PG_DATABASE}` (same sizes and schema)"
            database.dispose()
        with admin.connect() as conn:
            progress(f"postgresql: creating the database {PG_DATABASE}")
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            conn.execute(
                text(f"CREATE DATABASE \"{PG_DATABASE}\" ENCODING 'UTF8' TEMPLATE template0")
            )
        database = Database(make_engine(url))
        upgrade(database)
        data = cache.get()
        progress(f"postgresql: loading into {PG_DATABASE}")
        seconds = datagen.load(database, data, progress)
        with admin.connect() as conn:
            conn.execute(text(f"COMMENT ON DATABASE \"{PG_DATABASE}\" IS '{marker}'"))
    finally:
        admin.dispose()
    note = f"generated in {data.seconds:.0f} s, loaded with `COPY` in {seconds:.0f} s"
    return database, note


# The cases -------------------------------------------------------------------------------------


def _driver_sql(db: Database, sql: str) -> str:
    return sql if db.engine.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def _param(db: Database, value: Any) -> Any:
    if db.backend == "sqlite" and isinstance(value, date):
        return value.isoformat()  # the stored text; sqlite3's date adapter is deprecated
    return value


def _runner(db: Database, queries: Sequence[Query]) -> Callable[[], object]:
    prepared = [
        (_driver_sql(db, sql), tuple(_param(db, p) for p in params)) for sql, params in queries
    ]

    def run() -> object:
        out = []
        with db.engine.connect() as conn:
            for sql, params in prepared:
                out.append(conn.exec_driver_sql(sql, params).all())
        return out

    return run


def _cases(db: Database) -> list[Case]:
    admin = Actor(1, Role.ADMIN)
    with db.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT id, user_id, message_count FROM conversations WHERE mode = 'single' "
            "ORDER BY message_count DESC, id LIMIT 1"
        ).one()
        conv_id, owner_id, conv_len = int(row[0]), int(row[1]), int(row[2])
        older = conn.exec_driver_sql(
            _driver_sql(
                db,
                "SELECT id FROM messages WHERE conversation_id = ? ORDER BY id DESC "
                "LIMIT 1 OFFSET ?",
            ),
            (conv_id, min(4 * PAGE, conv_len // 2)),
        ).scalar_one()
        busiest = int(
            conn.exec_driver_sql(
                "SELECT id FROM chatbots ORDER BY message_count DESC, id LIMIT 1"
            ).scalar_one()
        )
        n_users = int(conn.exec_driver_sql("SELECT COUNT(*) FROM users").scalar_one())
    owner = Actor(owner_id, Role.ATTENDEE)
    before_id = int(older)
    deep = max(0, (n_users * 9 // 10) // USERS_PAGE * USERS_PAGE)
    today = datetime.now(UTC).date()  # the venue's today: the benchmark pins the zone to UTC
    first = today - timedelta(days=29)

    admin_check: Query = ("SELECT role, active FROM users WHERE id = ?", (admin.user_id,))
    dash_queries: tuple[Query, ...] = (
        admin_check,
        (
            "SELECT COUNT(*), "
            "COALESCE(SUM(CASE WHEN active = ? AND start_date <= ? AND end_date >= ? "
            "THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN active = ? AND start_date > ? THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(message_count), 0) FROM chatbots",
            (True, today, today, True, today),
        ),
        (
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN active = ? THEN 1 ELSE 0 END), 0) FROM users",
            (True,),
        ),
        ("SELECT COALESCE(SUM(messages), 0) FROM daily_message_counts WHERE day = ?", (today,)),
    )
    per_day_queries: tuple[Query, ...] = (
        admin_check,
        (
            "SELECT day, SUM(messages) FROM daily_message_counts WHERE day >= ? AND day <= ? "
            "GROUP BY day",
            (first, today),
        ),
    )
    top_queries: tuple[Query, ...] = (
        admin_check,
        (
            "SELECT id, username, name, message_count FROM users WHERE message_count > 0 "
            "ORDER BY message_count DESC, id LIMIT 10",
            (),
        ),
    )

    def dashboard_all() -> object:
        with db.read() as s:
            return (
                stats.dashboard(s, admin),
                stats.messages_per_day(s, admin, days=30),
                stats.most_active_users(s, admin, limit=10),
            )

    def one(fn: Callable[..., object], *args: Any, **kwargs: Any) -> Callable[[], object]:
        def run() -> object:
            with db.read() as s:
                return fn(s, *args, **kwargs)

        return run

    message_cols = (
        "id, conversation_id, chatbot_id, user_id, is_user_message, content, source, answered, "
        "reply_to_id, client_id, created_at"
    )
    conv_check: Query = (
        "SELECT id, chatbot_id, user_id, mode, ended_at FROM conversations WHERE id = ?",
        (conv_id,),
    )
    owner_check: Query = ("SELECT role, active FROM users WHERE id = ?", (owner_id,))
    newest_queries: tuple[Query, ...] = (
        conv_check,
        owner_check,
        (
            f"SELECT {message_cols} FROM messages WHERE conversation_id = ? "
            "ORDER BY id DESC LIMIT ?",
            (conv_id, PAGE + 1),
        ),
    )
    older_queries: tuple[Query, ...] = (
        conv_check,
        owner_check,
        (
            f"SELECT {message_cols} FROM messages WHERE conversation_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (conv_id, before_id, PAGE + 1),
        ),
    )

    user_cols = (
        "id, username, email, name, password_hash, role, active, must_change_password, "
        "badge_code_hash, message_count, created_at, updated_at, last_login_at"
    )
    like = f"%{SEARCH}%"
    search_where = (
        "(username LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' "
        "OR lower(name) LIKE ? ESCAPE '\\')"
    )

    def users_page(offset: int) -> tuple[Query, ...]:
        return (
            admin_check,
            (
                f"SELECT {user_cols} FROM users ORDER BY name, id LIMIT ? OFFSET ?",
                (USERS_PAGE, offset),
            ),
            ("SELECT COUNT(*) FROM users", ()),
        )

    search_queries: tuple[Query, ...] = (
        admin_check,
        (
            f"SELECT {user_cols} FROM users WHERE {search_where} ORDER BY name, id "
            "LIMIT ? OFFSET ?",
            (like, like, like, USERS_PAGE, 0),
        ),
        (f"SELECT COUNT(*) FROM users WHERE {search_where}", (like, like, like)),
    )
    figures_queries: tuple[Query, ...] = (
        admin_check,
        (
            "SELECT id, name, message_count, user_message_count, participant_count "
            "FROM chatbots WHERE id = ?",
            (busiest,),
        ),
        ("SELECT COUNT(*) FROM guests WHERE chatbot_id = ?", (busiest,)),
        ("SELECT COUNT(*) FROM conversations WHERE chatbot_id = ?", (busiest,)),
    )
    dash_total = dash_queries + per_day_queries[1:] + top_queries[1:]
    return [
        Case(
            "Dashboard",
            "all figures: `dashboard` + `messages_per_day(30)` + `most_active_users(10)`",
            dashboard_all,
            dash_total,
            DASHBOARD_TARGET,
        ),
        Case("Dashboard", "· `dashboard()` alone", one(stats.dashboard, admin), dash_queries),
        Case(
            "Dashboard",
            "· `messages_per_day(days=30)` alone",
            one(stats.messages_per_day, admin, days=30),
            per_day_queries,
        ),
        Case(
            "Dashboard",
            "· `most_active_users(limit=10)` alone",
            one(stats.most_active_users, admin, limit=10),
            top_queries,
        ),
        Case(
            "Chat page",
            f"newest {PAGE} of a {conv_len}-message conversation",
            one(chat.list_messages, owner, conv_id, limit=PAGE),
            newest_queries,
            CHAT_PAGE_TARGET,
        ),
        Case(
            "Chat page",
            f"older {PAGE} (`before_id`, {min(4 * PAGE, conv_len // 2)} back)",
            one(chat.list_messages, owner, conv_id, before_id=before_id, limit=PAGE),
            older_queries,
            CHAT_PAGE_TARGET,
        ),
        Case(
            "Users table",
            f"page 1 ({USERS_PAGE} by name, with the total)",
            one(users.list_users, admin, users.UserQuery(), offset=0, limit=USERS_PAGE),
            users_page(0),
        ),
        Case(
            "Users table",
            f"page at offset {deep:,}",
            one(users.list_users, admin, users.UserQuery(), offset=deep, limit=USERS_PAGE),
            users_page(deep),
        ),
        Case(
            "Users table",
            f"search {SEARCH!r} (page 1, with the total)",
            one(
                users.list_users, admin, users.UserQuery(search=SEARCH), offset=0, limit=USERS_PAGE
            ),
            search_queries,
        ),
        Case(
            "Assistant",
            "`chatbot_figures` of the busiest assistant",
            one(stats.chatbot_figures, admin, busiest),
            figures_queries,
        ),
    ]


# Diagnosis -------------------------------------------------------------------------------------


def _plan(db: Database, sql: str, params: tuple[Any, ...]) -> str:
    with db.engine.connect() as conn:
        if db.backend == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            return "\n".join(str(r[3]) for r in rows)
        if db.backend == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).all()
            return "\n".join(str(r[0]) for r in rows)
    return "(no plan for this backend)"


def _area(filename: str, function: str) -> str:
    path = filename.replace("\\", "/")
    if "sqlalchemy/orm/" in path:
        return "SQLAlchemy ORM"
    if "sqlalchemy/" in path:
        return "SQLAlchemy Core and engine"
    if "psycopg" in path or "sqlite3" in path or "psycopg" in function or "sqlite3" in function:
        return "driver and database (incl. waiting for the server)"
    if "/shared/" in path:
        return "shared (services)"
    return "Python (dataclasses, datetime, stdlib)"


def profile(fn: Callable[[], object], runs: int = 30) -> str:
    """Where a call's time goes, by area and by function (cProfile, wall clock; its overhead
    inflates pure-Python code, so read the shares as approximate)."""
    import cProfile
    import pstats

    fn()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        fn()
    profiler.disable()
    stats_ = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats_.stats  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    functions = []
    for (filename, line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        area = _area(filename, function)
        areas[area] = areas.get(area, 0.0) + tottime
        where = f"{Path(filename).name}:{line}" if filename != "~" else "built-in"
        functions.append((tottime, f"{function} ({where})"))
    total = sum(areas.values()) or 1.0
    lines = [f"Profile of the service call ({runs} runs, {ms(total / runs)} a call profiled):"]
    lines.append("")
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        lines.append(f"- {area}: {100 * seconds / total:.0f} %")
    lines += ["", "Top functions by own time:", ""]
    for seconds, name in sorted(functions, reverse=True)[:8]:
        lines.append(f"- {ms(seconds / runs)} per call: `{name}`")
    return "\n".join(lines)


def diagnose(db: Database, case: Case, repeat: int = 15) -> str:
    """Each statement's median time and query plan, slowest first, and a profile of the service
    call, as Markdown."""
    timed = []
    for sql, params in case.queries:
        prepared = (_driver_sql(db, sql), tuple(_param(db, p) for p in params))

        def run(p: tuple[str, tuple[Any, ...]] = prepared) -> object:
            with db.engine.connect() as conn:
                return conn.exec_driver_sql(p[0], p[1]).all()

        timing = compare([run], repeat=repeat, warmup=2)[0]
        timed.append((timing.median, prepared))
    timed.sort(key=lambda item: -item[0])
    total = sum(median for median, _prepared in timed)
    parts = [
        f"<details><summary>Why: {case.label}</summary>\n",
        f"The statements alone: {ms(total)} in all (each timed on its own connection "
        "checkout, so with its own pre-ping, BEGIN and ROLLBACK on PostgreSQL).\n",
        profile(case.service) + "\n",
        "Statements, slowest first:\n",
    ]
    for median, (sql, params) in timed:
        parts.append(f"**{ms(median)}**: `{sql}` with `{params}`\n")
        parts.append("```\n" + _plan(db, sql, params) + "\n```\n")
    parts.append("</details>")
    return "\n".join(parts)


# Running ---------------------------------------------------------------------------------------


def _server_version(db: Database) -> str:
    with db.engine.connect() as conn:
        if db.backend == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar())
        if db.backend == "postgresql":
            version = str(conn.exec_driver_sql("SHOW server_version").scalar())
            return "PostgreSQL " + version.split()[0]
    return db.backend


def run_backend(config: BenchConfig, backend: str, cache: _DataCache) -> BackendRun:
    """Prepare the backend's database, then time every case on it."""
    out = BackendRun(backend)
    if backend == "sqlite":
        db, out.data_note = _sqlite_database(config, cache.sizes, cache)
    elif backend == "postgresql":
        url = config.server_url(backend)
        if not url:
            out.skipped = (
                "not run: no server (CONVERGEAI_TEST_POSTGRES_URL is not set; `make bench` "
                "starts one)"
            )
            progress(f"postgresql: {out.skipped}")
            return out
        db, out.data_note = _postgresql_database(config, cache.sizes, cache, url)
    else:
        raise ValueError(f"the core benchmark runs on sqlite and postgresql, not {backend!r}")
    try:
        out.version = _server_version(db)
        out.results = []
        for case in _cases(db):
            service, baseline = compare(
                [case.service, _runner(db, case.queries)],
                repeat=config.repeat,
                warmup=config.warmup,
            )
            result = Result(case, service, baseline)
            if result.met is False:
                result = Result(case, service, baseline, diagnose(db, case))
            out.results.append(result)
            verdict = "" if result.met is None else (" met" if result.met else " MISSED")
            progress(
                f"  {backend:10} {case.group}: {case.label}: {ms(service.median)} "
                f"(p95 {ms(service.p95)}) vs SQL {ms(baseline.median)}, "
                f"x{result.ratio:.2f}{verdict}"
            )
    finally:
        db.dispose()
    return out


def _section(config: BenchConfig, sizes: datagen.Sizes, runs: list[BackendRun], took: float) -> str:
    import sqlalchemy

    lines = [
        "## Core: dashboard, chat page, users table (`bench/core.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench --only core"
        + (
            f" --messages {sizes.messages} --users {sizes.users} --chatbots {sizes.chatbots}"
            if (sizes.messages, sizes.users, sizes.chatbots) != (2_000_000, 100_000, 50)
            else ""
        )
        + f"` in {took / 60:.1f} min: {sizes.messages:,} messages, {sizes.users:,} users, "
        f"{sizes.chatbots} assistants, {sizes.conversations:,} conversations. "
        f"Median and p95 of {config.repeat} runs after {config.warmup} warm-up runs, service "
        "and baseline interleaved; ratio = service median / baseline median.",
        "",
        f"Machine: {machine()}; SQLAlchemy {sqlalchemy.__version__}.",
    ]
    header = ["", "service median", "p95", "SQL median", "p95", "ratio", "target"]
    for run in runs:
        title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(run.backend, run.backend)
        lines += ["", f"### {title}" + (f" ({run.version})" if run.version else ""), ""]
        if run.skipped or run.results is None:
            lines.append(run.skipped or "not run")
            continue
        lines += [f"Data: {run.data_note}.", ""]
        rows = []
        group = ""
        for r in run.results:
            label = r.case.label if r.case.group == group else f"**{r.case.group}**: {r.case.label}"
            group = r.case.group
            if r.case.target is None:
                target = "—"
            else:
                target = f"≤ {ms(r.case.target)}: " + ("met" if r.met else "**MISSED**")
                if r.met and r.service.p95 > r.case.target:
                    target += " (p95 over)"
            rows.append(
                [
                    label,
                    ms(r.service.median),
                    ms(r.service.p95),
                    ms(r.baseline.median),
                    ms(r.baseline.p95),
                    f"{r.ratio:.2f}×",
                    target,
                ]
            )
        lines.append(table(header, rows))
        for r in run.results:
            if r.diagnosis:
                lines += ["", r.diagnosis]
    return "\n".join(lines) + "\n"


def run(config: BenchConfig) -> str:
    """Run the core benchmark on the configured backends; returns its Markdown section."""
    started = time.perf_counter()
    sizes = datagen.Sizes(config.messages, config.users, config.chatbots).resolved()
    previous = get_settings()
    # The rollup's days are UTC days (see bench.datagen): pin the venue's zone to match.
    use_settings(Settings.load(env={**os.environ, "CONVERGEAI_EVENT_TIMEZONE": "UTC"}))
    try:
        cache = _DataCache(sizes)
        runs = [run_backend(config, backend, cache) for backend in config.backends]
    finally:
        use_settings(previous)
    took = time.perf_counter() - started
    progress(f"core: done in {took:.0f} s")
    return _section(config, sizes, runs, took)


__all__ = ["NAME", "BackendRun", "Case", "Result", "diagnose", "run", "run_backend"]
