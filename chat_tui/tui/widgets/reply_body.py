"""The body of an assistant reply: Markdown that keeps up with a fast stream.

Settled pieces are rendered once and never again; only the live tail is re-rendered, at most every
FLUSH_INTERVAL and never more than a small share of the time. A finished reply looks exactly like
one that streamed, so nothing jumps when it ends. A big backlog (a fast stream of a huge table, a
long reply opened) is cut and drawn a slice at a time, so keys are answered meanwhile; a reply of
megabytes draws only the pieces that come on screen, and keeps only the last few drawn.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual._context import active_app
from textual.containers import Vertical
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Static

from chat_tui.markdown_render import (
    TableLayout,
    TranscriptMarkdown,
    fewer_segments,
    settle_point,
)
from chat_tui.tui.pending_input import typing_pending, typing_shown

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console, ConsoleOptions
    from rich.style import Style
    from textual.app import ComposeResult
    from textual.css.styles import RulesMap
    from textual.geometry import Region
    from textual.selection import Selection
    from textual.style import Style as VisualStyle
    from textual.timer import Timer
    from textual.visual import RenderOptions

    from chat_tui.conversation import Message

# Each render of the tail costs a relayout and a frame or two (about 14 ms at 120x40): eight a
# second keep the text flowing, at a fraction of a fast model's pace in CPU.
FLUSH_INTERVAL = 0.12
# While the stream's backlog is being read (text arrives faster than it is drawn), less often:
# each render costs the reading a frame, and the rest of the backlog is on screen soon anyway.
BACKLOG_INTERVAL = 0.3
# Rendering may take at most about a third of the time, so typing and scrolling stay smooth.
RENDER_SHARE = 3.0
# Settled pieces of at least this many characters: cheap enough tails.
CHUNK_CHARS = 1200
# And of at most about this many, when the text allows: Rich draws that much of a wide table
# or of highlighted code in about fifteen milliseconds.
MAX_CHUNK_CHARS = 1500
# More new text than this at once (a fast stream's backlog, a long reply opened) is drawn in
# slices of about SLICE seconds, each mounting what it drew, while the screen keeps answering
# keys.
SYNC_CHARS = 2000
SLICE = 0.01
# A finished reply longer than this is drawn that way too when it is shown (opened, or drawn
# again), in the chunks a streamed one has.
LONG_CHARS = 16000
# Settled pieces are drawn together in one widget up to about this many characters.
MERGE_CHARS = 30000
# One longer than this (megabytes, say) is cut into bigger pieces, each drawn only once on
# screen. Whatever the size, only the last DRAWN_PIECES drawn keep their drawing: memory stays
# bounded.
LAZY_CHARS = 1_000_000
LAZY_CHUNK_CHARS = 20000
DRAWN_PIECES = 24
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


class MarkdownVisual(Visual):
    """Markdown drawn into strips once per width (Textual would draw it twice per layout: to
    measure it, then to show it); `prepare` draws it ahead of time.

    A lazy one is drawn only once on screen: until then its height is an estimate, and once
    drawn it says so (`drawn` is called), so that far-off pieces can forget their strips.
    """

    def __init__(
        self,
        markdown: TranscriptMarkdown,
        *,
        lazy: bool = False,
        drawn: Callable[[MarkdownVisual], None] | None = None,
    ) -> None:
        self.markdown = markdown
        self.lazy = lazy
        self._on_drawn = drawn
        self._width = -1
        self._height = 0
        self._lines: list[list[Segment]] | None = None  # until styled into strips
        self._styled: Style | None = None
        self._strips: list[Strip] | None = None
        self.moved = False  # drawn taller or shorter than estimated: lay out again

    def _draw(self, console: Console, options: ConsoleOptions, width: int) -> None:
        estimated = self._height if self.lazy and self._width != width else None
        options = options.update_width(width).update(height=None)
        self._lines = console.render_lines(self.markdown, options, pad=False, new_lines=False)
        self.markdown.release()  # the lines hold what is drawn
        self._width, self._height = width, len(self._lines)
        self._strips = None
        self.moved = estimated is not None and estimated != self._height
        if self._on_drawn is not None:
            self._on_drawn(self)

    def forget(self) -> None:
        """Let go of the drawing (the height stays known): drawn again when seen again."""
        self._lines = self._strips = None
        self._styled = None

    def estimate(self, width: int) -> int:
        """About how many lines it takes at `width`, without drawing it."""
        lines = self.markdown.size // max(width // 2, 1) + 2  # long lines wrap
        self._height = max(lines, 1)
        return self._height

    def prepare(
        self, console: Console, options: ConsoleOptions, width: int, style: Style
    ) -> list[Strip]:
        """The strips at `width`, on the widget's base `style` (as Textual's own rendering of
        a Rich renderable puts them)."""
        if self._strips is not None and (self._width, self._styled) == (width, style):
            return self._strips
        if self._lines is None or self._width != width:
            self._draw(console, options, width)
        if self._lines is None:  # forgotten
            self._draw(console, options, width)
        assert self._lines is not None
        add = style.__add__
        self._strips = [
            Strip(fewer_segments(Segment(t, add(s)) for t, s, _ in line)) for line in self._lines
        ]
        self._styled, self._lines = style, None  # the strips hold it all now
        return self._strips

    def render_strips(
        self, width: int, height: int | None, style: VisualStyle, options: RenderOptions
    ) -> list[Strip]:
        app = active_app.get()
        options_ = app.console_options.update(highlight=False)
        strips = self.prepare(app.console, options_, width, style.rich_style)
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        if width != self._width and self.lazy:
            return self.estimate(width)
        if width != self._width:
            app = active_app.get()
            self._draw(app.console, app.console_options.update(highlight=False), width)
        return self._height


@dataclass(frozen=True, slots=True)
class Piece:
    """A settled piece of a reply: its Markdown, whether a blank line follows it (it ends
    between blocks, not inside one), and its length."""

    markdown: MarkdownVisual
    gap: bool
    size: int


class PiecesVisual(Visual):
    """Settled pieces drawn one under the other, as one widget: a long reply in a few widgets,
    not hundreds (every widget costs the screen's queries and layout). A piece that ends
    between blocks is followed by the blank line Markdown puts between them."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces

    def render_strips(
        self, width: int, height: int | None, style: VisualStyle, options: RenderOptions
    ) -> list[Strip]:
        strips: list[Strip] = []
        blank = Strip.blank(width, style.rich_style)
        for index, piece in enumerate(self.pieces):
            strips += piece.markdown.render_strips(width, None, style, options)
            if piece.gap and index < len(self.pieces) - 1:
                strips.append(blank)
        return strips if height is None else strips[:height]

    def line(self, y: int, width: int, style: VisualStyle) -> Strip:
        """Line `y` as render_strips draws it, drawing only the piece it is in: the widget
        keeps no copy of the others' lines, so those let go of stay let go of."""
        for index, piece in enumerate(self.pieces):
            height = piece.markdown.get_height(None, width)  # type: ignore[arg-type]
            if y < height:
                return piece.markdown.render_strips(width, None, style, None)[y]  # type: ignore[arg-type]
            y -= height
            if piece.gap and index < len(self.pieces) - 1:
                if y == 0:
                    break
                y -= 1
        return Strip.blank(width, style.rich_style)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        gaps = sum(piece.gap for piece in self.pieces[:-1])
        return sum(piece.markdown.get_height(rules, width) for piece in self.pieces) + gaps


class MarkdownChunk(Static):
    """A piece of a reply's Markdown, which the mouse can select as it reads on screen.

    Textual selects text in Content only; Markdown is drawn by Rich, so this chunk marks each
    character with where it is (line and column of what is drawn), draws the selection, and
    gives the selected text as drawn: what the user sees is what is copied.
    """

    chars = 0  # characters of the reply it draws, when settled
    # Markdown drawn by Rich holds no clickable links (`@click`): restyling every line for them
    # would only cost a copy of each.
    auto_links = False
    _painting = False  # see render_lines

    @classmethod
    def of(cls, piece: Piece) -> MarkdownChunk:
        chunk = cls(PiecesVisual([piece]), classes="chunk")
        chunk.chars = piece.size
        chunk.show_ending(piece)
        return chunk

    def add(self, piece: Piece) -> None:
        """One more settled piece, drawn under the others."""
        visual = self.visual
        assert isinstance(visual, PiecesVisual)
        self.update(PiecesVisual([*visual.pieces, piece]))
        self.chars += piece.size
        self.show_ending(piece)

    def show_ending(self, last: Piece) -> None:
        """Whether a blank line follows the chunk (its last piece ends between blocks) or its
        next line does (a code block or a table runs on into the next chunk)."""
        self.update_classes({"-settled": last.gap, "-joined": not last.gap})

    def _drawn(self, y: int) -> Strip:
        visual = self.visual
        if isinstance(visual, PiecesVisual):
            return visual.line(y, self.size.width, self.visual_style)
        return super().render_line(y)  # the tail

    def render_line(self, y: int) -> Strip:
        line = self._drawn(y)
        visual = self.visual
        pieces = visual.pieces if isinstance(visual, PiecesVisual) else []
        if any(piece.markdown.moved for piece in pieces):
            for piece in pieces:
                piece.markdown.moved = False
            self.call_later(self.refresh, layout=True)
        selection = self.text_selection
        span = selection.get_span(y) if selection is not None else None
        if span is not None:
            style = self.screen.get_component_rich_style("screen--selection")
            line = highlight(line, *span, style)
        if self._painting:
            # Painted, the line keeps the styles it was drawn with, which every cache on the
            # way to the screen already knows; a column mark on each character would make
            # every style new (the cost of a wide table's frame, several times over).
            return line
        # Asked where the mouse is (for selecting), after the highlight, which cuts segments:
        # each character gets its own column.
        return line.apply_offsets(0, y)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The screen paints through here; the mouse's position is looked up through
        # render_line alone (see Compositor.get_widget_and_offset_at).
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False

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
        # The opening fence line (or a table's header) when the tail begins inside a code block
        # or a table (see Cut.reopen), and then the table's column widths.
        self._reopen = ""
        self._layout: TableLayout | None = None
        self._dirty = False
        self._rendered_at = -math.inf  # when the tail was last rendered, and what that cost
        self._render_cost = 0.0
        # Set by the reader while it is amid a backlog: the tail is rendered less often.
        self.reading_backlog = False
        self._words_drawn = False  # see more_arrived
        self._streaming = streaming
        self._timer: Timer | None = None
        # Chunks are being drawn a slice at a time: the tail waits for them.
        self._drawing = False
        self._final_pending = False
        # A very long reply's pieces are drawn only once seen; the last drawn keep their strips.
        self._lazy = False
        self._seen: deque[MarkdownVisual] = deque()
        self._last_chunk: MarkdownChunk | None = None  # the last settled one, which may grow
        # Keys typed since it was made are waited for (not the Enter that asked for it).
        self._since = time.perf_counter()

    def compose(self) -> ComposeResult:
        if self._streaming or len(self._reply.content) <= LONG_CHARS:
            yield from self._settle()
            yield MarkdownChunk(self._tail_markdown(), id="live", classes="chunk")
        else:  # long: drawn in chunks once mounted, as a streamed one was
            yield MarkdownChunk(id="live", classes="chunk")

    def on_mount(self) -> None:
        if self._streaming:
            self._timer = self.set_interval(FLUSH_INTERVAL, self._render_tail)
        elif len(self._reply.content) > LONG_CHARS:
            self.call_after_refresh(self._render_final)  # once it has its width

    def more_arrived(self) -> None:
        """The reply has more text; it reaches the screen with the next render. Cheap."""
        self._dirty = True
        if not self._words_drawn and self.is_mounted:
            # Until words are on screen, each piece is drawn at once, not at the next tick (a
            # reply's first piece is often markup alone, e.g. "##").
            content = self._reply.content
            self._words_drawn = len(content) > WORDS_WITHIN or any(c.isalnum() for c in content)
            self._rendered_at = -math.inf
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
        if self._dirty and not self._drawing and self._pending() <= SYNC_CHARS:
            self.query_one("#live", MarkdownChunk).update(self._tail_markdown())
            self._dirty = False
        self._streaming = False
        self.call_after_refresh(self._render_final)

    @property
    def behind(self) -> bool:
        """Some of the text that has arrived is not drawn yet (a render is to come)."""
        return self._dirty or self._drawing

    def _pending(self) -> int:
        return len(self._reply.content) - self._settled

    def _render_final(self) -> None:
        live = next(iter(self.query("#live").results(MarkdownChunk)), None)
        if live is None:  # the reply was cleared away in the meantime
            return
        if self._drawing:  # once the chunks being drawn are in
            self._final_pending = True
            return
        self._show(live)

    def _render_tail(self) -> None:
        now = time.monotonic()
        interval = BACKLOG_INTERVAL if self.reading_backlog else FLUSH_INTERVAL
        due = self._rendered_at + max(interval, self._render_cost * RENDER_SHARE)
        if not self._dirty or now < due or self._drawing:
            return
        if typing_pending(self.app, self._since):
            return  # the next tick: the frame that shows a key is not held up by new text
        self._show(self.query_one("#live", MarkdownChunk))
        self._rendered_at, self._render_cost = now, time.monotonic() - now

    def _show(self, live: MarkdownChunk) -> None:
        """Mount the new settled chunks before the tail and redraw the tail: at once when that
        is little text, else cut and drawn a slice at a time."""
        self._dirty = False  # all of it is drawn, now or by the slices
        if self._pending() > SYNC_CHARS:
            self._drawing = True
            self.run_worker(self._draw_in_slices(live), group="reply-body")
            return
        pieces = self._cut()
        tail = self._tail_markdown()
        # Drawn here, not when the screen next lays out (which would draw them to measure
        # them): a key typed meanwhile is answered between the two.
        drawing = self._draw_with(live)
        if drawing[2] > 0:  # once laid out: before, the width is not known
            for markdown in (*(piece.markdown for piece in pieces), tail):
                markdown.prepare(*drawing)
        chunks = self._chunks(pieces)
        if chunks:
            self.mount_all(chunks, before=live)
        live.update(tail)

    def _draw_with(self, live: MarkdownChunk) -> tuple[Console, ConsoleOptions, int, Style]:
        """What the tail is drawn with: its width (now: a scroll bar may have come) and its
        style; the settled pieces are drawn the same."""
        options = self.app.console_options.update(highlight=False)
        width = live.content_size.width or self.content_size.width
        return self.app.console, options, width, live.visual_style.rich_style

    async def _draw_in_slices(self, live: MarkdownChunk) -> None:
        # A slice of work at a time, so that keys and frames are served in between, each
        # mounting the chunks it drew, so that text keeps appearing. From the first slice on,
        # the tail shows nothing until the last, so no text is on screen twice. (A thread
        # would not help: drawing is Python, and a busy thread makes the event loop wait for
        # the interpreter lock.)
        try:
            self._lazy = not self._streaming and len(self._reply.content) > LAZY_CHARS
            tail: MarkdownVisual | None = None
            while tail is None:
                await asyncio.sleep(0.01)
                await typing_shown(self.app, self._since)
                if not self.is_attached:
                    return
                drawing = self._draw_with(live)
                batch: list[Piece] = []
                started = time.perf_counter()
                while time.perf_counter() - started < SLICE:
                    piece = self._cut_one(LAZY_CHUNK_CHARS if self._lazy else MAX_CHUNK_CHARS)
                    if piece is None:
                        tail = self._tail_markdown()
                        tail.prepare(*drawing)
                        break
                    if not self._lazy:
                        piece.markdown.prepare(*drawing)
                    batch.append(piece)
                self.mount_all(self._chunks(batch), before=live)
                live.update(tail if tail is not None else "")
        finally:
            self._drawing = False
        if self._final_pending:
            self._final_pending = False
            self._render_final()
        elif self._streaming:
            self._dirty = True  # what arrived meanwhile

    def _cut(self) -> list[Piece]:
        """All the pieces that can be cut from the start of the tail, each of at most about
        MAX_CHUNK_CHARS when the text can be cut there."""
        pieces: list[Piece] = []
        while piece := self._cut_one(MAX_CHUNK_CHARS):
            pieces.append(piece)
        return pieces

    def _chunks(self, pieces: list[Piece]) -> list[MarkdownChunk]:
        """The pieces added to the last settled chunk while it is short enough, the rest in
        new chunks (returned, to be mounted); a very long reply's lazy pieces each in its own."""
        chunks: list[MarkdownChunk] = []
        for piece in pieces:
            last = chunks[-1] if chunks else self._last_chunk
            if last is not None and not piece.markdown.lazy and last.chars < MERGE_CHARS:
                last.add(piece)
            else:
                chunks.append(MarkdownChunk.of(piece))
        if chunks:
            self._last_chunk = chunks[-1]
        return chunks

    def _settle(self) -> list[MarkdownChunk]:
        """Move the complete blocks at the start of the tail into a new settled chunk."""
        piece = self._cut_one()
        return self._chunks([piece]) if piece else []

    def _cut_one(self, most: int = 0) -> Piece | None:
        """The complete blocks at the start of the tail as a piece, of at most about `most`
        characters when the text can be cut there (0: no limit)."""
        content = self._reply.content
        # Not the whole rest of a long reply: a piece of it is enough to find a cut in (twice
        # as much until one is found: the last cut in the whole rest would take it all).
        size = most or len(content)
        while True:
            tail = self._reopen + content[self._settled : self._settled + size]
            cut = settle_point(tail, CHUNK_CHARS)
            if cut.index or self._settled + size >= len(content):
                break
            size *= 2
        if not cut.index:
            return None
        continued = bool(self._reopen)
        # A piece in the middle of a table passes its first piece's widths on.
        middle = self._layout is not None and cut.in_table
        middle = middle and "\n\n" not in tail[len(self._reopen) : cut.index]
        self._settled += cut.index - len(self._reopen)
        markdown = self._markdown(
            tail[: cut.index] + cut.close,
            highlight=True,
            continued=continued,
            continues=bool(cut.reopen),
            next_layout=self._layout if middle else None,
            lazy=self._lazy,
        )
        self._reopen = cut.reopen
        self._layout = markdown.markdown.next_layout if cut.in_table else None
        # A piece cut between blocks is followed by the blank line Markdown puts between them;
        # one cut inside a code block or a table runs straight on into the next.
        return Piece(markdown, not cut.reopen, cut.index)

    def _tail_markdown(self) -> MarkdownVisual:
        return self._markdown(
            self._reopen + self._reply.content[self._settled :],
            highlight=not self._streaming,
            continued=bool(self._reopen),
        )

    def _markdown(
        self,
        text: str,
        *,
        highlight: bool,
        continued: bool = False,
        continues: bool = False,
        next_layout: TableLayout | None = None,
        lazy: bool = False,
    ) -> MarkdownVisual:
        dark = self.app.current_theme.dark if self.is_attached else True
        layout = self._layout if continued else None
        markdown = TranscriptMarkdown(
            text,
            dark=dark,
            highlight=highlight,
            continued=continued,
            continues=continues,
            layout=layout,
            next_layout=next_layout,
        )
        return MarkdownVisual(markdown, lazy=lazy, drawn=self._drew)

    def _drew(self, visual: MarkdownVisual) -> None:
        """A piece was drawn: the longest-undrawn let go of their drawings (they keep their
        heights, and are drawn again if scrolled back to), so a huge reply holds only about
        DRAWN_PIECES pieces' lines, streamed or opened."""
        # Once in the queue, however often drawn: a piece drawn again must not be the one let go.
        if visual in self._seen:
            self._seen.remove(visual)
        self._seen.append(visual)
        while len(self._seen) > DRAWN_PIECES:
            self._seen.popleft().forget()
