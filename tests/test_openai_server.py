"""Tests for the fake OpenAI server, driven through the real openai SDK over HTTP."""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openai
import pytest
from openai import AsyncAzureOpenAI, AsyncOpenAI

from tests.openai_server import (
    ErrorReply,
    FakeOpenAIServer,
    TextReply,
    code_markdown,
    long_markdown,
    tokenize,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

MESSAGES: list[Any] = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "say hello please"},
]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
async def client(server: FakeOpenAIServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as c:
        yield c


async def collect(client: AsyncOpenAI, **kwargs: Any) -> list[Any]:
    """Stream a chat completion and return every chunk."""
    params: dict[str, Any] = {"model": "fake-model", "messages": MESSAGES, "stream": True}
    params.update(kwargs)
    stream = await client.chat.completions.create(**params)
    return [chunk async for chunk in stream]


async def drain(stream: Any, received: list[str]) -> None:
    """Consume a stream, keeping content deltas in ``received`` even if iteration fails."""
    async for chunk in stream:
        received.extend(choice.delta.content or "" for choice in chunk.choices)


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def finish_of(chunks: list[Any]) -> str | None:
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices]
    return next((r for r in reasons if r), None)


def raw_request(server: FakeOpenAIServer, method: str, path: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"content-type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_tokenize_round_trips() -> None:
    text = "  Hello,  world!\n\n## Head\n- item `x`\n"
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert tokens[:2] == ["  Hello,", "  world!"]


async def test_stream_text_with_usage(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(TextReply("Hi there, friend."))
    chunks = await collect(client, stream_options={"include_usage": True})
    assert text_of(chunks) == "Hi there, friend."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert finish_of(chunks) == "stop"
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 3, 8)
    assert server.last_request.headers["content-type"].startswith("application/json")


async def test_list_content_and_no_usage_unless_asked(client: AsyncOpenAI) -> None:
    chunks = await collect(client)  # default responder, no include_usage
    assert all(c.usage is None for c in chunks)
    assert "> say hello please" in text_of(chunks)


async def test_recorded_body_and_list_content(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply(["a", "b", "c"], usage={"prompt_tokens": 1, "total_tokens": 4}))
    chunks = await collect(client)
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["a", "b", "c"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 4
    req = server.last_request
    assert (req.method, req.path, req.kind) == ("POST", "/v1/chat/completions", "openai")
    assert req.body is not None
    assert req.body["messages"] == MESSAGES
    assert req.body["model"] == "fake-model"
    assert json.loads(req.raw_body) == req.body
    assert req.headers["authorization"] == "Bearer k"


async def test_azure_deployment_stream(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("From Azure", azure=True))
    async with AsyncAzureOpenAI(
        azure_endpoint=server.url,
        api_key="k",
        api_version="2024-10-21",
        azure_deployment="dep",
        max_retries=0,
    ) as azure:
        chunks = await collect(azure)
    assert chunks[0].choices == []
    assert text_of(chunks) == "From Azure"
    assert finish_of(chunks) == "stop"
    req = server.last_request
    assert (req.kind, req.deployment) == ("azure", "dep")
    assert req.path == "/openai/deployments/dep/chat/completions"
    assert req.query["api-version"] == "2024-10-21"
    assert req.headers["api-key"] == "k"


async def test_azure_v1_path(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("v1 reply"))
    async with AsyncOpenAI(base_url=server.url + "/openai/v1/", api_key="k", max_retries=0) as c:
        chunks = await collect(c)
    assert text_of(chunks) == "v1 reply"
    assert server.last_request.kind == "azure-v1"
    assert server.last_request.deployment is None


def test_azure_missing_api_version_and_unknown_path(server: FakeOpenAIServer) -> None:
    path = "/openai/deployments/dep/chat/completions"
    status, body = raw_request(server, "POST", path, {"messages": []})
    assert status == 404
    assert body == {"error": {"code": "404", "message": "Resource not found"}}
    status, body = raw_request(server, "GET", "/nope")
    assert status == 404
    assert "error" in body
    assert [r.path for r in server.wait_for_requests(2)] == [path, "/nope"]


async def test_error_reply_401(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(ErrorReply(401))
    with pytest.raises(openai.AuthenticationError) as info:
        await collect(client)
    assert info.value.status_code == 401


async def test_error_reply_text_body_and_headers(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(ErrorReply(429, "slow down", {"retry-after": "1"}))
    with pytest.raises(openai.RateLimitError) as info:
        await collect(client)
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.response.text == "slow down"


async def test_drop_after_raises_connection_error(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("one two three four five six", drop_after=3))
    received: list[str] = []
    stream = await client.chat.completions.create(
        model="fake-model", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        await drain(stream, received)
    assert "".join(received) == "one two three"


async def test_no_finish_and_no_done(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(TextReply("partial answer", finish_reason=None, done=False))
    chunks = await collect(client)
    assert text_of(chunks) == "partial answer"
    assert finish_of(chunks) is None


async def test_stall_times_out(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("a b c d", stall_after=2))
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=0.5) as c:
        received: list[str] = []
        stream = await c.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APITimeoutError):
            await drain(stream, received)
    assert "".join(received) == "a b"


async def test_stop_does_not_hang_on_stalled_response() -> None:
    srv = FakeOpenAIServer().start()
    srv.enqueue(TextReply("a b c", stall_after=1, stall_seconds=30))
    async with AsyncOpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as c:
        stream = await c.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        first = await stream.__anext__()
        assert first.choices[0].delta.role == "assistant"
        started = time.monotonic()
        await asyncio.to_thread(srv.stop)
        assert time.monotonic() - started < 2
        with pytest.raises(openai.APIConnectionError):
            await drain(stream, [])


async def test_non_streaming(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(TextReply("whole answer", finish_reason="length", model="other"))
    completion = await client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert completion.object == "chat.completion"
    assert completion.model == "other"
    assert completion.choices[0].message.content == "whole answer"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 2


async def test_require_key(server: FakeOpenAIServer) -> None:
    server.require_key = "secret"
    async with AsyncOpenAI(base_url=server.base_url, api_key="wrong", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as info:
            await collect(bad)
    assert isinstance(info.value.body, dict)
    assert info.value.body["code"] == "invalid_api_key"
    async with AsyncOpenAI(base_url=server.base_url, api_key="secret", max_retries=0) as good:
        assert text_of(await collect(good))
    assert len(server.requests) == 2


async def test_keep_alive_two_requests(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(TextReply("first"), TextReply("second"))
    assert text_of(await collect(client)) == "first"
    assert text_of(await collect(client)) == "second"
    first, second = server.wait_for_requests(2)
    assert first.client_port == second.client_port


async def test_default_status_404(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        await collect(client, messages=[{"role": "user", "content": "!status 404"}])
    assert isinstance(info.value.body, dict)
    assert info.value.body["code"] == "DeploymentNotFound"


async def test_default_commands(client: AsyncOpenAI) -> None:
    async def run(prompt: str) -> list[Any]:
        return await collect(client, messages=[{"role": "user", "content": prompt}])

    assert finish_of(await run("!length")) == "length"
    assert finish_of(await run("!filter")) == "content_filter"
    assert finish_of(await run("!nofinish")) is None
    assert "[bold]not bold[/bold]" in text_of(await run("!markup"))
    long = text_of(await run("!long 300"))
    assert long == long_markdown(300)
    assert "```python" in long
    assert "## " in long
    with pytest.raises(openai.APIConnectionError):
        await run("!drop")


def test_generators_are_deterministic_and_sized() -> None:
    assert long_markdown(500) == long_markdown(500)
    assert 500 <= len(tokenize(long_markdown(500))) < 700
    code = code_markdown(400)
    assert code.startswith("```python")
    assert code.endswith("```")
    assert 400 <= len(tokenize(code)) < 450


async def test_models_list(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    page = await client.models.list()
    assert [m.id for m in page.data] == ["fake-model", "fake-model-mini"]
    assert server.last_request.method == "GET"
    status, body = raw_request(server, "GET", "/openai/v1/models")
    assert status == 200
    assert body["object"] == "list"


async def test_invalid_raw_chunk(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(TextReply("ok", raw_chunks=["{not json"]))
    with pytest.raises(ValueError, match="Expecting property name"):
        await collect(client)


async def test_tokens_per_second_paces_stream() -> None:
    with FakeOpenAIServer(tokens_per_second=50) as srv:
        srv.enqueue(TextReply(["x"] * 10))
        async with AsyncOpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as c:
            started = time.monotonic()
            await collect(c)
            assert time.monotonic() - started >= 0.18


def test_reset_last_request_and_wait_timeout(server: FakeOpenAIServer) -> None:
    with pytest.raises(AssertionError):
        _ = server.last_request
    server.enqueue(TextReply())
    raw_request(server, "GET", "/v1/models")
    server.reset()
    assert server.requests == []
    with pytest.raises(AssertionError, match="expected 1 requests"):
        server.wait_for_requests(1, timeout=0.05)


def test_standalone_script_prints_urls_and_stops_on_interrupt() -> None:
    script = Path(__file__).with_name("openai_server.py")
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("fake OpenAI server on http://127.0.0.1:")
        assert "OPENAI_BASE_URL=" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
