"""The record of what went over the wire: the real SDK against the test server, with the log's
hooks on its HTTP client, and what the log (in memory and in its file) then holds."""

from __future__ import annotations

import json
import logging
import stat
from typing import TYPE_CHECKING

import openai
import pytest

from chat_tui.errors import ChatError
from chat_tui.wire_log import (
    REDACTED,
    Level,
    Scrubber,
    WireLog,
    body_shape,
    current,
    for_settings,
    redact_headers,
    request_ids,
    route_library_loggers,
)
from tests.openai_server import ErrorReply, TextReply

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

KEY = "sk-very-secret-key-123456"
QUESTION = "what is my secret plan?"


def hooked(log: WireLog) -> openai.DefaultAsyncHttpxClient:
    return openai.DefaultAsyncHttpxClient(
        event_hooks={"request": [log.on_request], "response": [log.on_response]}
    )


async def stream_once(log: WireLog, server: FakeOpenAIServer, *, azure: bool = True) -> str:
    """One streamed reply through the SDK, as the app's client makes it; its text."""
    log.scrub.add(KEY)
    common = {"api_key": KEY, "max_retries": 0, "http_client": hooked(log)}
    client = (
        openai.AsyncAzureOpenAI(
            azure_endpoint=server.url,
            azure_deployment="dep",
            api_version="2024-10-21",
            **common,
        )
        if azure
        else openai.AsyncOpenAI(base_url=server.base_url, **common)
    )
    text = ""
    try:
        stream = await client.chat.completions.create(
            model="dep",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            temperature=0.5,
        )
        exchange = current()
        async for chunk in stream:
            log.chunk(exchange)
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        log.ended(exchange, "finished")
    finally:
        await client.close()
    return text


async def test_a_streamed_request_is_recorded_without_secrets(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("The plan is tea."))
    path = tmp_path / "logs" / "wire.jsonl"
    log = WireLog(path)
    assert await stream_once(log, server) == "The plan is tea."

    [exchange] = log.exchanges
    assert exchange.method == "POST"
    assert exchange.url.endswith("/openai/deployments/dep/chat/completions?api-version=•••")
    assert exchange.api_version == "2024-10-21"
    assert exchange.headers["api-key"] == REDACTED
    assert exchange.status == 200
    assert exchange.ids["x-request-id"].startswith("req-fake-")
    assert exchange.params["temperature"] == 0.5
    assert exchange.params["stream"] is True
    assert exchange.params["messages"] == "1 items (user)"  # not the text
    assert exchange.chunks > 3
    assert exchange.to_headers is not None
    assert exchange.to_first_chunk is not None
    assert exchange.to_end is not None
    assert exchange.to_headers <= exchange.to_first_chunk <= exchange.to_end
    assert exchange.ending == "finished"

    written = path.read_text()
    assert KEY not in written
    assert QUESTION not in written
    assert json.loads(written.splitlines()[0])["exchange"]["status"] == 200
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_the_content_level_keeps_the_messages(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Tea."))
    log = WireLog(tmp_path / "wire.jsonl", level=Level.CONTENT)
    await stream_once(log, server, azure=False)
    [exchange] = log.exchanges
    assert exchange.params["messages"] == [{"role": "user", "content": QUESTION}]
    assert exchange.headers["authorization"] == REDACTED
    assert KEY not in (tmp_path / "wire.jsonl").read_text()


async def test_a_failed_request_ends_with_its_status(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(
        ErrorReply(429, {"error": {"message": f"Slow down, {KEY}"}}, headers={"retry-after": "7"})
    )
    log = WireLog()
    with pytest.raises(openai.RateLimitError):
        await stream_once(log, server)
    [exchange] = log.exchanges
    assert exchange.status == 429
    assert exchange.ending == "HTTP 429"
    assert exchange.response_headers["retry-after"] == "7"
    assert exchange.to_end is not None


def test_the_log_file_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    log = WireLog(path, max_bytes=2_000)
    for n in range(200):
        log.note(f"line {n} " + "x" * 40)
    assert path.stat().st_size <= 2_000
    assert (tmp_path / "wire.jsonl.1").stat().st_size <= 2_000
    assert "line 199" in path.read_text()
    assert len(log.lines) <= 200


def test_an_unwritable_file_is_told_once_and_memory_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = WireLog(blocker / "wire.jsonl")  # a directory that is a file
    log.note("first")
    log.note("second")
    assert "wire.jsonl" in log.problem
    assert list(log.lines) == ["first", "second"]


def test_save_writes_the_header_and_what_is_kept(tmp_path: Path) -> None:
    log = WireLog()
    log.scrub.add(KEY)
    log.note(f"openai DEBUG Request options: api_key={KEY}")
    target = tmp_path / "diagnostics.jsonl"
    target.write_text("kept")
    target = log.save(target, {"chat-tui": "1.0", "provider": "azure"})
    assert (tmp_path / "diagnostics.jsonl").read_text() == "kept"  # never over a file
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0] == {"chat-tui": "1.0", "provider": "azure"}
    assert KEY not in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_library_loggers_write_to_the_log_not_the_terminal(
    capfd: pytest.CaptureFixture[str],
) -> None:
    log = WireLog()
    log.scrub.add(KEY)
    route_library_loggers(log, debug=True)
    try:
        logging.getLogger("openai._base_client").debug("Request options: %s", {"api_key": KEY})
        logging.getLogger("httpx").info("HTTP Request: POST https://x/ 200")
        logging.getLogger("azure.identity").warning(f"Authorization: Bearer {KEY}xyz")
    finally:
        route_library_loggers(log, debug=False)
    captured = capfd.readouterr()
    assert captured.out == captured.err == ""
    assert len(log.lines) == 3
    assert all(KEY not in line for line in log.lines)


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.abc.def",
        "api-key: 0123456789abcdef",
        'client "api_key": "abcdefgh12345678"',
    ],
)
def test_credentials_in_free_text_are_scrubbed(text: str) -> None:
    scrubbed = Scrubber()(text)
    assert REDACTED in scrubbed
    assert text.split()[-1].strip('"') not in scrubbed


def test_helpers() -> None:
    headers = redact_headers([("Api-Key", "k"), ("X-Request-Id", "r1"), ("Cookie", "c")])
    assert headers == {"api-key": REDACTED, "x-request-id": "r1", "cookie": REDACTED}
    assert request_ids({"x-request-id": "r1", "apim-request-id": "a2"}) == {
        "x-request-id": "r1",
        "apim-request-id": "a2",
    }
    assert body_shape(b"not json", Level.REQUESTS) == {"unreadable": "8 bytes that are not JSON"}
    assert body_shape(b'{"input": "hello"}', Level.REQUESTS) == {"input": "5 characters"}


def test_the_settings_choose_the_file_and_level(tmp_path: Path) -> None:
    from chat_tui.settings import Settings, SettingsError, parse_log, parse_log_level

    log = for_settings(Settings(log=str(tmp_path / "w.jsonl"), log_level="content", api_key=KEY))
    assert log.path == tmp_path / "w.jsonl"
    assert log.level is Level.CONTENT
    assert log.scrub(f"key={KEY}") == f"key={REDACTED}"
    assert for_settings(Settings()).path is None
    assert parse_log_level(" Content ") == "content"
    with pytest.raises(SettingsError):
        parse_log_level("everything")
    with pytest.raises(SettingsError):
        parse_log("wire\x1b[2J.log")


# -- a failure's details, for a support ticket ------------------------------------------------


async def failure_of(server: FakeOpenAIServer, reply: ErrorReply | TextReply) -> BaseException:
    """What the SDK raises for `reply` to a streamed Azure request."""
    server.enqueue(reply)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - each test checks which
        await stream_once(WireLog(), server)
    return raised.value


@pytest.mark.parametrize(
    ("status", "title"),
    [(401, "Key rejected"), (404, "Deployment not found"), (429, "Rate limited")],
)
async def test_an_http_failure_has_its_id_headers_body_and_request(
    server: FakeOpenAIServer, status: int, title: str
) -> None:
    from chat_tui.errors import describe_error
    from tests.conftest import azure_settings

    headers = {"apim-request-id": "apim-1", "x-ms-region": "Sweden Central"}
    body = {"error": {"code": str(status), "message": f"No \x1b[31m{KEY}"}}
    exc = await failure_of(server, ErrorReply(status, body, headers=headers))
    settings = azure_settings(server, model="dep", api_key=KEY)
    error = describe_error(exc, settings)
    assert error.title == title
    assert error.request_id.startswith("req-fake-")  # x-request-id first
    details = error.details
    assert details["status"] == str(status)
    assert details["header apim-request-id"] == "apim-1"
    assert details["header x-ms-region"] == "Sweden Central"
    assert details["request"] == "POST /openai/deployments/dep/chat/completions"
    assert details["deployment"] == "dep"
    assert details["api-version"] == "2024-10-21"
    ticket = error.ticket()
    assert f"request id: {error.request_id}" in ticket
    assert KEY not in ticket
    assert "\x1b" not in ticket  # made visible: ␛
    assert ChatError.from_dict(error.to_dict()) == error
    assert ChatError.from_dict(error.to_dict()).details == details


async def test_a_429_says_which_limit_was_hit(server: FakeOpenAIServer) -> None:
    from chat_tui.errors import describe_error
    from tests.conftest import azure_settings

    limits = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-limit-tokens": "30000"}
    exc = await failure_of(server, ErrorReply(429, headers=limits))
    error = describe_error(exc, azure_settings(server))
    assert error.detail.startswith("The tokens-per-minute limit was hit (all 30000 used).")
    assert error.details["header x-ratelimit-remaining-tokens"] == "0"


async def test_a_drop_mid_stream_keeps_the_request_id_it_had(server: FakeOpenAIServer) -> None:
    from chat_tui.errors import describe_error
    from tests.conftest import azure_settings

    exc = await failure_of(server, TextReply("Half of it " * 20, drop_after=5))
    error = describe_error(exc, azure_settings(server), answered=True, text=True)
    assert error.title == "Connection lost"
    assert error.request_id == ""  # the stream's headers are the wire log's to give
    assert error.with_request_id("req-7").request_id == "req-7"
    assert error.details["error"].startswith("openai.")
