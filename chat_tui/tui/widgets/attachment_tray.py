"""The files and images attached to the message being written, as chips above the box.

They go with the next message sent, and Backspace at the very start of the box takes the last
one off again, as it would a character. The chips' names are the user's paths (untrusted, for
all the screen knows): `Attachment.chip` passes them through the sanitizer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from chat_tui.tui.fit import fitting

if TYPE_CHECKING:
    from chat_tui.attachments import Attachment

# After the chips, the longest of these the line holds (fullest first).
HINTS = (
    "  backspace at the start takes the last off · ctrl+z puts it back",
    "  backspace takes the last off · ctrl+z puts it back",
    "  backspace takes the last off",
    "",
)


class AttachmentTray(Static):
    """Attachments waiting for the next message. `first_image` numbers the images' chips as the
    conversation will (its images so far, plus one)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.attachments: list[Attachment] = []
        # Taken off with Backspace, latest last: ctrl+z in the box puts them back.
        self.taken_off: list[Attachment] = []
        self.first_image = 1

    def on_mount(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def add(self, attachment: Attachment) -> None:
        self.attachments.append(attachment)
        self._show()

    def pop(self) -> Attachment | None:
        attachment = self.attachments.pop() if self.attachments else None
        if attachment is not None:
            self.taken_off.append(attachment)
        self._show()
        return attachment

    def put_back(self) -> Attachment | None:
        """The attachment last taken off, back in its place."""
        attachment = self.taken_off.pop() if self.taken_off else None
        if attachment is not None:
            self.add(attachment)
        return attachment

    def discard(self, attachment: Attachment) -> None:
        """Take `attachment` off, if it is still here (the very object, not an equal one)."""
        self.attachments = [a for a in self.attachments if a is not attachment]
        self._show()

    def take(self) -> list[Attachment]:
        """All of them, for the message being sent; the tray is empty after."""
        taken, self.attachments = self.attachments, []
        self.taken_off = []
        self._show()
        return taken

    def numbered_from(self, first_image: int) -> None:
        self.first_image = first_image
        self._show()

    def _show(self) -> None:
        chips: list[str] = []
        number = self.first_image
        for attachment in self.attachments:
            chips.append(attachment.chip(number))
            number += attachment.is_image
        shown = Content.assemble(("📎 ", "bold"), " ".join(chips))
        hint = fitting(HINTS, self.content_size.width - shown.cell_length)
        self.update(Content.assemble(shown, (hint, "dim")))
        self.display = bool(self.attachments)
