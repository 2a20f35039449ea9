"""The frozen bundle: its size against the 250 MB target, and the frozen kiosk's start-up time
against the kiosk run from source (target: within 1.3x), measured side by side in one run.

Builds the bundle with ``build.spec`` into ``bench/.data/package`` (about a minute), loads the
demo conference into a throw-away SQLite database, then runs ``convergeai-kiosk --smoke`` from
the bundle and the same entry script (``packaging/entry.py``) from the sources with the project's
Python, alternated, offscreen.

First frame: the kiosk itself offers no first-frame hook, so the entry script does
(``CONVERGEAI_REPORT_FIRST_FRAME=1``: it prints ``time.perf_counter()`` when a top-level window is
first painted; the parent takes the same monotonic clock just before spawning the process). The
whole ``--smoke`` run (start, first screen ready, 300 ms, exit) is reported beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, BenchConfig, Timing, machine, ms, progress, table

NAME = "package"
SIZE_TARGET_MB = 250.0
RATIO_TARGET = 1.3
#: --smoke runs take seconds each: fewer than the core benchmark's 40.
MAX_RUNS = 7


def _mb(size: int) -> float:
    return size / 1_000_000


def tree_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def build(work: Path) -> tuple[Path, float]:
    """Build the bundle with build.spec into ``work``; returns its folder and the build time."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return work / "dist" / "convergeai", time.perf_counter() - started


def breakdown(bundle: Path) -> list[tuple[str, int]]:
    """Size of the main parts of the bundle, largest first."""
    internal = bundle / "_internal"
    qt = internal / "PySide6" / "Qt"
    parts = {
        "Qt libraries (PySide6/Qt/lib)": tree_size(qt / "lib") if (qt / "lib").is_dir() else 0,
        "Qt plugins": tree_size(qt / "plugins") if (qt / "plugins").is_dir() else 0,
        "QML modules (virtual keyboard)": tree_size(qt / "qml") if (qt / "qml").is_dir() else 0,
        "Qt translations": tree_size(qt / "translations") if (qt / "translations").is_dir() else 0,
    }
    pyside = tree_size(internal / "PySide6") if (internal / "PySide6").is_dir() else 0
    parts["PySide6 bindings and the rest"] = pyside - sum(parts.values())
    parts["everything else (Python, SQLAlchemy, drivers, ...)"] = tree_size(bundle) - pyside
    return sorted(parts.items(), key=lambda kv: -kv[1])


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVERGEAI_")}
    env.pop("DATABASE_URL", None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        CONVERGEAI_CONFIG=str(home / "config.toml"),
        CONVERGEAI_DATABASE_URL=f"sqlite:///{home / 'convergeai.db'}",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


#: Runs packaging/entry.py from the sources as ``convergeai-kiosk`` (what the bundle runs).
SOURCE_LAUNCH = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('convergeai_entry', sys.argv[1])\n"
    "entry = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(entry)\n"
    "sys.argv = ['convergeai-kiosk', *sys.argv[2:]]\n"
    "raise SystemExit(entry.main())\n"
)


def start_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run the kiosk once: (seconds from spawn to its first frame, to its exit)."""
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env={**env, "CONVERGEAI_REPORT_FIRST_FRAME": "1"},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    ended = time.perf_counter()
    frames = [
        line.split()[1] for line in done.stderr.splitlines() if line.startswith("first-frame ")
    ]
    if not frames:
        raise RuntimeError(f"{command[0]}: no first-frame report on stderr")
    return float(frames[0]) - started, ended - started


def start_times(
    commands: list[list[str]], env: dict[str, str], repeat: int
) -> list[tuple[Timing, Timing]]:
    """(first frame, whole run) timings per command, runs alternated, after one warm-up each."""
    for command in commands:
        start_once(command, env)
    frames: list[list[float]] = [[] for _ in commands]
    totals: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for i, command in enumerate(commands):
            frame, total = start_once(command, env)
            frames[i].append(frame)
            totals[i].append(total)
    return [(Timing(tuple(f)), Timing(tuple(t))) for f, t in zip(frames, totals, strict=True)]


def run(config: BenchConfig) -> str:
    """Build the bundle, measure it and time the kiosk; returns the Markdown section."""
    started = time.perf_counter()
    work = config.data_dir / "package"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    progress("package: building the bundle with build.spec")
    bundle, build_s = build(work)
    size = tree_size(bundle)
    progress(f"package: bundle {_mb(size):.0f} MB, built in {build_s:.0f} s")

    home = work / "home"
    home.mkdir()
    env = _environment(home)
    cli = str(bundle / "convergeai")
    subprocess.run([cli, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([cli, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    frozen = [str(bundle / "convergeai-kiosk"), "--smoke"]
    source = [sys.executable, "-c", SOURCE_LAUNCH, str(ROOT / "packaging" / "entry.py"), "--smoke"]
    repeat = max(3, min(config.repeat, MAX_RUNS))
    progress(f"package: timing the kiosk, frozen and from source, {repeat} runs each")
    (frozen_t, frozen_total), (source_t, source_total) = start_times([frozen, source], env, repeat)
    ratio = frozen_t.median / source_t.median
    took = time.perf_counter() - started

    size_ok = _mb(size) <= SIZE_TARGET_MB
    ratio_ok = ratio <= RATIO_TARGET
    lines = [
        "## Bundle: size and kiosk start-up (`bench/package.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench --only package` in "
        f"{took / 60:.1f} min. Bundle built with `build.spec` (PyInstaller onedir, all three "
        f"programs sharing one `_internal/`) in {build_s:.0f} s.",
        "",
        f"Machine: {machine()}.",
        "",
        table(
            ["", "measured", "target"],
            [
                [
                    "bundle, unpacked (kiosk + admin console + CLI)",
                    f"{_mb(size):.0f} MB",
                    f"≤ {SIZE_TARGET_MB:.0f} MB: " + ("met" if size_ok else "**MISSED**"),
                ],
                [
                    "kiosk first frame, frozen (median / p95)",
                    f"{ms(frozen_t.median)} / {ms(frozen_t.p95)}",
                    "",
                ],
                [
                    "kiosk first frame, from source (median / p95)",
                    f"{ms(source_t.median)} / {ms(source_t.p95)}",
                    "baseline",
                ],
                [
                    "ratio frozen / source",
                    f"{ratio:.2f}× ({(frozen_t.median - source_t.median) * 1000:+.0f} ms)",
                    f"≤ {RATIO_TARGET}×: " + ("met" if ratio_ok else "**MISSED**"),
                ],
                [
                    "whole `--smoke` run, frozen / from source (medians)",
                    f"{ms(frozen_total.median)} / {ms(source_total.median)}",
                    "",
                ],
            ],
        ),
        "",
        f"Start-up: median and p95 of {repeat} runs each after one warm-up, frozen and source "
        "alternated, offscreen, demo conference in SQLite. First frame: from just before the "
        "process is spawned to the first paint of a top-level window, as reported by the entry "
        "script under `CONVERGEAI_REPORT_FIRST_FRAME=1` (the same script, `packaging/entry.py`, "
        "runs frozen and from source).",
        "",
        "Where the bundle's size goes:",
        "",
        table(["part", "size"], [[name, f"{_mb(n):.1f} MB"] for name, n in breakdown(bundle)]),
    ]
    progress(f"package: frozen/source = {ratio:.2f}x; done in {took:.0f} s")
    return "\n".join(lines) + "\n"


__all__ = ["NAME", "breakdown", "build", "run", "start_once", "start_times", "tree_size"]
