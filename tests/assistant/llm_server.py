"""A real OpenAI-compatible LLM server on loopback, scripted per test (and used by the benchmark).

It is a ``ThreadingHTTPServer`` on ``127.0.0.1`` with an ephemeral port, speaking HTTP/1.1 with
keep-alive like Ollama, llama.cpp or vLLM do. Each request to ``.../chat/completions`` takes the
next scripted :class:`Reply` (or the default one); a reply is a status, headers and body pieces
written one by one with a flush after each, so a test decides exactly where the TCP writes fall:
inside a UTF-8 character, between the halves of a CRLF, one byte every 20 ms... It records every
request (path, headers, JSON body) so tests can check what the client sent.

    with LLMServer() as server:
        server.script(stream_reply(["Hello", " world"]))
        client = LLMClient(server.url, "test-model")

``down_url()`` gives the URL of a port where nothing listens.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

CHAT = "chat"
MODELS = "models"
HEALTH = "health"
VERSION = "version"
MODEL = "test-model"


@dataclass(frozen=True)
class Pause:
    """Wait this many seconds before the next piece (cut short when the server stops)."""

    seconds: float


@dataclass(frozen=True)
class Stall:
    """Send nothing more until the server stops."""


@dataclass(frozen=True)
class Gate:
    """Wait until the test sets ``event`` (at most ``timeout`` s; a timeout is counted)."""

    event: threading.Event
    timeout: float = 3.0


Piece = bytes | Pause | Stall | Gate


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP response.

    ``framing``: ``chunked`` (Transfer-Encoding, what real servers use), ``length``
    (Content-Length) or ``close`` (the body ends when the connection closes).
    ``end``: ``clean``; ``cut`` closes the connection without finishing the body; ``stall`` keeps
    it open and silent. ``before_headers``: ``stall`` never answers; ``reset`` resets the
    connection without answering.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/event-stream"),)
    body: tuple[Piece, ...] = ()
    framing: Literal["chunked", "length", "close"] = "chunked"
    end: Literal["clean", "cut", "stall"] = "clean"
    before_headers: Literal["stall", "reset"] | None = None


@dataclass(frozen=True)
class Recorded:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # the parsed JSON body, or None
    client_port: int  # tells whether requests came over one kept-alive connection
    at: float = field(default_factory=time.monotonic)


# Building replies --------------------------------------------------------------------------------


def chunk(
    content: str | None = None,
    *,
    role: str | None = None,
    finish_reason: str | None = None,
    model: str = MODEL,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` object, as OpenAI-compatible servers stream them."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


USAGE_CHUNK: dict[str, Any] = {
    "id": "chatcmpl-test",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": MODEL,
    "choices": [],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}


def event(payload: Any, *, space: bool = True, newline: bytes = b"\n") -> bytes:
    """``data: <json>`` and the blank line that ends the event."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return b"data:" + (b" " if space else b"") + text.encode("utf-8") + newline + newline


def split_inside_characters(data: bytes) -> list[bytes]:
    """``data`` cut right after the first byte of every multi-byte UTF-8 character."""
    pieces: list[bytes] = []
    start = 0
    for i in range(len(data) - 1):
        if data[i] >= 0xC0:  # the lead byte of a multi-byte character
            pieces.append(data[start : i + 1])
            start = i + 1
    pieces.append(data[start:])
    return [p for p in pieces if p]


def stream_events(
    texts: Sequence[str],
    *,
    role_first: bool = True,
    finish_reason: str | None = "stop",
    usage: bool = True,
    done: bool = True,
    space: bool = True,
    newline: bytes = b"\n",
) -> list[bytes]:
    """The events of a normal stream: role, one delta per text, finish, usage, ``[DONE]``."""
    events: list[bytes] = []
    if role_first:
        events.append(event(chunk(role="assistant", content=""), space=space, newline=newline))
    events.extend(event(chunk(t), space=space, newline=newline) for t in texts)
    if finish_reason is not None:
        events.append(event(chunk(finish_reason=finish_reason), space=space, newline=newline))
    if usage:
        events.append(event(USAGE_CHUNK, space=space, newline=newline))
    if done:
        events.append(event("[DONE]", space=space, newline=newline))
    return events


def stream_reply(
    texts: Sequence[str],
    *,
    pause: float = 0.0,
    split: bool = False,
    framing: Literal["chunked", "length", "close"] = "chunked",
    **options: Any,
) -> Reply:
    """A normal streamed answer. ``split`` writes every multi-byte character in two TCP writes,
    with a flush and a short pause between them; ``pause`` waits between events."""
    body: list[Piece] = []
    for data in stream_events(texts, **options):
        if split:
            for piece in split_inside_characters(data):
                body.extend((piece, Pause(0.002)))
        else:
            body.append(data)
        if pause:
            body.append(Pause(pause))
    return Reply(body=tuple(body), framing=framing)


def pieces_reply(
    pieces: Iterable[Piece],
    *,
    end: Literal["clean", "cut", "stall"] = "clean",
    framing: Literal["chunked", "length", "close"] = "chunked",
) -> Reply:
    """A 200 event stream made of exactly these pieces."""
    return Reply(body=tuple(pieces), end=end, framing=framing)


def json_reply(payload: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    """A plain JSON response with a Content-Length."""
    return Reply(
        status=status,
        headers=(("Content-Type", "application/json"), *headers),
        body=(json.dumps(payload).encode("utf-8"),),
        framing="length",
    )


def error_reply(status: int, message: str, *, retry_after: str | None = None) -> Reply:
    """An OpenAI-style error: ``{"error": {"message": ...}}`` with this status."""
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    payload = {"error": {"message": message, "type": "test_error", "code": status}}
    return json_reply(payload, status, headers)


def mid_stream_error_reply(texts: Sequence[str], message: str, *, form: str = "data") -> Reply:
    """Some deltas, then an error: ``data: {"error": ...}`` or (older llama.cpp) ``error: ...``."""
    events = stream_events(texts, finish_reason=None, usage=False, done=False)
    error = {"code": 500, "message": message, "type": "server_error"}
    if form == "data":
        events.append(event({"error": error}))
    else:
        events.append(b"error: " + json.dumps(error).encode("utf-8") + b"\n\n")
    return Reply(body=tuple(events))


def cut_reply(texts: Sequence[str], framing: Literal["chunked", "close"] = "chunked") -> Reply:
    """Deltas, then the connection closes: no finish reason, no ``[DONE]``."""
    events = stream_events(texts, finish_reason=None, usage=False, done=False)
    return Reply(body=tuple(events), framing=framing, end="cut")


def stall_reply(texts: Sequence[str] = ()) -> Reply:
    """Headers (and these deltas), then silence with the connection open."""
    events = stream_events(
        texts, role_first=bool(texts), finish_reason=None, usage=False, done=False
    )
    return Reply(body=tuple(events), end="stall")


def hang_reply() -> Reply:
    """Read the request, then never answer."""
    return Reply(before_headers="stall")


def reset_reply() -> Reply:
    """Read the request, then reset the connection without answering."""
    return Reply(before_headers="reset")


def trickle_reply(text: str = "x" * 2000, interval: float = 0.02) -> Reply:
    """One event sent a byte at a time, ``interval`` s apart: each byte comes well within any
    read timeout, but the event takes ``len(text) * interval`` s."""
    data = event(chunk(text))
    body: list[Piece] = []
    for i in range(len(data)):
        body.extend((data[i : i + 1], Pause(interval)))
    return Reply(body=tuple(body))


def slow_deltas_reply(count: int = 1000, interval: float = 0.05) -> Reply:
    """Complete deltas ``interval`` s apart, ``count`` of them: text flows, but slowly."""
    body: list[Piece] = [event(chunk(role="assistant", content=""))]
    for i in range(count):
        body.extend((event(chunk(f"w{i} ")), Pause(interval)))
    body.append(event("[DONE]"))
    return Reply(body=tuple(body))


# The server --------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, owner: LLMServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is normal here; anything else is kept for the tests."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        self.owner.errors.append("".join(traceback.format_exception(exc)) if exc else "?")
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.owner._serve(self)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.owner._serve(self)


class _ClientGone(Exception):
    pass


class LLMServer:
    """The scripted server; a context manager that starts and stops it."""

    def __init__(self, *, models: Sequence[str] = (MODEL,)) -> None:
        self._httpd = _HTTPServer(self)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply]] = {}
        self._defaults: dict[str, Reply] = {
            CHAT: stream_reply(["Hello", ", world", "!"]),
            MODELS: json_reply(
                {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}
            ),
            HEALTH: error_reply(404, "not found"),
            VERSION: error_reply(404, "not found"),
        }
        self._requests: list[Recorded] = []
        self.stopping = threading.Event()
        self.gate_timeouts = 0
        #: Tracebacks of unexpected errors in the handlers (a client going away is expected).
        self.errors: list[str] = []
        host, port = self._httpd.server_address[:2]
        self.root = f"http://{host!s}:{port}"
        self.url = f"{self.root}/v1"

    # Life cycle

    def start(self) -> LLMServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="llm-test-server"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end every open connection, and wait for the handler threads."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        with self._httpd.connections_lock:
            open_connections = list(self._httpd.connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()  # joins the handler threads

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Scripting

    def script(self, *replies: Reply, endpoint: str = CHAT) -> None:
        """Queue replies for the next requests to ``endpoint``; then the default answers again."""
        with self._lock:
            self._queues.setdefault(endpoint, deque()).extend(replies)

    def set_default(self, reply: Reply, endpoint: str = CHAT) -> None:
        with self._lock:
            self._defaults[endpoint] = reply

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # Serving

    def _endpoint(self, method: str, path: str) -> str | None:
        path = path.split("?", 1)[0]
        if method == "POST" and path.endswith("/chat/completions"):
            return CHAT
        if method == "GET" and path.endswith("/models"):
            return MODELS
        if method == "GET" and path == "/health":
            return HEALTH
        if method == "GET" and path == "/api/version":
            return VERSION
        return None

    def _serve(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        endpoint = self._endpoint(handler.command, handler.path)
        with self._lock:
            port = int(handler.client_address[1])
            self._requests.append(Recorded(handler.command, handler.path, headers, body, port))
            if endpoint is None:
                reply = error_reply(404, f"no route for {handler.command} {handler.path}")
            else:
                queue = self._queues.get(endpoint)
                reply = queue.popleft() if queue else self._defaults[endpoint]
        try:
            self._write(handler, reply)
        except (_ClientGone, OSError):
            handler.close_connection = True

    def _write(self, handler: _Handler, reply: Reply) -> None:
        conn = handler.connection
        if reply.before_headers == "stall":
            self.stopping.wait()
            handler.close_connection = True
            return
        if reply.before_headers == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            return  # the server closes the socket: with SO_LINGER 0 that sends a reset
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        if reply.framing == "chunked":
            handler.send_header("Transfer-Encoding", "chunked")
        elif reply.framing == "length":
            size = sum(len(p) for p in reply.body if isinstance(p, bytes))
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Connection", "close")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        for piece in reply.body:
            if isinstance(piece, bytes):
                if reply.framing == "chunked":
                    self._send(handler, b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    self._send(handler, piece)
            elif isinstance(piece, Pause):
                if self.stopping.wait(piece.seconds):
                    raise _ClientGone
            elif isinstance(piece, Gate):
                if not piece.event.wait(piece.timeout):
                    with self._lock:
                        self.gate_timeouts += 1
            else:
                self.stopping.wait()
                raise _ClientGone
        if reply.end == "stall":
            self.stopping.wait()
            raise _ClientGone
        if reply.end == "cut" or reply.framing == "close":
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if reply.framing == "chunked":
            self._send(handler, b"0\r\n\r\n")

    @staticmethod
    def _send(handler: _Handler, data: bytes) -> None:
        handler.wfile.write(data)
        handler.wfile.flush()


def down_url() -> str:
    """The base URL of a loopback port where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
