"""A reply drawn in settled pieces looks exactly like the whole reply drawn at once."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from chat_tui.markdown_render import Cut, TranscriptMarkdown, settle_point

CODE = "```python\n" + "".join(
    f"x{i} = {i}\n\n" if i % 7 == 0 else f"x{i} = {i}\n" for i in range(90)
)
REPLY = f"Intro.\n\n- one\n- two\n\n{CODE}```\n\nAfter the code.\n\n~~~\nplain\n~~~\n\nEnd.\n"


def lines(renderable: TranscriptMarkdown, width: int = 60) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    return ["".join(s.text for s in line).rstrip() for line in console.render_lines(renderable)]


def pieces(text: str, min_chars: int) -> list[tuple[TranscriptMarkdown, bool]]:
    """Cut as a reply streaming in 50 characters at a time is cut: (piece, whether a blank line
    between blocks follows it)."""
    out: list[tuple[TranscriptMarkdown, bool]] = []
    settled, reopen = 0, ""
    for end in range(50, len(text) + 50, 50):
        tail = reopen + text[settled:end]
        cut = settle_point(tail, min_chars)
        if cut.index:
            piece = tail[: cut.index] + cut.close
            continues = bool(cut.reopen)
            out.append(
                (
                    TranscriptMarkdown(piece, continued=bool(reopen), continues=continues),
                    not continues,
                )
            )
            settled += cut.index - len(reopen)
            reopen = cut.reopen
    out.append((TranscriptMarkdown(reopen + text[settled:], continued=bool(reopen)), False))
    return out


@pytest.mark.parametrize("min_chars", [40, 200, 500, 5000])
def test_pieces_join_into_the_whole(min_chars: int) -> None:
    drawn: list[str] = []
    parts = pieces(REPLY, min_chars)
    for piece, gap in parts:
        drawn += lines(piece) + ([""] if gap else [])  # the stylesheet's margin after a block
    assert drawn == lines(TranscriptMarkdown(REPLY))
    if min_chars < 500:
        assert len(parts) > 3  # the code block itself was cut


def test_a_cut_inside_code_reopens_the_fence() -> None:
    cut = settle_point(CODE, 100)
    assert cut.index > 100
    assert cut.reopen == "```python\n"
    assert cut.close == "```\n"
    assert settle_point("```python\nx = 1\ny = 2\n", 1) == Cut(16, "```python\n")
    assert settle_point("```python\n", 1).index == 0  # no code yet: nothing to cut


# -- fewer segments per line ----------------------------------------------------------------


def test_a_wide_tables_lines_are_drawn_in_few_segments_looking_the_same() -> None:
    from rich.segment import Segment
    from rich.style import Style

    from chat_tui.markdown_render import fewer_segments
    from tests.openai_server import table_markdown

    console = Console(width=71, file=io.StringIO(), color_system="truecolor")
    drawn = console.render_lines(TranscriptMarkdown(table_markdown(30, 40)))
    before = sum(len(line) for line in drawn)
    after = [fewer_segments(line) for line in drawn]
    assert sum(len(line) for line in after) < before / 10  # column gaps join the text
    for old, new in zip(drawn, after, strict=True):
        assert "".join(s.text for s in new) == "".join(s.text for s in old)
        # Each character keeps its style, but a blank, which may take its neighbour's colour.
        shown_old = [(c, s) for seg in old for c in seg.text for s in [seg.style]]
        shown_new = [(c, s) for seg in new for c in seg.text for s in [seg.style]]
        for (char, was), (_, now) in zip(shown_old, shown_new, strict=True):
            if char != " ":
                assert now == was
    underlined, plain = Style(underline=True), Style(color="red")
    # Blanks that show (underlined, on a background) keep their style.
    kept = [Segment("a", plain), Segment("  ", underlined), Segment("b", plain)]
    assert fewer_segments(kept) == kept
    on_red = [Segment("a", plain), Segment(" ", Style(bgcolor="red")), Segment("b", plain)]
    assert fewer_segments(on_red) == on_red
    gap = [Segment("a", plain), Segment(" ", Style(color="cyan")), Segment("b", plain)]
    assert fewer_segments(gap) == [Segment("a b", plain)]
