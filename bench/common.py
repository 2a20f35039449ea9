"""What every benchmark shares: its options, timing, and its section of docs/benchmarks.md.

Timings are noisy on a shared machine, so each figure is measured beside a baseline in the same
run, the two interleaved run by run (:func:`compare`), and reported as a ratio of medians.
Each benchmark owns one section of the Markdown file, between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->``; :func:`write_section` replaces that section and nothing else.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / ".data"
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
BACKENDS = ("sqlite", "postgresql")
SERVER_ENV = {"postgresql": "CONVERGEAI_TEST_POSTGRES_URL"}


@dataclass(frozen=True)
class BenchConfig:
    """Options shared by every benchmark (``python -m bench --help`` describes them)."""

    backends: tuple[str, ...] = BACKENDS
    messages: int = 2_000_000
    users: int = 100_000
    chatbots: int = 50
    repeat: int = 40
    warmup: int = 5
    out: Path = DEFAULT_OUT
    data_dir: Path = DATA_DIR
    #: Server URLs by backend (default: the CONVERGEAI_TEST_*_URL variables).
    server_urls: dict[str, str] = field(default_factory=dict)

    def server_url(self, backend: str) -> str | None:
        """The server URL for a networked backend, or None when there is none for this run."""
        if backend in self.server_urls:
            return self.server_urls[backend]
        env = SERVER_ENV.get(backend)
        return os.environ.get(env) if env else None


def progress(message: str) -> None:
    """Progress for the person watching: to stdout, flushed at once."""
    print(message, flush=True)


# Timing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Repeated runs of one operation, in seconds."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def p95(self) -> float:
        """95th percentile, nearest rank (of 40 runs: the 38th fastest, the third slowest)."""
        ordered = sorted(self.runs)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _once(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(fn: Callable[[], Any], *, repeat: int, warmup: int) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``repeat`` times timed."""
    return compare([fn], repeat=repeat, warmup=warmup)[0]


def compare(fns: Sequence[Callable[[], Any]], *, repeat: int, warmup: int) -> list[Timing]:
    """Time several operations interleaved (a, b, a, b, ...), so a burst of load on the machine
    hits all of them alike; warm-up runs first. A garbage collection runs before, not during."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    runs: list[list[float]] = [[] for _ in fns]
    gc.collect()
    for _ in range(max(1, repeat)):
        for i, fn in enumerate(fns):
            runs[i].append(_once(fn))
    return [Timing(tuple(r)) for r in runs]


def ms(seconds: float) -> str:
    """Seconds as milliseconds for a table: 3 significant figures."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


# The Markdown file -----------------------------------------------------------------------------

TITLE = "# Benchmarks\n"


def _markers(name: str) -> tuple[str, str]:
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise ValueError(f"bad section name {name!r}")
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(path: Path, name: str, body: str) -> None:
    """Put ``body`` between this benchmark's markers in ``path``, replacing only what was there;
    append the section (creating the file) when it is not there yet."""
    begin, end = _markers(name)
    block = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    start = text.find(begin)
    if start >= 0:
        stop = text.find(end, start)
        if stop < 0:
            raise ValueError(f"{path}: {begin} has no closing {end}")
        text = text[:start] + block + text[stop + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_section(path: Path, name: str) -> str | None:
    """The body of a section, or None when the file or the section is missing."""
    begin, end = _markers(name)
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        return None
    return text[start + len(begin) : stop].strip()


def machine() -> str:
    """A one-line description of this machine and Python, for the results."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores available, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


__all__ = [
    "BenchConfig",
    "Timing",
    "compare",
    "machine",
    "measure",
    "ms",
    "progress",
    "read_section",
    "table",
    "write_section",
]
