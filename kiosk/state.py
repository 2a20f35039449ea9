"""The kiosk's local state file: what the admin panel sets on this machine (its name, the
assistants it shows, the theme) and the cached PIN hash, so the admin PIN works while the
database is away. Overrides the ``kiosk.name`` / ``kiosk.chatbots`` / ``kiosk.theme`` settings."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from shared.settings import Settings, get_settings

log = logging.getLogger("convergeai.kiosk")

STATE_FILE = "kiosk-state.json"


@dataclass(frozen=True)
class KioskState:
    """Local overrides; ``None`` means "use the setting"."""

    name: str | None = None
    chatbots: tuple[int, ...] | None = None
    theme: str | None = None
    pin_hash: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def with_changes(self, **changes: Any) -> KioskState:
        return replace(self, **changes)


def default_state_path(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir() / STATE_FILE


def parse_chatbot_ids(text: str) -> tuple[int, ...] | None:
    """``"3, 5"`` -> ``(3, 5)``; empty -> None (every available assistant)."""
    ids = []
    for part in text.split(","):
        part = part.strip()
        if part.isdigit():
            ids.append(int(part))
    return tuple(ids) if ids else None


def load_state(path: Path) -> KioskState:
    """Read the state file; a missing or broken file gives empty state (logged)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return KioskState()
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable kiosk state file %s: %s", path, exc)
        return KioskState()
    if not isinstance(raw, dict):
        return KioskState()
    chatbots = raw.get("chatbots")
    name = raw.get("name")
    theme = raw.get("theme")
    pin = raw.get("pin_hash")
    return KioskState(
        name=name if isinstance(name, str) and name.strip() else None,
        chatbots=(
            tuple(int(c) for c in chatbots if isinstance(c, int))
            if isinstance(chatbots, list)
            else None
        ),
        theme=theme if theme in ("light", "dark") else None,
        pin_hash=pin if isinstance(pin, str) and pin else None,
    )


def save_state(path: Path, state: KioskState) -> None:
    """Write atomically (temp file, fsync, rename): a power cut leaves the old or the new file."""
    data = asdict(state)
    data.pop("extra", None)
    if data["chatbots"] is not None:
        data["chatbots"] = list(data["chatbots"])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kiosk-state-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
