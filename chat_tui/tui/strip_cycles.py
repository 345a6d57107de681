"""Strips that do not keep themselves alive.

Textual's `Strip` caches what it derives from itself, in itself; where the result is the strip
itself (cut into one piece, or cropped and extended to its own length) the strip refers to
itself, and only a full garbage collection frees it. The compositor cuts every line of every
frame that way, so a long reply left a few hundred thousand such objects behind (a 10,000-line
code block: 19,000 strips, each with seven caches) and the full collection after it froze the
app for 0.4 s, just when the user starts typing again. Those results are cheap to give without
a cache, so here they are not cached, and such a strip goes as soon as nothing uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.strip import Strip

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.style import Style

_divide = Strip.divide
_crop_extend = Strip.crop_extend


def _divide_uncached_whole(self: Strip, cuts: Iterable[int]) -> list[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


def _crop_extend_uncached_whole(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    if start <= 0 and end == self.cell_length:
        return self
    return _crop_extend(self, start, end, style)


def install() -> None:
    """Replace the two self-caching methods (once; later calls change nothing)."""
    Strip.divide = _divide_uncached_whole  # type: ignore[method-assign]
    Strip.crop_extend = _crop_extend_uncached_whole  # type: ignore[method-assign]
