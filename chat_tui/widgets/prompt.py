"""The multi-line prompt box: Enter sends, ctrl+j or shift+enter starts a new line."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

if TYPE_CHECKING:
    from textual import events

PLACEHOLDER = "Message  (Enter sends · ctrl+j new line)"
# About 25,000 tokens. A longer message is almost always a mistaken paste, and would make the
# transcript slow to draw.
MAX_MESSAGE_CHARS = 100_000


class PromptInput(TextArea):
    """A TextArea whose Enter submits instead of inserting a newline."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # ctrl+j works in every terminal; shift+enter only where the terminal reports it.
        Binding(
            "ctrl+j,shift+enter",
            "newline",
            "New line",
            tooltip="New line in the message (shift+enter where the terminal reports it)",
        ),
    ]

    class Submitted(Message):
        """The user asked to send `text` (never empty or only whitespace)."""

        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

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

    def action_submit(self) -> None:
        if len(self.text) > MAX_MESSAGE_CHARS:
            self.post_message(self.TooLong(len(self.text), pasted=False))
        elif self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")
