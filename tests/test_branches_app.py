"""Branches in the app: a retry and an edit start a branch beside the old turns, [ and ] switch
between them (the conversation goes on from the one shown), and "Fork from here" copies the
messages shown up to one into a new conversation.

Driven through the app against the local server: what the user sees, the exact messages each
request carried, and what the store keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.recorder import restored
from chat_tui.store import Store, StoredMessage
from chat_tui.tui.widgets.messages import AssistantMessage, UserMessage
from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript
from tests.conftest import screen_text
from tests.openai_server import TextReply
from tests.test_app import SIZE, chat, settled, wait_for
from tests.test_failed_messages import select
from tests.test_persistence import saving_app

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from chat_tui.tui.app import ChatApp
    from tests.openai_server import FakeOpenAIServer

SYSTEM = {"role": "system", "content": "Be kind."}
PREVIOUS, NEXT = "left_square_bracket", "right_square_bracket"


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def shown(app: ChatApp) -> list[str]:
    """The texts of the messages drawn in the transcript, in order."""
    return [view.message.content for view in app.query_one(Transcript).drawn_messages()]  # type: ignore[attr-defined]


def title_of(app: ChatApp, text: str) -> str:
    views = app.query(f"{UserMessage.__name__}, {AssistantMessage.__name__}")
    view = next(v for v in views if v.message.content == text)  # type: ignore[attr-defined]
    return str(view.border_title)


async def send_now(pilot: Pilot[None], text: str) -> None:
    """Back to the message box, send `text` and wait for its reply."""
    await pilot.press("escape")
    await chat(pilot, text)


async def test_a_retry_is_a_branch_and_each_branch_sends_its_own_history(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("A."), TextReply("A2."), TextReply("On A."), TextReply("On A2."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "q")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 2 and settled(app))
        await pilot.pause()
        assert server.last_request.messages == [SYSTEM, user("q")]
        assert shown(app) == ["q", "A2."]
        await wait_for(pilot, lambda: "‹ 2/2 ›" in title_of(app, "A2."))
        assert "‹" not in title_of(app, "q")

        await select(pilot, "A2.")
        await pilot.press(PREVIOUS)
        await wait_for(pilot, lambda: shown(app) == ["q", "A."])
        await wait_for(pilot, lambda: "‹ 1/2 ›" in title_of(app, "A."))
        await send_now(pilot, "more")
        assert server.last_request.messages == [SYSTEM, user("q"), assistant("A."), user("more")]

        await select(pilot, "A.")
        await pilot.press(NEXT)
        await wait_for(pilot, lambda: shown(app) == ["q", "A2."])
        await send_now(pilot, "more")
        assert server.last_request.messages == [
            SYSTEM,
            user("q"),
            assistant("A2."),
            user("more"),
        ]
        await select(pilot, "A2.")
        await pilot.press(NEXT)  # the last already: nothing changes
        await pilot.pause()
        assert shown(app) == ["q", "A2.", "more", "On A2."]
        await pilot.press(PREVIOUS)  # back to A., with the latest turns of its branch
        await wait_for(pilot, lambda: shown(app) == ["q", "A.", "more", "On A."])
        await wait_for(pilot, lambda: not app.chat.recorder.busy)
        await app.chat.save()

    # Everything is kept, and the branch shown when the app closed opens again.
    store = Store(tmp_path / "chats.db")
    conversation, _ = restored(store.load(store.latest_id() or 0))
    store.close()
    assert len(conversation.messages) == 7
    assert [m.content for m in conversation.shown] == ["q", "A.", "more", "On A."]


async def test_an_edit_is_a_branch_beside_the_old_turns(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("A."), TextReply("B."), TextReply("A2."), TextReply("C."))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "a")
        await chat(pilot, "b")
        await select(pilot, "a")
        await pilot.press("e")
        await pilot.press("end", "2", "enter")
        await wait_for(pilot, lambda: len(server.requests) == 3 and settled(app))
        await pilot.pause()
        assert server.last_request.messages == [SYSTEM, user("a2")]
        assert shown(app) == ["a2", "A2."]
        await wait_for(pilot, lambda: "‹ 2/2 ›" in title_of(app, "a2"))

        await select(pilot, "a2")
        await pilot.press(PREVIOUS)
        await wait_for(pilot, lambda: shown(app) == ["a", "A.", "b", "B."])
        await wait_for(pilot, lambda: "‹ 1/2 ›" in title_of(app, "a"))
        await wait_for(pilot, lambda: "‹ 1/2 ›" in screen_text(app))
        keys = dict(app.key_help())  # the help screen (F1) names the keys
        assert keys["["].startswith("Show the previous branch")
        assert keys["]"].startswith("Show the next branch")
        assert keys["f"].startswith("A new conversation with the messages shown")
        await send_now(pilot, "c")
        assert server.last_request.messages == [
            SYSTEM,
            user("a"),
            assistant("A."),
            user("b"),
            assistant("B."),
            user("c"),
        ]


async def test_branches_from_the_palette_and_a_fork(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("A."), TextReply("B."), TextReply("A2."), TextReply("In the fork."))
    path = tmp_path / "chats.db"
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "a")
        await chat(pilot, "b")
        await select(pilot, "a")
        await pilot.press("e")
        await pilot.press("end", "2", "enter")
        await wait_for(pilot, lambda: len(server.requests) == 3 and settled(app))
        # Nothing selected: the palette's command switches at the last message with branches.
        await app.chat.run_action("previous_branch")
        await wait_for(pilot, lambda: shown(app) == ["a", "A.", "b", "B."])
        await wait_for(pilot, lambda: app.chat.conversation.id is not None)
        original = app.chat.conversation.id

        await select(pilot, "A.")
        await pilot.press("f")
        await wait_for(pilot, lambda: shown(app) == ["a", "A."])
        await wait_for(pilot, lambda: app.chat.conversation.id not in (None, original))
        await chat(pilot, "in the fork")
        assert server.last_request.messages == [
            SYSTEM,
            user("a"),
            assistant("A."),
            user("in the fork"),
        ]
        await wait_for(pilot, lambda: not app.chat.recorder.busy)
        await app.chat.save()

    store = Store(path)
    try:
        fork = restored(store.load(store.latest_id() or 0))[0]
        kept = restored(store.load(original or 0))[0]
    finally:
        store.close()
    assert [m.content for m in fork.messages] == ["a", "A.", "in the fork", "In the fork."]
    assert len(kept.messages) == 6  # the conversation forked from is as it was
    assert [m.content for m in kept.shown] == ["a", "A.", "b", "B."]


async def test_a_long_branch_is_drawn_from_where_it_starts(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    seed = Store(path)
    cid = seed.create_conversation("Long", "")
    seed.add_message(cid, "user", "q", "complete")
    first = seed.add_message(cid, "assistant", "first answer", "complete")
    for n in range(MAX_DRAWN + 10):
        seed.add_message(cid, "user" if n % 2 == 0 else "assistant", f"m{n}", "complete")
    # The retry's reply, beside the first: the branch shown.
    retried = StoredMessage("assistant", "second answer", "complete", -1, parent=first - 1)
    seed.save_messages(cid, [retried], (), -1)
    seed.close()
    app = saving_app(server, path, open_conversation=cid)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: shown(app) == ["q", "second answer"])
        await wait_for(pilot, lambda: "‹ 2/2 ›" in title_of(app, "second answer"))
        await app.chat.run_action("previous_branch")  # from the palette: nothing selected
        await wait_for(pilot, lambda: "first answer" in shown(app))
        assert shown(app)[-1] == f"m{MAX_DRAWN + 9}"
        await wait_for(pilot, lambda: "‹ 1/2 ›" in title_of(app, "first answer"))
