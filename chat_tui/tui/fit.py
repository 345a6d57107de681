"""Words that fit their place: a line that says the same thing at several lengths is shown in the
longest form its width holds, instead of being cut off at the edge.

Each form keeps what matters most (how to get out of a mode, say), so a narrow terminal shows
less, never the wrong thing. A border's label loses its corners and a blank on either side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len

if TYPE_CHECKING:
    from collections.abc import Sequence

# Textual draws a border's label in the widget's outer width less six cells: the two corners, a
# blank either side of the label, and two it keeps back.
BORDER_LABEL_MARGIN = 6


def fitting(forms: Sequence[str], width: int) -> str:
    """The first of `forms` (fullest first) that fits in `width` cells; else the shortest."""
    return next((form for form in forms if cell_len(form) <= width), forms[-1])


def border_label_width(widget_width: int) -> int:
    """The cells a border title or subtitle has on a bordered widget `widget_width` wide
    (its outer size: border and padding included)."""
    return max(0, widget_width - BORDER_LABEL_MARGIN)
