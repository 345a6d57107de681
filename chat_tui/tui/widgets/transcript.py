"""The scrolling transcript: follows new text unless the user has scrolled up.

Only the latest MAX_DRAWN messages are drawn: every drawn message costs layout time on every
frame while a reply streams, so a long session would otherwise get slower turn by turn. Earlier
messages stay in the conversation (and in every request); a line at the top says how many there
are, and they are drawn again as the view or the cursor reaches the top (or with f4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widgets import Static

from chat_tui.tui import keymap

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import BindingType
    from textual.widget import Widget

    from chat_tui.conversation import Message

MAX_DRAWN = 12


class EarlierMessages(Static):
    """How many earlier messages are not drawn; f4 draws more."""

    def show_count(self, count: int) -> None:
        self.update(
            Content.assemble(
                (f"{count} earlier messages are not shown", "bold"),
                " · they are still part of the conversation · f4 shows more",
            )
        )
        self.display = count > 0


class Welcome(Static):
    """What an empty transcript shows: how to start, with the keys from the key map."""

    def on_mount(self) -> None:
        keys = [
            (keymap.keys_for("help"), "help"),
            (self.app.COMMAND_PALETTE_BINDING, "commands"),
            (keymap.keys_for("toggle_sidebar"), "settings"),
        ]
        self.update(
            Content.assemble(
                ("Welcome to chat-tui", "bold"),
                "\nType a message below; Enter sends it.\n",
                Content(" · ").join(
                    Content.assemble((key, "bold"), f" {what}") for key, what in keys if key
                ),
            )
        )


class Transcript(VerticalScroll, can_focus=True):
    """Anchored to the bottom; a user scroll releases the anchor, the bottom re-engages it.

    Focused, it has a cursor: one message is selected, and keys act on it. What they do is the
    app's business: the transcript only says which message, with a message of its own.
    """

    BINDINGS: ClassVar[list[BindingType]] = keymap.TRANSCRIPT
    # A click is for reading (or selecting text): the typing stays in the message box, and the
    # message keys (c, e, y…) act only once the user moved here with the keyboard (shift+tab).
    FOCUS_ON_CLICK = False

    class Selected(TextualMessage):
        """A key asked for `action` (an act('…') name of keymap.TRANSCRIPT) on `message`."""

        def __init__(self, action: str, message: Message) -> None:
            super().__init__()
            self.action = action
            self.message = message

    class NeedEarlier(TextualMessage):
        """The cursor went above the first drawn message, or the view was `scrolled` to the
        top, and earlier ones exist."""

        def __init__(self, *, scrolled: bool = False) -> None:
            super().__init__()
            self.scrolled = scrolled

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.earlier = 0  # messages before the first drawn one
        self._selected: Widget | None = None

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolled up to the top (the wheel, page up): what came before is drawn, as for ↑.
        if new_value <= 0 < old_value and self.earlier:
            self.post_message(self.NeedEarlier(scrolled=True))

    # -- the cursor -----------------------------------------------------------------------

    @property
    def selected(self) -> Widget | None:
        """The selected message's widget, if it is still drawn."""
        if self._selected is not None and self._selected.parent is self:
            return self._selected
        return None

    def select(self, widget: Widget | None, *, to_top: bool = True, scroll: bool = True) -> None:
        if self._selected is not None:
            self._selected.remove_class("-selected")
        self._selected = widget
        if widget is None:
            return
        widget.add_class("-selected")
        if not scroll:
            return
        drawn = self.drawn_messages()
        if drawn and widget is drawn[-1] and not to_top:
            self.scroll_end(animate=False)  # and follow new text again
        else:
            # A tall message is shown from its top: that is where reading starts.
            self.scroll_to_widget(widget, animate=False, top=True)

    def on_focus(self) -> None:
        # The lowest message in view: focusing (by key or by a click) must not move the text
        # the user is reading.
        if self.selected is None:
            window = self.content_region
            visible = [
                w
                for w in self.drawn_messages()
                if w.region.y < window.bottom and w.region.bottom > window.y
            ]
            if visible:
                self.select(visible[-1], scroll=False)
            else:
                self.action_select_last()

    def action_select(self, step: int) -> None:
        drawn = self.drawn_messages()
        if not drawn:
            return
        current = self.selected
        index = drawn.index(current) + step if current in drawn else len(drawn) - 1
        if index < 0 and self.earlier:
            self.post_message(self.NeedEarlier())
            return
        self.select(drawn[max(0, min(index, len(drawn) - 1))])

    def action_select_first(self) -> None:
        drawn = self.drawn_messages()
        if drawn:
            self.select(drawn[0])

    def action_select_last(self) -> None:
        drawn = self.drawn_messages()
        if drawn:
            self.select(drawn[-1], to_top=False)

    def action_act(self, action: str) -> None:
        widget = self.selected
        message = getattr(widget, "message", None)
        if message is not None:
            self.post_message(self.Selected(action, message))

    # -- drawing --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        notice = EarlierMessages(classes="message")
        notice.display = False
        yield notice
        yield Welcome()

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, *widgets: Widget, trim: bool = True) -> None:
        """Draw `widgets` at the end; without `trim`, the oldest drawn stay until `trim()` (a
        reply's first frame does not wait for their removal)."""
        await self.mount_all(widgets)
        if trim:
            await self.trim()
        self.show_welcome_if_empty()

    def show_welcome_if_empty(self) -> None:
        """The welcome, while no message is in the transcript (notices do not count)."""
        self.query_one(Welcome).display = not self.earlier and not self.drawn_messages()

    async def add_earlier(self, widgets: list[Widget], *, move_cursor: bool = True) -> None:
        """Draw messages before the first drawn one (the app picks which); the cursor goes
        on upwards onto them, or stays with the view where it was."""
        drawn = self.drawn_messages()
        first_at = drawn[0].virtual_region.y if drawn else 0
        await self.mount_all(widgets, after=self.query_one(EarlierMessages))
        self.set_earlier(self.earlier - len(widgets))
        if widgets and self.has_focus and move_cursor:
            self.select(widgets[-1], scroll=False)  # the cursor goes on upwards
            # Into view once laid out: until then the new messages have no size to scroll to.
            self.call_after_refresh(self._show_selected, widgets[-1])
        elif widgets and drawn:
            # Scrolled to the top: what was read stays where it was, the new above it.
            self.call_after_refresh(self._keep_in_view, drawn[0], first_at, self.scroll_y)

    def _keep_in_view(self, widget: Widget, first_at: int, was: float) -> None:
        if widget.parent is self:
            moved = widget.virtual_region.y - first_at
            self.scroll_to(y=was + max(0, moved), animate=False)

    def _show_selected(self, widget: Widget) -> None:
        if self.selected is widget:
            self.scroll_to_widget(widget, animate=False, top=True)

    def set_earlier(self, count: int) -> None:
        self.earlier = max(0, count)
        self.query_one(EarlierMessages).show_count(self.earlier)
        self.show_welcome_if_empty()  # messages were taken away, or are to be drawn

    def drawn_messages(self) -> list[Widget]:
        return [child for child in self.children if hasattr(child, "message")]

    def view_of(self, message: Message) -> Widget | None:
        return next(
            (w for w in self.drawn_messages() if getattr(w, "message", None) is message), None
        )

    async def trim(self) -> None:
        """Keep only the latest MAX_DRAWN messages drawn."""
        drawn = self.drawn_messages()
        excess = len(drawn) - MAX_DRAWN
        if excess > 0:
            await self.remove_children(drawn[:excess])
            self.set_earlier(self.earlier + excess)

    async def clear(self) -> None:
        kept = (EarlierMessages, Welcome)
        await self.remove_children([c for c in self.children if not isinstance(c, kept)])
        self.set_earlier(0)
        self.anchor()
