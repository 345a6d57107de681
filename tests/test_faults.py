"""Every fault of the matrix, driven by the local server over real HTTP, seen through the app."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from textual import events

from chat_tui.reply_state import ReplyState
from chat_tui.tui.widgets.prompt import MAX_MESSAGE_CHARS, PromptInput
from tests.conftest import azure_settings, compatible_settings, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import SIZE, chat, make_app, replies, send, settled, wait_for

if TYPE_CHECKING:
    from tests.openai_server import FakeOpenAIServer


def words(app: object) -> str:
    """The screen's text with line breaks folded, as wrapped messages read."""
    return " ".join(screen_text(app).replace("│", " ").split())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (ErrorReply(401), ["Key rejected", "answered 401", "Check the API key"]),
        (ErrorReply(403), ["Access denied", "answered 403"]),
        (
            ErrorReply(404, {"error": {"code": "DeploymentNotFound", "message": "No such."}}),
            ["Deployment not found", "'my-deployment'", "not the model name"],
        ),
    ],
)
async def test_refusals_are_not_retried_and_keep_the_prompt(
    server: FakeOpenAIServer, reply: ErrorReply, shown: list[str]
) -> None:
    server.enqueue(reply)
    app = make_app(azure_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "my question")
        text = words(app)
        for part in [*shown, server.url, "my question"]:
            assert part in text
        assert len(server.requests) == 1  # never retried
        # Retry (ctrl+r) replaces the failed reply instead of adding another one.
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: settled(app) and len(server.requests) == 2)
        await pilot.pause()
        assert len(replies(app)) == 1
        assert replies(app)[0].state is ReplyState.COMPLETE
        assert [m["content"] for m in server.last_request.messages[1:]] == ["my question"]


async def test_context_length_offers_to_drop_the_oldest_turns(server: FakeOpenAIServer) -> None:
    server.enqueue(
        TextReply("First answer."),
        TextReply("Second answer."),
        ErrorReply(400, {"error": {"code": "context_length_exceeded", "message": "Too long."}}),
    )
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "one")
        await chat(pilot, "two")
        await chat(pilot, "three")
        text = words(app)
        assert "Conversation too long" in text
        assert "Drop the oldest exchange (^o)" in text or "ctrl+o" in text
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "First answer." not in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: settled(app) and len(server.requests) == 4)
        assert [m["content"] for m in server.last_request.messages[1:]] == [
            "two",
            "Second answer.",
            "three",
        ]


async def test_content_filter_names_the_category(server: FakeOpenAIServer) -> None:
    body = {
        "error": {
            "code": "content_filter",
            "param": "prompt",
            "message": "The prompt was filtered.",
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {
                    "hate": {"filtered": False, "severity": "safe"},
                    "violence": {"filtered": True, "severity": "high"},
                },
            },
        }
    }
    server.enqueue(ErrorReply(400, body))
    app = make_app(azure_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "something violent")
        text = words(app)
        assert "Blocked by the content filter" in text
        assert "The filter stopped your message for violence (high)." in text
        assert "hate" not in text
        assert app.chat.conversation.messages[0].content == "something violent"


@pytest.mark.parametrize("headers", [{"retry-after": "1"}, {}])
async def test_rate_limit_is_retried_visibly(server: FakeOpenAIServer, headers: dict) -> None:
    server.enqueue(ErrorReply(429, headers=headers), TextReply("Finally."))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        if headers:  # a one-second wait is long enough to see the countdown
            await wait_for(pilot, lambda: "retrying in" in words(app))
            assert "Rate limited: retrying in 1 s (attempt 2 of 4) esc cancels" in words(app)
        await wait_for(pilot, lambda: settled(app))
        await pilot.pause()
        assert "Finally." in screen_text(app)
        assert "retrying" not in words(app)
        assert len(server.requests) == 2
        assert server.requests[1].headers.get("x-stainless-retry-count") in (None, "0")


async def test_a_long_retry_after_is_waited_out_visibly_or_named(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(ErrorReply(529, headers={"retry-after": "45"}))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "retrying in" in words(app))
        assert "retrying in 45 s (attempt 2 of 4) esc cancels" in words(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: settled(app))
        # Longer than chat-tui waits by itself: it stops at once and says how long.
        server.enqueue(ErrorReply(429, headers={"retry-after": "900"}))
        await chat(pilot, "again")
        assert "The server asks to wait 900 s before the next request" in words(app)
        assert len(server.requests) == 2


async def test_server_errors_are_retried_then_explained(server: FakeOpenAIServer) -> None:
    server.enqueue(ErrorReply(500), ErrorReply(502), ErrorReply(503), ErrorReply(503))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        text = words(app)
        assert "Server error 503" in text
        assert "Gave up after 4 attempts" in text
        assert len(server.requests) == 4
        assert app.chat.conversation.messages[0].content == "hello"


async def test_the_wait_for_a_retry_can_be_cancelled(server: FakeOpenAIServer) -> None:
    server.enqueue(ErrorReply(429, headers={"retry-after": "2"}))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "retrying in" in words(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: settled(app))
        await asyncio.sleep(2.5)
        assert len(server.requests) == 1  # the retry never happened
        assert replies(app)[0].state is ReplyState.STOPPED
        assert "Stopped" in words(app)


async def test_quitting_while_a_retry_waits_is_clean(server: FakeOpenAIServer) -> None:
    server.enqueue(ErrorReply(429, headers={"retry-after": "2"}))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "retrying in" in words(app))
        await pilot.press("ctrl+q")
    assert app.return_code == 0


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("http://127.0.0.1:9/v1", "Cannot reach 127.0.0.1:9"),
        ("http://no-such-host.invalid/v1", "Cannot reach no-such-host.invalid"),
    ],
)
async def test_unreachable_servers(server: FakeOpenAIServer, endpoint: str, shown: str) -> None:
    app = make_app(compatible_settings(server, endpoint=endpoint))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "anyone?")
        assert shown in words(app)
        assert "anyone?" in words(app)


async def test_a_stall_keeps_the_partial_reply(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["kept ", "so ", "far ", "lost"], stall_after=3, stall_seconds=10))
    app = make_app(compatible_settings(server, read_timeout=1))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "go")
        text = words(app)
        assert "kept so far" in text
        assert "No response for 1 s" in text
        assert replies(app)[0].state is ReplyState.INTERRUPTED


async def test_a_malformed_chunk_keeps_the_partial_reply(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply(["good ", "text"], raw_chunks=["{not json"]))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "go")
        text = words(app)
        assert "good text" in text
        assert "Malformed response" in text
        assert "line 1 column 2 (char 1)" in text
        assert "at at" not in text
        assert replies(app)[0].state is ReplyState.INTERRUPTED


async def test_what_a_partial_reply_contributes_to_the_next_request(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(TextReply(["half ", "a ", "reply"], drop_after=2), ErrorReply(401))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first")  # interrupted: its text counts
        await chat(pilot, "second")  # failed before any text: it does not
        await chat(pilot, "third")
        assert [(m["role"], m["content"]) for m in server.last_request.messages[1:]] == [
            ("user", "first"),
            ("assistant", "half a "),
            ("user", "second"),
            ("user", "third"),
        ]


async def test_regenerate_replaces_a_finished_reply(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("Meh."), TextReply("Better."))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "answer me")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: settled(app) and len(server.requests) == 2)
        await pilot.pause()
        assert [v.reply.content for v in replies(app)] == ["Better."]
        assert "Meh." not in screen_text(app)
        assert server.last_request.messages[-1] == {"role": "user", "content": "answer me"}


async def test_a_huge_paste_is_refused_with_a_message(server: FakeOpenAIServer) -> None:
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.query_one(PromptInput)
        # Posted to the app, as the terminal driver does; the app hands it to the focused widget.
        app.post_message(events.Paste("x" * 1_000_000))
        await pilot.pause()
        assert prompt.text == ""
        assert "That paste is 1,000,000 characters" in words(app)
        assert f"{MAX_MESSAGE_CHARS:,}" in words(app)
        app.post_message(events.Paste("y" * 50_000))
        await pilot.pause()
        assert len(prompt.text) == 50_000


async def test_notifications_show_markup_literally(server: FakeOpenAIServer) -> None:
    server.enqueue(ErrorReply(401, {"error": {"message": "[bold]no[/bold] [/INST]"}}))
    app = make_app(compatible_settings(server, api_key="k"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "[bold]no[/bold] [/INST]" in words(app))
