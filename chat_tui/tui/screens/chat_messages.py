"""What the chat screen does with one message: copy it, one of its code blocks or the text
selected in it, show the whole text behind a reply's error, load one of your messages to edit
and resend.

A mixin of ChatScreen (it uses the screen's conversation and transcript), kept apart so that
each module holds one concern. Its handler goes by its name (on_transcript_selected), not @on:
Textual collects @on handlers only from the classes of its own hierarchy.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from chat_tui.attachments import AttachmentError, read_attachment
from chat_tui.code_blocks import code_blocks
from chat_tui.conversation import Delivery, Message, Role
from chat_tui.tui import keymap
from chat_tui.tui.screens.code_picker import CodePicker
from chat_tui.tui.screens.conversations import Confirm, TextPrompt
from chat_tui.tui.screens.details import DetailsScreen
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.messages import AssistantMessage, UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from chat_tui.attachments import Attachment
    from chat_tui.tui.screens.chat import ChatScreen


class MessageActions:
    """The chat screen's actions on one message (mixed into ChatScreen)."""

    def on_transcript_selected(self: ChatScreen, event: Transcript.Selected) -> None:
        message = event.message
        if event.action == "copy":
            what = "your message" if message.role is Role.USER else "the reply"
            self.app.copy_text(message.content, what)
        elif event.action == "copy_code":
            self.copy_code(message)
        elif event.action == "details":
            self.show_details(message)
        elif event.action == "thinking":
            view = self.query_one(Transcript).view_of(message)
            if not (isinstance(view, AssistantMessage) and view.toggle_thinking()):
                self.notify("That message has no thinking to show.")
        elif event.action == "attachments":
            view = self.query_one(Transcript).view_of(message)
            if not (isinstance(view, UserMessage) and view.toggle_attachments()):
                self.notify("That message has no attachments.")
        elif event.action == "take_out":
            self.run_worker(self.take_out_exchange(message), exit_on_error=False)
        elif event.action == "resend":
            self.run_worker(self.send_again(message), exit_on_error=False)
        elif message.role is Role.USER:
            self.query_one(PromptInput).edit_message(message)
        else:
            self.notify(
                "Only your own messages can be edited; ctrl+r asks for the last reply again.",
            )

    def action_attach(self: ChatScreen, path: str = "") -> None:
        """Attach the file at `path` (relative to where chat-tui started) to the next message;
        without a path, ask for one."""
        if path.strip():
            self._attach_file(path.strip())
            return

        def chosen(name: str | None) -> None:
            if name and name.strip():
                self._attach_file(name.strip())

        self.app.push_screen(TextPrompt("Attach a file or image: its path", ""), chosen)

    @work(group="attach", exit_on_error=False)
    async def _attach_file(self: ChatScreen, path: str) -> None:
        await self._attach_path(path)

    async def _attach_path(
        self: ChatScreen, path: str, *, first_part: bool = False
    ) -> Attachment | None:
        """Read the file at `path` into the tray (from a worker: it may ask a question); a
        refusal is told, and gives None."""
        try:
            # Off the event loop: a large file, or one on a slow disk.
            attachment = await asyncio.to_thread(read_attachment, path, first_part=first_part)
        except AttachmentError as exc:
            if exc.too_large and not first_part:
                question = f"{exc} Attach its first part?"
                if await self.app.push_screen_wait(Confirm(question)):
                    return await self._attach_path(path, first_part=True)
                return None
            self.notify(f"Not attached: {exc}", severity="warning")
            return None
        self._add_attachment(attachment)
        return attachment

    def _add_attachment(self: ChatScreen, attachment: Attachment) -> None:
        tray = self.query_one(AttachmentTray)
        tray.numbered_from(self._next_image_number())
        tray.add(attachment)
        self.query_one(PromptInput).attached = len(tray.attachments)

    def _next_image_number(self: ChatScreen) -> int:
        numbers = [n for group in self.conversation.image_numbers().values() for n in group]
        return max(numbers, default=0) + 1

    def _take_attachments(self: ChatScreen) -> list[Attachment]:
        taken = self.query_one(AttachmentTray).take()
        self.query_one(PromptInput).attached = 0
        return taken

    def on_prompt_input_backspace_at_start(self: ChatScreen) -> None:
        tray = self.query_one(AttachmentTray)
        if tray.pop() is not None:
            self.query_one(PromptInput).attached = len(tray.attachments)

    def on_prompt_input_undo_chip(self: ChatScreen) -> None:
        tray = self.query_one(AttachmentTray)
        if tray.put_back() is not None:
            self.query_one(PromptInput).attached = len(tray.attachments)

    async def send_again(self: ChatScreen, message: Message) -> None:
        """Send the selected exchange's message again: the last one is retried; one the server
        refused goes again at the end (it is not in the conversation otherwise)."""
        exchange = self.conversation.exchange_of(message)
        user = next((m for m in exchange if m.role is Role.USER), None)
        if self.is_streaming:
            self.app.bell()
        elif user is None:
            self.notify("There is no message of yours there to send again.")
        elif exchange[-1] is self.conversation.shown[-1]:
            self.action_focus_prompt()  # to type on while the reply comes
            await self.action_retry()
        elif self.conversation.deliveries().get(id(user)) is Delivery.REFUSED:
            self.action_focus_prompt()
            await self._hide_views(self.conversation.take_out(exchange))
            await self._send_text(user.content, user.attachments)
        else:
            self.notify(
                "Only the last message, or one the server refused, is sent again as it is; "
                "e edits this one and resends it."
            )

    def show_details(self: ChatScreen, message: Message) -> None:
        view = self.query_one(Transcript).view_of(message)
        error = view.error if isinstance(view, AssistantMessage) else None
        if error is not None and (error.more or error.details or error.request_id):
            # The whole text behind the card (a sign-in report), then what support asks for.
            text = "\n\n".join(part for part in (error.more, error.ticket()) if part)
            self.app.push_screen(DetailsScreen(error.title, text))
        elif message.stats is not None:
            # A reply that went well: its request id and figures, for support all the same.
            self.app.push_screen(DetailsScreen("Reply details", message.stats.details()))
        else:
            self.notify("That message has no more to show.")

    def action_copy_selection(self: ChatScreen) -> None:
        """The text selected with the mouse (part of a reply, a message), as it reads on
        screen, copied the one way chat-tui copies. A click in the transcript leaves the
        focus in the message box, so this key comes here from there too."""
        text = self.get_selected_text()
        if not text:
            self.notify(
                f"Nothing is selected: drag the mouse over text to select it, then "
                f"{keymap.keys_for('copy_selection')} copies it (ctrl+q quits)."
            )
            return
        self.app.copy_text(text, "the selected text")

    def _last_reply(self: ChatScreen) -> Message | None:
        return next(
            (m for m in reversed(self.conversation.messages) if m.role is Role.ASSISTANT), None
        )

    def action_copy_last_reply(self: ChatScreen) -> None:
        reply = self._last_reply()
        if reply is None:
            self.notify("There is no reply to copy yet.")
        else:
            self.app.copy_text(reply.content, "the last reply")

    def action_copy_last_code(self: ChatScreen) -> None:
        reply = self._last_reply()
        if reply is None:
            self.notify("There is no reply to copy from yet.")
        else:
            self.copy_code(reply)

    def copy_code(self: ChatScreen, message: Message) -> None:
        """Copy the message's only code block, or the one the user picks."""
        blocks = code_blocks(message.content)
        if not blocks:
            self.notify("That message has no code blocks.")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                block = blocks[index]
                name = f"code block {index + 1}" + (
                    f" ({block.language})" if block.language else ""
                )
                self.app.copy_text(block.code, name)

        if len(blocks) == 1:
            chosen(0)
        else:
            self.app.push_screen(CodePicker(blocks), chosen)
