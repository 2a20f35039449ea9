"""Settings: the LLM server (tested in the background, saved to the config file), the kiosk
admin PIN (shared by every kiosk through the database) and the console's theme."""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from admin_console.configfile import update_section
from admin_console.context import Changed, Context
from admin_console.views.base import View
from admin_console.widgets import FormErrors, heading, muted
from shared.errors import KnownError, ValidationError
from shared.services import kiosk_admin
from shared.settings import (
    SETTINGS_BY_KEY,
    Settings,
    default_config_path,
    get_settings,
    use_settings,
)

LLM_KEYS = ("llm.base_url", "llm.model", "llm.api_key")


def health_check(base_url: str, model: str, api_key: str) -> tuple[bool, str]:
    """Ask the LLM server whether it answers (a worker-thread call)."""
    from shared.assistant.llm import LLMClient

    if not base_url.strip():
        raise ValidationError("Enter the server's URL first.", "base_url")
    try:
        client = LLMClient(base_url, model, api_key=api_key, connect_timeout=3, read_timeout=5)
    except ValueError as exc:
        raise ValidationError(str(exc), "base_url") from None
    try:
        result = client.health()
    finally:
        client.close()
    detail = result.detail
    if result.ok:
        detail = f"{detail} ({result.latency_ms:.0f} ms)"
    return result.ok, detail


def _section(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("panel")
    column = QVBoxLayout(frame)
    column.setContentsMargins(18, 16, 18, 16)
    column.setSpacing(10)
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    column.addWidget(label)
    frame.setMaximumWidth(920)
    return frame, column


class SettingsView(View):
    """The LLM server, the kiosk PIN and the theme."""

    title = "Settings"
    watches = Changed.SETTINGS
    theme_chosen = Signal(str)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        body.setObjectName("viewBody")
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(16)
        layout.addWidget(heading(self.tr("Settings")))

        # LLM server ------------------------------------------------------------------------
        llm, column = _section(self.tr("Language model server"))
        column.addWidget(
            muted(
                self.tr(
                    "An OpenAI-compatible server (Ollama, llama.cpp, vLLM, OpenAI) makes answers "
                    "more natural. Without one, the assistant answers from the event data "
                    "offline. These settings are saved in this computer's config file, {0}; "
                    "a kiosk on another computer reads its own."
                ).format(default_config_path())
            )
        )
        form = QFormLayout()
        self.llm_errors = FormErrors(form, QLabel())
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("http://127.0.0.1:11434/v1")
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("llama3.1:8b")
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText(self.tr("only if the server needs one"))
        self.llm_errors.add("base_url", self.base_url, self.tr("Server URL"))
        self.llm_errors.add("model", self.model_edit, self.tr("Model"))
        self.llm_errors.add("api_key", self.api_key, self.tr("API key"))
        column.addLayout(form)
        column.addWidget(self.llm_errors.general)
        self.env_note = muted("")
        self.env_note.setObjectName("envNote")
        column.addWidget(self.env_note)
        row = QHBoxLayout()
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.clicked.connect(self.test_connection)
        self.save_button = QPushButton(self.tr("Save to config file"))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save_llm)
        row.addWidget(self.test_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        column.addLayout(row)
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        column.addWidget(self.test_result)
        layout.addWidget(llm)

        # Kiosk PIN -------------------------------------------------------------------------
        pin, column = _section(self.tr("Kiosk admin PIN"))
        column.addWidget(
            muted(
                self.tr(
                    "Staff type this PIN at a kiosk to reach its settings or leave full screen. "
                    "It is stored (hashed) in the database, so one PIN works on every kiosk. "
                    "6 to 12 digits."
                )
            )
        )
        pin_form = QFormLayout()
        self.pin_errors = FormErrors(pin_form, QLabel())
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin2 = QLineEdit()
        self.pin2.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin2.setMaxLength(12)
        self.pin_errors.add("pin", self.pin, self.tr("New PIN"))
        self.pin_errors.add("pin2", self.pin2, self.tr("Repeat PIN"))
        column.addLayout(pin_form)
        column.addWidget(self.pin_errors.general)
        self.pin_button = QPushButton(self.tr("Set PIN"))
        self.pin_button.clicked.connect(self.set_pin)
        pin_row = QHBoxLayout()
        pin_row.addWidget(self.pin_button)
        pin_row.addStretch(1)
        column.addLayout(pin_row)
        layout.addWidget(pin)

        # Theme -----------------------------------------------------------------------------
        theme, column = _section(self.tr("Appearance"))
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Theme")))
        self.theme = QComboBox()
        self.theme.addItem(self.tr("Light"), "light")
        self.theme.addItem(self.tr("Dark"), "dark")
        self.theme.currentIndexChanged.connect(
            lambda _i: self.theme_chosen.emit(str(self.theme.currentData()))
        )
        row.addWidget(self.theme)
        row.addStretch(1)
        column.addLayout(row)
        layout.addWidget(theme)
        layout.addStretch(1)
        ctx.theme_changed.connect(self._theme_shown)

    def _theme_shown(self, theme: str) -> None:
        index = self.theme.findData(theme)
        if index >= 0 and index != self.theme.currentIndex():
            self.theme.blockSignals(True)
            self.theme.setCurrentIndex(index)
            self.theme.blockSignals(False)

    def refresh(self) -> None:
        super().refresh()
        settings = get_settings()
        self.base_url.setText(str(settings["llm.base_url"]))
        self.model_edit.setText(str(settings["llm.model"]))
        self.api_key.setText(str(settings["llm.api_key"]))
        self._theme_shown(self.ctx.theme)
        overridden = [
            SETTINGS_BY_KEY[key].env_var for key in LLM_KEYS
            if SETTINGS_BY_KEY[key].env_var in os.environ
        ]
        self.env_note.setText(
            self.tr(
                "Note: the environment variable(s) {0} are set on this computer and override "
                "the config file."
            ).format(", ".join(overridden))
            if overridden
            else self.tr(
                "Environment variables (CONVERGEAI_LLM_BASE_URL, CONVERGEAI_LLM_MODEL, "
                "CONVERGEAI_LLM_API_KEY) would override the config file; none is set."
            )
        )

    def test_connection(self) -> None:
        self.llm_errors.clear()
        self.test_result.setProperty("kind", "")
        self.test_result.setText(self.tr("Testing…"))
        self.test_button.setEnabled(False)
        url, model, key = self.base_url.text(), self.model_edit.text(), self.api_key.text()

        def done(result: tuple[bool, str]) -> None:
            self.test_button.setEnabled(True)
            ok, detail = result
            self.test_result.setProperty("kind", "success" if ok else "error")
            self.test_result.setText(("✓ " if ok else "✗ ") + detail)
            self._restyle(self.test_result)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText("")
            if isinstance(exc, KnownError):
                self.llm_errors.show(exc)
            else:
                self.ctx.report_error(exc, self)

        self.ctx.run(lambda: health_check(url, model, key), done, owner=self, on_error=failed)

    @staticmethod
    def _restyle(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def save_llm(self) -> None:
        self.llm_errors.clear()
        values = {
            "base_url": self.base_url.text().strip() or None,
            "model": self.model_edit.text().strip() or None,
            "api_key": self.api_key.text().strip() or None,
        }
        path = default_config_path()

        def work() -> Settings:
            update_section(path, "llm", values)
            return Settings.load()

        def done(settings: Settings) -> None:
            use_settings(settings)
            self.ctx.announce(
                Changed.SETTINGS, self.tr("LLM settings saved to {0}.").format(path)
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, KnownError):
                self.llm_errors.show(exc)
            else:
                self.ctx.report_error(exc, self)

        self.ctx.run(work, done, owner=self, on_error=failed)

    def set_pin(self) -> None:
        self.pin_errors.clear()
        pin, again = self.pin.text(), self.pin2.text()
        if pin != again:
            self.pin_errors.show(ValidationError(self.tr("The PINs differ."), "pin2"))
            return
        db, actor = self.ctx.database, self.ctx.actor
        self.pin_button.setEnabled(False)

        def done(_r: object) -> None:
            self.pin_button.setEnabled(True)
            self.pin.clear()
            self.pin2.clear()
            self.ctx.announce(Changed.SETTINGS, self.tr("Kiosk admin PIN set."))

        def failed(exc: BaseException) -> None:
            self.pin_button.setEnabled(True)
            if isinstance(exc, KnownError):
                self.pin_errors.show(exc)
            else:
                self.ctx.report_error(exc, self)

        self.ctx.run(lambda: kiosk_admin.set_kiosk_pin(db, actor, pin), done, owner=self,
                     on_error=failed)
