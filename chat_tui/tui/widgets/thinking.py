"""A reasoning model's thinking, above its answer: live and dimmed while it thinks, folded to one
line once the answer begins, unfolded again with a click (or t on the selected reply).

The text is the model's (untrusted): it goes through `visible()` into Content, as plain text.
Redrawn at most every REDRAW_INTERVAL while it streams, so a fast stream costs little.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from chat_tui.text import visible

if TYPE_CHECKING:
    from textual import events
    from textual.timer import Timer

    from chat_tui.conversation import Message

REDRAW_INTERVAL = 0.1
# While it thinks, the last lines only: the whole text is one key or click away once folded.
LIVE_LINES = 8


class ThinkingBlock(Static):
    """The reply's reasoning; shown only once there is some."""

    expanded: reactive[bool] = reactive(True)

    def __init__(self, reply: Message, *, live: bool) -> None:
        super().__init__(classes="thinking")
        self._reply = reply
        self._live = live  # reasoning is still arriving
        self._started = time.monotonic()
        # Seconds it thought, once the answer began (public: pictures pin it).
        self.thought: float | None = None
        self._dirty = False
        self._timer: Timer | None = None
        self.set_reactive(ThinkingBlock.expanded, live)

    def on_mount(self) -> None:
        if self._live:
            self._timer = self.set_interval(REDRAW_INTERVAL, self._redraw)
        self.show()

    def more_arrived(self) -> None:
        """More reasoning; drawn with the next redraw. Cheap."""
        self._dirty = True

    def answer_began(self) -> None:
        """The answer's first text: thinking is over, and folds away."""
        if self._live and self.thought is None:
            self.thought = time.monotonic() - self._started
            self._stop()
            self.expanded = False

    def finish(self) -> None:
        if self.thought is None and self._live:
            self.thought = time.monotonic() - self._started
        self._stop()
        self.show()

    def _stop(self) -> None:
        self._live = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_click(self, event: events.Click) -> None:
        event.stop()  # a click for reading: the message box keeps the typing focus
        self.toggle()

    def toggle(self) -> None:
        self.expanded = not self.expanded

    def watch_expanded(self) -> None:
        if self.is_mounted:
            self.show()

    def _redraw(self) -> None:
        if self._dirty:
            self._dirty = False
            self.show()

    def show(self) -> None:
        reasoning = self._reply.reasoning
        # Hidden with the `-none` class, not display: the stylesheet also hides it for the
        # setting that hides reasoning, and either must be able to.
        self.update_classes({"-none": not reasoning, "-expanded": self.expanded})
        if not reasoning:
            return
        if self._live:
            title = f"Thinking · {time.monotonic() - self._started:.0f} s"
        elif self.thought is not None:
            title = f"Thought for {self.thought:.0f} s"
        else:
            title = "Thought"
        fold = "▼" if self.expanded else "▶"
        hint = "  click or t folds it" if self.expanded else "  click or t shows it"
        parts: list[Content | tuple[str, str] | str] = [
            (f"{fold} {title}", "bold"),
            (f" · {len(reasoning):,} characters", ""),
            (hint, "dim"),
        ]
        if self.expanded:
            text = reasoning.strip("\n")
            if self._live:
                text = "\n".join(text.splitlines()[-LIVE_LINES:])
            parts += ["\n", visible(text)]
        self.update(Content.assemble(*parts))
