"""The help screen (F1): every key the app answers to, built from the live bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textual.app import ComposeResult

INTRO = """\
# chat-tui keys

Type a message and press **Enter**. The reply streams into the transcript; scroll up to read
back (the transcript stops following) and scroll to the bottom to follow again.
"""


def key_rows(app_bindings: Iterable[tuple[str, str]]) -> str:
    lines = ["| Key | Action |", "| --- | --- |"]
    lines += [f"| `{key}` | {description} |" for key, description in app_bindings]
    return "\n".join(lines)


def describe_bindings(
    bindings: Iterable[BindingType], key_display: Callable[[str], str]
) -> list[tuple[str, str]]:
    """(key, description) for each binding with a description, keys joined with ' / '."""
    rows: list[tuple[str, str]] = []
    for entry in bindings:
        if not isinstance(entry, Binding) or not entry.description:
            continue
        keys = " / ".join(key_display(key) for key in entry.key.split(","))
        rows.append((keys, entry.description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "app.pop_screen", "Close help")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(INTRO + "\n" + key_rows(self._rows) + "\n\nPress **Esc** to close.")
