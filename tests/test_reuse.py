"""Reading and reusing replies: stats, moving between messages, copy, edit and resend, input
history and themes; through Pilot, against the local server over real HTTP."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from textual.app import App
from textual.geometry import Offset
from textual.widgets import Input

from chat_tui.client import ChatClient
from chat_tui.config_file import ConfigFile, load_config
from chat_tui.conversation import Role
from chat_tui.store import AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.code_picker import CodePicker
from chat_tui.tui.widgets.messages import UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.reply_body import MarkdownChunk
from chat_tui.tui.widgets.status_bar import StatusBar
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import TextReply
from tests.test_app import (
    FAST_RETRY,
    SIZE,
    chat,
    choose_in_palette,
    replies,
    run_from_palette,
    wait_for,
)
from tests.test_faults import words

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from textual.pilot import Pilot
    from textual.widget import Widget

    from tests.openai_server import FakeOpenAIServer

USAGE = {"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25}
TWO_BLOCKS = (
    "First:\n\n```python\nprint('one')\n```\n\nThen:\n\n```bash\necho two\necho three\n```\n"
)


def app_for(server: FakeOpenAIServer, tmp_path: Path, **kwargs: object) -> ChatApp:
    kwargs.setdefault("config", ConfigFile(tmp_path / "config.toml"))
    return ChatApp(
        compatible_settings(server, system_prompt="Be kind."),
        client=ChatClient(retry=FAST_RETRY),
        store=AsyncStore(lambda: Store(tmp_path / "chats.db")),
        **kwargs,  # type: ignore[arg-type]
    )


async def exchanges(pilot: Pilot[None], server: FakeOpenAIServer, *names: str) -> None:
    for name in names:
        server.enqueue(TextReply(f"Answer {name}."))
        await chat(pilot, f"Question {name}")


def footer(app: ChatApp) -> str:
    """The last reply as drawn, its lines folded into one."""
    return " ".join(screen_text(app, replies(app)[-1]).split())


def notices(app: ChatApp) -> list[str]:
    """The notifications' full texts (a toast on screen wraps them)."""
    return [notification.message for notification in app._notifications]


def selected_message(app: ChatApp) -> str:
    widget = app.query_one(Transcript).selected
    assert widget is not None
    assert widget.has_class("-selected")
    return widget.message.content  # type: ignore[attr-defined]


# -- per-reply stats and the running total ---------------------------------------------------


async def test_reply_footer_shows_model_speed_usage_and_ending(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(
        TextReply(
            ["one ", "two ", "three ", "four"],
            model="gpt-answering-2024",
            usage=USAGE,
            first_delay=0.3,
            delay=0.05,
        )
    )
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "Count to four")
        stats = replies(app)[-1].reply.stats
        assert stats is not None
        assert stats.model == "gpt-answering-2024"
        # Timed from the request, not from Enter: the SDK's first load is not the model's time.
        assert 0.3 <= stats.first_token < 1.0  # type: ignore[operator]
        # Four tokens, three 50 ms gaps at least after the first.
        assert stats.tokens_per_second is not None
        assert 1 < stats.tokens_per_second < 27
        shown = footer(app)
        assert "gpt-answering-2024 ·" in shown
        assert f"{stats.first_token:.2f} s to first token" in shown
        assert f"{stats.tokens_per_second:,.0f} tok/s" in shown
        assert "21 in → 4 out tokens · finished" in shown
        assert str(app.query_one(StatusBar).render()) == (
            "2 messages · 25 tokens used · context 25 tokens"
        )

        server.enqueue(TextReply("More.", usage={**USAGE, "prompt_tokens": 40}))
        await chat(pilot, "Again")
        assert "4 messages · 69 tokens used · context 44 tokens" in screen_text(app)

    # Kept with the conversation: a reopened chat shows the same footers.
    reopened = app_for(server, tmp_path, open_conversation=1)
    async with reopened.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(replies(reopened)) == 2)
        await pilot.pause()
        assert "40 in → 4 out tokens · finished" in footer(reopened)
        assert "69 tokens used" in screen_text(reopened)


async def test_a_stopped_reply_says_so_without_inventing_tokens(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply(["tok "] * 400, delay=0.02))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.insert("long one")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "tok tok" in replies(app)[-1].reply.content)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        await pilot.pause()
        stats = replies(app)[-1].reply.stats
        assert stats is not None
        assert stats.completion_tokens is None
        assert "fake-model ·" in footer(app)
        assert "tok/s" not in footer(app)  # no usage came: no rate is made up
        assert "· stopped" in footer(app)


# -- moving between messages ------------------------------------------------------------------


async def test_keys_move_between_messages(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await exchanges(pilot, server, "A", "B", "C")
        await pilot.press("shift+tab")  # from the message box up to the transcript
        assert app.focused is app.query_one(Transcript)
        assert selected_message(app) == "Answer C."
        await pilot.press("up")
        assert selected_message(app) == "Question C"
        await pilot.press("k", "k")
        assert selected_message(app) == "Question B"
        await pilot.press("home")
        assert selected_message(app) == "Question A"
        await pilot.press("up")  # the first stays selected
        assert selected_message(app) == "Question A"
        await pilot.press("j")
        assert selected_message(app) == "Answer A."
        await pilot.press("end")
        assert selected_message(app) == "Answer C."
        await pilot.press("escape")
        assert app.focused is app.query_one(PromptInput)


# -- copy ---------------------------------------------------------------------------------


def clipboard_command(target: Path) -> str:
    """A clipboard program of the user's choosing: this one writes what it gets to `target`."""
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())"
    return f'"{sys.executable}" -c "{script}" "{target}"'


async def test_copy_a_reply_and_one_of_its_code_blocks(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    server.enqueue(TextReply(TWO_BLOCKS))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "Two snippets please")
        await pilot.press("shift+tab", "c")
        await wait_for(pilot, lambda: "Copied the reply" in words(app))
        assert app.clipboard == TWO_BLOCKS  # what went out with the terminal escape
        assert copied.read_text() == TWO_BLOCKS  # and through the clipboard program
        assert "(OSC 52), python." in words(app)

        await pilot.press("b")  # two blocks: the user picks one
        await wait_for(pilot, lambda: isinstance(app.screen, CodePicker))
        assert "bash · 2 lines · echo two" in screen_text(app)
        await pilot.press("2")
        await wait_for(pilot, lambda: copied.read_text() == "echo two\necho three\n")
        assert app.clipboard == "echo two\necho three\n"
        await wait_for(pilot, lambda: "Copied code block 2 (bash)" in words(app))

        await pilot.press("up", "c")  # the user's own message
        await wait_for(pilot, lambda: copied.read_text() == "Two snippets please")


async def test_copy_falls_back_to_a_file_when_no_program_takes_it(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", f'"{sys.executable}" -c "raise SystemExit(1)"')
    server.enqueue(TextReply("Only text. ```\nx = 1\n```"))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "hi")
        await run_from_palette(pilot, "copy last reply", "Copy last reply")
        fallback = tmp_path / "clipboard.txt"
        await wait_for(pilot, lambda: fallback.exists())
        assert fallback.read_text() == "Only text. ```\nx = 1\n```"
        assert fallback.stat().st_mode & 0o777 == 0o600
        notice = f"If your terminal ignores OSC 52, it is also in {fallback}"
        await wait_for(pilot, lambda: any(notice in n for n in notices(app)))
        assert "(python: exit status 1)" in notices(app)[-1]


# -- copy what the mouse selected -------------------------------------------------------------


def terminal_clipboard_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text Textual's own clipboard writer (OSC 52) is given, from now on."""
    writes: list[str] = []
    original = App.copy_to_clipboard

    def spy(app: App[object], text: str) -> None:
        writes.append(text)
        original(app, text)

    monkeypatch.setattr(App, "copy_to_clipboard", spy)
    return writes


async def drag(pilot: Pilot[None], widget: Widget, start: Offset, end: Offset) -> None:
    """Press the mouse button at `start` in `widget`, move to `end` and let go there."""
    await pilot.mouse_down(widget, offset=start)
    await pilot.hover(widget, offset=end)
    await pilot.mouse_up(widget, offset=end)


REPLY = "Alpha **beta** gamma.\n\n- one\n- two\n\n```python\nprint('x')\n```\n"


async def test_text_selected_with_the_mouse_is_copied_the_apps_way(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    writes = terminal_clipboard_writes(monkeypatch)
    server.enqueue(TextReply(REPLY))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "Say hello there")
        body = app.query(MarkdownChunk).last()
        # Part of the reply as it reads on screen: from "beta" to the first item's "on".
        await drag(pilot, body, Offset(6, 0), Offset(4, 2))
        assert app.screen.get_selected_text() == "beta gamma.\n\n • on"
        prompt = app.query_one(PromptInput)
        assert app.focused is prompt  # a drag in the transcript leaves the typing where it was
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: copied.exists())
        assert copied.read_text() == "beta gamma.\n\n • on"  # through the clipboard program
        assert writes == ["beta gamma.\n\n • on"]  # the terminal's, with the same cleaned text
        assert app.clipboard == "beta gamma.\n\n • on"
        await wait_for(pilot, lambda: any("Copied the selected text" in n for n in notices(app)))
        assert (
            "the selected text (18 characters, 3 lines) via the terminal (OSC 52), python"
            in (notices(app)[-1])
        )

        # Your own message, the same way; what is typed next still goes into the message box.
        await drag(pilot, app.query_one(UserMessage), Offset(6, 1), Offset(10, 1))
        assert app.screen.get_selected_text() == "hello"
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: copied.read_text() == "hello")
        assert writes[-1] == "hello"
        await pilot.press(*"typed")
        assert prompt.text == "typed"


async def test_a_reply_can_be_selected_while_it_streams_and_after(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The reply body allows selection: the live tail as it streams, the settled chunks after.
    server.enqueue(TextReply(["tok "] * 5, stall_after=5))  # streaming, and holding still
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press(*"talk", "enter")
        await wait_for(pilot, lambda: "tok tok tok tok tok" in screen_text(app))
        live = app.query_one("#live", MarkdownChunk)
        assert live.allow_select
        await drag(pilot, live, Offset(0, 0), Offset(6, 0))
        assert app.screen.get_selected_text() == "tok tok"
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.clipboard == "tok tok")
        assert app.chat.is_streaming  # ctrl+c copies; it does not stop or quit
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        settled = app.query(MarkdownChunk).last()
        await drag(pilot, settled, Offset(4, 0), Offset(10, 0))
        assert app.screen.get_selected_text() == "tok tok"


async def test_ctrl_c_with_nothing_selected_says_how_to_select(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = terminal_clipboard_writes(monkeypatch)
    server.enqueue(TextReply("Some reply."))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "hi")
        await pilot.click(app.query(MarkdownChunk).last())  # a click clears any selection
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: any("Nothing is selected" in n for n in notices(app)))
        assert "drag the mouse over text to select it, then ctrl+c copies it" in notices(app)[-1]
        assert writes == []
        assert app.is_running


async def test_textuals_own_copies_go_the_apps_way_too(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ctrl+c on a selection in the message box or a sidebar field is the widget's own copy.
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    writes = terminal_clipboard_writes(monkeypatch)
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.insert("a draft to keep")
        prompt.select_all()
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: copied.exists())
        assert copied.read_text() == "a draft to keep"
        assert writes == ["a draft to keep"]
        await wait_for(pilot, lambda: any("Copied the selected text" in n for n in notices(app)))

        app.query_one("#model", Input).focus()  # which selects the field's text
        await pilot.pause()
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: copied.read_text() == "fake-model")
        assert writes[-1] == "fake-model"


# -- edit and resend -------------------------------------------------------------------------


async def test_edit_an_earlier_message_and_resend_from_there(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await exchanges(pilot, server, "A", "B", "C")
        prompt = app.query_one(PromptInput)
        prompt.insert("a draft")
        await pilot.press("shift+tab", "up", "up", "up")
        assert selected_message(app) == "Question B"
        await pilot.press("e")
        assert app.focused is prompt
        assert prompt.text == "Question B"
        assert prompt.has_class("-editing")
        assert "editing a message · esc cancels" in screen_text(app)
        await pilot.press("up")  # the arrows move in the text, not through the history
        assert prompt.text == "Question B"
        await pilot.press("escape")  # cancelled: the draft is back, nothing changed
        assert prompt.text == "a draft"
        assert len(app.chat.conversation) == 6

        await pilot.press("shift+tab", "end", "up", "up", "up", "enter")
        await pilot.press("backspace", *"B, edited")
        server.enqueue(TextReply("Answer to the edit."))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.chat.is_streaming and len(app.chat.conversation) == 4)
        await pilot.pause()

        assert server.last_request.body["messages"] == [  # type: ignore[index]
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Question A"},
            {"role": "assistant", "content": "Answer A."},
            {"role": "user", "content": "Question B, edited"},
        ]
        text = screen_text(app)
        assert "Question C" not in text
        assert "Answer B." not in text
        assert "Answer to the edit." in text
        assert not prompt.has_class("-editing")
        assert prompt.text == ""

    store = Store(tmp_path / "chats.db")
    stored = store.load(1)
    store.close()
    # The turns the edit replaced stay saved, as a branch beside it; what is shown is the new one.
    shown = stored.shown()
    assert [m.content for m in stored.messages if m not in shown] == [
        "Question B",
        "Answer B.",
        "Question C",
        "Answer C.",
    ]
    assert [m.content for m in shown] == [
        "Question A",
        "Answer A.",
        "Question B, edited",
        "Answer to the edit.",
    ]


async def test_only_your_own_messages_are_edited(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await exchanges(pilot, server, "A")
        await pilot.press("shift+tab", "e")
        assert "Only your own messages can be edited" in words(app)
        assert app.query_one(PromptInput).text == ""


# -- input history ---------------------------------------------------------------------------


async def test_up_and_down_walk_through_earlier_prompts(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await exchanges(pilot, server, "one", "two")
        prompt = app.query_one(PromptInput)
        prompt.insert("draft")
        await pilot.press("up")
        assert prompt.text == "Question two"
        await pilot.press("up", "up")
        assert prompt.text == "Question one"
        await pilot.press("down")
        assert prompt.text == "Question two"
        await pilot.press("down")
        assert prompt.text == "draft"
        # A recalled prompt that is changed is not thrown away by walking on.
        await pilot.press("up", *" again", "down")
        assert prompt.text == "Question two again"
        # A multi-line message: up moves through its lines before the history.
        prompt.clear()
        prompt.insert("line 1\nline 2")
        await pilot.press("up")
        assert prompt.text == "line 1\nline 2"
        assert prompt.cursor_location[0] == 0

    # The history outlives the run: it comes from the saved conversations.
    again = app_for(server, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        prompt = again.query_one(PromptInput)
        await wait_for(pilot, lambda: len(prompt.prompts) == 2)
        await pilot.press("up")
        assert prompt.text == "Question two"


# -- themes ----------------------------------------------------------------------------------


async def test_a_theme_chosen_in_the_palette_is_remembered(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('# my settings\n[profiles.local]\nmodel = "m"\n')
    app = app_for(server, tmp_path, config=load_config(config))
    async with app.run_test(size=SIZE) as pilot:
        await run_from_palette(pilot, "theme", "Theme")
        await choose_in_palette(pilot, "nord", "nord")  # the theme chooser, a palette too
        await wait_for(pilot, lambda: app.theme == "nord")
    assert load_config(config).theme == "nord"
    assert "# my settings" in config.read_text()  # the rest of the file is kept

    again = app_for(server, tmp_path, config=load_config(config))
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_messages_stay_literal_when_copied_and_edited(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    markup = "[bold]not bold[/bold] \x1b[31m"
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        server.enqueue(TextReply("ok"))
        await chat(pilot, markup)
        await pilot.press("shift+tab", "up", "e")
        # Markup stays text; an escape is shown (and sent) as its symbol, never held raw.
        assert app.query_one(PromptInput).text == "[bold]not bold[/bold] ␛[31m"
        assert app.chat.conversation.messages[0].role is Role.USER


async def test_an_edit_ends_cleanly_when_its_message_goes(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await exchanges(pilot, server, "A")
        prompt = app.query_one(PromptInput)
        # Esc while a reply streams and an edit is open: the edit is cancelled, the reply goes on.
        server.enqueue(TextReply(["tok "] * 3000, delay=0.02))  # stopped long before its end
        prompt.insert("Question B")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        await pilot.press("shift+tab", "home", "e")
        assert prompt.editing is not None
        await pilot.press("escape")
        assert prompt.editing is None
        assert app.chat.is_streaming
        await pilot.press("escape")  # and a second Esc stops it
        await wait_for(pilot, lambda: not app.chat.is_streaming)

        await pilot.press("shift+tab", "home", "e", "ctrl+l")
        await pilot.pause()
        assert prompt.editing is None
        assert not prompt.has_class("-editing")
        assert prompt.text == "Question A"  # kept, to be sent as a new message
