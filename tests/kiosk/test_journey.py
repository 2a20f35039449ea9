"""The whole journey at the kiosk: attract, sign in, choose, chat (streamed), idle, wipe."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.models import STREAMING, StateRole
from shared.db import Database
from shared.models import Conversation, Message, SessionToken
from tests.factories import PASSWORD, make_chatbot, make_user
from tests.kiosk.conftest import KioskFactory, SlowResponder, click, type_into, visible_texts


def test_signed_in_journey_then_idle_wipe(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory, responder: SlowResponder
) -> None:
    make_user(sqlite_db, "ada", name="Ada Lovelace")
    make_chatbot(sqlite_db, "Summit guide")
    kiosk = make_kiosk(sqlite_db, idle_timeout=1, idle_warning=2)
    assert kiosk.current() == "attract"
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)

    click(qtbot, kiosk.attract.start_button)
    assert kiosk.current() == "start"
    click(qtbot, kiosk.start_screen.sign_in_tile)
    assert kiosk.current() == "signin"
    type_into(qtbot, kiosk.signin.login.edit, "ada")
    type_into(qtbot, kiosk.signin.password.edit, PASSWORD)
    click(qtbot, kiosk.signin.submit)
    # One assistant: straight into a personal conversation with it.
    qtbot.waitUntil(lambda: kiosk.current() == "chat", timeout=10_000)
    assert kiosk.signed is not None
    assert kiosk.signed.user.name == "Ada Lovelace"
    assert kiosk.chat.title.text() == "Summit guide"
    assert kiosk.signin.password.text() == ""  # no password stays in a field

    streamed: list[str] = []
    kiosk.transcript.dataChanged.connect(
        lambda top, _b, _r=None: streamed.append(str(top.data(StateRole)))
    )
    type_into(qtbot, kiosk.chat.input, "When is the keynote?")
    with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
        qtbot.keyClick(kiosk.chat.input, "\r")
    turns = [t for t in kiosk.transcript.turns() if t.kind == "message"]
    assert [t.is_user for t in turns] == [True, False]
    assert turns[0].text == "When is the keynote?"
    assert turns[1].text == responder.text
    assert STREAMING in streamed, "the reply did not stream in"
    with sqlite_db.read() as s:
        stored = list(s.scalars(select(Message.content).order_by(Message.id)))
    assert stored == ["When is the keynote?", responder.text]

    # Idle: "Still there?" with a countdown, then everything is wiped.
    qtbot.waitUntil(kiosk.idle_overlay.isVisible, timeout=5_000)
    assert "2" in kiosk.idle_overlay.count.text()
    with qtbot.waitSignal(kiosk.wiped, timeout=6_000):
        pass
    assert kiosk.current() == "attract"
    assert kiosk.signed is None
    assert kiosk.transcript.rowCount() == 0
    texts = "\n".join(visible_texts(kiosk))
    assert "keynote is at nine" not in texts
    assert "When is the keynote?" not in texts
    assert "Ada" not in texts

    # The sign-in is revoked in the database.
    def revoked() -> bool:
        with sqlite_db.read() as s:
            tokens = list(s.scalars(select(SessionToken.revoked_at)))
        return bool(tokens) and all(t is not None for t in tokens)

    qtbot.waitUntil(revoked, timeout=5_000)


def test_continue_keeps_the_visit(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    make_chatbot(sqlite_db, "Walk-up guide", multiple_mode=True)
    kiosk = make_kiosk(sqlite_db, idle_timeout=1, idle_warning=20)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
    click(qtbot, kiosk.attract.start_button)
    click(qtbot, kiosk.start_screen.ask_tile)
    qtbot.waitUntil(lambda: kiosk.current() == "chat")
    qtbot.waitUntil(kiosk.idle_overlay.isVisible, timeout=5_000)
    click(qtbot, kiosk.idle_overlay.continue_button)
    assert not kiosk.idle_overlay.isVisible()
    assert kiosk.current() == "chat"


def test_walk_up_use_and_finish(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory, responder: SlowResponder
) -> None:
    make_chatbot(sqlite_db, "Walk-up guide", multiple_mode=True)
    kiosk = make_kiosk(sqlite_db)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
    assert kiosk.attract.event_label.text() == "Walk-up guide event"
    click(qtbot, kiosk.attract.start_button)
    click(qtbot, kiosk.start_screen.ask_tile)
    qtbot.waitUntil(lambda: kiosk.current() == "chat")
    assert kiosk.signed is None
    # A suggestion chip asks its question.
    chips = kiosk.chat.chips_box.findChildren(type(kiosk.attract.start_button))
    assert [c.text() for c in chips] == ["Who is speaking?", "Where is lunch?"]
    with qtbot.waitSignal(kiosk.reply_finished, timeout=10_000):
        click(qtbot, chips[1])
    assert kiosk.transcript.turns()[-2].text == "Where is lunch?"
    conv_id = kiosk.conversation.id if kiosk.conversation else None
    assert conv_id is not None
    click(qtbot, kiosk.finish_button)
    assert kiosk.current() == "attract"
    assert kiosk.transcript.rowCount() == 0

    def ended() -> bool:
        with sqlite_db.read() as s:
            ended_at = s.scalar(select(Conversation.ended_at).where(Conversation.id == conv_id))
        return ended_at is not None

    qtbot.waitUntil(ended, timeout=5_000)


def test_returning_attendee_sees_previous_conversation(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory, responder: SlowResponder
) -> None:
    make_user(sqlite_db, "grace")
    make_chatbot(sqlite_db, "Summit guide", multiple_mode=False)
    kiosk = make_kiosk(sqlite_db)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
    for visit in range(2):
        kiosk.go("signin")
        type_into(qtbot, kiosk.signin.login.edit, "grace")
        type_into(qtbot, kiosk.signin.password.edit, PASSWORD)
        click(qtbot, kiosk.signin.submit)
        qtbot.waitUntil(lambda: kiosk.current() == "chat", timeout=10_000)
        if visit == 0:
            kiosk.send("Is there Wi-Fi?")
            qtbot.waitUntil(lambda: len(responder.calls) == 1 and kiosk._sending is None)
            kiosk.wipe()
    texts = [t.text for t in kiosk.transcript.turns()]
    assert "Is there Wi-Fi?" in texts
    assert responder.text in texts
    assert any("Welcome back" in t for t in texts)


def test_single_mode_only_assistant_asks_walk_up_visitors_to_sign_in(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory
) -> None:
    bot = make_chatbot(sqlite_db, "Members only", multiple_mode=False)
    kiosk = make_kiosk(sqlite_db)
    qtbot.waitUntil(lambda: kiosk.chatbots.rowCount() == 1)
    assert not kiosk.start_screen.ask_tile.isVisibleTo(kiosk.start_screen)
    kiosk.choose(bot)
    assert kiosk.current() == "start"
    assert "sign in" in kiosk.start_screen.message.text().lower()


def test_an_unexpected_error_is_logged_and_shown_calmly(
    qtbot: QtBot, sqlite_db: Database, make_kiosk: KioskFactory, caplog: object
) -> None:
    kiosk = make_kiosk(sqlite_db)
    kiosk._bug(RuntimeError("boom"))
    assert kiosk.message.isVisible()
    assert "Sorry, something went wrong" in kiosk.message.title.text()
    assert "boom" not in kiosk.message.text.text()
    click(qtbot, kiosk.message.ok)
    assert not kiosk.message.isVisible()
    assert kiosk.isVisible()
