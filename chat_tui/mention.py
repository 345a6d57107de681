"""An `@path` being typed in the message box: the word the `@` file picker completes.

An `@` opens the picker only at the start of a word (the box's start, or after a space), so
an e-mail address (`me@example.com`) never does; the word runs from the `@` to the cursor, and
the cursor must be at its end. Nothing here knows Textual: the box passes its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mention:
    """`@query` on line `row`, from column `start` (the `@`) to `end` (the cursor)."""

    row: int
    start: int
    end: int
    query: str


def mention_at(text: str, row: int, column: int) -> Mention | None:
    """The `@word` the cursor at (`row`, `column`) of `text` ends, or None.

    A message that is a command (`/model …`) has no mentions: its argument is the command's.
    """
    if text.startswith("/") and not text.startswith("//"):
        return None
    lines = text.split("\n")
    if not 0 <= row < len(lines):
        return None
    line = lines[row]
    if column < len(line) and not line[column].isspace():
        return None  # in the middle of a word: the picker would cut it in two
    before = line[:column]
    start = before.rfind("@")
    if start < 0 or (start > 0 and not before[start - 1].isspace()):
        return None
    query = before[start + 1 :]
    if any(char.isspace() for char in query):
        return None  # typing went on past the word: a literal "@"
    return Mention(row, start, column, query)
