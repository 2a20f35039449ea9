"""The event assistant as the chat service's :class:`~shared.services.responder.Responder`.

:class:`Assistant` answers from the event's index (built once per event by an
:class:`~.index.IndexCache`, rebuilt when the data changes). With an LLM configured it asks the
LLM first, streaming its text; whenever the LLM cannot give a complete answer the attendee gets
the offline answer, which is always computed first (a millisecond or two) so it is ready.

Streaming contract (for the kiosk):

- ``on_delta`` receives text to append to the reply bubble as it arrives: the LLM's pieces, or
  the offline answer in one piece.
- When :meth:`Assistant.respond` returns, ``Reply.text`` is the final text of the bubble, and the
  kiosk shows exactly that (replacing what the deltas built). Usually the two are the same.
- They differ only when the LLM broke off mid-answer (:class:`~.llm.LLMStreamError`): the
  attendee must not be left with half an answer, so a short separator line and the full offline
  answer are appended through ``on_delta`` (a kiosk that only appends still shows a right
  answer), and ``Reply.text`` is the offline answer alone (source OFFLINE): that is what is
  stored and what the bubble should end up showing.
- ``cancel``: checked before asking the LLM and honoured by the LLM client while it streams.
  Once set, no more deltas are sent and the offline answer is returned as the Reply (it is right,
  it costs nothing, and a stored reply is never half a sentence).

Some questions never go to the LLM: requests for the assistant's set-up or for personal data,
steering attempts with nothing else in them, greetings, thanks and goodbyes. The offline
answers to those are fixed, instant and safe.

Thread-safe: the kiosk calls :meth:`respond` from worker threads.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime

from shared.assistant import templates as T
from shared.assistant.index import IndexCache
from shared.assistant.llm import LLMCancelled, LLMClient, LLMError, LLMStreamError
from shared.assistant.offline import OfflineAnswer, answer, suggestions
from shared.assistant.prompt import build_messages
from shared.db import Database, utcnow
from shared.models import ConversationMode, MessageSource
from shared.services.responder import Reply, ReplyRequest
from shared.settings import get_settings

log = logging.getLogger("convergeai.assistant")

#: Intents answered offline even when an LLM is configured.
OFFLINE_ONLY = frozenset({"secret", "privacy", "injection", "greeting", "thanks", "goodbye"})
#: Intents where the offline engine found nothing relevant in the event's data.
NOTHING_FOUND = frozenset({"unknown", "out_of_scope", "injection"})

_DONT_KNOW_RE = re.compile(
    r"\b(?:i\s+(?:do\s*n[o']t|don't|dont|do not)\s+know|i\s+(?:do\s*n[o']t|don't|do not)\s+have\s+"
    r"(?:that|this|any|the|enough)\s+information|no\s+information\s+(?:about|on)|i(?:'m|\s+am)\s+"
    r"not\s+sure|i\s+(?:could\s*n[o']t|couldn't|could not|can't|cannot|can not)\s+find|"
    r"(?:is|are)\s*n[o']t\s+(?:in|mentioned in)\s+the\s+(?:event\s+)?(?:data|information)|"
    r"not\s+(?:mentioned|listed|included)\s+in\s+the\s+(?:event\s+)?(?:data|information|"
    r"programme|program)|i\s+(?:can\s+only|can't|cannot)\s+help\s+with|unfortunately,?\s+i\s+"
    r"(?:don't|do not|can't|cannot))",
    re.IGNORECASE,
)


def says_dont_know(text: str) -> bool:
    """Whether an LLM reply is an "I don't know" (a small set of English phrasings)."""
    return bool(_DONT_KNOW_RE.search(text.replace("\u2019", "'")))


class _LinkedEvent(threading.Event):
    """Set when set itself, or when the caller's event (the attendee's cancel) is set."""

    def __init__(self, parent: threading.Event | None) -> None:
        super().__init__()
        self._parent = parent

    def is_set(self) -> bool:
        return super().is_set() or (self._parent is not None and self._parent.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            step = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if step <= 0:
                break
            super().wait(step)
        return self.is_set()


class Assistant:
    """Answers attendees' questions (the Responder the chat service calls).

    ``llm`` None means offline answers only. ``first_text_timeout`` bounds the wait for the LLM's
    first words (default: the client's total timeout, or the ``llm.total_timeout`` setting): past
    it the offline answer is given, even with an LLM client that ignores its own limits.
    """

    def __init__(
        self,
        db: Database,
        llm: LLMClient | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        cache: IndexCache | None = None,
        check_interval: float = 5.0,
        first_text_timeout: float | None = None,
        lang: str = "en",
    ) -> None:
        self.db = db
        self.llm = llm
        self.clock = clock
        self.cache = cache or IndexCache(db, check_interval=check_interval)
        if first_text_timeout is None:
            first_text_timeout = float(
                getattr(llm, "total_timeout", None) or get_settings()["llm.total_timeout"]
            )
        self.first_text_timeout = first_text_timeout
        self.lang = lang

    # Offline -----------------------------------------------------------------------------------

    def answer_offline(
        self,
        chatbot_id: int,
        question: str,
        now: datetime | None = None,
        mode: ConversationMode = ConversationMode.SINGLE,
    ) -> OfflineAnswer:
        """The offline answer to a question (``now``: aware, default the clock)."""
        index = self.cache.get(chatbot_id)
        return answer(index.knowledge, index, question, now or self.clock(), mode, lang=self.lang)

    def suggestions(self, chatbot_id: int, now: datetime | None = None) -> tuple[str, ...]:
        """Sample questions for the kiosk's attract screen, built from the event's data."""
        index = self.cache.get(chatbot_id)
        return suggestions(index.knowledge, index, now or self.clock(), lang=self.lang)

    # The Responder -----------------------------------------------------------------------------

    def respond(
        self,
        request: ReplyRequest,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Reply:
        """Answer one question; see the module's docstring for the streaming contract."""
        index = self.cache.get(request.chatbot_id)
        offline = answer(
            index.knowledge, index, request.question, request.now, request.mode, lang=self.lang
        )
        if cancel is not None and cancel.is_set():
            return self._offline_reply(offline)
        if self.llm is None or offline.intent in OFFLINE_ONLY:
            return self._stream_offline(offline, on_delta)
        messages = build_messages(
            index.knowledge,
            index,
            request.question,
            request.history,
            request.now,
            request.mode,
        )
        return self._ask_llm(self.llm, messages, offline, on_delta, cancel)

    def _ask_llm(
        self,
        llm: LLMClient,
        messages: list[dict[str, str]],
        offline: OfflineAnswer,
        on_delta: Callable[[str], None] | None,
        cancel: threading.Event | None,
    ) -> Reply:
        shown: list[str] = []
        timed_out = threading.Event()
        linked = _LinkedEvent(cancel)
        lock = threading.Lock()  # the first piece and the deadline cannot cross

        def forward(piece: str) -> None:
            with lock:
                if not piece or linked.is_set():
                    return
                shown.append(piece)
            if on_delta is not None:
                on_delta(piece)

        def first_text_deadline() -> None:
            with lock:
                if not shown:
                    timed_out.set()
                    linked.set()

        timer = threading.Timer(self.first_text_timeout, first_text_deadline)
        timer.daemon = True
        timer.start()
        try:
            text = llm.stream_chat(messages, forward, linked)
        except LLMCancelled:
            if timed_out.is_set() and not (cancel is not None and cancel.is_set()):
                log.warning(
                    "no text from the LLM within %.1f s; offline answer given",
                    self.first_text_timeout,
                )
                return self._stream_offline(offline, on_delta)
            return self._offline_reply(offline)
        except LLMStreamError as exc:
            log.warning("LLM answer broke off (%s); offline answer given", exc)
            return self._after_broken_stream(offline, on_delta, shown)
        except LLMError as exc:  # LLMUnavailable and any other failure before text
            if shown:
                log.warning("LLM failed after text was shown (%s); offline answer given", exc)
                return self._after_broken_stream(offline, on_delta, shown)
            log.info("LLM unavailable (%s); offline answer given", exc)
            return self._stream_offline(offline, on_delta)
        finally:
            timer.cancel()
        if cancel is not None and cancel.is_set():
            return self._offline_reply(offline)
        text = text.strip()
        if not text:
            if shown:
                return self._after_broken_stream(offline, on_delta, shown)
            return self._stream_offline(offline, on_delta)
        answered = not says_dont_know(text) and offline.intent not in NOTHING_FOUND
        return Reply(text, MessageSource.LLM, answered, offline.references)

    # Offline replies ---------------------------------------------------------------------------

    def _offline_reply(self, offline: OfflineAnswer) -> Reply:
        return Reply(offline.text, MessageSource.OFFLINE, offline.answered, offline.references)

    def _stream_offline(
        self, offline: OfflineAnswer, on_delta: Callable[[str], None] | None
    ) -> Reply:
        if on_delta is not None:
            on_delta(offline.text)
        return self._offline_reply(offline)

    def _after_broken_stream(
        self, offline: OfflineAnswer, on_delta: Callable[[str], None] | None, shown: list[str]
    ) -> Reply:
        if on_delta is not None:
            separator = T.Templates(self.lang)(T.STREAM_INTERRUPTED)
            on_delta(f"\n\n{separator}\n")
            on_delta(offline.text)
        return self._offline_reply(offline)


__all__ = ["OFFLINE_ONLY", "Assistant", "says_dont_know"]
