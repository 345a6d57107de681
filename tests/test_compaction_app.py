"""Compaction in the app: ctrl+s, /compact and the palette ask the model for a summary of the
older turns, and the requests after it carry the summary in their place; by itself past the
`compact_at` fill; saved, reopened, per branch; a failure or Esc changes nothing.

Driven through the app against the local server: what the server received, what the user sees,
and what the store keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input

from chat_tui.client import ChatClient
from chat_tui.compaction import ASK, INSTRUCTION, with_summary
from chat_tui.conversation import Conversation
from chat_tui.store import Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.widgets.messages import SummaryMark
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, run_from_palette, send, settled, wait_for
from tests.test_branches import exchange, saved
from tests.test_branches_app import NEXT, PREVIOUS, assistant, send_now, user
from tests.test_failed_messages import select
from tests.test_persistence import saving_app

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer

SYSTEM = {"role": "system", "content": "Be kind."}
SUMMARY = "Ada asked q1; the answer was A1."


def summarised_system(summary: str = SUMMARY) -> dict[str, str]:
    return {"role": "system", "content": with_summary("Be kind.", summary)}


def summary_asked(*turns: tuple[str, str]) -> list[dict[str, str]]:
    """The summary request for these (user, assistant) turns."""
    transcript = "\n\n".join(f"User: {q}\n\nAssistant: {a}" for q, a in turns)
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"{transcript}\n\n{ASK}"},
    ]


def toasts(app: ChatApp) -> str:
    return " ".join(n.message for n in app._notifications)


def folded(app: ChatApp) -> list[str]:
    """The texts of the drawn messages shown folded as summarised."""
    return [
        view.message.content  # type: ignore[attr-defined]
        for view in app.query_one(Transcript).drawn_messages()
        if view.has_class("-summarised")
    ]


async def three_exchanges(pilot: Pilot[None]) -> None:
    for n in (1, 2, 3):
        await chat(pilot, f"q{n}")


async def compacted(pilot: Pilot[None]) -> None:
    """Wait until the summary has come and been kept."""
    app: ChatApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.chat.conversation.summary_point() is not None)
    await wait_for(pilot, lambda: settled(app))
    await pilot.pause()


async def test_compact_sends_the_older_turns_and_later_requests_carry_the_summary(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)), TextReply(SUMMARY), TextReply("A4."))
    path = tmp_path / "chats.db"
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await send(pilot, "/compact")
        await compacted(pilot)
        # The two latest exchanges stay as they are; the first is summarised.
        assert server.requests[3].messages == summary_asked(("q1", "A1."))
        assert server.requests[3].body["stream"] is True  # as a reply: Esc stops it
        await chat(pilot, "q4")
        assert server.last_request.messages == [
            summarised_system(),
            user("q2"),
            assistant("A2."),
            user("q3"),
            assistant("A3."),
            user("q4"),
        ]
        assert [m["role"] for m in server.last_request.messages].count("system") == 1
        # The summarised turns stay on screen, folded, under a mark that unfolds them.
        assert folded(app) == ["q1", "A1."]
        text = screen_text(app)
        assert "2 earlier messages summarised" in text
        assert SUMMARY not in text
        await app.chat.run_action("toggle_summarised")
        await wait_for(pilot, lambda: SUMMARY in screen_text(app))
        assert not app.query_one(Transcript).has_class("-fold-summarised")
        conversation_id = app.chat.conversation.id

    # Saved: the summary stays with the message it covers through, and a reopened
    # conversation sends it.
    store = Store(path)
    try:
        stored = store.load(conversation_id)
    finally:
        store.close()
    assert [m.summary for m in stored.messages if m.summary] == [SUMMARY]
    assert next(m for m in stored.messages if m.summary).content == "A1."
    server.enqueue(TextReply("A5."))
    reopened = saving_app(server, path, open_conversation=conversation_id)
    async with reopened.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(reopened.chat.conversation.shown) == 8)
        await wait_for(pilot, lambda: folded(reopened) == ["q1", "A1."])
        await chat(pilot, "q5")
        assert server.last_request.messages[:2] == [summarised_system(), user("q2")]
        assert server.last_request.messages[-1] == user("q5")


async def test_the_key_and_the_palette_compact_and_a_short_chat_is_left_alone(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("A1."), TextReply("A2."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "q1")
        await chat(pilot, "q2")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Too short to compact" in toasts(app))
        assert len(server.requests) == 2
        server.enqueue(TextReply("A3."), TextReply("First summary."), TextReply("A4."))
        await chat(pilot, "q3")
        await pilot.press("ctrl+s")
        await compacted(pilot)
        await chat(pilot, "q4")
        server.enqueue(TextReply("Second summary."))
        await run_from_palette(pilot, "compact conv", "Compact conversation")
        await wait_for(
            pilot, lambda: app.chat.conversation.summary_point().summary == "Second summary."
        )
        # The new summary stands for the earlier one too: it is sent to be folded in.
        asked = server.last_request.messages[1]["content"]
        assert asked.startswith(
            "A summary of the turns before these:\n<summary-of-earlier-turns>\nFirst summary.\n"
        )
        assert "User: q2\n\nAssistant: A2." in asked
        assert "q3" not in asked
        assert folded(app) == ["q1", "A1.", "q2", "A2."]


async def test_a_branch_without_the_summarised_turns_sends_them_in_full(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)), TextReply(SUMMARY))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await pilot.press("ctrl+s")
        await compacted(pilot)
        # An edit of the first message: a branch beside it, which has no summarised turns.
        server.enqueue(TextReply("B1."), TextReply("B2."), TextReply("A4."), TextReply("B3."))
        await select(pilot, "q1")
        await pilot.press("e")
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: prompt.text == "q1")
        prompt.load_text("q1b")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(server.requests) == 5 and settled(app))
        assert server.last_request.messages == [SYSTEM, user("q1b")]
        await send_now(pilot, "more")
        assert server.last_request.messages == [SYSTEM, user("q1b"), assistant("B1."), user("more")]
        assert folded(app) == []
        assert not app.query(SummaryMark)
        # Back to the branch that was compacted: the summary again.
        await select(pilot, "q1b")
        await pilot.press(PREVIOUS)
        await wait_for(pilot, lambda: folded(app) == ["q1", "A1."])
        await send_now(pilot, "q4")
        assert server.last_request.messages[0] == summarised_system()
        assert server.last_request.messages[1] == user("q2")
        # And to the other one: its turns in full once more.
        await select(pilot, "q1")
        await pilot.press(NEXT)
        await wait_for(pilot, lambda: not folded(app))
        await send_now(pilot, "again")
        assert server.last_request.messages == [
            SYSTEM,
            user("q1b"),
            assistant("B1."),
            user("more"),
            assistant("B2."),
            user("again"),
        ]


async def compact_at_50(pilot: Pilot[None]) -> None:
    """Set compact_at to 50 as a user does, in the sidebar, then go back to the message box."""
    field = pilot.app.query_one("#compact_at", Input)
    field.focus()  # which selects its text: the first key replaces it
    await pilot.pause()
    await pilot.press("backspace", *"50%", "enter", "escape")
    assert pilot.app.chat.settings.compact_at == 50  # type: ignore[attr-defined]


@pytest.mark.parametrize("set_in", ["settings", "sidebar"])
async def test_past_the_threshold_the_conversation_is_compacted_before_sending(
    server: FakeOpenAIServer, set_in: str
) -> None:
    big = {"prompt_tokens": 600, "completion_tokens": 10, "total_tokens": 610}
    server.enqueue(TextReply("A1."), TextReply("A2.", usage=big), TextReply(SUMMARY))
    server.enqueue(TextReply("A3."))
    threshold = 50 if set_in == "settings" else 0
    settings = compatible_settings(
        server, system_prompt="Be kind.", context_window=1000, compact_at=threshold
    )
    app = ChatApp(settings, client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        if set_in == "sidebar":
            assert app.query_one("#compact_at", Input).value == ""  # off: only when asked
            await compact_at_50(pilot)
        await chat(pilot, "q1")
        await chat(pilot, "q2")
        assert len(server.requests) == 2  # under the threshold so far: nothing compacted
        await send(pilot, "q3")
        await wait_for(pilot, lambda: len(server.requests) == 4 and settled(app))
        assert "would fill 61% of the context window (compact at 50%)" in toasts(app)
        assert server.requests[2].messages == summary_asked(("q1", "A1."))
        assert server.requests[3].messages == [
            summarised_system(),
            user("q2"),
            assistant("A2."),
            user("q3"),
        ]
        await wait_for(pilot, lambda: "A3." in screen_text(app))
        assert folded(app) == ["q1", "A1."]
        assert app.chat.context_fill().fraction < 0.5


async def test_a_failed_compaction_changes_nothing(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)))
    server.enqueue(ErrorReply(400, {"error": {"message": "[red]no[/] \x1b[2J", "type": "x"}}))
    server.enqueue(TextReply("A4."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Compaction failed" in toasts(app))
        await wait_for(pilot, lambda: settled(app))
        assert "Nothing changed." in toasts(app)
        assert "\x1b" not in toasts(app)
        assert app.chat.conversation.summary_point() is None
        assert not app.query(SummaryMark)
        assert folded(app) == []
        await chat(pilot, "q4")
        assert server.last_request.messages[:3] == [SYSTEM, user("q1"), assistant("A1.")]


async def test_esc_stops_a_compaction_and_nothing_changes(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)))
    server.enqueue(TextReply(["tok "] * 400, delay=0.02), TextReply("A4."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Summarising 2 earlier messages" in screen_text(app))
        await wait_for(pilot, lambda: len(server.requests) == 4)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        await wait_for(pilot, lambda: "Compaction stopped: nothing changed." in toasts(app))
        await wait_for(pilot, lambda: not app.query(SummaryMark))
        assert app.chat.conversation.summary_point() is None
        await chat(pilot, "q4")
        assert server.last_request.messages[:2] == [SYSTEM, user("q1")]


async def test_a_hostile_summary_is_shown_as_text(server: FakeOpenAIServer, tmp_path: Path) -> None:
    hostile = "[red]x[/] \x1b[31mred\x1b[0m \u202eevil"
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)), TextReply([hostile]))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await pilot.press("ctrl+s")
        await compacted(pilot)
        await app.chat.run_action("toggle_summarised")
        await wait_for(pilot, lambda: "[red]x[/]" in screen_text(app))
        text = screen_text(app)
        assert "\x1b" not in text
        assert "\u202e" not in text


async def test_esc_during_an_automatic_compaction_keeps_the_message_unsent(
    server: FakeOpenAIServer,
) -> None:
    big = {"prompt_tokens": 600, "completion_tokens": 10, "total_tokens": 610}
    server.enqueue(TextReply("A1."), TextReply("A2.", usage=big))
    server.enqueue(TextReply(["tok "] * 400, delay=0.02))
    settings = compatible_settings(
        server, system_prompt="Be kind.", context_window=1000, compact_at=50
    )
    app = ChatApp(settings, client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "q1")
        await chat(pilot, "q2")
        await send(pilot, "q3")
        await wait_for(pilot, lambda: "before your message goes" in screen_text(app))
        await wait_for(pilot, lambda: len(server.requests) == 3)
        assert "not answered" not in screen_text(app)  # its reply is on the way, after this
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Your message was not sent" in toasts(app))
        await wait_for(pilot, lambda: "not answered" in screen_text(app))
        assert app.chat.conversation.summary_point() is None
        assert len(server.requests) == 3
        # ctrl+r asks for its reply: past the threshold still, it compacts first again.
        server.enqueue(TextReply(SUMMARY), TextReply("A3."))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 5 and settled(app))
        assert server.requests[3].messages == summary_asked(("q1", "A1."))
        assert server.last_request.messages == [
            summarised_system(),
            user("q2"),
            assistant("A2."),
            user("q3"),
        ]


async def test_a_conversation_too_long_for_the_model_is_compacted_and_goes_on(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    too_long = {"error": {"code": "context_length_exceeded", "message": "Too many tokens."}}
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)), ErrorReply(400, too_long))
    server.enqueue(TextReply(SUMMARY), TextReply("A4."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await chat(pilot, "q4")
        text = " ".join(screen_text(app).split())
        assert "Conversation too long" in text
        assert "Compact conversation" in text  # the error card offers it, with its key
        await pilot.press("ctrl+s")
        await compacted(pilot)
        assert server.requests[4].messages == summary_asked(("q1", "A1."), ("q2", "A2."))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 6 and settled(app))
        assert server.last_request.messages == [
            summarised_system(),
            user("q3"),
            assistant("A3."),
            user("q4"),
        ]
        await wait_for(pilot, lambda: "A4." in screen_text(app))


async def test_quitting_while_compacting_is_clean(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)))
    server.enqueue(TextReply(["tok "] * 400, delay=0.02))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(server.requests) == 4)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code in (0, None)


async def test_the_mark_stands_above_the_drawn_messages_when_the_summarised_are_earlier(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    conversation = Conversation("Be kind.")
    for n in range(1, 21):
        exchange(conversation, f"q{n}", f"A{n}.")
    conversation.compact(conversation.shown[5], SUMMARY)  # through A3: long before the drawn
    path = tmp_path / "chats.db"
    store = Store(path)
    try:
        conversation_id = saved(store, conversation)
    finally:
        store.close()
    app = saving_app(server, path, open_conversation=conversation_id)
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.query_one(Transcript)
        await wait_for(pilot, lambda: bool(app.query(SummaryMark)))
        drawn = transcript.drawn_messages()
        assert transcript.earlier > 6  # the summarised messages are not drawn
        children = list(transcript.children)
        assert children.index(app.query_one(SummaryMark)) == children.index(drawn[0]) - 1
        assert not folded(app)
        # Drawing the earlier messages puts the mark after the last summarised one.
        while transcript.earlier:
            await app.chat.run_action("show_earlier")
        await wait_for(pilot, lambda: folded(app) == ["q1", "A1.", "q2", "A2.", "q3", "A3."])
        children = list(transcript.children)
        after = children[children.index(app.query_one(SummaryMark)) - 1]
        assert after.message.content == "A3."  # type: ignore[attr-defined]


async def test_a_retry_past_the_threshold_is_compacted_first(server: FakeOpenAIServer) -> None:
    big = {"prompt_tokens": 600, "completion_tokens": 10, "total_tokens": 610}
    too_long = {"error": {"code": "context_length_exceeded", "message": "Too many tokens."}}
    server.enqueue(TextReply("A1."), TextReply("A2.", usage=big), ErrorReply(400, too_long))
    server.enqueue(TextReply(SUMMARY), TextReply("A3."))
    settings = compatible_settings(server, system_prompt="Be kind.", context_window=1000)
    app = ChatApp(settings, client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "q1")
        await chat(pilot, "q2")
        await chat(pilot, "q3")  # compact_at is off: sent as it is, and refused
        assert "Conversation too long" in screen_text(app)
        await compact_at_50(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 5 and settled(app))
        assert server.requests[3].messages == summary_asked(("q1", "A1."))
        assert server.last_request.messages == [
            summarised_system(),
            user("q2"),
            assistant("A2."),
            user("q3"),
        ]
        await wait_for(pilot, lambda: "A3." in screen_text(app))


async def test_a_retried_reply_stays_until_the_new_one_comes_after_the_compaction(
    server: FakeOpenAIServer,
) -> None:
    big = {"prompt_tokens": 600, "completion_tokens": 10, "total_tokens": 610}
    server.enqueue(TextReply("A1."), TextReply("A2.", usage=big), TextReply("A3."))
    server.enqueue(TextReply(["tok "] * 400, delay=0.02))
    settings = compatible_settings(server, system_prompt="Be kind.", context_window=1000)
    app = ChatApp(settings, client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await three_exchanges(pilot)
        await compact_at_50(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 4)
        assert "A3." in screen_text(app)  # on screen while the summary is asked for
        await pilot.press("escape")  # stopped: the reply stays, and the chat goes on from it
        await wait_for(pilot, lambda: "Not asked again" in toasts(app))
        assert app.chat.conversation.shown[-1].content == "A3."
        server.enqueue(TextReply(SUMMARY), TextReply("A3b."))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 6 and settled(app))
        assert server.last_request.messages == [
            summarised_system(),
            user("q2"),
            assistant("A2."),
            user("q3"),
        ]
        await wait_for(pilot, lambda: "A3b." in screen_text(app))
        assert [m.content for m in app.chat.conversation.shown][-2:] == ["q3", "A3b."]
        assert "A3." not in [
            view.message.content for view in app.query_one(Transcript).drawn_messages()
        ]  # type: ignore[attr-defined]
