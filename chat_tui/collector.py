"""Python's cyclic garbage collector, kept out of the way of a streaming reply.

A full collection walks every object in the process; with Textual, the SDK and a transcript that
is 150-250 ms on a small machine, and it tends to start in the middle of a frame: a visible
freeze mid-reply. So:
- what start-up built (modules, classes, stylesheets: it lives as long as the app) is frozen,
  and no full collection walks it again;
- while a reply streams, full collections are held back (young ones, which are cheap, go on);
- once the reply has ended and been drawn, one full collection runs, while the user reads.
"""

from __future__ import annotations

import gc

# A full collection happens after this many young ones: while streaming, never.
_HELD = 1_000_000_000
_frozen = False  # once per process: later calls would freeze other apps' garbage (tests)


class Collector:
    def __init__(self) -> None:
        self._thresholds = gc.get_threshold()
        self._holding = False

    def freeze_startup(self) -> None:
        """Call once start-up is over: what exists now is kept out of later collections."""
        global _frozen
        if not _frozen:
            _frozen = True
            gc.freeze()

    def hold(self) -> None:
        """A reply starts streaming: no full collections until `release`."""
        if not self._holding:
            young, middle, _ = self._thresholds
            gc.set_threshold(young, middle, _HELD)
            self._holding = True

    def release(self) -> None:
        """The reply has ended: full collections may run again, and one runs now."""
        if self._holding:
            gc.set_threshold(*self._thresholds)
            self._holding = False
            gc.collect()
