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
from openai import AsyncAzureOpenAI, AsyncOpenAI, AzureOpenAI
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryPartDoneEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)

from tests.openai_server import (
    ErrorReply,
    FakeOpenAIServer,
    TextReply,
    code_lines_markdown,
    code_markdown,
    default_reply,
    long_markdown,
    table_markdown,
    thinking_text,
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


async def test_big_table_and_code_commands(client: AsyncOpenAI) -> None:
    async def run(prompt: str) -> str:
        return text_of(await collect(client, messages=[{"role": "user", "content": prompt}]))

    table = await run("!table 30x4")
    assert table == table_markdown(30, 4)
    lines = table.splitlines()
    assert len(lines) == 32  # the header, its rule and 30 rows
    assert all(line.startswith("| ") and line.count(" | ") == 3 for line in lines if line[2] != "-")
    assert lines[1] == "| --- | --- | --- | --- |"
    assert await run("!table") == table_markdown(50, 6)
    code = await run("!code 120 lines")
    assert code == code_lines_markdown(120)
    assert code.startswith("```python")
    assert code.endswith("```")
    assert 120 <= len(code.splitlines()) - 2 <= 123  # the fence's two lines are not code


async def test_timings_say_when_a_request_arrived_and_its_reply_ended(
    server: FakeOpenAIServer, client: AsyncOpenAI, tmp_path: Path
) -> None:
    server.timings = tmp_path / "timings.jsonl"
    before = time.time()
    await collect(client)
    await client.models.list()  # not a chat request: not logged
    # The line is written just after the reply's last byte, which the client may see first.
    for _ in range(500):
        if server.timings.exists():
            break
        await asyncio.sleep(0.01)
    [line] = server.timings.read_text().splitlines()
    logged = json.loads(line)
    request = server.requests[0]
    assert logged == {
        "path": "/v1/chat/completions",
        "received": request.received,
        "replied": request.replied,
    }
    assert before <= request.received <= (request.replied or 0) <= time.time()


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


# --- reasoning in Chat Completions ------------------------------------------------------------


def deltas(chunks: list[Any]) -> list[Any]:
    return [c.choices[0].delta for c in chunks if c.choices]


async def drain_items(stream: Any, received: list[Any]) -> None:
    """Consume a stream, keeping every chunk or event in ``received`` even if iteration fails."""
    async for item in stream:
        received.append(item)


async def test_reasoning_content_streams_before_the_answer(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("The answer.", reasoning="Let me think.", cached_tokens=2))
    chunks = await collect(client, stream_options={"include_usage": True})
    thoughts = [d.model_extra["reasoning_content"] for d in deltas(chunks) if d.model_extra]
    assert thoughts == ["Let", " me", " think."]
    fields = [
        "reasoning" if d.model_extra else "content" for d in deltas(chunks)[1:] if d.content != ""
    ]
    # All reasoning first, then the answer; the final chunk has neither.
    assert fields == ["reasoning"] * 3 + ["content"] * 2 + ["content"]
    assert deltas(chunks)[1].reasoning_content == "Let"  # type: ignore[attr-defined]
    assert deltas(chunks)[1].content is None
    assert text_of(chunks) == "The answer."
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 5, 10)
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 3
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 2


async def test_reasoning_field_and_hidden_reasoning_count(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("Yes.", reasoning=["a", "b"], reasoning_field="reasoning"))
    chunks = await collect(client)
    thinking = [d for d in deltas(chunks) if d.model_extra]
    assert [d.reasoning for d in thinking] == ["a", "b"]  # type: ignore[attr-defined]
    assert not any("reasoning_content" in (d.model_extra or {}) for d in deltas(chunks))
    assert text_of(chunks) == "Yes."
    # Reasoning reported only as a count, as OpenAI's own reasoning models do.
    server.enqueue(TextReply("Done.", reasoning_tokens=120))
    chunks = await collect(client, stream_options={"include_usage": True})
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens_details is not None
    assert (usage.completion_tokens, usage.completion_tokens_details.reasoning_tokens) == (121, 120)
    assert not any(d.model_extra for d in deltas(chunks))


async def test_think_tags_inline_whole_and_cut_across_chunks(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(
        TextReply("Paris.", reasoning="Capital of France.", reasoning_field="think"),
        TextReply(
            ["Par", "is."], reasoning=["Capital", " city."], reasoning_field="think", think_split=4
        ),
    )
    whole = await collect(client)
    assert [d.content for d in deltas(whole)][1:-1] == [
        "<think>",
        "Capital",
        " of",
        " France.",
        "</think>",
        "Paris.",
    ]
    cut = await collect(client)
    pieces = [d.content for d in deltas(cut)][1:-1]
    assert pieces == ["<thi", "nk>Capital", " city.</th", "ink>Par", "is."]
    assert "".join(pieces) == "<think>Capital city.</think>Paris."
    assert not any(d.model_extra for d in deltas(cut))


async def test_reasoning_in_non_streaming_and_azure_chunks(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(
        TextReply("Four.", reasoning="Two and two.", cached_tokens=1),
        TextReply("Four.", reasoning="Two and two.", reasoning_field="think"),
    )
    completion = await client.chat.completions.create(model="fake-model", messages=MESSAGES)
    message = completion.choices[0].message
    assert message.content == "Four."
    assert message.model_extra == {"reasoning_content": "Two and two."}
    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 3
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 1
    completion = await client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert completion.choices[0].message.content == "<think>Two and two.</think>Four."

    server.enqueue(TextReply("Hi", reasoning="hmm", azure=True))
    chunks = await collect(client)
    assert chunks[0].choices == []  # the Azure prelude still comes first
    reasoning_chunk = chunks[2].choices[0]
    assert reasoning_chunk.delta.model_extra == {"reasoning_content": "hmm"}
    assert reasoning_chunk.model_extra == {"content_filter_results": {}}


async def test_drop_counts_reasoning_chunks(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(TextReply("never sent", reasoning="one two three", drop_after=2))
    stream = await client.chat.completions.create(
        model="fake-model", messages=MESSAGES, stream=True
    )
    seen: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        await drain_items(stream, seen)
    assert [d.model_extra.get("reasoning_content") for d in deltas(seen)[1:]] == ["one", " two"]


async def test_chat_fail_after_sends_an_error_chunk(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("a b c d", fail_after=2, fail_code="server_error"))
    received: list[str] = []
    stream = await client.chat.completions.create(
        model="fake-model", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIError) as info:
        await drain(stream, received)
    assert "".join(received) == "a b"
    assert info.value.code == "server_error"
    assert "Sorry about that" in info.value.message
    server.enqueue(TextReply("whole", fail_after=0))
    with pytest.raises(openai.InternalServerError):
        await client.chat.completions.create(model="fake-model", messages=MESSAGES)


# --- reasoning models reject parameters ---------------------------------------------------------


async def rejected(client: AsyncOpenAI, **kwargs: Any) -> openai.BadRequestError:
    params: dict[str, Any] = {"model": "o3-mini", "messages": MESSAGES}
    params.update(kwargs)
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(**params)
    return info.value


async def test_reasoning_model_rejects_parameters_like_openai(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("accepted"))
    err = await rejected(client, max_tokens=50)
    assert (err.status_code, err.code, err.param) == (400, "unsupported_parameter", "max_tokens")
    assert err.body == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    err = await rejected(client, temperature=0.7)
    assert (err.code, err.param, err.type) == (
        "unsupported_value",
        "temperature",
        "invalid_request_error",
    )
    assert isinstance(err.body, dict)
    assert err.body["message"] == (
        "Unsupported value: 'temperature' does not support 0.7 with this model. "
        "Only the default (1) value is supported."
    )
    for name, value in [("top_p", 0.9), ("presence_penalty", 0.5), ("frequency_penalty", 0.1)]:
        err = await rejected(client, **{name: value})
        assert (err.code, err.param) == ("unsupported_parameter", name)
    err = await rejected(client, logprobs=True)
    assert err.param == "logprobs"
    err = await rejected(client, model="gpt-5-mini", reasoning_effort="xhigh")
    assert (err.code, err.param) == ("unsupported_value", "reasoning_effort")
    assert isinstance(err.body, dict)
    assert err.body["message"] == (
        "Unsupported value: 'reasoning_effort' does not support 'xhigh' with this model. "
        "Supported values are: 'minimal', 'low', 'medium', and 'high'."
    )
    err = await rejected(client, model="o4-mini", reasoning_effort="minimal")
    assert isinstance(err.body, dict)
    assert err.body["message"].endswith("Supported values are: 'low', 'medium', and 'high'.")

    # The rejections used no queued reply; what is allowed goes through.
    completion = await client.chat.completions.create(
        model="o3-mini",
        messages=MESSAGES,
        temperature=1,
        max_completion_tokens=50,
        reasoning_effort="high",
    )
    assert completion.choices[0].message.content == "accepted"
    first = server.requests[0]
    assert first.model == "o3-mini"
    assert first.body is not None
    assert first.body["max_tokens"] == 50
    assert len(server.requests) == 9


async def test_rejections_are_configurable_per_model(server: FakeOpenAIServer) -> None:
    server.rejects = {"fake-model": {"temperature", "reasoning_effort"}}
    server.reasoning_models.add("thinker")
    server.reasoning_efforts["thinker"] = {"high"}
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        err = await rejected(client, model="fake-model", temperature=0.2)
        assert err.param == "temperature"
        err = await rejected(client, model="fake-model", reasoning_effort="low")
        assert (err.code, err.param) == ("unsupported_parameter", "reasoning_effort")
        # Only what the entry names: max_tokens is fine for this model.
        assert text_of(await collect(client, max_tokens=10))
        # Names that look like reasoning models but are not, and ordinary models, accept all.
        assert text_of(await collect(client, model="gpt-5-chat-latest", temperature=0.3))
        assert text_of(await collect(client, model="gpt-4o", max_tokens=5, top_p=0.5))
    async with AsyncAzureOpenAI(
        azure_endpoint=server.url,
        api_key="k",
        api_version="2024-10-21",
        azure_deployment="thinker",
        max_retries=0,
    ) as azure:
        with pytest.raises(openai.BadRequestError) as info:
            await collect(azure, reasoning_effort="low")
        assert info.value.body == {
            "message": "Unsupported value: 'reasoning_effort' does not support 'low' with this "
            "model. Supported values are: 'high'.",
            "type": "invalid_request_error",
            "param": "reasoning_effort",
            "code": "unsupported_value",
        }
        assert text_of(await collect(azure, reasoning_effort="high"))
    assert server.last_request.model == "thinker"


async def test_responses_only_models_refuse_chat_completions(server: FakeOpenAIServer) -> None:
    server.responses_only.add("codex-dep")
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        err = await rejected(client, model="o3-pro")
    assert err.body == {
        "message": "This model is only supported in v1/responses and not in v1/chat/completions.",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
    async with AsyncAzureOpenAI(
        azure_endpoint=server.url,
        api_key="k",
        api_version="2025-04-01-preview",
        azure_deployment="codex-dep",
        max_retries=0,
    ) as azure:
        with pytest.raises(openai.BadRequestError) as info:
            await collect(azure)
    assert info.value.code == "OperationNotSupported"
    assert info.value.body == {
        "code": "OperationNotSupported",
        "message": "The chatCompletion operation does not work with the specified model, "
        "codex-dep. Please choose different model and try again. You can learn more about "
        "which models can be used with each operation here: "
        "https://go.microsoft.com/fwlink/?linkid=2197993.",
    }
    # The Responses API serves them.
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        response = await client.responses.create(model="o3-pro", input="hello")
    assert response.status == "completed"


# --- the Responses API --------------------------------------------------------------------------


async def events_of(client: AsyncOpenAI | AsyncAzureOpenAI, **kwargs: Any) -> list[Any]:
    """Stream a response and return every event, each checked against its SDK type."""
    params: dict[str, Any] = {"model": "fake-model", "input": "say hello please", "stream": True}
    params.update(kwargs)
    stream = await client.responses.create(**params)
    events = [event async for event in stream]
    for event in events:
        # The SDK builds events without validating; validate each as sent, field by field.
        type(event).model_validate(event.to_dict())
    assert [e.sequence_number for e in events] == list(range(len(events)))
    return events


def output_text(events: list[Any]) -> str:
    return "".join(e.delta for e in events if isinstance(e, ResponseTextDeltaEvent))


async def drain_text(stream: Any, received: list[str]) -> None:
    """Consume a Responses stream, keeping text deltas in ``received`` even if iteration fails."""
    async for event in stream:
        if isinstance(event, ResponseTextDeltaEvent):
            received.append(event.delta)


INPUT: list[Any] = [
    {"role": "developer", "content": "be brief"},
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": [{"type": "output_text", "text": "first answer"}]},
    {"role": "user", "content": [{"type": "input_text", "text": "say hello please"}]},
]


async def test_responses_stream_with_reasoning_summary(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("Hello there.", reasoning="Greet them.", cached_tokens=3))
    events = await events_of(
        client,
        model="o4-mini",
        input=INPUT,
        instructions="You are terse.",
        reasoning={"effort": "low", "summary": "auto"},
        max_output_tokens=500,
        store=False,
    )
    assert [type(e) for e in events] == [
        ResponseCreatedEvent,
        ResponseInProgressEvent,
        ResponseOutputItemAddedEvent,
        ResponseReasoningSummaryPartAddedEvent,
        ResponseReasoningSummaryTextDeltaEvent,
        ResponseReasoningSummaryTextDeltaEvent,
        ResponseReasoningSummaryTextDoneEvent,
        ResponseReasoningSummaryPartDoneEvent,
        ResponseOutputItemDoneEvent,
        ResponseOutputItemAddedEvent,
        ResponseContentPartAddedEvent,
        ResponseTextDeltaEvent,
        ResponseTextDeltaEvent,
        ResponseTextDoneEvent,
        ResponseContentPartDoneEvent,
        ResponseOutputItemDoneEvent,
        ResponseCompletedEvent,
    ]
    assert events[0].response.status == "in_progress"
    assert events[2].item.type == "reasoning"
    summary = [e.delta for e in events if isinstance(e, ResponseReasoningSummaryTextDeltaEvent)]
    assert summary == ["Greet", " them."]
    assert events[6].text == "Greet them."
    assert events[9].item.type == "message"
    message_id = events[9].item.id
    text_deltas = [e for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert {(e.item_id, e.output_index, e.content_index) for e in text_deltas} == {
        (message_id, 1, 0)
    }
    assert output_text(events) == "Hello there."
    assert text_deltas[0].logprobs == []
    assert events[13].text == "Hello there."

    response = events[-1].response
    assert (response.status, response.object, response.model) == (
        "completed",
        "response",
        "fake-model",
    )
    assert response.output_text == "Hello there."
    assert [item.type for item in response.output] == ["reasoning", "message"]
    assert response.output[0].summary[0].text == "Greet them."
    assert response.instructions == "You are terse."
    assert response.reasoning is not None
    assert response.reasoning.effort == "low"
    usage = response.usage
    assert usage is not None
    # Input: 2 + 2 + 2 + 3 words of input and 3 of instructions; output: 2 + 2.
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (12, 4, 16)
    assert usage.input_tokens_details.cached_tokens == 3
    assert usage.output_tokens_details.reasoning_tokens == 2

    req = server.last_request
    assert (req.path, req.kind, req.operation) == ("/v1/responses", "openai", "responses")
    assert req.responses_input == [
        ("developer", "be brief"),
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "say hello please"),
    ]
    assert req.instructions == "You are terse."
    assert req.body is not None
    assert req.body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert (req.body["store"], req.body["max_output_tokens"]) == (False, 500)
    assert req.messages == []


async def test_responses_without_reasoning_and_with_hidden_reasoning(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply(["Hi", "!"]), TextReply("Ok.", reasoning_tokens=64))
    events = await events_of(client)
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[4].output_index == 0
    assert server.last_request.responses_input == [("user", "say hello please")]

    events = await events_of(client)
    reasoning_items = [
        e.item
        for e in events
        if isinstance(e, ResponseOutputItemDoneEvent) and e.item.type == "reasoning"
    ]
    assert [item.summary for item in reasoning_items] == [[]]
    assert not any(isinstance(e, ResponseReasoningSummaryTextDeltaEvent) for e in events)
    usage = events[-1].response.usage
    assert (usage.output_tokens, usage.output_tokens_details.reasoning_tokens) == (65, 64)


@pytest.mark.parametrize(
    ("finish", "reason"), [("length", "max_output_tokens"), ("content_filter", "content_filter")]
)
async def test_responses_incomplete(
    server: FakeOpenAIServer, client: AsyncOpenAI, finish: str, reason: str
) -> None:
    server.enqueue(TextReply("cut short", reasoning="hm", finish_reason=finish))
    events = await events_of(client)
    last = events[-1]
    assert isinstance(last, ResponseIncompleteEvent)
    assert last.response.status == "incomplete"
    assert last.response.incomplete_details is not None
    assert last.response.incomplete_details.reason == reason
    assert last.response.output[-1].status == "incomplete"
    assert output_text(events) == "cut short"


async def test_responses_out_of_tokens_while_reasoning(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("", reasoning="long thought", finish_reason="length"))
    events = await events_of(client)
    assert isinstance(events[-1], ResponseIncompleteEvent)
    assert [item.type for item in events[-1].response.output] == ["reasoning"]
    assert events[-1].response.output_text == ""
    # No finish_reason: the stream ends with no terminal event at all.
    server.enqueue(TextReply("partial", finish_reason=None))
    events = await events_of(client)
    assert events[-1].type == "response.output_item.done"


async def test_responses_failed_and_error_events(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(
        TextReply("one two three", fail_after=2, fail_code="rate_limit_exceeded"),
        TextReply("one two three", reasoning="x", fail_after=1, fail_event="error"),
        TextReply("one two three", fail_after=1, fail_event="error-nested"),
    )
    events = await events_of(client)
    failed = events[-1]
    assert isinstance(failed, ResponseFailedEvent)
    assert output_text(events) == "one two"
    assert failed.response.status == "failed"
    assert failed.response.error is not None
    assert failed.response.error.code == "rate_limit_exceeded"
    assert failed.response.output[0].status == "incomplete"

    events = await events_of(client)
    error = events[-1]
    assert isinstance(error, ResponseErrorEvent)
    assert (error.code, error.param) == ("server_error", None)
    assert "Sorry about that" in error.message
    assert not any(isinstance(e, ResponseTextDeltaEvent) for e in events)

    # The shape OpenAI has been seen to send: the SDK raises it.
    received: list[str] = []
    stream = await client.responses.create(model="m", input="hi", stream=True)
    with pytest.raises(openai.APIError) as info:
        await drain_text(stream, received)
    assert received == ["one"]
    assert info.value.code == "server_error"


async def test_responses_drop_stall_and_http_errors(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    server.enqueue(TextReply("a b c d", reasoning="r", drop_after=3), ErrorReply(429, None, {}))
    received: list[str] = []
    stream = await client.responses.create(model="m", input="hi", stream=True)
    with pytest.raises(openai.APIConnectionError):
        await drain_text(stream, received)
    assert received == ["a", " b"]
    with pytest.raises(openai.RateLimitError):
        await client.responses.create(model="m", input="hi", stream=True)

    server.enqueue(TextReply("a b c", stall_after=1))
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=0.5) as c:
        stream = await c.responses.create(model="m", input="hi", stream=True)
        received.clear()
        with pytest.raises(openai.APITimeoutError):
            await drain_text(stream, received)
    assert received == ["a"]


async def test_responses_non_streaming(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.enqueue(
        TextReply("All of it.", reasoning="why not", cached_tokens=1),
        TextReply("Some", finish_reason="length"),
        TextReply("never", fail_after=0),
    )
    response = await client.responses.create(model="o3", input=INPUT, instructions="Be nice.")
    type(response).model_validate(response.to_dict())
    assert response.output_text == "All of it."
    assert response.status == "completed"
    assert response.output[0].type == "reasoning"
    assert response.output[0].summary[0].text == "why not"
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens == 2
    assert response.usage.input_tokens_details.cached_tokens == 1
    response = await client.responses.create(model="o3", input="hi")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    with pytest.raises(openai.InternalServerError):
        await client.responses.create(model="o3", input="hi")


async def test_responses_reasoning_model_rules(
    server: FakeOpenAIServer, client: AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await client.responses.create(model="o3", input="hi", reasoning={"effort": "minimal"})
    assert (info.value.code, info.value.param) == ("unsupported_value", "reasoning.effort")
    with pytest.raises(openai.BadRequestError) as info:
        await client.responses.create(model="gpt-5", input="hi", temperature=0.5)
    assert (info.value.code, info.value.param) == ("unsupported_value", "temperature")
    response = await client.responses.create(
        model="gpt-5", input="hi", reasoning={"effort": "minimal"}
    )
    assert response.status == "completed"


async def test_responses_azure_paths(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("from v1", reasoning="think"), TextReply("from preview"))
    async with AsyncAzureOpenAI(
        base_url=server.url + "/openai/v1/", api_key="k", api_version="preview", max_retries=0
    ) as azure:
        events = await events_of(azure, model="my-deployment")
    assert output_text(events) == "from v1"
    req = server.last_request
    assert (req.path, req.kind, req.operation, req.model) == (
        "/openai/v1/responses",
        "azure-v1",
        "responses",
        "my-deployment",
    )
    assert req.headers["api-key"] == "k"
    async with AsyncAzureOpenAI(
        azure_endpoint=server.url, api_key="k", api_version="2025-04-01-preview", max_retries=0
    ) as azure:
        response = await azure.responses.create(model="my-deployment", input="hi")
    assert response.output_text == "from preview"
    req = server.last_request
    assert (req.path, req.kind, req.query["api-version"]) == (
        "/openai/responses",
        "azure",
        "2025-04-01-preview",
    )


def test_responses_sync_client_azure_v1(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("sync", reasoning="quick"))
    with (
        AzureOpenAI(
            base_url=server.url + "/openai/v1/", api_key="k", api_version="preview", max_retries=0
        ) as azure,
        azure.responses.create(model="dep", input="hi", stream=True) as stream,
    ):
        events = list(stream)
    assert isinstance(events[-1], ResponseCompletedEvent)
    assert events[-1].response.output_text == "sync"
    assert server.last_request.kind == "azure-v1"


async def test_responses_can_be_switched_off(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    server.responses_enabled = False
    server.enqueue(TextReply("still queued"))
    with pytest.raises(openai.NotFoundError):
        await client.responses.create(model="m", input="hi")
    assert text_of(await collect(client)) == "still queued"
    assert [r.operation for r in server.requests] == ["responses", "chat"]


async def test_responses_default_commands(client: AsyncOpenAI) -> None:
    events = await events_of(client, input="plain words")
    assert "> plain words" in output_text(events)
    events = await events_of(client, input=[{"role": "user", "content": "!length"}])
    assert isinstance(events[-1], ResponseIncompleteEvent)
    events = await events_of(client, input="!fail")
    assert isinstance(events[-1], ResponseFailedEvent)
    events = await events_of(client, input="!fail error")
    assert isinstance(events[-1], ResponseErrorEvent)


async def test_default_think_commands(server: FakeOpenAIServer, client: AsyncOpenAI) -> None:
    def think(prompt: str) -> TextReply:
        reply = default_reply({"messages": [{"role": "user", "content": prompt}]})
        assert isinstance(reply, TextReply)
        return reply

    slow = think("!think")
    assert slow.reasoning == thinking_text()
    assert slow.reasoning_field == "reasoning_content"
    assert 2 <= slow.reasoning_delay * len(slow.reasoning_chunks()) <= 5
    assert think("!reason field").reasoning_field == "reasoning"
    hidden = think("!think hidden")
    assert (hidden.reasoning, hidden.first_delay, hidden.reasoning_tokens) == ("", 3.0, 384)
    tags = think("!think tags")
    assert (tags.reasoning_field, tags.think_split) == ("think", 4)
    tags.reasoning_delay = 0  # the same reply, without the wait
    server.enqueue(tags)
    text = text_of(await collect(client, messages=[{"role": "user", "content": "!think tags"}]))
    assert text.startswith("<think>" + thinking_text() + "</think>")
    assert "> !think tags" in text
