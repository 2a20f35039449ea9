"""Client for OpenAI-compatible chat-completions servers (Ollama, llama.cpp, vLLM, OpenAI).

The answer streams as Server-Sent Events; each piece of text goes to ``on_delta`` as it arrives,
so a kiosk can show it word by word. Failures come in three kinds, all :class:`LLMError` (a
:class:`~shared.errors.KnownError`, so ``str(err)`` is a message fit for a user, and never holds
the API key):

* :class:`LLMUnavailable`: no text was received (server down, refused, slow, HTTP error, empty or
  broken answer before any text). The caller can fall back to the offline answer as if the LLM
  had never been asked.
* :class:`LLMStreamError`: text was received, then the answer broke off; ``partial_text`` holds it.
* :class:`LLMCancelled`: the caller set the ``cancel`` event.

Limits. ``connect_timeout`` bounds opening the connection and ``read_timeout`` the silence between
two pieces of the reply; neither bounds a server that keeps trickling bytes, so ``total_timeout``
is a wall clock over the whole call (retries included). Between pieces the reading thread checks
it; a watchdog thread also shuts the socket down when the limit passes or ``cancel`` is set, which
wakes a read blocked inside ``requests`` at once. Before the response headers arrive, the read
timeout is shortened to the time left, so a hung server is given up within the total limit (a
cancel in that phase is noticed when the headers come or that timeout fires).

Retries: only where nothing can have been shown and a second try can help: a connection refused
or reset before any response, HTTP 429 and 503. At most ``max_retries``, within the total limit;
``Retry-After`` is honoured (a server asking for more than :data:`RETRY_AFTER_MAX` seconds gets no
retry), otherwise a short exponential back-off.

Everything here runs on the calling thread (``on_delta`` too); call it from a worker, never from a
GUI thread.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions

from shared.errors import ConfigError, KnownError
from shared.settings import Settings, get_settings

log = logging.getLogger("convergeai.assistant")

#: A server asking (Retry-After) for a longer wait than this, in seconds, gets no retry.
RETRY_AFTER_MAX = 5.0
#: First wait before a retry when the server did not say how long; doubled at each retry.
RETRY_BACKOFF = 0.25
RETRY_BACKOFF_MAX = 2.0
#: How often, in seconds, the watchdog looks at the cancel event and the clock.
WATCH_INTERVAL = 0.05
#: After ``[DONE]``, how long the end of the HTTP body may take before the connection is dropped
#: instead of being kept for the next request.
DRAIN_TIMEOUT = 0.25
#: Bytes read from an error body for its message, and from a non-streamed (JSON) answer.
ERROR_BODY_LIMIT = 8 * 1024
JSON_BODY_LIMIT = 1024 * 1024
#: Longest server message quoted in an error.
MESSAGE_LIMIT = 300
#: Read size for chunked bodies (each HTTP chunk is handed over as soon as it arrives anyway).
STREAM_CHUNK = 8 * 1024
#: Upper bounds of the health check's timeouts.
HEALTH_CONNECT_TIMEOUT = 2.0
HEALTH_READ_TIMEOUT = 3.0
TOKEN_LIMIT_FIELDS = ("max_tokens", "max_completion_tokens")

_READ_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,  # reading a socket the watchdog shut down (TLS: "read on closed SSL socket")
)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class LLMError(KnownError):
    """A failed LLM request; ``str(err)`` is safe to show and never contains the API key."""


class LLMUnavailable(LLMError):
    """No text was received: the caller can fall back as if the LLM had never been asked."""


class LLMStreamError(LLMError):
    """The answer broke off after some text was received; ``partial_text`` is that text."""

    def __init__(self, message: str, partial_text: str) -> None:
        super().__init__(message)
        self.partial_text = partial_text


class LLMCancelled(LLMError):
    """The caller cancelled; ``partial_text`` is whatever had arrived by then."""

    def __init__(self, message: str = "The answer was cancelled.", partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


@dataclass(frozen=True)
class HealthResult:
    """Whether the LLM server answers, a line for a human, and the models it lists."""

    ok: bool
    detail: str
    latency_ms: float
    models: tuple[str, ...]


class _Retry(Exception):
    """Internal: this attempt failed in a way a retry may cure."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


# URLs ------------------------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """``url`` without a password, query or fragment: fit for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    if parts.username is not None:
        netloc = f"{parts.username}{':***' if parts.password is not None else ''}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def normalize_base_url(url: str) -> str:
    """The API base URL, ending in its version path, without a trailing slash.

    The rule: a URL with no path gets ``/v1``; any other path is kept as given. So
    ``http://host:11434`` becomes ``http://host:11434/v1``, ``http://host:8080/v1/`` becomes
    ``http://host:8080/v1``, and ``https://gateway.example/openai/v1`` stays. A pasted endpoint
    (``.../v1/chat/completions``) loses the endpoint. Raises ConfigError for anything that is not
    an http(s) URL with a host.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        valid = False
    if not valid:
        raise ConfigError(
            f"The LLM server URL {safe_url(text)!r} is not valid: it must start with http:// "
            "or https:// and name a host, for example http://127.0.0.1:11434/v1."
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"The LLM server URL {safe_url(text)!r} must not contain '?' or '#': give only the "
            "base, for example http://127.0.0.1:11434/v1."
        )
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        path = path[: -len("/chat/completions")]
    return urlunsplit((parts.scheme.lower(), parts.netloc, path or "/v1", "", ""))


def _server_root(base_url: str) -> str:
    """Scheme, host and port: where llama.cpp's ``/health`` and Ollama's ``/api/version`` live."""
    parts = urlsplit(base_url)
    path = parts.path
    path = path[: -len("/v1")] if path.endswith("/v1") else ""
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# Small helpers -----------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _connection_reason(exc: BaseException) -> str:
    """A short human reason for a connection failure, found in the exception chain."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, ConnectionResetError):
            return "connection reset"
        if isinstance(item, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(item, urllib3.exceptions.NameResolutionError):
            return "unknown host name"
        todo.extend(item.args)
        todo.extend((getattr(item, "reason", None), item.__cause__, item.__context__))
    return "the connection failed"


def _retry_after(value: str | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (seconds or HTTP-date form), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _error_text(payload: Any) -> str:
    """The message of an error payload in any of the shapes servers use."""
    if isinstance(payload, Mapping):
        for key in ("error", "message", "detail"):
            value = payload.get(key)
            if value:
                return _error_text(value)
        return ""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, Sequence) and payload:
        return _error_text(payload[0])
    return ""


def _interrupt(response: requests.Response) -> None:
    """Shut the response's socket down, waking a read blocked on it in another thread."""
    raw = response.raw
    shutdown = getattr(raw, "shutdown", None)  # urllib3 >= 2.3, made for exactly this
    if callable(shutdown):
        try:
            shutdown()
            return
        except (OSError, ValueError, RuntimeError):
            pass
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """Stops a read when the wall-clock limit passes or the caller cancels.

    ``requests`` can block inside a read for up to the read timeout; shutting the socket down
    from this thread ends that read at once (the reader then sees a broken stream and asks
    :attr:`reason` why).
    """

    def __init__(
        self, response: requests.Response, deadline: float, cancel: threading.Event | None
    ) -> None:
        self._response = response
        self._cancel = cancel
        self._stopped = threading.Event()
        self.deadline = deadline
        self.reason: str | None = None  # "cancel" or "timeout" once it fired
        self._thread = threading.Thread(target=self._run, name="convergeai-llm-watchdog")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            if self._cancel is not None and self._cancel.is_set():
                self.reason = "cancel"
                break
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.reason = "timeout"
                break
            if self._stopped.wait(min(remaining, WATCH_INTERVAL)):
                return
        _interrupt(self._response)


class _Answer:
    """The text received so far, handed to ``on_delta`` piece by piece."""

    def __init__(self, on_delta: Callable[[str], None] | None) -> None:
        self.parts: list[str] = []
        self.on_delta = on_delta
        self.first_at: float | None = None
        self.finish_reason: str | None = None
        self.usage: Mapping[str, Any] | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if not piece:
            return
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.parts.append(piece)
        if self.on_delta is not None:
            self.on_delta(piece)


# The client ------------------------------------------------------------------------------------


class LLMClient:
    """Streams chat completions from one OpenAI-compatible server, within the configured limits.

    One client can serve several threads (each call has its own state; the ``requests`` session
    only pools connections). Close it, or use it as a context manager, to drop those connections.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        total_timeout: float = 30.0,
        temperature: float = 0.2,
        max_tokens: int = 400,
        token_limit_field: str = "max_tokens",
        max_retries: int = 2,
        session: requests.Session | None = None,
    ) -> None:
        if min(connect_timeout, read_timeout, total_timeout) <= 0:
            raise ValueError("LLM timeouts must be positive")
        if max_retries < 0 or max_tokens < 1:
            raise ValueError("max_retries must be >= 0 and max_tokens >= 1")
        if not re.fullmatch(r"[a-z_]+", token_limit_field):
            raise ValueError(f"not a request field name: {token_limit_field!r}")
        self.base_url = normalize_base_url(base_url)
        self.model = model
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.total_timeout = float(total_timeout)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.token_limit_field = token_limit_field
        self.max_retries = int(max_retries)
        self._api_key = api_key.strip()
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._where = safe_url(self.base_url)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> LLMClient | None:
        """A client built from the ``llm.*`` settings, or None when no server is configured."""
        s = settings if settings is not None else get_settings()
        base_url = str(s["llm.base_url"]).strip()
        if not base_url:
            return None
        return cls(
            base_url,
            str(s["llm.model"]),
            api_key=str(s["llm.api_key"]),
            connect_timeout=float(s["llm.connect_timeout"]),
            read_timeout=float(s["llm.read_timeout"]),
            total_timeout=float(s["llm.total_timeout"]),
            temperature=float(s["llm.temperature"]),
            max_tokens=int(s["llm.max_tokens"]),
            token_limit_field=str(s["llm.token_limit_field"]),
            max_retries=int(s["llm.max_retries"]),
        )

    def describe(self) -> str:
        """The server and model, for status lines and logs (never the key)."""
        model = self.model or "(no model set)"
        return self._scrub(f"{self._where} (model {model})")

    def __repr__(self) -> str:
        return f"LLMClient({self.describe()!r})"

    def close(self) -> None:
        """Drop pooled connections (only those of a session this client created)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Chat ----------------------------------------------------------------------------------------

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        """Ask for an answer to ``messages``, streaming it to ``on_delta``; return the whole text.

        Raises LLMUnavailable (nothing received: fall back), LLMStreamError (broke off after
        some text) or LLMCancelled. An exception raised by ``on_delta`` propagates unchanged.
        """
        if not messages:
            raise ValueError("stream_chat needs at least one message")
        started = time.monotonic()
        deadline = started + self.total_timeout
        body = self._request_body(messages)
        log.debug(
            "LLM request to %s: %d messages, %d characters",
            self.describe(),
            len(messages),
            sum(len(m.get("content", "")) for m in messages),
        )
        attempt = 0
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    raise LLMCancelled()
                answer = _Answer(on_delta)
                try:
                    text = self._attempt(body, deadline, answer, cancel)
                    break
                except _Retry as retry:
                    failure = retry
                wait = self._retry_wait(failure, attempt, deadline)
                attempt += 1
                log.info("LLM retry %d in %.2f s: %s", attempt, wait, failure.message)
                if cancel is None:
                    time.sleep(wait)
                elif cancel.wait(wait):
                    raise LLMCancelled()
        except LLMCancelled as exc:
            log.info("LLM request to %s: %s", self._where, exc)
            raise
        except LLMError as exc:
            log.warning("LLM request failed after %.2f s: %s", time.monotonic() - started, exc)
            raise
        first = (answer.first_at or time.monotonic()) - started
        log.info(
            "LLM answer from %s: %d characters, first text after %.0f ms, %.0f ms in all, "
            "%d attempt(s), finish %s",
            self._where,
            len(text),
            first * 1000,
            (time.monotonic() - started) * 1000,
            attempt + 1,
            answer.finish_reason or "unknown",
        )
        if answer.usage:
            tokens = {k: v for k, v in answer.usage.items() if k.endswith("tokens")}
            log.debug("LLM usage: %s", tokens)
        return text

    def _request_body(self, messages: list[dict[str, str]]) -> bytes:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "temperature": self.temperature,
            self.token_limit_field: self.max_tokens,
        }
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {
            "Accept": accept,
            # A compressed event stream would sit in the decompressor: ask for none.
            "Accept-Encoding": "identity",
            "Content-Type": "application/json",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _retry_wait(self, retry: _Retry, attempt: int, deadline: float) -> float:
        """Seconds to wait before the next attempt; raises LLMUnavailable when none is due."""
        if attempt >= self.max_retries:
            raise self._unavailable(retry.message)
        if retry.retry_after is not None:
            if retry.retry_after > RETRY_AFTER_MAX:
                raise self._unavailable(
                    f"{_sentence(retry.message)} It asks to wait {math.ceil(retry.retry_after)} s"
                )
            wait = retry.retry_after
        else:
            wait = min(RETRY_BACKOFF * 2**attempt, RETRY_BACKOFF_MAX)
        if time.monotonic() + wait >= deadline:
            raise self._unavailable(retry.message)
        return wait

    def _attempt(
        self, body: bytes, deadline: float, answer: _Answer, cancel: threading.Event | None
    ) -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._unavailable(self._too_slow())
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            response = self._session.post(
                f"{self.base_url}/chat/completions",
                data=body,
                headers=self._headers("text/event-stream"),
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            raise self._unavailable(
                f"Cannot connect to the language model server at {self._where}: no answer "
                f"within {timeout[0]:g} s"
            ) from None
        except requests.ReadTimeout:
            raise self._unavailable(
                f"The language model server at {self._where} did not answer within {timeout[1]:g} s"
            ) from None
        except requests.exceptions.SSLError:
            raise self._unavailable(
                f"Cannot talk securely to the language model server at {self._where} (TLS "
                "failed; check the certificate and the URL)"
            ) from None
        except requests.ConnectionError as exc:
            raise _Retry(
                self._scrub(
                    f"Cannot connect to the language model server at {self._where}: "
                    f"{_connection_reason(exc)}"
                )
            ) from None
        except requests.RequestException as exc:
            raise self._unavailable(
                f"The request to the language model server at {self._where} failed "
                f"({type(exc).__name__})"
            ) from None
        watchdog = _Watchdog(response, deadline, cancel)
        watchdog.start()
        try:
            status = response.status_code
            if not 200 <= status < 300:
                message = self._http_error(response, watchdog)
                if status in (429, 503):
                    raise _Retry(message, _retry_after(response.headers.get("Retry-After")))
                raise self._unavailable(message)
            content_type = response.headers.get("Content-Type", "").lower()
            if "json" in content_type and "event-stream" not in content_type:
                return self._read_json(response, answer, watchdog)
            return self._read_stream(response, answer, deadline, cancel, watchdog)
        finally:
            watchdog.stop()
            response.close()

    # Reading -------------------------------------------------------------------------------------

    def _read_stream(
        self,
        response: requests.Response,
        answer: _Answer,
        deadline: float,
        cancel: threading.Event | None,
        watchdog: _Watchdog,
    ) -> str:
        """Parse the event stream (bytes lines, decoded here), feeding ``answer``."""
        # Chunked bodies (every server we target) hand each HTTP chunk over as it arrives; a
        # body delimited by the connection's end is read byte by byte, or a read would wait for
        # a full buffer and hold text back.
        chunked = bool(getattr(response.raw, "chunked", False))
        lines = response.iter_lines(chunk_size=STREAM_CHUNK if chunked else 1)
        data: list[str] = []
        event = ""
        first_line = True
        while True:
            try:
                raw = next(lines)
            except StopIteration:
                break
            except _READ_ERRORS:
                self._raise_if_stopped(watchdog, answer)
                raise self._broken(
                    answer,
                    f"The connection to the language model server at {self._where} "
                    "broke off in the middle of the answer",
                ) from None
            if cancel is not None and cancel.is_set():
                raise LLMCancelled(partial_text=answer.text)
            if time.monotonic() >= deadline:
                raise self._broken(answer, self._too_slow())
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                log.warning("LLM stream: a line is not valid UTF-8; bad bytes replaced")
                line = raw.decode("utf-8", errors="replace")
            if first_line:
                line = line.removeprefix("\ufeff")
                first_line = False
            if not line:  # blank line: the event is complete
                if data and self._handle_event(event, "\n".join(data), answer):
                    self._drain(lines, watchdog)
                    return self._finished(answer)
                data, event = [], ""
                continue
            if line.startswith(":"):  # comment (keep-alive)
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
            elif field == "error":  # older llama.cpp servers: "error: {...}"
                self._handle_event("error", value, answer)
        self._raise_if_stopped(watchdog, answer)
        if data and self._handle_event(event, "\n".join(data), answer):
            return self._finished(answer)
        if answer.finish_reason is not None:
            # Servers from before the [DONE] convention (llama.cpp before late 2024, some forks)
            # end a complete answer without it; the finish reason says the answer is whole.
            log.debug("LLM stream ended without [DONE], finish_reason %s", answer.finish_reason)
            return self._finished(answer)
        raise self._broken(
            answer,
            f"The language model server at {self._where} ended the answer before finishing it",
        )

    def _handle_event(self, event: str, data: str, answer: _Answer) -> bool:
        """Apply one event to ``answer``; True at ``[DONE]``. Raises on an error event."""
        if data.strip() == "[DONE]":
            return True
        if not data.strip():
            return False
        try:
            payload = json.loads(data)
        except ValueError:
            payload = data if event == "error" else None
        if event == "error" or (
            isinstance(payload, Mapping)
            and (payload.get("error") or payload.get("object") == "error")
        ):
            detail = self._clean(_error_text(payload))
            raise self._broken(
                answer,
                f"The language model server at {self._where} reported an error"
                + (f": {detail}" if detail else ""),
            )
        if not isinstance(payload, Mapping):
            raise self._broken(
                answer, f"The language model server at {self._where} sent a malformed answer"
            )
        choices = payload.get("choices")
        if isinstance(choices, list) and choices:
            choice = next(
                (c for c in choices if isinstance(c, Mapping) and c.get("index", 0) == 0),
                choices[0],
            )
            if isinstance(choice, Mapping):
                delta = choice.get("delta")
                if isinstance(delta, Mapping):
                    content = delta.get("content")
                    if isinstance(content, str):
                        answer.add(content)
                finish = choice.get("finish_reason")
                if isinstance(finish, str) and finish:
                    answer.finish_reason = finish
        usage = payload.get("usage")
        if isinstance(usage, Mapping):
            answer.usage = usage
        return False

    def _read_json(self, response: requests.Response, answer: _Answer, watchdog: _Watchdog) -> str:
        """A server that ignored ``stream: true`` and sent the whole completion as JSON."""
        raw = self._read_bounded(response, JSON_BODY_LIMIT + 1, watchdog, answer)
        if len(raw) > JSON_BODY_LIMIT:
            raise self._unavailable(f"The language model server at {self._where} sent too much")
        try:
            payload = json.loads(raw.decode("utf-8", errors="replace"))
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._unavailable(
                f"The language model server at {self._where} sent a malformed answer"
            ) from None
        if not isinstance(content, str):
            raise self._unavailable(
                f"The language model server at {self._where} sent a malformed answer"
            )
        finish = payload["choices"][0].get("finish_reason")
        answer.finish_reason = finish if isinstance(finish, str) else None
        answer.add(content)
        return self._finished(answer)

    def _read_bounded(
        self, response: requests.Response, limit: int, watchdog: _Watchdog, answer: _Answer
    ) -> bytes:
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=4096):
                body += chunk
                if len(body) >= limit:
                    break
        except _READ_ERRORS:
            self._raise_if_stopped(watchdog, answer)
            raise self._unavailable(
                f"The connection to the language model server at {self._where} broke off"
            ) from None
        self._raise_if_stopped(watchdog, answer)
        return bytes(body[:limit])

    def _drain(self, lines: Iterator[bytes], watchdog: _Watchdog) -> None:
        """Read the end of the body after ``[DONE]`` so the connection can be reused."""
        watchdog.deadline = min(watchdog.deadline, time.monotonic() + DRAIN_TIMEOUT)
        try:
            for _ in lines:
                pass
        except _READ_ERRORS:
            pass

    def _finished(self, answer: _Answer) -> str:
        text = answer.text
        if not text.strip():
            raise self._broken(
                answer, f"The language model server at {self._where} sent an empty answer"
            )
        return text

    # Errors --------------------------------------------------------------------------------------

    def _http_error(self, response: requests.Response, watchdog: _Watchdog) -> str:
        """A message for a non-2xx response, quoting the server's own (briefly)."""
        detail = ""
        try:
            raw = self._read_bounded(response, ERROR_BODY_LIMIT, watchdog, _Answer(None))
        except LLMError:
            raw = b""
        if raw:
            text = raw.decode("utf-8", errors="replace")
            try:
                detail = _error_text(json.loads(text))
            except ValueError:
                detail = text if "html" not in response.headers.get("Content-Type", "") else ""
        detail = self._clean(detail)
        status = response.status_code
        message = f"The language model server at {self._where} answered HTTP {status}"
        if status in (401, 403):
            message += " (check the API key, setting llm.api_key)"
        elif status == 404:
            message += " (check the model name and the URL, settings llm.model and llm.base_url)"
        elif status == 429:
            message += " (too many requests)"
        elif status == 503:
            message += " (busy or loading the model)"
        elif 300 <= status < 400:
            location = response.headers.get("Location")
            if location:
                message += f" (redirected to {safe_url(location)}: use that as llm.base_url)"
        if detail:
            message += f": {detail}"
        return self._scrub(message)

    def _raise_if_stopped(self, watchdog: _Watchdog, answer: _Answer) -> None:
        if watchdog.reason == "cancel":
            raise LLMCancelled(partial_text=answer.text)
        if watchdog.reason == "timeout":
            raise self._broken(answer, self._too_slow())

    def _too_slow(self) -> str:
        return (
            f"The language model server at {self._where} took longer than "
            f"{self.total_timeout:g} s to answer"
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _clean(self, text: str) -> str:
        """A server's message, made safe to quote: one short line, without the key."""
        text = _CONTROL_RE.sub(" ", self._scrub(text)).strip().rstrip(".")
        text = " ".join(text.split())
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 1].rstrip() + "…"
        return text

    def _unavailable(self, message: str) -> LLMUnavailable:
        return LLMUnavailable(_sentence(self._scrub(message)))

    def _broken(self, answer: _Answer, message: str) -> LLMError:
        """LLMStreamError when text was received, LLMUnavailable otherwise."""
        if answer.parts:
            return LLMStreamError(_sentence(self._scrub(message)), answer.text)
        return self._unavailable(message)

    # Health --------------------------------------------------------------------------------------

    def health(self) -> HealthResult:
        """Whether the server answers and which models it lists. Short timeouts; never raises.

        Tries ``{base}/models`` (OpenAI-compatible), then llama.cpp's ``/health`` and Ollama's
        ``/api/version`` when the server has no model list.
        """
        timeout = (
            min(self.connect_timeout, HEALTH_CONNECT_TIMEOUT),
            min(self.read_timeout, HEALTH_READ_TIMEOUT),
        )
        started = time.monotonic()

        def result(ok: bool, detail: str, models: Sequence[str] = ()) -> HealthResult:
            latency = (time.monotonic() - started) * 1000
            return HealthResult(ok, self._scrub(detail), round(latency, 1), tuple(models))

        root = _server_root(self.base_url)
        probes = (
            (f"{self.base_url}/models", "models"),
            (f"{root}/health", "llama.cpp"),
            (f"{root}/api/version", "Ollama"),
        )
        models_problem = ""
        for url, kind in probes:
            try:
                status, payload, headers = self._get_json(url, timeout)
            except requests.Timeout:
                return result(False, f"No answer from {self._where} within {timeout[1]:g} s.")
            except requests.exceptions.SSLError:
                return result(False, f"Cannot talk securely to {self._where} (TLS failed).")
            except requests.ConnectionError as exc:
                return result(False, f"Cannot connect to {self._where}: {_connection_reason(exc)}.")
            except _READ_ERRORS as exc:
                return result(False, f"Cannot reach {self._where} ({type(exc).__name__}).")
            if status in (401, 403):
                detail = self._clean(_error_text(payload))
                return result(
                    False,
                    f"{self._where} refused the API key (HTTP {status})"
                    + (f": {detail}." if detail else "."),
                )
            if kind == "models" and status == 200:
                models = self._model_ids(payload)
                if models is not None:
                    return result(True, self._models_detail(models), models)
            if kind == "models" and status not in (404, 405, 501):
                detail = self._clean(_error_text(payload))
                models_problem = f"{self._where}/models answered HTTP {status}" + (
                    f": {detail}" if detail else " without a model list"
                )
            if kind == "llama.cpp" and status == 200 and isinstance(payload, Mapping):
                return result(True, "OK: llama.cpp server ready.")
            if kind == "llama.cpp" and status == 503:
                detail = self._clean(_error_text(payload)) or "loading the model"
                return result(
                    False, f"The llama.cpp server at {self._where} is not ready: {detail}."
                )
            if kind == "Ollama" and status == 200 and isinstance(payload, Mapping):
                version = self._clean(str(payload.get("version") or "")) or "(version unknown)"
                return result(True, f"OK: Ollama {version}.")
            content_type = headers.get("Content-Type", "")
            log.debug("LLM health: %s answered HTTP %d (%s)", safe_url(url), status, content_type)
        return result(
            False,
            _sentence(models_problem)
            if models_problem
            else f"{self._where} answers, but not as an OpenAI-compatible server (no model list).",
        )

    def _get_json(
        self, url: str, timeout: tuple[float, float]
    ) -> tuple[int, Any, Mapping[str, str]]:
        """GET ``url``; its status, its JSON body (or None) read up to a bound, its headers."""
        headers = self._headers("application/json")
        del headers["Content-Type"]
        with self._session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            body = bytearray()
            for chunk in response.iter_content(chunk_size=16 * 1024):
                body += chunk
                if len(body) > JSON_BODY_LIMIT:
                    break
            try:
                payload = json.loads(bytes(body).decode("utf-8", errors="replace"))
            except ValueError:
                payload = None
            return response.status_code, payload, response.headers

    @staticmethod
    def _model_ids(payload: Any) -> list[str] | None:
        if not isinstance(payload, Mapping):
            return None
        data = payload.get("data", payload.get("models"))
        if not isinstance(data, list):
            return None
        ids = []
        for item in data:
            if isinstance(item, Mapping):
                name = item.get("id") or item.get("name") or item.get("model")
                if isinstance(name, str) and name:
                    ids.append(name)
        return ids

    def _models_detail(self, models: Sequence[str]) -> str:
        shown = ", ".join(self._clean(m) for m in models[:5]) + (", ..." if len(models) > 5 else "")
        count = f"{len(models)} model{'' if len(models) == 1 else 's'}"
        detail = f"OK: {count} ({shown})" if models else "OK: no models listed"
        if self.model and models and self.model not in models:
            detail += f"; the configured model {self.model!r} is not among them"
        return detail + "."
