"""The Responses API, the second wire protocol: the request built from the same conversation and
settings as a Chat Completions one, and its typed stream events turned into chat-tui's events.

Nothing is kept on the server (`store=False`): every request carries the whole history, as on
Chat Completions, so the conversation, the store and the retries work the same on both.
`openai` is never imported here: the events are read by their `type`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat_tui.attachments import responses_parts
from chat_tui.errors import ModelFailed
from chat_tui.events import ReasoningDelta, ReplyFinished, ReplyStarted, TextDelta, Usage
from chat_tui.learned import effort_for
from chat_tui.model_info import UNKNOWN

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from openai import AsyncStream

    from chat_tui.events import StreamEvent
    from chat_tui.learned import Shape
    from chat_tui.settings import Settings

# OpenAI refuses a smaller max_output_tokens (400 "integer below minimum value").
MIN_OUTPUT_TOKENS = 16
# Why a response ended incomplete, as Chat Completions' finish reasons say it.
_INCOMPLETE_REASONS: dict[str | None, str] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}
_INSTRUCTION_ROLES = ("system", "developer")


def responses_params(settings: Settings, shape: Shape) -> dict[str, Any]:
    """The optional Responses parameters: those the user set, shaped for the model, without
    the ones it rejected (named as the API names them: "temperature", "reasoning.effort")."""
    info, dropped = shape.info, shape.dropped
    params: dict[str, Any] = {}
    if (
        settings.temperature is not None
        and info.accepts("temperature")
        and "temperature" not in dropped
    ):
        params["temperature"] = settings.temperature
    if settings.max_tokens is not None and "max_output_tokens" not in dropped:
        params["max_output_tokens"] = max(settings.max_tokens, MIN_OUTPUT_TOKENS)
    # As on Chat Completions: a model known not to reason is sent no reasoning, one the table
    # does not know only the effort the user asked for.
    if info.reasoning or info is UNKNOWN:
        reasoning: dict[str, str] = {}
        effort = effort_for(info, settings.reasoning_effort)
        if effort is not None and "reasoning.effort" not in dropped:
            reasoning["effort"] = effort
        # Without a summary a reasoning model streams nothing of its thinking. An unknown
        # model that took no effort would refuse a summary as well: ask only with an effort.
        if (info.reasoning or reasoning) and "reasoning.summary" not in dropped:
            reasoning["summary"] = "auto"
        if reasoning:
            params["reasoning"] = reasoning
    return params


def responses_input(
    messages: Sequence[dict[str, Any]],
) -> tuple[str | None, list[dict[str, Any]]]:
    """The conversation as the Responses API takes it: the system prompt as `instructions`
    (None without one), the user and assistant turns as input messages; a message's content
    parts (attachments) as input_text and input_image parts."""
    instructions = [m["content"] for m in messages if m["role"] in _INSTRUCTION_ROLES]
    items = [
        {
            "type": "message",
            "role": m["role"],
            "content": m["content"]
            if isinstance(m["content"], str)
            else responses_parts(m["content"]),
        }
        for m in messages
        if m["role"] not in _INSTRUCTION_ROLES
    ]
    return ("\n\n".join(instructions) or None), items


def responses_request(
    messages: Sequence[dict[str, Any]], settings: Settings, params: dict[str, Any]
) -> dict[str, Any]:
    """The whole request body of a streamed reply: `params` from `responses_params`."""
    instructions, items = responses_input(messages)
    request: dict[str, Any] = {
        "model": settings.model,  # on Azure, the deployment
        "input": items,
        "store": False,
        "stream": True,
        **params,
    }
    if instructions is not None:
        request["instructions"] = instructions
    return request


def responses_usage(usage: Any) -> Usage | None:
    """The Responses API's usage as chat-tui's, details where the server gives them."""
    if usage is None:
        return None
    output = getattr(usage, "output_tokens_details", None)
    cached = getattr(getattr(usage, "input_tokens_details", None), "cached_tokens", None)
    prompt = getattr(usage, "input_tokens", None) or 0
    completion = getattr(usage, "output_tokens", None) or 0
    total = getattr(usage, "total_tokens", None)
    return Usage(
        prompt,
        completion,
        total if isinstance(total, int) else prompt + completion,
        getattr(output, "reasoning_tokens", None),
        cached,
    )


async def read_responses(
    stream: AsyncStream[Any], settings: Settings
) -> AsyncIterator[StreamEvent]:
    """One response's stream events as chat-tui's, ending with ReplyFinished; closed when done.

    A `response.failed` or `error` event raises ModelFailed; the SDK raises an APIError itself
    for an error event whose fields are nested under "error". A stream that ends without a
    terminal event finishes without a reason, as an unfinished Chat Completions stream does.
    """
    finish_reason: str | None = None
    started = False
    summary: tuple[str, int] | None = None  # the reasoning item and summary part last streamed
    async with stream:
        async for event in stream:
            kind = getattr(event, "type", None)
            response = getattr(event, "response", None)
            if not started:
                started = True
                yield ReplyStarted(getattr(response, "model", None) or settings.model)
            match kind:
                # A refusal is the model's answer too: shown as its text.
                case "response.output_text.delta" | "response.refusal.delta":
                    if event.delta:
                        yield TextDelta(event.delta)
                case "response.reasoning_summary_text.delta":
                    part = (event.item_id, event.summary_index)
                    if event.delta:
                        # Each summary part is a paragraph of its own.
                        gap = "\n\n" if summary is not None and summary != part else ""
                        summary = part
                        yield ReasoningDelta(gap + event.delta)
                case "response.reasoning_text.delta":
                    if event.delta:
                        yield ReasoningDelta(event.delta)
                case "response.completed":
                    if usage := responses_usage(getattr(response, "usage", None)):
                        yield usage
                    finish_reason = "stop"
                case "response.incomplete":
                    if usage := responses_usage(getattr(response, "usage", None)):
                        yield usage
                    details = getattr(response, "incomplete_details", None)
                    # Another reason (or none) leaves the reply unfinished, as a stream
                    # that ends without one does.
                    finish_reason = _INCOMPLETE_REASONS.get(getattr(details, "reason", None))
                case "response.failed":
                    error = getattr(response, "error", None)
                    raise ModelFailed(getattr(error, "code", None), getattr(error, "message", None))
                case "error":
                    raise ModelFailed(getattr(event, "code", None), getattr(event, "message", None))
                case _:
                    pass  # the items and parts opening and closing around the deltas
    yield ReplyFinished(finish_reason)
