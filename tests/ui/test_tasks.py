"""The background-work runner: results and errors come back on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from shared.ui.tasks import Task, TaskRunner


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.cancel_all()
    assert runner.wait(5000)


def test_result_arrives_on_the_gui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    gui = QThread.currentThread()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker_is_gui"] = QThread.currentThread() is gui
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["callback_is_gui"] = QThread.currentThread() is gui

    runner.run(work, on_done=done)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen == {"worker_is_gui": False, "value": 42, "callback_is_gui": True}


def test_errors_are_delivered_not_swallowed(qtbot: QtBot, runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("database said no")

    runner.run(boom, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValueError)


def test_cancelled_tasks_deliver_nothing(qtbot: QtBot, runner: TaskRunner) -> None:
    release = threading.Event()
    delivered: list[object] = []
    task = runner.run(lambda: release.wait(5), on_done=delivered.append)
    task.cancel()
    release.set()
    assert task.done.wait(5)
    qtbot.wait(50)
    assert delivered == []
    assert runner.active == 0


def test_progress_is_reported(qtbot: QtBot, runner: TaskRunner) -> None:
    progress: list[object] = []
    finished: list[object] = []

    def work(task: Task[str]) -> str:
        for n in range(3):
            task.report(n)
        return "ok"

    runner.submit(work, on_done=finished.append, on_progress=progress.append)
    qtbot.waitUntil(lambda: bool(finished))
    assert progress == [0, 1, 2]
