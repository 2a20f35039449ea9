"""Render every screen of the console to PNG, in both themes, at laptop sizes, from demo data.

``python -m admin_console.screenshots OUTDIR [--sizes 1440x900,1280x800] [--themes light,dark]``

Uses a throw-away SQLite database with the demo conference (``shared.demo.load_demo``) and a
throw-away organizer, in a temporary settings folder: nothing of the user's is read or changed.
Look at the pictures: text that does not fit, overlaps, unreadable colours.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

DEMO_ADMIN = ("organizer", "organizer@example.org", "Olivia Organizer", "screens-only-1234")


def _isolate(folder: Path) -> None:
    for kind in ("DATA", "CONFIG", "STATE", "CACHE"):
        os.environ[f"XDG_{kind}_HOME"] = str(folder / kind.lower())
    os.environ["CONVERGEAI_CONFIG"] = str(folder / "config.toml")
    os.environ.setdefault("CONVERGEAI_AUTH_BCRYPT_COST", "4")
    os.environ.setdefault("CONVERGEAI_AUTH_BADGE_KEY", "screenshots-only-key-0123456789")


def wait_idle(app: object, runner: object, timeout: float = 15.0) -> None:
    """Let background loads and their follow-ups finish (a script, not a test: polling is ok)."""
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 8:
        app.processEvents()
        busy = getattr(runner, "active", 0)
        quiet = quiet + 1 if busy == 0 else 0
        time.sleep(0.02)


def render(outdir: Path, sizes: Sequence[tuple[int, int]], themes: Sequence[str]) -> list[Path]:
    """Render the screens; returns the PNG paths."""
    from PySide6.QtWidgets import QApplication

    from admin_console.app import create_app
    from admin_console.context import Context
    from admin_console.mainwindow import MainWindow
    from admin_console.theme import apply_admin_theme
    from shared.db import Database, make_engine
    from shared.migrate import ensure_schema
    from shared.services import auth
    from shared.settings import Settings, use_settings

    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="convergeai-shots-") as tmp:
        folder = Path(tmp)
        _isolate(folder)
        use_settings(Settings.load())
        db = Database(make_engine(f"sqlite:///{folder / 'demo.db'}"))
        ensure_schema(db, create_if_empty=True)
        try:
            from shared.demo import load_demo

            load_demo(db)
        except ImportError:  # pragma: no cover - the demo module ships with the core
            pass
        username, email, name, password = DEMO_ADMIN
        auth.create_admin(db, username=username, email=email, name=name, password=password)
        signed = auth.sign_in(db, username, password)
        _add_programme(db, signed.actor)
        app = create_app()
        written: list[Path] = []
        ctx = Context(db)
        window = MainWindow(ctx)
        try:
            window.show()
            for theme in themes:
                ctx.theme = theme
                apply_admin_theme(app, theme)
                window.set_theme(theme)
                for width, height in sizes:
                    window.resize(width, height)
                    tag = f"{theme}-{width}x{height}"
                    window.pages.setCurrentWidget(window.first_admin)
                    wait_idle(app, ctx.runner)
                    written.append(_shot(window, outdir / f"{tag}-00-first-admin.png"))
                    window.show_sign_in()
                    window.sign_in.show_message("")
                    wait_idle(app, ctx.runner)
                    written.append(_shot(window, outdir / f"{tag}-00-sign-in.png"))
                    window._enter(signed.user, signed.token)
                    for index, view in enumerate(window.views):
                        window.show_view(index)
                        wait_idle(app, ctx.runner)
                        _prepare(view, app, ctx.runner)
                        name_part = view.title.lower().replace(" ", "-")
                        written.append(
                            _shot(window, outdir / f"{tag}-{index + 1:02d}-{name_part}.png")
                        )
                    written.extend(_dialogs(window, app, ctx, outdir, tag))
        finally:
            window.close()
            ctx.shutdown()
            db.dispose()
            use_settings(None)
            QApplication.processEvents()
        return written


def _shot(widget: object, path: Path) -> Path:
    from PySide6.QtWidgets import QWidget

    assert isinstance(widget, QWidget)
    widget.grab().save(str(path))
    return path


def _prepare(view: object, app: object, runner: object) -> None:
    """Select something so each view shows its detail (preview, transcript, activity)."""
    from admin_console.views.assistants import AssistantsView
    from admin_console.views.transcripts import TranscriptsView
    from admin_console.views.users import UsersView

    picker = getattr(view, "picker", None)
    bots = getattr(picker, "bots", None)
    if picker is not None and bots and not getattr(picker, "allow_all", False):
        busiest = max(bots, key=lambda b: b.message_count)
        picker.select(busiest.id)
        wait_idle(app, runner)
    table = None
    if isinstance(view, UsersView):
        table = view.table
    elif isinstance(view, TranscriptsView):
        table = view.conv_table
    elif isinstance(view, AssistantsView):
        busiest_row = max(
            range(view.model.rowCount()),
            key=lambda r: view.model.records[r].message_count,
            default=None,
        )
        if busiest_row is not None:
            view.table.selectRow(busiest_row)
            wait_idle(app, runner)
            view.preview.input.setText("Who closes the summit?")
            view.preview.send()
            wait_idle(app, runner)
    if table is not None and table.model().rowCount() > 0:
        table.selectRow(0)
        wait_idle(app, runner)


def _add_programme(db: object, actor: object) -> None:
    """A few sessions and FAQ entries for the busiest demo assistant, if the demo has none."""
    from datetime import datetime, time, timedelta

    from shared.db import Database
    from shared.services import agenda, chatbots, faq, guests
    from shared.services.common import Actor
    from shared.settings import get_settings

    assert isinstance(db, Database)
    assert isinstance(actor, Actor)
    with db.session() as s:
        bots = chatbots.list_for_organizers(s, actor)
        if not bots:
            return
        bot = max(bots, key=lambda b: b.message_count)
        if agenda.list_items(s, actor, bot.id) or faq.list_entries(s, actor, bot.id):
            return
        speakers = [g.id for g in guests.list_for_organizers(s, actor, bot.id)]
        zone = get_settings().timezone()
        day = bot.start_date
        sessions = (
            ("Opening keynote", time(9, 0), 60, "Main Hall", "Plenary"),
            ("Panel: shipping AI products", time(10, 30), 75, "Main Hall", "Product"),
            ("Fine-tuning workshop", time(13, 30), 120, "Room 2", "Workshops"),
            ("Closing keynote", time(16, 30), 45, "Main Hall", "Plenary"),
        )
        for n, (title, start, minutes, room, track) in enumerate(sessions):
            begins = datetime.combine(day, start, zone) + timedelta(days=min(n // 3, 1))
            agenda.create(
                s, actor, bot.id, title=title, starts_at=begins,
                ends_at=begins + timedelta(minutes=minutes), location=room, track=track,
                speaker_ids=speakers[n:n + 1],
            )
        for question, answer in (
            ("What is the Wi-Fi password?", "Network Converge-Guest, password summit2026."),
            ("Where can I park?", "Car park C, entrance on Harbour Road; the first 3 hours are "
                                  "free with your badge."),
            ("When is lunch?", "From 12:30 to 13:30 in the Expo Hall."),
        ):
            faq.create(s, actor, bot.id, question=question, answer=answer)


def _dialogs(window: object, app: object, ctx: object, outdir: Path, tag: str) -> list[Path]:
    """The edit dialogs, drawn on their own."""
    from admin_console.mainwindow import MainWindow
    from admin_console.views.agenda import AgendaDialog, AgendaView
    from admin_console.views.assistants import AssistantDialog, AssistantsView
    from admin_console.views.faq import FaqDialog, FaqView
    from admin_console.views.guests import GuestDialog, GuestsView

    assert isinstance(window, MainWindow)
    out: list[Path] = []
    assistants = window.view(AssistantsView)
    guests = window.view(GuestsView)
    agenda = window.view(AgendaView)
    faq = window.view(FaqView)
    assert isinstance(assistants, AssistantsView)
    assert isinstance(guests, GuestsView)
    assert isinstance(agenda, AgendaView)
    assert isinstance(faq, FaqView)
    bot = assistants.selected() or assistants.model.record(0)
    guest = guests.model.record(0)
    item = agenda.model.record(0)
    entry = faq.model.record(0)
    openers: list[tuple[str, Callable[[], object]]] = [
        ("assistant-dialog", lambda: AssistantDialog(window.ctx, bot, window)),
    ]
    if guest is not None:
        openers.append(
            ("guest-dialog", lambda: GuestDialog(window.ctx, guest.chatbot_id, guest, window))
        )
    if bot is not None and item is not None:
        openers.append(
            (
                "agenda-dialog",
                lambda: AgendaDialog(window.ctx, bot, list(guests.model.records), item, window),
            )
        )
    if entry is not None:
        openers.append(
            ("faq-dialog", lambda: FaqDialog(window.ctx, entry.chatbot_id, entry, window))
        )
    for name, make in openers:
        dialog = make()
        from PySide6.QtWidgets import QDialog

        assert isinstance(dialog, QDialog)
        dialog.show()
        wait_idle(app, window.ctx.runner)
        out.append(_shot(dialog, outdir / f"{tag}-90-{name}.png"))
        dialog.close()
        dialog.deleteLater()
    return out


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin_console.screenshots")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--sizes", default="1440x900,1280x800")
    parser.add_argument("--themes", default="light,dark")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    paths = render(
        args.outdir,
        [_size(s) for s in args.sizes.split(",") if s],
        [t for t in args.themes.split(",") if t],
    )
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
