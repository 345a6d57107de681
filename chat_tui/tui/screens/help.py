"""The help screen (F1): every key the app answers to, built from the live bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from chat_tui.tui import keymap

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textual.app import ComposeResult

INTRO = (
    "Type a message and press Enter; the reply streams into the transcript. Scroll up to read "
    "back (the transcript stops following) and scroll to the bottom to follow again. To copy "
    f"part of a reply, drag the mouse over text to select it; {keymap.keys_for('copy_selection')} "
    "copies it (the typing stays in the message box)."
)


def describe_bindings(
    bindings: Iterable[BindingType], key_display: Callable[[str], str]
) -> list[tuple[str, str]]:
    """(keys, what they do) for each binding with a description; the tooltip says it in full."""
    rows: list[tuple[str, str]] = []
    for entry in bindings:
        if not isinstance(entry, Binding) or not entry.description:
            continue
        keys = " or ".join(key_display(key) for key in entry.key.split(","))
        rows.append((keys, entry.tooltip or entry.description))
    return rows


def key_table(rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for keys, action in rows:
        table.add_row(Text(keys), Text(action))  # Text, not str: no markup in key names
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.HELP

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "chat-tui keys"
            body.border_subtitle = "esc closes"
            yield Static(INTRO, markup=False, id="help-intro")
            yield Static(key_table(self._rows), id="help-keys")
