"""Editable text widgets that never hold a character the terminal would act on.

What such a field shows is what it holds: text loaded, pasted, typed or set from code passes
`visible()` on its way in. An escape sequence from an imported file, a profile, the environment
or a paste shows as ␛ (and is sent as shown) instead of reaching the terminal when drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Input, TextArea

from chat_tui.text import visible

if TYPE_CHECKING:
    from textual.document._document import EditResult
    from textual.document._edit import Edit


class PlainInput(Input):
    """A one-line field whose value is always safe to draw."""

    def validate_value(self, value: str) -> str:
        return visible(value)


class PlainTextArea(TextArea):
    """A text area whose text is always safe to draw: every edit and load is made visible."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(visible(text), **kwargs)

    def edit(self, edit: Edit) -> EditResult:
        # Typing, pasting, insert() and replace() all arrive here as one Edit.
        edit.text = visible(edit.text)
        return super().edit(edit)

    def load_text(self, text: str) -> None:
        super().load_text(visible(text))
