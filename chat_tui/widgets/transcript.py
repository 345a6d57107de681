"""The scrolling transcript: follows new text unless the user has scrolled up.

Only the latest MAX_DRAWN messages are drawn: every drawn message costs layout time on every
frame while a reply streams, so a long session would otherwise get slower turn by turn. Earlier
messages stay in the conversation (and in every request); a line at the top says how many there
are, and the app can draw them again on request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.widget import Widget

MAX_DRAWN = 60


class EarlierMessages(Static):
    """How many earlier messages are not drawn; f4 draws more."""

    def show_count(self, count: int) -> None:
        self.update(
            Content.assemble(
                (f"{count} earlier messages are not shown", "bold"),
                " · they are still part of the conversation · f4 shows more",
            )
        )
        self.display = count > 0


class Transcript(VerticalScroll, can_focus=True):
    """Anchored to the bottom; a user scroll releases the anchor, the bottom re-engages it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.earlier = 0  # messages before the first drawn one

    def compose(self) -> ComposeResult:
        notice = EarlierMessages(classes="message")
        notice.display = False
        yield notice

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, *widgets: Widget) -> None:
        await self.mount_all(widgets)
        await self._trim()

    async def add_earlier(self, widgets: list[Widget]) -> None:
        """Draw messages before the first drawn one (the app picks which)."""
        await self.mount_all(widgets, after=self.query_one(EarlierMessages))
        self.set_earlier(self.earlier - len(widgets))

    def set_earlier(self, count: int) -> None:
        self.earlier = max(0, count)
        self.query_one(EarlierMessages).show_count(self.earlier)

    def drawn_messages(self) -> list[Widget]:
        return [child for child in self.children if hasattr(child, "message")]

    async def _trim(self) -> None:
        drawn = self.drawn_messages()
        excess = len(drawn) - MAX_DRAWN
        if excess > 0:
            await self.remove_children(drawn[:excess])
            self.set_earlier(self.earlier + excess)

    async def clear(self) -> None:
        await self.remove_children([c for c in self.children if not isinstance(c, EarlierMessages)])
        self.set_earlier(0)
        self.anchor()
