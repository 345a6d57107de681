"""Drawn lines are freed as soon as they are unused, not by a full garbage collection (which,
after a long reply, froze the app for 0.4 s)."""

from __future__ import annotations

import gc
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from chat_tui.tui import strip_cycles
from tests.conftest import compatible_settings
from tests.openai_server import TextReply
from tests.test_app import SIZE, chat, make_app

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.openai_server import FakeOpenAIServer


class Probe(Strip):
    """A strip that can be watched: whether it is still alive."""

    __slots__ = ("__weakref__",)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def test_a_strip_given_back_whole_does_not_keep_itself() -> None:
    strip_cycles.install()
    with no_cycle_collection():
        strip = Probe([Segment("hello", Style(bold=True)), Segment(" world")])
        alive = weakref.ref(strip)
        assert strip.divide([11]) == [strip]
        assert strip.divide([11, 20]) == [strip]  # cuts past the end are dropped
        assert strip.crop_extend(0, 11, None) is strip
        del strip
        assert alive() is None


@pytest.mark.parametrize(
    ("cuts", "crop"),
    [([4, 11], (0, 4)), ([11], (3, 11)), ([2, 5, 11], (0, 15)), ([0, 11], (-2, 11))],
)
def test_cuts_and_crops_are_as_textual_makes_them(cuts: list[int], crop: tuple[int, int]) -> None:
    strip_cycles.install()
    segments = [Segment("hello", Style(bold=True)), Segment(" world")]
    ours, theirs = Strip(segments), Strip(segments)
    assert [s.text for s in ours.divide(cuts)] == [
        s.text for s in strip_cycles._divide(theirs, cuts)
    ]
    padding = Style(italic=True)
    assert list(ours.crop_extend(*crop, padding)) == list(
        strip_cycles._crop_extend(theirs, *crop, padding)
    )


async def test_a_streamed_reply_leaves_no_strips_for_a_full_collection(
    server: FakeOpenAIServer,
) -> None:
    code = "```python\n" + "".join(f"value_{n} = {n} * 2\n" for n in range(300)) + "```\n"
    server.enqueue(TextReply(code))
    app = make_app(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await chat(pilot, "Some code")
            await pilot.pause(0.2)
            gc.collect()
            strips = sum(isinstance(thing, Strip) for thing in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    # Before, each line of each frame was one (here some thousands).
    assert strips < 20, strips
