"""Every setting, declared once: its type, default and description.

Precedence: environment variable > config file > default. The config file is TOML, found at the
path in ``CONVERGEAI_CONFIG`` or else ``config.toml`` in the platform config folder. A setting
``section.key`` lives in the file as ``[section] key = ...`` and in the environment as
``CONVERGEAI_SECTION_KEY``. (After qutebrowser's ``configdata.yml`` and Picard's ``options.py``.)
"""

from __future__ import annotations

import contextlib
import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from shared.errors import ConfigError

APP_NAME = "ConvergeAI"
APP_SLUG = "convergeai"
ENV_PREFIX = "CONVERGEAI_"

SettingType = Literal["str", "int", "float", "bool", "path"]


@dataclass(frozen=True)
class Setting:
    """One declared setting."""

    key: str
    type: SettingType
    default: Any
    description: str
    secret: bool = False
    #: Extra environment variables, lower precedence than ``CONVERGEAI_...`` (for example the
    #: seed's ``DATABASE_URL``).
    fallback_env: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.key.replace(".", "_").upper()


def _default_kiosk_name() -> str:
    return socket.gethostname() or "kiosk"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database.url",
        "str",
        "",
        "SQLAlchemy URL of the database, for example postgresql://user:pass@host/convergeai or "
        "mysql://user:pass@host/convergeai. Empty: an SQLite file in the user data folder.",
        secret=True,
        fallback_env=("DATABASE_URL",),
    ),
    Setting(
        "database.busy_timeout",
        "float",
        10.0,
        "Seconds an SQLite writer waits for another writer before giving up.",
        minimum=0.1,
        maximum=300,
    ),
    Setting(
        "database.connect_timeout",
        "int",
        5,
        "Seconds to wait for a networked database server to answer a new connection.",
        minimum=1,
        maximum=120,
    ),
    Setting(
        "auth.bcrypt_cost",
        "int",
        12,
        "bcrypt work factor for passwords (each step doubles the time; 12 is about 250 ms).",
        minimum=4,
        maximum=16,
    ),
    Setting(
        "auth.session_days",
        "int",
        30,
        "Days a remembered admin console sign-in stays valid.",
        minimum=1,
        maximum=365,
    ),
    Setting(
        "auth.session_hours",
        "int",
        12,
        "Hours a sign-in without 'remember me' stays valid.",
        minimum=1,
        maximum=72,
    ),
    Setting(
        "auth.max_failures",
        "int",
        5,
        "Failed sign-ins allowed (per account, and per device) before a growing wait is imposed.",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "auth.lockout_seconds",
        "int",
        30,
        "First wait after too many failed sign-ins; it doubles with each further failure.",
        minimum=1,
        maximum=3600,
    ),
    Setting(
        "auth.lockout_max_seconds",
        "int",
        900,
        "Longest wait imposed after failed sign-ins.",
        minimum=1,
        maximum=86400,
    ),
    Setting(
        "auth.badge_key",
        "str",
        "",
        "Secret key the badge codes are hashed with. Every machine sharing a database needs the "
        "same key. Empty: a key file in the user data folder, created on first use.",
        secret=True,
    ),
    Setting(
        "event.timezone",
        "str",
        "",
        "IANA time zone of the venue (for example Europe/Paris), used for 'today', 'now' and "
        "daily figures. Empty: the machine's local time zone.",
    ),
    Setting(
        "llm.base_url",
        "str",
        "",
        "Base URL of an OpenAI-compatible server, for example http://127.0.0.1:11434/v1 (Ollama), "
        "http://127.0.0.1:8080/v1 (llama.cpp), https://api.openai.com/v1. Empty: offline answers "
        "only.",
    ),
    Setting("llm.model", "str", "", "Model name the LLM server should use."),
    Setting(
        "llm.api_key",
        "str",
        "",
        "API key sent as a Bearer token (never written to logs or to the database).",
        secret=True,
    ),
    Setting(
        "llm.connect_timeout",
        "float",
        3.0,
        "Seconds to wait for the LLM server to accept a connection.",
        minimum=0.1,
        maximum=60,
    ),
    Setting(
        "llm.read_timeout",
        "float",
        10.0,
        "Longest silence, in seconds, allowed between two pieces of a streamed reply.",
        minimum=0.1,
        maximum=300,
    ),
    Setting(
        "llm.total_timeout",
        "float",
        30.0,
        "Longest time, in seconds, a whole reply may take before the offline answer is used.",
        minimum=1,
        maximum=600,
    ),
    Setting("llm.temperature", "float", 0.2, "Sampling temperature.", minimum=0, maximum=2),
    Setting(
        "llm.max_tokens",
        "int",
        400,
        "Longest reply, in tokens.",
        minimum=16,
        maximum=32000,
    ),
    Setting(
        "llm.token_limit_field",
        "str",
        "max_tokens",
        "Request field carrying the reply limit: max_tokens, or max_completion_tokens for newer "
        "OpenAI models.",
        choices=("max_tokens", "max_completion_tokens"),
    ),
    Setting(
        "llm.max_retries",
        "int",
        2,
        "Retries on connection refused, 429 or 503 (never after text was shown).",
        minimum=0,
        maximum=10,
    ),
    Setting(
        "assistant.max_question_length",
        "int",
        500,
        "Longest attendee question, in characters, the assistant reads (the rest is cut).",
        minimum=50,
        maximum=4000,
    ),
    Setting(
        "assistant.history_turns",
        "int",
        6,
        "How many earlier messages of the conversation the LLM sees.",
        minimum=0,
        maximum=50,
    ),
    Setting(
        "kiosk.name",
        "str",
        "",
        "Name of this kiosk, recorded with its conversations. Empty: the machine's host name.",
    ),
    Setting(
        "kiosk.idle_timeout",
        "int",
        90,
        "Seconds without a touch before the kiosk asks 'Still there?'.",
        minimum=15,
        maximum=3600,
    ),
    Setting(
        "kiosk.idle_warning",
        "int",
        20,
        "Seconds the 'Still there?' countdown lasts before everything is wiped.",
        minimum=20,
        maximum=300,
    ),
    Setting(
        "kiosk.virtual_keyboard",
        "bool",
        True,
        "Show the on-screen keyboard when a text field has focus (off where the device has "
        "its own).",
    ),
    Setting(
        "kiosk.theme",
        "str",
        "light",
        "Colour theme of the kiosk.",
        choices=("light", "dark"),
    ),
    Setting(
        "kiosk.large_text",
        "bool",
        False,
        "Start the kiosk with large text.",
    ),
    Setting(
        "kiosk.chatbots",
        "str",
        "",
        "Comma-separated ids of the assistants this kiosk shows. Empty: every available one.",
    ),
    Setting(
        "kiosk.refresh_seconds",
        "int",
        5,
        "How often, in seconds, the kiosk looks for assistants added or changed.",
        minimum=1,
        maximum=60,
    ),
    Setting(
        "admin.theme",
        "str",
        "light",
        "Colour theme of the admin console.",
        choices=("light", "dark"),
    ),
    Setting(
        "log.level",
        "str",
        "INFO",
        "Level of the log file.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    Setting(
        "log.dir",
        "path",
        "",
        "Folder of the rotating log files. Empty: the platform log folder.",
    ),
)

SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Value:
    """An effective setting value and where it came from."""

    setting: Setting
    value: Any
    source: str

    def display(self) -> str:
        """The value as ``config show`` prints it, secrets masked."""
        if self.setting.secret and self.value not in ("", None):
            if self.setting.key == "database.url":
                return mask_url(str(self.value))
            return "********"
        return str(self.value)


def mask_url(url: str) -> str:
    """Hide the password of a database URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "********"


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"Setting {setting.key} from {origin}: expected {expected}, got {raw!r}")

    value: Any
    if setting.type in ("str", "path"):
        if not isinstance(raw, str):
            raise bad("text")
        value = raw.strip() if setting.type == "path" else raw
    elif setting.type == "bool":
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on"):
            value = True
        elif isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "off", ""):
            value = False
        else:
            raise bad("true or false")
    elif setting.type == "int":
        if isinstance(raw, bool):
            raise bad("a whole number")
        try:
            value = int(raw) if not isinstance(raw, float) or raw.is_integer() else None
        except (TypeError, ValueError):
            value = None
        if value is None:
            raise bad("a whole number")
    elif setting.type == "float":
        if isinstance(raw, bool):
            raise bad("a number")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise bad("a number") from None
    else:  # pragma: no cover - the declarations above are the only types
        raise AssertionError(setting.type)
    if setting.minimum is not None and value < setting.minimum:
        raise bad(f"at least {setting.minimum:g}")
    if setting.maximum is not None and value > setting.maximum:
        raise bad(f"at most {setting.maximum:g}")
    if setting.choices and value not in setting.choices:
        raise bad("one of " + ", ".join(setting.choices))
    return value


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file is looked for."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_SLUG, appauthor=False)) / "config.toml"


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out


@dataclass(frozen=True)
class Settings:
    """The effective settings. Build with :meth:`load`; read with ``settings["key"]``."""

    values: Mapping[str, Value]
    config_path: Path
    config_found: bool
    env: Mapping[str, str] = field(repr=False, default_factory=dict)

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, config_path: Path | None = None
    ) -> Settings:
        """Read the config file and the environment; raise ConfigError on bad values."""
        env = dict(os.environ if env is None else env)
        path = config_path or default_config_path(env)
        file_values: dict[str, Any] = {}
        found = path.is_file()
        if found:
            try:
                with path.open("rb") as fh:
                    file_values = _flatten(tomllib.load(fh))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"Cannot read the config file {path}: {exc}") from exc
            unknown = sorted(set(file_values) - set(SETTINGS_BY_KEY))
            if unknown:
                raise ConfigError(
                    f"Unknown setting(s) in {path}: {', '.join(unknown)}. "
                    "See `convergeai config show` for the known ones."
                )
        values: dict[str, Value] = {}
        for setting in SETTINGS:
            if setting.env_var in env:
                origin = f"environment {setting.env_var}"
                raw: Any = env[setting.env_var]
            elif any(name in env for name in setting.fallback_env):
                name = next(n for n in setting.fallback_env if n in env)
                origin = f"environment {name}"
                raw = env[name]
            elif setting.key in file_values:
                origin = f"config file {path}"
                raw = file_values[setting.key]
            else:
                values[setting.key] = Value(setting, setting.default, "default")
                continue
            values[setting.key] = Value(setting, _coerce(setting, raw, origin), origin)
        settings = cls(values=values, config_path=path, config_found=found, env=env)
        settings.timezone()  # fail early on a bad zone name
        return settings

    def __getitem__(self, key: str) -> Any:
        return self.values[key].value

    def source(self, key: str) -> str:
        return self.values[key].source

    # Derived values ------------------------------------------------------------------------

    def data_dir(self) -> Path:
        """The per-user data folder (default SQLite file, badge key file, kiosk outbox)."""
        return Path(platformdirs.user_data_dir(APP_SLUG, appauthor=False))

    def log_dir(self) -> Path:
        configured: str = self["log.dir"]
        if configured:
            return Path(configured).expanduser()
        return Path(platformdirs.user_log_dir(APP_SLUG, appauthor=False))

    def database_url(self) -> str:
        """The configured URL, or the default SQLite file in the data folder."""
        url: str = self["database.url"]
        if url:
            return url
        return f"sqlite:///{self.data_dir() / 'convergeai.db'}"

    def timezone(self) -> ZoneInfo:
        """The venue's time zone."""
        name: str = self["event.timezone"]
        if not name:
            return local_zone()
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"Setting event.timezone from {self.source('event.timezone')}: "
                f"unknown time zone {name!r} (use a name such as Europe/Paris)"
            ) from None

    def kiosk_name(self) -> str:
        name: str = self["kiosk.name"]
        return name.strip() or _default_kiosk_name()


def local_zone() -> ZoneInfo:
    """The machine's local zone as a ZoneInfo, UTC when it cannot be determined."""
    tz_env = os.environ.get("TZ")
    candidates: list[str] = []
    if tz_env:
        candidates.append(tz_env.lstrip(":"))
    with contextlib.suppress(OSError):
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            candidates.append(link.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    for name in candidates:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


_override: Settings | None = None


@cache
def _loaded() -> Settings:
    return Settings.load()


def get_settings() -> Settings:
    """The process-wide settings (loaded once)."""
    return _override if _override is not None else _loaded()


def use_settings(settings: Settings | None) -> None:
    """Replace the process-wide settings (tests, the CLI's reload); ``None`` reloads."""
    global _override
    _override = settings
    _loaded.cache_clear()


def describe_settings(formatter: Callable[[Setting], str]) -> list[str]:
    """Lines describing each setting, for generated documentation."""
    return [formatter(s) for s in SETTINGS]


def settings_markdown() -> str:
    """The reference of every setting, for docs/settings.md (regenerated, never hand-edited)."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated from shared/settings.py by `convergeai config docs`; do not edit. -->",
        "",
        "Precedence: environment variable > config file > default. The config file is TOML, at the",
        "path in `CONVERGEAI_CONFIG` or `config.toml` in the platform config folder",
        "(`~/.config/convergeai/` on Linux, `%LOCALAPPDATA%\\convergeai\\` on Windows). A setting",
        "`section.key` is written `[section]` / `key = value` in the file and read from",
        "`CONVERGEAI_SECTION_KEY` in the environment. `convergeai config show` prints the",
        "effective values and where each came from.",
        "",
    ]
    section = ""
    for s in SETTINGS:
        head = s.key.split(".")[0]
        if head != section:
            section = head
            lines += [f"## [{section}]", ""]
        default = repr(s.default) if s.type == "str" or s.type == "path" else str(s.default)
        if s.type == "bool":
            default = "true" if s.default else "false"
        facts = [f"type {s.type}", f"default `{default}`"]
        if s.minimum is not None or s.maximum is not None:
            facts.append(f"from {s.minimum:g} to {s.maximum:g}")
        if s.choices:
            facts.append("one of " + ", ".join(f"`{c}`" for c in s.choices))
        if s.secret:
            facts.append("secret: masked in `config show`, never logged")
        env = f"`{s.env_var}`"
        if s.fallback_env:
            env += " (or " + ", ".join(f"`{e}`" for e in s.fallback_env) + ")"
        lines += [
            f"### `{s.key}`",
            "",
            s.description,
            "",
            f"- {'; '.join(facts)}",
            f"- environment: {env}",
            "",
        ]
    return "\n".join(lines)
