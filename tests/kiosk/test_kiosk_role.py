"""The kiosk window itself on PostgreSQL's kiosk role (``db create-roles``): sign-in, the
attendee's conversation, a walk-up visit and the end of both work through row security."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import text

from tests.kiosk.conftest import KioskFactory, click, type_into
from tests.packaging.test_roles import PASSWORD, Setup, people, setup  # noqa: F401 - fixtures


def test_the_kiosk_window_runs_on_the_kiosk_role(
    qtbot: QtBot,
    setup: Setup,  # noqa: F811
    people: dict[str, int],  # noqa: F811
    make_kiosk: KioskFactory,
) -> None:
    kiosk = make_kiosk(setup.kiosk)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1, timeout=10_000)
    # signed in: a personal conversation, answered, stored
    click(qtbot, kiosk.attract.start_button)
    click(qtbot, kiosk.start_screen.sign_in_tile)
    type_into(qtbot, kiosk.signin.login.edit, "maya")
    type_into(qtbot, kiosk.signin.password.edit, PASSWORD)
    click(qtbot, kiosk.signin.submit)
    qtbot.waitUntil(lambda: kiosk.current() == "chat", timeout=10_000)
    type_into(qtbot, kiosk.chat.input, "When is the keynote?")
    with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
        qtbot.keyClick(kiosk.chat.input, "\r")
    mine = kiosk.conversation.id if kiosk.conversation else None
    # the next visit, walk-up
    with qtbot.waitSignal(kiosk.wiped, timeout=5_000):
        click(qtbot, kiosk.finish_button)
    click(qtbot, kiosk.attract.start_button)
    click(qtbot, kiosk.start_screen.ask_tile)
    qtbot.waitUntil(lambda: kiosk.current() == "chat", timeout=10_000)
    assert kiosk.transcript.rowCount() == 1  # a greeting, nothing of Maya's
    type_into(qtbot, kiosk.chat.input, "Where is lunch?")
    with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
        qtbot.keyClick(kiosk.chat.input, "\r")
    walk_up = kiosk.conversation.id if kiosk.conversation else None
    click(qtbot, kiosk.finish_button)

    def done() -> bool:
        with setup.owner.engine.connect() as conn:
            ended = conn.scalar(
                text("SELECT ended_at IS NOT NULL FROM conversations WHERE id = :i"),
                {"i": walk_up},
            )
            live = conn.scalar(text("SELECT count(*) FROM session_tokens WHERE revoked_at IS NULL"))
        return bool(ended) and live == 0

    qtbot.waitUntil(done, timeout=10_000)
    with setup.owner.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT conversation_id, count(*) FROM messages GROUP BY 1 ORDER BY 1")
        ).all()
    assert [tuple(r) for r in rows] == [(mine, 2), (walk_up, 2)]
