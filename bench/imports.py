"""Spreadsheet import at event scale: 100,000 attendee rows end to end, beside a floor.

The file: 100,000 rows x 9 columns (.xlsx, made once with openpyxl and cached in
``bench/.data``): first and last name, email, company, job title, phone and badge id as numbers,
a registration date, notes. Each backend (SQLite, PostgreSQL) gets a fresh migrated database
with one organizer and one assistant.

- **import**: ``read_table`` + ``apply`` (validation, usernames, badge codes as HMACs, one
  transaction of inserts (COPY on PostgreSQL), enrolment in the assistant) + ``write_credentials``
  (the badge codes workbook, without QR pictures), run in a child process so its peak RSS
  (``resource.getrusage``, the whole process) is its own.
- **floor**, measured in the same run, alternating with the import: the fastest read
  (python-calamine ``iter_rows`` into lists) plus a raw DBAPI ``executemany`` of the same rows
  into ``users``, also in a child process.
- The credentials workbook *with* a QR picture per attendee, for the same 100,000 attendees
  (QR codes cost about 1 ms each).

Target: import within 2x of the floor, peak RSS under 300 MB.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, text, update

from bench.common import BenchConfig, machine, progress, table
from shared.db import Database, make_engine, normalize_url, utcnow
from shared.migrate import upgrade
from shared.models import Chatbot, ChatbotParticipant, Role, User

NAME = "imports"
ROWS = 100_000
QR_SAMPLE = ROWS
PG_DATABASE = "convergeai_bench_imports"
RATIO_TARGET = 2.0
RSS_TARGET_MB = 300
BADGE_KEY = "bench-badge-key-0123456789abcdef"
FILE_VERSION = 1


# The file --------------------------------------------------------------------------------------


def make_file(path: Path, rows: int) -> None:
    """The 100,000-row attendee list (cached: made once per size)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Registrations")
    ws.append(["Attendee list — export"])
    ws.append([])
    ws.append(
        [
            "First name",
            "Last name",
            "E-mail Address",
            "Company",
            "Job title",
            "Phone",
            "Badge ID",
            "Registered",
            "Notes",
        ]
    )
    first = ["Ada", "Alan", "Grace", "Linus", "Zoë", "Émile", "Kofi", "Mei", "Ravi", "Olga"]
    last = ["Lovelace", "Turing", "Hopper", "Torvalds", "O'Brien", "Zola", "Annan", "Lin"]
    day = date(2026, 1, 1)
    for i in range(rows):
        ws.append(
            [
                first[i % 10],
                f"{last[i % 8]}{i}",
                f"Attendee.{i}@Example.org ",
                f"Company {i % 997}",
                "Engineer",
                33612345678.0 + i,
                float(100000 + i),
                day + timedelta(days=i % 60),
                "" if i % 3 else "vegetarian",
            ]
        )
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)


def _file(config: BenchConfig, rows: int) -> Path:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    path = config.data_dir / f"imports-{rows}-v{FILE_VERSION}.xlsx"
    if not path.exists():
        progress(f"imports: writing {path.name} ...")
        make_file(path, rows)
    return path


# Databases -------------------------------------------------------------------------------------


def _fresh_database(config: BenchConfig, backend: str) -> tuple[str, str] | None:
    """A fresh migrated database: its URL and version, or None when the backend has no server."""
    if backend == "sqlite":
        path = config.data_dir / "imports-bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        version = "SQLite " + __import__("sqlite3").sqlite_version
    else:
        server_url = config.server_url(backend)
        if not server_url:
            return None
        server = normalize_url(server_url)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            conn.execute(
                text(f"CREATE DATABASE \"{PG_DATABASE}\" ENCODING 'UTF8' TEMPLATE template0")
            )
            version = "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar())
        admin.dispose()
        url = server.set(database=PG_DATABASE).render_as_string(hide_password=False)
    database = Database(make_engine(url))
    upgrade(database)
    with database.session() as s:
        s.add(
            User(
                username="organizer",
                email="organizer@example.org",
                name="Organizer",
                role=Role.ADMIN.value,
            )
        )
        today = datetime.now(UTC).date()
        s.add(
            Chatbot(
                name="Summit",
                event_name="Summit",
                start_date=today,
                end_date=today + timedelta(days=2),
            )
        )
    database.dispose()
    return url, version


def _reset(url: str) -> None:
    """Remove the attendees a run added (outside the timings)."""
    database = Database(make_engine(url))
    with database.session() as s:
        s.execute(delete(ChatbotParticipant))
        s.execute(delete(User).where(User.role == Role.ATTENDEE.value))
        s.execute(update(Chatbot).values(participant_count=0))
    if database.backend == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE users")
            c.exec_driver_sql("VACUUM ANALYZE chatbot_participants")
    database.dispose()


# Child processes -------------------------------------------------------------------------------


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_floor(url: str, file: str) -> dict[str, Any]:
    """The floor: calamine iter_rows into lists, then one raw executemany into users."""
    import python_calamine as pc

    start = time.perf_counter()
    sheet = pc.CalamineWorkbook.from_path(file).get_sheet_by_index(0)
    rows = [r for r in sheet.iter_rows()][3:]
    read = time.perf_counter() - start
    now = utcnow().replace(tzinfo=None)
    params = [
        (f"u{i}", str(r[2]).strip().lower(), f"{r[0]} {r[1]}", "attendee", True, False, 0, now, now)
        for i, r in enumerate(rows)
    ]
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")  # our connections run in autocommit mode otherwise
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        sql = (
            "INSERT INTO users (username, email, name, role, active, must_change_password, "
            f"message_count, created_at, updated_at) VALUES ({', '.join([mark] * 9)})"
        )
        t0 = time.perf_counter()
        cur.executemany(sql, params)
        raw.commit()
        write = time.perf_counter() - t0
    finally:
        raw.close()
        engine.dispose()
    return {
        "read": read,
        "write": write,
        "total": read + write,
        "rows": len(rows),
        "rss_mb": _rss_mb(),
    }


def child_import(url: str, file: str, out: str) -> dict[str, Any]:
    """The import as the CLI runs it: read, apply (validate + write), credentials workbook."""
    from sqlalchemy import select

    from shared.services.common import Actor
    from shared.spreadsheets import (
        apply,
        header_score,
        read_table,
        suggest_mapping,
        write_credentials,
    )
    from shared.spreadsheets.importer import ImportRequest

    start = time.perf_counter()
    tbl = read_table(file, header_score=header_score("attendees"))
    read = time.perf_counter() - start
    database = Database(make_engine(url))
    with database.read() as s:
        admin = Actor(int(s.scalar(select(User.id).where(User.role == "admin")) or 0), Role.ADMIN)
        bot = int(s.scalar(select(Chatbot.id)) or 0)
    t0 = time.perf_counter()
    request = ImportRequest("attendees", tbl, suggest_mapping("attendees", tbl.headers), bot)
    result = apply(database, admin, request)
    imported = time.perf_counter() - t0
    t1 = time.perf_counter()
    write_credentials(result, out, qr_codes=False)
    credentials = time.perf_counter() - t1
    database.dispose()
    return {
        "read": read,
        "import": imported,
        "credentials": credentials,
        "total": read + imported + credentials,
        "created": result.created,
        "rejected": result.rejected,
        "enrolled": result.enrolled,
        "rss_mb": _rss_mb(),
    }


def child_qr(out: str, n: int) -> dict[str, Any]:
    """The credentials workbook with a QR picture per attendee, for ``n`` attendees."""
    from shared.spreadsheets import write_credentials
    from shared.spreadsheets.importer import Credential, new_badge_codes

    creds = [
        Credential(i, f"Attendee {i}", f"a{i}@example.org", f"a{i}", code)
        for i, code in enumerate(new_badge_codes(n))
    ]
    t0 = time.perf_counter()
    write_credentials(creds, out, qr_codes=True)
    return {
        "seconds": time.perf_counter() - t0,
        "rows": n,
        "rss_mb": _rss_mb(),
        "bytes": Path(out).stat().st_size,
    }


def _spawn(*args: str) -> dict[str, Any]:
    env = {**os.environ, "CONVERGEAI_AUTH_BADGE_KEY": BADGE_KEY}
    done = subprocess.run(
        [sys.executable, "-m", "bench.imports", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.imports child {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# The run ---------------------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run(config: BenchConfig) -> str:
    """Run the import benchmark; returns its Markdown section."""
    started = time.perf_counter()
    rows = min(ROWS, config.users)
    repeat = max(1, min(config.repeat, 7))
    file = _file(config, rows)
    sections = []
    for backend in config.backends:
        if backend not in ("sqlite", "postgresql"):
            continue
        title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
        fresh = _fresh_database(config, backend)
        if fresh is None:
            sections.append(f"### {title}\n\nnot run: no server (`make bench` starts one).")
            continue
        url, version = fresh
        floors: list[dict[str, Any]] = []
        imports: list[dict[str, Any]] = []
        out = str(config.data_dir / "imports-credentials.xlsx")
        for n in range(repeat):
            floors.append(_spawn("floor", url, str(file)))
            _reset(url)
            imports.append(_spawn("import", url, str(file), out))
            progress(
                f"  {backend:10} run {n + 1}: floor {floors[-1]['total']:.2f} s "
                f"(read {floors[-1]['read']:.2f} + executemany {floors[-1]['write']:.2f}), "
                f"import {imports[-1]['total']:.2f} s (read {imports[-1]['read']:.2f}, "
                f"validate+write {imports[-1]['import']:.2f}, credentials "
                f"{imports[-1]['credentials']:.2f}), peak RSS {imports[-1]['rss_mb']:.0f} MB"
            )
            _reset(url)
        last = imports[-1]
        if (last["created"], last["rejected"], last["enrolled"]) != (rows, 0, rows):
            raise RuntimeError(f"the import did not create and enrol every row: {last}")
        floor, total = _median(floors, "total"), _median(imports, "total")
        ratio = total / floor
        rss = max(r["rss_mb"] for r in imports)
        verdict = "met" if ratio <= RATIO_TARGET else "**MISSED**"
        rss_verdict = "met" if rss <= RSS_TARGET_MB else "**MISSED**"
        body = table(
            ["", "median", "peak RSS"],
            [
                ["floor: calamine `iter_rows` read", f"{_median(floors, 'read'):.2f} s", ""],
                ["floor: raw `executemany` into users", f"{_median(floors, 'write'):.2f} s", ""],
                [
                    "**floor total**",
                    f"**{floor:.2f} s**",
                    f"{max(r['rss_mb'] for r in floors):.0f} MB",
                ],
                ["import: `read_table`", f"{_median(imports, 'read'):.2f} s", ""],
                [
                    "import: `apply` (validate, usernames, badge HMACs, insert, enrol, commit)",
                    f"{_median(imports, 'import'):.2f} s",
                    "",
                ],
                [
                    "import: `write_credentials` (codes, no QR pictures)",
                    f"{_median(imports, 'credentials'):.2f} s",
                    "",
                ],
                ["**import total**", f"**{total:.2f} s**", f"{rss:.0f} MB"],
            ],
        )
        sections.append(
            f"### {title} ({version})\n\n{body}\n\nImport / floor: **{ratio:.2f}×** (target ≤ "
            f"{RATIO_TARGET:.0f}×: {verdict}); peak RSS {rss:.0f} MB (target < {RSS_TARGET_MB} "
            f"MB: {rss_verdict}). {rows:,} created, {last['enrolled']:,} enrolled, "
            f"participant counter exact."
        )
    qr = _spawn("qr", str(config.data_dir / "imports-qr.xlsx"), str(min(QR_SAMPLE, rows)))
    per_ms = qr["seconds"] / qr["rows"] * 1000
    took = time.perf_counter() - started
    lines = [
        "## Spreadsheet import: 100,000 attendees end to end (`bench/imports.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `make bench` (or `python -m bench "
        f"--only imports` beside running database servers) in {took / 60:.1f} min: {rows:,} "
        f"rows x 9 columns (.xlsx, {file.stat().st_size / 1_048_576:.1f} MB, titles above the "
        f"header). Median of {repeat} runs, floor and import alternating, each in a child process "
        "(peak RSS = `ru_maxrss` of that process, interpreter and libraries included).",
        "",
        f"Machine: {machine()}.",
        "",
        "\n\n".join(sections),
        "",
        "### Credentials workbook with QR pictures",
        "",
        f"{qr['rows']:,} attendees with a QR code picture each (`write_credentials(..., "
        f"qr_codes=True)`, the wizard's and `--credentials`' default): {qr['seconds']:.1f} s "
        f"({per_ms:.2f} ms per attendee), {qr['bytes'] / 1_048_576:.1f} MB file, peak RSS "
        f"{qr['rss_mb']:.0f} MB. Making the QR codes (segno's matrix, mask fixed, our PNG "
        "writer) is nearly all of the time; the workbook is streamed (each picture into the "
        "file as it is made), so memory stays flat. The import does not wait for it: the "
        "workbook is written after the commit, in the background in the console.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Child-process entry: ``floor URL FILE``, ``import URL FILE OUT``, ``qr OUT N``."""
    mode = argv[0]
    if mode == "floor":
        result = child_floor(argv[1], argv[2])
    elif mode == "import":
        result = child_import(argv[1], argv[2], argv[3])
    elif mode == "qr":
        result = child_qr(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
