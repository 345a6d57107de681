"""A checkbox whose mark is there only when it is ticked."""

from __future__ import annotations

from textual.widgets import Checkbox


class TickBox(Checkbox):
    """Textual's checkbox draws an X in both states and tells them apart by colour alone, which
    some themes and terminals make hard to see: this one draws the X only when ticked."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        super().watch_value()
