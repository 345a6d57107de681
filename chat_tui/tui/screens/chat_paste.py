"""What the chat screen does with what is pasted into the message box besides text: files
dropped on the terminal (which paste their paths) and the clipboard's image (ctrl+v).

A mixin of ChatScreen, beside its attachments (chat_messages.py): both go through the same
reading, limits and questions. Its handlers go by their names, as MessageActions' do.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import TYPE_CHECKING

from textual import events, work

from chat_tui.attachments import AttachmentError, image_attachment
from chat_tui.clipboard_read import read_clipboard
from chat_tui.text import one_line
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from chat_tui.attachments import Attachment
    from chat_tui.tui.screens.chat import ChatScreen

# What an image from the clipboard is called where a name is needed (its file has none).
CLIPBOARD_IMAGE = "pasted image"


class PasteActions:
    """Pasted files and the clipboard's image, as attachments (mixed into ChatScreen)."""

    # The attachments the last paste of paths gave, for ctrl+z to take back.
    _pasted_files: tuple[Attachment, ...] = ()

    def on_prompt_input_files_pasted(self: ChatScreen, event: PromptInput.FilesPasted) -> None:
        self._attach_pasted(event.text, event.paths)

    @work(group="attach", exit_on_error=False)
    async def _attach_pasted(self: ChatScreen, text: str, paths: list[str]) -> None:
        attached = [found for path in paths if (found := await self._attach_path(path)) is not None]
        if not attached:
            # Each refusal was told: the paths go in as text, as any other paste.
            self.query_one(PromptInput).paste_as_text(text)
            return
        self._pasted_files = tuple(attached)
        self.query_one(PromptInput).undoable_paste = text
        names = ", ".join(one_line(PurePath(a.name).name) for a in attached)
        what = "the path" if len(paths) == 1 else "the paths"
        self.notify(f"Attached {names}. ctrl+z now puts {what} in as text instead.")

    def on_prompt_input_paste_undone(self: ChatScreen) -> None:
        tray = self.query_one(AttachmentTray)
        for attachment in self._pasted_files:
            tray.discard(attachment)
        self._pasted_files = ()
        self.query_one(PromptInput).attached = len(tray.attachments)

    def action_paste_image(self: ChatScreen) -> None:
        """The clipboard's image as an attachment; its text, if it holds text, into the box."""
        self._paste_from_clipboard()

    @work(group="clipboard", exclusive=True, exit_on_error=False)
    async def _paste_from_clipboard(self: ChatScreen) -> None:
        # Its programs may be slow to answer (or hang, till their timeout): off the event loop.
        content = await asyncio.to_thread(read_clipboard)
        prompt = self.query_one(PromptInput)
        if content.image:
            try:
                self._add_attachment(image_attachment(CLIPBOARD_IMAGE, content.image))
            except AttachmentError as exc:
                self.notify(f"Not attached: {exc}", severity="warning")
        elif text := content.text or self.app.clipboard:
            # As a paste, through the box's rules (its length limit; paths become files). The
            # app's own last copy stands in, as TextArea's ctrl+v, when the system's is unread.
            # To the app, as the terminal's paste comes: posted to the box, it would bubble up
            # to the app and be handed to the box a second time.
            prompt.focus()
            self.app.post_message(events.Paste(text))
        else:
            self.notify(content.problem, severity="warning")
