"""Typing comes first: a key from the terminal holds frames until it is handled, and work done
in slices (reading a reply, drawing it) waits until the key is on screen, for a bounded time."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from textual import events

from chat_tui.tui.pending_input import INPUT_WAIT, PendingInput, typing_pending, typing_shown
from chat_tui.tui.widgets.prompt import PromptInput
from tests.openai_server import TextReply, table_markdown
from tests.test_app import SIZE, compatible_settings, make_app, replies, wait_for

if TYPE_CHECKING:
    from tests.openai_server import FakeOpenAIServer


async def test_work_waits_until_what_was_typed_is_shown() -> None:
    pending = PendingInput()
    assert not pending.waiting
    pending.arrived()
    pending.arrived()
    assert pending.waiting
    waiter = asyncio.create_task(pending.wait())
    await asyncio.sleep(0.01)
    pending.shown()
    await asyncio.sleep(0.01)
    assert not waiter.done()  # one key is still on its way
    pending.shown()
    await asyncio.wait_for(waiter, 1)
    assert not pending.waiting
    pending.shown()  # more than came (a key counted twice): never below none
    assert not pending.waiting


async def test_a_key_that_never_shows_holds_work_back_only_briefly() -> None:
    pending = PendingInput()
    pending.arrived()
    started = time.perf_counter()
    await pending.wait()
    assert INPUT_WAIT * 0.9 <= time.perf_counter() - started < INPUT_WAIT * 5
    assert not pending.waiting  # lost: the next key starts the count afresh
    await asyncio.wait_for(pending.wait(), INPUT_WAIT / 4)  # no wait at all
    pending.arrived()
    assert pending.waiting


async def test_work_begun_by_a_key_does_not_wait_for_it() -> None:
    pending = PendingInput()
    pending.arrived()  # the Enter that sends a message
    began = time.perf_counter()
    assert pending.waiting
    assert not pending.waiting_for(began)
    await asyncio.wait_for(pending.wait(began), INPUT_WAIT / 4)  # no wait at all
    assert not pending.typed_within(1.0, after=began)  # nor is the user typing
    assert pending.typed_within(1.0)
    pending.arrived()  # typed while the reply streams
    assert pending.waiting_for(began)
    assert pending.typed_within(1.0, after=began)
    assert not pending.typed_within(0.0, after=began)  # not within no time at all


async def test_widgets_in_another_app_do_not_wait() -> None:
    assert not typing_pending(object())
    await asyncio.wait_for(typing_shown(object()), 0.5)


def terminal_key(app: object, character: str) -> None:
    """A key as the terminal's driver posts it (not through Pilot, which waits for idle)."""
    key = events.Key(character, character)
    key.set_sender(app)  # type: ignore[arg-type]
    app.post_message(key)  # type: ignore[attr-defined]


async def test_typing_over_a_huge_streaming_table_shows_each_key_and_loses_nothing(
    server: FakeOpenAIServer,
) -> None:
    table = table_markdown(300, 12)
    # A row a chunk, paced (some 2 s in all), so that it streams while the keys come on any
    # machine: at full speed the whole table may be read before the third key.
    server.enqueue(TextReply(table.splitlines(keepends=True), delay=0.006))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.insert("A big table")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(replies(app)) and bool(replies(app)[-1].reply.content))
        typed = ""
        while app.chat.is_streaming and len(typed) < 20:
            terminal_key(app, "x")
            typed += "x"
            # Frames wait for the key, never for long; the key shows with the next one.
            await wait_for(pilot, lambda typed=typed: prompt.text == typed, seconds=2)
            await asyncio.sleep(0.05)
        assert len(typed) >= 3  # typed while it streamed
        await wait_for(pilot, lambda: not app.chat.is_streaming, seconds=60)
        await wait_for(pilot, lambda: not typing_pending(app))
        assert app._frames_held is None  # frames go on
        assert replies(app)[-1].reply.content == table  # the reply, whole
        assert prompt.text == typed  # and every key
        assert replies(app)[-1].state.is_final


async def test_work_stopped_as_the_key_shows_is_stopped() -> None:
    # A reply stopped by a key (esc) is cancelled while it waits for that very key to show:
    # the stop must not be lost (asyncio.wait_for on Python 3.11 would lose it).
    pending = PendingInput()
    pending.arrived()
    waiter = asyncio.create_task(pending.wait())
    await asyncio.sleep(0)
    pending.shown()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
