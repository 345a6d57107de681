"""A hostile corpus through every way text enters the app; none of it reaches the terminal raw.

Each test pushes strings that would write the clipboard (OSC 52), set the window title (OSC 0),
move the cursor, click an action through markup, or reverse text (U+202E) through one entry
point (a server's error body, model list and chunks, the environment, a profile name, a saved
conversation, a reply that is copied), then renders the screen exactly as it would be written to
the terminal and checks that none of it arrived as it was sent, but that it is there, shown.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input, Select, Static, TextArea

from chat_tui.client import ChatClient
from chat_tui.config_file import ConfigFile, load_config
from chat_tui.discovery import Discovery
from chat_tui.settings import Settings
from chat_tui.settings_sources import Flags, load_settings
from chat_tui.store import AsyncStore, Store
from chat_tui.text import for_clipboard
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.chat import ChatScreen
from chat_tui.tui.screens.conversations import ConversationsScreen, TextPrompt
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.reply_body import ReplyBody
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, wait_for
from tests.test_persistence import open_list
from tests.test_reuse import clipboard_command, terminal_clipboard_writes

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

OSC52 = "\x1b]52;c;SE9TVElMRQ==\x07"  # writes "HOSTILE" to the clipboard
TITLE = "\x1b]0;PWNED\x07"  # sets the window title
CURSOR = "\x1b[3A"  # three lines up: paints over what is above
MARKUP = "[bold]B[/] [@click=app.quit]Q[/]"
RLO = "\u202e"  # right-to-left override
PASTE_END = "\x1b[201~"  # ends a bracketed paste early: what follows runs in the shell

# What a terminal would act on, if any of it arrived raw.
RAW = {
    "clipboard write": "\x1b]52;c;",
    "title change": "\x1b]0;PWNED",
    "cursor movement": "Z\x1b[3AZ",
    "bidi override": RLO,
    "bracketed paste end": PASTE_END,
}


def hostile(tag: str) -> str:
    # Spaces between the parts: a narrow toast wraps there, and each part stays whole on screen.
    return f"{tag} {OSC52} {TITLE} Z{CURSOR}Z {MARKUP} {RLO}{PASTE_END}end"


# How each part looks when shown for what it is.
SHOWN = (
    "␛]52;c;SE9TVElMRQ==␇",
    "␛]0;PWNED␇",
    "Z␛[3AZ",
    "[bold]B[/]",
    "[@click=app.quit]Q[/]",
    "‹U+202E›␛[201~end",
)


def terminal_output(app: ChatApp) -> str:
    """Exactly what a full repaint of the screen writes to the terminal."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def assert_shown_safely(app: ChatApp, tag: str) -> None:
    written = terminal_output(app)
    for what, raw in RAW.items():
        assert raw not in written, f"a raw {what} reached the terminal"
    shown = screen_text(app)
    assert tag in shown, f"{tag} is not on screen: the test proved nothing"
    for part in SHOWN:  # the escape as a symbol, the markup as text, the override named
        assert part in shown, f"{part!r} is not on screen"


def app_for(server: FakeOpenAIServer, tmp_path: Path, **kwargs: object) -> ChatApp:
    kwargs.setdefault("config", ConfigFile(tmp_path / "config.toml"))
    kwargs.setdefault("store", AsyncStore(lambda: Store(tmp_path / "chats.db")))
    return ChatApp(
        compatible_settings(server),
        client=ChatClient(retry=FAST_RETRY),
        **kwargs,  # type: ignore[arg-type]
    )


async def toast_shown(pilot: Pilot[None], tag: str) -> None:
    await wait_for(pilot, lambda: any(tag in n.message for n in pilot.app._notifications))
    await pilot.pause()


# -- from a server ----------------------------------------------------------------------------


async def test_a_servers_error_body_in_the_test_connection_result(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server.enqueue(ErrorReply(401, {"error": {"message": hostile("BODY")}}))
        await pilot.press("ctrl+t")
        await toast_shown(pilot, "BODY")
        assert_shown_safely(app, "BODY")


async def test_a_model_picked_from_the_servers_list(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.models = [hostile("LISTED")]
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")  # a test that passes offers the server's models
        models = app.query_one("#model-list", Select)
        await wait_for(pilot, lambda: models.display)
        models.value = hostile("LISTED")
        field = app.query_one("#model", Input)
        await wait_for(pilot, lambda: "LISTED" in field.value)
        assert "\x1b" not in field.value
        assert_shown_safely(app, "LISTED")


async def test_the_model_ids_of_a_server_found_at_start(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "models", [hostile("FOUND"), "fake-model"])
    # Nothing configured: the app looks for a local server, and finds this one.
    app = ChatApp(
        Settings(),
        client=ChatClient(retry=FAST_RETRY),
        config=ConfigFile(tmp_path / "config.toml"),
        discovery=Discovery({server.port: "Ollama"}, timeout=5),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "FOUND" in screen_text(app))
        assert_shown_safely(app, "FOUND")
        await pilot.press("f8")
        assert app.chat.settings.model == "fake-model"  # the hostile id is no model to use


async def test_a_model_name_in_the_reply_chunks(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        server.enqueue(TextReply("Fine.", model=hostile("CHUNKED")))
        await chat(pilot, "hello")
        assert_shown_safely(app, "CHUNKED")


async def test_a_queued_message_is_shown_safely(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        server.enqueue(TextReply(["tok "] * 3000, delay=0.02))
        await chat_started(pilot)
        app.query_one(PromptInput).insert(hostile("QUEUED"))  # as a paste would bring it
        await pilot.press("enter")
        await wait_for(pilot, lambda: "⧗ queued: QUEUED" in screen_text(app))
        assert_shown_safely(app, "QUEUED")
        await pilot.press("escape", "escape")


async def chat_started(pilot: Pilot[None]) -> None:
    app: ChatApp = pilot.app  # type: ignore[assignment]
    await pilot.press(*"go", "enter")
    await wait_for(pilot, lambda: app.chat.is_streaming)


async def test_a_value_in_use_named_under_a_field_being_edited(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # A model name from the environment or a profile, quoted as "still using …".
    app = ChatApp(compatible_settings(server, model=hostile("NOTED")), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#model", Input)
        field.focus()
        await pilot.press("end", "x")  # spaces in it: not applied, and the note says why
        note = app.query_one("#model-note", Static)
        await wait_for(pilot, lambda: note.display)
        await pilot.pause()
        shown = " ".join(str(note.render()).split())
        assert "still using NOTED" in shown
        for part in SHOWN:
            assert part in shown, f"{part!r} is not in the note"
        assert_shown_safely(app, "NOTED")


async def test_text_pasted_into_the_compact_at_field_is_quoted_safely(
    server: FakeOpenAIServer,
) -> None:
    # Not a percent: the note quotes it back, as a Python literal (escapes spelt out).
    app = ChatApp(compatible_settings(server), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#compact_at", Input)
        field.focus()
        field.value = hostile("PCT")  # as a paste puts it
        note = app.query_one("#compact_at-note", Static)
        await wait_for(pilot, lambda: note.display)
        await pilot.pause()
        shown = " ".join(str(note.render()).split())
        assert "Compact at is a percent" in shown
        assert "PCT" in shown
        assert "[bold]B[/]" in shown  # markup as text
        assert app.chat.settings.compact_at == 0
        written = terminal_output(app)
        for what, raw in RAW.items():
            assert raw not in written, f"a raw {what} reached the terminal"


# -- from the environment, the config file and flags ------------------------------------------


@pytest.mark.parametrize("source", ["environment", "flag"])
async def test_a_system_prompt_from_the_environment_or_a_flag(
    server: FakeOpenAIServer, tmp_path: Path, source: str
) -> None:
    config = ConfigFile(tmp_path / "config.toml")
    environ = {"OPENAI_BASE_URL": server.base_url, "OPENAI_MODEL": "fake-model"}
    flags = Flags()
    if source == "environment":
        environ["AZURE_OPENAI_SYSTEM_PROMPT"] = hostile("PROMPTED")
    else:
        flags = Flags(system_prompt=hostile("PROMPTED"))
    resolved = load_settings(flags, config, cwd=tmp_path, environ=environ)
    app = ChatApp(resolved, config=config, client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        area = app.query_one("#system-prompt", TextArea)
        await wait_for(pilot, lambda: "PROMPTED" in area.text)
        assert "\x1b" not in area.text
        assert_shown_safely(app, "PROMPTED")


async def test_a_profile_name_in_the_palette_and_its_toast(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    name = hostile("PROFILED")
    path = tmp_path / "config.toml"
    path.write_text(  # JSON's string escapes are TOML's
        f'[profiles.{json.dumps(name)}]\nendpoint = "{server.base_url}"\nmodel = "fake-model"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert list(config.profiles) == [name]
    resolved = load_settings(Flags(), config, cwd=tmp_path, environ={})
    app = ChatApp(resolved, config=config, client=ChatClient())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+p", *"PROFILED")
        await wait_for(pilot, lambda: "PROFILED" in screen_text(app))
        await pilot.pause(0.2)
        assert_shown_safely(app, "PROFILED")
        await pilot.press("enter")
        await toast_shown(pilot, "PROFILED")
        assert app.is_running  # the markup's click on app.quit did nothing
        assert_shown_safely(app, "PROFILED")


async def test_a_profile_name_in_a_fields_tooltip(server: FakeOpenAIServer, tmp_path: Path) -> None:
    name = hostile("SOURCED")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[profiles.{json.dumps(name)}]\nendpoint = "{server.base_url}"\nmodel = "fake-model"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    resolved = load_settings(Flags(profile=name), config, cwd=tmp_path, environ={})
    assert "SOURCED" in resolved.sources["endpoint"]
    app = ChatApp(resolved, config=config, client=ChatClient())
    async with app.run_test(size=SIZE, tooltips=True) as pilot:
        await pilot.hover("#endpoint")
        tooltip = app.screen.query_one("#textual-tooltip", Static)
        await wait_for(pilot, lambda: tooltip.display and tooltip.region.width > 0)
        shown = str(tooltip.visual)
        assert "SOURCED" in shown
        for part in SHOWN:  # not read as markup (which would drop [bold] or fail on [/])
            assert part in shown, f"{part!r} is not in the tooltip"
        assert_shown_safely(app, "SOURCED")


# -- from saved and imported conversations ----------------------------------------------------


def seeded_store(tmp_path: Path) -> Path:
    """A conversation as an imported file could leave it: every text of it hostile."""
    path = tmp_path / "chats.db"
    seed = Store(path)
    cid = seed.create_conversation(hostile("TITLED"), hostile("SYSTEM"))
    seed.add_message(cid, "user", hostile("ASKED"), "complete")
    seed.add_message(cid, "assistant", hostile("ANSWERED"), "complete")
    seed.close()
    return path


async def test_a_saved_conversations_prompts_come_back_safely(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = seeded_store(tmp_path)
    app = app_for(server, tmp_path, store=AsyncStore(lambda: Store(path)))
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await wait_for(pilot, lambda: len(prompt.prompts) > 0)
        await pilot.press("up")  # the history, seeded from the store
        await wait_for(pilot, lambda: "ASKED" in prompt.text)
        assert "\x1b" not in prompt.text
        assert_shown_safely(app, "ASKED")


async def test_a_saved_conversation_opened_edited_and_renamed(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = seeded_store(tmp_path)
    app = app_for(server, tmp_path, store=AsyncStore(lambda: Store(path)))
    async with app.run_test(size=SIZE) as pilot:
        options = await open_list(pilot)
        await wait_for(pilot, lambda: options.option_count == 1)
        assert_shown_safely(app, "TITLED")
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
        assert "\x1b" not in app.screen.query_one(Input).value
        assert_shown_safely(app, "TITLED")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "ANSWERED" in screen_text(app))
        assert_shown_safely(app, "ANSWERED")
        assert_shown_safely(app, "SYSTEM")  # in the sidebar's system prompt
        await pilot.press("shift+tab", "up", "e")  # edit the user's message
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: "ASKED" in prompt.text)
        assert "\x1b" not in prompt.text
        assert_shown_safely(app, "ASKED")


# -- to the clipboard -------------------------------------------------------------------------


async def test_a_copied_reply_carries_no_control_characters(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server.enqueue(TextReply(f"run: ls{PASTE_END}rm -rf ~\n{OSC52}{RLO}done\r\n\tok"))
        await chat(pilot, "hello")
        await pilot.press("shift+tab", "c")
        await wait_for(pilot, lambda: copied.exists())
        expected = "run: ls[201~rm -rf ~\n]52;c;SE9TVElMRQ==done\n\tok"
        assert app.clipboard == expected  # what the terminal's clipboard escape carries
        assert copied.read_text(encoding="utf-8") == expected  # and the clipboard program


async def test_a_hostile_reply_selected_with_the_mouse_is_copied_clean(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    writes = terminal_clipboard_writes(monkeypatch)
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server.enqueue(TextReply(hostile("SELECTED")))
        await chat(pilot, "hello")
        app.query_one(ReplyBody).text_select_all()  # as a drag over the whole reply would
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: copied.exists())
        text = copied.read_text(encoding="utf-8")
        assert "SELECTED" in text  # as it reads on screen: the escape shown as ␛, and so on
        assert for_clipboard(text) == text
        for what, raw in RAW.items():
            assert raw not in text, f"a raw {what} reached the clipboard"
        assert writes == [text]  # the terminal's clipboard escape carries the same
        await toast_shown(pilot, "Copied the selected text")
        assert_shown_safely(app, "SELECTED")


async def test_control_characters_in_a_selection_never_reach_the_clipboard(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every widget draws text made visible; should one ever hand its selection over raw, the
    # copy still cleans it.
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    writes = terminal_clipboard_writes(monkeypatch)
    raw = hostile("GRABBED")
    monkeypatch.setattr(ChatScreen, "get_selected_text", lambda self: raw)
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: copied.exists())
        assert copied.read_text(encoding="utf-8") == for_clipboard(raw)
        assert writes == [for_clipboard(raw)]
        assert "\x1b" not in for_clipboard(raw)
        assert RLO not in for_clipboard(raw)
        assert "GRABBED" in for_clipboard(raw)


async def test_a_copied_reply_in_the_fallback_file_carries_none_either(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", f'"{sys.executable}" -c "raise SystemExit(1)"')
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        server.enqueue(TextReply(f"ls{PASTE_END}whoami"))
        await chat(pilot, "hello")
        await pilot.press("shift+tab", "c")
        fallback = tmp_path / "clipboard.txt"
        await wait_for(pilot, lambda: fallback.exists())
        assert fallback.read_text(encoding="utf-8") == "ls[201~whoami"


# -- every toast ------------------------------------------------------------------------------


async def test_no_toast_reads_markup_or_writes_escapes(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # As any caller might, even one that forgot: markup asked for, and a hostile title.
        app.notify(hostile("TOASTED"), title=hostile("TITLE"), markup=True)
        app.query_one(PromptInput).notify(hostile("WIDGET"), markup=True)
        await toast_shown(pilot, "WIDGET")
        assert_shown_safely(app, "TOASTED")
        assert_shown_safely(app, "WIDGET")
        app.sub_title = hostile("SUBTITLED")
        await pilot.pause()
        assert_shown_safely(app, "SUBTITLED")
