"""The scrolling transcript: follows new text unless the user has scrolled up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll

if TYPE_CHECKING:
    from textual.widget import Widget


class Transcript(VerticalScroll, can_focus=True):
    """Anchored to the bottom; a user scroll releases the anchor, the bottom re-engages it."""

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, *widgets: Widget) -> None:
        await self.mount_all(widgets)

    async def clear(self) -> None:
        await self.remove_children()
        self.anchor()
