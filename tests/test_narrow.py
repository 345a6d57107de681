"""Narrow terminals, 80 columns and up: the footer keeps Esc and F1 in view."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chat_tui.tui.widgets.prompt import PromptInput
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import TextReply
from tests.test_app import chat, make_app, send, wait_for

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer

# A reply that lasts until the test stops it.
ENDLESS = TextReply(["tok "] * 3000, delay=0.02)


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


async def streaming(pilot: Pilot[None], text: str = "go") -> None:
    app: ChatApp = pilot.app  # type: ignore[assignment]
    await send(pilot, text)
    await wait_for(pilot, lambda: app.chat.is_streaming and "tok tok" in screen_text(app))


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
        await pilot.press("escape")
        shows("esc Stop reply", "f1 Help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        shows("f1 Help")
