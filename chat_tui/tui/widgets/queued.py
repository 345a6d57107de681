"""Above the message box: the message sent while a reply was on its way, and how to take it back.

The way back (Esc) has a column of its own on the right, so a long message wraps beside it and
never pushes it off the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import HorizontalGroup
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from chat_tui.text import one_line
from chat_tui.tui.fit import fitting

if TYPE_CHECKING:
    from textual.app import ComposeResult

# Fullest first: the full hint while the message fits beside it on one line, else the short one,
# which leaves the message more room to wrap in (up to three lines, see the stylesheet).
HINTS = ("sent when this reply ends · esc takes it back", "esc takes it back")
GAP = 2  # between the message and the hint (the stylesheet's margin)


class QueuedLine(HorizontalGroup):
    """The queued message's first line, and the hint; hidden when nothing is queued."""

    text: reactive[str] = reactive("", init=False)

    def compose(self) -> ComposeResult:
        yield Static(id="queued-text")
        yield Static(HINTS[0], id="queued-hint")

    def on_mount(self) -> None:
        self.display = False

    def watch_text(self, text: str) -> None:
        self.query_one("#queued-text", Static).update(self._message())
        self._show_hint()
        self.display = bool(text)

    def on_resize(self) -> None:
        self._show_hint()

    def _message(self) -> Content:
        text = self.text.strip()
        return Content.assemble(
            ("⧗ queued: ", "bold"), one_line(text.splitlines()[0] if text else "")
        )

    def _show_hint(self) -> None:
        hint = fitting(HINTS, self.content_size.width - self._message().cell_length - GAP)
        self.query_one("#queued-hint", Static).update(hint)
