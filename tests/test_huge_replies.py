"""Long replies (big tables, long code) are drawn in pieces that line up, a slice at a time;
the reply stays one text: copied whole, and selectable where it is drawn."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console
from textual.geometry import Offset

from chat_tui.markdown_render import TableLayout, TranscriptMarkdown, settle_point
from chat_tui.store import Store
from chat_tui.tui.widgets import reply_body
from chat_tui.tui.widgets.reply_body import LONG_CHARS, MarkdownChunk, PiecesVisual, ReplyBody
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import screen_text
from tests.openai_server import TextReply, code_lines_markdown, table_markdown
from tests.test_app import SIZE, chat, replies, send, wait_for
from tests.test_persistence import saving_app
from tests.test_reuse import drag

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer

HEADER = "| Name | Value |\n| --- | --- |\n"


def opened_with(server: FakeOpenAIServer, tmp_path: Path, reply: str) -> ChatApp:
    """An app that opens a saved conversation whose reply is `reply`."""
    path = tmp_path / "chats.db"
    seed = Store(path)
    cid = seed.create_conversation("Code", "")
    seed.add_message(cid, "user", "Long code", "complete")
    seed.add_message(cid, "assistant", reply, "complete")
    seed.close()
    return saving_app(server, path, open_conversation=cid)


def drawn(markdown: TranscriptMarkdown, width: int = 40) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    lines = console.render_lines(markdown, pad=False)
    return ["".join(segment.text for segment in line).rstrip() for line in lines]


def test_a_long_table_is_cut_between_rows() -> None:
    rows = "".join(f"| row {n} | {n * n} |\n" for n in range(40))
    cut = settle_point("Before.\n\n" + HEADER + rows, 100)
    assert cut.reopen == HEADER  # the next piece is read as a table again
    assert cut.close == ""
    assert ("Before.\n\n" + HEADER + rows)[cut.index :].startswith("| row ")
    assert settle_point(HEADER + "| only | one |\n", 1).index == 0  # no row before the cut


def test_table_pieces_share_the_first_pieces_column_widths() -> None:
    first = TranscriptMarkdown(HEADER + "| a | 1 |\n| bb | 22 |\n", continues=True)
    layout = first.next_layout
    assert isinstance(layout, TableLayout)
    later = TranscriptMarkdown(
        HEADER + "| a much longer name | 3 |\n", continued=True, layout=layout
    )
    head, rows = drawn(first), drawn(later)
    assert "Name" in head[2]
    assert "Name" not in "".join(rows)  # the header only once
    assert head[-1] == " bb    22"  # no bottom edge: the table goes on
    assert rows[0] == " a     3"  # no top edge, no blank line: it goes straight on
    assert rows[-1] == ""  # the bottom edge ends the table
    value = head[2].index("Value")
    # The longer name folds within the first piece's column, so the values stay in line.
    assert rows[0][value:].strip() == "3"
    assert "".join(line[:value] for line in rows).replace(" ", "") == "amuchlongername"


async def test_a_long_table_reply_is_drawn_in_pieces_and_copied_whole(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply_body, "DRAWN_PIECES", 4)
    text = table_markdown(600, 4)
    assert len(text) > LONG_CHARS
    server.enqueue(TextReply(text))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "A big table")
        body = replies(app)[-1].query_one(ReplyBody)
        await wait_for(pilot, lambda: not app.chat.is_streaming and not body._drawing)
        await wait_for(pilot, lambda: " 600 " in _last_lines(app))
        chunks = list(body.query(MarkdownChunk))
        assert len(chunks) > 1
        # Streamed, the drawn lines held are bounded: the last few pieces drawn, and no copy
        # in the widgets (what a piece lets go of is freed).
        assert sum(_holds_drawing(chunk) for chunk in chunks) <= 4 + 1  # and the tail
        assert not any(chunk._render_cache.lines for chunk in chunks[:-1])
        await pilot.press("shift+tab", "c")
        await wait_for(pilot, lambda: app.clipboard == text)
        # The mouse selects in whichever piece it is over, as drawn: a row's number here.
        transcript = app.query_one(Transcript)
        transcript.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        await drag(pilot, transcript, Offset(3, 8), Offset(6, 8))
        assert app.screen.get_selected_text().strip().isdigit()


async def test_a_saved_long_code_reply_opens_in_pieces(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    code = code_lines_markdown(1500)
    app = opened_with(server, tmp_path, code)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(replies(app)))
        body = replies(app)[-1].query_one(ReplyBody)
        await wait_for(pilot, lambda: not body._drawing and "return total" in _last_lines(app))
        assert len(body.query(MarkdownChunk)) > 1
        await pilot.press("shift+tab", "c")
        await wait_for(pilot, lambda: app.clipboard == code)


async def test_a_very_long_reply_draws_only_what_is_seen(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a reply of many megabytes would be, at a size a test can afford.
    monkeypatch.setattr(reply_body, "LAZY_CHARS", 60_000)
    monkeypatch.setattr(reply_body, "LAZY_CHUNK_CHARS", 5_000)
    monkeypatch.setattr(reply_body, "DRAWN_PIECES", 4)
    code = code_lines_markdown(3000)
    assert len(code) > 60_000
    app = opened_with(server, tmp_path, code)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(replies(app)))
        body = replies(app)[-1].query_one(ReplyBody)
        await wait_for(pilot, lambda: not body._drawing and "return total" in _last_lines(app))
        chunks = list(body.query(MarkdownChunk))
        assert len(chunks) > 10
        assert sum(_holds_drawing(chunk) for chunk in chunks) <= 4 + 1  # and the tail
        # Scrolled through to the top, the first lines are drawn; the rest let go.
        transcript = app.query_one(Transcript)
        for chunk in reversed(chunks):
            transcript.scroll_to_widget(chunk, animate=False, top=True)
            await pilot.pause()
        assert "def handler_" in screen_text(app)
        assert sum(_holds_drawing(chunk) for chunk in chunks) <= 4 + 1
        await pilot.press("shift+tab", "c")
        await wait_for(pilot, lambda: app.clipboard == code)


async def test_the_tail_is_drawn_less_often_while_a_backlog_is_read(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each redraw costs the reading of a backlog a frame: amid one, the tail waits longer
    # (here a second, to be clear of the usual redraws on a busy machine).
    monkeypatch.setattr(reply_body, "BACKLOG_INTERVAL", 1.0)
    server.enqueue(TextReply(["First words."], stall_after=1, stall_seconds=20))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Go")
        await wait_for(pilot, lambda: "First words." in _last_lines(app))
        view = replies(app)[-1]

        def arrives(text: str) -> None:
            view.reply.append(text)
            view.more_arrived()

        view.reading_backlog(True)
        arrives(" Read amid a backlog.")
        await wait_for(pilot, lambda: "amid" in _last_lines(app))  # drawn once due
        arrives(" More of it.")
        await pilot.pause(0.4)  # three of the usual redraws' ticks
        assert "More of it." not in _last_lines(app)
        await wait_for(pilot, lambda: "More of it." in _last_lines(app))
        view.reading_backlog(False)  # the backlog is read: the usual pace again
        arrives(" At the pace.")
        await wait_for(pilot, lambda: "At the pace." in _last_lines(app), seconds=0.9)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
    assert "More of it. At the pace." in view.reply.content


def _holds_drawing(chunk: MarkdownChunk) -> bool:
    visual = chunk.visual
    pieces = visual.pieces if isinstance(visual, PiecesVisual) else []
    return any(piece.markdown._strips is not None for piece in pieces)


def _last_lines(app: ChatApp) -> str:
    """The transcript as on screen, once scrolled to its end."""
    app.query_one(Transcript).scroll_end(animate=False, immediate=True)
    return screen_text(app)
