"""``python -m bench``: run the benchmarks and write their sections of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import bench
from bench.common import BACKENDS, DEFAULT_OUT, BenchConfig, progress, write_section

Runner = Callable[[BenchConfig], str]
#: Run first, in this order; any other benchmark module follows alphabetically.
FIRST = ("core",)


def discover() -> dict[str, Runner]:
    """Every module of the ``bench`` package with a ``run`` function, by name."""
    found: dict[str, Runner] = {}
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    names.sort(key=lambda n: (FIRST.index(n) if n in FIRST else len(FIRST), n))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        runner = getattr(module, "run", None)
        if callable(runner):
            found[name] = cast(Runner, runner)
    return found


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks and write their results into docs/benchmarks.md.",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeatable; default: all)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated backends (default: %(default)s)",
    )
    parser.add_argument("--messages", type=_positive, default=defaults.messages)
    parser.add_argument("--users", type=_positive, default=defaults.users)
    parser.add_argument("--chatbots", type=_positive, default=defaults.chatbots)
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=defaults.repeat,
        help="timed runs per figure (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=defaults.warmup,
        help="untimed runs first (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="Markdown file to update (default: docs/benchmarks.md)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=defaults.data_dir,
        help="where generated databases are cached (default: bench/.data)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks; non-zero when one of them failed (a missed target is not a
    failure: it is reported in the Markdown)."""
    args = parse_args(argv)
    available = discover()
    if args.list:
        print("\n".join(available))
        return 0
    chosen = args.only or list(available)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    config = BenchConfig(
        backends=backends,
        messages=args.messages,
        users=args.users,
        chatbots=args.chatbots,
        repeat=args.repeat,
        warmup=max(0, args.warmup),
        out=args.out,
        data_dir=args.data_dir,
    )
    failed = []
    for name in chosen:
        progress(f"== {name} ==")
        try:
            body = available[name](config)
        except Exception:  # noqa: BLE001 - report it and go on with the other benchmarks
            traceback.print_exc()
            failed.append(name)
            continue
        write_section(config.out, name, body)
        progress(f"{name}: results written to {config.out}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
