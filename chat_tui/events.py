"""Typed events that the streaming client produces from the SDK's chunks.

The shell renders these; it never sees an SDK object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chat_tui.errors import ChatError
    from chat_tui.rate_limits import RateLimits


@dataclass(frozen=True, slots=True)
class RequestSent:
    """The request is going out now (again, after a retry's wait)."""

    attempt: int


@dataclass(frozen=True, slots=True)
class Answered:
    """The server answered the request (its headers came): its id for the request, for support,
    and what its rate limits say is left, where it sent them."""

    request_id: str
    limits: RateLimits | None = None


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """The first chunk arrived; `model` is the model that answers, as the server names it."""

    model: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Some more text of the reply."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Some more of the model's reasoning (or its summary): shown apart, never sent back."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts the server reported at the end of the stream.

    `reasoning_tokens` are part of `completion_tokens` (hidden, or shown as reasoning);
    `cached_tokens` are part of `prompt_tokens`. None where the server does not say.
    """

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class ReplyFinished:
    """The stream ended normally; `finish_reason` is None when the server never sent one.

    `filtered` names the content-filter categories that stopped the reply, where Azure says.
    """

    finish_reason: str | None
    filtered: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Retrying:
    """The request failed in a way worth retrying; the next attempt starts after `delay` s."""

    reason: str
    attempt: int  # the attempt that will be made next
    attempts: int  # in all
    delay: float


@dataclass(frozen=True, slots=True)
class Adapted:
    """The server refused the request's shape (a parameter the model does not take, an API it
    does not answer on); the client changed it and asks again at once. `lesson` and `value`
    are what to remember (see learned.py), `note` says it in a sentence."""

    lesson: str
    value: str
    note: str


@dataclass(frozen=True, slots=True)
class ReplyFailed:
    """The request or the stream failed; text already delivered stays valid."""

    error: ChatError


StreamEvent = (
    RequestSent
    | Answered
    | ReplyStarted
    | TextDelta
    | ReasoningDelta
    | Usage
    | ReplyFinished
    | ReplyFailed
    | Retrying
    | Adapted
)
