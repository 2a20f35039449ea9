"""The dashboard and the assistants view: figures, charts, refreshes, the form, delete, preview."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from pytestqt.qtbot import QtBot

from admin_console.context import Changed, Context
from admin_console.mainwindow import MainWindow
from admin_console.models import RECORD_ROLE, RecordModel
from admin_console.preview import PreviewPane
from admin_console.views.assistants import AssistantDialog, AssistantsView
from admin_console.views.dashboard import FIGURES, DashboardView
from shared.db import Database
from shared.models import ConversationMode, MessageSource
from shared.services import chat, chatbots, guests, stats
from shared.services.common import Actor, venue_today
from shared.services.responder import Reply, ReplyRequest
from tests.admin_console.conftest import FakeDialogs, settle
from tests.factories import make_chatbot, make_user


def talk(db: Database, chatbot_id: int, question: str, answer: str, answered: bool = True) -> None:
    with db.session() as s:
        conv = chat.start_conversation(s, None, chatbot_id, ConversationMode.MULTIPLE)
        q = chat.post_user_message(s, None, conv.id, question)
        chat.post_reply(s, conv.id, q.id, Reply(answer, MessageSource.OFFLINE, answered))


def show(qtbot: QtBot, window: MainWindow, cls: type) -> object:
    index = next(i for i, v in enumerate(window.views) if isinstance(v, cls))
    window.show_view(index)
    settle(qtbot, window.ctx)
    return window.views[index]


# Dashboard -------------------------------------------------------------------------------------


def test_dashboard_figures_match_the_statistics(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, admin: Actor, qtmodeltester
) -> None:
    bot = make_chatbot(sqlite_db, "Summit")
    make_user(sqlite_db, "ana")
    talk(sqlite_db, bot, "Where is lunch?", "Hall B.")
    talk(sqlite_db, bot, "where is lunch", "Hall B.")
    talk(sqlite_db, bot, "Is there a sauna?", "I don't know.", answered=False)
    view = show(qtbot, signed_in, DashboardView)
    assert isinstance(view, DashboardView)
    view.refresh()
    settle(qtbot, signed_in.ctx)
    with sqlite_db.read() as s:
        figures = stats.dashboard(s, admin)
    for key, _label in FIGURES:
        assert view.cards[key].value.text() == f"{getattr(figures, key):,}"
    assert view.cards["total_messages"].value.text() == "6"
    assert len(view.messages_chart.points) == 30
    assert view.messages_chart.points[-1] == (venue_today(), 6)
    assert sum(n for _d, n in view.users_chart.points) == 2
    assert view.top_model.records[0].question.lower().startswith("where is lunch")
    assert view.top_model.records[0].count == 2
    assert [q.question for q in view.unanswered_model.records] == ["Is there a sauna?"]
    assert [b.name for b in view.recent_model.records] == ["Summit"]
    for model in (view.top_model, view.unanswered_model, view.recent_model):
        qtmodeltester.check(model)


def test_dashboard_refreshes_on_writes_and_never_twice_at_once(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, monkeypatch
) -> None:
    from admin_console.views import dashboard

    lock = threading.Lock()
    running = {"now": 0, "most": 0}
    real = dashboard.load_dashboard

    def counted(ctx: Context, chatbot_id: int | None) -> dashboard.DashboardData:
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        try:
            return real(ctx, chatbot_id)
        finally:
            with lock:
                running["now"] -= 1

    monkeypatch.setattr(dashboard, "load_dashboard", counted)
    view = show(qtbot, signed_in, DashboardView)
    assert isinstance(view, DashboardView)
    before = view.refreshes
    assert view.cards["total_chatbots"].value.text() == "0"
    make_chatbot(sqlite_db, "New one")
    signed_in.ctx.announce(Changed.CHATBOTS)
    view.refresh()
    view.refresh()  # asked again while loading: queued once, not run in parallel
    assert view.loading
    assert view.pending
    settle(qtbot, signed_in.ctx)
    assert view.refreshes == before + 2
    assert running["most"] == 1
    assert view.cards["total_chatbots"].value.text() == "1"
    assert view.timer.isActive()
    assert view.timer.interval() == 30_000


def test_dashboard_chart_follows_the_chosen_assistant(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database
) -> None:
    one = make_chatbot(sqlite_db, "One")
    two = make_chatbot(sqlite_db, "Two")
    talk(sqlite_db, one, "Hi?", "Hello.")
    talk(sqlite_db, two, "Hi?", "Hello.")
    talk(sqlite_db, two, "Wifi?", "On your badge.")
    view = show(qtbot, signed_in, DashboardView)
    assert isinstance(view, DashboardView)
    signed_in.ctx.announce(Changed.CHATBOTS)
    settle(qtbot, signed_in.ctx)
    assert view.messages_chart.points[-1][1] == 6
    view.picker.select(two)
    settle(qtbot, signed_in.ctx)
    assert view.messages_chart.points[-1][1] == 4
    view.picker.select(one)
    settle(qtbot, signed_in.ctx)
    assert view.messages_chart.points[-1][1] == 2


# Assistants ------------------------------------------------------------------------------------


def assistants_view(qtbot: QtBot, window: MainWindow) -> AssistantsView:
    view = show(qtbot, window, AssistantsView)
    assert isinstance(view, AssistantsView)
    return view


def save(qtbot: QtBot, dialog: AssistantDialog) -> None:
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.saving)


def test_create_assistant_with_validation_next_to_the_fields(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, admin: Actor, qtmodeltester
) -> None:
    view = assistants_view(qtbot, signed_in)
    view.new_item()
    dialog = view.dialog
    assert dialog is not None
    assert dialog.isVisible()
    save(qtbot, dialog)
    assert dialog.errors.message("name") == "Name is required."
    assert dialog.isVisible()
    dialog.name.setText("Summit Helper")
    dialog.event_name.setText("Summit 2026")
    dialog.start.setDate(dialog.start.date().addDays(3))
    dialog.end.setDate(dialog.start.date().addDays(-1))
    save(qtbot, dialog)
    assert "end date cannot be before" in dialog.errors.message("end_date")
    dialog.end.setDate(dialog.start.date().addDays(2))
    dialog.single.setChecked(False)
    dialog.multiple.setChecked(False)
    save(qtbot, dialog)
    assert "at least one mode" in dialog.errors.message("single_mode")
    dialog.multiple.setChecked(True)
    dialog.prompt.setPlainText("Be brief.\nAnswer in English.")
    with qtbot.waitSignal(dialog.saved):
        dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    settle(qtbot, signed_in.ctx)
    assert view.model.rowCount() == 1
    created = view.model.record(0)
    assert created is not None
    assert created.name == "Summit Helper"
    assert created.system_prompt == "Be brief.\nAnswer in English."
    assert (created.single_mode, created.multiple_mode) == (False, True)
    assert created.start_date == venue_today() + timedelta(days=3)
    assert view.selected() is not None  # the new one is selected
    qtmodeltester.check(view.model)


def test_edit_assistant(qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, admin) -> None:
    bot = make_chatbot(sqlite_db, "Old name")
    view = assistants_view(qtbot, signed_in)
    view.refresh()
    settle(qtbot, signed_in.ctx)
    view.select(bot)
    view.edit_selected()
    dialog = view.dialog
    assert dialog is not None
    assert dialog.name.text() == "Old name"
    dialog.name.setText("New name")
    dialog.public.setChecked(False)
    save(qtbot, dialog)
    settle(qtbot, signed_in.ctx)
    with sqlite_db.read() as s:
        detail = chatbots.get(s, admin, bot)
    assert detail.name == "New name"
    assert not detail.public
    assert view.model.records[view.model.row_of(bot)].name == "New name"


def test_delete_asks_with_the_impact_and_respects_no(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, admin: Actor, dialogs: FakeDialogs
) -> None:
    bot = make_chatbot(sqlite_db, "Doomed")
    with sqlite_db.session() as s:
        guests.create(s, admin, bot, name="Dr. Ada")
    talk(sqlite_db, bot, "Hi?", "Hello.")
    view = assistants_view(qtbot, signed_in)
    view.refresh()
    settle(qtbot, signed_in.ctx)
    view.select(bot)
    dialogs.confirm_answer = False
    view.delete_selected()
    settle(qtbot, signed_in.ctx)
    title, text = dialogs.confirms[-1]
    assert "Doomed" in title
    assert "1 guest(s)" in text
    assert "1 conversation(s)" in text
    assert "2 message(s)" in text
    assert view.model.rowCount() == 1
    dialogs.confirm_answer = True
    view.delete_selected()
    settle(qtbot, signed_in.ctx)
    assert view.model.rowCount() == 0
    with sqlite_db.read() as s:
        assert chatbots.list_for_organizers(s, admin) == []


class EchoResponder:
    """Streams the question back in pieces (a test responder; nothing fake ships)."""

    def __init__(self) -> None:
        self.requests: list[ReplyRequest] = []

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        self.requests.append(request)
        text = f"You asked: {request.question}"
        for piece in (text[:5], text[5:]):
            if on_delta is not None:
                on_delta(piece)
        return Reply(text, MessageSource.TEST, answered=True)


def test_preview_streams_replies_and_stores_nothing(
    qtbot: QtBot, ctx: Context, sqlite_db: Database, admin: Actor
) -> None:
    from shared.services import common

    bot = make_chatbot(sqlite_db, "Previewed")
    with sqlite_db.read() as s:
        ctx.user = common.UserInfo.of(s.get(common.User, admin.user_id))
    responder = EchoResponder()
    pane = PreviewPane(ctx, responder_factory=lambda _db: responder)
    qtbot.addWidget(pane)
    pane.set_chatbot(bot, "Previewed")
    pane.input.setText("Where is lunch?")
    pane.send()
    qtbot.waitUntil(lambda: pane.task is None)
    pane.input.setText("And dinner?")
    pane.send()
    qtbot.waitUntil(lambda: pane.task is None)
    assert [r.text for r in pane.replies] == [
        "You asked: Where is lunch?",
        "You asked: And dinner?",
    ]
    assert pane.streaming is not None
    assert pane.streaming.text() == "You asked: And dinner?"
    second = responder.requests[1]
    assert second.mode is ConversationMode.MULTIPLE
    assert [m.content for m in second.history] == ["Where is lunch?", "You asked: Where is lunch?"]
    with sqlite_db.read() as s:
        assert stats.chatbot_figures(s, admin, bot).total_messages == 0


def test_preview_uses_the_real_assistant_offline(
    qtbot: QtBot, ctx: Context, sqlite_db: Database, admin: Actor
) -> None:
    from shared.services import common

    bot = make_chatbot(sqlite_db, "Real")
    with sqlite_db.read() as s:
        ctx.user = common.UserInfo.of(s.get(common.User, admin.user_id))
    pane = PreviewPane(ctx)
    qtbot.addWidget(pane)
    pane.set_chatbot(bot, "Real")
    pane.input.setText("When does the event start?")
    pane.send()
    qtbot.waitUntil(lambda: pane.task is None, timeout=20_000)
    assert pane.replies, "the assistant gave no reply"
    assert pane.replies[0].source is MessageSource.OFFLINE
    assert pane.replies[0].text.strip()


def test_record_model_sorts_and_keeps_selection(qtbot: QtBot, qtmodeltester) -> None:
    from admin_console.models import Column

    model: RecordModel[tuple[int, str]] = RecordModel(
        [Column("N", lambda r: r[0], numeric=True), Column("S", lambda r: r[1])]
    )
    model.set_records([(3, "c"), (1, "b"), (2, "a")])
    qtmodeltester.check(model)
    from PySide6.QtCore import QPersistentModelIndex, Qt

    keep = QPersistentModelIndex(model.index(0, 1))  # (3, "c")
    model.sort(0, Qt.SortOrder.AscendingOrder)
    assert [r[0] for r in model.records] == [1, 2, 3]
    assert keep.row() == 2
    assert model.index(keep.row(), 0).data(RECORD_ROLE) == (3, "c")
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert [r[1] for r in model.records] == ["c", "b", "a"]
    qtmodeltester.check(model)
