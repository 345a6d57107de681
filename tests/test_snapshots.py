"""Snapshots of key screens (regenerate deliberately with --snapshot-update, then review)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TextArea

from chat_tui.app import ChatApp
from chat_tui.client import ChatClient
from chat_tui.reply_stats import ReplyStats
from chat_tui.settings import Settings
from chat_tui.store import AsyncStore, Store
from chat_tui.widgets.messages import AssistantMessage
from tests.conftest import compatible_settings
from tests.openai_server import TextReply

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

SIZE = (100, 32)
# Timings differ from run to run; the pictures show these instead.
STATS = ReplyStats("fake-model", 0.42, 1.5, 31, 52, "complete")

REPLY = (
    "## Plan\n\nHere is a **short** answer with `inline code`:\n\n"
    "1. read the file\n2. count the words\n\n"
    "```python\nwords = open('notes.txt').read().split()\nprint(len(words))\n```\n"
)


def steady(app: ChatApp) -> None:
    """No blinking cursor: a picture taken mid-blink would differ from run to run."""
    for area in app.query(TextArea):
        area.cursor_blink = False


def test_empty_screen_with_nothing_configured(snap_compare: Callable[..., bool]) -> None:
    app = ChatApp(Settings())

    async def settle(pilot: Pilot[None]) -> None:
        steady(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_finished_reply(snap_compare: Callable[..., bool], server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(REPLY))
    # The sidebar shows the server's random port; the test hides it (ctrl+b) for a stable picture.
    app = ChatApp(compatible_settings(server), client=ChatClient())

    async def chat(pilot: Pilot[None]) -> None:
        steady(app)
        await pilot.press("ctrl+b", *"Count the words in notes.txt", "enter")
        while app.chat.is_streaming:
            await pilot.pause(0.05)
        # The header names the server's random port; pin it so the picture is stable.
        app.sub_title = "fake-model @ 127.0.0.1"
        view = app.query_one(AssistantMessage)
        view.reply.stats = STATS
        view.show_status()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=chat)


def test_moving_between_messages(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    """A saved chat reopened, the transcript focused and the first reply selected."""
    store = Store(tmp_path / "chats.db")
    chat_id = store.create_conversation("Words", "Be brief.")
    for role, text, stats in (
        ("user", "Count the words in notes.txt", None),
        ("assistant", REPLY, STATS.to_dict()),
        ("user", "And the lines?", None),
        ("assistant", "Use `wc -l notes.txt`.", {**STATS.to_dict(), "completion_tokens": 9}),
    ):
        store.add_message(chat_id, role, text, "complete", stats)
    store.close()
    app = ChatApp(
        Settings(),
        store=AsyncStore(lambda: Store(tmp_path / "chats.db")),
        open_conversation=chat_id,
    )

    async def select(pilot: Pilot[None]) -> None:
        steady(app)
        while len(app.query(AssistantMessage)) < 2:
            await pilot.pause(0.05)
        await pilot.press("ctrl+b", "shift+tab", "up", "up")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=select)
