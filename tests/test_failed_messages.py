"""A failed message does not poison the conversation, and nothing that arrived is lost.

Driven through the app against the local server: what the user sees, what the next request
carries, and what the store keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.reply_state import ReplyState
from chat_tui.store import Store
from chat_tui.tui.widgets.messages import UserMessage
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import SIZE, chat, replies, send, settled, wait_for
from tests.test_hostile import assert_shown_safely, hostile
from tests.test_persistence import saved_rows, saving_app

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

FILTERED = ErrorReply(
    400, {"error": {"code": "content_filter", "message": "The prompt was filtered."}}
)
TOO_LONG = ErrorReply(
    400, {"error": {"code": "context_length_exceeded", "message": "Too many tokens."}}
)


def sent_texts(server: FakeOpenAIServer) -> list[str]:
    """The last request's messages after the system prompt."""
    return [m["content"] for m in server.last_request.messages if m["role"] != "system"]


def user_views(pilot: Pilot[None]) -> dict[str, UserMessage]:
    return {view.message.content: view for view in pilot.app.query(UserMessage)}


async def select(pilot: Pilot[None], text: str) -> None:
    """Move into the messages with the keyboard and select the one that reads `text`."""
    transcript = pilot.app.query_one(Transcript)
    await pilot.press("shift+tab")
    await wait_for(pilot, lambda: transcript.has_focus)
    for _ in range(20):
        selected = transcript.selected
        if selected is not None and getattr(selected, "message", None).content == text:
            return
        await pilot.press("up")
    raise AssertionError(f"{text!r} could not be selected")


async def test_a_refused_message_is_not_sent_again_with_the_next(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("First answer."), TOO_LONG, TextReply("Fine."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first")
        await chat(pilot, "a very long paste")
        refused = user_views(pilot)["a very long paste"]
        assert refused.has_class("-refused")
        assert "refused" in screen_text(app)
        assert "not sent again" in screen_text(app)
        await chat(pilot, "a harmless follow-up")
        assert sent_texts(server) == ["first", "First answer.", "a harmless follow-up"]
        # Still on screen, still marked, and saved with the error that refused it.
        assert user_views(pilot)["a very long paste"].has_class("-refused")
        assert "Conversation too long" in screen_text(app)


async def test_a_refused_message_can_be_sent_again_or_taken_out(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Hi."), FILTERED, TextReply("Later."), TextReply("Resent answer."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        await chat(pilot, "blocked words")
        await chat(pilot, "later")
        # r on the refused message sends it again, at the end: it was never in the conversation.
        await select(pilot, "blocked words")
        await pilot.press("r")
        await wait_for(pilot, lambda: len(server.requests) == 4 and settled(app))
        assert sent_texts(server) == ["hello", "Hi.", "later", "Later.", "blocked words"]
        contents = [view.message.content for view in app.query(UserMessage)]
        assert contents == ["hello", "later", "blocked words"]
        assert not any(view.has_class("-refused") for view in app.query(UserMessage))


async def test_a_message_that_failed_for_other_reasons_is_pending_until_answered(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(ErrorReply(401), TextReply("Both answered."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first try")
        assert user_views(pilot)["first try"].has_class("-pending")
        assert "not answered" in screen_text(app)
        await chat(pilot, "and this")
        assert sent_texts(server) == ["first try", "and this"]
        assert not user_views(pilot)["first try"].has_class("-pending")


async def test_an_exchange_taken_out_is_not_sent_kept_saved_and_restorable(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(TextReply("One."), TextReply("Two."), TextReply("Three."), TextReply("Four."))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "one")
        await chat(pilot, "two")
        await select(pilot, "one")
        await pilot.press("x")
        await wait_for(pilot, lambda: "one" not in user_views(pilot))
        assert "One." not in screen_text(app)
        await pilot.press("escape")
        await chat(pilot, "three")
        assert sent_texts(server) == ["two", "Two.", "three"]
        await wait_for(pilot, lambda: len(saved_rows(path, hidden=True)) == 6)
        removed = [row for row in saved_rows(path, hidden=True) if row[3] == "removed"]
        assert removed == [
            ("user", "one", "complete", "removed"),
            ("assistant", "One.", "complete", "removed"),
        ]
        # u, in the messages, brings it back in its place.
        await pilot.press("shift+tab", "u")
        await wait_for(pilot, lambda: "one" in user_views(pilot))
        await pilot.press("escape")
        await chat(pilot, "four")
        assert sent_texts(server)[:2] == ["one", "One."]
        await wait_for(pilot, lambda: all(row[3] is None for row in saved_rows(path, hidden=True)))


async def test_a_failed_retry_keeps_the_partial_reply(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(TextReply("kept " * 40, drop_after=20), ErrorReply(401))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "tell me")
        assert replies(app)[-1].state is ReplyState.INTERRUPTED
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 2 and settled(app))
        await pilot.pause()
        # The partial reply is still there, with what became of asking again.
        assert len(replies(app)) == 1
        assert replies(app)[0].reply.content.startswith("kept kept")
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert "kept kept" in text
        assert "Asking again failed" in text
        assert "Key rejected" in text
        rows = saved_rows(path, hidden=True)
        await wait_for(pilot, lambda: len(saved_rows(path, hidden=True)) == 3)
        rows = saved_rows(path, hidden=True)
        assert rows[1][2:] == ("interrupted", None)
        assert rows[1][1].startswith("kept kept")
        assert rows[2] == ("assistant", "", "failed", None)  # a branch beside the partial reply
        assert saved_rows(path) == [("user", "tell me", "complete"), rows[1][:3]]


async def test_a_retry_replaces_the_reply_only_once_it_has_text(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Old answer."), TextReply("New answer.", first_delay=1.0))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "question")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 2)
        await pilot.pause(0.3)
        assert "Old answer." in screen_text(app)  # nothing new yet: the old one stays
        await wait_for(pilot, lambda: settled(app))
        await pilot.pause()
        assert "Old answer." not in screen_text(app)
        assert [view.reply.content for view in replies(app)] == ["New answer."]


async def test_edit_and_resend_keeps_the_replaced_turns_saved(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(TextReply("A."), TextReply("B."), TextReply("A2."))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "a")
        await chat(pilot, "b")
        await select(pilot, "a")
        await pilot.press("e")
        await pilot.press("end", "2", "enter")
        await wait_for(pilot, lambda: len(server.requests) == 3 and settled(app))
        assert sent_texts(server) == ["a2"]
        await wait_for(pilot, lambda: len(saved_rows(path, hidden=True)) == 6)
        assert saved_rows(path) == [
            ("user", "a2", "complete"),
            ("assistant", "A2.", "complete"),
        ]
        # The old turns stay, as the branch beside the edit (not shown, not hidden).
        every = saved_rows(path, hidden=True)
        assert [row[1] for row in every if row[:3] not in saved_rows(path)] == [
            "a",
            "A.",
            "b",
            "B.",
        ]
        assert all(row[3] is None for row in every)


async def test_a_reopened_conversation_shows_why_a_reply_failed(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(ErrorReply(401), TOO_LONG)
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        await chat(pilot, "long one")
        await wait_for(pilot, lambda: len(saved_rows(path)) == 4 and app.store.is_open)
    again = saving_app(server, path, open_conversation=Store(path).latest_id())
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(replies(again)) == 2)
        await pilot.pause()
        text = " ".join(screen_text(again).replace("│", " ").split())
        assert "Key rejected" in text
        assert "Check the API key" in text
        assert "Conversation too long" in text
        # The refused message is still not sent, after reopening.
        await wait_for(pilot, lambda: user_views(pilot)["long one"].has_class("-refused"))
        assert user_views(pilot)["hello"].has_class("-pending")


async def test_a_saved_error_is_shown_safely(server: FakeOpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(ErrorReply(400, {"error": {"message": hostile("REFUSAL")}}))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        await wait_for(pilot, lambda: len(saved_rows(path)) == 2)
    again = saving_app(server, path, open_conversation=Store(path).latest_id())
    async with again.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: "REFUSAL" in screen_text(again))
        assert_shown_safely(again, "REFUSAL")


async def test_a_message_queued_at_quitting_is_saved_unanswered(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(TextReply(["tok "] * 2000, delay=0.01))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.is_open)
        await send(pilot, "first")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        await send(pilot, "queued for later")
        await wait_for(pilot, lambda: app.chat.queued == "queued for later")
        await pilot.press("ctrl+q")
    assert [row[:3:2] for row in saved_rows(path)] == [
        ("user", "complete"),
        ("assistant", "stopped"),
        ("user", "complete"),
    ]
    assert saved_rows(path)[-1][1] == "queued for later"
    again = saving_app(server, path, open_conversation=Store(path).latest_id())
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: (
                "queued for later" in user_views(pilot)
                and user_views(pilot)["queued for later"].has_class("-pending")
            ),
        )
