"""One line under the message box: the conversation's size and what it has cost in tokens, and,
for as long as it lasts, that the conversation is not being saved.

The line never runs off its edge: the totals shorten, then go, before the problem does (a toast
told the problem in full when it began)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from chat_tui.text import visible
from chat_tui.tui.fit import fitting


class StatusBar(Widget):
    messages: reactive[int] = reactive(0)
    tokens_used: reactive[int] = reactive(0)  # as the server reported, over all replies
    context: reactive[int | None] = reactive(None)  # the last exchange's prompt + completion
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
            return Content(fitting(totals, width))
        # An error's text, and a path: untrusted.
        line = Content.styled(f"⚠ {visible(self.problem)}", "bold $error")
        room = width - line.cell_length - 2
        shown = next((form for form in totals if cell_len(form) <= room), "")
        if shown:
            line = Content.assemble(line, "  ", shown)
        return line.truncate(width, ellipsis=True)

    def _totals(self) -> list[str]:
        """The conversation's size and cost, fullest first: `4 messages · 1,210 tokens used ·
        context 310 tokens`, then without the context, then the size alone."""
        parts = [f"{self.messages:,} message" + ("" if self.messages == 1 else "s")]
        if self.tokens_used:  # nothing reported yet (a stopped reply, a server without usage)
            parts.append(f"{self.tokens_used:,} tokens used")
        if self.context is not None:
            parts.append(f"context {self.context:,} tokens")
        return [" · ".join(parts[:count]) for count in range(len(parts), 0, -1)]
