"""Earlier prompts, for up and down in the message box, as in a shell.

Walking back keeps what was being typed (the draft) and gives it back on the way down again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

HISTORY_SIZE = 200


class InputHistory:
    def __init__(self, entries: Iterable[str] = (), size: int = HISTORY_SIZE) -> None:
        self._size = size
        self._entries: list[str] = []  # oldest first
        for entry in entries:
            self.add(entry)
        self._position: int | None = None  # index into _entries while walking; None: the draft
        self._draft = ""

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def browsing(self) -> bool:
        return self._position is not None

    def add(self, text: str) -> None:
        """A prompt was sent: it becomes the newest entry (once, even if sent twice in a row)."""
        if text.strip() and (not self._entries or self._entries[-1] != text):
            self._entries.append(text)
            del self._entries[: -self._size]
        self.reset()

    def prepend(self, entries: Iterable[str]) -> None:
        """Older prompts (e.g. from earlier sessions) go before those already here."""
        newer = self._entries
        self._entries = []
        for entry in [*entries, *newer]:
            if entry.strip() and (not self._entries or self._entries[-1] != entry):
                self._entries.append(entry)
        del self._entries[: -self._size]

    def reset(self) -> None:
        self._position = None
        self._draft = ""

    def older(self, current: str) -> str | None:
        """The entry before the one shown (`current` is the box's text); None at the oldest."""
        if not self._entries or self._position == 0:
            return None
        if self._position is None:
            self._draft = current
            self._position = len(self._entries)
        self._position -= 1
        return self._entries[self._position]

    def newer(self) -> str | None:
        """The entry after the one shown, then the draft; None when not walking the history."""
        if self._position is None:
            return None
        self._position += 1
        if self._position < len(self._entries):
            return self._entries[self._position]
        draft = self._draft
        self.reset()
        return draft
