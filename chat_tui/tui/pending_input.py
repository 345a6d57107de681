"""Keys and pastes on their way from the terminal to the screen.

A key passes several message queues (the app's, the focused widget's, the screen's) before
a frame shows it, and the event loop serves each in turn. Work done in slices meanwhile
(reading a fast reply, drawing a huge one) would get a slice in before each step: typing over
a streaming table would be echoed only after several. That work waits here instead, between
its slices, until what was typed is on screen.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

# The longest background work waits for typing to show: a key that never shows (the app
# closing, a frame that never comes) does not hold a reply back for longer.
INPUT_WAIT = 0.1
# Before any time: `after=NONE_YET` counts every key; the last key's time until one came.
NONE_YET = float("-inf")


class PendingInput:
    """How many keys and pastes have come from the terminal and are not yet on screen."""

    def __init__(self) -> None:
        self._count = 0
        self._since = 0.0  # when the first of them came
        self._latest = NONE_YET  # and the last
        self._shown = asyncio.Event()
        self._shown.set()

    def _left(self) -> float:
        """How much longer work waits for them."""
        return INPUT_WAIT - (time.perf_counter() - self._since) if self._count else 0.0

    @property
    def waiting(self) -> bool:
        return self._left() > 0

    def typed_within(self, seconds: float, after: float = NONE_YET) -> bool:
        """Whether a key came in the last `seconds`, and later than `after`: the user is
        typing (not just the Enter that began the work)."""
        return self._latest > after and time.perf_counter() - self._latest < seconds

    def waiting_for(self, after: float) -> bool:
        """Whether some of them came later than `after` (a perf_counter time): work begun
        by a key (Enter sends) does not wait for that key."""
        return self._latest > after and self.waiting

    def arrived(self) -> None:
        if not self.waiting:  # none on its way, or those counted were lost
            self._count, self._since = 0, time.perf_counter()
        self._count += 1
        self._latest = time.perf_counter()
        self._shown.clear()

    def shown(self) -> None:
        """One of them was handled, and a frame composed after it."""
        self._count = max(0, self._count - 1)
        if not self._count:
            self._shown.set()

    async def wait(self, after: float = NONE_YET) -> None:
        """Until all of them are on screen, for INPUT_WAIT at most since the first came; at
        once if none came after `after`."""
        if self.waiting_for(after) and (left := self._left()) > 0:
            # Not wait_for: on Python 3.11 it swallows a cancellation (a reply being stopped)
            # that comes as the key shows.
            with suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._shown.wait()


def _pending(app: object) -> PendingInput | None:
    """The app's count (a widget may be in another app, under test)."""
    pending = getattr(app, "pending_input", None)
    return pending if isinstance(pending, PendingInput) else None


def typing_pending(app: object, after: float = NONE_YET) -> bool:
    """Whether what was typed after `after` is still on its way to the screen."""
    pending = _pending(app)
    return pending is not None and pending.waiting_for(after)


async def typing_shown(app: object, after: float = NONE_YET) -> None:
    """Wait for what was typed after `after` to show (see PendingInput.wait)."""
    if (pending := _pending(app)) is not None:
        await pending.wait(after)
