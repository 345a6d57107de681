"""Above the message box, while it holds "/wor…": the commands that match, with their help.

It never takes the focus: the box keeps the typing, and sends ↑ ↓ Tab (and Enter on a word
not yet complete) here while the list is shown (see PromptInput).
"""

from __future__ import annotations

from textual.widgets import OptionList
from textual.widgets.option_list import Option

from chat_tui.slash import Slash, matching, typing_word

USAGE_WIDTH = max(len(s.usage) for s in matching("")) + 2  # the help starts in one column


class SlashList(OptionList):
    """The matching commands; hidden when the box holds no command being typed."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)  # "[N]" in a usage is not markup
        self._shown: list[Slash] = []
        # The word Esc closed it on: it stays closed while the word typed goes on from there.
        self._closed: str | None = None

    def on_mount(self) -> None:
        self.display = False

    def follow(self, text: str, *, active: bool) -> None:
        """Show the commands matching the box's `text`; `active`: the box has the focus."""
        word = typing_word(text)
        if word is None or (self._closed is not None and not word.startswith(self._closed)):
            self._closed = None
        shown = matching(word) if word is not None and active and self._closed is None else []
        if shown != self._shown:
            self._shown = shown
            self.set_options(Option(f"{s.usage:<{USAGE_WIDTH}}{s.help}", id=s.word) for s in shown)
            if shown:
                self.highlighted = 0
        self.display = bool(shown)

    def close(self, word: str) -> None:
        self._closed = word
        self._shown = []
        self.display = False

    def move(self, step: int) -> None:
        if self.highlighted is None:
            self.highlighted = 0
        else:
            self.highlighted = (self.highlighted + step) % len(self._shown)

    @property
    def chosen(self) -> Slash | None:
        """The highlighted command, if the list is shown."""
        at = self.highlighted
        if not self.display or at is None or at >= len(self._shown):
            return None
        return self._shown[at]
