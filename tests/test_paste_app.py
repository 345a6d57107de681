"""Files dropped on the terminal (pasted as their paths) and the clipboard's image (ctrl+v)
become attachments in the app; any other paste is text, as before.

No test reads the real clipboard: each runs with an empty PATH, no display and, where an image
is wanted, CHAT_TUI_CLIPBOARD_IMAGE naming a script of its own.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest
from textual import events

from chat_tui.clipboard_read import IMAGE_VARIABLE
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.prompt import PromptInput
from tests.openai_server import TextReply
from tests.test_app import SIZE, chat, wait_for
from tests.test_attach_app import png, words
from tests.test_clipboard_read import program, writes_png
from tests.test_hostile import RAW, hostile, terminal_output
from tests.test_persistence import saving_app
from tests.test_reuse import notices

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer


@pytest.fixture(autouse=True)
def no_clipboard_programs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No program of this machine's can be found, and there is no desktop to ask: the folder
    returned is the PATH, for a test's stand-ins."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "SSH_CONNECTION", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def app_in(server: FakeOpenAIServer, tmp_path: Path) -> ChatApp:
    return saving_app(server, tmp_path / "chats.db")


async def paste(pilot: Pilot[None], text: str) -> None:
    # Posted to the app, as the terminal driver does; the app hands it to the focused widget.
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


def tray(app: ChatApp) -> AttachmentTray:
    return app.query_one(AttachmentTray)


def chips(app: ChatApp) -> str:
    """The chips' line as drawn (on screen, a toast may cover its end)."""
    return str(tray(app).render())


async def test_a_dropped_file_is_attached_and_sent(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    dropped = tmp_path / "my notes 1.txt"
    dropped.write_text("alpha\nbeta\n")
    server.enqueue(TextReply("Seen."))
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await paste(pilot, f"'{dropped}'")
        await wait_for(pilot, lambda: len(tray(app).attachments) == 1)
        assert app.query_one(PromptInput).text == ""
        assert "my notes 1.txt · 2 lines]" in chips(app)
        await wait_for(pilot, lambda: any("Attached my notes 1.txt." in n for n in notices(app)))
        await chat(pilot, "what is in it?")
        text = server.last_request.messages[-1]["content"][0]["text"]
        assert text.startswith("what is in it?")
        assert f'<file path="{dropped}">\nalpha\nbeta\n</file>' in text


async def test_prose_is_pasted_as_text(server: FakeOpenAIServer, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    prose = f"look at {tmp_path / 'a.txt'} please"
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await paste(pilot, prose)
        await wait_for(pilot, lambda: app.query_one(PromptInput).text == prose)
        assert not tray(app).attachments


async def test_two_dropped_files_are_two_chips_and_ctrl_z_makes_them_text(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    picture = tmp_path / "shot 1.png"
    picture.write_bytes(png(3, 2))
    notes = tmp_path / "notes.txt"
    notes.write_text("x\n")
    pasted = f"{str(picture).replace(' ', chr(92) + ' ')} {notes}"  # as macOS escapes a space
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.query_one(PromptInput)
        await paste(pilot, pasted)
        await wait_for(pilot, lambda: len(tray(app).attachments) == 2)
        assert "[Image #1 · 3x2 ·" in chips(app)
        assert "notes.txt · 1 line]" in chips(app)
        await wait_for(
            pilot, lambda: any("Attached shot 1.png, notes.txt." in n for n in notices(app))
        )
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: not tray(app).attachments)
        assert prompt.text == pasted
        # Once the paste is text, ctrl+z is the box's own undo again.
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: prompt.text == "")


async def test_a_dropped_file_that_cannot_be_attached_is_pasted_as_its_path(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01" * 10)
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await paste(pilot, str(binary))
        await wait_for(pilot, lambda: any("Not attached" in n for n in notices(app)))
        await wait_for(pilot, lambda: app.query_one(PromptInput).text == str(binary))
        assert not tray(app).attachments


async def test_ctrl_v_attaches_the_clipboards_image(
    server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_clipboard_programs: Path,
) -> None:
    reader = program(tmp_path / "own", "grab-image", writes_png())
    monkeypatch.setenv(IMAGE_VARIABLE, str(reader))
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press("h", "i", "ctrl+v")
        await wait_for(pilot, lambda: len(tray(app).attachments) == 1)
        assert tray(app).attachments[0].is_image
        assert "[Image #1 · 2x1 ·" in chips(app)
        assert prompt.text == "hi"  # TextArea's own paste did not run too


async def test_ctrl_v_pastes_the_clipboards_text(
    server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_clipboard_programs: Path,
) -> None:
    program(
        no_clipboard_programs,
        "wl-paste",
        "if args == ['--list-types']: print('text/plain')\n"
        "elif args == ['--no-newline']: print('from the clipboard', end='')",
    )
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press("ctrl+v")
        await wait_for(pilot, lambda: prompt.text == "from the clipboard")
        assert not tray(app).attachments


async def test_ctrl_v_with_no_way_to_read_says_how(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_in(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press("h", "i", "ctrl+v")
        expected = "/attach PATH" if sys.platform.startswith("linux") else "attach"
        await wait_for(pilot, lambda: any(expected in n for n in notices(app)))
        assert prompt.text == "hi"
        assert not tray(app).attachments


async def test_a_hostile_dropped_file_name_is_shown_safely(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # A file's name cannot hold "/": the markup's closing tags lose theirs.
    name = hostile("DROPPED").replace("/", "_")
    try:
        (tmp_path / name).write_text("x\n")
    except OSError:
        pytest.skip("this file system refuses the name")
    app = app_in(server, tmp_path)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await paste(pilot, f"'{tmp_path / name}'")
        await wait_for(pilot, lambda: bool(tray(app).attachments))
        await wait_for(pilot, lambda: any("Attached DROPPED" in n for n in notices(app)))
        await pilot.pause()
        toast = next(n for n in notices(app) if "Attached DROPPED" in n)
        assert "\x1b" not in toast
        assert "\u202e" not in toast
        assert "␛]52;c;" in toast
        written = terminal_output(app)
        for what, raw in RAW.items():
            assert raw not in written, f"a raw {what} reached the terminal"
        assert "[bold]B[_] [@click=app.quit]Q[_]" in words(app)  # literally
        assert app.query_one(PromptInput).text == ""
