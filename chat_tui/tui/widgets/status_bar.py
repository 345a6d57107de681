"""One line under the message box: the conversation's size and what it has cost in tokens, and,
for as long as it lasts, that the conversation is not being saved."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from chat_tui.text import visible


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
        parts: list[Content | tuple[str, str] | str] = []
        if self.problem:  # an error's text, and a path: untrusted
            parts += [(f"⚠ {visible(self.problem)}", "bold $error"), "  "]
        if self.messages:
            parts.append(self.totals)
        return Content.assemble(*parts)

    @property
    def totals(self) -> str:
        """The conversation's size and cost, e.g. `4 messages · 1,210 tokens used`."""
        parts = [f"{self.messages:,} message" + ("" if self.messages == 1 else "s")]
        if self.tokens_used:  # nothing reported yet (a stopped reply, a server without usage)
            parts.append(f"{self.tokens_used:,} tokens used")
        if self.context is not None:
            parts.append(f"context {self.context:,} tokens")
        return " · ".join(parts)
