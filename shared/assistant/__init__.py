"""The event assistant: answers attendees' questions from the event's own data.

- :mod:`.knowledge` takes a frozen snapshot of an event's public data (never attendee data).
- :mod:`.index` ranks it (SQLite FTS5 BM25, fuzzy names) and caches one index per event,
  rebuilt only when the data's fingerprint changes.
- :mod:`.offline` answers from templates (:mod:`.templates`, translatable) filled only with
  values from the snapshot: always available, never a made-up fact.
- :mod:`.prompt` builds the messages for an OpenAI-compatible LLM (:mod:`.llm`).
- :mod:`.engine` ties them together as the chat service's ``Responder``.

Nothing here imports Qt.
"""
