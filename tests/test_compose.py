"""Composing: commands typed in the message box (/model, /effort…), with their completion list,
and the message written in the user's editor (ctrl+g) where the app cannot hand over the
terminal (the round trip in a real terminal is in test_terminal.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from chat_tui import editor, slash
from chat_tui.config_file import load_config
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.chat import ChatScreen
from chat_tui.tui.screens.help import HelpScreen
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.slash_list import SlashList
from tests.conftest import screen_text
from tests.openai_server import TextReply
from tests.test_app import SIZE, chat, wait_for
from tests.test_hostile import assert_shown_safely, hostile, toast_shown
from tests.test_reuse import app_for, clipboard_command, notices

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

TWO_BLOCKS = "One:\n\n```sh\necho one\n```\n\nTwo:\n\n```python\nprint(2)\n```\n"


async def type_in(pilot: Pilot[None], text: str) -> PromptInput:
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    prompt.insert(text)
    await pilot.pause()
    return prompt


async def give(pilot: Pilot[None], text: str) -> PromptInput:
    """Type `text` in the box and press Enter."""
    prompt = await type_in(pilot, text)
    await pilot.press("enter")
    await pilot.pause()
    return prompt


def shown(app: ChatApp) -> list[str]:
    """The words of the commands the list shows, if it is shown."""
    commands = app.query_one(SlashList)
    if not commands.display:
        return []
    return [str(commands.get_option_at_index(i).id) for i in range(commands.option_count)]


def told(app: ChatApp, text: str) -> bool:
    return any(text in notice for notice in notices(app))


# -- the parser, without the app ----------------------------------------------------------------


PARSED: list[tuple[str, str, tuple[object, ...]]] = [
    ("/model gpt-4o", "set_model", ("gpt-4o",)),
    ("/effort", "cycle_effort", ()),
    ("/effort HIGH", "set_effort", ("high",)),
    ("/effort default", "set_effort", ("",)),
    ("/system Be brief.\nAlways.", "set_system_prompt", ("Be brief.\nAlways.",)),
    ("/system", "edit_system_prompt", ()),
    ("/clear", "clear", ()),
    ("/retry", "retry", ()),
    ("/copy", "copy_last_reply", ()),
    ("/copy 2", "copy_code_block", (2,)),
    ("/export", "export", ("md",)),
    ("/export json", "export", ("json",)),
    ("/profile work", "use_profile", ("work",)),
    ("/attach notes.txt", "attach", ("notes.txt",)),
    ("/attach", "attach", ()),
    ("/help", "help", ()),
]


@pytest.mark.parametrize(("text", "action", "args"), PARSED)
def test_each_command_parses_to_an_action(text: str, action: str, args: tuple[object]) -> None:
    assert slash.parse(text, ["work"]) == slash.Call(action, args)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("/model", "needs a model"),
        ("/model a b", "takes one word"),
        ("/effort loud", "is not a reasoning effort"),
        ("/copy 0", "the number of a code block"),
        ("/copy two", "the number of a code block"),
        ("/export pdf", "md or json"),
        ("/profile home", "There is no profile 'home'. Profiles: work."),
        ("/clear now", "takes nothing after it"),
        ("/foo bar", "/foo is not a command; /help lists them; //foo sends '/foo' as a message"),
    ],
)
def test_a_bad_command_is_explained(text: str, said: str) -> None:
    with pytest.raises(slash.SlashError) as raised:
        slash.parse(text, ["work"])
    assert said in str(raised.value)


def test_every_command_runs_an_action_of_the_chat_or_the_app() -> None:
    for entry in slash.SLASHES:
        assert entry.usage.startswith(f"/{entry.word}")
    for text, *_ in PARSED:
        call = slash.parse(text, ["work"])
        owner = ChatScreen if hasattr(ChatScreen, f"action_{call.action}") else ChatApp
        assert hasattr(owner, f"action_{call.action}"), call


# -- completion -----------------------------------------------------------------------------


async def test_completion_shows_filters_moves_completes_and_closes(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await type_in(pilot, "/")
        assert shown(app) == [s.word for s in slash.SLASHES]
        text = screen_text(app)
        assert "/effort [LEVEL]    Reasoning effort" in text  # brackets are not markup here
        await pilot.press("e")
        assert shown(app) == ["effort", "export"]
        await pilot.press("down")
        assert app.query_one(SlashList).highlighted == 1
        await pilot.press("down")  # round again to the first
        assert app.query_one(SlashList).highlighted == 0
        await pilot.press("up")
        await pilot.press("tab")
        assert prompt.text == "/export "
        assert prompt.has_focus
        assert shown(app) == []  # an argument is being typed now

        prompt.clear()
        await type_in(pilot, "/he")
        assert shown(app) == ["help"]
        await pilot.press("escape")
        assert shown(app) == []
        assert prompt.text == "/he"  # Esc closed the list only
        assert prompt.has_focus
        await pilot.press("l")
        assert shown(app) == []  # closed until the box holds no command
        prompt.clear()
        await type_in(pilot, "/x")
        assert shown(app) == []  # nothing matches
        await pilot.press("backspace")
        assert shown(app) == [s.word for s in slash.SLASHES]


async def test_enter_on_a_word_not_yet_complete_completes_it(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await give(pilot, "/hel")
        assert prompt.text == "/help "
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert prompt.text == ""


async def test_up_and_down_walk_the_history_when_no_list_is_shown(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        server.enqueue(TextReply("Hi."))
        await chat(pilot, "hello")
        await give(pilot, "/effort high")
        prompt = app.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "/effort high"  # the history keeps commands
        await pilot.press("up")
        assert prompt.text == "hello"  # a recalled command shows no list to move in
        assert shown(app) == []


# -- what each command does -----------------------------------------------------------------


async def test_model_effort_and_system_apply_to_the_next_request(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await give(pilot, "/model o3-mini")
        assert app.chat.settings.model == "o3-mini"
        assert told(app, "Model: o3-mini, from the next message.")
        await give(pilot, "/effort high")
        assert app.chat.settings.reasoning_effort == "high"
        prompt = await give(pilot, "/system Answer in one word.\nAlways.")
        assert prompt.text == ""
        assert app.chat.conversation.messages == []  # commands are not part of the chat
        server.enqueue(TextReply("Yes.", model="o3-mini"))
        await chat(pilot, "ok?")
        body = server.last_request.body or {}
        assert body["model"] == "o3-mini"
        assert body["reasoning_effort"] == "high"
        assert body["messages"][0]["content"] == "Answer in one word.\nAlways."
        assert body["messages"][-1] == {"role": "user", "content": "ok?"}
        assert len(server.requests) == 1
        await give(pilot, "/effort")  # alone: the next effort
        assert app.chat.settings.reasoning_effort is None  # after high, round to the default


async def test_system_alone_goes_to_the_field(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await give(pilot, "/system")
        await wait_for(pilot, lambda: app.focused is app.query_one("#system-prompt"))


async def test_clear_retry_copy_export_profile_help(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.work]\nendpoint = "{server.base_url}"\nmodel = "work-model"\n')
    app = app_for(server, tmp_path, config=load_config(config))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server.enqueue(TextReply(TWO_BLOCKS))
        await chat(pilot, "two snippets")
        server.enqueue(TextReply(TWO_BLOCKS))
        await give(pilot, "/retry")
        await wait_for(pilot, lambda: len(server.requests) == 2)
        await wait_for(pilot, lambda: not app.chat.is_streaming)

        await give(pilot, "/copy 2")
        await wait_for(pilot, lambda: copied.exists() and copied.read_text() == "print(2)\n")
        await give(pilot, "/copy 3")
        assert told(app, "The last reply has 2 code blocks: there is no block 3.")
        await give(pilot, "/copy")
        await wait_for(pilot, lambda: copied.read_text() == TWO_BLOCKS)

        await give(pilot, "/export json")
        await wait_for(pilot, lambda: told(app, "Exported to"))
        [exported] = tmp_path.glob("chat-*.json")  # noqa: ASYNC240
        assert json.loads(exported.read_text())["messages"][-1]["content"] == TWO_BLOCKS

        await give(pilot, "/profile work")
        await wait_for(pilot, lambda: app.chat.settings.model == "work-model")

        await give(pilot, "/clear")
        await wait_for(pilot, lambda: app.chat.conversation.messages == [])

        await give(pilot, "/help")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_text = str(app.screen.query_one("#help-keys").render())
        assert help_text  # the table is there; its rows are checked below
    rows = dict(app.key_help())
    for entry in slash.SLASHES:
        assert rows[entry.usage] == entry.help


async def test_attach_puts_the_file_above_the_box(server: FakeOpenAIServer, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("alpha\n")
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = await give(pilot, f"/attach {notes}")
        tray = app.query_one(AttachmentTray)
        await wait_for(pilot, lambda: len(tray.attachments) == 1)
        assert tray.attachments[0].text == "alpha\n"
        assert prompt.text == ""  # a command, not a message


async def test_an_unknown_command_is_explained_and_stays(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = await give(pilot, "/foo bar")
        assert told(app, "/foo is not a command; /help lists them; //foo sends '/foo'")
        assert prompt.text == "/foo bar"
        assert server.requests == []
        await give(pilot, " x")  # a bad argument: explained, and kept to be put right
        assert prompt.text == "/foo bar x"


async def test_two_slashes_send_a_message_that_starts_with_one(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        server.enqueue(TextReply("A path."))
        await chat(pilot, "//usr/bin is what?")
        body = server.last_request.body or {}
        assert body["messages"][-1] == {"role": "user", "content": "/usr/bin is what?"}
        assert app.chat.conversation.messages[0].content == "/usr/bin is what?"


async def test_a_command_runs_while_a_reply_streams(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server.enqueue(TextReply(["tok "] * 400, delay=0.02))
        await give(pilot, "hello")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        await give(pilot, "/model other-model")
        assert app.chat.settings.model == "other-model"
        assert app.chat.queued == ""  # run, not queued as a message
        prompt = await give(pilot, "/retry")
        assert told(app, "/retry cannot run now: a reply is on its way.")
        assert prompt.text == "/retry"


async def test_hostile_arguments_are_shown_safely(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await give(pilot, f"/effort {hostile('EFFORT')}")
        await toast_shown(pilot, "EFFORT")
        assert_shown_safely(app, "EFFORT")


# -- the editor, where the terminal cannot be handed over -------------------------------------


async def test_the_editor_where_the_app_cannot_hand_over_the_terminal(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", "true")
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = await type_in(pilot, "my draft")
        await pilot.press("ctrl+g")
        assert told(app, "An editor cannot take over the terminal here")
        assert prompt.text == "my draft"


async def test_no_editor_is_told_and_the_draft_stays(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setattr(editor.shutil, "which", lambda _name: None)
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = await type_in(pilot, "my draft")
        await pilot.press("ctrl+g")
        assert told(app, "No editor found: set $VISUAL or $EDITOR")
        assert prompt.text == "my draft"


def test_the_editor_command() -> None:
    def none(_name: str) -> None:
        return None

    assert editor.editor_command({"VISUAL": "code -w", "EDITOR": "vim"}, none) == ["code", "-w"]
    assert editor.editor_command({"EDITOR": "'my editor' -f"}, none) == ["my editor", "-f"]
    assert editor.editor_command({}, lambda name: f"/bin/{name}") == ["/bin/vi"]
    assert editor.editor_command({"EDITOR": "  "}, none) is None


def test_a_failing_or_missing_editor_leaves_no_text_and_no_file(tmp_path: Path) -> None:
    failed = editor.edit("draft", ["false"])
    assert failed.text is None
    assert "ended with status 1" in failed.problem
    missing = editor.edit("draft", [str(tmp_path / "no-such-editor")])
    assert missing.text is None
    assert "could not be started" in missing.problem


def test_the_editors_added_newline_is_removed() -> None:
    assert editor.without_added_newline("a\nb\n") == "a\nb"
    assert editor.without_added_newline("a\r\n") == "a"
    assert editor.without_added_newline("a\n\n") == "a\n"
    assert editor.without_added_newline("a") == "a"
