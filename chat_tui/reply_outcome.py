"""One reply's stream events folded into how it ended: its state, its error and its stats.

The app and `chat-tui ask` both watch a reply through this, so a reply ends the same way in
either: an error after some text is "interrupted", before any text "failed", a stream that ends
without a finish reason "incomplete", and a reply the user stops "stopped".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.events import Answered, ReplyFailed, ReplyFinished, ReplyStarted, TextDelta, Usage
from chat_tui.reply_state import ReplyState, ending_note
from chat_tui.reply_stats import StatsMeter

if TYPE_CHECKING:
    from chat_tui.errors import ChatError
    from chat_tui.events import StreamEvent
    from chat_tui.reply_stats import ReplyStats


class ReplyOutcome:
    """Watches one reply's events (`observe`) and says how it ended (`state`, `stats()`)."""

    def __init__(self, meter: StatsMeter | None = None) -> None:
        self.model: str | None = None
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.filtered: tuple[str, ...] = ()  # content-filter categories, where Azure names them
        self.error: ChatError | None = None
        self.finished = False  # the stream ended normally
        self.stopped = False  # the user stopped it
        self.received = 0  # characters of text so far
        self.request_id = ""  # the server's id for the request that answered
        self._meter = meter if meter is not None else StatsMeter()

    def observe(self, event: StreamEvent) -> None:
        self._meter.observe(event)
        match event:
            case Answered(request_id):
                self.request_id = request_id
            case ReplyStarted(model):
                self.model = model
            case TextDelta(text):
                self.received += len(text)
            case Usage():
                self.usage = event
            case ReplyFinished(finish_reason, filtered):
                self.finished = True
                self.finish_reason = finish_reason
                self.filtered = filtered
            case ReplyFailed(error):
                self.error = error
            case _:
                pass  # a request going out, a retry: the meter and the caller's business

    @property
    def state(self) -> ReplyState:
        if self.stopped:
            return ReplyState.STOPPED
        if self.error is not None:
            return ReplyState.INTERRUPTED if self.received else ReplyState.FAILED
        if not self.finished:
            return ReplyState.INCOMPLETE
        return ReplyState.from_finish_reason(self.finish_reason)

    @property
    def note(self) -> str:
        """How it ended in a sentence, with the filter's categories where known."""
        return ending_note(self.state, self.filtered)

    def stats(self) -> ReplyStats:
        """Timings and tokens, as the reply's footer shows them."""
        return self._meter.finish(self.state.value)
