"""The multi-line prompt box: Enter sends, ctrl+j or shift+enter starts a new line.

Up on the first line and down on the last walk through earlier prompts. The box can also hold an
earlier message being edited, to resend it in place of the turns that followed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.message import Message
from textual.reactive import reactive

from chat_tui.input_history import InputHistory
from chat_tui.tui import keymap
from chat_tui.tui.widgets.plain_text import PlainTextArea

if TYPE_CHECKING:
    from textual import events
    from textual.binding import BindingType
    from textual.widgets import TextArea

    from chat_tui.conversation import Message as ChatMessage

PLACEHOLDER = "Message  (Enter sends · ctrl+j new line)"
# About 25,000 tokens. A longer message is almost always a mistaken paste, and would make the
# transcript slow to draw.
MAX_MESSAGE_CHARS = 100_000


class PromptInput(PlainTextArea):
    """A TextArea whose Enter submits instead of inserting a newline."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.PROMPT

    # An earlier message of the conversation being edited; sending replaces it and what followed.
    editing: reactive[ChatMessage | None] = reactive(None, init=False, always_update=True)

    class Submitted(Message):
        """The user asked to send `text` (never empty or only whitespace).

        `replaces` is the earlier message it was edited from, if it was.
        """

        def __init__(
            self, prompt: PromptInput, text: str, replaces: ChatMessage | None = None
        ) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text
            self.replaces = replaces

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            placeholder=PLACEHOLDER,
            compact=True,
            id=id,
        )
        self.prompts = InputHistory()
        self._recalled = ""  # the history entry last loaded into the box
        self._draft_before_edit = ""

    class TooLong(Message):
        """Text was refused for being longer than MAX_MESSAGE_CHARS."""

        def __init__(self, length: int, pasted: bool) -> None:
            super().__init__()
            self.length = length
            self.pasted = pasted

    # Textual calls the handler of every class in the MRO (until one prevents the default), so
    # these run before TextArea's own and never call it themselves.
    def _on_paste(self, event: events.Paste) -> None:
        if len(self.text) + len(event.text) > MAX_MESSAGE_CHARS:
            event.stop()
            event.prevent_default()
            self.post_message(self.TooLong(len(event.text), pasted=True))

    def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif event.key in ("up", "down") and self._walk_history(older=event.key == "up"):
            event.stop()
            event.prevent_default()

    def _walk_history(self, *, older: bool) -> bool:
        """Up on the first line, down on the last: the previous or next prompt, if any."""
        if self.editing is not None:
            return False  # the box holds a message being edited: arrows only move the cursor
        row = self.cursor_location[0]
        if older and row == 0 and not self.selection.is_empty:
            return False  # extending a selection, not walking
        if older and row == 0:
            entry = self.prompts.older(self.text)
        elif not older and row == self.document.line_count - 1:
            entry = self.prompts.newer()
        else:
            return False
        if entry is None:
            return False
        self._recalled = entry
        self.load_text(entry)
        self.move_cursor(self.document.end)
        return True

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        # A recalled prompt that is changed becomes the text being written: walking on must not
        # throw the change away.
        if self.prompts.browsing and self.text != self._recalled:
            self.prompts.reset()

    def action_submit(self) -> None:
        if len(self.text) > MAX_MESSAGE_CHARS:
            self.post_message(self.TooLong(len(self.text), pasted=False))
        elif self.text.strip():
            self.post_message(self.Submitted(self, self.text, self.editing))

    def sent(self, text: str) -> None:
        """The app sent `text`: empty the box, remember the prompt, end any edit."""
        self.prompts.add(text)
        self._draft_before_edit = ""
        self.editing = None
        self.clear()

    def edit_message(self, message: ChatMessage) -> None:
        """Load an earlier message to be edited; what was being typed comes back on cancel."""
        if self.editing is None:
            self._draft_before_edit = self.text
        self.prompts.reset()
        self.editing = message
        self.load_text(message.content)
        self.move_cursor(self.document.end)
        self.focus()

    def forget_edit(self) -> None:
        """The message being edited is gone (cleared, another conversation): the text stays,
        to be sent as a new message."""
        if self.editing is not None:
            self.editing = None
            self._draft_before_edit = ""

    def cancel_edit(self) -> None:
        self.editing = None
        self.load_text(self._draft_before_edit)
        self.move_cursor(self.document.end)
        self._draft_before_edit = ""

    def watch_editing(self, message: ChatMessage | None) -> None:
        self.set_class(message is not None, "-editing")
        self.border_title = (
            "editing an earlier message · enter resends, replacing later turns · esc cancels"
            if message is not None
            else None
        )
        self.refresh_bindings()  # the footer's Esc cancels the edit now, or no longer

    def action_newline(self) -> None:
        self.insert("\n")
