"""How a reply ended (or that it has not yet), and every wording of it, in one table.

The reply's note in the transcript, the footer's word for it, the Markdown export and
`chat-tui ask`'s message on stderr all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReplyState(StrEnum):
    """How an assistant reply ended (or that it has not yet)."""

    STREAMING = "streaming"
    COMPLETE = "complete"  # finish_reason "stop" (or "tool_calls")
    LENGTH = "length"  # cut off by the token limit
    FILTERED = "content_filter"  # stopped by the content filter
    INCOMPLETE = "incomplete"  # the stream ended without any finish reason
    STOPPED = "stopped"  # the user stopped it
    INTERRUPTED = "interrupted"  # an error after some text had arrived
    FAILED = "failed"  # an error before any text

    @classmethod
    def saved(cls, value: str) -> ReplyState:
        """A state read back from the store; a reply saved mid-stream was interrupted."""
        state = cls(value) if value in cls._value2member_map_ else cls.INCOMPLETE
        return cls.INTERRUPTED if state is cls.STREAMING else state

    @classmethod
    def from_finish_reason(cls, reason: str | None) -> ReplyState:
        if reason is None:
            return cls.INCOMPLETE
        return _FINISH_REASONS.get(reason, cls.COMPLETE)

    @property
    def is_final(self) -> bool:
        return self is not ReplyState.STREAMING

    @property
    def note(self) -> str:
        """How the reply ended, in a sentence; empty for a reply that finished normally."""
        return _WORDING[self].note

    @property
    def ending(self) -> str:
        """How the reply ended, in a few words (a footer, an export)."""
        return _WORDING[self].ending

    @property
    def unfinished(self) -> bool:
        """The reply's text is kept, but the model did not finish it: worth a word."""
        return self in (ReplyState.LENGTH, ReplyState.FILTERED, ReplyState.INCOMPLETE)


def ending_note(state: ReplyState, filtered: tuple[str, ...] = ()) -> str:
    """`state.note`, naming the content filter's categories where the server named them."""
    if filtered and state.note:
        return f"{state.note.rstrip('.')} ({', '.join(filtered)})."
    return state.note


_FINISH_REASONS = {
    "stop": ReplyState.COMPLETE,
    "length": ReplyState.LENGTH,
    "content_filter": ReplyState.FILTERED,
}


@dataclass(frozen=True, slots=True)
class _Wording:
    note: str
    ending: str


_WORDING = {
    ReplyState.STREAMING: _Wording("Streaming…", "streaming"),
    ReplyState.COMPLETE: _Wording("", "finished"),
    ReplyState.LENGTH: _Wording(
        "Cut off: the reply reached the token limit (max tokens).", "cut off at max tokens"
    ),
    ReplyState.FILTERED: _Wording("Filtered: the content filter stopped this reply.", "filtered"),
    ReplyState.INCOMPLETE: _Wording(
        "Incomplete: the stream ended without a finish reason.", "no finish reason"
    ),
    ReplyState.STOPPED: _Wording("Stopped.", "stopped"),
    ReplyState.INTERRUPTED: _Wording("Interrupted.", "interrupted"),
    ReplyState.FAILED: _Wording("Failed.", "failed"),
}
