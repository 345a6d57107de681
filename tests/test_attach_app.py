"""Attaching files and images in the app: chips above the box, what the server receives, what
the transcript and the store keep."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Static

from chat_tui.attachments import Attachment, Kind
from chat_tui.store import Store
from chat_tui.tui.screens.conversations import Confirm, TextPrompt
from chat_tui.tui.widgets.attached import MAX_CHARS, MAX_LINES, AttachmentChips, heading, preview
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.messages import UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import screen_text
from tests.openai_server import TextReply
from tests.test_app import SIZE, chat, settled, wait_for
from tests.test_hostile import RAW, RLO, hostile, terminal_output
from tests.test_persistence import saving_app

if TYPE_CHECKING:
    from textual.pilot import Pilot
    from textual.widget import Widget

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer


def png(width: int, height: int) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def words(app: object, widget: Widget | None = None) -> str:
    """The screen's words (or `widget`'s part's), without the borders (heavy when selected)."""
    text = screen_text(app, widget).replace("│", " ").replace("┃", " ")  # type: ignore[arg-type]
    return " ".join(text.split())


def transcript_words(app: ChatApp) -> str:
    return words(app, app.query_one(Transcript))


async def attach(pilot: Pilot[None], path: Path) -> None:
    """From the palette's command, as a user would: the path asked for, then Enter."""
    app = pilot.app
    tray = app.query_one(AttachmentTray)
    before = len(tray.attachments)
    app.chat.action_attach()  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
    await pilot.press(*str(path), "enter")
    await wait_for(pilot, lambda: len(tray.attachments) == before + 1)


async def test_a_file_and_an_image_go_with_the_message(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # paths are given relative to where chat-tui started
    notes = write(Path("notes.txt"), b"alpha\nbeta\n")
    picture = write(Path("shot.png"), png(3, 2))
    path = tmp_path / "chats.db"
    server.enqueue(TextReply("Seen."), TextReply("Again."))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await attach(pilot, notes)
        await attach(pilot, picture)
        assert "[file: notes.txt · 2 lines]" in words(app)
        assert "[Image #1 · 3x2 ·" in words(app)
        await chat(pilot, "what is in these?")
        sent = server.last_request.messages[-1]["content"]
        assert isinstance(sent, list)
        text = sent[0]["text"]
        assert text.startswith("what is in these?")
        assert "alpha\nbeta" in text
        assert '<file path="notes.txt">' in text
        image = sent[1]
        assert image["type"] == "image_url"
        assert image["image_url"]["url"] == (
            "data:image/png;base64," + base64.b64encode(png(3, 2)).decode()
        )
        assert not app.query_one(AttachmentTray).attachments  # gone with the message
        # The transcript shows the chips, not the file's text.
        assert "[Image #1 · 3x2" in words(app)
        assert "alpha" not in words(app)
        # The next request carries the history with its attachments again.
        await chat(pilot, "and again?")
        history = server.last_request.messages
        assert isinstance(history[1]["content"], list)
        assert history[1]["content"][1]["type"] == "image_url"
        await wait_for(pilot, lambda: app.store.is_open)
    store = Store(path)
    try:
        [first] = [m for m in store.load(store.latest_id() or 0).messages if m.role == "user"][:1]
    finally:
        store.close()
    assert first.content == "what is in these?"


async def test_backspace_at_the_start_takes_the_last_chip_off(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    notes = tmp_path / "a.txt"
    notes.write_text("x\n")
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await attach(pilot, notes)
        await pilot.press("backspace")
        await wait_for(pilot, lambda: not app.query_one(AttachmentTray).attachments)
        assert "a.txt" not in words(app)


async def test_an_image_alone_is_a_message(server: FakeOpenAIServer, tmp_path: Path) -> None:
    picture = tmp_path / "only.png"
    picture.write_bytes(png(1, 1))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await attach(pilot, picture)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(server.requests) == 1 and settled(app))
        content = server.last_request.messages[-1]["content"]
        assert [part["type"] for part in content] == ["image_url"]


async def test_refusals_are_explained_and_a_large_file_offers_its_first_part(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    binary = write(Path("blob.bin"), b"\x00\x01\x02" * 100)
    big = write(Path("big.txt"), b"line of text\n" * 30_000)
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.chat.action_attach(str(binary))
        await wait_for(pilot, lambda: any("Not attached" in n.message for n in app._notifications))
        assert not app.query_one(AttachmentTray).attachments
        app.chat.action_attach(str(big))
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        tray = app.query_one(AttachmentTray)
        await wait_for(pilot, lambda: bool(tray.attachments))
        assert tray.attachments[0].truncated
        await wait_for(pilot, lambda: "big.txt · first " in words(app))


async def test_a_hostile_file_name_is_shown_safely(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file's name cannot hold "/": the markup's closing tags lose theirs.
    name = hostile("NAMED").replace("/", "_")
    try:
        (tmp_path / name).write_text("x\n")
    except OSError:  # a file system that refuses such names has nothing to show
        pytest.skip("this file system refuses the name")
    monkeypatch.chdir(tmp_path)
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=(200, 50)) as pilot:
        app.chat.action_attach(name)
        await wait_for(pilot, lambda: bool(app.query_one(AttachmentTray).attachments))
        await wait_for(pilot, lambda: "NAMED" in screen_text(app))
        written = terminal_output(app)
        for what, raw in RAW.items():
            assert raw not in written, f"a raw {what} reached the terminal"
        assert "[bold]B[_] [@click=app.quit]Q[_]" in screen_text(app)  # literally
        assert "␛]52;c;" in screen_text(app)


async def test_ctrl_z_puts_back_a_chip_backspace_took_off(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("x\n")
    second.write_text("y\n")
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        tray = app.query_one(AttachmentTray)
        await attach(pilot, first)
        await attach(pilot, second)
        await pilot.press("backspace", "backspace")
        await wait_for(pilot, lambda: not tray.attachments)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: len(tray.attachments) == 1)
        assert tray.attachments[0].name == str(first)  # the last taken off comes back first
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: len(tray.attachments) == 2)
        assert [a.name for a in tray.attachments] == [str(first), str(second)]
        # Once the text changes, ctrl+z is the text's: a chip taken off stays off.
        await pilot.press("backspace")
        await wait_for(pilot, lambda: len(tray.attachments) == 1)
        await pilot.press("h", "i", "ctrl+z")
        await pilot.pause()
        assert len(tray.attachments) == 1
        assert "b.txt" not in words(app)


# -- what is attached, unfolded in the transcript ---------------------------------------------


def chips_text(app: ChatApp) -> str:
    """What the attachments' widgets hold, as their Content's plain text."""
    return "\n".join(
        static.visual.plain  # type: ignore[union-attr]
        for chips in app.query(AttachmentChips)
        for static in chips.query(Static)
    )


async def send_attached(pilot: Pilot[None], text: str, *paths: Path | str) -> UserMessage:
    """Attach `paths`, send `text` with them, and select the message in the transcript."""
    app: ChatApp = pilot.app  # type: ignore[assignment]
    for path in paths:
        await attach(pilot, Path(path))
    await chat(pilot, text)
    await pilot.press("shift+tab", "up")  # the reply is selected first; then the message
    selected = app.query_one(Transcript).selected
    assert isinstance(selected, UserMessage)
    return selected


def test_a_files_preview_says_what_it_leaves_out() -> None:
    assert preview("a\nb\n") == ("a\nb", "")
    text, note = preview("x\n" * (MAX_LINES + 1))
    assert text.count("x") == MAX_LINES
    assert note == "… 1 more line not shown here (the message carries all 201)"
    # One long line (a minified file): its start, cut visibly.
    text, note = preview("y" * (MAX_CHARS * 2))
    assert text == "y" * MAX_CHARS + "…"
    assert note.startswith("… the rest of that line not shown")
    truncated = Attachment(Kind.FILE, "big.txt", "text/plain", 3 << 20, "a\n", 1, truncated=True)
    assert (
        heading(truncated)
        == "big.txt · the first 1 line of a 3.0 MB file (the rest was not attached)"
    )


async def test_a_key_unfolds_what_is_attached_and_folds_it_again(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines = [f"line {n}" for n in range(1, 251)]
    write(Path("long.txt"), "\n".join(lines).encode() + b"\n")
    write(Path("shot.png"), png(3, 2))
    server.enqueue(TextReply("Seen."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        view = await send_attached(pilot, "look", "long.txt", "shot.png")
        assert "a shows them" in transcript_words(app)  # the key, named on the selected message
        assert "line 1 " not in transcript_words(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: "line 1 line 2" in transcript_words(app))
        shown = chips_text(app)
        assert "long.txt · 250 lines" in shown
        # Drawn cheaply: the first MAX_LINES lines, and how many more the message carries.
        assert "line 200" in shown
        assert "line 201" not in shown
        assert "… 50 more lines not shown here" in shown
        assert "shot.png · image/png · 3x2 · " in shown
        assert "a folds them" in transcript_words(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: "line 1 line 2" not in transcript_words(app))
        assert "[file: long.txt · 250 lines]" in transcript_words(app)  # the chips stay
        # A click on the chips unfolds them too, and leaves the typing where it was.
        await pilot.press("escape")
        await pilot.click(view.query_one(".chips"))
        await wait_for(pilot, lambda: "line 1 line 2" in transcript_words(app))
        assert isinstance(app.focused, PromptInput)


async def test_copying_a_message_with_attachments_copies_its_text(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(Path("notes.txt"), b"alpha\n")
    server.enqueue(TextReply("Seen."))
    app = saving_app(server, tmp_path / "chats.db")
    copied: list[tuple[str, str]] = []
    monkeypatch.setattr(app, "copy_text", lambda text, what: copied.append((text, what)))
    async with app.run_test(size=SIZE) as pilot:
        await send_attached(pilot, "what is this?", "notes.txt")
        await pilot.press("a", "c")
        await wait_for(pilot, lambda: bool(copied))
        assert copied == [("what is this?", "your message")]


async def test_a_message_without_attachments_says_so(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Hi."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "hello")
        await pilot.press("shift+tab", "a")  # on the reply
        await wait_for(pilot, lambda: bool(app._notifications))
        await pilot.press("up", "a")  # on the message
        await wait_for(pilot, lambda: len(app._notifications) == 2)
        said = [n.message for n in app._notifications]
        assert said == ["That message has no attachments."] * 2
        assert not app.query(AttachmentChips)


async def test_a_hostile_file_unfolds_safely(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = hostile("NAMED").replace("/", "_") + ".txt"
    try:
        (tmp_path / name).write_text(hostile("TEXT") + "\n" + "[bold red]x[/]\n")
    except OSError:  # a file system that refuses such names has nothing to show
        pytest.skip("this file system refuses the name")
    monkeypatch.chdir(tmp_path)
    server.enqueue(TextReply("Seen."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=(200, 50)) as pilot:
        app.chat.action_attach(name)
        await wait_for(pilot, lambda: bool(app.query_one(AttachmentTray).attachments))
        await chat(pilot, "look")
        await pilot.press("shift+tab", "up", "a")
        await wait_for(pilot, lambda: "TEXT" in screen_text(app))
        shown = chips_text(app)
        assert "TEXT" in shown
        assert "NAMED" in shown
        for raw in ("\x1b", "\x07", RLO):
            assert raw not in shown
        written = terminal_output(app)
        for what, raw in RAW.items():
            assert raw not in written, f"a raw {what} reached the terminal"
        on_screen = screen_text(app)
        assert "[bold red]x[/]" in on_screen  # markup, shown as written
        assert "[bold]B[_] [@click=app.quit]Q[_]" in on_screen  # the name's
        assert "[bold]B[/] [@click=app.quit]Q[/]" in on_screen  # the text's
        assert "␛]52;c;" in on_screen
        assert "‹U+202E›" in on_screen
