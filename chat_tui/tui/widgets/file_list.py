"""Above the message box, while an `@word` is being typed: the files that match it best.

The chosen file is attached to the message (a chip above the box) and the `@word` leaves the
text. The paths are names from the disk, so they pass the sanitizer before they are shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.file_index import best_matches
from chat_tui.text import one_line
from chat_tui.tui.widgets.suggestions import Suggestions

if TYPE_CHECKING:
    from collections.abc import Hashable

    from chat_tui.mention import Mention

SHOWN = 8  # files offered at once


class FileList(Suggestions):
    """The files matching the `@word` being typed; hidden when there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._asked: tuple[str, int] | None = None  # (query, id of the paths) last matched
        self._matches: list[str] = []

    def follow(self, mention: Mention | None, paths: list[str], *, active: bool) -> None:
        """Show the `paths` that match `mention`; `active`: the box has the focus."""
        if mention is None or not active or not paths:
            self.offer([], self._word(mention))
            return
        asked = (mention.query, id(paths))
        if asked != self._asked:  # the cursor moved, the text did not: no new matching
            self._asked = asked
            self._matches = best_matches(mention.query, paths, SHOWN)
        self.offer([(path, one_line(path)) for path in self._matches], self._word(mention))

    @staticmethod
    def _word(mention: Mention | None) -> Hashable | None:
        # Esc closes the list for this `@` (where it is): typing on in the word keeps it closed.
        return (mention.row, mention.start) if mention is not None else None
