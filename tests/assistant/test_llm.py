"""The LLM client against a real OpenAI-compatible server on loopback (tests/assistant/llm_server).

Timeouts are small (tenths of a second) so the failure cases stay fast; the only deliberate wait
is one ``Retry-After: 1``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.assistant import llm
from shared.assistant.llm import (
    LLMCancelled,
    LLMClient,
    LLMError,
    LLMStreamError,
    LLMUnavailable,
    normalize_base_url,
)
from shared.errors import ConfigError, KnownError
from shared.settings import Settings
from tests.assistant.llm_server import (
    HEALTH,
    MODEL,
    MODELS,
    USAGE_CHUNK,
    VERSION,
    Gate,
    LLMServer,
    Stall,
    chunk,
    cut_reply,
    down_url,
    error_reply,
    event,
    hang_reply,
    json_reply,
    mid_stream_error_reply,
    pieces_reply,
    reset_reply,
    slow_deltas_reply,
    stall_reply,
    stream_events,
    stream_reply,
    trickle_reply,
)

KEY = "sk-test-Zq8Vb3Kd5Lm2Np7R"
QUESTION = "Where is the keynote by Dr Rossi?"
MESSAGES = [
    {"role": "system", "content": "Answer from the event data only."},
    {"role": "user", "content": QUESTION},
]
MULTIBYTE = ["Café ", "déjà vu — ", "東京で会いましょう ", "🎉👩‍💻", " naïve\u2028ligne\x85fin"]


@pytest.fixture(autouse=True)
def _no_proxy_and_no_stray_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Loopback must not go through a proxy; no watchdog may outlive its call."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(llm, "RETRY_BACKOFF", 0.01)
    yield
    stray = [t.name for t in threading.enumerate() if t.name.startswith("convergeai-llm")]
    assert stray == []


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv
    assert srv.errors == []


Factory = Callable[..., LLMClient]


@pytest.fixture
def make_client() -> Iterator[Factory]:
    """Clients with small timeouts, closed after the test."""
    clients: list[LLMClient] = []

    def make(base_url: str, model: str = MODEL, **options: Any) -> LLMClient:
        settings: dict[str, Any] = {
            "connect_timeout": 0.5,
            "read_timeout": 2.0,
            "total_timeout": 5.0,
            "max_retries": 2,
        }
        settings.update(options)
        client = LLMClient(base_url, model, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def collect(client: LLMClient, **kwargs: Any) -> tuple[str, list[str]]:
    deltas: list[str] = []
    text = client.stream_chat(MESSAGES, deltas.append, **kwargs)
    return text, deltas


# Base URL, settings, description ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434/v1"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434/v1"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1"),
        ("  HTTPS://api.openai.com/v1  ", "https://api.openai.com/v1"),
        ("https://gateway.example/openai/v1", "https://gateway.example/openai/v1"),
        ("http://host:8000/v1/chat/completions", "http://host:8000/v1"),
        ("http://[::1]:8080", "http://[::1]:8080/v1"),
    ],
)
def test_base_url_normalization(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    "bad",
    ["", "localhost:11434", "ftp://host/v1", "http://", "http://host:99999/v1", "http://h/v1?x=1"],
)
def test_invalid_base_urls_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        normalize_base_url(bad)


def test_invalid_url_message_hides_a_password() -> None:
    with pytest.raises(ConfigError) as err:
        normalize_base_url("http://user:hunter2@host/v1?token=abc")
    assert "hunter2" not in str(err.value)
    assert "abc" not in str(err.value)


def test_describe_names_server_and_model_but_never_the_key() -> None:
    client = LLMClient("http://bob:pw@127.0.0.1:11434", "llama3.1:8b", api_key=KEY)
    assert client.describe() == "http://bob:***@127.0.0.1:11434/v1 (model llama3.1:8b)"
    assert KEY not in repr(client)
    assert "pw" not in repr(client)
    client.close()


def test_from_settings_is_none_without_a_base_url(isolated_settings: Settings) -> None:
    assert LLMClient.from_settings(isolated_settings) is None
    assert LLMClient.from_settings() is None


def test_from_settings_uses_every_llm_setting(tmp_path: Path) -> None:
    env = {
        "CONVERGEAI_LLM_BASE_URL": "http://127.0.0.1:8080",
        "CONVERGEAI_LLM_MODEL": "qwen2.5",
        "CONVERGEAI_LLM_API_KEY": KEY,
        "CONVERGEAI_LLM_CONNECT_TIMEOUT": "1.5",
        "CONVERGEAI_LLM_READ_TIMEOUT": "4",
        "CONVERGEAI_LLM_TOTAL_TIMEOUT": "20",
        "CONVERGEAI_LLM_TEMPERATURE": "0.7",
        "CONVERGEAI_LLM_MAX_TOKENS": "256",
        "CONVERGEAI_LLM_TOKEN_LIMIT_FIELD": "max_completion_tokens",
        "CONVERGEAI_LLM_MAX_RETRIES": "1",
    }
    settings = Settings.load(env=env, config_path=tmp_path / "none.toml")
    client = LLMClient.from_settings(settings)
    assert client is not None
    assert client.base_url == "http://127.0.0.1:8080/v1"
    assert (client.model, client.max_tokens, client.token_limit_field) == (
        "qwen2.5",
        256,
        "max_completion_tokens",
    )
    assert (client.connect_timeout, client.read_timeout, client.total_timeout) == (1.5, 4.0, 20.0)
    assert (client.temperature, client.max_retries) == (0.7, 1)
    assert KEY not in repr(client)
    client.close()


def test_llm_errors_are_known_errors() -> None:
    assert issubclass(LLMError, KnownError)
    for cls in (LLMUnavailable, LLMStreamError, LLMCancelled):
        assert issubclass(cls, LLMError)


# The request -----------------------------------------------------------------------------------


def test_normal_stream_delivers_deltas_in_order(server: LLMServer, make_client: Factory) -> None:
    server.script(stream_reply(["The keynote", " is in", " Hall A."]))
    text, deltas = collect(make_client(server.url, api_key=KEY))
    assert text == "The keynote is in Hall A."
    assert deltas == ["The keynote", " is in", " Hall A."]  # no empty role-only or usage delta


def test_request_body_and_headers(server: LLMServer, make_client: Factory) -> None:
    client = make_client(server.url, api_key=KEY, temperature=0.4, max_tokens=123)
    collect(client)
    (request,) = server.chat_requests()
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": MODEL,
        "messages": MESSAGES,
        "stream": True,
        "temperature": 0.4,
        "max_tokens": 123,
    }
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept-encoding"] == "identity"


def test_token_limit_goes_under_the_configured_field(
    server: LLMServer, make_client: Factory
) -> None:
    collect(make_client(server.url, max_tokens=77, token_limit_field="max_completion_tokens"))
    body = server.chat_requests()[0].body
    assert body["max_completion_tokens"] == 77
    assert "max_tokens" not in body


def test_no_authorization_header_without_a_key(server: LLMServer, make_client: Factory) -> None:
    collect(make_client(server.url))
    assert "authorization" not in server.chat_requests()[0].headers


@pytest.mark.parametrize(
    ("suffix", "path"),
    [
        ("", "/v1/chat/completions"),
        ("/", "/v1/chat/completions"),
        ("/v1/", "/v1/chat/completions"),
        ("/custom/v1", "/custom/v1/chat/completions"),
    ],
)
def test_base_url_forms_reach_the_right_endpoint(
    server: LLMServer, make_client: Factory, suffix: str, path: str
) -> None:
    text, _ = collect(make_client(server.root + suffix))
    assert text == "Hello, world!"
    assert server.chat_requests()[0].path == path


def test_connection_is_kept_for_the_next_request(server: LLMServer, make_client: Factory) -> None:
    client = make_client(server.url)
    collect(client)
    collect(client)
    first, second = server.chat_requests()
    assert first.client_port == second.client_port


def test_silence_after_done_does_not_delay_the_answer(
    server: LLMServer, make_client: Factory
) -> None:
    server.script(pieces_reply(stream_events(["Done"]), end="stall"))
    started = time.monotonic()
    assert collect(make_client(server.url, read_timeout=5.0))[0] == "Done"
    assert time.monotonic() - started < 1.3
    assert collect(make_client(server.url))[0] == "Hello, world!"  # the server still serves


# Decoding the stream ---------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_multibyte_characters_split_across_writes(
    server: LLMServer, make_client: Factory, framing: Any
) -> None:
    server.script(stream_reply(MULTIBYTE, split=True, framing=framing))
    text, deltas = collect(make_client(server.url))
    assert deltas == MULTIBYTE
    assert text == "".join(MULTIBYTE)


def test_sse_variants_comments_events_crlf_and_multiline_data(
    server: LLMServer, make_client: Factory
) -> None:
    role = json.dumps(chunk(role="assistant"))
    server.script(
        pieces_reply(
            [
                b"\xef\xbb\xbf: a byte-order mark, then a comment\n\n",
                b"retry: 1000\n\n",
                b"event: message\n" + event(role),
                b"data:" + json.dumps(chunk("Hel")).encode() + b"\r",  # CR in one write,
                b"\n\r\n",  # its LF in the next
                b"id: 7\n" + event(chunk("lo"), space=False),
                b"\n\n\n",
                event(chunk(" th\u00e9re"), newline=b"\r\n"),
                b'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "!"}}]}\n\n',
                event(chunk(finish_reason="stop")),
                event(USAGE_CHUNK),
                b": keep-alive\n\n",
                event("[DONE]"),
            ]
        )
    )
    text, deltas = collect(make_client(server.url))
    assert deltas == ["Hel", "lo", " th\u00e9re", "!"]
    assert text == "Hello th\u00e9re!"


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_first_delta_is_not_held_back(
    server: LLMServer, make_client: Factory, framing: Any
) -> None:
    """The server waits, after the first delta, until the client has shown it."""
    shown = threading.Event()
    first, rest = stream_events(["First"])[:2], stream_events([" second"], role_first=False)
    server.script(pieces_reply([*first, Gate(shown), *rest], framing=framing))

    def on_delta(piece: str) -> None:
        shown.set()
        deltas.append(piece)

    deltas: list[str] = []
    text = make_client(server.url).stream_chat(MESSAGES, on_delta)
    assert text == "First second"
    assert server.gate_timeouts == 0


def test_finish_reason_without_done_is_a_whole_answer(
    server: LLMServer, make_client: Factory
) -> None:
    """llama.cpp before late 2024 (and some forks) never send [DONE]."""
    server.script(stream_reply(["Room B", "."], done=False, usage=False))
    assert collect(make_client(server.url))[0] == "Room B."


def test_answer_sent_as_plain_json_is_accepted(server: LLMServer, make_client: Factory) -> None:
    completion = {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hall C"},
                "finish_reason": "stop",
            }
        ],
    }
    server.script(json_reply(completion))
    assert collect(make_client(server.url)) == ("Hall C", ["Hall C"])


def test_empty_answer_is_unavailable(server: LLMServer, make_client: Factory) -> None:
    server.script(stream_reply([]))
    with pytest.raises(LLMUnavailable, match="empty answer"):
        collect(make_client(server.url))


def test_malformed_event_is_an_error(server: LLMServer, make_client: Factory) -> None:
    server.script(
        pieces_reply([*stream_events(["Hi"], finish_reason=None, done=False), b"data: {oops\n\n"])
    )
    with pytest.raises(LLMStreamError, match="malformed") as err:
        collect(make_client(server.url))
    assert err.value.partial_text == "Hi"


# Errors in and around the stream ---------------------------------------------------------------


@pytest.mark.parametrize("form", ["data", "line"])
def test_mid_stream_error_after_text(server: LLMServer, make_client: Factory, form: str) -> None:
    server.script(mid_stream_error_reply(["The talk", " starts"], "context overflow", form=form))
    deltas: list[str] = []
    with pytest.raises(LLMStreamError, match="reported an error: context overflow") as err:
        make_client(server.url).stream_chat(MESSAGES, deltas.append)
    assert err.value.partial_text == "The talk starts"
    assert deltas == ["The talk", " starts"]
    assert len(server.chat_requests()) == 1


@pytest.mark.parametrize("form", ["data", "line"])
def test_mid_stream_error_before_text(server: LLMServer, make_client: Factory, form: str) -> None:
    server.script(mid_stream_error_reply([], "model crashed", form=form))
    with pytest.raises(LLMUnavailable, match="model crashed"):
        collect(make_client(server.url))


def test_event_named_error_is_an_error(server: LLMServer, make_client: Factory) -> None:
    server.script(pieces_reply([b'event: error\ndata: {"message": "overloaded"}\n\n']))
    with pytest.raises(LLMUnavailable, match="overloaded"):
        collect(make_client(server.url))


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_stream_cut_without_done(server: LLMServer, make_client: Factory, framing: Any) -> None:
    server.script(cut_reply(["Half an", " answer"], framing=framing))
    with pytest.raises(LLMStreamError) as err:
        collect(make_client(server.url))
    assert err.value.partial_text == "Half an answer"
    assert len(server.chat_requests()) == 1  # never retried once text was shown


def test_stream_cut_before_any_text_is_unavailable(server: LLMServer, make_client: Factory) -> None:
    server.script(cut_reply([]))
    with pytest.raises(LLMUnavailable):
        collect(make_client(server.url))


# HTTP errors and retries -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500, 502])
def test_other_http_errors_are_not_retried(
    server: LLMServer, make_client: Factory, status: int
) -> None:
    server.script(error_reply(status, "nope, and here is why"))
    with pytest.raises(LLMUnavailable, match=f"HTTP {status}.*nope, and here is why"):
        collect(make_client(server.url, max_retries=3))
    assert len(server.chat_requests()) == 1


def test_401_message_quotes_the_server_without_the_key(
    server: LLMServer, make_client: Factory
) -> None:
    server.script(error_reply(401, f"Incorrect API key provided: {KEY}."))
    with pytest.raises(LLMUnavailable) as err:
        collect(make_client(server.url, api_key=KEY))
    assert "Incorrect API key provided: ***" in str(err.value)
    assert "llm.api_key" in str(err.value)
    assert KEY not in str(err.value)


def test_error_body_is_read_only_briefly(server: LLMServer, make_client: Factory) -> None:
    server.script(error_reply(500, "x" * 50_000))
    with pytest.raises(LLMUnavailable) as err:
        collect(make_client(server.url))
    assert len(str(err.value)) < 500


def test_503_is_retried_with_backoff(server: LLMServer, make_client: Factory) -> None:
    server.script(error_reply(503, "loading model"), error_reply(503, "loading model"))
    assert collect(make_client(server.url, max_retries=2))[0] == "Hello, world!"
    assert len(server.chat_requests()) == 3


def test_retries_stop_at_max_retries(server: LLMServer, make_client: Factory) -> None:
    server.script(*[error_reply(503, "still loading")] * 3)
    with pytest.raises(LLMUnavailable, match="HTTP 503.*still loading"):
        collect(make_client(server.url, max_retries=1))
    assert len(server.chat_requests()) == 2


def test_no_retries_when_max_retries_is_zero(server: LLMServer, make_client: Factory) -> None:
    server.script(error_reply(429, "slow down"))
    with pytest.raises(LLMUnavailable, match="HTTP 429"):
        collect(make_client(server.url, max_retries=0))
    assert len(server.chat_requests()) == 1


def test_429_retry_after_is_honoured(server: LLMServer, make_client: Factory) -> None:
    server.script(error_reply(429, "rate limited", retry_after="1"))
    started = time.monotonic()
    assert collect(make_client(server.url))[0] == "Hello, world!"
    first, second = server.chat_requests()
    assert 0.95 <= second.at - first.at < 1.6
    assert time.monotonic() - started < 2.0


def test_long_retry_after_gives_up_at_once(server: LLMServer, make_client: Factory) -> None:
    server.script(error_reply(429, "quota exceeded", retry_after="120"))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="wait 120 s"):
        collect(make_client(server.url))
    assert time.monotonic() - started < 0.5
    assert len(server.chat_requests()) == 1


def test_retry_after_beyond_the_total_limit_gives_up(
    server: LLMServer, make_client: Factory
) -> None:
    server.script(error_reply(503, "busy", retry_after="3"))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="busy"):
        collect(make_client(server.url, total_timeout=1.0))
    assert time.monotonic() - started < 0.5
    assert len(server.chat_requests()) == 1


def test_reset_before_the_response_is_retried(server: LLMServer, make_client: Factory) -> None:
    server.script(reset_reply())
    assert collect(make_client(server.url))[0] == "Hello, world!"
    assert len(server.chat_requests()) == 2


def test_server_down_is_unavailable(make_client: Factory) -> None:
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="connection refused"):
        collect(make_client(down_url(), max_retries=2))
    assert time.monotonic() - started < 1.3


# Timeouts and cancelling -----------------------------------------------------------------------


def test_hung_server_is_given_up_after_the_read_timeout(
    server: LLMServer, make_client: Factory
) -> None:
    server.script(hang_reply())
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="did not answer within 0.3 s"):
        collect(make_client(server.url, read_timeout=0.3))
    assert 0.25 <= time.monotonic() - started < 1.3
    assert len(server.chat_requests()) == 1  # a timeout is not retried


def test_hung_server_is_given_up_at_the_total_limit(
    server: LLMServer, make_client: Factory
) -> None:
    server.script(hang_reply())
    started = time.monotonic()
    with pytest.raises(LLMUnavailable):
        collect(make_client(server.url, read_timeout=5.0, total_timeout=0.5))
    assert 0.45 <= time.monotonic() - started < 1.3


def test_headers_then_silence(server: LLMServer, make_client: Factory) -> None:
    server.script(stall_reply())
    started = time.monotonic()
    with pytest.raises(LLMUnavailable):
        collect(make_client(server.url, read_timeout=0.3))
    assert 0.25 <= time.monotonic() - started < 1.3


def test_text_then_silence(server: LLMServer, make_client: Factory) -> None:
    server.script(stall_reply(["Partial"]))
    with pytest.raises(LLMStreamError) as err:
        collect(make_client(server.url, read_timeout=0.3))
    assert err.value.partial_text == "Partial"


def test_blocked_read_is_ended_at_the_total_limit(server: LLMServer, make_client: Factory) -> None:
    """The read timeout alone would wait 5 s; the watchdog ends the read at 0.5 s."""
    server.script(stall_reply(["Partial"]))
    started = time.monotonic()
    with pytest.raises(LLMStreamError, match="longer than 0.5 s") as err:
        collect(make_client(server.url, read_timeout=5.0, total_timeout=0.5))
    assert 0.45 <= time.monotonic() - started < 1.2
    assert err.value.partial_text == "Partial"


def test_trickled_bytes_stop_near_the_total_limit(server: LLMServer, make_client: Factory) -> None:
    """One byte every 20 ms: each read is quick, the event never ends, no line is complete."""
    server.script(trickle_reply(interval=0.02))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="longer than 0.6 s"):
        collect(make_client(server.url, read_timeout=0.3, total_timeout=0.6))
    assert 0.55 <= time.monotonic() - started < 1.3


def test_slow_deltas_stop_near_the_total_limit(server: LLMServer, make_client: Factory) -> None:
    server.script(slow_deltas_reply(interval=0.05))
    started = time.monotonic()
    with pytest.raises(LLMStreamError, match="longer than 0.5 s") as err:
        collect(make_client(server.url, read_timeout=0.3, total_timeout=0.5))
    assert 0.45 <= time.monotonic() - started < 1.2
    assert err.value.partial_text.startswith("w0 w1 ")


def test_cancel_from_another_thread_stops_a_blocked_stream(
    server: LLMServer, make_client: Factory
) -> None:
    server.script(pieces_reply([*stream_events(["Partial"])[:2], Stall()]))
    cancel, shown = threading.Event(), threading.Event()
    cancelled_at: list[float] = []

    def canceller() -> None:
        shown.wait(5)
        cancelled_at.append(time.monotonic())
        cancel.set()

    thread = threading.Thread(target=canceller)
    thread.start()
    client = make_client(server.url, read_timeout=5.0, total_timeout=10.0)
    with pytest.raises(LLMCancelled) as err:
        client.stream_chat(MESSAGES, lambda _: shown.set(), cancel)
    thread.join()
    assert time.monotonic() - cancelled_at[0] < 0.5
    assert err.value.partial_text == "Partial"


def test_cancel_during_a_retry_wait(server: LLMServer, make_client: Factory) -> None:
    server.script(error_reply(429, "rate limited", retry_after="3"))
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(LLMCancelled):
        collect(make_client(server.url), cancel=cancel)
    timer.join()
    assert time.monotonic() - started < 0.8
    assert len(server.chat_requests()) == 1


def test_cancelled_before_starting_sends_nothing(server: LLMServer, make_client: Factory) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LLMCancelled):
        collect(make_client(server.url), cancel=cancel)
    assert server.chat_requests() == []


def test_exception_in_on_delta_propagates(server: LLMServer, make_client: Factory) -> None:
    def on_delta(piece: str) -> None:
        raise RuntimeError("display broke")

    with pytest.raises(RuntimeError, match="display broke"):
        make_client(server.url).stream_chat(MESSAGES, on_delta)


# Secrets ---------------------------------------------------------------------------------------


def test_the_key_and_the_prompt_never_reach_messages_or_logs(
    server: LLMServer, make_client: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="convergeai.assistant")
    client = make_client(server.url, api_key=KEY, read_timeout=0.3)
    server.script(
        stream_reply(["ok"]),
        error_reply(401, f"Incorrect API key provided: {KEY}"),
        mid_stream_error_reply(["a"], f"bad token {KEY}"),
        error_reply(429, f"slow down {KEY}", retry_after="0"),
        error_reply(429, f"slow down {KEY}", retry_after="0"),
        error_reply(429, f"slow down {KEY}", retry_after="0"),
        hang_reply(),
    )
    errors: list[BaseException] = []
    for _ in range(5):
        try:
            collect(client)
        except LLMError as exc:
            errors.append(exc)
    down = make_client(down_url(), api_key=KEY)
    with pytest.raises(LLMUnavailable) as err:
        collect(down)
    errors.append(err.value)
    health = make_client(server.url, api_key=KEY).health()

    assert len(errors) == 5
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += ["".join(traceback.format_exception(e)) for e in errors]
    texts += [repr(client), client.describe(), repr(health)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [r.exc_text or "" for r in caplog.records]
    assert caplog.records
    for text in texts:
        assert KEY not in text
        assert QUESTION not in text
    # ...while the server did receive the key
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)


# Health ----------------------------------------------------------------------------------------


def test_health_lists_the_models(make_client: Factory) -> None:
    with LLMServer(models=("llama3.1:8b", "qwen2.5:7b", MODEL)) as srv:
        result = make_client(srv.url, api_key=KEY).health()
        assert srv.requests[0].path == "/v1/models"
        assert srv.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert result.ok
    assert result.models == ("llama3.1:8b", "qwen2.5:7b", MODEL)
    assert result.detail == f"OK: 3 models (llama3.1:8b, qwen2.5:7b, {MODEL})."
    assert result.latency_ms > 0


def test_health_notes_a_model_the_server_does_not_list(
    server: LLMServer, make_client: Factory
) -> None:
    result = make_client(server.url, model="mistral").health()
    assert result.ok
    assert "'mistral' is not among them" in result.detail


def test_health_falls_back_to_llama_cpp(server: LLMServer, make_client: Factory) -> None:
    server.set_default(error_reply(404, "not found"), endpoint=MODELS)
    server.set_default(json_reply({"status": "ok"}), endpoint=HEALTH)
    result = make_client(server.url).health()
    assert (result.ok, result.detail) == (True, "OK: llama.cpp server ready.")
    assert [r.path for r in server.requests] == ["/v1/models", "/health"]


def test_health_llama_cpp_loading(server: LLMServer, make_client: Factory) -> None:
    server.set_default(error_reply(404, "not found"), endpoint=MODELS)
    server.set_default(error_reply(503, "Loading model"), endpoint=HEALTH)
    result = make_client(server.url).health()
    assert not result.ok
    assert "not ready: Loading model" in result.detail


def test_health_falls_back_to_ollama(server: LLMServer, make_client: Factory) -> None:
    server.set_default(error_reply(404, "not found"), endpoint=MODELS)
    server.set_default(json_reply({"version": "0.5.7"}), endpoint=VERSION)
    result = make_client(server.root).health()
    assert (result.ok, result.detail) == (True, "OK: Ollama 0.5.7.")
    assert [r.path for r in server.requests] == ["/v1/models", "/health", "/api/version"]


def test_health_reports_a_failing_model_list(server: LLMServer, make_client: Factory) -> None:
    server.set_default(error_reply(500, "backend exploded"), endpoint=MODELS)
    result = make_client(server.url).health()
    assert not result.ok
    assert result.detail == f"{server.url}/models answered HTTP 500: backend exploded."


def test_health_refused_key(server: LLMServer, make_client: Factory) -> None:
    server.set_default(error_reply(401, f"invalid key {KEY}"), endpoint=MODELS)
    result = make_client(server.url, api_key=KEY).health()
    assert not result.ok
    assert "refused the API key (HTTP 401)" in result.detail
    assert KEY not in result.detail


def test_health_of_a_server_that_is_down(make_client: Factory) -> None:
    url = down_url()
    result = make_client(url).health()
    assert not result.ok
    assert result.detail == f"Cannot connect to {url}: connection refused."
    assert result.models == ()


def test_health_of_a_hung_server(server: LLMServer, make_client: Factory) -> None:
    server.script(hang_reply(), endpoint=MODELS)
    result = make_client(server.url, read_timeout=0.3).health()
    assert not result.ok
    assert "No answer" in result.detail
