"""Widgets for the messages in the transcript.

All text shown here is untrusted (user input, model output, error bodies): it goes through
`visible()` and into Content or Markdown, never through Textual markup.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from rich.markdown import Heading as RichHeading
from rich.markdown import Markdown as RichMarkdown
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Markdown, Static

from chat_tui.conversation import Message, ReplyState
from chat_tui.text import visible

if TYPE_CHECKING:
    from rich.text import JustifyMethod
    from textual.app import ComposeResult
    from textual.timer import Timer

    from chat_tui.errors import ChatError

# How often streamed text is handed to the Markdown widget. Appending every token makes the
# widget fall behind a fast model; batching keeps it in step (see the project's notes).
FLUSH_INTERVAL = 0.08

STATE_NOTES: dict[ReplyState, str] = {
    ReplyState.STREAMING: "● streaming…  esc stops",
    ReplyState.COMPLETE: "",
    ReplyState.LENGTH: "⚠ Cut off: the reply reached the token limit (max tokens).",
    ReplyState.FILTERED: "⚠ Filtered: the content filter stopped this reply.",
    ReplyState.INCOMPLETE: "⚠ Incomplete: the stream ended without a finish reason.",
    ReplyState.STOPPED: "■ Stopped.",
    ReplyState.INTERRUPTED: "✖ Interrupted.",
    ReplyState.FAILED: "✖ Failed.",
}


class _LeftHeading(RichHeading):
    # Rich centres top-level headings; in a chat transcript everything reads left to right.
    LEVEL_ALIGN: ClassVar[dict[str, JustifyMethod]] = dict.fromkeys(
        ("h1", "h2", "h3", "h4", "h5", "h6"), "left"
    )


class _TranscriptMarkdown(RichMarkdown):
    elements: ClassVar = {**RichMarkdown.elements, "heading_open": _LeftHeading}


def frozen_markdown(text: str, *, dark: bool = True) -> RichMarkdown:
    """One cheap renderable for a finished reply (a live Markdown widget is dozens of widgets)."""
    return _TranscriptMarkdown(
        visible(text), code_theme="monokai" if dark else "default", hyperlinks=True
    )


def error_content(error: ChatError) -> Content:
    parts: list[Content | tuple[str, str] | str] = [(visible(error.title), "bold")]
    if error.detail:
        parts += ["\n", visible(error.detail)]
    if error.hint:
        parts += ["\n", (visible(error.hint), "italic")]
    return Content.assemble(*parts)


class UserMessage(Static):
    """What the user sent, shown exactly as typed."""

    def __init__(self, text: str) -> None:
        super().__init__(Content(visible(text)), classes="message")
        self.border_title = "you"


class Notice(Static):
    """An app message in the transcript (not part of the conversation), e.g. set-up help."""

    def __init__(self, title: str, body: str = "") -> None:
        text = Content.assemble((title, "bold"), "\n" if body else "", body)
        super().__init__(text, classes="message")


class AssistantMessage(Vertical):
    """One reply: live Markdown while it streams, a single frozen Static once it has ended."""

    state: reactive[ReplyState] = reactive(ReplyState.STREAMING)

    def __init__(self, reply: Message) -> None:
        super().__init__(classes="message")
        self.reply = reply
        self.border_title = "assistant"
        self._pending: list[str] = []
        # The append in flight, if any: one at a time, and freezing waits for it.
        self._appending: asyncio.Future[None] | None = None
        self._timer: Timer | None = None
        self._error: ChatError | None = None
        self.set_reactive(AssistantMessage.state, reply.state)

    def compose(self) -> ComposeResult:
        if self.reply.state is ReplyState.STREAMING:
            yield Markdown(id="body")
        else:
            yield self._frozen_body()
        yield Static(id="status")

    def on_mount(self) -> None:
        if self.state is ReplyState.STREAMING:
            self._timer = self.set_interval(FLUSH_INTERVAL, self._flush)
        self._show_state()

    def append(self, text: str) -> None:
        """Queue streamed text; it reaches the screen on the next flush. Cheap per token."""
        if text:
            self._pending.append(visible(text))

    def _flush(self) -> None:
        # Synchronous on purpose: the append runs as its own task, so stopping the timer can
        # never cancel it halfway (a cancelled mount takes the app's message loop down with it).
        if self._pending and self._appending is None and not self.state.is_final:
            text, self._pending = "".join(self._pending), []
            self._appending = asyncio.ensure_future(self.query_one("#body", Markdown).append(text))
            self._appending.add_done_callback(self._appended)

    def _appended(self, future: asyncio.Future[None]) -> None:
        self._appending = None
        if not future.cancelled():
            future.exception()  # retrieved, so a widget removed mid-append logs nothing

    async def settle(self) -> None:
        """Wait until no append is in flight (before freezing or removing this reply)."""
        if self._appending is not None:
            await asyncio.wait([self._appending])

    def finish(self, state: ReplyState, error: ChatError | None = None) -> None:
        """Mark the reply ended; the frozen render follows without blocking the caller."""
        self._pending.clear()
        self._error = error
        self.state = state
        self.call_later(self._freeze)

    async def _freeze(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        await self.settle()
        live = self.query("#body").first()
        # The reply may have been cleared away, or the app may be quitting, meanwhile.
        if isinstance(live, Markdown) and self.is_attached and not self.app._exit:
            # Mount the frozen copy first so the transcript's height never dips.
            await self.mount(self._frozen_body(), before=live)
            await live.remove()

    def _frozen_body(self) -> Static:
        dark = self.app.current_theme.dark if self.is_attached else True
        body = Static(frozen_markdown(self.reply.content, dark=dark), id="frozen", classes="body")
        body.display = bool(self.reply.content)
        return body

    def watch_state(self) -> None:
        if self.is_mounted:
            self._show_state()

    def _show_state(self) -> None:
        for each in ReplyState:
            self.set_class(each is self.state, f"-{each.value}")
        self.set_class(bool(self.reply.content), "-has-text")
        status = self.query_one("#status", Static)
        note = STATE_NOTES[self.state]
        if self._error is not None:
            status.update(Content.assemble(note, " ", error_content(self._error)))
        else:
            status.update(Content(note))
        status.display = bool(note)
