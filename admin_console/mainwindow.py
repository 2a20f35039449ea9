"""The console window: startup, first organizer, sign-in, then the sidebar and its views."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context, qsettings
from admin_console.signin import (
    FirstAdminPage,
    SignInPage,
    Startup,
    StartupPage,
    open_database,
    remember_token,
    remembered_token,
)
from admin_console.theme import apply_admin_theme
from admin_console.views.base import View
from admin_console.widgets import Toaster
from shared.db import Database
from shared.errors import KnownError
from shared.services import auth
from shared.services.auth import SignInResult
from shared.services.common import UserInfo
from shared.ui.resources import resource_path
from shared.ui.theme import THEMES

log = logging.getLogger("convergeai.admin")

#: How often the dashboard refreshes by itself, in milliseconds.
AUTO_REFRESH_MS = 30_000


def icon(name: str) -> QIcon:
    path = resource_path("admin", f"{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


class MainWindow(QMainWindow):
    """The console's only top-level window."""

    def __init__(self, ctx: Context, *, theme: str = "light", demo: bool = False) -> None:
        super().__init__()
        self.ctx = ctx
        self.demo = demo
        self.theme = theme
        self.setWindowTitle(self.tr("ConvergeAI Admin Console"))
        self.setObjectName("mainWindow")
        self.setMinimumSize(1024, 640)

        self.pages = QStackedWidget()
        self.startup = StartupPage()
        self.startup.retry.connect(self.start)
        self.first_admin = FirstAdminPage(ctx)
        self.first_admin.created.connect(self._first_admin_created)
        self.sign_in = SignInPage(ctx)
        self.sign_in.signed_in.connect(self._signed_in)
        self.console = QWidget()
        self.console.setObjectName("console")
        for page in (self.startup, self.first_admin, self.sign_in, self.console):
            self.pages.addWidget(page)
        self.setCentralWidget(self.pages)

        self.status_label = QLabel()
        self.status_label.setObjectName("statusText")
        self.statusBar().addWidget(self.status_label, 1)
        self.db_label = QLabel()
        self.db_label.setProperty("role", "muted")
        self.statusBar().addPermanentWidget(self.db_label)

        self.toaster = Toaster(self)
        ctx.notify.connect(self.notify)
        self.views: list[View] = []
        self.sidebar = QListWidget()
        self.view_stack = QStackedWidget()
        self.user_label = QLabel()
        self._build_console()
        self._shortcuts: list[QShortcut] = []
        self._build_shortcuts()
        self.restore_layout()

    # Layout ------------------------------------------------------------------------------------

    def _build_console(self) -> None:
        from admin_console.views.agenda import AgendaView
        from admin_console.views.assistants import AssistantsView
        from admin_console.views.dashboard import DashboardView
        from admin_console.views.faq import FaqView
        from admin_console.views.guests import GuestsView
        from admin_console.views.settings_view import SettingsView
        from admin_console.views.transcripts import TranscriptsView
        from admin_console.views.users import UsersView

        row = QHBoxLayout(self.console)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        side = QFrame()
        side.setObjectName("sidebar")
        side.setFixedWidth(220)
        column = QVBoxLayout(side)
        column.setContentsMargins(12, 16, 12, 12)
        brand = QLabel("ConvergeAI")
        brand.setObjectName("sidebarBrand")
        column.addWidget(brand)
        sub = QLabel(self.tr("Admin console"))
        sub.setObjectName("sidebarSub")
        column.addWidget(sub)
        column.addSpacing(12)
        self.sidebar.setObjectName("nav")
        self.sidebar.setIconSize(QSize(18, 18))
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column.addWidget(self.sidebar, 1)
        self.user_label.setObjectName("sidebarUser")
        self.user_label.setWordWrap(True)
        column.addWidget(self.user_label)
        self.sign_out_button = QPushButton(self.tr("Sign out"))
        self.sign_out_button.setObjectName("sidebarButton")
        self.sign_out_button.clicked.connect(self.sign_out)
        column.addWidget(self.sign_out_button)
        row.addWidget(side)
        self.view_stack.setObjectName("viewStack")
        row.addWidget(self.view_stack, 1)

        classes: list[tuple[type[View], str]] = [
            (DashboardView, "dashboard"),
            (AssistantsView, "assistants"),
            (GuestsView, "guests"),
            (AgendaView, "agenda"),
            (FaqView, "faq"),
            (UsersView, "users"),
            (TranscriptsView, "transcripts"),
            (SettingsView, "settings"),
        ]
        for number, (cls, icon_name) in enumerate(classes, start=1):
            view = cls(self.ctx)
            self.views.append(view)
            self.view_stack.addWidget(view)
            item = QListWidgetItem(icon(icon_name), self.tr(view.title))
            item.setToolTip(f"{view.title} (Ctrl+{number})")
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self._show_view)
        settings_view = self.views[-1]
        theme_signal = getattr(settings_view, "theme_chosen", None)
        if theme_signal is not None:
            theme_signal.connect(self.set_theme)

    def _build_shortcuts(self) -> None:
        def add(keys: QKeySequence | QKeySequence.StandardKey | str,
                slot: Callable[[], object]) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)

        for number in range(1, 9):
            add(f"Ctrl+{number}", partial(self.show_view, number - 1))
        add(QKeySequence.StandardKey.New, lambda: self._current_action("new_item"))
        add(QKeySequence.StandardKey.Find, lambda: self._current_action("focus_search"))
        add("F5", lambda: self._current_action("refresh"))
        add(QKeySequence.StandardKey.Delete, lambda: self._current_action("delete_selected"))

    def _current_action(self, name: str) -> None:
        if self.pages.currentWidget() is not self.console:
            return
        view = self.current_view()
        if view is not None:
            getattr(view, name)()

    def current_view(self) -> View | None:
        widget = self.view_stack.currentWidget()
        return widget if isinstance(widget, View) else None

    def show_view(self, index: int) -> None:
        if self.pages.currentWidget() is self.console and 0 <= index < len(self.views):
            self.sidebar.setCurrentRow(index)

    def view(self, cls: type[View]) -> View:
        for view in self.views:
            if isinstance(view, cls):
                return view
        raise LookupError(cls)

    def _show_view(self, index: int) -> None:
        if not 0 <= index < len(self.views):
            return
        self.view_stack.setCurrentIndex(index)
        view = self.views[index]
        self.setWindowTitle(f"{view.title} — ConvergeAI Admin Console")
        view.activate()

    # Startup and sign-in -----------------------------------------------------------------------

    def start(self) -> None:
        """Open the database in the background, then show the right first screen."""
        self.pages.setCurrentWidget(self.startup)
        self.startup.busy()
        self.status_label.setText(self.tr("Opening the database…"))
        db, token = self.ctx.db, remembered_token()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, KnownError):
                self.startup.failed(str(exc))
            else:
                log.error("cannot open the database", exc_info=exc)
                self.startup.failed(f"{type(exc).__name__}: {exc}")
            self.status_label.setText(self.tr("The database cannot be used."))

        demo = self.demo
        self.ctx.run(
            lambda: open_database(db, token, demo=demo), self._opened, owner=self, on_error=failed
        )

    def _opened(self, result: tuple[Database, Startup]) -> None:
        db, startup = result
        self.ctx.db = db
        self.db_label.setText(db.describe())
        self.status_label.setText("")
        if startup.user is not None and startup.token is not None:
            self._enter(startup.user, startup.token)
            return
        if startup.note:
            remember_token(None)
            self.sign_in.show_message(startup.note)
        if not startup.has_admin:
            self.pages.setCurrentWidget(self.first_admin)
            self.first_admin.name.setFocus()
        else:
            self.show_sign_in()

    def show_sign_in(self) -> None:
        self.pages.setCurrentWidget(self.sign_in)
        self.sign_in.login.setFocus()

    def _first_admin_created(self, user: UserInfo) -> None:
        self.notify(self.tr("Organizer account {0} created. Please sign in.").format(
            user.username), "success")
        self.sign_in.login.setText(user.username)
        self.show_sign_in()
        self.sign_in.password.setFocus()

    def _signed_in(self, result: SignInResult, remember: bool) -> None:
        remember_token(result.token if remember else None)
        self._enter(result.user, result.token)

    def _enter(self, user: UserInfo, token: str) -> None:
        self.ctx.user = user
        self.ctx.token = token
        self.user_label.setText(f"{user.name}\n@{user.username}")
        self.pages.setCurrentWidget(self.console)
        for view in self.views:
            view.stale = True
        try:
            last = int(str(qsettings().value("window/view", 0) or 0))
        except ValueError:
            last = 0
        if self.sidebar.currentRow() == max(0, min(last, len(self.views) - 1)):
            self._show_view(self.sidebar.currentRow())
        else:
            self.sidebar.setCurrentRow(max(0, min(last, len(self.views) - 1)))
        self.status_label.setText(self.tr("Signed in as {0}").format(user.username))
        self.ctx.signed_in.emit()

    def sign_out(self) -> None:
        """Revoke the session token (remembered or not) and go back to the sign-in screen."""
        token, db = self.ctx.token, self.ctx.db
        remember_token(None)
        self.ctx.user = None
        self.ctx.token = None
        self.ctx.runner.cancel_all()
        if token and db is not None:

            def revoke() -> None:
                with db.session() as s:
                    auth.sign_out(s, token)

            self.ctx.run(revoke, owner=self)
        self.sign_in.set_changing(False)
        self.sign_in.login.clear()
        self.show_sign_in()
        self.status_label.setText(self.tr("Signed out."))
        self.ctx.signed_out.emit()

    # Theme, notifications, layout --------------------------------------------------------------

    def set_theme(self, theme: str) -> None:
        if theme not in THEMES:
            return
        self.theme = theme
        self.ctx.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_admin_theme(app, theme)
        settings = qsettings()
        settings.setValue("ui/theme", theme)
        self.ctx.theme_changed.emit(theme)

    def notify(self, text: str, kind: str = "info") -> None:
        """A non-modal notification, also kept in the status bar."""
        self.toaster.show(text, kind)
        self.status_label.setText(text)

    def restore_layout(self) -> None:
        settings = qsettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        state = settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        for view in self.views:
            restore = getattr(view, "restore_state", None)
            if restore is not None:
                restore(settings)

    def save_layout(self) -> None:
        settings = qsettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/view", max(0, self.sidebar.currentRow()))
        for view in self.views:
            save = getattr(view, "save_state", None)
            if save is not None:
                save(settings)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        super().closeEvent(event)

    def changed(self, what: Changed) -> None:
        self.ctx.bus.announce(what)
