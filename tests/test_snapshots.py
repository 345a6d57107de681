"""Snapshots of key screens, and the README's pictures, which are some of them.

The app runs for real: it talks to the local server over HTTP through the `openai` SDK and is
driven with keys. What differs from run to run is pinned: the server's port (it is in the title,
the sidebar and error messages), the reply timings (in a reply's footer), the dates of saved
conversations, the cursor's blink. After a deliberate change to the look, regenerate every
picture, the README's too, and review them:

    python -m pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import errno
import html
import re
import sqlite3
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input, TextArea

from chat_tui.client import ChatClient
from chat_tui.settings import Settings
from chat_tui.store import AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.thinking import ThinkingBlock
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import FakeOpenAIServer, TextReply, tokenize
from tests.test_attach_app import png

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from textual.pilot import Pilot

REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).resolve().parent / "__snapshots__" / Path(__file__).stem

SIZE = (110, 34)
# The server's port is on screen, so the pictures' server always has this one. Below every
# platform's range of ports handed out at random, so no other test's server takes it.
PORT = 24680
# The timings differ from run to run; the pictures show these. Everything else in a reply's
# footer (the model, the token counts) is what the server sent.
TIMINGS = {"first_token": 0.42, "generating": 1.5}
# Saved conversations show when they were last changed: these local times, whatever the zone.
DATES = ["2025-03-14 09:30", "2025-03-12 17:05", "2025-03-09 11:48", "2025-02-27 08:15"]

QUESTION = "Count the words in notes.txt"
REPLY = (
    "## Plan\n\nHere is a **short** answer with `inline code`:\n\n"
    "1. read the file\n2. count the words\n\n"
    "```python\nwords = open('notes.txt').read().split()\nprint(len(words))\n```\n"
)
CODE_QUESTION = "How do I find the largest files in a folder, in Python?"
CODE_REPLY = (
    "Walk the folder with `pathlib`, then sort the files by size:\n\n"
    "```python\n"
    "from pathlib import Path\n\n"
    "def largest(folder: str, count: int = 10) -> list[tuple[int, Path]]:\n"
    '    files = (p for p in Path(folder).rglob("*") if p.is_file())\n'
    "    sized = ((p.stat().st_size, p) for p in files)\n"
    "    return sorted(sized, reverse=True)[:count]\n\n"
    'for size, path in largest("."):\n'
    '    print(f"{size:>12,}  {path}")\n'
    "```\n\n"
    "`rglob` descends into every subfolder; symlinks are followed.\n"
)
# The picture of a reply on its way: the server holds the stream here, mid-line in the code.
STREAMED = CODE_REPLY[: CODE_REPLY.index(" reverse=True")]


@pytest.fixture
def pinned_server() -> Iterator[FakeOpenAIServer]:
    """The local server on PORT. Another run of these tests may hold the port for a moment:
    wait for it, then say plainly that something else has it."""
    deadline = time.monotonic() + 60
    while True:
        try:
            server = FakeOpenAIServer(port=PORT).start()
            break
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            if time.monotonic() > deadline:
                pytest.fail(f"port {PORT}, which the pictures show, is taken by another program")
            time.sleep(0.2)
    try:
        yield server
    finally:
        server.stop()


def make_app(
    server: FakeOpenAIServer,
    *,
    store: AsyncStore | None = None,
    open_conversation: int | None = None,
    **changes: object,
) -> ChatApp:
    """The app connected to `server`, with the default read timeout (not the tests' short one:
    a reply held mid-stream waits for its picture, not for a timeout)."""
    settings = compatible_settings(server, read_timeout=Settings().read_timeout, **changes)
    return ChatApp(settings, client=ChatClient(), store=store, open_conversation=open_conversation)


async def steady(pilot: Pilot[None]) -> None:
    """No blinking cursor: a picture taken mid-blink would differ from run to run.

    The pictures' pilot starts as the app does: this waits for the chat screen to be there.
    """
    await wait_for(pilot, lambda: pilot.app.focused is not None)
    for field in pilot.app.screen.query(TextArea):
        field.cursor_blink = False
    for line in pilot.app.screen.query(Input):
        line.cursor_blink = False


async def wait_for(pilot: Pilot[None], predicate: Callable[[], bool], seconds: float = 10) -> None:
    """Let the app run until `predicate` holds; fail after `seconds`."""
    async with asyncio.timeout(seconds):
        while not predicate():
            await pilot.pause(0.02)
    await pilot.pause()


def picture_text(app: ChatApp) -> str:
    """The words of the app's picture, as a snapshot takes it: with the screens that a modal
    one shows through (which the screen's own lines leave out)."""
    words = re.findall(r">([^<>]+)</text>", app.export_screenshot())
    return html.unescape(" ".join(words)).replace("\xa0", " ")


async def chat_behind(pilot: Pilot[None]) -> None:
    """Until the picture shows the chat through the background of the screen on top of it.

    In some full runs it did not: the list was drawn over a blank screen, for 10 s. The chat's
    screen is then laid out again (a screen behind another is not, by itself), and if even that
    does not help, the failure says what the chat's own screen holds.
    """
    app = pilot.app
    with suppress(TimeoutError):
        await wait_for(pilot, lambda: "System prompt" in picture_text(app), seconds=2)
        return
    chat = app.screen_stack[0]
    chat._refresh_layout(app.size)
    try:
        await wait_for(pilot, lambda: "System prompt" in picture_text(app), seconds=5)
    except TimeoutError:
        own = "\n".join(strip.text for strip in chat._compositor.render_strips())
        raise AssertionError(f"the chat is not behind the list; its screen holds:\n{own}") from None


def shown(pilot: Pilot[None], *texts: str) -> Callable[[], bool]:
    """Whether the screen shows each of `texts` (for wait_for)."""
    return lambda: all(text in screen_text(pilot.app) for text in texts)


async def send(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text, "enter")


def pin_timings(pilot: Pilot[None]) -> None:
    """Each finished reply's footer with TIMINGS in place of the measured ones."""
    for view in pilot.app.query(AssistantMessage):
        if view.reply.stats is not None:
            view.reply.stats = replace(view.reply.stats, **TIMINGS)
            view.show_status()


def on_local_clock(date: str) -> float:
    """The moment that the local clock shows as `date` (YYYY-MM-DD HH:MM)."""
    return time.mktime(time.strptime(date, "%Y-%m-%d %H:%M"))


# -- the README's pictures ------------------------------------------------------------------


def test_reply_streaming(
    snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer
) -> None:
    """A reply with code on its way in, the sidebar hidden (ctrl+b) for a wide transcript."""
    pinned_server.enqueue(TextReply(CODE_REPLY, stall_after=len(tokenize(STREAMED))))
    app = make_app(pinned_server)

    async def stream(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await pilot.press("ctrl+b")
        await send(pilot, CODE_QUESTION)
        # All that the server sent is drawn, and the reply still streams.
        await wait_for(pilot, shown(pilot, STREAMED.splitlines()[-1].strip(), "streaming…"))

    assert snap_compare(app, terminal_size=SIZE, run_before=stream)


def test_finished_reply_with_sidebar(
    snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer
) -> None:
    """A finished reply and its footer beside the settings sidebar (shown on wide terminals)."""
    pinned_server.enqueue(TextReply(REPLY))
    app = make_app(pinned_server)

    async def chat(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await send(pilot, QUESTION)
        await wait_for(pilot, shown(pilot, "finished"))
        # The model and the token counts in the footer are the server's: only timings differ.
        [view] = pilot.app.query(AssistantMessage)
        stats = view.reply.stats
        assert stats is not None
        assert (stats.model, stats.completion_tokens) == ("fake-model", len(tokenize(REPLY)))
        sent = pinned_server.last_request.messages
        assert stats.prompt_tokens == sum(len(m["content"].split()) for m in sent)
        pin_timings(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=chat)


def test_conversations_list(
    snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    """F3 over the last conversation: the saved ones, newest first, with their dates."""
    database = tmp_path / "conversations.db"
    store = Store(database)
    chats = [  # newest first, as DATES
        ("Count the words in notes.txt", [QUESTION, REPLY]),
        ("Largest files in a folder", [CODE_QUESTION, CODE_REPLY]),
        ("Rust lifetimes, explained", ["Explain Rust lifetimes", "A lifetime is …"] * 3),
        ("Trip to Lisbon: three days", ["Plan three days in Lisbon", "Day one: …"] * 2),
    ]
    ids = []
    for title, texts in chats:
        chat_id = store.create_conversation(title, "You are a helpful AI assistant.")
        for index, text in enumerate(texts):
            store.add_message(chat_id, ("user", "assistant")[index % 2], text, "complete")
        ids.append(chat_id)
    store.close()
    db = sqlite3.connect(database)
    with db:  # as if each was last written on its day
        for chat_id, date in zip(ids, DATES, strict=True):
            moment = on_local_clock(date)
            db.execute(
                "UPDATE conversations SET created = ?, updated = ? WHERE id = ?",
                (moment, moment, chat_id),
            )
            db.execute(
                "UPDATE messages SET created = ? WHERE conversation_id = ?", (moment, chat_id)
            )
    db.close()
    app = make_app(
        pinned_server, store=AsyncStore(lambda: Store(database)), open_conversation=ids[0]
    )

    async def browse(pilot: Pilot[None]) -> None:
        await wait_for(pilot, shown(pilot, "words = open"))
        await pilot.press("f3")
        await wait_for(pilot, shown(pilot, *DATES))
        await chat_behind(pilot)
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=browse)


def test_error_card(snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer) -> None:
    """The server turns the key down (401): what happened, and what to check."""
    pinned_server.require_key = "sk-the-right-key"
    app = make_app(pinned_server, api_key="sk-a-wrong-key")

    async def chat(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await send(pilot, QUESTION)
        await wait_for(pilot, shown(pilot, "Key rejected"))

    assert snap_compare(app, terminal_size=SIZE, run_before=chat)


# -- more screens ---------------------------------------------------------------------------


THOUGHTS = (
    "The user wants the words counted. Splitting on white space is enough for a plain text "
    "file; punctuation stays attached, which is what most people mean by a word count.\n\n"
    "A one-liner with open().read().split() answers it."
)


@pytest.mark.parametrize("unfolded", [False, True], ids=["folded", "unfolded"])
def test_a_reply_with_its_thinking(
    snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer, unfolded: bool
) -> None:
    """A reasoning model's reply: its thinking folded to one line, and unfolded with t."""
    pinned_server.enqueue(TextReply(REPLY, reasoning=THOUGHTS))
    app = make_app(pinned_server)

    async def chat(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await pilot.press("ctrl+b")
        await send(pilot, QUESTION)
        await wait_for(pilot, shown(pilot, "finished", "Thought for"))
        pin_timings(pilot)
        for block in pilot.app.query(ThinkingBlock):
            block.thought = 3.0
            block.show()
        if unfolded:
            await pilot.press("shift+tab", "t")
            await wait_for(pilot, shown(pilot, "one-liner"))

    assert snap_compare(app, terminal_size=SIZE, run_before=chat)


NOTES = "Buy milk\nCall the plumber [urgent]\nWater the plants\n"


def test_a_message_with_attachments_unfolded(
    snap_compare: Callable[..., bool],
    pinned_server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message with a file and an image, selected and unfolded with a: the file's text, the
    image's type and sizes. Attached by relative names: no test folder on screen."""
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text(NOTES)
    Path("shot.png").write_bytes(png(3, 2))
    pinned_server.enqueue(TextReply("Three errands, and a black image of 3 by 2 pixels."))
    app = make_app(pinned_server)

    async def unfold(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await pilot.press("ctrl+b")
        tray = app.query_one(AttachmentTray)
        for count, name in enumerate(("notes.txt", "shot.png"), start=1):
            app.chat.action_attach(name)
            await wait_for(pilot, lambda count=count: len(tray.attachments) == count)
        await send(pilot, "What is in these?")
        await wait_for(pilot, shown(pilot, "finished"))
        pin_timings(pilot)
        await pilot.press("shift+tab", "up", "a")
        await wait_for(pilot, shown(pilot, "Water the plants", "a folds them"))

    assert snap_compare(app, terminal_size=SIZE, run_before=unfold)


def test_small_terminal(snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer) -> None:
    """80x24, where the sidebar starts hidden: the server's own reply, finished."""
    app = make_app(pinned_server)

    async def chat(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await send(pilot, QUESTION)
        await wait_for(pilot, shown(pilot, "finished"))
        pin_timings(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=chat)


def test_small_terminal_with_the_sidebar_open(
    snap_compare: Callable[..., bool], pinned_server: FakeOpenAIServer
) -> None:
    """80x24 with ctrl+b: the settings open over the chat, which keeps its width beneath."""
    app = make_app(pinned_server)

    async def chat(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await send(pilot, QUESTION)
        await wait_for(pilot, shown(pilot, "finished"))
        pin_timings(pilot)
        await pilot.press("ctrl+b")
        await wait_for(pilot, shown(pilot, "System prompt", "esc Close"))

    assert snap_compare(app, terminal_size=(80, 24), run_before=chat)


def test_empty_screen_with_nothing_configured(snap_compare: Callable[..., bool]) -> None:
    app = ChatApp(Settings())

    async def settle(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_moving_between_messages(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    """A saved chat reopened, the transcript focused and the first reply selected."""
    saved = {"model": "fake-model", **TIMINGS, "prompt_tokens": 31, "ending": "complete"}
    store = Store(tmp_path / "chats.db")
    chat_id = store.create_conversation("Words", "Be brief.")
    for role, text, stats in (
        ("user", QUESTION, None),
        ("assistant", REPLY, {**saved, "completion_tokens": 52}),
        ("user", "And the lines?", None),
        ("assistant", "Use `wc -l notes.txt`.", {**saved, "completion_tokens": 9}),
    ):
        store.add_message(chat_id, role, text, "complete", stats)
    store.close()
    app = ChatApp(
        Settings(),
        store=AsyncStore(lambda: Store(tmp_path / "chats.db")),
        open_conversation=chat_id,
    )

    async def select(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await wait_for(pilot, lambda: len(app.query(AssistantMessage)) == 2)
        await pilot.press("ctrl+b", "shift+tab", "up", "up")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=select)


# -- the README shows what these tests make -------------------------------------------------

PICTURE = re.compile(r"!\[[^\]]*\]\((tests/__snapshots__/[^)\s]+)\)")


def test_the_readme_shows_pictures_these_tests_keep_true() -> None:
    """Each picture in the README is a snapshot above, so it fails when it is stale; and every
    stored snapshot is one a test here takes (`--snapshot-update` removes the others)."""
    linked = PICTURE.findall((REPO / "README.md").read_text(encoding="utf-8"))
    assert len(linked) >= 4
    tests = {name for name in globals() if name.startswith("test_")}
    for link in linked:
        picture = REPO / link
        assert picture.parent == SNAPSHOTS, f"{link} is not one of this file's snapshots"
        assert picture.is_file(), f"the README shows {link}, which no longer exists"
        assert picture.stem in tests, f"the README shows {link}, which no test takes"
    # A parametrised test's pictures are named test[case].
    stored = {picture.stem.partition("[")[0] for picture in SNAPSHOTS.glob("*.svg")}
    assert stored <= tests, f"snapshots that no test takes: {sorted(stored - tests)}"
