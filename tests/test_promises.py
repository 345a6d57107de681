"""What the README promises, each checked as a user would see it: through Pilot and `chat-tui ask`
against the local server over real HTTP."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from chat_tui.store import Store
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import TextReply, long_markdown
from tests.test_app import SIZE, chat, make_app, replies, wait_for
from tests.test_ask import command, posix_only, to
from tests.test_faults import words
from tests.test_persistence import saving_app
from tests.test_reuse import app_for, clipboard_command, exchanges

if TYPE_CHECKING:
    from pathlib import Path

    from textual.app import App

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer


def focused_id(app: App[object]) -> str | None:
    """The id of the widget that has the keyboard focus."""
    focused = app.focused
    return focused.id if focused is not None else None


def reply_text(app: ChatApp, index: int = -1) -> str:
    """A reply as drawn, its lines folded into one, as it reads."""
    return " ".join(screen_text(app, replies(app)[index]).split())


def sidebar_shown(app: App[object]) -> bool:
    """Whether the settings sidebar is on screen: its labels, which nothing else shows."""
    text = screen_text(app)
    return "System prompt" in text and "Max tokens" in text


# -- 1. the sidebar below and from 100 columns ------------------------------------------------


@pytest.mark.parametrize("width", [60, 99])
async def test_the_sidebar_starts_hidden_below_100_columns(
    server: FakeOpenAIServer, width: int
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.pause()
        assert not sidebar_shown(app)
        await pilot.press("ctrl+b")  # still there when asked for
        await wait_for(pilot, lambda: sidebar_shown(app))
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: not sidebar_shown(app))


@pytest.mark.parametrize("width", [100, 140])
async def test_the_sidebar_starts_shown_from_100_columns(
    server: FakeOpenAIServer, width: int
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.pause()
        assert sidebar_shown(app)
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: not sidebar_shown(app))


async def test_narrowing_the_terminal_takes_the_focus_out_of_the_hidden_sidebar(
    server: FakeOpenAIServer,
) -> None:
    # Typing on must go into the message box, not into a system prompt nobody sees any more.
    app = make_app(compatible_settings(server, system_prompt="Be kind."))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await wait_for(pilot, lambda: focused_id(app) == "system-prompt")
        await pilot.resize_terminal(80, 40)
        await wait_for(pilot, lambda: not sidebar_shown(app))
        await wait_for(pilot, lambda: focused_id(app) == "prompt")
        await pilot.press(*"hello")
        await chat(pilot, "")
        assert server.last_request.messages[0] == {"role": "system", "content": "Be kind."}
        assert server.last_request.messages[-1]["content"] == "hello"


# -- 2. tab and shift+tab -------------------------------------------------------------------

# From the message box, tab goes round: the sidebar (its scrolling panel, then each field and
# button in the order shown), the transcript, and back. Fields the provider does not use (API
# version, sign-in method, the model list, profiles when there are none) are hidden and are not
# stops.
TAB_ORDER = [
    "prompt",
    "sidebar",
    "system-prompt",
    "test",
    "save",
    "save-key",
    "provider",
    "endpoint",
    "model",
    "api_key",
    "temperature",
    "max_tokens",
    "context_window",
    "compact_at",
    "read_timeout",
    "reasoning_effort",
    "api",
    "show_reasoning",
    "transcript",
]


async def test_tab_goes_round_the_message_box_the_settings_and_the_transcript(
    server: FakeOpenAIServer,
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")  # the transcript has a message to select
        assert focused_id(app) == "prompt"
        seen = []
        for _ in TAB_ORDER:
            await pilot.press("tab")
            seen.append(focused_id(app))
        assert seen == [*TAB_ORDER[1:], "prompt"]
        seen = []
        for _ in TAB_ORDER:
            await pilot.press("shift+tab")
            seen.append(focused_id(app))
        assert seen == [*reversed(TAB_ORDER[1:]), "prompt"]


async def test_a_hidden_sidebar_takes_no_tab_stops(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=(80, 40)) as pilot:
        await chat(pilot, "hello")
        assert not sidebar_shown(app)
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(focused_id(app))
        assert seen == ["transcript", "prompt", "transcript", "prompt"]
        await pilot.press("shift+tab")
        assert focused_id(app) == "transcript"


# -- 3. up above the first drawn message --------------------------------------------------------


def selected_on_screen(app: App[object]) -> str:
    """The text of the message drawn as selected (the one in a heavy border), "" if none; a
    reply's footer is left out."""
    lines = screen_text(app).splitlines()
    top = next((n for n, line in enumerate(lines) if "┏" in line), None)
    if top is None:
        return ""
    inside: list[str] = []
    for line in lines[top + 1 :]:
        if "┗" in line:
            break
        if line.count("┃") < 2:  # a toast covers its edge: not readable yet
            return ""
        inside.append(line[line.index("┃") + 1 : line.rindex("┃")].strip())
    return " ".join(part for part in inside if part and "to first token" not in part)


def long_conversation(path: Path, exchanges: int) -> int:
    """A saved conversation of `exchanges` questions and answers; its id."""
    seed = Store(path)
    try:
        cid = seed.create_conversation("Long", "")
        for n in range(exchanges):
            seed.add_message(cid, "user", f"Question {n}", "complete")
            seed.add_message(cid, "assistant", f"Answer {n}.", "complete")
        return cid
    finally:
        seed.close()


async def test_up_above_the_first_drawn_message_draws_earlier_ones(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    cid = long_conversation(path, 50)  # 100 messages: the latest MAX_DRAWN are drawn
    first = 50 - MAX_DRAWN // 2  # the first drawn question
    app = saving_app(server, path, open_conversation=cid)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Answer 49." in screen_text(app))
        await pilot.press("shift+tab", "home")
        await wait_for(pilot, lambda: selected_on_screen(app) == f"Question {first}")
        # Above the first drawn one: earlier ones are drawn, and the cursor goes on upwards,
        # onto the one before, which is scrolled into view.
        await pilot.press("up")
        await wait_for(pilot, lambda: selected_on_screen(app) == f"Answer {first - 1}.")
        await pilot.press("up")
        await wait_for(pilot, lambda: selected_on_screen(app) == f"Question {first - 1}")
        # Again from the first drawn one, MAX_DRAWN messages at a time, down to the first.
        first -= MAX_DRAWN // 2
        while first > 0:
            await pilot.press("home")
            question, above = f"Question {first}", f"Answer {first - 1}."
            await wait_for(pilot, lambda q=question: selected_on_screen(app) == q)
            await pilot.press("up")
            await wait_for(pilot, lambda a=above: selected_on_screen(app) == a)
            first = max(0, first - MAX_DRAWN // 2)
        await pilot.press("home")
        await wait_for(pilot, lambda: selected_on_screen(app) == "Question 0")
        assert "earlier messages are not shown" not in screen_text(app)
        await pilot.press("up")  # nothing earlier: the first stays selected
        await pilot.pause()
        assert selected_on_screen(app) == "Question 0"
        assert server.requests == []  # drawn from the conversation, not asked for again


# -- 4. g, G and y in the transcript ------------------------------------------------------------


@pytest.fixture
def clipboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file a copy lands in: CHAT_TUI_CLIPBOARD is a program that writes it there, in place
    of the desktop's; and no tmux buffer is filled, should the tests run inside tmux."""
    copied = tmp_path / "copied.txt"
    monkeypatch.setenv("CHAT_TUI_CLIPBOARD", clipboard_command(copied))
    monkeypatch.delenv("TMUX", raising=False)
    return copied


async def test_g_and_G_go_to_the_first_and_last_message_and_y_copies(
    server: FakeOpenAIServer, tmp_path: Path, clipboard: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await exchanges(pilot, server, *"ABCDEF")  # taller than the transcript, all drawn
        assert "Question A" not in screen_text(app)
        transcript = app.query_one(Transcript)
        # Following the reply to its end (on a busy machine, a frame or two after it ended).
        await wait_for(pilot, lambda: transcript.scroll_y == transcript.max_scroll_y > 0)
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: selected_on_screen(app) == "Answer F.")
        await pilot.press("g")
        await wait_for(pilot, lambda: selected_on_screen(app) == "Question A")
        assert "Answer F." not in screen_text(app)  # scrolled to the first message
        await pilot.press("y")
        await wait_for(pilot, lambda: clipboard.exists() and clipboard.read_text() == "Question A")
        await wait_for(pilot, lambda: "Copied your message (10 characters)" in words(app))
        await pilot.press("G")
        await wait_for(pilot, lambda: selected_on_screen(app) == "Answer F.")
        assert "Question A" not in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: clipboard.read_text() == "Answer F.")
        assert app.clipboard == "Answer F."  # what the terminal was sent (OSC 52)
        await wait_for(pilot, lambda: "Copied the reply (9 characters)" in words(app))


async def test_end_on_a_long_reply_shows_its_end(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply("Short answer."), TextReply(long_markdown(1500) + "\n\nTHE END"))
    app = app_for(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first")
        await chat(pilot, "a long one")
        transcript = app.query_one(Transcript)
        await pilot.press("shift+tab", "g")
        await wait_for(pilot, lambda: transcript.scroll_y == 0)
        for key in ("G", "end"):
            await pilot.press("home", key)
            await wait_for(pilot, lambda: transcript.scroll_y == transcript.max_scroll_y > 0)
            assert "THE END" in screen_text(app)


# -- 5. HTML and links in a reply -----------------------------------------------------------------

HTML_AND_LINKS = (
    "Inline <b>not bold</b> and <script>alert(1)</script> tags.\n\n"
    '<div align="center">an HTML block</div>\n\n'
    "See [the docs](http://docs.example/guide) or "
    "[http://bank.example](http://evil.example/login)."
)


async def test_html_in_a_reply_is_shown_as_written_and_links_show_their_address(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply(HTML_AND_LINKS))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "show me")
        text = reply_text(app)
        assert "Inline <b>not bold</b> and <script>alert(1)</script> tags." in text
        assert '<div align="center">an HTML block</div>' in text
        assert "the docs (http://docs.example/guide)" in text
        # Link text that looks like an address cannot hide where the link goes.
        assert "http://bank.example (http://evil.example/login)" in text


# -- 6. no retry once text has arrived ------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (TextReply(["kept ", "so ", "far ", "lost"], drop_after=3), "Connection lost"),
        (TextReply(["kept ", "so ", "far "], raw_chunks=["{not json"]), "Malformed response"),
        (
            TextReply(["kept ", "so ", "far ", "lost"], stall_after=3, stall_seconds=10),
            "No response for 1 s",
        ),
    ],
    ids=["dropped", "malformed", "stalled"],
)
async def test_a_reply_that_breaks_off_after_text_is_not_retried(
    server: FakeOpenAIServer, reply: TextReply, shown: str
) -> None:
    # Were it retried, the second attempt would get this reply, and replace the partial one.
    server.enqueue(reply, TextReply("A whole new answer."), TextReply("Next."))
    app = make_app(compatible_settings(server, read_timeout=1))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "go")
        assert len(replies(app)) == 1
        text = reply_text(app)
        assert text.startswith("kept so far ✖ Interrupted"), text
        assert shown in text
        assert "A whole new answer." not in screen_text(app)
        assert len(server.requests) == 1
        # The reply has ended (final, nothing streams): no retry can come later. The next
        # request is the second the server sees, and carries the partial text.
        await chat(pilot, "and then?")
        assert len(server.requests) == 2
        assert server.last_request.messages[-3:] == [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "kept so far "},
            {"role": "user", "content": "and then?"},
        ]


# -- 7. `chat-tui ask | head` ---------------------------------------------------------------------


@posix_only
def test_ask_exits_141_when_stdout_closes_in_the_middle_of_a_reply(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # 20 s of reply: `head` has what it wants, and closes the pipe, long before the end.
    server.enqueue(TextReply(["word "] * 400, delay=0.05))
    ask = subprocess.Popen(
        command("hi", *to(server)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,  # the environment is the test's own (see conftest)
    )
    try:
        assert ask.stdout is not None
        head = subprocess.run(
            ["head", "-c", "10"], stdin=ask.stdout, capture_output=True, timeout=60, check=True
        )
        ask.stdout.close()  # `head` has ended: nothing reads the pipe any more
        # Well before the reply would have ended.
        _, errors = ask.communicate(timeout=15)
    finally:
        if ask.poll() is None:
            ask.kill()
            ask.communicate()
    assert head.stdout == b"word word "
    assert ask.returncode == 141
    assert errors == b""  # no traceback, no "Exception ignored"
    assert len(server.requests) == 1


# -- reading with the keyboard ----------------------------------------------------------------


async def test_the_page_keys_in_the_message_box_scroll_the_transcript(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = app_for(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await exchanges(pilot, server, *"ABCDEF")
        transcript = app.query_one(Transcript)
        await wait_for(pilot, lambda: transcript.max_scroll_y > 0)
        await pilot.press(*"draft")
        await pilot.press("ctrl+home")
        await wait_for(pilot, lambda: transcript.scroll_y == 0)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: transcript.scroll_y > 0)
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: transcript.scroll_y == transcript.max_scroll_y)
        await pilot.press("pageup")
        await wait_for(pilot, lambda: transcript.scroll_y < transcript.max_scroll_y)
        assert focused_id(app) == "prompt"
        assert app.query_one(PromptInput).text == "draft"  # the keys did not edit the box


async def test_esc_in_the_messages_goes_back_to_the_box_and_leaves_the_reply_streaming(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply(["tok "] * 3000, delay=0.02))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"talk", "enter")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: focused_id(app) == "transcript")
        await pilot.press("escape")
        await wait_for(pilot, lambda: focused_id(app) == "prompt")
        assert app.chat.is_streaming  # Esc in the messages never stops a reply
        await pilot.press("escape")  # in the message box it does
        await wait_for(pilot, lambda: not app.chat.is_streaming)


# -- typing always lands in the message box ----------------------------------------------------


async def test_after_a_click_on_a_reply_typing_goes_into_the_message_box(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply("Here is the first half."))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "hello")
        await pilot.click(AssistantMessage)  # many people click what they read
        await pilot.click("#sidebar", offset=(2, 1))  # and between the sidebar's fields
        await pilot.press(*"yes please continue")  # y and c would copy, e would edit
        assert app.query_one(PromptInput).text == "yes please continue"
        assert focused_id(app) == "prompt"
        assert not [n for n in app._notifications if "Copied" in n.message]


# -- signs of life ---------------------------------------------------------------------------


async def test_a_reply_that_has_not_started_says_it_waits_and_for_how_long(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply(["Late ", "but ", "here."], first_delay=2.5, delay=0.01))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"think first", "enter")
        await wait_for(pilot, lambda: "waiting for the first token · 0 s" in words(app))
        assert "streaming" not in words(app)  # nothing has streamed yet
        await wait_for(pilot, lambda: "waiting for the first token · 1 s" in words(app))
        await wait_for(pilot, lambda: "Late but here." in words(app))
        assert "waiting" not in words(app)


async def test_a_stalled_reply_says_how_long_nothing_has_come(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["Half ", "a ", "thought"], stall_after=3, stall_seconds=30))
    app = make_app(compatible_settings(server, read_timeout=30))  # a stall, not yet a failure
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"go on", "enter")
        await wait_for(pilot, lambda: "● streaming… esc stops" in words(app))
        await wait_for(pilot, lambda: "no text for 6 s" in words(app), seconds=15)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)


# -- a message sent while a reply is on its way is queued ---------------------------------------


async def test_a_message_sent_during_a_reply_waits_for_it_then_goes(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply(["one "] * 600, delay=0.01), TextReply("Two."))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press(*"first", "enter")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        prompt.insert("second")
        await pilot.press("enter")
        assert prompt.text == ""
        await wait_for(pilot, lambda: "⧗ queued: second" in words(app))
        prompt.insert("third")
        await pilot.press("enter")  # one waits at a time: this stays in the box
        assert prompt.text == "third"
        assert app.chat.is_streaming  # all of this happened during the first reply
        assert len(server.requests) == 1
        await wait_for(pilot, lambda: len(server.requests) == 2, seconds=30)
        await wait_for(pilot, lambda: "Two." in words(app))
        assert [m["content"] for m in server.last_request.messages[1:]] == [
            "first",
            "one " * 600,
            "second",
        ]
        assert "queued" not in words(app)
        assert prompt.text == "third"


async def test_esc_takes_a_queued_message_back_then_stops_the_reply(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply(["tok "] * 3000, delay=0.02))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first", "enter")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        await pilot.press(*"later", "enter")
        await wait_for(pilot, lambda: "⧗ queued: later" in words(app))
        await pilot.press(*"draft")
        await pilot.press("escape")  # the queued message comes back, before what was typed
        await wait_for(pilot, lambda: "queued" not in words(app))
        assert app.query_one(PromptInput).text == "later\n\ndraft"
        assert app.chat.is_streaming
        await pilot.press("escape")  # then the reply stops
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        assert len(server.requests) == 1  # nothing queued was sent
