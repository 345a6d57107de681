"""The streaming client over real HTTP: request shapes, chunk handling, failures."""

from __future__ import annotations

import asyncio
import re
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING

import pytest

from chat_tui.client import ChatClient
from chat_tui.events import (
    Adapted,
    ReasoningDelta,
    ReplyFailed,
    ReplyFinished,
    Retrying,
    StreamEvent,
    TextDelta,
    Usage,
)
from chat_tui.retry import RetryPolicy
from chat_tui.settings import Api, Auth, Provider, Settings
from tests.conftest import azure_settings, compatible_settings
from tests.openai_server import ErrorReply, TextReply

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.openai_server import FakeOpenAIServer, ReasoningField

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


@pytest.fixture
async def client() -> AsyncIterator[ChatClient]:
    client = ChatClient()
    yield client
    await client.close()


async def collect(client: ChatClient, settings: Settings) -> list[StreamEvent]:
    async with aclosing(client.stream(settings, MESSAGES)) as events:
        return [event async for event in events]


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def reasoning_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def failure(events: list[StreamEvent]) -> ReplyFailed:
    assert isinstance(events[-1], ReplyFailed), events[-1]
    return events[-1]


async def test_openai_compatible_stream(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["Hel", "lo", " there"]))
    events = await collect(client, compatible_settings(server))
    assert text_of(events) == "Hello there"
    assert events[-1] == ReplyFinished("stop")
    assert any(isinstance(e, Usage) for e in events)
    request = server.last_request
    assert request.path == "/v1/chat/completions"
    assert request.body is not None
    assert request.body["messages"] == MESSAGES
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["model"] == "fake-model"
    assert "temperature" not in request.body
    assert "max_tokens" not in request.body


async def test_keyless_server(client: ChatClient, server: FakeOpenAIServer) -> None:
    await collect(client, compatible_settings(server, api_key=""))
    assert server.last_request.api_key in (None, "", "none")


async def test_azure_deployments_path(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["Bon", "jour"], azure=True))
    events = await collect(client, azure_settings(server))
    assert text_of(events) == "Bonjour"
    assert events[-1] == ReplyFinished("stop")
    request = server.last_request
    assert request.kind == "azure"
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.query["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == "azure-key"


async def test_azure_v1_path(client: ChatClient, server: FakeOpenAIServer) -> None:
    settings = azure_settings(server, provider=Provider.AZURE_V1)
    await collect(client, settings)
    request = server.last_request
    assert request.path == "/openai/v1/chat/completions"
    assert "api-version" not in request.query
    assert request.headers["authorization"] == "Bearer azure-key"
    assert request.body is not None
    assert request.body["model"] == "my-deployment"


async def test_azure_usage_only_chunk_is_reported(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    usage = {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
    server.enqueue(TextReply(["a", "b"], azure=True, usage=usage))
    events = await collect(client, azure_settings(server))
    assert Usage(11, 2, 13) in events


async def test_generation_parameters(client: ChatClient, server: FakeOpenAIServer) -> None:
    await collect(client, azure_settings(server, temperature=0.3, max_tokens=42))
    body = server.last_request.body
    assert body is not None
    assert body["temperature"] == 0.3
    assert body["max_completion_tokens"] == 42
    # Local servers often only know the older name.
    await collect(client, compatible_settings(server, max_tokens=7))
    body = server.last_request.body
    assert body is not None
    assert body["max_tokens"] == 7
    assert "max_completion_tokens" not in body


@pytest.mark.parametrize("reason", ["length", "content_filter"])
async def test_finish_reasons_are_passed_on(
    client: ChatClient, server: FakeOpenAIServer, reason: str
) -> None:
    server.enqueue(TextReply(["cut"], finish_reason=reason))
    events = await collect(client, compatible_settings(server))
    assert events[-1] == ReplyFinished(reason)


async def test_stream_without_finish_reason(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["so far"], finish_reason=None, done=False))
    events = await collect(client, compatible_settings(server))
    assert text_of(events) == "so far"
    assert events[-1] == ReplyFinished(None)


async def test_settings_change_replaces_the_connection(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    await collect(client, azure_settings(server, model="first"))
    await collect(client, azure_settings(server, model="second"))
    assert [r.deployment for r in server.requests] == ["first", "second"]


async def test_a_prewarmed_client_serves_the_first_request(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    settings = compatible_settings(server)
    await asyncio.to_thread(client.prewarm, settings)  # as the app does, off the event loop
    warm = client._warm
    assert warm is not None
    server.enqueue(TextReply(["Hi", " there"]))
    assert text_of(await collect(client, settings)) == "Hi there"
    assert client._warm is None
    assert client._sdks[Api.CHAT] is warm[2]  # built ahead, not again


async def test_a_client_prewarmed_for_other_settings_is_not_used(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    client.prewarm(azure_settings(server, model="first"))
    warm = client._warm
    assert warm is not None
    await collect(client, azure_settings(server, model="second"))
    assert [r.deployment for r in server.requests] == ["second"]
    assert warm[2] not in client._sdks.values()


async def test_nothing_is_prewarmed_without_usable_settings(client: ChatClient) -> None:
    client.prewarm(Settings())
    assert client._warm is None


async def test_401_names_the_key(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.require_key = "right"
    error = failure(await collect(client, azure_settings(server, api_key="wrong"))).error
    assert error.title == "Key rejected"
    assert error.status == 401
    assert server.url in error.detail


async def test_404_names_the_deployment(client: ChatClient, server: FakeOpenAIServer) -> None:
    message = "The API deployment does not exist."
    body = {"error": {"code": "DeploymentNotFound", "message": message}}
    server.enqueue(ErrorReply(404, body))
    error = failure(await collect(client, azure_settings(server))).error
    assert error.title == "Deployment not found"
    assert "'my-deployment'" in error.detail
    assert "deployment does not exist" in error.detail
    assert "not the model name" in error.hint


async def test_error_body_text_is_kept_literally(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.enqueue(ErrorReply(400, "upstream [/INST] \x1b[31mboom"))
    error = failure(await collect(client, compatible_settings(server))).error
    assert error.title == "Request rejected (400)"
    assert "[/INST]" in error.detail


async def test_context_length(client: ChatClient, server: FakeOpenAIServer) -> None:
    body = {"error": {"code": "context_length_exceeded", "message": "too many tokens"}}
    server.enqueue(ErrorReply(400, body))
    error = failure(await collect(client, compatible_settings(server))).error
    assert error.title == "Conversation too long"


async def test_drop_mid_stream_keeps_the_text(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["one ", "two ", "three ", "four"], drop_after=2))
    events = await collect(client, compatible_settings(server))
    assert text_of(events) == "one two "
    error = failure(events).error
    assert error.title == "Connection lost"
    assert "in the middle of the reply" in error.detail


async def test_a_drop_before_any_text_is_asked_again(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["never"], drop_after=0), TextReply("Second time lucky."))
    client = ChatClient(retry=RetryPolicy(base_delay=0.05))
    try:
        events = await collect(client, compatible_settings(server))
    finally:
        await client.close()
    assert text_of(events) == "Second time lucky."
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert retry.reason == "Connection lost before the reply began"
    assert len(server.requests) == 2
    assert isinstance(events[-1], ReplyFinished)


async def test_drops_before_any_text_are_asked_again_a_few_times_then_named(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(*[TextReply(["never"], drop_after=0) for _ in range(4)])
    client = ChatClient(retry=RetryPolicy(base_delay=0.01))
    try:
        events = await collect(client, compatible_settings(server))
    finally:
        await client.close()
    assert len(server.requests) == 4
    error = failure(events).error
    assert error.title == "Connection lost"
    assert "before the reply began" in error.detail
    assert "What arrived is kept" not in str(error)


async def test_stall_times_out(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["a ", "b"], stall_after=1, stall_seconds=5))
    events = await collect(client, compatible_settings(server, read_timeout=1.0))
    assert text_of(events) == "a "
    assert failure(events).error.title == "No response for 1 s"


async def test_server_down(client: ChatClient, server: FakeOpenAIServer) -> None:
    settings = compatible_settings(server, endpoint="http://127.0.0.1:9/v1")
    error = failure(await collect(client, settings)).error
    assert error.title == "Cannot reach 127.0.0.1:9"


async def test_missing_settings_fail_without_a_request(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    events = await collect(client, Settings(provider=Provider.AZURE))
    assert failure(events).error.title == "Not configured"
    assert server.requests == []


async def test_cancelling_closes_the_response(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["tok "] * 200, delay=0.02))
    seen: list[str] = []
    three_tokens = asyncio.Event()

    async def consume() -> None:
        async with aclosing(client.stream(compatible_settings(server), MESSAGES)) as events:
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
    assert text_of(await collect(client, compatible_settings(server))) == "again"


# -- what a model rejects, and its reasoning ---------------------------------------------------


async def test_an_unknown_models_parameter_is_learned(
    client: ChatClient, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "rejects", {"my-deployment": {"temperature"}})
    settings = azure_settings(server, temperature=0.5)
    events = await collect(client, settings)
    [adapted] = [e for e in events if isinstance(e, Adapted)]
    assert (adapted.lesson, adapted.value) == ("drop", "temperature")
    assert "does not take temperature" in adapted.note
    assert events[-1] == ReplyFinished("stop")
    first, second = server.requests
    assert first.body is not None
    assert second.body is not None
    assert first.body["temperature"] == 0.5
    assert "temperature" not in second.body
    # Never sent again, on either API.
    server.reset()
    assert not any(isinstance(e, Adapted) for e in await collect(client, settings))
    await collect(client, settings.with_changes(api=Api.RESPONSES))
    for request in server.requests:
        assert request.body is not None
        assert "temperature" not in request.body
    assert len(server.requests) == 2


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields_on_chat(
    client: ChatClient, server: FakeOpenAIServer, field: ReasoningField
) -> None:
    server.enqueue(
        TextReply(["The ", "answer."], reasoning=["Let ", "me ", "see."], reasoning_field=field)
    )
    events = await collect(client, compatible_settings(server))
    assert reasoning_of(events) == "Let me see."
    assert text_of(events) == "The answer."
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.reasoning_tokens == 3


@pytest.mark.parametrize("split", [0, 1, 3, 5])
async def test_think_tags_cut_across_chunks(
    client: ChatClient, server: FakeOpenAIServer, split: int
) -> None:
    server.enqueue(
        TextReply(
            ["The ", "answer."],
            reasoning=["Let ", "me ", "see."],
            reasoning_field="think",
            think_split=split,
        )
    )
    events = await collect(client, compatible_settings(server))
    assert reasoning_of(events) == "Let me see."
    assert text_of(events) == "The answer."
    assert events[-1] == ReplyFinished("stop")


# -- sign-in --------------------------------------------------------------------------------


async def fake_token() -> str:
    return "entra-token-123"


@pytest.mark.parametrize("provider", [Provider.AZURE, Provider.AZURE_V1])
async def test_entra_id_token_is_sent_as_bearer(
    server: FakeOpenAIServer, provider: Provider
) -> None:
    client = ChatClient(token_provider=fake_token)
    settings = azure_settings(server, provider=provider, auth=Auth.ENTRA, api_key="")
    events = await collect(client, settings)
    await client.close()
    assert isinstance(events[-1], ReplyFinished)
    request = server.last_request
    assert request.headers["authorization"] == "Bearer entra-token-123"
    assert "api-key" not in request.headers


async def test_entra_without_the_extra_names_the_install_command(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if azure-identity were not installed: importing it fails.
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    client = ChatClient()
    settings = azure_settings(server, auth=Auth.ENTRA, api_key="")
    error = failure(await collect(client, settings)).error
    await client.close()
    assert error.title == "Cannot sign in"
    assert "pip install 'chat-tui[azure]'" in error.detail
    assert server.requests == []


# -- test connection and model discovery ----------------------------------------------------


async def test_check_connected(client: ChatClient, server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["p"], model="gpt-4o-2024-08-06"))
    result = await client.check(azure_settings(server, temperature=1.5, max_tokens=500))
    assert result.ok
    assert result.title == "Connected"
    assert "gpt-4o-2024-08-06 answered from my-deployment @ 127.0.0.1" in result.detail
    assert " ms." in result.detail
    body = server.last_request.body
    assert body is not None
    assert body["max_completion_tokens"] == 1  # the cheapest request that proves it all
    assert "temperature" not in body
    assert server.last_request.deployment == "my-deployment"


@pytest.mark.parametrize(
    ("reply", "title", "words"),
    [
        (ErrorReply(401), "Key rejected", ["401", "Check the API key"]),
        (
            ErrorReply(404, {"error": {"code": "DeploymentNotFound", "message": "gone"}}),
            "Deployment not found",
            ["'my-deployment'", "127.0.0.1", "not the model name"],
        ),
        (
            ErrorReply(
                400, {"error": {"code": "BadRequest", "message": "API version not supported"}}
            ),
            "Unsupported API version",
            ["'2024-10-21'", "e.g. 2024-10-21"],
        ),
    ],
)
async def test_check_failures(
    client: ChatClient, server: FakeOpenAIServer, reply: ErrorReply, title: str, words: list[str]
) -> None:
    server.enqueue(reply)
    result = await client.check(azure_settings(server))
    assert not result.ok
    assert result.title == title
    for word in words:
        assert word in result.detail + " " + result.hint
    assert re.search(r"\(request id req-fake-\d+\)$", str(result))  # for support


async def test_a_hostile_request_id_is_shown_literally_by_the_check(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    # What a header can carry (latin-1): markup, and a C1 control (CSI) that terminals obey.
    hostile = "req-[b]x[/]\x9b31m"
    server.enqueue(ErrorReply(401, {"error": {"message": "no"}}, headers={"x-request-id": hostile}))
    said = str(await client.check(azure_settings(server)))
    assert "(request id req-[b]x[/]" in said  # markup as written, never applied
    assert "\x9b" not in said


async def test_check_unreachable(client: ChatClient) -> None:
    result = await client.check(
        Settings(provider=Provider.COMPATIBLE, endpoint="http://127.0.0.1:9/v1", model="m")
    )
    assert (result.ok, result.title) == (False, "Cannot reach 127.0.0.1:9")


async def test_check_tls_failure(client: ChatClient, server: FakeOpenAIServer) -> None:
    # The local server speaks plain HTTP: an https:// URL fails in the TLS handshake.
    settings = compatible_settings(server, endpoint=server.base_url.replace("http:", "https:"))
    result = await client.check(settings)
    assert (result.ok, result.title) == (False, "TLS failure")
    assert "https://" in result.hint


async def test_check_not_configured(client: ChatClient) -> None:
    result = await client.check(Settings())
    assert (result.ok, result.title) == (False, "Not configured")


async def test_models_are_listed_where_the_server_can(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    assert await client.list_models(compatible_settings(server)) == [
        "fake-model",
        "fake-model-mini",
    ]
    assert server.last_request.path == "/v1/models"
    assert await client.list_models(azure_settings(server, provider=Provider.AZURE_V1)) == [
        "fake-model",
        "fake-model-mini",
    ]
    count = len(server.requests)
    assert await client.list_models(azure_settings(server)) == []
    assert len(server.requests) == count  # Azure's deployments are not listed: no request


def _reasoning_settings(server: FakeOpenAIServer, provider: Provider) -> Settings:
    """A reasoning model ("o3-mini" to the server) on each provider, with the settings a user
    may have left from a chat model."""
    changes = {"temperature": 0.7, "max_tokens": 200, "reasoning_effort": "minimal"}
    if provider.is_azure:
        return azure_settings(server, provider=provider, model="o3-mini", **changes)
    if provider is Provider.OPENAI:
        return Settings(
            provider=Provider.OPENAI,
            endpoint=server.base_url,
            model="o3-mini",
            api_key="sk-test",
            read_timeout=3,
            **changes,  # type: ignore[arg-type]
        )
    return compatible_settings(server, model="o3-mini", **changes)


@pytest.mark.parametrize("provider", list(Provider))
async def test_a_reasoning_model_on_every_provider_gets_only_what_it_takes(
    client: ChatClient, server: FakeOpenAIServer, provider: Provider
) -> None:
    server.enqueue(
        TextReply("Answer.", reasoning=["Hm, ", "yes."], cached_tokens=4, model="o3-mini")
    )
    events = await collect(client, _reasoning_settings(server, provider))
    assert len(server.requests) == 1  # not one 400 on the way
    body = server.last_request.body or {}
    assert "temperature" not in body
    assert "max_tokens" not in body
    assert body["max_completion_tokens"] == 200
    assert body["reasoning_effort"] == "low"  # the nearest the o-series takes to "minimal"
    roles = [m["role"] for m in body["messages"]]
    # OpenAI and Azure take the system prompt as the developer message; others as it is.
    assert roles[0] == ("system" if provider is Provider.COMPATIBLE else "developer")
    assert reasoning_of(events) == "Hm, yes."
    assert text_of(events) == "Answer."
    usage = next(e for e in events if isinstance(e, Usage))
    assert (usage.reasoning_tokens, usage.cached_tokens) == (2, 4)
