"""The kiosk window: screens, the attendee's visit, and all the background work behind them.

Every database and network call runs on the TaskRunner's pool; results come back on the GUI
thread. One attendee message is in flight at a time (so questions stay in order); each is in
the on-disk outbox before it is sent and leaves it once the database has it. A *visit* is one
person's use of the kiosk: the privacy wipe ends it, and nothing of it is shown afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QImage, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import text

from kiosk import backend
from kiosk.keyboard import KeyboardPanel, is_text_field, virtual_keyboard_requested
from kiosk.models import (
    FAILED,
    NOTICE,
    PENDING,
    SENDING,
    SENT,
    STREAMING,
    ChatbotListModel,
    TranscriptModel,
    Turn,
)
from kiosk.outbox import OUTBOX_FILE, Outbox, OutboxEntry, new_client_id
from kiosk.overlays import (
    AdminPanel,
    IdleOverlay,
    IdleWatcher,
    LockdownFilter,
    MessageOverlay,
    PinPad,
)
from kiosk.screens import (
    AttractScreen,
    BadgeScanFilter,
    BadgeScreen,
    ChatScreen,
    ChooserScreen,
    ConnectingScreen,
    ProfileScreen,
    RegisterScreen,
    Screen,
    SignInScreen,
    StartScreen,
    set_avatar_image,
)
from kiosk.state import KioskState, default_state_path, load_state, parse_chatbot_ids, save_state
from kiosk.widgets import Avatar, PhotoCache, button, label
from shared.db import Database
from shared.errors import (
    AuthenticationFailed,
    Conflict,
    DatabaseBusy,
    DatabaseUnavailable,
    KnownError,
    PasswordChangeRequired,
    SchemaMismatch,
    Throttled,
    ValidationError,
)
from shared.models import ConversationMode
from shared.services import auth, chat, chatbots, guests, kiosk_admin
from shared.services.auth import SignInResult
from shared.services.chat import ConversationInfo, MessagePage
from shared.services.chatbots import ChatbotInfo
from shared.services.common import Actor
from shared.services.guests import GuestInfo
from shared.services.responder import MessageInfo, Responder
from shared.settings import get_settings
from shared.ui.tasks import Task, TaskRunner
from shared.ui.theme import apply_theme

log = logging.getLogger("convergeai.kiosk")

LARGE_TEXT_SCALE = 1.3
OFFLINE_ERRORS = (DatabaseUnavailable, DatabaseBusy)
MAX_RETRY_DELAY = 15.0
PIN_LOCAL_LIMIT = 5


def _default_db() -> Database:
    return Database.from_settings()


class KioskWindow(QWidget):
    """The whole kiosk. Tests build it with a database factory, a responder factory and short
    timeouts; :func:`kiosk.app.main` builds it from the settings."""

    ready = Signal()
    screen_changed = Signal(str)
    wiped = Signal()
    reply_finished = Signal(str)  # the question's client_id
    delivered = Signal(str)  # a message left the outbox
    online_changed = Signal(bool)
    refreshed = Signal()
    exit_requested = Signal()
    admin_opened = Signal()

    def __init__(
        self,
        *,
        db_factory: Callable[[], Database] | None = None,
        responder_factory: Callable[[Database], Responder] | None = None,
        windowed: bool = False,
        demo: bool = False,
        idle_timeout: float | None = None,
        idle_warning: int | None = None,
        refresh_seconds: float | None = None,
        retry_seconds: float = 1.0,
        state_path: Path | None = None,
        outbox_path: Path | None = None,
        theme: str | None = None,
        large_text: bool | None = None,
        virtual_keyboard: bool | None = None,
        start: bool = True,
    ) -> None:
        super().__init__()
        settings = get_settings()
        self.setObjectName("kiosk")
        self.setWindowTitle(self.tr("ConvergeAI kiosk"))
        self.windowed = windowed
        self._db_factory = db_factory or _default_db
        self._responder_factory = responder_factory or backend.make_responder
        self._demo = demo
        self.idle_timeout = float(idle_timeout or settings["kiosk.idle_timeout"])
        self.idle_warning = int(idle_warning or settings["kiosk.idle_warning"])
        self.refresh_seconds = float(refresh_seconds or settings["kiosk.refresh_seconds"])
        self.retry_seconds = retry_seconds
        self.state_path = state_path or default_state_path(settings)
        self.state: KioskState = load_state(self.state_path)
        self.outbox = Outbox(outbox_path or settings.data_dir() / OUTBOX_FILE)
        self.theme = theme or self.state.theme or str(settings["kiosk.theme"])
        self._default_large_text = (
            bool(settings["kiosk.large_text"]) if large_text is None else large_text
        )
        self.large_text = self._default_large_text
        keyboard_on = (
            bool(settings["kiosk.virtual_keyboard"])
            if virtual_keyboard is None
            else virtual_keyboard
        )

        self.runner = TaskRunner(self, max_threads=6)
        self.db: Database | None = None
        self.responder: Responder | None = None
        self.online = False
        self.visit = uuid.uuid4().hex
        #: The visit's secret: it opens the visit's walk-up conversations and identifies its
        #: sign-in to the database (PostgreSQL's kiosk role shows nothing else; shared.roles).
        self.visit_key = secrets.token_urlsafe(32)
        self.signed: SignInResult | None = None
        self.chatbot: ChatbotInfo | None = None
        self.conversation: ConversationInfo | None = None
        self._after_sign_in: int | None = None
        self._after_refresh: Callable[[], None] | None = None
        self._pending_question: str | None = None
        self._previous_screen = "attract"
        self._sending: str | None = None
        self._attempts: dict[str, int] = {}
        self._to_end: list[tuple[int, str]] = []  # walk-up conversation, its visit's key
        self._to_revoke: list[tuple[str | None, str]] = []  # session token, visit key
        self._cleanup_busy = False
        self._refresh_busy = False
        self._older_busy = False
        self._retry_delay = retry_seconds
        self._connect_delay = retry_seconds
        self._attract_bot: int | None = None
        self._pin_failures = 0
        self._pin_locked_until = 0.0
        self._allow_close = False
        self._shut_down = False
        self._narrow = False
        self._brand_text = "ConvergeAI"
        self.photos = PhotoCache()

        self.transcript = TranscriptModel(self)
        self.chatbots = ChatbotListModel(self)
        self._build(keyboard_on)
        self._apply_theme()

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self._app = app
        self.idle = IdleWatcher(int(self.idle_timeout * 1000), self)
        self.idle.idle.connect(self._on_idle)
        self.lockdown = LockdownFilter(self, locked=not windowed)
        self.lockdown.corner_gesture.connect(self.open_pin_pad)
        self.scanner = BadgeScanFilter(self)
        self.scanner.scanned.connect(self._badge_sign_in)
        for f in (self.idle, self.lockdown, self.scanner):
            app.installEventFilter(f)
        app.focusChanged.connect(self._focus_changed)

        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(int(self.refresh_seconds * 1000))
        self.refresh_timer.timeout.connect(self.refresh)
        self.retry_timer = QTimer(self)
        self.retry_timer.setSingleShot(True)
        self.retry_timer.timeout.connect(self._retry)
        self.connect_timer = QTimer(self)
        self.connect_timer.setSingleShot(True)
        self.connect_timer.timeout.connect(self._connect)

        if windowed:
            self.resize(1280, 800)
        else:
            self.setWindowFlags(
                Qt.WindowType.Window
                | Qt.WindowType.FramelessWindowHint
                | Qt.WindowType.WindowStaysOnTopHint
            )
        self.go("connecting")
        if start:
            QTimer.singleShot(0, self._connect)

    # Building ----------------------------------------------------------------------------------

    def _build(self, keyboard_on: bool) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        self.topbar = QFrame()
        self.topbar.setProperty("role", "topbar")
        bar = QHBoxLayout(self.topbar)
        bar.setContentsMargins(16, 10, 16, 10)
        bar.setSpacing(12)
        self.brand = label("ConvergeAI", "brand", wrap=False)
        self.brand.setMinimumWidth(110)
        self.brand.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.back_button = button(self.tr("‹ Back"), "bar")
        self.back_button.clicked.connect(self.back)
        self.offline_pill = label(self.tr("Offline"), "pill-warning", wrap=False)
        self.offline_pill.hide()
        self.text_button = button(self.tr("Larger text"), "bar")
        self.text_button.setCheckable(True)
        self.text_button.setAccessibleName(self.tr("Larger text"))
        self.text_button.clicked.connect(lambda: self.set_large_text(not self.large_text))
        self.profile_button = button(self.tr("My profile"), "bar")
        self.profile_button.clicked.connect(lambda: self.go("profile"))
        self.finish_button = button(self.tr("Finish"), "bar-finish")
        self.finish_button.clicked.connect(self.wipe)
        bar.addWidget(self.brand)
        bar.addWidget(self.back_button)
        bar.addStretch(1)
        bar.addWidget(self.offline_pill)
        bar.addWidget(self.text_button)
        bar.addWidget(self.profile_button)
        bar.addWidget(self.finish_button)
        root.addWidget(self.topbar)
        self.banner = label(
            self.tr(
                "Offline for a moment. Your questions are kept and will be sent when the "
                "connection returns."
            ),
            "banner",
        )
        self.banner.hide()
        root.addWidget(self.banner)

        self.stack = QStackedWidget()
        # The keyboard may take the room the screens would like: they scroll instead.
        self.stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        root.addWidget(self.stack, 1)
        self.connecting = ConnectingScreen()
        self.attract = AttractScreen()
        self.start_screen = StartScreen()
        self.signin = SignInScreen()
        self.badge = BadgeScreen()
        self.register = RegisterScreen()
        self.chooser = ChooserScreen(self.chatbots)
        self.chat = ChatScreen(self.transcript)
        self.profile = ProfileScreen()
        self.screens: dict[str, Screen] = {}
        self.pages: dict[str, QScrollArea] = {}
        for screen in (
            self.connecting,
            self.attract,
            self.start_screen,
            self.signin,
            self.badge,
            self.register,
            self.chooser,
            self.chat,
            self.profile,
        ):
            self.screens[screen.name] = screen
            # Each screen scrolls when the on-screen keyboard leaves it too little room.
            page = QScrollArea()
            page.setObjectName(f"page-{screen.name}")
            page.setWidgetResizable(True)
            page.setFrameShape(QFrame.Shape.NoFrame)
            page.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            page.setWidget(screen)
            self.pages[screen.name] = page
            self.stack.addWidget(page)
        self.keyboard = KeyboardPanel(self, prefer_qml=virtual_keyboard_requested())
        self.keyboard_enabled = keyboard_on
        root.addWidget(self.keyboard)

        self.idle_overlay = IdleOverlay(self)
        self.pin_pad = PinPad(self)
        self.admin = AdminPanel(self)
        self.message = MessageOverlay(self)

        self.attract.start.connect(self._tap_to_start)
        self.attract.ask.connect(self._ask_from_attract)
        self.start_screen.just_ask.connect(self.just_ask)
        self.start_screen.sign_in.connect(lambda: self.go("signin"))
        self.start_screen.badge.connect(lambda: self.go("badge"))
        self.start_screen.register.connect(lambda: self.go("register"))
        self.signin.submitted.connect(self._sign_in)
        self.badge.submitted.connect(self._badge_sign_in)
        self.register.submitted.connect(self._register)
        self.chooser.chosen.connect(self.choose)
        self.chooser.avatars_added.connect(self._load_photos)
        self.chat.send.connect(self.send)
        self.chat.load_older.connect(self._load_older)
        self.chat.avatars_added.connect(self._load_photos)
        self.profile.change_password.connect(self._change_password)
        self.profile.sign_out.connect(self.wipe)
        self.idle_overlay.continue_.connect(self._still_here)
        self.idle_overlay.finish.connect(self.wipe)
        self.idle_overlay.expired.connect(self.wipe)
        self.pin_pad.submitted.connect(self._check_pin)
        self.admin.save.connect(self._save_admin)
        self.admin.exit_kiosk.connect(self.exit_kiosk)

    # Look --------------------------------------------------------------------------------------

    def _apply_theme(self) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, "kiosk", self.theme, LARGE_TEXT_SCALE if self.large_text else 1.0)
        self.text_button.setChecked(self.large_text)
        self.chat.view.relayout()

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        self._apply_theme()

    def set_large_text(self, on: bool) -> None:
        if on != self.large_text:
            self.large_text = on
            self._apply_theme()
        self.text_button.setChecked(on)

    @property
    def kiosk_name(self) -> str:
        return self.state.name or get_settings().kiosk_name()

    @property
    def kiosk_ids(self) -> frozenset[int] | None:
        ids = self.state.chatbots
        if ids is None:
            ids = parse_chatbot_ids(str(get_settings()["kiosk.chatbots"]))
        return frozenset(ids) if ids is not None else None

    @property
    def actor(self) -> Actor | None:
        return self.signed.actor if self.signed is not None else None

    # Navigation --------------------------------------------------------------------------------

    def current(self) -> str:
        page = self.stack.currentWidget()
        widget = page.widget() if isinstance(page, QScrollArea) else None
        return widget.name if isinstance(widget, Screen) else ""

    def go(self, name: str) -> None:
        screen = self.screens[name]
        if name == "profile" and self.current() != "profile":
            self._previous_screen = self.current()
        self.stack.setCurrentWidget(self.pages[name])
        in_visit = name not in ("attract", "connecting")
        self.back_button.setVisible(
            in_visit and name != "chooser" or (name == "chooser" and self.signed is None)
        )
        self.finish_button.setVisible(in_visit)
        self.profile_button.setVisible(self.signed is not None and name != "profile")
        self.scanner.enabled = name in ("attract", "start")
        if not in_visit:
            self.idle.stop()
        else:
            self.idle.poke()
        focus = QApplication.focusWidget()
        if focus is not None and not screen.isAncestorOf(focus):
            focus.clearFocus()
        screen.entered()
        self._update_keyboard(QApplication.focusWidget())
        self.screen_changed.emit(name)

    def back(self) -> None:
        name = self.current()
        if name == "start":
            self.wipe()
        elif name in ("signin", "badge", "register") or name == "chooser":
            self.go("start")
        elif name == "chat":
            self._leave_chat()
            visible = self.chooser.visible_bots()
            if len(visible) > 1 or self.signed is not None:
                self.go("chooser")
            else:
                self.go("start")
        elif name == "profile":
            self.go(self._previous_screen if self._previous_screen != "profile" else "chooser")

    def _leave_chat(self) -> None:
        conv = self.conversation
        if conv is not None and conv.mode is ConversationMode.MULTIPLE:
            self._to_end.append((conv.id, self.visit_key))
        self.conversation = None
        self.chatbot = None
        self.transcript.clear()
        self.chat.reset()
        self._pump()

    # Connecting --------------------------------------------------------------------------------

    def _connect(self) -> None:
        if self._shut_down:
            return
        if self.db is None:
            self.go("connecting")
        factory, demo, make = self._db_factory, self._demo, self._responder_factory

        def work() -> tuple[Database, Responder]:
            db = backend.connect(factory, demo=demo)
            return db, make(db)

        self.runner.run(work, on_done=self._connected, on_error=self._connect_failed)

    def _connected(self, result: tuple[Database, Responder]) -> None:
        self.db, self.responder = result
        log.info("kiosk %s connected to %s", self.kiosk_name, self.db.describe())
        self._connect_delay = self.retry_seconds
        self.set_online(True)
        self.refresh_timer.start()
        self.refresh()
        self.go("attract")
        self._pump()
        # Everything built so far lives as long as the kiosk: keep it out of the cyclic
        # collector's full passes, which would otherwise pause the event loop as it grows.
        gc.collect()
        gc.freeze()
        self.ready.emit()

    def _connect_failed(self, exc: BaseException) -> None:
        if isinstance(exc, SchemaMismatch):
            delay = 60.0
            message = str(exc)
        elif isinstance(exc, KnownError):
            delay = self._connect_delay
            self._connect_delay = min(self._connect_delay * 2, 30.0)
            message = str(exc)
        else:
            log.error("unexpected error while connecting", exc_info=exc)
            delay = self._connect_delay
            self._connect_delay = min(self._connect_delay * 2, 30.0)
            message = self.tr("Something unexpected happened; it has been logged.")
        log.warning("database not ready: %s (retrying in %.0f s)", exc, delay)
        self.connecting.show_problem(message, delay)
        self.connect_timer.start(int(delay * 1000))

    # Online / offline ---------------------------------------------------------------------------

    def set_online(self, online: bool) -> None:
        if online == self.online:
            return
        self.online = online
        self.banner.setVisible(not online and self.db is not None)
        self.offline_pill.setVisible(not online and self.db is not None)
        if online:
            self._retry_delay = self.retry_seconds
            self.retry_timer.stop()
            QTimer.singleShot(0, self._pump)
        else:
            self._schedule_retry()
        self.online_changed.emit(online)

    def _schedule_retry(self) -> None:
        if not self.retry_timer.isActive() and not self._shut_down:
            self.retry_timer.start(int(self._retry_delay * 1000))
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_DELAY)

    def _retry(self) -> None:
        if self.db is None:
            return
        if self.outbox.pending():
            self._pump(force=True)
            return
        db = self.db

        def probe() -> None:
            with db.read() as s:
                s.execute(text("SELECT 1"))

        def back(_result: None) -> None:
            self.set_online(True)
            self.refresh()

        self.runner.run(probe, on_done=back, on_error=lambda _e: self._schedule_retry())

    def _offline_error(self, exc: BaseException) -> bool:
        """True (and go offline) when ``exc`` says the database is away."""
        if isinstance(exc, OFFLINE_ERRORS):
            self.set_online(False)
            return True
        return False

    # Refresh loop ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Look for assistants added or changed (and the PIN hash) in the background."""
        if self.db is None or self._refresh_busy:
            return
        self._refresh_busy = True
        db, actor, ids = self.db, self.actor, self.kiosk_ids

        def work() -> tuple[list[ChatbotInfo], dict[int, list[GuestInfo]], str | None]:
            with db.read() as s:
                bots = chatbots.list_for_attendees(s, actor, kiosk_ids=ids)
                people = {b.id: guests.list_for_attendees(s, actor, b.id) for b in bots}
                pin = kiosk_admin.pin_hash(s)
            return bots, people, pin

        def done(result: tuple[list[ChatbotInfo], dict[int, list[GuestInfo]], str | None]) -> None:
            self._refresh_busy = False
            if actor != self.actor:  # signed in or out meanwhile: ask again for the new person
                self.refresh()
                return
            bots, people, pin = result
            self.set_online(True)
            self.chatbots.set_chatbots(bots)
            for bot_id, found in people.items():
                self.chatbots.set_guests(bot_id, found)
            self.start_screen.set_walk_up(any(b.multiple_mode for b in bots))
            self._update_attract(bots)
            if pin is not None and pin != self.state.pin_hash:
                self.state = self.state.with_changes(pin_hash=pin)
                self._save_state()
            self.refreshed.emit()
            if self._after_refresh is not None:
                self._after_refresh()

        def failed(exc: BaseException) -> None:
            self._refresh_busy = False
            if not self._offline_error(exc):
                if isinstance(exc, KnownError):
                    log.warning("refresh: %s", exc)
                else:
                    log.error("refresh failed", exc_info=exc)

        self.runner.run(work, on_done=done, on_error=failed)

    def _update_attract(self, bots: list[ChatbotInfo]) -> None:
        first = bots[0] if bots else None
        name = first.event_name if first else ""
        self._set_brand(self.kiosk_name if not first else first.event_name)
        if first is None:
            self.attract.set_event("", [])
            self._attract_bot = None
            return
        if self._attract_bot == first.id:
            self.attract.event_label.setText(name)
            return
        self._attract_bot = first.id
        responder = self.responder
        if responder is None:
            return
        self.runner.run(
            lambda: backend.suggestions(responder, first.id, limit=3),
            on_done=lambda qs: self.attract.set_event(name, qs),
            on_error=lambda _e: self.attract.set_event(name, []),
        )
        self.attract.event_label.setText(name)

    def _set_brand(self, text: str) -> None:
        """The event's name at the top left (blank when narrow: the corner stays free)."""
        self._brand_text = text
        self.brand.setText("" if self._narrow else text)

    # Photos ------------------------------------------------------------------------------------

    def _load_photos(self, avatars: list[Avatar]) -> None:
        if self.db is None:
            return
        for avatar in avatars:
            guest = avatar.property("guest")
            if not isinstance(guest, GuestInfo) or not guest.has_photo:
                continue
            key = (guest.id, guest.photo_updated_at)
            known, image = self.photos.get(key)
            if known:
                avatar.set_image(image)
                continue
            if self.photos.want(key, self._photo_setter(avatar)):
                self._fetch_photo(key)

    @staticmethod
    def _photo_setter(avatar: Avatar) -> Callable[[QImage | None], None]:
        def deliver(image: QImage | None) -> None:
            set_avatar_image(avatar, image)

        return deliver

    def _fetch_photo(self, key: tuple[int, Any]) -> None:
        assert self.db is not None
        db, actor = self.db, self.actor

        def work() -> QImage | None:
            with db.read() as s:
                photo = guests.photo(s, actor, key[0])
            if photo is None:
                return None
            image = QImage.fromData(photo.data)
            return None if image.isNull() else image

        self.runner.run(
            work,
            on_done=lambda img: self.photos.put(key, img),
            on_error=lambda _e: self.photos.fail(key),
        )

    # Starting a visit --------------------------------------------------------------------------

    def _tap_to_start(self) -> None:
        self.go("start")

    def _ask_from_attract(self, question: str) -> None:
        self._pending_question = question
        if any(b.multiple_mode for b in self.chatbots.chatbots()):
            self.just_ask()
        else:
            self.go("start")

    def just_ask(self) -> None:
        """Walk-up use: no sign-in, an anonymous conversation that ends with the visit."""
        self.chooser.set_walk_up_only(True)
        bots = self.chooser.visible_bots()
        if len(bots) == 1:
            self.choose(bots[0].id)
        else:
            self.go("chooser")

    def _show_chooser(self) -> None:
        self.chooser.set_walk_up_only(False)
        bots = self.chooser.visible_bots()
        if len(bots) == 1 and self._after_sign_in is None:
            self.choose(bots[0].id)
        else:
            self.go("chooser")

    # Signing in --------------------------------------------------------------------------------

    def _need_db(self, show: Callable[[str], None]) -> Database | None:
        if self.db is None:
            show(self.tr("The kiosk is still connecting; please try again in a moment."))
        return self.db

    def _sign_in(self, login: str, password: str, new_password: str) -> None:
        db = self._need_db(self.signin.set_message)
        if db is None:
            return
        device, key = self.kiosk_name, self.visit_key
        self.signin.set_busy(True)

        def work() -> SignInResult:
            if new_password:
                return auth.complete_password_reset(
                    db, login, password, new_password, device=device, visit_key=key
                )
            return auth.sign_in(db, login, password, device=device, visit_key=key)

        def failed(exc: BaseException) -> None:
            self.signin.set_busy(False)
            if isinstance(exc, PasswordChangeRequired):
                self.signin.ask_new_password(
                    self.tr("Your password was reset by an organizer: choose a new one.")
                )
            elif self._offline_error(exc):
                self.signin.set_message(self._offline_sign_in_text())
            elif isinstance(exc, KnownError):
                self.signin.set_message(str(exc))
                if not isinstance(exc, Throttled):
                    self.signin.password.edit.clear()
            else:
                self._bug(exc)

        self.runner.run(work, on_done=self._signed_in, on_error=failed)

    def _offline_sign_in_text(self) -> str:
        return self.tr(
            "Signing in is not possible right now (no connection). You can still just ask."
        )

    def _badge_sign_in(self, code: str) -> None:
        if self.current() != "badge":
            self.go("badge")
        db = self._need_db(self.badge.set_message)
        if db is None:
            return
        device, key = self.kiosk_name, self.visit_key
        self.badge.set_busy(True)

        def failed(exc: BaseException) -> None:
            self.badge.set_busy(False)
            self.badge.code.edit.clear()
            if self._offline_error(exc):
                self.badge.set_message(self._offline_sign_in_text())
            elif isinstance(exc, KnownError):
                self.badge.set_message(str(exc))
            else:
                self._bug(exc)

        self.runner.run(
            lambda: auth.sign_in_with_badge(db, code, device=device, visit_key=key),
            on_done=self._signed_in,
            on_error=failed,
        )

    def _register(self, values: dict[str, str]) -> None:
        db = self._need_db(self.register.set_message)
        if db is None:
            return
        device, key = self.kiosk_name, self.visit_key
        self.register.set_busy(True)

        def work() -> SignInResult:
            auth.register(
                db,
                username=values["username"],
                email=values["email"],
                name=values["name"],
                password=values["password"],
            )
            return auth.sign_in(
                db, values["username"], values["password"], device=device, visit_key=key
            )

        def failed(exc: BaseException) -> None:
            self.register.set_busy(False)
            if isinstance(exc, ValidationError):
                self.register.show_error(exc.field, str(exc))
            elif isinstance(exc, Conflict):
                field = "username" if "username" in str(exc).lower() else "email"
                self.register.show_error(field, str(exc))
            elif self._offline_error(exc):
                self.register.set_message(
                    self.tr("Creating an account is not possible right now (no connection).")
                )
            elif isinstance(exc, KnownError):
                self.register.set_message(str(exc))
            else:
                self._bug(exc)

        self.runner.run(work, on_done=self._signed_in, on_error=failed)

    def _signed_in(self, result: SignInResult) -> None:
        self.signed = result
        for screen in (self.signin, self.badge, self.register):
            screen.reset()  # no password stays in a field
        self.profile.set_user(result.user.name, result.user.email)
        self.profile_button.show()
        self.chatbots.clear()
        self.refresh()
        wanted = self._after_sign_in
        self._after_sign_in = None
        if wanted is not None:
            self._open_after_refresh(wanted)
        else:
            self._open_after_refresh(None)

    def _open_after_refresh(self, chatbot_id: int | None) -> None:
        """After signing in, the list includes the assistants joined: wait for it (or, if the
        database does not answer, go on after a few seconds with what is known)."""
        visit = self.visit

        def go() -> None:
            if self._shut_down or self._after_refresh is not go or self.visit != visit:
                return  # done already, or the visit was wiped meanwhile
            self._after_refresh = None
            if chatbot_id is not None and self.chatbots.chatbot(chatbot_id) is not None:
                self.choose(chatbot_id)
            else:
                self._show_chooser()

        self._after_refresh = go
        QTimer.singleShot(4000, self, go)  # bound to the window's lifetime
        if not self._refresh_busy:
            self.refresh()

    # Choosing and chatting ---------------------------------------------------------------------

    def choose(self, chatbot_id: int) -> None:
        """Open a conversation with an assistant: personal when signed in, else walk-up."""
        bot = self.chatbots.chatbot(chatbot_id)
        if bot is None:
            return
        if self.signed is not None and bot.single_mode:
            mode = ConversationMode.SINGLE
        elif bot.multiple_mode:
            mode = ConversationMode.MULTIPLE
        else:
            self._after_sign_in = bot.id
            self.start_screen.set_message(
                self.tr("Please sign in to talk to {0}.").format(bot.name)
            )
            self.go("start")
            return
        self._open_chat(bot, mode)

    def _open_chat(self, bot: ChatbotInfo, mode: ConversationMode) -> None:
        if self.db is None:
            return
        db, actor, responder, kiosk = self.db, self.actor, self.responder, self.kiosk_name
        key = self.visit_key
        assert responder is not None

        def work() -> tuple[ConversationInfo, MessagePage | None, list[str]]:
            with db.session() as s:
                if actor is not None and mode is ConversationMode.SINGLE:
                    chatbots.join(s, actor, bot.id)
                conv = chat.start_conversation(
                    s, actor, bot.id, mode, kiosk_name=kiosk, resume=True, access_key=key
                )
            page = None
            if mode is ConversationMode.SINGLE and conv.message_count:
                with db.read() as s:
                    page = chat.list_messages(s, actor, conv.id, limit=50, access_key=key)
            return conv, page, backend.suggestions(responder, bot.id)

        def done(result: tuple[ConversationInfo, MessagePage | None, list[str]]) -> None:
            conv, page, questions = result
            self.chatbot, self.conversation = bot, conv
            self.transcript.clear()
            self.chat.reset()
            if page is not None and page.items:
                self.transcript.has_more = page.has_more
                self.transcript.before_id = page.before_id
                self.transcript.append(
                    Turn("notice:resume", self.tr("Your previous conversation"), kind=NOTICE)
                )
                for message in page.items:
                    self.transcript.append(Turn.of(message))
                name = self.signed.user.name if self.signed else ""
                self.transcript.append(
                    Turn("notice:welcome", self.tr("Welcome back, {0}!").format(name), kind=NOTICE)
                )
            else:
                self.transcript.append(
                    Turn(
                        "notice:hello",
                        self.tr("Hello! Ask me anything about {0}.").format(bot.event_name),
                        kind=NOTICE,
                    )
                )
            self.chat.set_chatbot(bot.name, bot.event_name, mode is ConversationMode.MULTIPLE)
            self.chat.set_guests(list(self.chatbots.guests(bot.id)))
            self.chat.set_suggestions(questions)
            self.go("chat")
            question, self._pending_question = self._pending_question, None
            if question:
                self.send(question)

        def failed(exc: BaseException) -> None:
            if self._offline_error(exc):
                self.message.show_message(
                    self.tr("Not available right now"),
                    self.tr(
                        "The assistant cannot be reached at the moment. Please try again in "
                        "a minute."
                    ),
                )
            elif isinstance(exc, KnownError):
                self.message.show_message(self.tr("Not available"), str(exc))
                self.refresh()
            else:
                self._bug(exc)

        self.runner.run(work, on_done=done, on_error=failed)

    def _load_older(self) -> None:
        conv, db = self.conversation, self.db
        if conv is None or db is None or self._older_busy or not self.transcript.has_more:
            return
        self._older_busy = True
        actor, before, key = self.actor, self.transcript.before_id, self.visit_key

        def work() -> MessagePage:
            with db.read() as s:
                return chat.list_messages(
                    s, actor, conv.id, before_id=before, limit=50, access_key=key
                )

        def done(page: MessagePage) -> None:
            self._older_busy = False
            self.transcript.has_more = page.has_more
            self.transcript.before_id = page.before_id
            self.transcript.prepend(Turn.of(m) for m in page.items)

        def failed(exc: BaseException) -> None:
            self._older_busy = False
            self._offline_error(exc)

        self.runner.run(work, on_done=done, on_error=failed)

    def send(self, content: str) -> None:
        """The attendee's question: into the outbox (on disk), on screen, then sent."""
        conv = self.conversation
        content = content.strip()
        if conv is None or not content:
            return
        actor = self.actor if conv.mode is ConversationMode.SINGLE else None
        entry = OutboxEntry(
            client_id=new_client_id(),
            conversation_id=conv.id,
            content=content,
            user_id=actor.user_id if actor else None,
            role=actor.role.value if actor else None,
            visit=self.visit,
            access_key=self.visit_key,
        )
        try:
            self.outbox.add(entry)
        except OSError:
            log.exception("cannot write the outbox; the message is kept in memory only")
        state = SENDING if self.online else PENDING
        self.transcript.append(Turn(entry.client_id, content, is_user=True, state=state))
        self.chat.view.follow()
        self._pump()

    def _pump(self, force: bool = False) -> None:
        """Send the next message of the outbox, if none is in flight."""
        if self._sending is not None or self.db is None or self._shut_down:
            return
        pending = self.outbox.pending()
        if not pending:
            self._cleanup()
            return
        if not self.online and not force:
            self._schedule_retry()
            return
        self._deliver(pending[0])

    def _deliver(self, entry: OutboxEntry) -> None:
        assert self.db is not None
        assert self.responder is not None
        self._sending = entry.client_id
        mine = self._on_screen(entry)
        reply_key = "reply:" + entry.client_id
        if mine:
            self.transcript.update(entry.client_id, state=SENDING)
            self.chat.set_sending(True)
        db, responder, outbox = self.db, self.responder, self.outbox

        def work(task: Task[tuple[MessageInfo, MessageInfo]]) -> tuple[MessageInfo, MessageInfo]:
            result = chat.send_message(
                db,
                entry.actor,
                entry.conversation_id,
                entry.content,
                responder,
                client_id=entry.client_id,
                on_delta=task.report if mine else None,
                cancel=task.cancel_event,
                access_key=entry.access_key,
            )
            outbox.mark_delivered(entry.client_id)  # here: even if the task was cancelled
            return result

        def progress(delta: object) -> None:
            if not isinstance(delta, str) or not self._on_screen(entry):
                return
            if self.transcript.turn(reply_key) is None:
                self.chat.set_sending(False)
                self.transcript.append(Turn(reply_key, delta, state=STREAMING))
            else:
                self.transcript.append_text(reply_key, delta)

        def done(result: tuple[MessageInfo, MessageInfo]) -> None:
            question, reply = result
            self._sending = None
            self._attempts.pop(entry.client_id, None)
            self.set_online(True)
            if self._on_screen(entry):
                self.chat.set_sending(False)
                self.transcript.update(entry.client_id, state=SENT, message_id=question.id)
                final = Turn(
                    reply_key, reply.content, source=reply.source.value, message_id=reply.id
                )
                if not self.transcript.update(
                    reply_key,
                    text=final.text,
                    source=final.source,
                    state=SENT,
                    message_id=final.message_id,
                ):
                    self.transcript.append(final)
                self.chat.view.relayout()
            self.delivered.emit(entry.client_id)
            self.reply_finished.emit(entry.client_id)
            self._forget_visit(entry)
            self._pump()

        def failed(exc: BaseException) -> None:
            self._sending = None
            current = self._on_screen(entry)
            if current:
                self.chat.set_sending(False)
                self.transcript.remove(reply_key)
            if self._offline_error(exc):
                if current:
                    self.transcript.update(entry.client_id, state=PENDING)
                return
            attempts = self._attempts.get(entry.client_id, 0) + 1
            self._attempts[entry.client_id] = attempts
            if isinstance(exc, KnownError) or attempts >= 3:
                if not isinstance(exc, KnownError):
                    log.error("giving up on a message after %d attempts", attempts, exc_info=exc)
                else:
                    log.warning("message refused: %s", exc)
                self.outbox.discard(entry.client_id)
                self._forget_visit(entry)
                if current:
                    self.transcript.update(entry.client_id, state=FAILED)
                    self.transcript.append(Turn("notice:" + entry.client_id, str(exc), kind=NOTICE))
                self._pump()
            else:
                log.error("sending a message failed; will retry", exc_info=exc)
                self._schedule_retry()

        self.runner.submit(
            work, on_done=done, on_error=failed, on_progress=progress if mine else None
        )

    def _forget_visit(self, entry: OutboxEntry) -> None:
        """A message of an earlier visit (from before a restart, say) left the outbox: once no
        other one of that visit waits, sign its attendee out (its key opens nothing more)."""
        key = entry.access_key
        if key is None or entry.visit == self.visit or key == self.visit_key:
            return
        if any(e.access_key == key for e in self.outbox.pending()):
            return
        if entry.user_id is not None and all(k != key for _t, k in self._to_revoke):
            self._to_revoke.append((None, key))

    def _on_screen(self, entry: OutboxEntry) -> bool:
        """Whether this message belongs to the conversation on screen (same visit, same chat)."""
        conv = self.conversation
        return entry.visit == self.visit and conv is not None and conv.id == entry.conversation_id

    def _cleanup(self) -> None:
        """Once the outbox is empty: end finished walk-up conversations, revoke tokens."""
        if self._cleanup_busy or not (self._to_end or self._to_revoke) or self.db is None:
            return
        if not self.online:
            self._schedule_retry()
            return
        self._cleanup_busy = True
        db = self.db
        ends, tokens = list(self._to_end), list(self._to_revoke)
        self._to_end.clear()
        self._to_revoke.clear()

        def work() -> None:
            with db.session() as s:
                for conv_id, key in ends:
                    try:
                        with s.begin_nested():
                            chat.end_conversation(s, None, conv_id, access_key=key)
                    except KnownError as exc:
                        log.info("could not end conversation %s: %s", conv_id, exc)
                for token, key in tokens:
                    auth.sign_out(s, token, visit_key=key)

        def done(_r: None) -> None:
            self._cleanup_busy = False

        def failed(exc: BaseException) -> None:
            self._cleanup_busy = False
            self._to_end.extend(ends)
            self._to_revoke.extend(tokens)
            if not self._offline_error(exc):
                log.error("ending the visit in the database failed", exc_info=exc)

        self.runner.run(work, on_done=done, on_error=failed)

    # Profile -----------------------------------------------------------------------------------

    def _change_password(self, current: str, new: str) -> None:
        db, actor = self.db, self.actor
        if db is None or actor is None:
            return

        def done(_r: None) -> None:
            self.profile.current.edit.clear()
            self.profile.new.edit.clear()
            self.profile.set_message(self.tr("Your password was changed."), ok=True)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                self.profile.new.set_error(str(exc))
            elif isinstance(exc, AuthenticationFailed):
                self.profile.current.set_error(str(exc))
            elif self._offline_error(exc):
                self.profile.set_message(self.tr("Not possible right now (no connection)."))
            elif isinstance(exc, KnownError):
                self.profile.set_message(str(exc))
            else:
                self._bug(exc)

        self.runner.run(
            lambda: auth.change_password(db, actor, current, new), on_done=done, on_error=failed
        )

    # Idle and privacy --------------------------------------------------------------------------

    def _on_idle(self) -> None:
        if self.current() in ("attract", "connecting") and not self.admin.isVisible():
            return
        if self.idle_overlay.isVisible():
            return
        self.idle_overlay.start(self.idle_warning)

    def _still_here(self) -> None:
        self.idle.poke()

    def wipe(self) -> None:
        """End the visit: nothing of it stays on screen, in a model, a field or the clipboard.

        Undelivered messages stay in the outbox and are delivered in the background, without
        being shown; walk-up conversations are ended and the sign-in revoked once they are.
        """
        self.runner.cancel_all()
        self._sending = None
        self._refresh_busy = False
        self._older_busy = False
        self._cleanup_busy = False
        self.photos.forget_waiters()
        if self.signed is not None:
            self._to_revoke.append((self.signed.token, self.visit_key))
        if self.conversation is not None and self.conversation.mode is ConversationMode.MULTIPLE:
            self._to_end.append((self.conversation.id, self.visit_key))
        self.signed = None
        self.chatbot = None
        self.conversation = None
        self._after_sign_in = None
        self._after_refresh = None
        self._pending_question = None
        self.visit = uuid.uuid4().hex
        self.visit_key = secrets.token_urlsafe(32)
        self.transcript.clear()
        for screen in self.screens.values():
            screen.reset()
        self.chooser.set_walk_up_only(False)
        self.chat.set_sending(False)
        self.idle_overlay.stop()
        self.pin_pad.close_pad()
        self.admin.hide()
        self.message.hide()
        focus = QApplication.focusWidget()
        if focus is not None:
            focus.clearFocus()
        self.keyboard.reset()
        QGuiApplication.clipboard().clear()
        self.chatbots.set_chatbots([b for b in self.chatbots.chatbots() if b.public])
        self.set_large_text(self._default_large_text)
        self.profile_button.hide()
        self.go("attract" if self.db is not None else "connecting")
        self._pump()
        self.refresh()
        self.wiped.emit()

    # Keyboard ----------------------------------------------------------------------------------

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        self._update_keyboard(new)

    def _update_keyboard(self, focus: QWidget | None) -> None:
        show = (
            self.keyboard_enabled
            and is_text_field(focus)
            and focus is not None
            and self.isAncestorOf(focus)
            and focus.isVisible()
        )
        if show and not self.keyboard.isVisible():
            self.keyboard.fit(self.width(), self.height())
        self.chat.set_compact(bool(show))
        self.keyboard.setVisible(bool(show))
        if show and focus is not None:
            page = self.pages.get(self.current())
            if page is not None:
                QTimer.singleShot(0, lambda: page.ensureWidgetVisible(focus, 40, 80))

    # Lock-down and admin -----------------------------------------------------------------------

    def open_pin_pad(self) -> None:
        if self.pin_pad.isVisible() or self.admin.isVisible():
            return
        self.idle.poke()
        self.pin_pad.open_pad()

    def _check_pin(self, pin: str) -> None:
        now = time.monotonic()
        if now < self._pin_locked_until:
            wait = int(self._pin_locked_until - now) + 1
            self.pin_pad.set_message(
                self.tr("Too many wrong PINs. Try again in {0} seconds.").format(wait), True
            )
            self.pin_pad.clear()
            return
        db, cached, device = self.db, self.state.pin_hash, self.kiosk_name
        self.pin_pad.set_busy(True)

        def work() -> str:
            if db is not None:
                try:
                    kiosk_admin.verify_kiosk_pin(db, pin, device=device)
                    return "ok"
                except OFFLINE_ERRORS:
                    pass
            if cached is None:
                raise AuthenticationFailed(
                    "The database cannot be reached and this kiosk has no copy of the PIN yet."
                )
            if kiosk_admin.pin_matches(pin, cached):
                return "ok-offline"
            return "wrong-offline"

        def done(result: str) -> None:
            self.pin_pad.set_busy(False)
            if result == "wrong-offline":
                self._pin_failures += 1
                if self._pin_failures >= PIN_LOCAL_LIMIT:
                    wait = 30 * 2 ** (self._pin_failures - PIN_LOCAL_LIMIT)
                    self._pin_locked_until = time.monotonic() + min(wait, 900)
                self.pin_pad.set_message(self.tr("Wrong PIN."), True)
                self.pin_pad.clear()
                return
            self._pin_failures = 0
            self.pin_pad.close_pad()
            self.open_admin()

        def failed(exc: BaseException) -> None:
            self.pin_pad.set_busy(False)
            self.pin_pad.clear()
            if isinstance(exc, KnownError):
                self.pin_pad.set_message(str(exc), True)
            else:
                self._bug(exc)

        self.runner.run(work, on_done=done, on_error=failed)

    def open_admin(self) -> None:
        bots = self.chatbots.chatbots()
        self.admin.populate(self.kiosk_name, bots, self.state.chatbots, self.theme)
        self.admin.open()
        self.admin_opened.emit()
        if self.db is None:
            return
        db = self.db

        def work() -> list[ChatbotInfo]:
            with db.read() as s:
                return chatbots.list_for_attendees(s, None)

        def done(all_bots: list[ChatbotInfo]) -> None:
            if self.admin.isVisible():
                self.admin.populate(
                    self.admin.name.text(), all_bots, self.state.chatbots, self.admin.theme
                )

        self.runner.run(work, on_done=done, on_error=lambda _e: None)

    def _save_admin(self, name: str, ids: tuple[int, ...] | None, theme: str) -> None:
        self.state = self.state.with_changes(name=name or None, chatbots=ids, theme=theme)
        self._save_state()
        if theme != self.theme:
            self.set_theme(theme)
        self.admin.message.setText(self.tr("Saved."))
        self.chatbots.clear()
        self._attract_bot = None
        self.refresh()

    def _save_state(self) -> None:
        try:
            save_state(self.state_path, self.state)
        except OSError:
            log.exception("cannot save the kiosk state file %s", self.state_path)

    def exit_kiosk(self) -> None:
        log.info("kiosk exited from the admin panel")
        self._allow_close = True
        self.admin.hide()
        self.close()
        self.exit_requested.emit()

    # Errors ------------------------------------------------------------------------------------

    def _bug(self, exc: BaseException) -> None:
        log.error("unexpected error", exc_info=exc)
        self.show_calm_error()

    def show_calm_error(self) -> None:
        """A bug happened (it was logged): say so calmly and carry on."""
        self.message.show_message(
            self.tr("Sorry, something went wrong"),
            self.tr("It has been reported. Please try again, or ask at the Help Desk."),
        )

    # Qt ----------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        size = event.size()
        for overlay in (self.idle_overlay, self.pin_pad, self.admin, self.message):
            overlay.setGeometry(self.rect())
        portrait = size.height() > size.width()
        for screen in self.screens.values():
            screen.set_portrait(portrait)
        # A narrow top bar keeps its buttons whole: the brand gives way (its corner stays).
        self._narrow = size.width() < 1000
        self.brand.setMaximumWidth(110 if self._narrow else 16_777_215)
        self._set_brand(self._brand_text)
        self.text_button.setText(self.tr("A+") if self._narrow else self.tr("Larger text"))
        if self.keyboard.isVisible():
            self.keyboard.fit(size.width(), size.height())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.windowed and not self._allow_close:
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)

    def shutdown(self) -> None:
        """Stop timers and background work; remove the application-wide filters."""
        if self._shut_down:
            return
        self._shut_down = True
        for timer in (self.refresh_timer, self.retry_timer, self.connect_timer, self.idle.timer):
            timer.stop()
        self.idle_overlay.timer.stop()
        for f in (self.idle, self.lockdown, self.scanner):
            self._app.removeEventFilter(f)
        with contextlib.suppress(RuntimeError, TypeError):
            self._app.focusChanged.disconnect(self._focus_changed)
        self.runner.cancel_all()
        self.runner.wait(10_000)
