"""The app as a user drives it, through Pilot, against the local server over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING

import pytest
from textual import events
from textual.command import Command, CommandInput, CommandList, CommandPalette
from textual.widgets import Input, Select, Static, TextArea

from chat_tui.client import ChatClient, _connection_key
from chat_tui.reply_state import ReplyState
from chat_tui.retry import RetryPolicy
from chat_tui.settings import Provider, Settings
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.help import HelpScreen
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript, Welcome
from tests.conftest import azure_settings, compatible_settings, screen_text
from tests.openai_server import ErrorReply, TextReply, long_markdown, tokenize

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

SIZE = (120, 50)
SLOW = TextReply(["tok "] * 400, delay=0.02)


# Retries as in real use, but with waits short enough for tests.
FAST_RETRY = RetryPolicy(base_delay=0.05, max_delay=2.0)


def make_app(settings: Settings) -> ChatApp:
    return ChatApp(settings, client=ChatClient(retry=FAST_RETRY))


async def wait_for(pilot: Pilot[None], predicate: Callable[[], bool], seconds: float = 10) -> None:
    """Let the app run until `predicate` holds; fail after `seconds`."""
    async with asyncio.timeout(seconds):
        while not predicate():
            await pilot.pause(0.02)


async def choose_in_palette(pilot: Pilot[None], query: str, title: str) -> None:
    """Type `query` into the command palette that is opening and, once the palette's search has
    put `title` at the top, choose it."""

    def opened() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, CommandPalette) and not screen.query_one(CommandInput).value

    await wait_for(pilot, opened)
    palette = pilot.app.screen
    await pilot.press(*query)

    def found() -> bool:
        option = palette.query_one(CommandList).highlighted_option
        if palette.query_one(CommandInput).value != query or not isinstance(option, Command):
            return False
        return (option.hit.text or str(option.hit.prompt)) == title

    await wait_for(pilot, found)
    await pilot.press("enter")


async def run_from_palette(pilot: Pilot[None], query: str, title: str) -> None:
    """Open the command palette (ctrl+p) and run the command `title`, found by typing `query`."""
    await pilot.press("ctrl+p")
    await choose_in_palette(pilot, query, title)


def replies(app: ChatApp) -> list[AssistantMessage]:
    return list(app.query(AssistantMessage))


def settled(app: ChatApp) -> bool:
    """No reply streams, and every reply has its final form."""
    return not app.chat.is_streaming and all(view.state.is_final for view in replies(app))


async def send(pilot: Pilot[None], text: str) -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def chat(pilot: Pilot[None], text: str) -> None:
    """Send and wait until the reply has ended and been rendered."""
    await send(pilot, text)
    await wait_for(pilot, lambda: settled(pilot.app))  # type: ignore[arg-type]
    await pilot.pause()


async def streaming_with_text(pilot: Pilot[None]) -> AssistantMessage:
    app: ChatApp = pilot.app  # type: ignore[assignment]
    await wait_for(
        pilot, lambda: bool(replies(app)) and "tok tok" in replies(app)[-1].reply.content
    )
    await wait_for(pilot, lambda: "tok tok" in screen_text(app))  # drawn, not only received
    return replies(app)[-1]


# -- 1. launching ---------------------------------------------------------------------------


async def test_unconfigured_start_says_what_is_missing() -> None:
    app = make_app(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Not connected yet" in text
        assert "OPENAI_API_KEY" in text
        assert "AZURE_OPENAI_ENDPOINT" in text
        assert "No model" in str(app.query_one("#connection-status").render())
        assert app.focused is app.query_one(PromptInput)


async def test_the_not_connected_card_goes_once_the_sidebar_is_filled_in(
    server: FakeOpenAIServer,
) -> None:
    app = make_app(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Not connected yet" in screen_text(app)
        app.query_one("#provider", Select).value = Provider.COMPATIBLE
        await type_into(pilot, "endpoint", server.base_url)
        await pilot.press("enter")  # a field applies when the user is done with it
        await pilot.pause()
        assert "Not connected yet" in screen_text(app)  # no model yet: still not usable
        await type_into(pilot, "model", "fake-model")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Not connected yet" not in screen_text(app))
        await chat(pilot, "hello")
        assert replies(app)[-1].state is ReplyState.COMPLETE


async def test_an_empty_transcript_welcomes_with_the_keys_to_start(
    server: FakeOpenAIServer,
) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        welcome = app.query_one(Welcome)

        def shown() -> str:
            return screen_text(app, app.query_one(Transcript))

        assert "Welcome to chat-tui" in shown()
        assert "f1 help · ctrl+p commands · ctrl+b settings" in shown()
        await chat(pilot, "hello")
        assert not welcome.display
        assert "Welcome" not in shown()
        await pilot.press("ctrl+l")  # a new conversation: empty again
        await wait_for(pilot, lambda: "Welcome to chat-tui" in shown())
        await chat(pilot, "again")
        assert "Welcome" not in shown()
        await pilot.press("ctrl+o")  # its only exchange dropped: empty again
        await wait_for(pilot, lambda: "Welcome to chat-tui" in shown())


async def test_unconfigured_send_keeps_the_message(server: FakeOpenAIServer) -> None:
    app = make_app(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello?")
        assert "Not configured" in screen_text(app)
        assert "hello?" in screen_text(app)
        assert app.chat.conversation.messages[0].content == "hello?"
        assert server.requests == []


# -- 2. streaming ---------------------------------------------------------------------------

MARKDOWN_REPLY = (
    "# Title\n\nSome **bold** text.\n\n- item one\n- item two\n\n```python\nprint('hi')\n```\n"
)


async def test_reply_streams_then_renders_as_markdown(server: FakeOpenAIServer) -> None:
    tokens = [MARKDOWN_REPLY[i : i + 3] for i in range(0, len(MARKDOWN_REPLY), 3)]
    server.enqueue(TextReply(tokens, delay=0.04))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Show me markdown")
        await wait_for(pilot, lambda: "Title" in screen_text(app))
        view = replies(app)[-1]
        # Mid-stream: part of the reply is on screen, marked as streaming.
        assert view.has_class("-streaming")
        assert "streaming" in screen_text(app)
        assert "print('hi')" not in screen_text(app)
        await wait_for(pilot, lambda: settled(app))
        await pilot.pause()
        text = screen_text(app)
        for visible in ("Title", "Some bold text.", "item one", "item two", "print('hi')"):
            assert visible in text
        for raw in ("# Title", "**bold**", "```"):
            assert raw not in text
        assert view.state is ReplyState.COMPLETE
        assert "streaming" not in text


async def test_azure_stream_in_the_app(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["Azure ", "says ", "hi"], azure=True))
    app = make_app(azure_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hi")
        assert "Azure says hi" in screen_text(app)
        assert server.last_request.kind == "azure"


async def test_transcript_follows_unless_scrolled_up(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["line\n\n"] * 300, delay=0.01))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.query_one(Transcript)
        await send(pilot, "long please")
        await wait_for(pilot, lambda: transcript.max_scroll_y > 40)
        await pilot.pause(0.1)
        assert transcript.scroll_y >= transcript.max_scroll_y - 2  # following
        transcript.scroll_to(y=5, animate=False)
        await pilot.pause(0.3)
        assert transcript.scroll_y == 5  # the user's position is kept while text arrives
        assert transcript.max_scroll_y > 60
        transcript.scroll_end(animate=False)
        await pilot.pause(0.3)
        assert transcript.scroll_y >= transcript.max_scroll_y - 2  # following again
        await wait_for(pilot, lambda: settled(app))


# -- 3. history -----------------------------------------------------------------------------


async def test_every_request_carries_system_prompt_and_history(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("First answer."), TextReply("Second answer."))
    app = make_app(compatible_settings(server, system_prompt="Be terse."))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "one")
        await chat(pilot, "two")
        assert server.last_request.messages == [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "First answer."},
            {"role": "user", "content": "two"},
        ]


# -- 4. editing settings --------------------------------------------------------------------


async def test_edited_system_prompt_is_used_next(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "before")
        await pilot.press("f2")
        area = app.query_one("#system-prompt", TextArea)
        assert app.focused is area
        area.clear()
        await pilot.press(*"Talk like a pirate.")
        await pilot.press("escape")
        assert app.focused is app.query_one(PromptInput)
        await chat(pilot, "after")
        assert server.last_request.messages[0] == {
            "role": "system",
            "content": "Talk like a pirate.",
        }


async def type_into(pilot: Pilot[None], widget_id: str, text: str) -> None:
    """Focus a field (which selects its text, as tab or a click would) and type over it."""
    field = pilot.app.query_one(f"#{widget_id}", Input)
    field.focus()
    await pilot.pause()
    await pilot.press(*text)
    assert field.value == text


async def test_edited_deployment_settings_are_used_next(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "model", "other-model")
        await type_into(pilot, "temperature", "0.5")
        await type_into(pilot, "max_tokens", "64")
        await type_into(pilot, "api_key", "sk-typed-secret")
        assert "sk-typed-secret" not in screen_text(app)  # the key is masked
        await chat(pilot, "go")
        request = server.last_request
        assert request.body is not None
        assert request.body["model"] == "other-model"
        assert request.body["temperature"] == 0.5
        assert request.body["max_tokens"] == 64
        assert request.api_key == "sk-typed-secret"
        assert "other-model" in app.sub_title


async def test_edited_endpoint_and_provider_are_used_next(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server, endpoint="http://127.0.0.1:9/v1"))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(SettingsPanel)
        await type_into(pilot, "endpoint", server.url)
        app.query_one("#provider", Select).value = Provider.AZURE
        await pilot.pause()
        assert str(app.query_one("#model-label").render()) == "Deployment"
        assert app.query_one("#api_version").display
        await type_into(pilot, "model", "dep-1")
        await type_into(pilot, "api_key", "k")
        assert panel.settings.provider is Provider.AZURE
        await chat(pilot, "hello azure")
        assert server.last_request.kind == "azure"
        assert server.last_request.deployment == "dep-1"


async def test_invalid_values_are_explained_and_not_applied(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server, temperature=0.2))
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "temperature", "3")
        await type_into(pilot, "max_tokens", "-1")
        await pilot.pause()
        # Messages wrap in the narrow sidebar: compare its words.
        text = " ".join(screen_text(app, app.query_one(SettingsPanel)).split())
        assert "Temperature must be from 0 to 2, not 3." in text
        assert "Max tokens must be more than 0, not -1." in text
        await chat(pilot, "go")
        body = server.last_request.body
        assert body is not None
        assert body["temperature"] == 0.2
        assert "max_tokens" not in body
        await type_into(pilot, "temperature", "1")
        await pilot.pause()
        assert "Temperature must" not in screen_text(app)


# -- 5. stopping ----------------------------------------------------------------------------


async def test_stop_keeps_the_partial_reply(server: FakeOpenAIServer) -> None:
    server.enqueue(SLOW)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "talk")
        view = await streaming_with_text(pilot)
        await pilot.press("escape")
        assert not app.chat.is_streaming
        assert app.focused is app.query_one(PromptInput)
        await wait_for(pilot, lambda: settled(app))
        partial = view.reply.content
        assert view.state is ReplyState.STOPPED
        assert 0 < partial.count("tok") < 400
        text = screen_text(app)
        assert "Stopped" in text
        assert "tok tok" in text
        # The input is ready at once, and the next request carries the partial reply.
        await chat(pilot, "go on")
        assert server.last_request.messages[-2:] == [
            {"role": "assistant", "content": partial},
            {"role": "user", "content": "go on"},
        ]


async def test_a_reply_stopped_before_it_is_drawn_ends_cleanly(server: FakeOpenAIServer) -> None:
    # The request goes out before the new messages are drawn: a stop in between still leaves
    # both on screen, the reply marked stopped.
    server.enqueue(TextReply("Too late.", first_delay=1.0))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        sending = asyncio.create_task(app.chat._send_text("hi"))
        await asyncio.sleep(0)
        await app.chat.action_stop()
        await sending
        await wait_for(pilot, lambda: settled(app) and bool(replies(app)))
        await pilot.pause()
        assert [view.state for view in replies(app)] == [ReplyState.STOPPED]
        text = screen_text(app)
        assert "hi" in text
        assert "Stopped" in text
        assert "Too late." not in text


async def test_the_first_requests_client_is_built_ahead(server: FakeOpenAIServer) -> None:
    # Built (and the SDK's request modules loaded) off the event loop at start: Enter sends
    # at once. A change of settings builds the next one ahead too.
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.client._warm is not None)
        warm = app.client._warm
        assert warm is not None
        await chat(pilot, "hi")
        assert warm[2] in app.client._sdks.values()
        # Another connection (a setting of its HTTP client): another client, built ahead.
        settings = app.chat.settings.with_changes(read_timeout=5.0)
        app.chat.settings = settings
        await wait_for(pilot, lambda: app.client._warm is not None)
        warm = app.client._warm
        assert warm is not None
        assert warm[0] == _connection_key(settings)


async def test_sending_while_a_reply_streams_queues_the_text(server: FakeOpenAIServer) -> None:
    # Queued, not sent and not lost: Esc gives it back (tests/test_promises.py has the rest).
    server.enqueue(SLOW)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "talk")
        await streaming_with_text(pilot)
        await send(pilot, "not yet")
        assert app.chat.queued == "not yet"
        assert len(server.requests) == 1
        await pilot.press("escape")
        assert app.query_one(PromptInput).text == "not yet"
        await pilot.press("escape")


# -- 6. clearing ----------------------------------------------------------------------------


async def test_clear_while_streaming_leaves_nothing_behind(server: FakeOpenAIServer) -> None:
    server.enqueue(SLOW)
    app = make_app(compatible_settings(server, system_prompt="Stay."))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "talk")
        await streaming_with_text(pilot)
        await pilot.press("ctrl+l")
        assert not app.chat.is_streaming
        assert len(app.chat.conversation) == 0
        assert not app.query_one(Transcript).drawn_messages()
        await pilot.pause(0.5)  # nothing from the stopped reply comes back
        assert "tok tok" not in screen_text(app)
        assert len(app.chat.conversation) == 0
        await chat(pilot, "fresh start")
        assert server.last_request.messages == [
            {"role": "system", "content": "Stay."},
            {"role": "user", "content": "fresh start"},
        ]


# -- 7. keys, help, palette, quitting -------------------------------------------------------


async def test_footer_shows_the_main_keys(server: FakeOpenAIServer) -> None:
    server.enqueue(SLOW)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        for key in ("Clear", "Settings", "Help", "palette"):
            assert key in footer
        assert "Stop" not in footer  # nothing to stop yet
        await send(pilot, "talk")
        await streaming_with_text(pilot)
        assert "Stop reply" in screen_text(app).splitlines()[-1]
        await pilot.press("escape")


async def test_help_screen_lists_every_key(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    # Tall enough for the keys to be seen at once (the commands below them scroll).
    async with app.run_test(size=(SIZE[0], 70)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = screen_text(app)
        rows = [
            ("⏎", "Send the message"),
            ("^j or shift+⏎", "New line"),
            ("esc", "Esc, the first that applies: close a dialog"),
            ("^t", "Test the connection"),
            ("^l", "Clear the conversation"),
            ("^b", "Show or hide the settings sidebar"),
            ("f2", "Edit the system prompt"),
            ("f1", "This help"),
            ("^p", "Command palette"),
            ("^q", "Quit"),
            ("^c", "Copy the text selected with the mouse"),
            ("^g", "Open the message box's text in $VISUAL or $EDITOR"),
            ("^v", "Attach the clipboard's image to the next message"),
        ]
        lines = text.splitlines()
        for key, action in rows:
            assert any(key in line and action in line for line in lines), (key, action)
        intro = str(app.screen.query_one("#help-intro", Static).render())
        assert "drag the mouse over text to select it; ctrl+c copies it" in intro
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


# How long a key may take to reach the screen, and the event loop may go without running a timer,
# while a reply streams. A tenth of a second here; on a busy two-core machine, where the test's own
# server thread competes for the interpreter, half a second at worst. A loop held by the stream
# (reading it without yielding, say) holds them for the rest of the reply.
RESPONSIVE_WALL = 2.0
# What the loop itself may do in CPU seconds between two runs of a 50 ms timer: about 0.1 here,
# however busy the machine; rendering the whole reply at once, say, takes far longer.
RESPONSIVE_WORK = 1.0


async def watch(predicate: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until `predicate` holds, looking often and without nudging the app (wait_for has
    it handle what is pending and update the screen): what is seen is on the app's own timing."""
    async with asyncio.timeout(seconds):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


async def test_ui_stays_responsive_while_streaming(server: FakeOpenAIServer) -> None:
    # A long reply of Markdown, lists and code at about a thousand tokens a second.
    tokens = tokenize(long_markdown(8000))
    server.enqueue(
        TextReply(["".join(tokens[i : i + 4]) for i in range(0, len(tokens), 4)], delay=0.004)
    )
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        # When a 50 ms timer runs, by the clock and by the CPU time of the loop's thread.
        ticks: list[tuple[float, float]] = []
        timer = app.set_interval(0.05, lambda: ticks.append((time.monotonic(), time.thread_time())))
        await send(pilot, "talk")
        await wait_for(pilot, lambda: bool(replies(app)) and bool(replies(app)[-1].reply.content))
        reply = replies(app)[-1].reply
        prompt = app.query_one(PromptInput)
        delays: list[float] = []
        for char in "responsive":
            # Spread over the reply: wait until more of it has arrived (and been handled).
            arrived = len(reply.content)
            await wait_for(pilot, lambda arrived=arrived: len(reply.content) > arrived + 1000)
            typed = prompt.text + char
            pressed = time.monotonic()
            app.post_message(events.Key(char, char))  # as the terminal driver sends a key
            await watch(lambda typed=typed: typed in screen_text(app, prompt))
            delays.append(time.monotonic() - pressed)
        timer.stop()
        streamed_throughout = app.chat.is_streaming
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
    assert streamed_throughout  # every key was pressed while the reply streamed
    assert prompt.text == "responsive"
    assert max(delays) < RESPONSIVE_WALL, f"seconds from key to screen: {delays}"
    assert len(ticks) > 10
    pairs = list(itertools.pairwise(ticks))
    stood_still = max(later[0] - earlier[0] for earlier, later in pairs)
    assert stood_still < RESPONSIVE_WALL, f"no timer ran for {stood_still:.2f} s"
    held = max(later[1] - earlier[1] for earlier, later in pairs)
    assert held < RESPONSIVE_WORK, f"the loop worked {held:.2f} CPU seconds without a timer"


async def test_sidebar_toggles(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(SettingsPanel)
        assert sidebar.display
        await pilot.press("ctrl+b")
        assert not sidebar.display
        await pilot.press("ctrl+b")
        assert sidebar.display


async def test_quit_while_streaming_is_clean(server: FakeOpenAIServer) -> None:
    server.enqueue(SLOW)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "talk")
        await streaming_with_text(pilot)
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    assert app._exception is None


# -- the prompt box -------------------------------------------------------------------------


async def test_enter_sends_ctrl_j_and_shift_enter_add_lines(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"line one", "ctrl+j", *"line two", "shift+enter", *"three", "enter")
        await wait_for(pilot, lambda: settled(app))
        assert server.last_request.messages[-1] == {
            "role": "user",
            "content": "line one\nline two\nthree",
        }
        assert app.query_one(PromptInput).text == ""


async def test_blank_message_sends_nothing(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "ctrl+j", "enter")
        await pilot.pause(0.2)
        assert server.requests == []
        assert len(app.chat.conversation) == 0


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (ErrorReply(401), "Key rejected"),
        (
            ErrorReply(404, {"error": {"code": "DeploymentNotFound", "message": "nope"}}),
            "not found",
        ),
        (ErrorReply(403), "Access denied"),
    ],
)
async def test_request_errors_are_shown_and_the_message_stays(
    server: FakeOpenAIServer, reply: ErrorReply, shown: str
) -> None:
    server.enqueue(reply)
    app = make_app(azure_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "my question")
        text = screen_text(app)
        assert shown in text
        assert "my question" in text
        assert replies(app)[-1].state is ReplyState.FAILED
        # The app is still usable, and the unanswered question is sent again.
        await chat(pilot, "again")
        assert [m["content"] for m in server.last_request.messages[1:]] == ["my question", "again"]


async def test_server_down_is_shown(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server, endpoint="http://127.0.0.1:9/v1"))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "anyone?")
        assert "Cannot reach 127.0.0.1:9" in screen_text(app)


async def test_drop_mid_stream_keeps_the_partial_reply(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["kept ", "text ", "lost"], drop_after=2))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "go")
        text = screen_text(app)
        assert "kept text" in text
        assert "Interrupted" in text
        assert replies(app)[-1].state is ReplyState.INTERRUPTED


@pytest.mark.parametrize(
    ("reply", "notice", "state"),
    [
        (TextReply(["cut"], finish_reason="length"), "token limit", ReplyState.LENGTH),
        (TextReply(["hm"], finish_reason="content_filter"), "content filter", ReplyState.FILTERED),
        (TextReply(["so"], finish_reason=None, done=False), "Incomplete", ReplyState.INCOMPLETE),
    ],
)
async def test_how_a_reply_ended_is_shown(
    server: FakeOpenAIServer, reply: TextReply, notice: str, state: ReplyState
) -> None:
    server.enqueue(reply)
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "go")
        assert notice in screen_text(app)
        assert replies(app)[-1].state is state


# -- untrusted text -------------------------------------------------------------------------

HOSTILE = "[bold]not bold[/bold] [/INST] [link=http://x]y[/link] \x1b[31mred\x1b[0m"


async def test_markup_and_escapes_are_shown_literally(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(HOSTILE), ErrorReply(400, "bad [/INST] body \x1b[2J"))
    app = make_app(compatible_settings(server, model="[b]model"))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "user [red]text[/red] \x1b[1m")
        text = screen_text(app)
        assert "user [red]text[/red] ␛[1m" in text
        assert "[bold]not bold[/bold] [/INST] [link=http://x]y[/link] ␛[31mred␛[0m" in text
        await chat(pilot, "more")
        assert "bad [/INST] body ␛[2J" in screen_text(app)
        assert "[b]model" in app.sub_title


async def test_a_long_session_draws_only_the_latest_messages(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        for n in range(32):
            server.enqueue(TextReply(f"answer {n}"))
            await chat(pilot, f"question {n}")
        transcript = app.query_one(Transcript)
        assert len(transcript.drawn_messages()) == MAX_DRAWN
        assert transcript.earlier == 64 - MAX_DRAWN
        assert len(app.chat.conversation.messages) == 64
        assert len(server.last_request.messages) == 64  # system prompt + 63 earlier + this one
        await pilot.press("f4")  # MAX_DRAWN more at a time
        await pilot.pause()
        assert transcript.earlier == 64 - 2 * MAX_DRAWN
        # Scrolled up to the top (the wheel, page up), more are drawn above, and what was at
        # the top stays in view where it was.
        first = transcript.drawn_messages()[0]
        at_the_top = transcript.content_region.y + first.virtual_region.y  # once scrolled there
        transcript.scroll_home(animate=False)
        await wait_for(pilot, lambda: transcript.earlier == 64 - 3 * MAX_DRAWN)
        await pilot.pause()
        assert transcript.scroll_y > 0
        assert first.region.y == at_the_top
        while transcript.earlier:
            await pilot.press("f4")
            await pilot.pause()
        assert transcript.drawn_messages()[0].message.content == "question 0"  # type: ignore[attr-defined]
