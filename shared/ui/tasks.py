"""Run blocking work off the GUI thread and get the result back on it.

Every view uses this one helper for database and network calls (Anki's ``QueryOp`` and
``taskman.py``; Picard's ``util/thread.py``). A task runs on a ``QThreadPool``; its result or
exception comes back through a queued signal, so callbacks always run on the GUI thread. A task
that was cancelled delivers nothing; views cancel their tasks when they go away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("convergeai.ui")

T = TypeVar("T")


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the call to the GUI thread."""

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(object)
    ended = Signal()


class Task(QRunnable, Generic[T]):
    """A unit of background work. Create through :func:`run_task`."""

    def __init__(self, fn: Callable[[Task[T]], T]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._fn = fn
        self.relay = _Relay()
        self.cancel_event = threading.Event()
        self.done = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        """Ask the work to stop (it checks ``cancel_event``) and drop its result."""
        self.cancel_event.set()

    def report(self, value: object) -> None:
        """From the worker: send progress (any value) to the GUI thread."""
        if not self.cancelled:
            self.relay.progress.emit(value)

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self)
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            if not self.cancelled:
                self.relay.failed.emit(exc)
        else:
            if not self.cancelled:
                self.relay.finished.emit(result)
        finally:
            self.done.set()
            self.relay.ended.emit()


class TaskRunner(QObject):
    """Owns a thread pool and the tasks in flight, so it can cancel and wait for them all."""

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._tasks: set[Task[Any]] = set()

    def submit(
        self,
        fn: Callable[[Task[T]], T],
        *,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Task[T]:
        """Run ``fn(task)`` on the pool; the callbacks run on the GUI thread."""
        task: Task[T] = Task(fn)
        self._tasks.add(task)

        def finished(result: T) -> None:
            if on_done is not None and not task.cancelled:
                on_done(result)

        def failed(exc: BaseException) -> None:
            if task.cancelled:
                return
            if on_error is not None:
                on_error(exc)
            else:
                log.error("background task failed", exc_info=exc)

        task.relay.finished.connect(finished)
        task.relay.failed.connect(failed)
        # Keep the task alive until its run() returned, even when cancelled.
        task.relay.ended.connect(lambda: self._tasks.discard(task))
        if on_progress is not None:
            task.relay.progress.connect(on_progress)
        self.pool.start(task)
        return task

    def run(
        self,
        fn: Callable[[], T],
        *,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Task[T]:
        """Like :meth:`submit` for a plain callable that needs no task handle."""
        return self.submit(lambda _task: fn(), on_done=on_done, on_error=on_error)

    @property
    def active(self) -> int:
        """Tasks in flight that were not cancelled."""
        return sum(1 for task in self._tasks if not task.cancelled)

    def cancel_all(self) -> None:
        """Cancel every task in flight; none of their callbacks will run."""
        for task in list(self._tasks):
            task.cancel()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the pool is idle (for shutdown and tests)."""
        return bool(self.pool.waitForDone(msecs))
