"""Reasoning models in the app: the thinking block, what is sent, what is learned and kept.

Driven against the local server, which streams reasoning as OpenAI-compatible servers do and
rejects parameters as OpenAI and Azure do for reasoning models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_tui.client import ChatClient
from chat_tui.store import AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.widgets.thinking import ThinkingBlock
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, replies, send, wait_for
from tests.test_failed_messages import select
from tests.test_hostile import assert_shown_safely, hostile
from tests.test_persistence import saving_app

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

THOUGHTS = ["Let ", "me ", "weigh ", "the ", "options ", "carefully."]


def app_with(server: FakeOpenAIServer, path: Path, **changes: object) -> ChatApp:
    return ChatApp(
        compatible_settings(server, **changes),
        client=ChatClient(retry=FAST_RETRY),
        store=AsyncStore(lambda: Store(path)),
    )


def words(app: object) -> str:
    return " ".join(screen_text(app).replace("│", " ").split())  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "think"])
async def test_thinking_streams_folds_and_unfolds(
    server: FakeOpenAIServer, tmp_path: Path, field: str
) -> None:
    server.enqueue(
        TextReply(
            "The answer is 42.",
            reasoning=THOUGHTS,
            reasoning_field=field,  # type: ignore[arg-type]
            reasoning_delay=0.25,
            think_split=3,
            first_delay=0.0,
        ),
        TextReply("Next."),
    )
    path = tmp_path / "chats.db"
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "what is it?")
        # While only reasoning arrives: the block is open, the card says it is thinking.
        await wait_for(pilot, lambda: "thinking ·" in words(app) and "weigh" in words(app))
        assert "Thinking ·" in words(app)
        await wait_for(pilot, lambda: not app.chat.is_streaming)
        await pilot.pause(0.2)
        text = words(app)
        assert "The answer is 42." in text
        assert "Thought for" in text
        assert "carefully." not in text  # folded once the answer began
        assert "think>" not in text
        reply = replies(app)[0].reply
        assert reply.reasoning == "".join(THOUGHTS)
        assert reply.content == "The answer is 42."
        assert reply.stats is not None
        assert reply.stats.reasoning_tokens  # as the server counted them
        assert f"({reply.stats.reasoning_tokens} reasoning)" in text
        # t on the selected reply unfolds it.
        await select(pilot, "The answer is 42.")
        await pilot.press("t")
        await wait_for(pilot, lambda: "carefully." in words(app))
        await pilot.press("escape")
        # The reasoning is not sent back.
        await chat(pilot, "and then?")
        sent = [m["content"] for m in server.last_request.messages]
        assert sent[-2:] == ["The answer is 42.", "and then?"]
        assert not any("carefully" in text for text in sent)
        await wait_for(pilot, lambda: _saved_reasoning(path) == "".join(THOUGHTS))


def _saved_reasoning(path: Path) -> str:
    store = Store(path)
    try:
        latest = store.latest_id()
        if latest is None:
            return ""
        return next((m.reasoning for m in store.load(latest).messages if m.reasoning), "")
    finally:
        store.close()


async def test_a_setting_hides_the_thinking(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply("Shown.", reasoning=THOUGHTS))
    app = app_with(server, tmp_path / "chats.db", show_reasoning=False)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hi")
        assert "Shown." in words(app)
        assert "Thought" not in words(app)
        assert (
            not app.query_one(ThinkingBlock).display
            or not app.query_one(ThinkingBlock).region.height
        )


async def test_a_rejected_parameter_is_left_out_learned_and_remembered(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # A model the table does not know rejects temperature, as a reasoning model behind an Azure
    # deployment with an arbitrary name would.
    server.rejects = {"fake-model": {"temperature"}}
    path = tmp_path / "chats.db"
    app = app_with(server, path, temperature=0.7)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.is_open)
        await chat(pilot, "hello")
        assert [("temperature" in (r.body or {})) for r in server.requests] == [True, False]
        assert "does not take temperature" in words(app)
        assert replies(app)[0].reply.content  # answered, after the one retry
        await chat(pilot, "again")
        assert "temperature" not in (server.last_request.body or {})
        await wait_for(pilot, lambda: "drop" in {row[2] for row in _lessons(path)})
    # Another run starts with the lesson: not even one 400.
    before = len(server.requests)
    again = app_with(server, path, temperature=0.7)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: again.store.is_open)
        await pilot.pause(0.2)
        await chat(pilot, "hello")
        assert len(server.requests) == before + 1
        assert "temperature" not in (server.last_request.body or {})


def _lessons(path: Path) -> list[tuple[str, str, str, str]]:
    store = Store(path)
    try:
        return store.lessons()
    finally:
        store.close()


async def test_hostile_reasoning_is_shown_safely(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply("Answer.", reasoning=hostile("THOUGHT")))
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=(160, 50)) as pilot:
        await chat(pilot, "hi")
        await select(pilot, "Answer.")
        await pilot.press("t")
        await wait_for(pilot, lambda: "THOUGHT" in screen_text(app))
        assert_shown_safely(app, "THOUGHT")


async def test_a_reasoning_model_gets_its_effort_and_never_a_parameter_it_rejects(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # As a real server does, the replies name the model (what F5's efforts follow).
    server.enqueue(TextReply("Hm.", model="o3-mini"), TextReply("Ok.", model="o3-mini"))
    app = app_with(server, tmp_path / "chats.db", model="o3-mini", temperature=0.7, max_tokens=100)
    async with app.run_test(size=(140, 45)) as pilot:
        # The sidebar (open at this width) says the temperature is not sent.
        await wait_for(pilot, lambda: "Not sent: o3-mini takes no" in words(app))
        await pilot.press("f5")  # the model's default -> the first effort it takes
        await wait_for(pilot, lambda: app.chat.settings.reasoning_effort == "low")
        await chat(pilot, "think hard")
        body = server.last_request.body or {}
        assert len(server.requests) == 1  # not one 400 on the way
        assert body["reasoning_effort"] == "low"
        assert body["max_completion_tokens"] == 100
        assert "temperature" not in body
        assert "max_tokens" not in body
        await pilot.press("f5", "f5", "f5")  # medium, high, then the default again
        await wait_for(pilot, lambda: app.chat.settings.reasoning_effort is None)
        await chat(pilot, "and now")
        assert "reasoning_effort" not in (server.last_request.body or {})


async def test_a_note_naming_the_servers_model_is_shown_safely(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The model the server names (learned from its first reply) is in the note on a retry.
    served = hostile("SERVED")
    server.enqueue(TextReply("First.", model=served), TextReply("Second.", model=served))
    app = app_with(server, tmp_path / "chats.db", temperature=0.7)
    async with app.run_test(size=(160, 50)) as pilot:
        await chat(pilot, "hi")
        server.rejects = {"fake-model": {"temperature"}}
        await chat(pilot, "again")  # a 400, then asked again without temperature
        note = next(line for line in words(app).split("⟳")[1:] if "does not take" in line)
        assert "SERVED" in note
        assert_shown_safely(app, "SERVED")
