"""Markdown for the transcript: Rich renderables, and where a streaming reply can be cut.

A streaming reply is shown as a few settled chunks, each rendered once, plus one live tail that is
re-rendered as text arrives. Cutting only where a top-level block has certainly ended keeps the
chunks rendering exactly as the whole text would, and keeps the cost of each update bounded by the
tail, not by the length of the reply. No Textual here: this is plain text and Rich.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from markdown_it import MarkdownIt
from rich.markdown import CodeBlock, Heading, Markdown
from rich.segment import Segment
from rich.syntax import Syntax

from chat_tui.text import visible

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.text import JustifyMethod

# As Rich's own parser, but with raw HTML off.
PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")

# A fence opener or closer: up to three spaces, then ``` or ~~~ (three or more).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


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


class TranscriptMarkdown(Markdown):
    elements: ClassVar = {
        **Markdown.elements,
        "heading_open": _LeftHeading,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
    }

    def __init__(
        self,
        text: str,
        *,
        dark: bool = True,
        highlight: bool = True,
        continued: bool = False,
        continues: bool = False,
    ) -> None:
        """`continued`: the text starts inside a code block begun in an earlier piece;
        `continues`: it ends inside one that a later piece carries on."""
        self.highlight = highlight
        # Links are shown as "text (url)": a model's link text must not pose as another address.
        super().__init__("", code_theme="monokai" if dark else "default", hyperlinks=False)
        # Rich drops HTML tags (and the text of <b>…</b> blocks); with HTML off, markdown-it
        # hands them over as text, so `Vec<T>` and `<script>` are shown as written.
        self.markup = visible(text)
        self.parsed = PARSER.parse(self.markup)
        fences = [token for token in self.parsed if token.type == "fence"]
        self._first = fences[0] if fences and continued else None
        self._last = fences[-1] if fences and continues else None

    def code_padding(self, token: Token) -> tuple[int, int]:
        return (0 if token is self._first else 1, 0 if token is self._last else 1)


class RenderOnce:
    """A renderable drawn once per width.

    Textual renders a widget's content twice per layout, once to measure its height and once to
    draw it; for Markdown the rendering is the costly part, so the lines are kept and replayed.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._width = -1
        self._lines: list[list[Segment]] = []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width != self._width:
            self._lines = console.render_lines(
                self.renderable, options.update(height=None), pad=False, new_lines=False
            )
            self._width = options.max_width
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


def settle_point(text: str, min_chars: int) -> Cut:
    """Where `text` can be cut so that the part before it will never change its rendering.

    That is just after a blank line outside any code fence, when the next top-level block has
    already begun (a non-blank, unindented line follows); or, in a long code block, at the start
    of a line of code. Returns the last such place at or beyond `min_chars`.
    """
    cut = Cut(0)
    fence: str | None = None
    opener = ""
    code_lines = 0  # lines of code seen in the open fence
    offset = 0
    after_blank = False
    for line in text.splitlines(keepends=True):
        complete = line.endswith("\n")
        stripped = line.strip()
        starts_block = fence is None and after_blank and stripped and not line[0].isspace()
        if starts_block and offset >= min_chars:
            cut = Cut(offset)
        match = _FENCE.match(line)
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
        offset += len(line)
    return cut
