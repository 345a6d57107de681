"""Compaction on the chat screen: the older turns summarised by the model (ctrl+s, /compact,
the palette, or by itself past the `compact_at` fill), the summary sent in their place.

The summary is asked for through the same client and settings as a reply, and stopped with Esc
as one: while it is on its way the screen counts as streaming (a message typed meanwhile is
queued). Only a complete summary changes anything; a failure or a stop leaves the conversation
as it was. The summarised turns stay on screen, folded under a mark that unfolds them and the
summary (z in the messages, or the palette).

A mixin of ChatScreen (it uses the screen's conversation, client, recorder and widgets), kept
apart so that each module holds one concern.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from chat_tui.compaction import not_kept, read_summary, too_short
from chat_tui.context_meter import conversation_fill
from chat_tui.reply_outcome import ReplyOutcome
from chat_tui.tui.screens.chat_reply import REPLY_GROUP
from chat_tui.tui.widgets.messages import SummaryMark
from chat_tui.tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from chat_tui.context_meter import ContextFill
    from chat_tui.conversation import Compaction, Message
    from chat_tui.tui.screens.chat import ChatScreen

# The transcript's class while the summarised messages are folded (the default).
FOLDED = "-fold-summarised"
SUMMARISED = "-summarised"  # a message's class, while a summary stands for it


class CompactActions:
    """The chat screen's compaction (mixed into ChatScreen)."""

    _summary_mark: SummaryMark | None = None
    # The user's message whose reply waits for a compaction (the compact_at setting).
    _held: Message | None = None

    def context_fill(self: ChatScreen) -> ContextFill:
        """How full the next request is, against the context window (the status line's)."""
        return conversation_fill(
            self.conversation.fill_messages(), self.settings.context_window, self.settings.model
        )

    async def action_compact(self: ChatScreen) -> None:
        await self.compact()

    def due_for_compaction(self: ChatScreen) -> bool:
        """The `compact_at` setting says to compact before the next request: it would fill
        that much of the context window, and there is something to summarise."""
        threshold = self.settings.compact_at
        fraction = self.context_fill().fraction if threshold else None
        return (
            fraction is not None
            and fraction * 100 >= threshold
            and self.conversation.compaction() is not None
        )

    async def compact(
        self: ChatScreen, *, reply_after: bool = False, replacing: Message | None = None
    ) -> bool:
        """Ask for the summary of the older turns; whether it was asked for.

        `reply_after`: the compaction goes before the reply to the user's last message (the
        `compact_at` setting), which is asked for once it ends, whether or not it worked;
        `replacing`: that reply is a retry of this one (see _start_reply)."""
        if self.is_streaming:
            self.notify("A reply is on its way: compact once it has ended (esc stops it).")
            return False
        if not reply_after:  # asked for now: the sidebar's edits apply, as to a retry
            self.take_sidebar_edits(typing_too=True)
        if problems := self.settings.problems():
            self.notify(f"Cannot compact yet: {problems[0]}", severity="warning")
            return False
        plan = self.conversation.compaction()
        if plan is None:
            if not reply_after:
                self.notify(too_short())
            return False
        if reply_after:
            fill = self.context_fill()
            self.notify(
                f"The next request would fill {round(100 * (fill.fraction or 0))}% of the context "
                f"window (compact at {self.settings.compact_at}%): summarising the older turns "
                "first.",
                timeout=8,
            )
        note = SummaryMark()
        note.show_working(len(plan.messages), reply_after)
        transcript = self.query_one(Transcript)
        await transcript.add(note)
        transcript.scroll_end(animate=False)
        self.is_streaming = True  # Esc stops it, and a message sent meanwhile is queued
        self._held = self.conversation.shown[-1] if reply_after else None
        self._summarise(plan, note, reply_after, replacing)
        return True

    @work(exclusive=True, group=REPLY_GROUP, exit_on_error=False)
    async def _summarise(
        self: ChatScreen,
        plan: Compaction,
        note: SummaryMark,
        reply_after: bool,
        replacing: Message | None,
    ) -> None:
        outcome = ReplyOutcome()
        summary = ""
        try:
            summary = await read_summary(
                self.app.client.stream(self.settings, plan.request), outcome
            )
        except asyncio.CancelledError:
            outcome.stopped = True
            raise
        finally:
            self._summarised(plan, note, summary, outcome, reply_after, replacing)

    def _summarised(
        self: ChatScreen,
        plan: Compaction,
        note: SummaryMark,
        summary: str,
        outcome: ReplyOutcome,
        reply_after: bool,
        replacing: Message | None = None,
    ) -> None:
        """The summary's request ended: keep a complete summary; otherwise say why nothing
        changed. Then the reply it went before, if any, is asked for."""
        if note.is_attached:
            note.remove()
        self._held = None
        self.is_streaming = False
        if self.app.is_ending:
            return
        problem = not_kept(outcome, summary)
        if problem:
            self.notify(problem, severity="error" if outcome.error else "information", timeout=10)
            self._show_totals()  # a message held for it is marked as it stands now
        else:
            self.conversation.compact(plan.through, summary)
            self._save_soon()  # the totals and the marks too
            self.notify(
                f"{len(plan.messages)} earlier messages summarised: the next requests carry the "
                "summary in their place. They stay here, folded.",
            )
        if not reply_after:
            return
        if outcome.stopped and replacing is not None:
            self.conversation.show(replacing)  # as a retry that brought nothing
            self._save_soon()
            self.notify("Not asked again: the reply stays as it was.", severity="warning")
        elif outcome.stopped:
            self.notify("Your message was not sent: ctrl+r asks for its reply.", severity="warning")
        elif replacing is not None:
            self.unqueue()  # it was meant for after the reply the retry replaces: back it goes
            self.call_later(self._start_reply, replacing, asked=False)
        elif not self.queued:  # a queued message would carry it: it goes next
            self.call_later(self._start_reply, asked=False)

    def action_toggle_summarised(self: ChatScreen) -> None:
        """Unfold the summarised messages (and the summary), or fold them again."""
        if self.conversation.summary_point() is None:
            self.notify("Nothing in this conversation is summarised: compact it first (ctrl+s).")
            return
        self.query_one(Transcript).toggle_class(FOLDED)
        self._mark_summaries()

    def _mark_summaries(self: ChatScreen) -> None:
        """Fold the drawn messages a summary stands for, with the mark after the last of them
        (above the first drawn message if they are all earlier)."""
        transcript = self.query_one(Transcript)
        summarised = self.conversation.summarised()
        inside = {id(m) for m in summarised}
        drawn = transcript.drawn_messages()
        last = None
        for view in drawn:
            folded = id(getattr(view, "message", None)) in inside
            view.set_class(folded, SUMMARISED)
            last = view if folded else last
        point = self.conversation.summary_point()
        mark = self._summary_mark
        if point is None:
            if mark is not None and mark.is_attached:
                mark.remove()
            self._summary_mark = None
            return
        if mark is None or mark.parent is not transcript:
            mark = self._summary_mark = SummaryMark()
        mark.show_summary(len(summarised), point.summary, unfolded=not transcript.has_class(FOLDED))
        if mark.parent is transcript:
            children = list(transcript.children)
            place = children.index(mark)
            if last is not None and children[place - 1] is not last:
                transcript.move_child(mark, after=last)
            elif last is None and drawn and children[place + 1 :][:1] != [drawn[0]]:
                transcript.move_child(mark, before=drawn[0])
        elif last is not None:
            transcript.mount(mark, after=last)
        else:
            transcript.mount(mark, before=drawn[0] if drawn else None)
