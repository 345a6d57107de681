"""Choosing which code block of a reply to copy, when it has more than one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from chat_tui.text import visible
from chat_tui.tui import keymap

if TYPE_CHECKING:
    from textual import events
    from textual.app import ComposeResult
    from textual.binding import BindingType

    from chat_tui.code_blocks import CodeBlock


class CodePicker(ModalScreen[int | None]):
    """Returns the index of the chosen block, or None."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.CODE_PICKER

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__()
        self._blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical(id="code-picker-body") as body:
            body.border_title = "Copy which code block?"
            body.border_subtitle = "enter copies · 1-9 picks · esc closes"
            yield OptionList(
                *(
                    Option(Content.assemble((f"{number}  ", "bold"), visible(block.label)))
                    for number, block in enumerate(self._blocks, 1)
                ),
                id="code-list",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def on_key(self, event: events.Key) -> None:
        key = event.character or ""
        if key.isdigit() and 0 < int(key) <= len(self._blocks):
            event.stop()
            self.dismiss(int(key) - 1)
