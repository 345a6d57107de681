"""Narrow terminals, 80 columns and up: the chat keeps its width when the settings are open,
and nothing that says how to get out of a mode is cut off, in the message box's borders, the
queued line, the status line or the footer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.status_bar import StatusBar
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import TextReply
from tests.test_app import chat, make_app, send, wait_for
from tests.test_persistence import saving_app
from tests.test_promises import focused_id

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer

SIZES = [(80, 24), (120, 40)]
# A reply that lasts until the test stops it.
ENDLESS = TextReply(["tok "] * 3000, delay=0.02)


def sidebar_shown(app: ChatApp) -> bool:
    """Whether the settings sidebar is on screen (as the stylesheet has it now)."""
    return app.query_one(SettingsPanel).display


def chat_width(app: ChatApp) -> int:
    return app.query_one("#chat").size.width


def footer_keys(app: ChatApp) -> list[str]:
    """The footer's keys as drawn, left to right ("f1 Help"), without the palette's."""
    line = screen_text(app).splitlines()[-1]
    return re.split(r"\s{2,}", line.split("▏")[0].strip())


def whole_keys(app: ChatApp) -> set[str]:
    """Every key the footer may show now, as it would read in full."""
    bindings = app.screen.active_bindings.values()
    return {
        f"{app.get_key_display(b.binding)} {b.binding.description}"
        for b in bindings
        if b.binding.show
    }


def border_line(app: ChatApp, widget: PromptInput, top: bool) -> str:
    """The box's top or bottom border as drawn, with its title or subtitle."""
    region = widget.region
    line = screen_text(app).splitlines()[region.y if top else region.bottom - 1]
    return line[region.x : region.right]


async def streaming(pilot: Pilot[None], text: str = "go") -> None:
    app: ChatApp = pilot.app  # type: ignore[assignment]
    await send(pilot, text)
    await wait_for(pilot, lambda: app.chat.is_streaming and "tok tok" in screen_text(app))


# -- the sidebar over the chat ----------------------------------------------------------------


async def test_the_sidebar_opens_over_the_chat_which_keeps_its_width(
    server: FakeOpenAIServer,
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=(80, 24)) as pilot:
        await chat(pilot, "hello")
        before = chat_width(app)
        assert before >= 78
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: sidebar_shown(app))
        assert chat_width(app) == before  # under the sidebar, not squeezed beside it
        assert focused_id(app) == "sidebar"  # the keys go to what is on top
        assert "esc Close" in footer_keys(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not sidebar_shown(app))
        assert focused_id(app) == "prompt"
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: sidebar_shown(app))
        await pilot.press("ctrl+b")  # the same key closes it
        await wait_for(pilot, lambda: not sidebar_shown(app))
        assert focused_id(app) == "prompt"
        assert chat_width(app) == before
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: sidebar_shown(app))
        await pilot.click("#transcript", offset=(60, 2))  # beside it, on the chat: away
        await wait_for(pilot, lambda: not sidebar_shown(app))
        assert focused_id(app) == "prompt"


async def test_the_sidebar_over_the_chat_closes_when_the_focus_moves_on(
    server: FakeOpenAIServer,
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=(80, 24)) as pilot:
        await chat(pilot, "hello")
        await pilot.press("f2")  # opens it, in the system prompt
        await wait_for(pilot, lambda: focused_id(app) == "system-prompt")
        assert sidebar_shown(app)
        for _ in range(20):  # tab on, past its last field: to the transcript beneath
            if focused_id(app) == "transcript":
                break
            await pilot.press("tab")
        await wait_for(pilot, lambda: not sidebar_shown(app))
        assert focused_id(app) == "transcript"
        await pilot.press("escape")
        assert focused_id(app) == "prompt"


async def test_narrowing_the_terminal_does_not_cover_the_chat_behind_the_users_back(
    server: FakeOpenAIServer,
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+b", "ctrl+b")  # hidden, then pinned open on the wide screen
        await wait_for(pilot, lambda: sidebar_shown(app))
        assert focused_id(app) == "prompt"
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: not sidebar_shown(app))
        assert chat_width(app) >= 78
        await pilot.press(*"typed on")
        assert app.query_one(PromptInput).text == "typed on"


# -- the way out of each mode stays on screen -------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_the_edit_title_keeps_its_way_out(
    server: FakeOpenAIServer, size: tuple[int, int]
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=size) as pilot:
        await chat(pilot, "hello")
        await pilot.press("shift+tab", "up", "e")  # the reply, then the message before it
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: prompt.editing is not None)
        await pilot.pause()
        title = border_line(app, prompt, top=True)
        assert "editing" in title
        assert "esc cancels" in title
        assert "…" not in title  # a form that fits, not one cut short
        assert "esc Cancel edit" in footer_keys(app)


@pytest.mark.parametrize("size", SIZES)
async def test_while_a_reply_streams_the_box_says_esc_stops_it(
    server: FakeOpenAIServer, size: tuple[int, int]
) -> None:
    server.enqueue(ENDLESS)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=size) as pilot:
        await streaming(pilot)
        prompt = app.query_one(PromptInput)
        assert "esc stops" in border_line(app, prompt, top=False)
        placeholder = screen_text(app, prompt).strip()
        assert placeholder == "Message  (Enter sends · ctrl+j new line)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)


@pytest.mark.parametrize("size", SIZES)
async def test_a_long_queued_message_leaves_its_way_back_on_its_first_line(
    server: FakeOpenAIServer, size: tuple[int, int]
) -> None:
    server.enqueue(ENDLESS)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=size) as pilot:
        await streaming(pilot)
        await send(pilot, "a question that goes on " * 8)
        line = app.query_one("#queued")
        await wait_for(pilot, lambda: "⧗ queued: a question" in screen_text(app, line))
        await pilot.pause()
        first = screen_text(app, line).splitlines()[0]
        assert first.startswith("⧗ queued: a question")
        assert first.rstrip().endswith("esc takes it back")
        assert line.size.height <= 3  # the message wraps beside the way back, not on and on
        # Esc does what the line says; with nothing queued, it stops the reply.
        assert "esc Take back" in footer_keys(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not line.display)
        assert "esc Stop reply" in footer_keys(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)


@pytest.mark.parametrize("size", SIZES)
async def test_the_status_line_shortens_its_totals_before_cutting_anything(
    server: FakeOpenAIServer, tmp_path: Path, size: tuple[int, int]
) -> None:
    path = tmp_path / "chats.db"
    path.write_bytes(b"garbage" * 1000)  # not saved: the status line says so, with the totals
    app = saving_app(server, path)
    async with app.run_test(size=size) as pilot:
        await chat(pilot, "one")
        await chat(pilot, "two")
        bar = app.query_one(StatusBar)
        await wait_for(pilot, lambda: "Not saved" in screen_text(app, bar))
        shown = screen_text(app, bar).strip()
        assert shown.startswith("⚠ Not saved: the database is damaged")
        assert shown.endswith(("4 messages", "tokens used")), shown  # whole words, no cut
        assert len(shown) <= bar.content_size.width


# -- the footer -------------------------------------------------------------------------------


async def test_the_footer_keeps_esc_and_f1_in_every_state_at_80_columns(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply("First answer."), ENDLESS)
    app = make_app(compatible_settings(server))

    def shows(*keys: str) -> None:
        drawn = footer_keys(app)
        for key in keys:
            assert key in drawn, (key, drawn)
        cut = set(drawn) - whole_keys(app)
        assert not cut, f"keys cut short: {cut}"

    async with app.run_test(size=(80, 24)) as pilot:
        await chat(pilot, "hello")
        shows("f1 Help")  # Esc has nothing to do in the box yet: not offered
        await pilot.press("shift+tab")
        shows("esc Back", "f1 Help")
        await pilot.press("up", "e")
        await wait_for(pilot, lambda: app.query_one(PromptInput).editing is not None)
        shows("esc Cancel edit", "f1 Help")
        await pilot.press("escape")
        await streaming(pilot)
        shows("esc Stop reply", "f1 Help")
        await pilot.press("shift+tab")
        shows("esc Back", "f1 Help")
        await pilot.press("escape", "ctrl+b")
        await wait_for(pilot, lambda: sidebar_shown(app))
        shows("esc Close", "f1 Help")
        await pilot.press("escape")
        shows("esc Stop reply", "f1 Help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        shows("f1 Help")
