"""Branches on the chat screen: a retry or an edit adds one beside the old turns, which stay.

A message with others beside it is marked `‹ 2/3 ›`; [ and ] on the selected message (or the
palette) show its other branches, and the conversation goes on from the branch shown. "Fork
from here" copies the messages shown up to the selected one into a new conversation.

A mixin of ChatScreen (it uses the screen's conversation, transcript and recorder), kept apart
so that each module holds one concern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.tui.widgets.messages import BranchTitled
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from chat_tui.conversation import Message
    from chat_tui.tui.screens.chat import ChatScreen


class BranchActions:
    """The chat screen's branches and forks (mixed into ChatScreen)."""

    def _selected_message(self: ChatScreen) -> Message | None:
        """The message selected in the transcript, while the keys go there."""
        transcript = self.query_one(Transcript)
        if self.focused is not transcript or transcript.selected is None:
            return None
        return getattr(transcript.selected, "message", None)

    def _mark_branches(self: ChatScreen) -> None:
        """Each drawn message's title says which of its branches it is (‹ 2/3 ›)."""
        views = [
            v for v in self.query_one(Transcript).drawn_messages() if isinstance(v, BranchTitled)
        ]
        marks = self.conversation.branch_marks([v.message for v in views])  # type: ignore[attr-defined]
        for view, (index, count) in zip(views, marks, strict=True):
            view.show_branch(index, count)

    async def action_previous_branch(self: ChatScreen) -> None:
        await self._switch_branch(-1)

    async def action_next_branch(self: ChatScreen) -> None:
        await self._switch_branch(1)

    async def _switch_branch(self: ChatScreen, step: int) -> None:
        """Show the branch beside the selected message (or beside the last message shown that
        has any), with its latest turns."""
        if self.is_streaming:
            self.notify("A reply is on its way: stop it first (esc), then switch branches.")
            return
        # From the palette, with no message selected: the last one shown with branches.
        message = self._selected_message() or self.conversation.last_branching()
        if message is None or self.conversation.branch_of(message)[1] < 2:
            self.notify("That message has no other branches: a retry or an edit makes one.")
            return
        chosen = self.conversation.switch_branch(message, step)
        if chosen is None:
            where = "first" if step < 0 else "last"
            self.notify(f"This is the {where} branch here.")
            return
        # What was taken out on the branch left is no longer for u to bring back.
        path = {id(m) for m in self.conversation.path}
        self._removed = [group for group in self._removed if id(group[0]) in path]
        prompt = self.query_one(PromptInput)
        if prompt.editing is not None and not any(
            m is prompt.editing for m in self.conversation.shown
        ):
            prompt.forget_edit()  # its message is on the branch left
        transcript = self.query_one(Transcript)
        had_focus = self.focused is transcript
        await self._redraw()
        while transcript.view_of(chosen) is None and transcript.earlier:
            await self.action_show_earlier()  # a long branch: drawn from where it starts
        view = transcript.view_of(chosen)
        if view is not None:
            if had_focus:
                transcript.select(view)
            else:
                transcript.scroll_to_widget(view, animate=False, top=True)
        self._save_soon()

    async def action_fork(self: ChatScreen) -> None:
        """A new conversation with the messages shown up to the selected one (all of them if
        none is selected), opened in place of this one, which stays saved as it is."""
        if not self.conversation.shown:
            self.notify("Nothing to fork yet: send a message first.")
            return
        message = self._selected_message() or self.conversation.shown[-1]
        await self._stop_reply()
        await self.save()
        fork = self.conversation.fork(message)
        await self._switch_to(fork)
        await self._redraw()
        self.action_focus_prompt()
        self._save_soon()
        self.notify("Forked into a new conversation; the one it came from stays in the list (F3).")
