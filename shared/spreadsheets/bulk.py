"""Bulk work without the cyclic garbage collector.

Reading 100,000 rows makes a million cells, lists and tuples; every 700 new containers CPython's
cyclic collector runs, and its older generations walk all of them again: about 0.4 s of a
100,000-row import (``bench/imports.py``). None of that work makes reference cycles, so
reference counting frees all of it anyway. :func:`collector_paused` switches the collector off
for the duration (it is process-wide, so the pauses of several threads are counted and the
collector comes back when the last one ends, as it was before the first).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (reference counting still frees)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


__all__ = ["collector_paused"]
