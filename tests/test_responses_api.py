"""The Responses API over real HTTP, and what the client learns about a model from its answers.

The same events as on Chat Completions (the app, `ask`, retries and the store rely on them), from
OpenAI's path, Azure's v1 path and Azure's deployments (through its v1 path).
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from chat_tui.client import ChatClient
from chat_tui.events import (
    Adapted,
    Answered,
    ReasoningDelta,
    ReplyFailed,
    ReplyFinished,
    ReplyStarted,
    RequestSent,
    Retrying,
    StreamEvent,
    TextDelta,
    Usage,
)
from chat_tui.learned import Learned, Lesson, Shape
from chat_tui.model_info import model_info
from chat_tui.responses_api import read_responses, responses_input, responses_params
from chat_tui.retry import RetryPolicy
from chat_tui.settings import Api, Auth, Provider, Settings
from tests.conftest import azure_settings, compatible_settings
from tests.openai_server import ErrorReply, FakeOpenAIServer, TextReply

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from tests.openai_server import FailEvent

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "Tell me more"},
]
# A model name no table knows, which the server serves on the Responses API only.
HOUSE_MODEL = "house-special"


@pytest.fixture(autouse=True)
def model_rules(server: FakeOpenAIServer) -> Iterator[None]:
    """The server's model rules as a test leaves them are put back: the server is shared."""
    saved = (
        set(server.responses_only),
        {model: set(names) for model, names in server.rejects.items()},
        set(server.reasoning_models),
        dict(server.reasoning_efforts),
        server.responses_enabled,
    )
    server.responses_only.add(HOUSE_MODEL)
    yield
    (
        server.responses_only,
        server.rejects,
        server.reasoning_models,
        server.reasoning_efforts,
        server.responses_enabled,
    ) = saved


@pytest.fixture
async def client() -> AsyncIterator[ChatClient]:
    client = ChatClient(retry=RetryPolicy(base_delay=0.01))
    yield client
    await client.close()


async def collect(
    client: ChatClient, settings: Settings, messages: list[dict[str, str]] | None = None
) -> list[StreamEvent]:
    async with aclosing(client.stream(settings, messages or MESSAGES)) as events:
        return [event async for event in events]


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def reasoning_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def failure(events: list[StreamEvent]) -> ReplyFailed:
    assert isinstance(events[-1], ReplyFailed), events[-1]
    return events[-1]


def openai_settings(server: FakeOpenAIServer, **changes: object) -> Settings:
    """OpenAI's own shapes (a key, the Responses API where a model needs it), on the server."""
    settings = Settings(
        provider=Provider.OPENAI,
        endpoint=server.base_url,
        model="fake-model",
        api_key="sk-test-key",
        read_timeout=3,
    )
    return settings.with_changes(**changes)


def azure_v1_settings(server: FakeOpenAIServer, **changes: object) -> Settings:
    return azure_settings(server, provider=Provider.AZURE_V1, **changes)


# Each way to the Responses API: settings, the path it takes, and how the key is sent.
PATHS: list[tuple[str, Callable[..., Settings], str, tuple[str, str]]] = [
    ("openai", openai_settings, "/v1/responses", ("authorization", "Bearer sk-test-key")),
    ("azure-v1", azure_v1_settings, "/openai/v1/responses", ("authorization", "Bearer azure-key")),
    # Azure's deployments have the Responses API on the v1 path, the key as on their own paths.
    ("azure", azure_settings, "/openai/v1/responses", ("api-key", "azure-key")),
]
WAYS = pytest.mark.parametrize(
    ("make", "path", "key"), [way[1:] for way in PATHS], ids=[way[0] for way in PATHS]
)


# -- the stream --------------------------------------------------------------------------------


@WAYS
async def test_text_reasoning_and_usage(
    client: ChatClient,
    server: FakeOpenAIServer,
    make: Callable[..., Settings],
    path: str,
    key: tuple[str, str],
) -> None:
    server.enqueue(
        TextReply(
            ["Hel", "lo"], reasoning=["Weighing ", "it."], model="gpt-5-2025", cached_tokens=1
        )
    )
    events = await collect(client, make(server, api=Api.RESPONSES))
    answered = events.pop(1)  # the headers: the request's id, the limits left
    assert isinstance(answered, Answered)
    assert answered.request_id.startswith("req-fake-")
    assert answered.limits is not None
    # "Be brief." and "Hi" are 3 tokens in; 2 of text and 2 of reasoning out.
    assert events == [
        RequestSent(1),
        ReplyStarted("gpt-5-2025"),
        ReasoningDelta("Weighing "),
        ReasoningDelta("it."),
        TextDelta("Hel"),
        TextDelta("lo"),
        Usage(3, 4, 7, reasoning_tokens=2, cached_tokens=1),
        ReplyFinished("stop"),
    ]
    request = server.last_request
    assert (request.operation, request.path) == ("responses", path)
    assert request.headers[key[0]] == key[1]
    assert "api-version" not in request.query
    other = "api-key" if key[0] == "authorization" else "authorization"
    assert other not in request.headers  # the key goes once
    assert request.model == make(server).model  # on Azure, the deployment


class Events:
    """Typed stream events as the SDK's AsyncStream gives them, for what the server does not
    send: several summary parts, raw reasoning text, other reasons to be incomplete."""

    def __init__(self, *events: SimpleNamespace) -> None:
        self.events = events

    async def __aenter__(self) -> Events:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def __aiter__(self) -> AsyncIterator[SimpleNamespace]:
        for event in self.events:
            yield event


def event(kind: str, **fields: object) -> SimpleNamespace:
    return SimpleNamespace(type=kind, **fields)


async def read(*events: SimpleNamespace) -> list[StreamEvent]:
    settings = openai_settings(FakeOpenAIServer(), model="asked-for")
    return [e async for e in read_responses(Events(*events), settings)]  # type: ignore[arg-type]


async def test_summary_parts_are_paragraphs() -> None:
    def summary(item: str, index: int, text: str) -> SimpleNamespace:
        return event(
            "response.reasoning_summary_text.delta", item_id=item, summary_index=index, delta=text
        )

    events = await read(
        event("response.in_progress", response=SimpleNamespace(model="")),
        summary("rs_1", 0, "First "),
        summary("rs_1", 0, "part."),
        summary("rs_1", 1, "Second."),
        summary("rs_2", 0, "Third."),
        event("response.reasoning_text.delta", delta=" Raw."),
        event("response.output_text.delta", delta="Yes."),
    )
    assert events[0] == ReplyStarted("asked-for")  # the server named no model
    assert reasoning_of(events) == "First part.\n\nSecond.\n\nThird. Raw."
    assert text_of(events) == "Yes."
    assert events[-1] == ReplyFinished(None)


async def test_another_reason_to_be_incomplete_leaves_the_reply_unfinished() -> None:
    details = SimpleNamespace(reason="max_messages")
    response = SimpleNamespace(model="m", usage=None, incomplete_details=details)
    events = await read(event("response.incomplete", response=response))
    assert events == [ReplyStarted("m"), ReplyFinished(None)]


async def test_a_refusal_is_the_answer() -> None:
    events = await read(
        event("response.created", response=SimpleNamespace(model="m")),
        event("response.refusal.delta", delta="I can't help with that."),
    )
    assert text_of(events) == "I can't help with that."


@WAYS
async def test_what_the_server_receives(
    client: ChatClient,
    server: FakeOpenAIServer,
    make: Callable[..., Settings],
    path: str,
    key: tuple[str, str],
) -> None:
    settings = make(
        server,
        api=Api.RESPONSES,
        model="gpt-5",
        temperature=0.4,
        max_tokens=300,
        reasoning_effort="high",
    )
    events = await collect(client, settings, HISTORY)
    assert isinstance(events[-1], ReplyFinished)
    request = server.last_request
    body = request.body
    assert body is not None
    assert request.instructions == "Be brief."  # the system prompt, and not also a message
    assert request.responses_input == [
        ("user", "Hi"),
        ("assistant", "Hello! How can I help?"),
        ("user", "Tell me more"),
    ]
    assert body["store"] is False
    assert body["stream"] is True
    assert body["max_output_tokens"] == 300
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert "temperature" not in body  # a reasoning model refuses it
    assert "max_tokens" not in body
    assert "messages" not in body


async def test_a_model_that_does_not_reason_gets_its_temperature_and_no_reasoning(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    settings = openai_settings(server, api=Api.RESPONSES, model="gpt-4.1", temperature=0.4)
    await collect(client, settings)
    body = server.last_request.body
    assert body is not None
    assert body["temperature"] == 0.4
    assert "reasoning" not in body
    # One the table does not know is sent an effort (and a summary) only when one is set.
    await collect(client, settings.with_changes(model="gpt-4.1", reasoning_effort="low"))
    body = server.last_request.body
    assert body is not None
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}


def test_parameters_follow_the_model() -> None:
    codex = Shape(Api.RESPONSES, model_info("gpt-5-codex"), frozenset())
    settings = Settings(max_tokens=4, reasoning_effort="minimal", temperature=1.2)
    # The nearest effort the model takes; OpenAI's least max_output_tokens; no temperature.
    assert responses_params(settings, codex) == {
        "max_output_tokens": 16,
        "reasoning": {"effort": "low", "summary": "auto"},
    }
    # What a model rejected is left out, whichever API's name the lesson has.
    for dropped in ("reasoning.effort", "reasoning_effort"):
        learned = Learned()
        learned.learn(("https://x/v1", "gpt-5-codex"), Lesson.DROP, dropped)
        shape = learned.shape(
            Settings(provider=Provider.COMPATIBLE, endpoint="https://x/v1", model="gpt-5-codex")
        )
        assert responses_params(settings, shape)["reasoning"] == {"summary": "auto"}


def test_history_as_input() -> None:
    assert responses_input([{"role": "user", "content": "Hi"}]) == (
        None,
        [{"type": "message", "role": "user", "content": "Hi"}],
    )
    instructions, items = responses_input(HISTORY)
    assert instructions == "Be brief."
    assert [item["role"] for item in items] == ["user", "assistant", "user"]


@pytest.mark.parametrize("reason", ["length", "content_filter"])
async def test_an_incomplete_response_says_why(
    client: ChatClient, server: FakeOpenAIServer, reason: str
) -> None:
    server.enqueue(TextReply(["cut ", "off"], finish_reason=reason))
    events = await collect(client, azure_settings(server, api=Api.RESPONSES))
    assert text_of(events) == "cut off"
    assert isinstance(events[-2], Usage)
    assert events[-1] == ReplyFinished(reason)


async def test_a_stream_without_an_ending_is_incomplete(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.enqueue(TextReply(["half"], finish_reason=None))
    events = await collect(client, openai_settings(server, api=Api.RESPONSES))
    assert text_of(events) == "half"
    assert events[-1] == ReplyFinished(None)
    assert not any(isinstance(e, Usage) for e in events)


@pytest.mark.parametrize("event", ["response.failed", "error", "error-nested"])
async def test_a_failed_response_is_named(
    client: ChatClient, server: FakeOpenAIServer, event: FailEvent
) -> None:
    server.enqueue(
        TextReply(
            ["one ", "two ", "three"],
            fail_after=2,
            fail_event=event,
            fail_code="server_error",
            fail_message="The model broke down.",
        )
    )
    events = await collect(client, azure_v1_settings(server, api=Api.RESPONSES))
    assert text_of(events) == "one two "
    error = failure(events).error
    assert error.title == "The model failed"
    assert error.detail == "server_error: The model broke down."
    assert "What arrived is kept" in error.hint
    assert len(server.requests) == 1  # a failure after the answer began is not asked again


async def test_a_failure_before_any_text(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["never"], fail_after=0, fail_code="", fail_message="Overloaded."))
    error = failure(await collect(client, openai_settings(server, api=Api.RESPONSES))).error
    assert (error.title, error.detail, error.hint) == (
        "The model failed",
        "Overloaded.",
        "Send again to retry.",
    )


async def test_a_drop_before_any_text_is_asked_again(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.enqueue(TextReply(["never"], drop_after=0), TextReply("Second time lucky."))
    events = await collect(client, azure_settings(server, api=Api.RESPONSES))
    assert text_of(events) == "Second time lucky."
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert retry.reason == "Connection lost before the reply began"
    assert [r.operation for r in server.requests] == ["responses", "responses"]
    assert events[-1] == ReplyFinished("stop")


async def test_a_drop_mid_reply_keeps_the_text(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.enqueue(TextReply(["one ", "two ", "three"], drop_after=2))
    events = await collect(client, openai_settings(server, api=Api.RESPONSES))
    assert text_of(events) == "one two "
    assert failure(events).error.title == "Connection lost"
    assert len(server.requests) == 1


async def test_a_stall_times_out(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["a ", "b"], stall_after=1, stall_seconds=5))
    settings = azure_settings(server, api=Api.RESPONSES, read_timeout=1.0)
    events = await collect(client, settings)
    assert text_of(events) == "a "
    assert failure(events).error.title == "No response for 1 s"


async def test_cancelling_closes_the_response(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["tok "] * 200, delay=0.02))
    settings = azure_settings(server, api=Api.RESPONSES)
    seen: list[str] = []
    three_tokens = asyncio.Event()

    async def consume() -> None:
        async with aclosing(client.stream(settings, MESSAGES)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    seen.append(event.text)
                    if len(seen) == 3:
                        three_tokens.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three_tokens.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The connection is reusable at once: the next request on the same client goes through.
    server.enqueue(TextReply(["again"]))
    assert text_of(await collect(client, settings)) == "again"


async def test_a_rejected_key(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.require_key = "the-right-key"
    error = failure(await collect(client, azure_settings(server, api=Api.RESPONSES))).error
    assert (error.title, error.status) == ("Key rejected", 401)
    assert len(server.requests) == 1


async def test_a_rate_limit_is_waited_out(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(ErrorReply(429, headers={"retry-after": "0.2"}), TextReply("Done."))
    events = await collect(client, openai_settings(server, api=Api.RESPONSES))
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert (retry.reason, retry.delay) == ("Rate limited", 0.2)
    assert text_of(events) == "Done."


async def test_server_errors_are_retried_then_named(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.enqueue(*[ErrorReply(500) for _ in range(4)])
    events = await collect(client, azure_v1_settings(server, api=Api.RESPONSES))
    assert len([e for e in events if isinstance(e, Retrying)]) == 3
    error = failure(events).error
    assert error.title == "Server error 500"
    assert "Gave up after 4 attempts" in error.hint


async def test_entra_on_azure_deployments(server: FakeOpenAIServer) -> None:
    async def token() -> str:
        return "entra-token-456"

    client = ChatClient(token_provider=token)
    settings = azure_settings(server, api=Api.RESPONSES, auth=Auth.ENTRA, api_key="")
    try:
        events = await collect(client, settings)
    finally:
        await client.close()
    assert events[-1] == ReplyFinished("stop")
    request = server.last_request
    assert request.path == "/openai/v1/responses"
    assert request.headers["authorization"] == "Bearer entra-token-456"
    assert "api-key" not in request.headers


async def test_both_apis_on_one_azure_connection(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    settings = azure_settings(server)
    await collect(client, settings)
    await collect(client, settings.with_changes(api=Api.RESPONSES))
    await collect(client, settings)
    assert [r.path for r in server.requests] == [
        "/openai/deployments/my-deployment/chat/completions",
        "/openai/v1/responses",
        "/openai/deployments/my-deployment/chat/completions",
    ]
    # A new key replaces both clients.
    await collect(client, settings.with_changes(api=Api.RESPONSES, api_key="another-key"))
    assert server.last_request.headers["api-key"] == "another-key"


# -- which API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [openai_settings, azure_settings], ids=["openai", "azure"])
async def test_a_known_responses_only_model_goes_there_at_once(
    client: ChatClient, server: FakeOpenAIServer, make: Callable[..., Settings]
) -> None:
    events = await collect(client, make(server, model="gpt-5-codex"))
    assert events[-1] == ReplyFinished("stop")
    assert not any(isinstance(e, Adapted) for e in events)
    assert [r.operation for r in server.requests] == ["responses"]


@pytest.mark.parametrize("make", [openai_settings, azure_settings], ids=["openai", "azure"])
async def test_an_unknown_responses_only_model_is_learned(
    client: ChatClient, server: FakeOpenAIServer, make: Callable[..., Settings]
) -> None:
    settings = make(server, model=HOUSE_MODEL)
    events = await collect(client, settings)
    [adapted] = [e for e in events if isinstance(e, Adapted)]
    assert (adapted.lesson, adapted.value) == ("api", "responses")
    assert "Responses API only" in adapted.note
    kinds = [type(e) for e in events[:5]]
    assert kinds == [RequestSent, Adapted, RequestSent, Answered, ReplyStarted]
    assert events[-1] == ReplyFinished("stop")
    assert [r.operation for r in server.requests] == ["chat", "responses"]
    # Remembered: the next request goes there at once.
    server.reset()
    events = await collect(client, settings)
    assert not any(isinstance(e, Adapted) for e in events)
    assert [r.operation for r in server.requests] == ["responses"]


async def test_a_compatible_server_is_not_switched(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    # A local server may not have the Responses API: only api = "responses" asks there.
    error = failure(await collect(client, compatible_settings(server, model=HOUSE_MODEL))).error
    assert error.status == 400
    assert [r.operation for r in server.requests] == ["chat"]


async def test_a_server_without_the_responses_api(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.responses_enabled = False
    error = failure(await collect(client, compatible_settings(server, api=Api.RESPONSES))).error
    assert error.title == "Model not found"
    assert error.status == 404


# -- test connection -----------------------------------------------------------------------------


async def test_check_on_the_responses_api(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["p"], model="gpt-5-2025"))
    result = await client.check(azure_settings(server, api=Api.RESPONSES, max_tokens=500))
    assert result.ok, result
    assert "gpt-5-2025 answered from my-deployment @ 127.0.0.1" in result.detail
    assert "on the Responses API" in result.detail
    request = server.last_request
    assert request.path == "/openai/v1/responses"
    assert request.body is not None
    assert request.body["max_output_tokens"] == 16  # the least the API takes
    assert request.body["stream"] is False
    assert request.body["store"] is False


async def test_check_on_chat_completions_says_so(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    result = await client.check(openai_settings(server))
    assert result.ok, result
    assert "on the Chat Completions API" in result.detail


async def test_check_learns_a_responses_only_model(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    settings = azure_settings(server, model=HOUSE_MODEL)
    result = await client.check(settings)
    assert result.ok, result
    assert "on the Responses API" in result.detail
    assert "It answers on the Responses API only." in result.detail
    assert [r.operation for r in server.requests] == ["chat", "responses"]
    server.reset()
    assert (await client.check(settings)).ok
    await collect(client, settings)
    assert [r.operation for r in server.requests] == ["responses", "responses"]


async def test_check_failure_on_the_responses_api(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.require_key = "the-right-key"
    result = await client.check(openai_settings(server, api=Api.RESPONSES))
    assert (result.ok, result.title) == (False, "Key rejected")


# -- what a model rejects ------------------------------------------------------------------------


async def test_an_unknown_models_effort_is_learned_on_responses(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.rejects = {"my-deployment": {"reasoning_effort"}}
    settings = azure_settings(server, api=Api.RESPONSES, reasoning_effort="high")
    events = await collect(client, settings)
    [adapted] = [e for e in events if isinstance(e, Adapted)]
    assert (adapted.lesson, adapted.value) == ("drop", "reasoning.effort")
    assert events[-1] == ReplyFinished("stop")
    first, second = (r.body for r in server.requests)
    assert first is not None
    assert second is not None
    assert first["reasoning"] == {"effort": "high", "summary": "auto"}
    assert "reasoning" not in second  # no effort, so no summary either
    # The same lesson holds on Chat Completions.
    server.reset()
    await collect(client, settings.with_changes(api=Api.CHAT))
    [request] = server.requests
    assert request.body is not None
    assert "reasoning_effort" not in request.body


async def test_a_rejected_effort_value_is_dropped(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.reasoning_efforts = {"my-deployment": {"low"}}
    settings = azure_v1_settings(server, api=Api.RESPONSES, reasoning_effort="xhigh")
    events = await collect(client, settings)
    assert [e.value for e in events if isinstance(e, Adapted)] == ["reasoning.effort"]
    assert events[-1] == ReplyFinished("stop")
