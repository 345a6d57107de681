"""The streaming client: sends a conversation through the openai SDK and yields typed events.

`openai` is imported only when the first request is built (the app pre-warms it in a thread after
the first frame), so importing this module costs nothing at start-up.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing, suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chat_tui.entra import EntraSignIn
from chat_tui.errors import ChatError, describe_error, sentence
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
from chat_tui.learned import Adaptation, Learned, Lesson, Shape, effort_for
from chat_tui.model_info import UNKNOWN
from chat_tui.rate_limits import RateLimits
from chat_tui.responses_api import read_responses, responses_params, responses_request
from chat_tui.retry import RetryPolicy, drop_retry_delay, retry_delay
from chat_tui.settings import Api, Auth, Provider, Settings
from chat_tui.text import visible
from chat_tui.think_tags import ThinkSplitter
from chat_tui.wire_log import Exchange, WireLog, forget_current
from chat_tui.wire_log import current as current_exchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from openai import AsyncOpenAI, AsyncStream

# Connecting fails fast; `read` (from the settings) bounds a stall between two chunks.
CONNECT_TIMEOUT = 10.0

ConnectionKey = tuple[str, ...]
TokenProvider = Callable[[], Awaitable[str]]
# The API names as a sentence says them.
_API_NAMES = {Api.CHAT: "Chat Completions API", Api.RESPONSES: "Responses API"}
# Enough for every lesson a check can learn (an API, a parameter or two), and no loop.
_MAX_ADAPTATIONS = 4


def azure_v1_base_url(endpoint: str) -> str:
    """`https://x.openai.azure.com` or `…/openai/v1` -> `…/openai/v1/`."""
    base = endpoint.rstrip("/")
    if not base.endswith("/openai/v1"):
        base += "/openai/v1"
    return base + "/"


def _connection_key(settings: Settings) -> ConnectionKey:
    # The Azure deployments client has the deployment baked into its base URL.
    deployment = settings.model if settings.provider is Provider.AZURE else ""
    return (
        settings.provider.value,
        settings.endpoint,
        deployment,
        settings.api_version,
        settings.api_key,
        settings.auth.value,
        str(settings.read_timeout),
        settings.entra_scope,
    )


def build_sdk_client(
    settings: Settings,
    *,
    token_provider: TokenProvider | None = None,
    api: Api = Api.CHAT,
    wire: WireLog | None = None,
) -> AsyncOpenAI:
    """An SDK client for these settings and API. Retries are off: a silent SDK retry looks
    like a hang.

    `token_provider` signs Azure requests in with Entra ID tokens instead of the API key. Every
    provider but Azure's deployments takes both APIs from one client.
    """
    import openai

    common: dict[str, Any] = {
        "timeout": openai.Timeout(settings.read_timeout, connect=CONNECT_TIMEOUT),
        "max_retries": 0,
    }
    if wire is not None:  # each request and its answer, recorded (see wire_log.py)
        common["http_client"] = openai.DefaultAsyncHttpxClient(event_hooks=wire.hooks())
    if api is Api.RESPONSES and settings.provider is Provider.AZURE:
        # Azure has the Responses API on its v1 path only, the deployment named as the model.
        # A key goes in the api-key header (see `responses_headers`), a token as a Bearer.
        return openai.AsyncOpenAI(
            base_url=azure_v1_base_url(settings.endpoint),
            api_key=token_provider or settings.api_key,
            **common,
        )
    match settings.provider:
        case Provider.AZURE:
            auth: dict[str, Any] = (
                {"azure_ad_token_provider": token_provider}
                if token_provider is not None
                else {"api_key": settings.api_key}
            )
            return openai.AsyncAzureOpenAI(
                azure_endpoint=settings.endpoint,
                azure_deployment=settings.model,
                api_version=settings.api_version,
                **auth,
                **common,
            )
        case Provider.AZURE_V1:
            # The v1 endpoint takes the token as a Bearer key; the SDK awaits a callable key.
            return openai.AsyncOpenAI(
                base_url=azure_v1_base_url(settings.endpoint),
                api_key=token_provider or settings.api_key,
                **common,
            )
        case Provider.OPENAI:
            return openai.AsyncOpenAI(
                base_url=settings.base_url, api_key=settings.api_key, **common
            )
        case Provider.COMPATIBLE:
            # Local servers often need no key, but the SDK insists on one; any value will do.
            return openai.AsyncOpenAI(
                base_url=settings.endpoint, api_key=settings.api_key or "none", **common
            )


def _first_id(exchange: Exchange | None) -> str | None:
    """The server's id for the request (x-request-id before apim-request-id)."""
    return next(iter(exchange.ids.values()), None) if exchange is not None else None


def answer_of(exchange: Exchange | None) -> Answered:
    """What the response's headers say: the request id and the rate limits left."""
    if exchange is None:
        return Answered("")
    return Answered(_first_id(exchange) or "", RateLimits.from_headers(exchange.response_headers))


def as_is(name: str, value: list[dict[str, Any]]) -> dict[str, Any]:
    """The conversation as a request argument the SDK sends as it is.

    The SDK checks each message against its types, recursively, before sending: 13,000 calls
    and up to 0.2 s on the event loop for a 400-message conversation, which is JSON already.
    What goes in `extra_body` is merged into the body after that step, in place of the empty
    list, so the bytes sent are the same.
    """
    return {name: [], "extra_body": {name: value}}


def responses_headers(settings: Settings) -> dict[str, Any]:
    """Headers of a Responses request: the key of Azure's deployments goes as api-key, as on
    its other paths, not as the Bearer the SDK would make of it."""
    if settings.provider is Provider.AZURE and settings.auth is Auth.KEY:
        import openai

        return {"api-key": settings.api_key, "Authorization": openai.omit}
    return {}


def chat_params(settings: Settings, shape: Shape) -> dict[str, Any]:
    """The optional Chat Completions parameters: those the user set, shaped for the model."""
    info = shape.info
    params: dict[str, Any] = {}
    if settings.temperature is not None and info.accepts("temperature"):
        params["temperature"] = settings.temperature
    if settings.max_tokens is not None:
        # OpenAI and Azure deprecated max_tokens (reasoning models reject it); local servers
        # often know only max_tokens.
        old = settings.provider is Provider.COMPATIBLE and not info.reasoning
        params["max_tokens" if old else "max_completion_tokens"] = settings.max_tokens
    # A model known not to reason is not sent an effort; one the table does not know is (the
    # user asked for it), and leaves it out from then on if it rejects it.
    if info.reasoning or info is UNKNOWN:
        effort = effort_for(info, settings.reasoning_effort)
        if effort is not None:
            params["reasoning_effort"] = effort
    return {name: value for name, value in params.items() if name not in shape.dropped}


def chat_messages(
    messages: Sequence[dict[str, Any]], settings: Settings, shape: Shape
) -> list[dict[str, Any]]:
    """The conversation as Chat Completions takes it: for OpenAI's and Azure's reasoning
    models the system prompt goes as the developer message that stands for it (never both)."""
    if not shape.reasoning or settings.provider is Provider.COMPATIBLE:
        return list(messages)
    return [
        {**message, "role": "developer"} if message["role"] == "system" else message
        for message in messages
    ]


class _GaveUp(Exception):
    """The request failed for good, after `attempts` tries and `waited` seconds of waiting."""

    def __init__(self, error: Exception, attempts: int, waited: float) -> None:
        super().__init__(str(error))
        self.error, self.attempts, self.waited = error, attempts, waited

    def describe(self, settings: Settings) -> ChatError:
        error = describe_error(self.error, settings)
        if self.attempts == 1:
            return error
        tried = f"Gave up after {self.attempts} attempts over {self.waited:.0f} s."
        return replace(error, hint=f"{tried} {error.hint}".strip())


def filtered_categories(extra: dict[str, Any] | None) -> tuple[str, ...]:
    """Azure's content-filter categories that filtered this choice, e.g. ('violence: high',)."""
    results = (extra or {}).get("content_filter_results") or {}
    return tuple(
        f"{name}: {result.get('severity', 'filtered')}"
        for name, result in results.items()
        if isinstance(result, dict) and result.get("filtered")
    )


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of "test connection", in plain words."""

    ok: bool
    title: str
    detail: str = ""
    hint: str = ""
    request_id: str = ""  # the server's, for support, as on an error card

    def __str__(self) -> str:
        said = sentence(self.title, self.detail, self.hint)
        return f"{said} (request id {self.request_id})" if self.request_id else said


class ChatClient:
    """Streams replies; keeps one SDK client per connection and replaces it when settings change.

    `token_provider` stands in for Entra ID sign-in (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        token_provider: TokenProvider | None = None,
        retry: RetryPolicy | None = None,
        wire: WireLog | None = None,
    ) -> None:
        self._token_provider = token_provider
        self.retry = retry or RetryPolicy()
        # What went over the wire, for diagnostics: in memory unless a log file is set.
        self.wire = wire or WireLog()
        self._entra = EntraSignIn()
        # The SDK clients of the current connection, per API; one serves both but on Azure's
        # deployments (see build_sdk_client).
        self._sdks: dict[Api, AsyncOpenAI] = {}
        self._key: ConnectionKey | None = None
        # An SDK client built ahead in a thread (see prewarm), taken by the first request
        # whose connection it fits.
        self._warm: tuple[ConnectionKey, Api, AsyncOpenAI] | None = None
        self._warm_lock = threading.Lock()
        # One prewarm at a time: two threads would build the same client twice.
        self._prewarming = threading.Lock()
        self.learned = Learned()

    def prewarm(self, settings: Settings) -> None:
        """Off the event loop (in a thread): import what a request needs and build the SDK
        client for these settings, so that Enter sends at once.

        The SDK loads its HTTP stack, its streaming helpers and the chat resources lazily, on
        the first request: on the UI thread that delays the request by a tenth of a second.
        """
        with self._prewarming:
            self._prewarm(settings)

    def _prewarm(self, settings: Settings) -> None:
        _touch_request_modules()
        if settings.problems() or settings.auth is Auth.ENTRA:
            return  # nothing to connect to yet; Entra's sign-in waits for a real request
        key = _connection_key(settings)
        api = self.learned.shape(settings).api
        slot = api if settings.provider is Provider.AZURE else Api.CHAT
        with self._warm_lock:
            if self._warm is not None and self._warm[:2] == (key, slot):
                return
            if key == self._key and slot in self._sdks:
                return  # the connection in use already serves these settings
        sdk = self._build(settings, slot)
        # The resources are built on first use too.
        _ = sdk.responses if api is Api.RESPONSES else sdk.chat.completions
        with self._warm_lock:
            # One it replaces never connected: there is nothing to close.
            self._warm = (key, slot, sdk)

    async def _client_for(self, settings: Settings, api: Api = Api.CHAT) -> AsyncOpenAI:
        key = _connection_key(settings)
        if key != self._key:
            await self._close_connection()
            self._key = key
        slot = api if settings.provider is Provider.AZURE else Api.CHAT
        sdk = self._sdks.get(slot) or self._take_warm(key, slot)
        if sdk is None:
            # Off the event loop: the first client imports the SDK (and azure-identity) and
            # loads the TLS certificates, which would freeze the screen for a moment.
            sdk = await asyncio.to_thread(self._build_after_prewarm, settings, slot, key)
        self._sdks[slot] = sdk
        return sdk

    def _take_warm(self, key: ConnectionKey, slot: Api) -> AsyncOpenAI | None:
        with self._warm_lock:
            warm, self._warm = self._warm, None
        if warm is None:
            return None
        if warm[:2] != (key, slot):
            return None  # built for settings since changed; it never connected
        return warm[2]

    def _build_after_prewarm(
        self, settings: Settings, slot: Api, key: ConnectionKey
    ) -> AsyncOpenAI:
        """In a thread: once a prewarm under way is over (two threads importing the SDK at once
        can meet its modules half initialised), its client if it fits, or a new one."""
        with self._prewarming:
            return self._take_warm(key, slot) or self._build(settings, slot)

    def _build(self, settings: Settings, api: Api) -> AsyncOpenAI:
        token_provider = None
        if settings.auth is Auth.ENTRA:
            token_provider = self._token_provider or self._entra.provider(settings.entra_scope)
        self.wire.scrub.add(settings.api_key)
        return build_sdk_client(settings, token_provider=token_provider, api=api, wire=self.wire)

    async def close(self) -> None:
        with self._warm_lock:
            warm, self._warm = self._warm, None
        if warm is not None:
            await warm[2].close()
        await self._close_connection()

    async def _close_connection(self) -> None:
        """Close the current connection's clients (the warm one may be for the next)."""
        sdks, self._sdks, self._key = list(self._sdks.values()), {}, None
        for sdk in sdks:
            await sdk.close()
        self._entra.close()

    async def check(self, settings: Settings) -> ConnectionCheck:
        """Prove the settings with the cheapest request that exercises all of them.

        A one-token request on the API a reply would go to: listing models would not show that
        the deployment exists. A request shape the server refuses (a parameter, the API) is
        adapted to and remembered, as for a reply.
        """
        problems = settings.problems()
        if problems:
            return ConnectionCheck(False, "Not configured", " ".join(problems))
        started = time.perf_counter()
        lessons: list[Adaptation] = []
        try:
            while True:
                shape = self.learned.shape(settings)
                sdk = await self._client_for(settings, shape.api)
                params, ping = _ping(settings, shape)
                try:
                    answering = await ping(sdk)
                    break
                except Exception as exc:
                    adapted = self.learned.adapt(settings, shape, params, exc)
                    if adapted is None or len(lessons) >= _MAX_ADAPTATIONS:
                        raise
                    lessons.append(adapted)
        except Exception as exc:
            error = describe_error(exc, settings)
            # What support asks for first, as on an error card.
            return ConnectionCheck(
                False, error.title, error.detail, error.hint, request_id=error.request_id
            )
        elapsed = (time.perf_counter() - started) * 1000
        answering = settings.redact(answering or settings.model)
        learned = "".join(f" {_lesson_sentence(lesson)}" for lesson in lessons)
        signed_in = (
            f" Signed in with Entra ID through {self._entra.source}."
            if settings.auth is Auth.ENTRA and self._entra.source
            else ""
        )
        return ConnectionCheck(
            True,
            "Connected",
            f"{visible(answering)} answered from {settings.target} on the "
            f"{_API_NAMES[shape.api]} in {elapsed:.0f} ms.{visible(learned)}{signed_in}",
        )

    async def list_models(self, settings: Settings) -> list[str]:
        """Model names the server lists; [] where it cannot (Azure lists no deployments).

        No model needs to be chosen yet: this is how a new user finds one.
        """
        if settings.provider is Provider.AZURE or settings.with_changes(model="-").problems():
            return []
        try:
            sdk = await self._client_for(settings.with_changes(model=settings.model or "-"))
            return sorted({settings.redact(model.id) async for model in sdk.models.list()})
        except Exception:  # discovery is a convenience: the free-text field always works
            return []

    async def stream(
        self, settings: Settings, messages: Sequence[dict[str, Any]]
    ) -> AsyncIterator[StreamEvent]:
        """Yield the reply's events; errors become one final ReplyFailed, never an exception.

        Cancellation (the user stopping the reply) propagates as CancelledError, and `async with`
        closes the HTTP response at once. Callers should wrap this in `contextlib.aclosing`.
        """
        problems = settings.problems()
        if problems:
            yield ReplyFailed(ChatError("Not configured", " ".join(problems)))
            return
        answered = False  # the server sent its response headers: later failures are drops
        text = False  # some of the reply arrived: from then on nothing is asked again
        exchange: Exchange | None = None  # the request's record in the wire log
        ending = "stopped"  # how it ended, for the wire log (unless it says otherwise)
        try:
            attempt, waited = 1, 0.0
            while True:
                forget_current()
                # Each time: a lesson learned from the last answer may change the API too.
                shape = self.learned.shape(settings)
                sdk = await self._client_for(settings, shape.api)
                # Once the SDK is loaded and its client built: their first load is not the
                # model's time, which the reply's stats count from here.
                yield RequestSent(attempt)
                import openai  # loaded with the client; imported here to keep it out of start-up

                responses = shape.api is Api.RESPONSES
                params = (responses_params if responses else chat_params)(settings, shape)
                try:
                    if responses:
                        request = responses_request(messages, settings, params)
                        items = request.pop("input")
                        stream = await sdk.responses.create(
                            **request,
                            **as_is("input", items),
                            extra_headers=responses_headers(settings),
                        )
                    else:
                        stream = await sdk.chat.completions.create(
                            model=settings.model,
                            **as_is("messages", chat_messages(messages, settings, shape)),
                            stream=True,
                            stream_options={"include_usage": True},
                            **params,
                        )
                except Exception as exc:
                    exchange = current_exchange()
                    adapted = self.learned.adapt(settings, shape, params, exc)
                    if adapted is not None:
                        # The one 400 asked again: the request's shape, not the message, was
                        # refused. Each lesson is learned once, so this ends.
                        self.wire.retried(exchange, adapted.note)
                        yield Adapted(adapted.lesson.value, adapted.value, adapted.note)
                        continue
                    delay = retry_delay(exc, attempt, waited, self.retry)
                    if delay is None:
                        raise _GaveUp(exc, attempt, waited) from exc
                    reason = describe_error(exc, settings).title
                else:
                    exchange = current_exchange()
                    answered = True
                    yield answer_of(exchange)
                    events = (
                        read_responses(stream, settings)
                        if responses
                        else self._read(stream, settings)
                    )
                    try:
                        # Closed at once however this ends (the caller may stop mid-reply).
                        async with aclosing(events):
                            async for event in events:
                                self.wire.chunk(exchange)
                                if isinstance(event, ReplyFinished):
                                    ending = event.finish_reason or "ended without a reason"
                                if isinstance(event, ReplyStarted):
                                    # A deployment's name says nothing of its model: its
                                    # answer does.
                                    self.learned.learn(
                                        Learned.key(settings), Lesson.SERVES, event.model
                                    )
                                text = text or isinstance(event, TextDelta)
                                yield event
                        return
                    except openai.APIConnectionError as exc:
                        # Dropped before any text (a timeout is a stall, not a drop): nothing
                        # is lost by asking again, as for any transient failure.
                        if text or isinstance(exc, openai.APITimeoutError):
                            raise
                        delay = drop_retry_delay(attempt, waited, self.retry)
                        if delay is None:
                            raise
                        reason = "Connection lost before the reply began"
                self.wire.retried(exchange, reason)
                yield Retrying(reason, attempt + 1, self.retry.attempts, delay)
                await asyncio.sleep(delay)  # Esc cancels the wait
                attempt, waited = attempt + 1, waited + delay
        except _GaveUp as gave_up:
            failed = gave_up.describe(settings)
            ending = failed.title
            yield ReplyFailed(failed.with_request_id(_first_id(exchange)))
        except Exception as exc:  # every failure is shown in the transcript, never raised
            failed = describe_error(exc, settings, answered=answered, text=text)
            ending = failed.title
            yield ReplyFailed(failed.with_request_id(_first_id(exchange)))
        finally:
            self.wire.ended(exchange, ending)

    async def _read(
        self, stream: AsyncStream[Any], settings: Settings
    ) -> AsyncIterator[StreamEvent]:
        """One response's chunks as events, ending with ReplyFinished; closed when done."""
        finish_reason: str | None = None
        filtered: tuple[str, ...] = ()
        started = False
        tags = ThinkSplitter()
        async with stream:
            async for chunk in stream:
                # Azure's content-filter prelude names no model: wait for a chunk that does.
                if not started and (chunk.model or chunk.choices):
                    started = True
                    yield ReplyStarted(chunk.model or settings.model)
                if chunk.usage is not None:
                    yield chat_usage(chunk.usage)
                # Azure's content-filter prelude and the usage chunk carry no choices.
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = choice.delta
                if delta is not None:
                    if reasoning := _reasoning_of(delta):
                        yield ReasoningDelta(reasoning)
                    if delta.content:
                        for event in _split(tags.feed(delta.content)):
                            yield event
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
                    filtered = filtered_categories(choice.model_extra)
        for event in _split(tags.flush()):
            yield event
        yield ReplyFinished(finish_reason, filtered)


def _touch_request_modules() -> None:
    """Import what the SDK imports lazily on its first streamed request: the HTTP stack,
    the streaming and chat resources, TLS trust and the JSON parser."""
    import importlib

    for name in _REQUEST_MODULES:
        with suppress(ImportError):  # an SDK or HTTP stack of another version
            importlib.import_module(name)


_REQUEST_MODULES = (
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "h11",
    "httpcore",
    "httpcore2",
    "jiter",
    "truststore",
    "openai.resources.chat",
    "openai.resources.responses",
    "openai.lib.streaming.chat",
    "openai.lib.streaming.responses",
    "openai.pagination",
)


# The one-message conversation of a connection check.
_PING = ({"role": "user", "content": "ping"},)


def _ping(
    settings: Settings, shape: Shape
) -> tuple[dict[str, Any], Callable[[AsyncOpenAI], Awaitable[str | None]]]:
    """The parameters of a connection check on `shape.api`, and the request that sends it,
    which returns the model that answered."""
    # One token (the Responses API's builder raises it to that API's minimum), nothing else.
    cheap = settings.with_changes(max_tokens=1, temperature=None)
    if shape.api is Api.RESPONSES:
        params = responses_params(cheap, shape)

        async def responses(sdk: AsyncOpenAI) -> str | None:
            request = {**responses_request(_PING, cheap, params), "stream": False}
            response = await sdk.responses.create(
                **request, extra_headers=responses_headers(settings)
            )
            return response.model

        return params, responses

    params = chat_params(cheap, shape)

    async def chat(sdk: AsyncOpenAI) -> str | None:
        response = await sdk.chat.completions.create(
            model=settings.model,
            messages=list(_PING),  # type: ignore[arg-type]
            **params,
        )
        return response.model

    return params, chat


def _lesson_sentence(lesson: Adaptation) -> str:
    """What a connection check learned, as a sentence of its result."""
    if lesson.lesson is Lesson.API:
        return f"It answers on the {_API_NAMES[Api(lesson.value)]} only."
    return f"It does not take {lesson.value}: it is left out from now on."


def _reasoning_of(delta: Any) -> str:
    """Reasoning in a chunk's delta, in whichever field the server uses: `reasoning_content`
    (DeepSeek, llama.cpp, older vLLM) or `reasoning` (vLLM, Ollama, OpenRouter)."""
    extra = delta.model_extra or {}
    for name in ("reasoning_content", "reasoning"):
        value = extra.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _split(parts: tuple[str, str]) -> list[StreamEvent]:
    reasoning, text = parts
    events: list[StreamEvent] = []
    if reasoning:
        events.append(ReasoningDelta(reasoning))
    if text:
        events.append(TextDelta(text))
    return events


def chat_usage(usage: Any) -> Usage:
    """Chat Completions' usage, with the reasoning and cached tokens where the server says."""
    completion = getattr(usage, "completion_tokens_details", None)
    prompt = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        getattr(completion, "reasoning_tokens", None),
        getattr(prompt, "cached_tokens", None),
    )
