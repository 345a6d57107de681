"""One line under the message box: the conversation's size, what it has cost in tokens (and in
dollars, for a priced model, and today's spend over every conversation), how full the model's
context is, and, for as long as it lasts, that the conversation is not being saved.

The line never runs off its edge: the totals shorten, then go, before the problem does (a toast
told the problem in full when it began)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from chat_tui.prices import dollars
from chat_tui.text import visible
from chat_tui.tui.fit import fitting

if TYPE_CHECKING:
    from chat_tui.context_meter import ContextFill
    from chat_tui.rate_limits import RateLimits


class StatusBar(Widget):
    messages: reactive[int] = reactive(0)
    tokens_used: reactive[int] = reactive(0)  # as the server reported, over all replies
    # How full the next request will make the model's context (see context_meter.py).
    fill: reactive[ContextFill | None] = reactive(None)
    cost: reactive[float | None] = reactive(None)  # dollars, where the model has a price
    # What the server's rate-limit headers said is left, after the last answer.
    limits: reactive[RateLimits | None] = reactive(None)
    # Dollars spent today over every saved conversation (see usage.py), where priced.
    today: reactive[float | None] = reactive(None)
    problem: reactive[str] = reactive("")  # why the conversation is not being saved, if it is not

    def watch_messages(self) -> None:
        self._show()

    def watch_problem(self) -> None:
        self._show()

    def _show(self) -> None:
        # Nothing to say about an empty conversation (the line goes to the transcript), unless
        # saving fails.
        self.display = self.messages > 0 or bool(self.problem)

    def render(self) -> Content:
        width = self.content_size.width
        totals = self._totals() if self.messages else [""]
        if not self.problem:
            line = fitting(totals, width)
            # Near the limit, before the server refuses: the whole line says so.
            warn = self.messages and (
                (self.fill is not None and self.fill.warning)
                or (self.limits is not None and self.limits.low)
            )
            return Content.styled(line, "bold $warning") if warn else Content(line)
        # An error's text, and a path: untrusted.
        line = Content.styled(f"⚠ {visible(self.problem)}", "bold $error")
        room = width - line.cell_length - 2
        shown = next((form for form in totals if cell_len(form) <= room), "")
        if shown:
            line = Content.assemble(line, "  ", shown)
        return line.truncate(width, ellipsis=True)

    def _totals(self) -> list[str]:
        """The conversation's size, cost and context, fullest first: `4 messages · 1,210 tokens
        used · $0.004 · today $0.40 · context 310 / 128k (0%) ▱▱▱▱▱▱▱▱ · 59 requests · 149k tokens
        left`, then with less and less."""
        parts = [f"{self.messages:,} message" + ("" if self.messages == 1 else "s")]
        if self.tokens_used:  # nothing reported yet (a stopped reply, a server without usage)
            parts.append(f"{self.tokens_used:,} tokens used")
        if self.cost is not None:
            parts.append(dollars(self.cost))
        today = dollars(self.today) if self.today is not None else ""
        if today and today != parts[-1]:  # not when this conversation is all of today's
            parts.append(f"today {today}")
        if self.fill is not None:
            parts.append(f"{self.fill.words()} {self.fill.bar()}".rstrip())
        if self.limits is not None:
            parts.append(self.limits.words())
        forms = [" · ".join(parts[:count]) for count in range(len(parts), 0, -1)]
        if self.fill is not None and len(parts) > 1:
            # On a narrow line the context goes on longest: it is what a user acts on.
            forms.insert(-1, f"{parts[0]} · {self.fill.words()}")
        return forms
