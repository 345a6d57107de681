"""The body of an assistant reply: Markdown that keeps up with a fast stream.

Settled chunks are rendered once and never again; only the live tail is re-rendered, at most every
FLUSH_INTERVAL and never more than a small share of the time. A finished reply looks exactly like
one that streamed, so nothing jumps when it ends.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual.containers import Vertical
from textual.strip import Strip
from textual.widgets import Static

from chat_tui.markdown_render import RenderOnce, TranscriptMarkdown, settle_point

if TYPE_CHECKING:
    from rich.style import Style
    from textual.app import ComposeResult
    from textual.selection import Selection
    from textual.timer import Timer

    from chat_tui.conversation import Message

# Each render of the tail costs a relayout and a frame or two (about 14 ms at 120x40): eight a
# second keep the text flowing, at a fraction of a fast model's pace in CPU.
FLUSH_INTERVAL = 0.12
# Rendering may take at most about a third of the time, so typing and scrolling stay smooth.
RENDER_SHARE = 3.0
# Chunks of at least this many characters: few enough widgets, cheap enough tails.
CHUNK_CHARS = 1200
# A reply's first characters are drawn as they come until they hold a word, within this many.
WORDS_WITHIN = 200


def highlight(line: Strip, start: int, end: int, style: Style) -> Strip:
    """`line` with its characters from `start` to `end` (-1: to the end) in `style` too."""
    segments: list[Segment] = []
    position = 0
    for text, own, control in line:
        stop = position + len(text)
        first = max(start - position, 0)
        last = len(text) if end == -1 else min(end - position, len(text))
        if control is not None or first >= last:
            segments.append(Segment(text, own, control))
        else:
            marked = own + style if own is not None else style
            parts = ((text[:first], own), (text[first:last], marked), (text[last:], own))
            segments.extend(Segment(part, part_style) for part, part_style in parts if part)
        position = stop
    return Strip(segments, line.cell_length)


class MarkdownChunk(Static):
    """A piece of a reply's Markdown, which the mouse can select as it reads on screen.

    Textual selects text in Content only; Markdown is drawn by Rich, so this chunk marks each
    character with where it is (line and column of what is drawn), draws the selection, and
    gives the selected text as drawn: what the user sees is what is copied.
    """

    def _drawn(self, y: int) -> Strip:
        return super().render_line(y)

    def render_line(self, y: int) -> Strip:
        line = self._drawn(y)
        selection = self.text_selection
        span = selection.get_span(y) if selection is not None else None
        if span is not None:
            style = self.screen.get_component_rich_style("screen--selection")
            line = highlight(line, *span, style)
        # After the highlight, which cuts segments: each piece gets its own column.
        return line.apply_offsets(0, y)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        # Rich pads each line to the width: the padding is not text.
        lines = (self._drawn(y).text.rstrip() for y in range(self.size.height))
        # A settled chunk is followed by a blank line on screen; a joined one by its next line.
        ending = "\n\n" if self.has_class("-settled") else "\n"
        return selection.extract("\n".join(lines)), ending


class ReplyBody(Vertical):
    """Markdown as settled chunks (one MarkdownChunk each) plus one live tail.

    It draws the reply's text as the conversation holds it (the one copy): told that more has
    arrived, it draws what is new with its next render.
    """

    def __init__(self, reply: Message, *, streaming: bool = False) -> None:
        super().__init__()
        self._reply = reply
        self._settled = 0  # characters of the text already in settled chunks
        # The opening fence line when the tail begins inside a code block (see Cut.reopen).
        self._reopen = ""
        self._dirty = False
        self._next_render = 0.0
        self._words_drawn = False  # see more_arrived
        self._streaming = streaming
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield from self._settle()
        yield MarkdownChunk(self._tail_markdown(), id="live", classes="chunk")

    def on_mount(self) -> None:
        if self._streaming:
            self._timer = self.set_interval(FLUSH_INTERVAL, self._render_tail)

    def more_arrived(self) -> None:
        """The reply has more text; it reaches the screen with the next render. Cheap."""
        self._dirty = True
        if not self._words_drawn and self.is_mounted:
            # Until words are on screen, each piece is drawn at once, not at the next tick (a
            # reply's first piece is often markup alone, e.g. "##").
            content = self._reply.content
            self._words_drawn = len(content) > WORDS_WITHIN or any(c.isalnum() for c in content)
            self._next_render = 0.0
            self._render_tail()

    def finish(self) -> None:
        """The reply has ended: show the last text at once, then its final form.

        The last text is drawn as it streamed (cheap), so it is on screen with the next frame;
        highlighting a long code block can take a tenth of a second, and waits for the frame
        after. Highlighting changes colours only, so nothing moves.
        """
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._dirty:
            self.query_one("#live", MarkdownChunk).update(self._tail_markdown())
        self._streaming = False
        self.call_after_refresh(self._render_final)

    def _render_final(self) -> None:
        live = next(iter(self.query("#live").results(MarkdownChunk)), None)
        if live is None:  # the reply was cleared away in the meantime
            return
        self.mount_all(self._settle(), before=live)
        live.update(self._tail_markdown())

    def _render_tail(self) -> None:
        now = time.monotonic()
        if not self._dirty or now < self._next_render:
            return
        self._dirty = False
        live = self.query_one("#live", MarkdownChunk)
        chunks = self._settle()
        if chunks:
            self.mount_all(chunks, before=live)
        live.update(self._tail_markdown())
        cost = time.monotonic() - now
        self._next_render = now + max(FLUSH_INTERVAL, cost * RENDER_SHARE)

    def _settle(self) -> list[MarkdownChunk]:
        """Move the complete blocks at the start of the tail into a new settled chunk."""
        tail = self._reopen + self._reply.content[self._settled :]
        cut = settle_point(tail, CHUNK_CHARS)
        if not cut.index:
            return []
        continued = bool(self._reopen)
        self._settled += cut.index - len(self._reopen)
        self._reopen = cut.reopen
        chunk = self._markdown(
            tail[: cut.index] + cut.close,
            highlight=True,
            continued=continued,
            continues=bool(cut.reopen),
        )
        # A piece cut between blocks is followed by the blank line Markdown puts between them;
        # one cut inside a code block runs straight on into the next.
        classes = "chunk -joined" if cut.reopen else "chunk -settled"
        return [MarkdownChunk(chunk, classes=classes)]

    def _tail_markdown(self) -> RenderOnce:
        return self._markdown(
            self._reopen + self._reply.content[self._settled :],
            highlight=not self._streaming,
            continued=bool(self._reopen),
        )

    def _markdown(
        self, text: str, *, highlight: bool, continued: bool = False, continues: bool = False
    ) -> RenderOnce:
        dark = self.app.current_theme.dark if self.is_attached else True
        return RenderOnce(
            TranscriptMarkdown(
                text, dark=dark, highlight=highlight, continued=continued, continues=continues
            )
        )
