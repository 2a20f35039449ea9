"""Render every kiosk screen in both themes and at the venue's screen sizes, as PNG files.

``python -m kiosk.screenshots OUTDIR`` (offscreen works: ``QT_QPA_PLATFORM=offscreen``). Uses a
throw-away SQLite database with the demo conference, so it never touches the real one.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1280, 800), (800, 1280))
THEMES = ("light", "dark")


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Run the event loop until ``predicate()`` holds (for a script, not for tests)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the kiosk did not reach the expected state")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(ms: int = 150) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def render_all(
    outdir: Path,
    *,
    sizes: Sequence[tuple[int, int]] = SIZES,
    themes: Sequence[str] = THEMES,
    data_dir: Path | None = None,
) -> list[Path]:
    """Render each screen for each theme and size into ``outdir``; returns the files."""
    os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
    from PySide6.QtWidgets import QApplication

    from kiosk.models import FAILED, PENDING, Turn
    from kiosk.window import KioskWindow
    from shared.db import Database, make_engine
    from shared.demo import DEMO_LOGINS, DEMO_PASSWORD

    app = QApplication.instance() or QApplication(["kiosk-screenshots"])
    assert isinstance(app, QApplication)
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="kiosk-shots-") if data_dir is None else None
    base = Path(tmp.name) if tmp is not None else data_dir
    assert base is not None
    db_path = base / "demo.db"
    window = KioskWindow(
        db_factory=lambda: Database(make_engine(f"sqlite:///{db_path}")),
        windowed=True,
        demo=True,
        state_path=base / "state.json",
        outbox_path=base / "outbox.jsonl",
        idle_timeout=3600,
        refresh_seconds=60,
    )
    files: list[Path] = []
    try:
        window.resize(*sizes[0])
        window.show()
        connecting_shown = False

        def shoot(name: str, theme: str, size: tuple[int, int]) -> None:
            settle()
            path = outdir / f"{name}-{theme}-{size[0]}x{size[1]}.png"
            window.grab().save(str(path))
            files.append(path)

        def for_all(name: str, setup: Callable[[], None] | None = None) -> None:
            for theme in themes:
                window.set_theme(theme)
                for size in sizes:
                    window.resize(*size)
                    if setup is not None:
                        setup()
                    shoot(name, theme, size)

        if not connecting_shown:
            window.connecting.show_problem(
                "Cannot reach the database at postgresql://kiosk@db.venue/convergeai", 8
            )
            for_all("connecting")
        wait_until(lambda: window.current() == "attract" and window.chatbots.rowCount() > 0)
        settle(400)
        for_all("attract")
        window.set_large_text(True)
        for_all("attract-large")
        window.set_large_text(False)
        window.go("start")
        for_all("start")
        window.go("signin")
        window.signin.set_message("Wrong username or password.")
        for_all("signin-error")
        window.go("badge")
        for_all("badge")
        window.go("register")
        window.register.show_error("email", "'not-an-email' is not a valid email address.")
        for_all("register-error")
        window.chooser.set_walk_up_only(False)
        window.go("chooser")
        settle(500)
        for_all("chooser")

        walk_up = next(b for b in window.chatbots.chatbots() if b.multiple_mode)
        window.choose(walk_up.id)
        wait_until(lambda: window.current() == "chat")
        tr = window.transcript
        tr.append(Turn("u1", "Who is giving the opening keynote?", is_user=True))
        tr.append(
            Turn(
                "r1",
                "The opening keynote is given by the summit's chair at 09:00 in the Main "
                "Hall, level 0.",
                source="llm",
            )
        )
        tr.append(Turn("u2", "Where can I get lunch?", is_user=True))
        tr.append(
            Turn(
                "r2",
                "Lunch is served from 12:30 to 13:30 in the Expo Hall. Vegetarian, vegan and "
                "gluten-free dishes are at the green-labelled counters.",
                source="offline",
            )
        )
        tr.append(Turn("u3", "Is there a cloakroom?", is_user=True, state=PENDING))
        tr.append(Turn("u4", "And Wi-Fi?", is_user=True, state=FAILED))
        settle(300)
        for_all("chat", lambda: window.chat.view.follow())
        window.chat.typing.start()
        window.chat.input.setFocus()
        for_all("chat-keyboard", lambda: window.chat.view.follow())
        window.chat.typing.stop()
        window.chat.input.clearFocus()
        window.idle_overlay.start(20)
        for_all("idle", lambda: window.idle_overlay.setGeometry(window.rect()))
        window.idle_overlay.stop()
        window.wipe()
        window.pin_pad.open_pad()
        window.pin_pad.press("1")
        window.pin_pad.press("2")
        window.pin_pad.set_message("Wrong PIN.", True)
        for_all("pin", lambda: window.pin_pad.setGeometry(window.rect()))
        window.pin_pad.close_pad()
        window.open_admin()
        for_all("admin", lambda: window.admin.setGeometry(window.rect()))
        window.admin.hide()

        login = DEMO_LOGINS[0].username
        window.go("signin")
        window._sign_in(login, DEMO_PASSWORD, "")
        wait_until(lambda: window.signed is not None and window.current() in ("chooser", "chat"))
        if window.current() == "chooser":
            for_all("chooser-signed-in")
            bot = window.chatbots.chatbots()[0]
            window.choose(bot.id)
            wait_until(lambda: window.current() == "chat")
        settle(300)
        for_all("chat-resumed", lambda: window.chat.view.follow())
        window.go("profile")
        for_all("profile")
        window.wipe()
    finally:
        window.shutdown()
        window.hide()
        window.deleteLater()
        settle(50)
        if tmp is not None:
            tmp.cleanup()
    return files


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m kiosk.screenshots OUTDIR", file=sys.stderr)
        return 2
    files = render_all(Path(args[0]))
    print(f"{len(files)} screenshots in {args[0]}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
