"""The outbox: attendees' messages kept on disk until the database has them.

Each message is appended as a JSON line (fsync'd) with a ``client_id`` uuid before it is sent;
a ``delivered`` line follows once the database stored it. ``send_message`` is idempotent on
``client_id``, so a message retried after an unknown outcome is stored exactly once. The file is
compacted when nothing is pending. Thread-safe: workers mark deliveries.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.models import Role
from shared.services.common import Actor

log = logging.getLogger("convergeai.kiosk")

OUTBOX_FILE = "kiosk-outbox.jsonl"


@dataclass(frozen=True)
class OutboxEntry:
    """One attendee message waiting for (or being given to) the database."""

    client_id: str
    conversation_id: int
    content: str
    user_id: int | None
    role: str | None
    #: The kiosk visit that wrote it: replies are only shown to that visit.
    visit: str
    #: The visit's secret key, which lets the database deliver it later (on PostgreSQL's kiosk
    #: role, a walk-up conversation and a signed-in attendee's session are reached only with
    #: it). Kept on disk in place of the session token; it opens nothing once the visit's
    #: sign-in is revoked, which happens when its last message is delivered.
    access_key: str | None = None

    @property
    def actor(self) -> Actor | None:
        if self.user_id is None or self.role is None:
            return None
        return Actor(self.user_id, Role(self.role))


def new_client_id() -> str:
    return uuid.uuid4().hex


class Outbox:
    """An append-only JSON-lines file of pending messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pending: dict[str, OutboxEntry] = {}
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("cannot read the outbox %s: %s", self.path, exc)
            return
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn last line after a power cut
            if not isinstance(record, dict):
                continue
            if record.get("delivered"):
                self._pending.pop(str(record["delivered"]), None)
            elif "client_id" in record:
                try:
                    entry = OutboxEntry(**record)
                except TypeError:
                    continue
                self._pending[entry.client_id] = entry
        if self._pending:
            log.info("outbox: %d message(s) waiting from before", len(self._pending))

    def _append(self, record: dict[str, object]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by the kiosk's account alone: it holds messages and visits' keys.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def add(self, entry: OutboxEntry) -> None:
        """Keep a message on disk before it is sent."""
        with self._lock:
            self._pending[entry.client_id] = entry
            self._append(asdict(entry))

    def discard(self, client_id: str) -> None:
        """Give up on a message the database refuses for good (the assistant was closed)."""
        self.mark_delivered(client_id)

    def mark_delivered(self, client_id: str) -> None:
        """The database has it: forget it (and compact once nothing is pending)."""
        with self._lock:
            if self._pending.pop(client_id, None) is None:
                return
            self._append({"delivered": client_id})
            if not self._pending:
                try:
                    self.path.unlink(missing_ok=True)
                except OSError as exc:  # the delivered line is there: still correct
                    log.warning("cannot compact the outbox: %s", exc)

    def pending(self) -> list[OutboxEntry]:
        with self._lock:
            return list(self._pending.values())

    def get(self, client_id: str) -> OutboxEntry | None:
        with self._lock:
            return self._pending.get(client_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
