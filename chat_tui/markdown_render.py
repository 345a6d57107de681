"""Markdown for the transcript: Rich renderables, and where a streaming reply can be cut.

A streaming reply is shown as a few settled chunks, each rendered once, plus one live tail that is
re-rendered as text arrives. Cutting only where a top-level block has certainly ended keeps the
chunks rendering exactly as the whole text would, and keeps the cost of each update bounded by the
tail, not by the length of the reply. No Textual here: this is plain text and Rich.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from markdown_it import MarkdownIt
from rich import box
from rich.markdown import CodeBlock, Heading, Markdown, TableElement
from rich.segment import Segment
from rich.syntax import Syntax
from rich.table import Table

from chat_tui.text import visible

if TYPE_CHECKING:
    from collections.abc import Iterable

    from markdown_it.token import Token
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.style import Style
    from rich.text import JustifyMethod

R = TypeVar("R")  # what a RenderOnce draws: a Rich renderable

# As Rich's own parser, but with raw HTML off.
PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")

# A fence opener or closer: up to three spaces, then ``` or ~~~ (three or more).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A table's delimiter row, under its header: | --- | :-: | ...
_DELIMITER = re.compile(r"^ {0,3}\|?(\s*:?-+:?\s*\|)+\s*(:?-+:?)?\s*$")


class _LeftHeading(Heading):
    # Rich centres top-level headings; in a chat transcript everything reads left to right.
    LEVEL_ALIGN: ClassVar[dict[str, JustifyMethod]] = dict.fromkeys(
        ("h1", "h2", "h3", "h4", "h5", "h6"), "left"
    )


class _CodeBlock(CodeBlock):
    # Top and bottom padding; a long code block that streams in is drawn in pieces, and the
    # pieces' inner edges get none, so that together they look like one block.
    padding: tuple[int, int] = (1, 1)

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> CodeBlock:
        block = super().create(markdown, token)
        # Highlighting costs about four times plain rendering: the live tail of a streaming reply
        # is shown plain, and highlighted once its block has settled.
        if not getattr(markdown, "highlight", True):
            block.lexer_name = "text"
        if isinstance(markdown, TranscriptMarkdown) and isinstance(block, _CodeBlock):
            block.padding = markdown.code_padding(token)
        return block

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        top, bottom = self.padding
        code = str(self.text)
        # A piece keeps its blank lines: they may be the middle of the whole block.
        code = code.rstrip() if (top, bottom) == (1, 1) else code.removesuffix("\n")
        yield Syntax(
            code, self.lexer_name, theme=self.theme, word_wrap=True, padding=(top, 1, bottom, 1)
        )


class TableLayout:
    """The column widths of a table drawn in pieces, so that every piece lines up.

    They are the widths Rich gives the first piece (the header and the first rows), per width
    of the screen; the later rows wrap within them.
    """

    def __init__(self, first: TranscriptMarkdown) -> None:
        self.first = first  # the piece the table begins in
        self._widths: dict[int, list[int]] = {}

    def record(self, width: int, widths: list[int]) -> None:
        self._widths[width] = widths

    def widths(self, console: Console, options: ConsoleOptions) -> list[int] | None:
        if options.max_width not in self._widths:
            console.render_lines(self.first, options.update(height=None))  # records them
        return self._widths.get(options.max_width)


class _PieceTable(Table):
    """A Rich table whose column widths are recorded in, or taken from, a TableLayout."""

    def __init__(self, layout: TableLayout | None, *, record: bool) -> None:
        super().__init__(
            box=box.SIMPLE,
            pad_edge=False,
            style="markdown.table.border",
            show_edge=True,
            collapse_padding=True,
        )
        self.layout = layout
        self.record = record

    def _calculate_column_widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        if self.layout is not None and not self.record:
            widths = self.layout.widths(console, options)
            if widths is not None and len(widths) == len(self.columns):
                return widths
        widths = super()._calculate_column_widths(console, options)
        if self.layout is not None and self.record:
            self.layout.record(options.max_width, widths)
        return widths


class _Table(TableElement):
    # As Rich's table; a piece of a long table drawn in pieces leaves out the header and the
    # inner edges, and shares the column widths of the first piece.
    edges: tuple[int, int] = (1, 1)
    layout: TableLayout | None = None

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> TableElement:
        table = cls()
        if isinstance(markdown, TranscriptMarkdown):
            table.edges = markdown.code_padding(token)
            table.layout = markdown.table_layout(token)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        top, bottom = self.edges
        table = _PieceTable(self.layout, record=top == 1)
        table.show_header = top == 1
        if self.header is not None and self.header.row is not None:
            for column in self.header.row.cells:
                heading = column.content.copy()
                heading.stylize("markdown.table.header")
                # Within the first piece's widths a longer word folds rather than hides.
                table.add_column(heading, overflow="fold" if self.layout else "ellipsis")
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(element.content for element in row.cells))
        lines = console.render_lines(table, options.update(height=None), new_lines=False)
        new_line = Segment.line()
        for line in lines[1 - top : len(lines) - 1 + bottom]:
            yield from line
            yield new_line


class TranscriptMarkdown(Markdown):
    elements: ClassVar = {
        **Markdown.elements,
        "heading_open": _LeftHeading,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
        "table_open": _Table,
    }

    def __init__(
        self,
        text: str,
        *,
        dark: bool = True,
        highlight: bool = True,
        continued: bool = False,
        continues: bool = False,
        layout: TableLayout | None = None,
        next_layout: TableLayout | None = None,
    ) -> None:
        """`continued`: the text starts inside a code block or table begun in an earlier piece
        (a table's with the `layout` of its first piece); `continues`: it ends inside one that
        a later piece carries on (a table's widths are then recorded in `next_layout`, a new
        one unless given). Parsed when first drawn: a long reply's far pieces may never be."""
        self.highlight = highlight
        # Links are shown as "text (url)": a model's link text must not pose as another address.
        super().__init__("", code_theme="monokai" if dark else "default", hyperlinks=False)
        self.size = len(text)
        self._text: str | None = text
        self._continued, self._continues = continued, continues
        self._first: Token | None = None
        self._last: Token | None = None
        self._layout = layout
        self.next_layout = next_layout or (TableLayout(self) if continues else None)

    @property
    def text(self) -> str:
        """What is drawn: the text as given, made visible."""
        self._parse()
        return self.markup

    def _parse(self) -> None:
        if self._text is None:
            return
        # Rich drops HTML tags (and the text of <b>…</b> blocks); with HTML off, markdown-it
        # hands them over as text, so `Vec<T>` and `<script>` are shown as written.
        self.markup = visible(self._text)
        self._text = None
        self.parsed = PARSER.parse(self.markup)
        blocks = [token for token in self.parsed if token.type in ("fence", "table_open")]
        self._first = blocks[0] if blocks and self._continued else None
        self._last = blocks[-1] if blocks and self._continues else None

    def release(self) -> None:
        """Let go of the parse once drawn (a long table's tokens outweigh its text many times
        over): it is parsed again if it is ever drawn again."""
        if self._text is None:
            self._text, self.parsed = self.markup, []
            self._first = self._last = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self._parse()
        segments = iter(super().__rich_console__(console, options))
        if self._first is not None and self._first.type == "table_open":
            # Rich opens a table with a blank line: a table's later piece goes straight on.
            first = next(segments, None)
            if first is not None and first.text != "\n":
                yield first
        yield from segments

    def code_padding(self, token: Token) -> tuple[int, int]:
        """Each edge: 0 where the block goes on in the piece before or after this one."""
        return (0 if token is self._first else 1, 0 if token is self._last else 1)

    def table_layout(self, token: Token) -> TableLayout | None:
        if token is self._first:  # read (a middle piece's layout is also the next one's)
            return self._layout
        return self.next_layout if token is self._last else None


class RenderOnce(Generic[R]):
    """A renderable drawn once per width.

    Textual renders a widget's content twice per layout, once to measure its height and once to
    draw it; for Markdown the rendering is the costly part, so the lines are kept and replayed.
    """

    def __init__(self, renderable: R) -> None:
        self.renderable = renderable
        self._width = -1
        self._lines: list[list[Segment]] = []

    def prepare(self, console: Console, width: int) -> None:
        """Draw it now for `width`, as a widget that wide would."""
        self._render(console, console.options.update_width(width))

    def _render(self, console: Console, options: ConsoleOptions) -> None:
        if options.max_width != self._width:
            self._lines = console.render_lines(
                self.renderable, options.update(height=None), pad=False, new_lines=False
            )
            self._width = options.max_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self._render(console, options)
        new_line = Segment.line()
        for line in self._lines:
            yield from line
            yield new_line


@dataclass(frozen=True, slots=True)
class Cut:
    """Where a streaming reply's tail can be cut, see settle_point."""

    index: int  # 0: nowhere yet
    # The opening fence line, when the cut falls inside a code block: the piece before the cut
    # is closed with a fence, and the text after it is read as if it opened with this line.
    reopen: str = ""

    @property
    def close(self) -> str:
        match = _FENCE.match(self.reopen)
        return (match.group(1) + "\n") if match else ""

    @property
    def in_table(self) -> bool:
        return bool(self.reopen) and not self.close


def settle_point(text: str, min_chars: int) -> Cut:
    """Where `text` can be cut so that the part before it will never change its rendering.

    That is just after a blank line outside any code fence, when the next top-level block has
    already begun (a non-blank, unindented line follows); in a long code block, at the start
    of a line of code; in a long table, at the start of a row. Returns the last such place at
    or beyond `min_chars`.
    """
    cut = Cut(0)
    fence: str | None = None
    opener = ""
    code_lines = 0  # lines of code seen in the open fence
    table: str | None = None  # the header and delimiter rows of the open table
    rows = 0  # rows seen in the open table
    previous = ""
    offset = 0
    after_blank = False
    for line in text.splitlines(keepends=True):
        complete = line.endswith("\n")
        stripped = line.strip()
        starts_block = fence is None and after_blank and stripped and not line[0].isspace()
        if starts_block and offset >= min_chars:
            cut = Cut(offset)
        if table is not None:
            if not stripped:
                table = None
            else:
                if rows and stripped.startswith("|") and offset >= min_chars:
                    cut = Cut(offset, table)
                rows += 1
        elif fence is None and complete and "|" in previous and _DELIMITER.match(line):
            table, rows = previous + line, 0
        match = _FENCE.match(line) if table is None else None
        closes = (
            fence is not None
            and match is not None
            and match.group(1)[0] == fence[0]
            and len(match.group(1)) >= len(fence)
            and not stripped.strip(fence[0])
        )
        if fence is not None and not closes and code_lines and offset >= min_chars:
            cut = Cut(offset, opener)
        if match and complete and fence is None:
            fence, opener, code_lines = match.group(1), line, 0
        elif closes and complete:
            fence = None
        elif fence is not None and complete:
            code_lines += 1
        after_blank = fence is None and complete and not stripped
        previous = line if fence is None and complete else ""
        offset += len(line)
    return cut


def _on_blanks(style: Style | None) -> tuple[object, ...]:
    """What of `style` shows on blanks: its background and the lines and boxes it draws."""
    if style is None:
        return ()
    return (
        style.bgcolor,
        style.underline,
        style.underline2,
        style.strike,
        style.overline,
        style.reverse,
        style.blink,
        style.blink2,
        style.conceal,
        style.frame,
        style.encircle,
        style.link,
    )


def fewer_segments(segments: Iterable[Segment]) -> list[Segment]:
    """The same line in fewer segments: blanks that look the same in either style join the
    text beside them. Rich draws a table's column gaps as blanks in the border's colour, so a
    wide table's line is some 80 segments; every frame cuts, filters and copies each one."""
    joined: list[Segment] = []
    for segment in segments:
        text, style, control = segment
        if joined and control is None and joined[-1].control is None:
            before = joined[-1]
            blank, blank_before = not text.strip(" "), not before.text.strip(" ")
            if style == before.style or (
                (blank or blank_before) and _on_blanks(style) == _on_blanks(before.style)
            ):
                # The blank one takes the other's style (the text's, if either has text).
                kept = before.style if blank else style
                joined[-1] = Segment(before.text + text, kept)
                continue
        joined.append(segment)
    return joined
