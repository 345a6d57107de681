"""Widgets for the messages in the transcript.

All text shown here is untrusted (user input, model output, error bodies): it goes through
`visible()` and into Content or Rich Markdown, never through Textual markup.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from chat_tui.conversation import Delivery
from chat_tui.prices import reply_cost
from chat_tui.reply_state import ReplyState, ending_note
from chat_tui.text import visible
from chat_tui.tui import keymap
from chat_tui.tui.widgets.attached import AttachmentChips
from chat_tui.tui.widgets.reply_body import ReplyBody
from chat_tui.tui.widgets.thinking import ThinkingBlock

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult
    from textual.timer import Timer

    from chat_tui.conversation import Message
    from chat_tui.errors import ChatError
    from chat_tui.events import Retrying

STATE_ICONS: dict[ReplyState, str] = {
    ReplyState.LENGTH: "⚠",
    ReplyState.FILTERED: "⚠",
    ReplyState.INCOMPLETE: "⚠",
    ReplyState.STOPPED: "■",
    ReplyState.INTERRUPTED: "✖",
    ReplyState.FAILED: "✖",
}
STREAMING_NOTE = "● streaming…  esc stops"
# After this long with no text, the note says how long nothing has come (a stall, or a model
# that thinks before it writes), so a waiting reply never looks frozen.
QUIET_AFTER = 5.0
SPINNER = "◐◓◑◒"
TICK = 0.5


def state_note(state: ReplyState, filtered: tuple[str, ...] = ()) -> str:
    if state is ReplyState.STREAMING:
        return STREAMING_NOTE
    note = ending_note(state, filtered)
    return f"{STATE_ICONS[state]} {note}" if note else ""


# Where the whole failure is (the text behind a summary, the details support asks for).
MORE_HINT = "shift+tab selects this reply; d shows the details"


def error_content(error: ChatError) -> Content:
    parts: list[Content | tuple[str, str] | str] = [(visible(error.title), "bold")]
    if error.detail:
        parts += ["\n", visible(error.detail)]
    if error.hint:
        parts += ["\n", (visible(error.hint), "italic")]
    if error.actions:
        parts += ["\n", (keymap.command_keys(error.actions), "dim")]
    if error.refused:
        parts += ["\n", (keymap.message_keys("resend", "edit", "take_out"), "dim")]
    if error.more or error.details or error.request_id:
        request_id = f"request id {visible(error.request_id)} · " if error.request_id else ""
        parts += ["\n", (request_id + MORE_HINT, "dim")]
    return Content.assemble(*parts)


# What a message of the user's that is not answered says about itself (its reply says why).
DELIVERY_MARKS = {
    Delivery.PENDING: "⧗ not answered · sent again with your next message",
    Delivery.REFUSED: "✖ refused · not sent again unless you edit or resend it",
}


def retry_ended_content(state: ReplyState, error: ChatError | None) -> Content:
    """Under a reply that stays: how asking for it again ended without any text."""
    if error is not None:
        head = Content.assemble(("⟳ Asking again failed; this reply is kept. ", "bold"))
        return Content.assemble(head, error_content(error))
    return Content(f"⟳ Asking again ended without text ({state.ending}); this reply is kept.")


def branch_title(who: str, index: int, count: int) -> Content:
    """A message's border title: who wrote it, and which of its branches it is (`‹ 2/3 ›`)
    when it has others beside it."""
    if count < 2:
        return Content(who)
    return Content.assemble(who, (f" ‹ {index}/{count} ›", "dim"))


class BranchTitled:
    """A transcript message whose border title names its branch (see branch_title)."""

    WHO = ""

    def show_branch(self, index: int, count: int) -> None:
        self.border_title = branch_title(self.WHO, index, count)  # type: ignore[attr-defined]


class UserMessage(BranchTitled, Vertical):
    """What the user sent, shown exactly as typed, marked when it was not answered; its
    attachments as chips, which unfold into what is attached."""

    WHO = "you"
    delivery: reactive[Delivery] = reactive(Delivery.SENT)

    def __init__(self, message: Message, chips: Sequence[str] = ()) -> None:
        super().__init__(classes="message")
        self.message = message
        self._chips = chips
        self.show_branch(1, 1)

    def compose(self) -> ComposeResult:
        if self.message.content:
            yield Static(Content(visible(self.message.content)), classes="user-text")
        if self._chips:
            yield AttachmentChips(self.message.attachments, self._chips)

    def toggle_attachments(self) -> bool:
        """Unfold or fold what is attached; False when the message has no attachments."""
        chips = self.query(AttachmentChips)
        if not chips:
            return False
        chips.first().toggle()
        return True

    def watch_delivery(self, delivery: Delivery) -> None:
        self.update_classes({f"-{each.value}": each is delivery for each in Delivery})
        self.border_subtitle = DELIVERY_MARKS.get(delivery, "")


class Notice(Static):
    """An app message in the transcript (not part of the conversation), e.g. set-up help."""

    def __init__(self, title: str, body: str = "") -> None:
        text = Content.assemble((visible(title), "bold"), "\n" if body else "", visible(body))
        super().__init__(text, classes="message")


class SummaryMark(Static):
    """Where the turns a compaction summarised end (they are folded above it): how many, and,
    unfolded, the summary the model gets in their place. While the summary is asked for, what
    is being done."""

    def __init__(self) -> None:
        super().__init__(classes="summary-mark")

    def show_working(self, count: int, before_sending: bool) -> None:
        why = " before your message goes" if before_sending else ""
        self.update(Content(f"⟳ Summarising {count} earlier messages{why}…  esc stops"))

    def show_summary(self, count: int, summary: str, *, unfolded: bool) -> None:
        words = "fold" if unfolded else "unfold"
        parts: list[Content | tuple[str, str] | str] = [
            (f"≡ {count} earlier messages summarised", "bold"),
            " · requests carry the summary in their place",
            (f" · {words}: {keymap.summary_keys()}", "dim"),
        ]
        if unfolded:
            parts += ["\n", visible(summary)]
        self.update(Content.assemble(*parts))


class AssistantMessage(BranchTitled, Vertical):
    """One reply: its Markdown body and a status line saying how it ended."""

    WHO = "assistant"
    state: reactive[ReplyState] = reactive(ReplyState.STREAMING)

    def __init__(self, reply: Message) -> None:
        super().__init__(classes="message")
        self.reply = reply
        self.show_branch(1, 1)
        self._error: ChatError | None = reply.error  # saved with a reply that failed
        # What the client changed after the server refused the request's shape, in sentences.
        self._adapted: list[str] = []
        # How asking for this reply again ended, when it brought no text: (ended, error).
        self._retry_ended: tuple[ReplyState, ChatError | None] | None = None
        self._filtered: tuple[str, ...] = ()
        # A retry being waited for, and when it starts (time.monotonic()).
        self._retry: tuple[Retrying, float] | None = None
        self._countdown: Timer | None = None
        # When text last arrived (or the request went out), for the waiting note.
        self._last_text = self._since = time.monotonic()
        self._ticker: Timer | None = None
        self._note = ""
        self.set_reactive(AssistantMessage.state, reply.state)

    @property
    def message(self) -> Message:
        return self.reply

    @property
    def error(self) -> ChatError | None:
        return self._error

    def compose(self) -> ComposeResult:
        # Kept, not queried: looked up per token otherwise, and gone while the app quits
        # mid-reply, when the last tokens may still arrive.
        streaming = self.state is ReplyState.STREAMING
        self._thinking = ThinkingBlock(self.reply, live=streaming)
        self._body = ReplyBody(self.reply, streaming=streaming)
        self._status = Static(id="status")
        self._stats = Static(id="stats")
        yield self._thinking
        yield self._body
        yield self._status
        yield self._stats

    @property
    def _drawn(self) -> bool:
        return hasattr(self, "_body") and self._body.is_attached

    def on_mount(self) -> None:
        if self.state is ReplyState.STREAMING:
            self._ticker = self.set_interval(TICK, self._tick)
        self.show_status()

    def _tick(self) -> None:
        # Cheap: the status is redrawn only when its words change (not while text flows).
        if self._waiting_note() != self._note:
            self.show_status()

    def _waiting_note(self) -> str:
        """While streaming: waiting for the first token, quiet for a while, or streaming."""
        quiet = time.monotonic() - self._last_text
        spin = SPINNER[int(time.monotonic() / TICK) % len(SPINNER)]
        if not self.reply.content and self.reply.reasoning:
            thinking = time.monotonic() - self._since
            return f"{spin} thinking · {thinking:.0f} s  esc stops"
        if not self.reply.content:
            return f"{spin} waiting for the first token · {quiet:.0f} s  esc stops"
        if quiet >= QUIET_AFTER:
            return f"{spin} no text for {quiet:.0f} s  esc stops"
        return STREAMING_NOTE

    def more_reasoning(self) -> None:
        """The model's thinking grew; cheap per token."""
        self._last_text = time.monotonic()
        if not self._drawn:
            return
        if self._retry is not None:
            self._end_retry()
        self._thinking.more_arrived()

    def toggle_thinking(self) -> bool:
        """Fold or unfold the reasoning; False when the reply has none."""
        if not self.reply.reasoning:
            return False
        self._thinking.toggle()
        return True

    def more_arrived(self) -> None:
        """The reply's text grew; cheap per token, drawn with the body's next render."""
        self._last_text = time.monotonic()
        if not self._drawn:
            return
        self._thinking.answer_began()
        if self._retry is not None:
            self._end_retry()
        elif self._note != STREAMING_NOTE:
            self.show_status()  # the first text, or text after a stall: say so at once
        self._body.more_arrived()

    def reading_backlog(self, reading: bool) -> None:
        """Whether the reader is amid a backlog (text comes faster than it is drawn)."""
        if self._drawn:
            self._body.reading_backlog = reading

    def show_retry(self, retry: Retrying) -> None:
        """Count down to the next attempt, visibly (the user can cancel with Esc)."""
        self._retry = (retry, time.monotonic() + retry.delay)
        if self._countdown is None:
            self._countdown = self.set_interval(0.25, self.show_status)
        self.show_status()

    def _end_retry(self) -> None:
        self._retry = None
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
        self.show_status()

    def finish(
        self, state: ReplyState, error: ChatError | None = None, filtered: tuple[str, ...] = ()
    ) -> None:
        """Mark the reply ended and draw its final form."""
        if self._drawn:
            self._body.finish()
            self._thinking.finish()
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self._error = error
        self._filtered = filtered
        if self._retry is not None:
            self._end_retry()
        self.state = state

    def show_adapted(self, note: str) -> None:
        """The request was changed and sent again (a parameter the model does not take)."""
        self._adapted.append(note)
        self.show_status()

    def show_retry_ended(self, state: ReplyState, error: ChatError | None) -> None:
        """Asking for this reply again brought no text: say so under the reply, which stays."""
        self._retry_ended = (state, error)
        self.show_status()

    def watch_state(self) -> None:
        if self.is_mounted:
            self.show_status()

    def show_status(self) -> None:
        if not self._drawn:
            return
        # One restyle for all of them (each class changed alone restyles the whole reply).
        classes = {f"-{each.value}": each is self.state for each in ReplyState}
        self.update_classes({**classes, "-has-text": bool(self.reply.content)})
        note = (
            self._waiting_note()
            if self.state is ReplyState.STREAMING
            else state_note(self.state, self._filtered)
        )
        if self._retry is not None and self.state is ReplyState.STREAMING:
            retry, start = self._retry
            seconds = math.ceil(max(0.0, start - time.monotonic()))
            note = (
                f"⟳ {retry.reason}: retrying in {seconds} s "
                f"(attempt {retry.attempt} of {retry.attempts})  esc cancels"
            )
        self._note = note
        head = Content(note)
        if self._error is not None:
            head = Content.assemble(note, " ", error_content(self._error))
        # Each on its own line: what the client changed (the server's words are in it), and
        # how asking for this reply again ended.
        lines = [head] if note or self._error is not None else []
        lines += [Content(f"⟳ {visible(adapted)}") for adapted in self._adapted]
        if self._retry_ended is not None:
            lines.append(retry_ended_content(*self._retry_ended))
        parts: list[Content | str] = []
        for line in lines:
            parts += ["\n", line] if parts else [line]
        shown = Content.assemble(*parts)
        self._status.update(shown)
        self._status.display = bool(shown.plain.strip())
        stats = self.reply.stats
        summary = stats.summary(reply_cost(stats, self.app.config.prices)) if stats else ""
        if summary == self.state.ending and self.state.note:
            summary = ""  # only how it ended, which the note above says already
        self._stats.update(Content(visible(summary)))
        self._stats.display = bool(summary)
