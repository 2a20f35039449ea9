"""Users: every account (100,000 stay smooth), search, filters, server-side sort; edit,
activate/deactivate, change role, reset password, delete; each user's activity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.dialogs import EditDialog
from admin_console.models import UsersModel
from admin_console.views.base import View
from admin_console.widgets import SearchField, fmt_datetime, fmt_int, heading, make_table, muted
from shared.models import Role
from shared.services import auth
from shared.services import users as users_service
from shared.services.common import UserInfo
from shared.services.users import UserActivity, UserDeletion


class UserDialog(EditDialog):
    """Edit a user's name, email and username."""

    changes = Changed.USERS

    def __init__(self, ctx: Context, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, ctx.tr("Edit user"), parent)
        self.user = user
        self.name = QLineEdit(user.name)
        self.username = QLineEdit(user.username)
        self.email = QLineEdit(user.email)
        self.add("name", self.name, self.tr("Full name"))
        self.add("username", self.username, self.tr("Username"))
        self.add("email", self.email, self.tr("Email"))
        self.resize(480, 260)

    def work(self) -> Callable[[], UserInfo]:
        db, actor, uid = self.ctx.database, self.ctx.actor, self.user.id
        values = {
            "name": self.name.text(),
            "username": self.username.text(),
            "email": self.email.text(),
        }

        def save() -> UserInfo:
            with db.session() as s:
                return users_service.update_user(s, actor, uid, **values)

        return save

    def success_message(self, result: Any) -> str:
        return self.tr("User {0} saved.").format(result.username)


class ActivityPanel(QFrame):
    """What the selected user did."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setMinimumWidth(280)
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 14)
        self.title = QLabel(self.tr("Activity"))
        self.title.setObjectName("sectionTitle")
        column.addWidget(self.title)
        self.body = QLabel(self.tr("Select a user to see what they did."))
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setObjectName("activityText")
        column.addWidget(self.body, 1)

    def show_activity(self, activity: UserActivity | None) -> None:
        if activity is None:
            self.title.setText(self.tr("Activity"))
            self.body.setText(self.tr("Select a user to see what they did."))
            return
        u = activity.user
        self.title.setText(u.name)
        lines = [
            f"@{u.username} · {u.email}",
            f"{'Organizer' if u.role is Role.ADMIN else 'Attendee'} · "
            f"{'active' if u.active else 'deactivated'}"
            + (" · must change password" if u.must_change_password else ""),
            "",
            f"Messages written: {fmt_int(u.message_count)}",
            f"Conversations: {fmt_int(activity.conversations)}",
            f"Last message: {fmt_datetime(activity.last_message_at) or '—'}",
            f"Last sign-in: {fmt_datetime(u.last_login_at) or '—'}",
            f"Account created: {fmt_datetime(u.created_at)}",
            "",
            "Assistants joined:" if activity.participations else "Joined no assistant.",
        ]
        for p in activity.participations:
            lines.append(
                f"  • {p.chatbot_name}: {fmt_int(p.message_count)} message(s), "
                f"last {fmt_datetime(p.last_activity_at) or '—'}"
            )
        self.body.setText("\n".join(lines))


class UsersView(View):
    """The users table with its filters, actions and the activity panel."""

    title = "Users"
    watches = Changed.USERS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.dialog: UserDialog | None = None
        self.model = UsersModel(ctx, self)
        self.model.total_changed.connect(self._total)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(lambda *_a: self._update_buttons())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("Users")))
        self.count = muted("")
        self.count.setObjectName("userCount")
        top.addWidget(self.count)
        top.addStretch(1)
        self.search = SearchField(self.tr("Search name, username, email (Ctrl+F)"))
        self.search.setFixedWidth(300)
        self.search.search.connect(self._query_changed)
        top.addWidget(self.search)
        self.role = QComboBox()
        self.role.addItem(self.tr("All roles"), None)
        self.role.addItem(self.tr("Organizers"), Role.ADMIN.value)
        self.role.addItem(self.tr("Attendees"), Role.ATTENDEE.value)
        self.role.currentIndexChanged.connect(lambda _i: self._query_changed())
        top.addWidget(self.role)
        self.active = QComboBox()
        self.active.addItem(self.tr("Any status"), None)
        self.active.addItem(self.tr("Active"), True)
        self.active.addItem(self.tr("Deactivated"), False)
        self.active.currentIndexChanged.connect(lambda _i: self._query_changed())
        top.addWidget(self.active)
        layout.addLayout(top)

        actions = QHBoxLayout()
        self.edit_button = QPushButton(self.tr("Edit"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.active_button = QPushButton(self.tr("Deactivate"))
        self.active_button.clicked.connect(self.toggle_active)
        self.role_button = QPushButton(self.tr("Make organizer"))
        self.role_button.clicked.connect(self.toggle_role)
        self.reset_button = QPushButton(self.tr("Reset password"))
        self.reset_button.clicked.connect(self.reset_password)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("danger")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.edit_button, self.active_button, self.role_button,
                       self.reset_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.import_button = QPushButton(self.tr("Import…"))
        self.import_button.clicked.connect(self.open_import)
        self.export_button = QPushButton(self.tr("Export…"))
        self.export_button.clicked.connect(self.open_export)
        actions.addWidget(self.import_button)
        actions.addWidget(self.export_button)
        layout.addLayout(actions)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.table = make_table(stretch_column=None)
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((170, 130, 220, 90, 95, 85, 135, 135)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.activity = ActivityPanel()
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.activity)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([900, 280])
        layout.addWidget(self.splitter, 1)
        self._update_buttons()

    # State -------------------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("users/header", self.table.horizontalHeader().saveState())
        settings.setValue("users/splitter", self.splitter.saveState())

    def restore_state(self, settings: QSettings) -> None:
        header = settings.value("users/header")
        if header is not None:
            self.table.horizontalHeader().restoreState(header)
        splitter = settings.value("users/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    # Query -------------------------------------------------------------------------------------

    def _query_changed(self, *_args: object) -> None:
        if self.ctx.user is None:
            return
        role = self.role.currentData()
        self.model.set_query(
            replace(
                self.model.query,
                search=self.search.text().strip(),
                role=Role(role) if role else None,
                active=self.active.currentData(),
            )
        )

    def _total(self, total: int) -> None:
        self.count.setText(self.tr("{0} user(s)").format(fmt_int(total)))

    def refresh(self) -> None:
        if self.ctx.user is None:
            return
        super().refresh()
        if self.model.loaded_once:
            self.model.refresh_rows()
        else:
            self._query_changed()
        self._selected()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # Selection ---------------------------------------------------------------------------------

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.user(rows[0].row()) if rows else None

    def _selected(self, *_args: object) -> None:
        self._update_buttons()
        user = self.selected()
        if user is None:
            self.activity.show_activity(None)
            return
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> UserActivity:
            with db.read() as s:
                return users_service.user_activity(s, actor, user.id)

        def show(activity: UserActivity) -> None:
            current = self.selected()
            if current is not None and current.id == activity.user.id:
                self.activity.show_activity(activity)

        self.ctx.run(load, show, owner=self)

    def _update_buttons(self) -> None:
        user = self.selected()
        me = self.ctx.user.id if self.ctx.user else None
        for button in (self.edit_button, self.reset_button):
            button.setEnabled(user is not None)
        self_selected = user is not None and user.id == me
        for button in (self.active_button, self.role_button, self.delete_button):
            button.setEnabled(user is not None and not self_selected)
        if user is not None:
            self.active_button.setText(
                self.tr("Deactivate") if user.active else self.tr("Activate")
            )
            self.role_button.setText(
                self.tr("Make attendee") if user.role is Role.ADMIN else self.tr("Make organizer")
            )

    # Actions -----------------------------------------------------------------------------------

    def _write(self, fn: Callable[[], Any], message: str) -> None:
        self.ctx.run(fn, lambda _r: self.ctx.announce(Changed.USERS, message), owner=self)

    def open_import(self) -> None:
        """The spreadsheet import wizard (attendees, guests, agenda, FAQ)."""
        from admin_console.importwizard import open_import_wizard

        open_import_wizard(self.ctx, self)

    def open_export(self) -> None:
        """Export attendees, participants, transcripts or statistics to Excel."""
        from admin_console.exports import open_export

        open_export(self.ctx, self)

    def edit_selected(self) -> None:
        user = self.selected()
        if user is not None:
            self.dialog = UserDialog(self.ctx, user, self)
            self.dialog.open()

    def toggle_active(self) -> None:
        user = self.selected()
        if user is None:
            return
        activate = not user.active
        if not activate and not self.ctx.dialogs.confirm(
            self,
            self.tr("Deactivate {0}?").format(user.username),
            self.tr("They are signed out everywhere at once and cannot sign in until an "
                    "organizer activates the account again. Nothing is deleted."),
            action=self.tr("Deactivate"),
        ):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def work() -> UserInfo:
            with db.session() as s:
                return users_service.set_active(s, actor, user.id, activate)

        self._write(work, (self.tr("{0} activated.") if activate
                           else self.tr("{0} deactivated.")).format(user.username))

    def toggle_role(self) -> None:
        user = self.selected()
        if user is None:
            return
        role = Role.ATTENDEE if user.role is Role.ADMIN else Role.ADMIN
        text = (
            self.tr("{0} will be able to sign in to this console and change everything in it.")
            if role is Role.ADMIN
            else self.tr("{0} will no longer be able to use this console.")
        ).format(user.name)
        if not self.ctx.dialogs.confirm(
            self,
            (self.tr("Make {0} an organizer?") if role is Role.ADMIN
             else self.tr("Make {0} an attendee?")).format(user.username),
            text,
            action=self.tr("Change role"),
        ):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def work() -> UserInfo:
            with db.session() as s:
                return users_service.set_role(s, actor, user.id, role)

        self._write(work, self.tr("{0} is now {1}.").format(
            user.username, self.tr("an organizer") if role is Role.ADMIN else self.tr("an attendee")
        ))

    def reset_password(self) -> None:
        user = self.selected()
        if user is None:
            return
        if not self.ctx.dialogs.confirm(
            self,
            self.tr("Reset the password of {0}?").format(user.username),
            self.tr("They are signed out everywhere and get a temporary password, shown to you "
                    "once, which they must change at their next sign-in."),
            action=self.tr("Reset password"),
        ):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def shown(temporary: str) -> None:
            self.ctx.announce(Changed.USERS)
            self.ctx.dialogs.show_secret(
                self,
                self.tr("Temporary password"),
                self.tr("The temporary password of {0} ({1}):").format(user.name, user.username),
                temporary,
            )

        self.ctx.run(lambda: auth.reset_password(db, actor, user.id), shown, owner=self)

    def delete_selected(self) -> None:
        user = self.selected()
        if user is None or (self.ctx.user is not None and user.id == self.ctx.user.id):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def impact() -> UserDeletion:
            with db.read() as s:
                return users_service.deletion_impact(s, actor, user.id)

        def ask(found: UserDeletion) -> None:
            if not self.ctx.dialogs.confirm(
                self,
                self.tr("Delete {0}?").format(found.username),
                self.tr(
                    "The account and its personal data are erased: {0} conversation(s), {1} "
                    "message(s) and {2} enrolment(s). Event figures keep their totals. This "
                    "cannot be undone; to only stop someone signing in, deactivate instead."
                ).format(fmt_int(found.conversations), fmt_int(found.messages),
                         fmt_int(found.enrolments)),
            ):
                return

            def delete() -> UserDeletion:
                with db.session() as s:
                    return users_service.delete_user(s, actor, user.id)

            self._write(delete, self.tr("User {0} deleted.").format(found.username))

        self.ctx.run(impact, ask, owner=self)
