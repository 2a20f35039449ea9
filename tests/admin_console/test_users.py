"""The users view: paging on demand over 5,000 users, search, filters, sort, and every action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from admin_console.mainwindow import MainWindow
from admin_console.models import LOADING_ROLE, USERS_PAGE, UsersModel
from admin_console.views.users import UsersView
from shared.db import Database, utcnow
from shared.models import Role, User
from shared.services import auth
from shared.services.common import Actor, UserInfo
from shared.services.users import UserQuery
from tests.admin_console.conftest import FakeDialogs, settle
from tests.factories import PASSWORD, make_chatbot

N_USERS = 5_000


def add_users(db: Database, n: int = N_USERS) -> None:
    """Bulk insert (no bcrypt): user00000 .. user04999, every 10th deactivated."""
    now = utcnow()
    rows = [
        {
            "username": f"user{i:05d}",
            "email": f"user{i:05d}@example.org",
            "name": f"Person {i:05d}",
            "role": Role.ATTENDEE.value,
            "active": i % 10 != 0,
            "message_count": i % 7,
            "created_at": now - timedelta(minutes=i),
            "updated_at": now,
        }
        for i in range(n)
    ]
    with db.session() as s:
        s.execute(insert(User), rows)


def first(view: UsersView) -> UserInfo:
    user = view.model.user(0)
    assert user is not None
    return user


def users_view(qtbot: QtBot, window: MainWindow) -> UsersView:
    index = next(i for i, v in enumerate(window.views) if isinstance(v, UsersView))
    window.show_view(index)
    settle(qtbot, window.ctx)
    view = window.views[index]
    assert isinstance(view, UsersView)
    return view


def test_model_loads_pages_on_demand(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, qtmodeltester
) -> None:
    add_users(sqlite_db)
    model = UsersModel(signed_in.ctx)
    with qtbot.waitSignal(model.total_changed):
        model.set_query(UserQuery())
    assert model.rowCount() == N_USERS + 1  # and the organizer
    assert len(model.pages) == 1
    assert model.loaded_rows() == USERS_PAGE
    far = model.index(4_321, 0)
    assert far.data(LOADING_ROLE) is True
    assert far.data() == "Loading…"
    with qtbot.waitSignal(model.page_loaded) as signal:
        far.data()  # asking again does not load twice
    assert signal.args == [4_321 // USERS_PAGE]
    assert far.data(LOADING_ROLE) is False
    assert far.data() == "Person 04321"  # sorted by name; the organizer ("User N") is last
    qtmodeltester.check(model)
    settle(qtbot, signed_in.ctx)


def test_view_search_filter_and_sort(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database
) -> None:
    add_users(sqlite_db)
    view = users_view(qtbot, signed_in)
    view.refresh()
    settle(qtbot, signed_in.ctx)
    assert view.model.rowCount() == N_USERS + 1
    assert view.count.text() == "5,001 user(s)"
    # Scrolling far down fetches the page shown there.
    view.table.scrollTo(view.model.index(3_000, 0))
    qtbot.waitUntil(lambda: view.model.index(3_000, 0).data(LOADING_ROLE) is False)
    # A change elsewhere refreshes the loaded rows in place: the selection stays.
    view.table.selectRow(3_000)
    chosen = view.selected()
    assert chosen is not None
    from admin_console.context import Changed

    with qtbot.waitSignal(view.model.page_loaded):
        signed_in.ctx.announce(Changed.USERS)
    settle(qtbot, signed_in.ctx)
    still = view.selected()
    assert still is not None
    assert still.id == chosen.id
    # Debounced search.
    view.search.setText("user0012")
    assert view.model.rowCount() == N_USERS + 1  # not yet: waits for typing to pause
    with qtbot.waitSignal(view.model.total_changed, timeout=3000):
        pass
    assert view.model.rowCount() == 10
    assert view.count.text() == "10 user(s)"
    # Filters.
    view.active.setCurrentIndex(view.active.findData(False))
    settle(qtbot, signed_in.ctx)
    assert view.model.rowCount() == 1
    assert first(view).username == "user00120"
    view.search.clear()
    view.search.flush()
    view.active.setCurrentIndex(0)
    view.role.setCurrentIndex(view.role.findData(Role.ADMIN.value))
    settle(qtbot, signed_in.ctx)
    assert view.model.rowCount() == 1
    assert first(view).username == "organizer"
    view.role.setCurrentIndex(0)
    settle(qtbot, signed_in.ctx)
    # Sort by clicking the username header: done by the database, over all rows.
    view.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    settle(qtbot, signed_in.ctx)
    assert view.model.query.sort == "username"
    assert view.model.query.descending
    assert first(view).username == "user04999"
    view.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)
    settle(qtbot, signed_in.ctx)
    assert first(view).message_count == 6


@pytest.fixture
def ana(sqlite_db: Database) -> Actor:
    from tests.factories import make_user

    return make_user(sqlite_db, "ana", name="Ana Silva")


def select(qtbot: QtBot, view: UsersView, username: str) -> None:
    view.search.setText(username)
    view.search.flush()
    settle(qtbot, view.ctx)
    view.table.selectRow(0)
    settle(qtbot, view.ctx)
    chosen = view.selected()
    assert chosen is not None
    assert chosen.username == username


def test_actions_on_a_user(
    qtbot: QtBot,
    signed_in: MainWindow,
    sqlite_db: Database,
    admin: Actor,
    ana: Actor,
    dialogs: FakeDialogs,
) -> None:
    view = users_view(qtbot, signed_in)
    select(qtbot, view, "ana")
    assert "Joined no assistant." in view.activity.body.text()

    # Edit, with validation next to the field.
    view.edit_selected()
    dialog = view.dialog
    assert dialog is not None
    dialog.email.setText("nope")
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.saving)
    assert "not a valid email" in dialog.errors.message("email")
    dialog.email.setText("ana.silva@example.org")
    dialog.name.setText("Ana M. Silva")
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    settle(qtbot, signed_in.ctx)
    assert first(view).name == "Ana M. Silva"

    # Deactivate: asks first; no means no.
    dialogs.confirm_answer = False
    view.table.selectRow(0)
    view.toggle_active()
    settle(qtbot, signed_in.ctx)
    assert first(view).active
    dialogs.confirm_answer = True
    view.toggle_active()
    settle(qtbot, signed_in.ctx)
    assert not first(view).active
    view.table.selectRow(0)
    settle(qtbot, signed_in.ctx)
    assert view.active_button.text() == "Activate"
    view.toggle_active()
    settle(qtbot, signed_in.ctx)
    assert first(view).active

    # Role.
    view.table.selectRow(0)
    view.toggle_role()
    settle(qtbot, signed_in.ctx)
    assert "organizer" in dialogs.confirms[-1][0]
    assert first(view).role is Role.ADMIN
    view.table.selectRow(0)
    view.toggle_role()
    settle(qtbot, signed_in.ctx)
    assert first(view).role is Role.ATTENDEE

    # Reset password: shown once, works once, must be changed.
    view.table.selectRow(0)
    view.reset_password()
    settle(qtbot, signed_in.ctx)
    text, temporary = dialogs.secrets[-1]
    assert "ana" in text
    assert len(temporary) == 19
    from shared.errors import PasswordChangeRequired

    with pytest.raises(PasswordChangeRequired):
        auth.sign_in(sqlite_db, "ana", temporary)

    # Delete, with what goes with it.
    view.table.selectRow(0)
    view.delete_selected()
    settle(qtbot, signed_in.ctx)
    title, body = dialogs.confirms[-1]
    assert "ana" in title
    assert "0 conversation(s)" in body
    assert view.model.rowCount() == 0
    with sqlite_db.read() as s:
        assert s.get(User, ana.user_id) is None


def test_own_account_cannot_be_deactivated_from_the_view(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database
) -> None:
    view = users_view(qtbot, signed_in)
    select(qtbot, view, "organizer")
    assert not view.delete_button.isEnabled()
    assert not view.active_button.isEnabled()
    assert not view.role_button.isEnabled()
    assert view.reset_button.isEnabled()


def test_activity_lists_assistants_joined(
    qtbot: QtBot, signed_in: MainWindow, sqlite_db: Database, admin: Actor, ana: Actor
) -> None:
    from shared.services import chatbots

    bot = make_chatbot(sqlite_db, "Summit")
    with sqlite_db.session() as s:
        chatbots.join(s, ana, bot)
    view = users_view(qtbot, signed_in)
    select(qtbot, view, "ana")
    qtbot.waitUntil(lambda: "Summit" in view.activity.body.text())
    assert view.activity.title.text() == "Ana Silva"
    assert PASSWORD  # the factories' password signs ana in
