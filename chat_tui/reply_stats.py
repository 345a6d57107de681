"""How a reply went: the model that answered, how fast it came, the tokens it cost.

A StatsMeter watches the client's events as they arrive and sums them up when the reply ends.
Token counts are only ever the server's (its usage report): chat-tui does not guess them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from chat_tui.events import Answered, ReplyStarted, RequestSent, StreamEvent, TextDelta, Usage
from chat_tui.prices import dollars
from chat_tui.reply_state import ReplyState

if TYPE_CHECKING:
    from collections.abc import Callable

# Below this, a rate is noise (a reply that arrived in one burst), so none is shown.
MIN_RATE_WINDOW = 0.05


@dataclass(frozen=True, slots=True)
class ReplyStats:
    model: str = ""
    first_token: float | None = None  # seconds from sending to the first text
    generating: float | None = None  # seconds from the first text to the end of the stream
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ending: str = ""  # a ReplyState value
    reasoning_tokens: int | None = None  # of completion_tokens: the model's thinking
    cached_tokens: int | None = None  # of prompt_tokens: served from the prompt cache
    request_id: str = ""  # the server's id for the request, for support

    @property
    def total_tokens(self) -> int:
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    @property
    def visible_tokens(self) -> int | None:
        """The answer's tokens: the completion without the reasoning."""
        if self.completion_tokens is None:
            return None
        return max(0, self.completion_tokens - (self.reasoning_tokens or 0))

    @property
    def tokens_per_second(self) -> float | None:
        """The answer's rate, from its first text to its end: the reasoning came before it (and
        may not have been shown at all), so counting it would overstate the rate."""
        visible = self.visible_tokens
        if not visible or self.generating is None:
            return None
        if self.generating < MIN_RATE_WINDOW:
            return None
        return visible / self.generating

    def summary(self, cost: float | None = None) -> str:
        """One line for the reply's footer, e.g. `gpt-4o · 0.42 s to first token · 61 tok/s …`;
        with what the reply cost after its tokens, when its model has a price (prices.py)."""
        parts: list[str] = []
        if self.model:
            parts.append(self.model)
        if self.first_token is not None:
            parts.append(f"{self.first_token:.2f} s to first token")
        rate = self.tokens_per_second
        if rate is not None:
            parts.append(f"{rate:,.0f} tok/s")
        if self.prompt_tokens is not None and self.completion_tokens is not None:
            cached = f" ({self.cached_tokens:,} cached)" if self.cached_tokens else ""
            reasoning = f" ({self.reasoning_tokens:,} reasoning)" if self.reasoning_tokens else ""
            parts.append(
                f"{self.prompt_tokens:,} in{cached} → {self.completion_tokens:,} out{reasoning}"
                " tokens"
            )
        if cost is not None:
            parts.append(dollars(cost))
        if self.ending:
            parts.append(ReplyState.saved(self.ending).ending)
        return " · ".join(parts)

    def details(self) -> str:
        """Every figure kept, one per line, the request id first: for a support ticket."""
        lines = [f"request id: {self.request_id or 'not sent by the server'}"]
        if self.model:
            lines.append(f"model: {self.model}")
        if self.first_token is not None:
            lines.append(f"first token after: {self.first_token:.2f} s")
        if self.generating is not None:
            lines.append(f"generating: {self.generating:.2f} s")
        if self.prompt_tokens is not None:
            cached = f" ({self.cached_tokens:,} cached)" if self.cached_tokens else ""
            lines.append(f"prompt tokens: {self.prompt_tokens:,}{cached}")
        if self.completion_tokens is not None:
            reasoning = f" ({self.reasoning_tokens:,} reasoning)" if self.reasoning_tokens else ""
            lines.append(f"completion tokens: {self.completion_tokens:,}{reasoning}")
        if self.ending:
            lines.append(f"ended: {ReplyState.saved(self.ending).ending}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ReplyStats | None:
        """Stats read back from storage or an export; unknown keys (a newer version's) are
        ignored."""
        if not isinstance(data, dict):
            return None
        # An imported file may hold anything: keep only values of the right kind.
        kept = {
            f.name: data[f.name]
            for f in fields(cls)
            if f.name in data and _fits(data[f.name], _KINDS[f.name])
        }
        return cls(**kept) if kept else None


_KINDS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "first_token": (int, float),
    "generating": (int, float),
    "prompt_tokens": (int,),
    "completion_tokens": (int,),
    "ending": (str,),
    "reasoning_tokens": (int,),
    "cached_tokens": (int,),
    "request_id": (str,),
}


def _fits(value: object, kinds: tuple[type, ...]) -> bool:
    return isinstance(value, kinds) and not isinstance(value, bool)


class StatsMeter:
    """Times one reply from the moment its request goes out.

    Not from Enter: setting up the first connection (loading the SDK) and waiting to retry are
    chat-tui's time, not the model's.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._sent = clock()
        self._first_text: float | None = None
        self._model = ""
        self._usage: Usage | None = None
        self._request_id = ""

    def observe(self, event: StreamEvent) -> None:
        match event:
            case RequestSent():
                self._sent = self._clock()
            case Answered(request_id):
                self._request_id = request_id
            case ReplyStarted(model):
                self._model = model
            case TextDelta() if self._first_text is None:
                self._first_text = self._clock()
            case Usage():
                self._usage = event
            case _:
                pass

    def finish(self, ending: str) -> ReplyStats:
        now = self._clock()
        first = self._first_text
        return ReplyStats(
            model=self._model,
            first_token=None if first is None else first - self._sent,
            generating=None if first is None else now - first,
            prompt_tokens=self._usage.prompt_tokens if self._usage else None,
            completion_tokens=self._usage.completion_tokens if self._usage else None,
            ending=ending,
            reasoning_tokens=self._usage.reasoning_tokens if self._usage else None,
            cached_tokens=self._usage.cached_tokens if self._usage else None,
            request_id=self._request_id,
        )
