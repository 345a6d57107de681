"""The streaming client: sends a conversation through the openai SDK and yields typed events.

`openai` is imported only when the first request is built (the app pre-warms it in a thread after
the first frame), so importing this module costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat_tui.errors import ChatError, describe_error
from chat_tui.events import ReplyFailed, ReplyFinished, StreamEvent, TextDelta, Usage
from chat_tui.settings import Provider, Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from openai import AsyncOpenAI

OPENAI_BASE_URL = "https://api.openai.com/v1"
# `read` bounds a stall between two chunks, not the length of a reply; connect fails fast.
READ_TIMEOUT = 120.0
CONNECT_TIMEOUT = 10.0

ConnectionKey = tuple[str, ...]


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
    )


def build_sdk_client(settings: Settings, *, read_timeout: float = READ_TIMEOUT) -> AsyncOpenAI:
    """An SDK client for these settings. Retries are off: a silent SDK retry looks like a hang."""
    import openai

    common: dict[str, Any] = {
        "timeout": openai.Timeout(read_timeout, connect=CONNECT_TIMEOUT),
        "max_retries": 0,
    }
    match settings.provider:
        case Provider.AZURE:
            return openai.AsyncAzureOpenAI(
                azure_endpoint=settings.endpoint,
                azure_deployment=settings.model,
                api_version=settings.api_version,
                api_key=settings.api_key,
                **common,
            )
        case Provider.AZURE_V1:
            return openai.AsyncOpenAI(
                base_url=azure_v1_base_url(settings.endpoint), api_key=settings.api_key, **common
            )
        case Provider.OPENAI:
            return openai.AsyncOpenAI(
                base_url=settings.endpoint or OPENAI_BASE_URL, api_key=settings.api_key, **common
            )
        case Provider.COMPATIBLE:
            # Local servers often need no key, but the SDK insists on one; any value will do.
            return openai.AsyncOpenAI(
                base_url=settings.endpoint, api_key=settings.api_key or "none", **common
            )


def generation_params(settings: Settings) -> dict[str, Any]:
    """Optional sampling parameters, only those the user set."""
    params: dict[str, Any] = {}
    if settings.temperature is not None:
        params["temperature"] = settings.temperature
    if settings.max_tokens is not None:
        # OpenAI and Azure deprecated max_tokens (reasoning models reject it); local servers
        # often know only max_tokens.
        name = "max_tokens" if settings.provider is Provider.COMPATIBLE else "max_completion_tokens"
        params[name] = settings.max_tokens
    return params


class ChatClient:
    """Streams replies; keeps one SDK client per connection and replaces it when settings change."""

    def __init__(self, *, read_timeout: float = READ_TIMEOUT) -> None:
        self.read_timeout = read_timeout
        self._sdk: AsyncOpenAI | None = None
        self._key: ConnectionKey | None = None

    async def _client_for(self, settings: Settings) -> AsyncOpenAI:
        key = _connection_key(settings)
        if self._sdk is None or key != self._key:
            await self.close()
            self._sdk = build_sdk_client(settings, read_timeout=self.read_timeout)
            self._key = key
        return self._sdk

    async def close(self) -> None:
        sdk, self._sdk, self._key = self._sdk, None, None
        if sdk is not None:
            await sdk.close()

    async def stream(
        self, settings: Settings, messages: Sequence[dict[str, str]]
    ) -> AsyncIterator[StreamEvent]:
        """Yield the reply's events; errors become one final ReplyFailed, never an exception.

        Cancellation (the user stopping the reply) propagates as CancelledError, and `async with`
        closes the HTTP response at once. Callers should wrap this in `contextlib.aclosing`.
        """
        problems = settings.problems()
        if problems:
            yield ReplyFailed(ChatError("Not configured", " ".join(problems)))
            return
        try:
            sdk = await self._client_for(settings)
            stream = await sdk.chat.completions.create(
                model=settings.model,
                messages=list(messages),  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
                **generation_params(settings),
            )
            finish_reason: str | None = None
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage = chunk.usage
                        yield Usage(
                            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
                        )
                    # Azure's content-filter prelude and the usage chunk carry no choices.
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.delta is not None and choice.delta.content:
                        yield TextDelta(choice.delta.content)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
            yield ReplyFinished(finish_reason)
        except Exception as exc:  # every failure is shown in the transcript, never raised
            yield ReplyFailed(describe_error(exc, settings))
