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
