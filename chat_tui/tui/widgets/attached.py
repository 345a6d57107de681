"""A user message's attachments in the transcript: their chips, unfolded on request into what
each one is (a file's path and text, an image's name, type, size in pixels and bytes).

Unfolded with a click on the chips, or a key on the selected message (keymap.TRANSCRIPT). The
names and a file's text are untrusted: they pass `one_line()` / `visible()` into Content, never
markup or Markdown. The details are built on the first unfold only, and a file shows at most
MAX_LINES lines (and MAX_CHARS characters), so a long file costs little to draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from chat_tui.attachments import human_size
from chat_tui.text import one_line, visible
from chat_tui.tui import keymap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual import events
    from textual.app import ComposeResult
    from textual.widget import Widget

    from chat_tui.attachments import Attachment

MAX_LINES = 200
MAX_CHARS = 20_000  # a minified file is one long line: its first part is enough to recognise it


def preview(text: str) -> tuple[str, str]:
    """A file's text as shown unfolded, and a note on what is left out ("" if nothing)."""
    lines = text.splitlines()
    shown: list[str] = []
    size = 0
    for line in lines[:MAX_LINES]:
        if size + len(line) > MAX_CHARS:
            if not shown:  # one huge line: its start, cut visibly
                shown.append(line[:MAX_CHARS] + "…")
            break
        shown.append(line)
        size += len(line) + 1
    hidden = len(lines) - len(shown)
    if hidden:
        more = f"{hidden:,} more line" + ("" if hidden == 1 else "s")
        note = f"… {more} not shown here (the message carries all {len(lines):,})"
    elif shown and shown[-1] != lines[-1]:
        note = "… the rest of that line not shown here (the message carries it whole)"
    else:
        note = ""
    return "\n".join(shown), note


def heading(attachment: Attachment) -> str:
    """One line naming the attachment and what it is."""
    name = one_line(attachment.name)
    size = human_size(attachment.size)
    if attachment.is_image:
        missing = "" if attachment.data else " · its saved copy is missing"
        pixels = f"{attachment.width}x{attachment.height}"
        return f"{name} · {one_line(attachment.mime)} · {pixels} · {size}{missing}"
    count = f"{attachment.lines:,} line" + ("" if attachment.lines == 1 else "s")
    if attachment.truncated:
        return f"{name} · the first {count} of a {size} file (the rest was not attached)"
    return f"{name} · {count} · {size}"


class AttachmentChips(Vertical):
    """The chips (as `Attachment.chip` made them, already safe), and below them, while
    `expanded`, each attachment's details."""

    expanded: reactive[bool] = reactive(False)

    def __init__(self, attachments: Sequence[Attachment], chips: Sequence[str]) -> None:
        super().__init__(classes="attachments")
        self.attachments = list(attachments)
        self._chips = " ".join(chips)
        self._details_built = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="chip-line"):
            yield Static(Content(self._chips), classes="chips")
            # Shown by the stylesheet only on the selected message, in the messages.
            yield Static(self._hint(), classes="chips-hint")

    def _hint(self) -> str:
        key = keymap.message_key("attachments")
        return f"{key} folds them" if self.expanded else f"{key} shows them"

    def toggle(self) -> None:
        self.expanded = not self.expanded

    def on_click(self, event: events.Click) -> None:
        # The chips only: a click in a file's text is for reading or selecting it.
        line = self.query_one(".chip-line")
        if event.widget is line or event.widget in line.children:
            event.stop()  # the message box keeps the typing focus
            self.toggle()

    async def watch_expanded(self, expanded: bool) -> None:
        self.set_class(expanded, "-expanded")
        if not self.is_mounted:
            return
        self.query_one(".chips-hint", Static).update(self._hint())
        if expanded and not self._details_built:
            self._details_built = True
            await self.mount_all(self._details())
        if expanded:
            # The message from its top, as far as fits: a transcript that follows the end
            # would otherwise show the end of a long file, and the message would go out of view.
            message = self.parent
            if message is not None:
                self.call_after_refresh(message.scroll_visible, animate=False)

    def _details(self) -> list[Widget]:
        views: list[Widget] = []
        for attachment in self.attachments:
            views.append(Static(Content(heading(attachment)), classes="attached attached-name"))
            if attachment.is_image:
                continue
            text, note = preview(attachment.text)
            if text:
                views.append(Static(Content(visible(text)), classes="attached attached-text"))
            if note:
                views.append(Static(Content(note), classes="attached attached-note"))
        return views
