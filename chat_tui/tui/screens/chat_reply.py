"""The life of a reply on the chat screen: the request for it, its stream into the transcript,
how it ends (and what a retry it replaces becomes), and stopping it.

A mixin of ChatScreen (it uses the screen's conversation, client, recorder and widgets), kept
apart so that each module holds one concern.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing, suppress
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from chat_tui.events import (
    Adapted,
    Answered,
    ReasoningDelta,
    ReplyStarted,
    RequestSent,
    Retrying,
    TextDelta,
)
from chat_tui.learned import Learned, Lesson
from chat_tui.reply_outcome import ReplyOutcome
from chat_tui.reply_state import ReplyState
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.widget import Widget

    from chat_tui.conversation import Message
    from chat_tui.settings import Settings
    from chat_tui.tui.screens.chat import ChatScreen

REPLY_GROUP = "reply"
# Seconds of reading a buffered backlog before the screen gets a turn: short for the first
# text, then long enough that frames (CPU, and garbage held while a reply streams) stay few and
# a short reply is read in one go (its time does not hang on how many slices it took), and
# short enough that a key typed meanwhile is echoed within a tenth of a second (with a frame).
FIRST_SLICE = 0.02
SLICE = 0.04
# While the user types, shorter: a key waits for the slice under way before it is even seen.
TYPING_SLICE = 0.012
TYPING_LATELY = 1.0  # seconds since the last key
# The longest the new messages wait to be drawn while the request goes out (the answer's
# first event says it went; a remote server's may take longer).
HEAD_START = 0.03
# How long the new messages' first frame waits for the reply's first text, when it has come.
FIRST_TEXT_WAIT = 0.015
# Turns of the event loop the screen gets after each slice.
LOOP_TURNS = 4


class ReplyActions:
    """The chat screen's replies, from request to end (mixed into ChatScreen)."""

    async def _start_reply(
        self: ChatScreen,
        replacing: Message | None = None,
        *,
        asked: bool = True,
        shown: Sequence[Widget] = (),
    ) -> None:
        """Ask for a reply to the conversation as it stands.

        `replacing`: a reply with text that this one is asked in place of (a retry). It stays
        on screen until the new reply has text, and comes back if the new one has none.
        `asked`: the user asked for it now (Enter, a retry), not a queued message going when
        the last reply ended.
        `shown`: widgets for the transcript before the reply's (the message it answers),
        mounted with it in one go.
        """
        self.take_sidebar_edits(typing_too=asked)
        self._replacing = replacing
        messages = self.conversation.request_messages(detail=self.settings.image_detail)
        if left_out := self.conversation.images_left_out():
            self.notify(
                f"{left_out} of the earliest images are left out of this request (a request "
                "carries 10 at most); a short note stands in for each.",
                timeout=6,
            )
        reply = self.conversation.begin_reply()
        view = AssistantMessage(reply)
        self._streaming = (reply, view)
        self.is_streaming = True
        # The request goes out first: drawing the new messages takes the event loop for a
        # while, which would hold the request back. The view is told of what arrives
        # meanwhile (it draws all of it once mounted), even that the reply has ended.
        going, drawn = asyncio.Event(), asyncio.Event()
        self._stream_reply(reply, view, self.settings, messages, going, drawn)
        try:
            with suppress(TimeoutError):  # (not wait_for, which may swallow a cancellation)
                async with asyncio.timeout(HEAD_START):
                    await going.wait()
            # A retry stopped at once, without text, took its view away already.
            on_path = any(m is reply for m in self.conversation.path)
            views = [*shown, view] if on_path else list(shown)
            transcript = self.query_one(Transcript)
            # One frame for the new messages and the reply's first text, not one for an empty
            # reply and another for its text: what has arrived is read before the screen is
            # updated (a moment at most).
            with self.app.batch_update():
                await transcript.add(*views, trim=False)  # trimmed once the reply has ended
                transcript.scroll_end(animate=False)
                self._show_totals()  # as sent: the reply counts once it has ended
                drawn.set()
                await asyncio.sleep(FIRST_TEXT_WAIT)
        finally:
            drawn.set()
        self._save_soon(totals=False)

    @work(exclusive=True, group=REPLY_GROUP, exit_on_error=False)
    async def _stream_reply(
        self: ChatScreen,
        reply: Message,
        view: AssistantMessage,
        settings: Settings,
        messages: list[dict[str, str]],
        going: asyncio.Event,
        drawn: asyncio.Event,
    ) -> None:
        """`going` is set once the request is on its way (or the reply ended); the reply is
        read on once the new messages are `drawn` (they would wait for its backlog)."""
        outcome = ReplyOutcome()
        # A backlog that arrived at once is read without the event loop ever waiting: after
        # each slice of it the screen catches up (its messages, keys and a frame), so the first
        # text is drawn at once and the rest in batches.
        began = turn_ends = time.perf_counter()
        turn_ends += SLICE
        try:
            async with aclosing(self.app.client.stream(settings, messages)) as events:
                async for event in events:
                    outcome.observe(event)
                    if not going.is_set() and not isinstance(event, RequestSent):
                        going.set()  # an answer (or a failure): the request went
                        await drawn.wait()
                        turn_ends = time.perf_counter() + SLICE
                    match event:
                        case TextDelta(text):
                            if not reply.content:
                                turn_ends = min(turn_ends, time.perf_counter() + FIRST_SLICE)
                            reply.append(text)
                            view.more_arrived()
                            if self._replacing is not None:
                                self._replaced()
                        case ReasoningDelta(text):
                            reply.reasoning += text
                            view.more_reasoning()
                        case ReplyStarted(model):
                            self._remember(settings, Lesson.SERVES.value, model)
                        case Adapted(lesson, value, note):
                            view.show_adapted(note)
                            self._remember(settings, lesson, value)
                        case Answered(_, limits) if limits is not None:
                            if (bar := self.status_bar()) is not None:
                                bar.limits = limits
                        case Retrying():
                            view.show_retry(event)
                        case _:
                            pass  # the outcome has the rest
                    if time.perf_counter() >= turn_ends:
                        # The tail waits while the backlog is read: rendered now, it would
                        # cost a frame that the rest of the backlog waits for.
                        view.reading_backlog(True)
                        try:
                            await self._screen_caught_up(began)
                        finally:
                            view.reading_backlog(False)
                        typing = self.app.pending_input.typed_within(TYPING_LATELY, after=began)
                        turn_ends = time.perf_counter() + (TYPING_SLICE if typing else SLICE)
        except asyncio.CancelledError:
            outcome.stopped = True
            raise
        finally:
            going.set()
            self._end_reply(outcome)

    async def _screen_caught_up(self: ChatScreen, began: float) -> None:
        """Give the event loop a few turns: a frame takes several steps (the tail's render, the
        screen's idle check, its update timer), each a turn; waiting for the frame itself
        would stall the reply whenever the screen is busy. Typing is waited for, though."""
        for _ in range(LOOP_TURNS):
            await asyncio.sleep(0)
        # What was typed since the reply began shows before more is read (not the Enter that
        # sent it: its frame comes with the reply's first text).
        await self.app.pending_input.wait(began)

    def _remember(self: ChatScreen, settings: Settings, lesson: str, value: str) -> None:
        """Keep what the server taught about its model, for the next run (see learned.py)."""
        endpoint, model = Learned.key(settings)
        if lesson == Lesson.SERVES.value and value == model:
            return  # nothing to learn: the model is called as it was asked for
        if self.app.store.is_open:
            self.run_worker(
                self.app.store.learn(endpoint, model, lesson, value),
                group="save",
                exit_on_error=False,
            )

    def _end_reply(self: ChatScreen, outcome: ReplyOutcome | None = None) -> None:
        """Give the streaming reply its final state (once) and free the prompt.

        Without an outcome (the worker never ran), the reply was stopped before it began.
        """
        if self._streaming is not None:
            reply, view = self._streaming
            self._streaming = None
            if outcome is None:
                reply.state = ReplyState.STOPPED
                view.finish(reply.state)
            else:
                reply.state = outcome.state
                reply.stats = outcome.stats()
                reply.error = outcome.error
                view.finish(outcome.state, outcome.error, outcome.filtered)
                self._show_connection(outcome)
            if self._replacing is not None:
                self._keep_replaced(reply, view)
            self._save_soon()
        self.is_streaming = False

    def _replaced(self: ChatScreen) -> None:
        """The retry's first text arrived: the reply it replaces leaves the screen (it stays,
        as the branch beside the new one)."""
        replaced, self._replacing = self._replacing, None
        if replaced is not None and (old := self.query_one(Transcript).view_of(replaced)):
            old.remove()

    def _keep_replaced(self: ChatScreen, attempt: Message, view: AssistantMessage) -> None:
        """A retry ended without text: the reply it was to replace is shown again, and the
        conversation goes on from it; the attempt stays as a branch beside it, and its failure
        is told."""
        replaced, self._replacing = self._replacing, None
        if replaced is None:
            return
        self.conversation.show(replaced)
        if view.is_attached:  # not if it ended before it was drawn
            view.remove()
        old = self.query_one(Transcript).view_of(replaced)
        if isinstance(old, AssistantMessage):
            old.show_retry_ended(attempt.state, attempt.error)

    def _show_connection(self: ChatScreen, outcome: ReplyOutcome) -> None:
        """The sidebar's connection state follows the last request, as it does a test."""
        panel = self.query_one(SettingsPanel)
        error = outcome.error
        if error is not None and error.about_the_connection:
            panel.show_check(False, f"{error.title} (the last request)")
        elif outcome.model is not None:
            panel.show_check(True, f"{outcome.model} answered the last request")
            self.connected()

    async def _stop_reply(self: ChatScreen) -> None:
        """Cancel the streaming reply and wait until its worker has wound down.

        A queued message goes back into the box, unsent: it was meant for after this reply.
        """
        self.unqueue()
        running: list[Worker[None]] = [
            w for w in self.workers if w.group == REPLY_GROUP and not w.is_finished
        ]
        for worker in running:
            worker.cancel()
        for worker in running:
            with suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        # A worker cancelled before it began never ran its `finally`.
        self._end_reply()
