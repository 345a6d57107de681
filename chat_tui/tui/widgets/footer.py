"""The footer: the keys that apply now, in the key map's order, each whole or not at all.

Textual's footer lets the last keys run off its right end, cut mid-word. Here a key that does
not fit whole is left out, with those after it: the first ones are the ones that matter (the
focused widget's keys, then Esc and F1; see keymap.CHAT), and every key is in the help (F1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.widget import Widget


class WholeKeysFooter(Footer):
    """Textual's footer, less the keys that would be drawn cut."""

    async def recompose(self) -> None:
        async with self.batch():  # never drawn with a key cut
            await super().recompose()
            self._leave_out_what_does_not_fit()

    def on_resize(self) -> None:
        self._leave_out_what_does_not_fit()

    def _leave_out_what_does_not_fit(self) -> None:
        keys = list(self.query_children("FooterKey"))  # by name: the class is not public
        room = self.size.width - sum(
            self._width(key) for key in keys if key.has_class("-command-palette")
        )
        fits = True
        for key in keys:
            if key.has_class("-command-palette"):
                continue
            width = self._width(key)
            fits = fits and width <= room
            room -= width
            key.display = fits

    def _width(self, key: Widget) -> int:
        """The cells `key` takes in the footer: its text, padding, border and margin."""
        styles = key.styles
        content = key.get_content_width(self.size, self.app.size)
        return content + styles.gutter.width + styles.margin.width
