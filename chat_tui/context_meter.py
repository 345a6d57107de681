"""How full the model's context is: what the next request will carry, against the window.

The server's counts where there are any (the prompt and completion tokens it reported for the
last exchange), plus an estimate for the text added since (a message typed, a reply that came
without counts): about four characters a token, and shown as an estimate (`~`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_tui.model_info import context_window

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chat_tui.conversation import Message

CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text
WARN_AT = 0.85  # the meter turns to a warning this close to the limit, before a refusal
BAR_CELLS = 8


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is (rounded up: an estimate should not flatter)."""
    return -(-len(text) // CHARS_PER_TOKEN)


@dataclass(frozen=True, slots=True)
class ContextFill:
    """`used` tokens of `window` (None: the model's window is not known). `estimated`: part of
    `used` is an estimate, not the server's count."""

    used: int
    window: int | None
    estimated: bool = False

    @property
    def fraction(self) -> float | None:
        return None if not self.window else self.used / self.window

    @property
    def warning(self) -> bool:
        return self.fraction is not None and self.fraction >= WARN_AT

    def words(self) -> str:
        """`~12.3k / 128k tokens (10%)`, or the count alone without a window."""
        used = ("~" if self.estimated else "") + short_count(self.used)
        if not self.window:
            return f"context {used} tokens"
        percent = round(100 * (self.fraction or 0))
        return f"context {used} / {short_count(self.window)} ({percent}%)"

    def bar(self, cells: int = BAR_CELLS) -> str:
        """A small bar of `cells` cells: ▰▰▱▱…; empty without a window."""
        if self.fraction is None:
            return ""
        full = min(cells, round(self.fraction * cells))
        return "▰" * full + "▱" * (cells - full)


def short_count(tokens: int) -> str:
    """12,345 -> 12.3k; 1,047,576 -> 1.05M; small counts as they are."""
    if tokens < 1000:
        return str(tokens)
    if tokens < 1_000_000:
        return f"{tokens / 1000:.1f}k".replace(".0k", "k")
    return f"{tokens / 1_000_000:.2f}M".replace(".00M", "M")


def conversation_fill(
    shown: Sequence[Message], window_setting: int | None, model: str
) -> ContextFill:
    """The fill of a conversation's next request: the last exchange the server counted, plus an
    estimate for the messages after it; the window from the setting, else the model's (the
    one that answered last, else the one asked for)."""
    reported: int | None = None
    since: list[str] = []
    answered_by = model
    for message in reversed(shown):
        stats = message.stats
        if stats is not None and stats.prompt_tokens is not None:
            reported = stats.total_tokens
            answered_by = stats.model or model
            break
        since.append(message.content)
    if reported is None:  # nothing counted yet: the whole conversation is an estimate
        since = [m.content for m in shown]
    window = window_setting or context_window(answered_by) or context_window(model)
    return context_fill(reported, "".join(since), window)


def context_fill(reported: int | None, since: str, window: int | None) -> ContextFill:
    """The fill from the server's last count (`reported`: prompt + completion tokens of the last
    exchange it counted; None: none yet) and the text added since it (`since`)."""
    extra = estimate_tokens(since) if since else 0
    return ContextFill((reported or 0) + extra, window, estimated=reported is None or bool(extra))
