"""A list of suggestions above the message box, for the word being typed in it: the commands
after "/" (SlashList), the files after "@" (FileList).

It never takes the focus: the box keeps the typing, and sends ↑ ↓ Tab and Enter here while the
list is shown (see PromptInput); a click on a suggestion takes it too (the chat screen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence


class Suggestions(OptionList):
    """Suggestions by id, with their labels; hidden when there are none.

    Esc closes the list for the word it was open on (`close(word)`): it stays closed while the
    subclass's `still_closed` says the typing goes on in that word.
    """

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)  # "[N]" in a usage, a file's name: not markup
        self._ids: list[str] = []
        self._closed: Hashable | None = None

    def on_mount(self) -> None:
        self.display = False

    def offer(self, suggestions: Sequence[tuple[str, str]], word: Hashable | None) -> None:
        """Show `suggestions` (id, label) for `word` (None: no word is being typed)."""
        if self._closed is not None and not self.still_closed(self._closed, word):
            self._closed = None
        if self._closed is not None:
            suggestions = []
        ids = [each for each, _ in suggestions]
        if ids != self._ids:
            self._ids = ids
            self.set_options(Option(label, id=each) for each, label in suggestions)
            if ids:
                self.highlighted = 0
        self.display = bool(ids)

    def still_closed(self, closed: Hashable, word: Hashable | None) -> bool:
        """Whether the list closed on `closed` stays closed now that `word` is being typed."""
        return closed == word

    def close(self, word: Hashable) -> None:
        self._closed = word
        self._ids = []
        self.display = False

    def move(self, step: int) -> None:
        if self.highlighted is None:
            self.highlighted = 0
        else:
            self.highlighted = (self.highlighted + step) % len(self._ids)

    @property
    def chosen(self) -> str | None:
        """The highlighted suggestion's id, if the list is shown."""
        at = self.highlighted
        if not self.display or at is None or at >= len(self._ids):
            return None
        return self._ids[at]
