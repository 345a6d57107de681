"""The body of an assistant reply: Markdown that keeps up with a fast stream.

Settled chunks are rendered once and never again; only the live tail is re-rendered, at most every
FLUSH_INTERVAL and never more than a small share of the time. A finished reply looks exactly like
one that streamed, so nothing jumps when it ends.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.widgets import Static

from chat_tui.markdown_render import RenderOnce, TranscriptMarkdown, settle_point

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.timer import Timer

FLUSH_INTERVAL = 0.08
# Rendering may take at most about a third of the time, so typing and scrolling stay smooth.
RENDER_SHARE = 3.0
# Chunks of at least this many characters: few enough widgets, cheap enough tails.
CHUNK_CHARS = 1200


class ReplyBody(Vertical):
    """Markdown as settled chunks (one Static each) plus one live tail."""

    def __init__(self, text: str = "", *, streaming: bool = False) -> None:
        super().__init__()
        self._source = text
        self._settled = 0  # characters of _source already in settled chunks
        self._dirty = False
        self._next_render = 0.0
        self._streaming = streaming
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield from self._settle()
        yield Static(self._tail_markdown(), id="live", classes="chunk")

    def on_mount(self) -> None:
        if self._streaming:
            self._timer = self.set_interval(FLUSH_INTERVAL, self._render_tail)

    def append(self, text: str) -> None:
        """Add streamed text; it reaches the screen with the next render. Cheap per token."""
        self._source += text
        self._dirty = True

    def finish(self) -> None:
        """The reply has ended: render the rest once, with code highlighted."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._streaming = False
        live = self.query_one("#live", Static)
        self.mount_all(self._settle(), before=live)
        live.update(self._tail_markdown())

    def _render_tail(self) -> None:
        now = time.monotonic()
        if not self._dirty or now < self._next_render:
            return
        self._dirty = False
        live = self.query_one("#live", Static)
        chunks = self._settle()
        if chunks:
            self.mount_all(chunks, before=live)
        live.update(self._tail_markdown())
        cost = time.monotonic() - now
        self._next_render = now + max(FLUSH_INTERVAL, cost * RENDER_SHARE)

    def _settle(self) -> list[Static]:
        """Move the complete blocks at the start of the tail into a new settled chunk."""
        tail = self._source[self._settled :]
        cut = settle_point(tail, CHUNK_CHARS)
        if not cut:
            return []
        self._settled += cut
        return [Static(self._markdown(tail[:cut], highlight=True), classes="chunk")]

    def _tail_markdown(self) -> RenderOnce:
        return self._markdown(self._source[self._settled :], highlight=not self._streaming)

    def _markdown(self, text: str, *, highlight: bool) -> RenderOnce:
        dark = self.app.current_theme.dark if self.is_attached else True
        return RenderOnce(TranscriptMarkdown(text, dark=dark, highlight=highlight))
