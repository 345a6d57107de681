"""The whole text behind a short error card (e.g. azure-identity's report), to read or select."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import TextArea

from chat_tui.text import visible
from chat_tui.tui import keymap

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType


class DetailsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.DETAILS

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title = visible(title)
        self._text = visible(text)

    def compose(self) -> ComposeResult:
        with Vertical(id="details-body") as body:
            body.border_title = Content(self._title)  # a plain string would be markup
            body.border_subtitle = "c copies · esc closes"
            yield TextArea(self._text, read_only=True, soft_wrap=True, id="details-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_copy_all(self) -> None:
        self.app.copy_text(self._text, "the details")  # type: ignore[attr-defined]
