"""The command palette (ctrl+p) runs every registered command, each with the effect it names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.command import Command, CommandInput, CommandList, CommandPalette
from textual.widgets import TextArea

from chat_tui.client import ChatClient
from chat_tui.clipboard_read import IMAGE_VARIABLE
from chat_tui.commands import EFFORT_COMMANDS, every_command
from chat_tui.config_file import ConfigFile, load_config
from chat_tui.discovery import Discovery
from chat_tui.reply_state import ReplyState
from chat_tui.settings import Settings
from chat_tui.store import Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.conversations import ConversationsScreen, TextPrompt
from chat_tui.tui.screens.help import HelpScreen
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.reply_body import MarkdownChunk
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript
from tests.openai_server import TextReply
from tests.test_app import FAST_RETRY, SIZE, wait_for
from tests.test_clipboard_read import program, writes_png
from tests.test_reuse import app_for, clipboard_command, notices

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

CODE_REPLY = "Here:\n\n```python\nprint('hi')\n```\n"


async def run(pilot: Pilot[None], title: str, effect: Callable[[], bool]) -> None:
    """Run `title` from the palette, searched for in full, and wait for its effect."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    palette = app.screen
    palette.query_one(CommandInput).value = title  # one search, not one per letter typed

    def on_top() -> bool:
        option = palette.query_one(CommandList).highlighted_option
        return isinstance(option, Command) and option.hit.text == title

    await wait_for(pilot, on_top)
    await pilot.press("enter")
    await wait_for(pilot, effect)


def told(app: ChatApp, text: str) -> Callable[[], bool]:
    return lambda: any(text in notice for notice in notices(app))


# Every command, each through the palette: the longest test, given room on a busy machine.
@pytest.mark.timeout(300)
async def test_the_palette_runs_every_command(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # exports are written here
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.work]\nendpoint = "{server.base_url}"\nmodel = "fake-model"\n')
    seed = Store(tmp_path / "chats.db")  # a long conversation, drawn in part when opened
    long_one = seed.create_conversation("Long", "")
    for n in range(MAX_DRAWN + 10):
        seed.add_message(long_one, "user" if n % 2 == 0 else "assistant", f"m{n}", "complete")
    seed.close()
    app = app_for(server, tmp_path, config=load_config(config), open_conversation=long_one)
    done: set[str] = set()

    async def check(call: str, title: str, effect: Callable[[], bool]) -> None:
        await run(pilot, title, effect)
        done.add(call)

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        chat_screen = app.chat
        transcript = app.query_one(Transcript)
        await wait_for(pilot, lambda: transcript.earlier > 0)
        await check("show_earlier", "Show earlier messages", lambda: transcript.earlier == 0)
        await check("clear", "Clear conversation", lambda: not chat_screen.conversation.messages)

        server.enqueue(TextReply(["tok "] * 5000, delay=0.02))
        await pilot.press(*"talk", "enter")
        await wait_for(pilot, lambda: chat_screen.is_streaming)
        await check("stop", "Stop reply", lambda: not chat_screen.is_streaming)
        requests = len(server.requests)
        server.enqueue(TextReply(CODE_REPLY))
        await check("retry", "Retry", lambda: len(server.requests) == requests + 1)
        await wait_for(pilot, lambda: not chat_screen.is_streaming)

        await check("copy_last_reply", "Copy last reply", told(app, "Copied the last reply"))
        await check("copy_last_code", "Copy code from last reply", told(app, "Copied code block"))
        app.query(MarkdownChunk).last().text_select_all()  # as a drag over the reply would
        await check("copy_selection", "Copy selected text", told(app, "Copied the selected text"))
        await check("export('md')", "Export as Markdown", told(app, "Exported to"))
        await check("export('json')", "Export as JSON", told(app, "Exported to"))
        exported = {p.suffix for p in tmp_path.glob("chat-*")}  # noqa: ASYNC240
        assert exported == {".md", ".json"}

        sidebar = app.query_one(SettingsPanel)
        shown = sidebar.display
        await check("toggle_sidebar", "Toggle settings sidebar", lambda: sidebar.display != shown)
        system_prompt = app.query_one("#system-prompt", TextArea)
        await check("edit_system_prompt", "Edit system prompt", lambda: system_prompt.has_focus)
        await check("focus_transcript", "Go to messages", lambda: transcript.has_focus)
        prompt = app.query_one(PromptInput)
        await check("focus_prompt", "Focus prompt", lambda: prompt.has_focus)
        monkeypatch.setenv("VISUAL", "true")  # any editor: a headless app cannot hand over
        await check(
            "edit_in_editor",
            "Write the message in your editor",
            told(app, "cannot take over the terminal"),
        )

        await check("test_connection", "Test connection", told(app, "Connected"))
        for command in EFFORT_COMMANDS:
            effort = command.args[0] or None
            await check(
                command.call,
                command.title,
                lambda effort=effort: chat_screen.settings.reasoning_effort == effort,
            )
        # From the last effort round again to the model's default.
        await check(
            "cycle_effort",
            "Next reasoning effort",
            lambda: chat_screen.settings.reasoning_effort is None,
        )
        await check("save_settings", "Save settings", told(app, "without the API key"))
        saved = len([n for n in notices(app) if "Saved profile" in n])
        await check(
            "save_settings(True)",
            "Save settings with the API key",
            lambda: len([n for n in notices(app) if "Saved profile" in n]) == saved + 1,
        )
        await check("use_profile('work')", "Use profile work", told(app, "Using profile work"))
        await check("save_diagnostics", "Save diagnostics", told(app, "(no keys or tokens)"))
        await check("drop_oldest", "Drop oldest exchange", told(app, "out of the conversation"))
        await check("restore", "Restore taken-out messages", told(app, "Brought back"))
        # Two exchanges so far: the latest two always go as they are (test_compaction_app.py
        # compacts longer ones).
        await check("compact", "Compact conversation", told(app, "Too short to compact"))
        await check(
            "toggle_summarised",
            "Show or fold summarised messages",
            told(app, "Nothing in this conversation is summarised"),
        )
        # The retry above made a branch beside the stopped reply.
        conversation = chat_screen.conversation
        await check(
            "previous_branch",
            "Previous branch",
            lambda: conversation.shown[-1].state is ReplyState.STOPPED,
        )
        await check(
            "next_branch", "Next branch", lambda: conversation.shown[-1].content == CODE_REPLY
        )
        await check("fork", "Fork from here", lambda: chat_screen.conversation is not conversation)
        image_reader = program(tmp_path / "own", "grab-image", writes_png())
        monkeypatch.setenv(IMAGE_VARIABLE, str(image_reader))
        await check(
            "paste_image",
            "Paste an image from the clipboard",
            lambda: bool(app.query_one(AttachmentTray).attachments),
        )

        for call, title, screen in [
            ("help", "Help", HelpScreen),
            ("conversations", "Conversations", ConversationsScreen),
            ("import", "Import a conversation", TextPrompt),
            ("attach", "Attach a file or image", TextPrompt),
        ]:
            await check(call, title, lambda screen=screen: isinstance(app.screen, screen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is chat_screen)

    # Offered only on a first run that found a local server: nothing configured, one found.
    app = ChatApp(
        Settings(),
        client=ChatClient(retry=FAST_RETRY),
        config=ConfigFile(tmp_path / "other.toml"),
        discovery=Discovery({server.port: "Ollama"}, timeout=5),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.chat.found is not None)
        await run(
            pilot,
            "Use the local server found",
            lambda: app.chat.settings.endpoint == server.base_url,
        )
        done.add("use_local_server")

    # Every registered command was run here: a new one fails this test until it is added.
    assert done == {command.call for command in every_command(["work"])}
