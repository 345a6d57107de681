"""One line under the message box: the conversation's size and what it has cost in tokens."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget


class StatusBar(Widget):
    messages: reactive[int] = reactive(0)
    tokens_used: reactive[int] = reactive(0)  # as the server reported, over all replies
    context: reactive[int | None] = reactive(None)  # the last exchange's prompt + completion

    def watch_messages(self, count: int) -> None:
        # Nothing to say about an empty conversation: the line goes to the transcript.
        self.display = count > 0

    def render(self) -> str:
        parts = [f"{self.messages:,} message" + ("" if self.messages == 1 else "s")]
        if self.tokens_used:  # nothing reported yet (a stopped reply, a server without usage)
            parts.append(f"{self.tokens_used:,} tokens used")
        if self.context is not None:
            parts.append(f"context {self.context:,} tokens")
        return " · ".join(parts)
