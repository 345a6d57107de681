"""The `@` file picker in the message box: which `@` opens it, picking by keys and by mouse,
and the `@` that stays literal (e-mail addresses, handles, Esc)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_tui.mention import Mention, mention_at
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.file_list import FileList
from chat_tui.tui.widgets.prompt import PromptInput
from tests.conftest import screen_text
from tests.openai_server import TextReply
from tests.test_app import SIZE, wait_for
from tests.test_attach_app import words
from tests.test_hostile import RAW, hostile, terminal_output
from tests.test_reuse import app_for

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer


# -- which `@` is a mention, without the app --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "row", "column", "expected"),
    [
        ("@", 0, 1, Mention(0, 0, 1, "")),
        ("see @src/ap", 0, 11, Mention(0, 4, 11, "src/ap")),
        ("one\ntwo @x", 1, 6, Mention(1, 4, 6, "x")),
        ("tab\t@x", 0, 6, Mention(0, 4, 6, "x")),
    ],
)
def test_an_at_that_starts_a_word_is_a_mention(
    text: str, row: int, column: int, expected: Mention
) -> None:
    assert mention_at(text, row, column) == expected


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ("me@example.com", 0, 14),  # an e-mail address
        ("@alice hello", 0, 12),  # typing went on past the word
        ("@alice hello", 0, 3),  # the cursor inside the word
        ("no at here", 0, 5),
        ("/attach @src", 0, 12),  # a command's argument is the command's
        ("@x", 5, 0),  # a row the text has not
    ],
)
def test_other_ats_are_literal(text: str, row: int, column: int) -> None:
    assert mention_at(text, row, column) is None


def test_two_slashes_are_a_message_and_can_mention() -> None:
    assert mention_at("//x @a", 0, 6) == Mention(0, 4, 6, "a")


# -- in the app -------------------------------------------------------------------------------


def make_files(root: Path) -> None:
    for name, text in (
        ("src/app.py", "print('app')\n"),
        ("src/widgets/prompt.py", "PROMPT = 1\n"),
        ("README.md", "# Read me\n"),
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def offered(app: ChatApp) -> list[str]:
    files = app.query_one(FileList)
    if not files.display:
        return []
    return [str(files.get_option_at_index(i).id) for i in range(files.option_count)]


async def typed(pilot: Pilot[None], keys: str) -> PromptInput:
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    await pilot.press(*keys)
    await pilot.pause()
    return prompt


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small project, where chat-tui is started."""
    root = tmp_path / "project"
    make_files(root)
    monkeypatch.chdir(root)
    return root


async def test_at_offers_files_and_tab_attaches_one(
    server: FakeOpenAIServer, tmp_path: Path, project: Path
) -> None:
    server.enqueue(TextReply("Read it."))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await typed(pilot, "look at @")
        await wait_for(pilot, lambda: len(offered(app)) == 3)
        await pilot.press("a", "p", "p")
        await wait_for(pilot, lambda: offered(app)[:1] == ["src/app.py"])
        await pilot.press("tab")
        tray = app.query_one(AttachmentTray)
        await wait_for(pilot, lambda: bool(tray.attachments))
        assert prompt.text == "look at "  # the chip stands for the `@word`
        assert offered(app) == []
        assert "[file: src/app.py · 1 line]" in words(app)
        await pilot.press("p", "l", "e", "a", "s", "e", "enter")
        await wait_for(pilot, lambda: server.last_request is not None)
        [part] = server.last_request.messages[-1]["content"]
        text = part["text"]
        assert text.startswith("look at please")
        assert '<file path="src/app.py">' in text
        assert "print('app')" in text


async def test_arrows_and_enter_pick_and_a_click_picks(
    server: FakeOpenAIServer, tmp_path: Path, project: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await typed(pilot, "@py")
        await wait_for(pilot, lambda: len(offered(app)) == 2)
        second = offered(app)[1]
        await pilot.press("down", "enter")  # Enter picks: nothing is sent
        tray = app.query_one(AttachmentTray)
        await wait_for(pilot, lambda: len(tray.attachments) == 1)
        assert tray.attachments[0].name == second
        assert prompt.text == ""
        assert server.requests == []

        await pilot.press("@", "r", "e", "a", "d")
        await wait_for(pilot, lambda: offered(app) == ["README.md"])
        files = app.query_one(FileList)
        await pilot.click(files, offset=(4, 1))  # the first option, inside the border
        await wait_for(pilot, lambda: len(tray.attachments) == 2)
        assert tray.attachments[1].name == "README.md"
        assert prompt.has_focus


async def test_an_at_that_is_not_a_file_stays_literal(
    server: FakeOpenAIServer, tmp_path: Path, project: Path
) -> None:
    server.enqueue(TextReply("Noted."))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await typed(pilot, "mail me@app.py")
        assert offered(app) == []  # inside a word: an e-mail address
        prompt.clear()
        await typed(pilot, "@ap")
        await wait_for(pilot, lambda: bool(offered(app)))
        await pilot.press("escape")  # closes the list; the `@` stays
        assert offered(app) == []
        assert prompt.text == "@ap"
        assert prompt.has_focus
        await pilot.press("p")
        assert offered(app) == []  # closed for this word while it is typed on
        await pilot.press("space", "h", "i")
        assert prompt.text == "@app hi"
        await pilot.press("enter")  # sent as typed, nothing attached
        await wait_for(pilot, lambda: server.last_request is not None)
        assert server.last_request.messages[-1]["content"] == "@app hi"
        assert not app.query_one(AttachmentTray).attachments

        await typed(pilot, "@nothing-matches-this")
        assert offered(app) == []
        await pilot.press("space")  # typing on: a handle, as typed
        assert prompt.text == "@nothing-matches-this "


async def test_hostile_file_names_are_offered_safely(
    server: FakeOpenAIServer, tmp_path: Path, project: Path
) -> None:
    name = hostile("LISTED").replace("/", "_")  # a file's name cannot hold "/"
    try:
        (project / name).write_text("x\n")
    except OSError:
        pytest.skip("this file system refuses the name")
    app = app_for(server, tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await typed(pilot, "@LISTED")
        await wait_for(pilot, lambda: "LISTED" in screen_text(app, app.query_one(FileList)))
        written = terminal_output(app)
        for what, raw in RAW.items():
            assert raw not in written, f"a raw {what} reached the terminal"
        assert "␛]52;c;" in screen_text(app)
