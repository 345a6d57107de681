"""Above the message box, while it holds "/wor…": the commands that match, with their help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.slash import matching, typing_word
from chat_tui.tui.widgets.suggestions import Suggestions

if TYPE_CHECKING:
    from collections.abc import Hashable

USAGE_WIDTH = max(len(s.usage) for s in matching("")) + 2  # the help starts in one column


class SlashList(Suggestions):
    """The matching commands; hidden when the box holds no command being typed."""

    def follow(self, text: str, *, active: bool) -> None:
        """Show the commands matching the box's `text`; `active`: the box has the focus."""
        word = typing_word(text)
        shown = matching(word) if word is not None and active else []
        self.offer([(s.word, f"{s.usage:<{USAGE_WIDTH}}{s.help}") for s in shown], word)

    def still_closed(self, closed: Hashable, word: Hashable | None) -> bool:
        # Closed on "/mo", it stays closed while the word typed goes on from there.
        return isinstance(word, str) and isinstance(closed, str) and word.startswith(closed)
