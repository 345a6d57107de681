"""The saved conversations: search, open, rename, delete (F3)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from chat_tui.store import StoreError
from chat_tui.text import one_line, visible
from chat_tui.tui import keymap
from chat_tui.tui.widgets.plain_text import PlainInput

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from chat_tui.store import AsyncStore, StoredConversation


def _label(item: StoredConversation, current: int | None) -> Content:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.updated))
    marker = "● " if item.id == current else "  "
    return Content.assemble(
        marker, (one_line(item.title), "bold"), (f"  {item.message_count} msgs · {when}", "dim")
    )


NEW_CONVERSATION = -1  # what the screen returns when the user asks for a new conversation


class ConversationsScreen(ModalScreen[int | None]):
    """Returns the id of the conversation to open, NEW_CONVERSATION, or None."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.CONVERSATIONS

    def __init__(self, store: AsyncStore, current: int | None) -> None:
        super().__init__()
        self._store = store
        self._current = current
        self._titles: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations-body") as body:
            body.border_title = "Conversations"
            body.border_subtitle = (
                "enter opens · ^n new · f2 renames · ↓ then del deletes · esc closes"
            )
            yield PlainInput(placeholder="Search titles and messages…", id="search")
            yield OptionList(id="conversation-list")
            yield Static(id="conversations-empty")

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        self._reload("")

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self._reload(event.value)

    @work(exclusive=True, group="conversations", exit_on_error=False)
    async def _reload(self, search: str) -> None:
        empty = self.query_one("#conversations-empty", Static)
        try:
            items = await self._store.list_conversations(search)
        except StoreError as exc:
            items = []
            empty.update(Content(visible(f"The saved conversations cannot be read: {exc}")))
        else:
            empty.update(
                "No conversation matches." if search.strip() else "No saved conversations."
            )
        self._titles = {item.id: item.title for item in items}
        options = self.query_one("#conversation-list", OptionList)
        options.clear_options()
        options.add_options(Option(_label(item, self._current), id=str(item.id)) for item in items)
        empty.display = not items
        if items:
            options.highlighted = 0

    def _selected(self) -> int | None:
        options = self.query_one("#conversation-list", OptionList)
        option = options.highlighted_option
        return int(option.id) if option is not None and option.id is not None else None

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))

    @on(Input.Submitted, "#search")
    def _open_first(self) -> None:
        if (chosen := self._selected()) is not None:
            self.dismiss(chosen)

    def action_focus_list(self) -> None:
        self.query_one("#conversation-list", OptionList).focus()

    def action_new(self) -> None:
        self.dismiss(NEW_CONVERSATION)

    def action_rename(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return

        async def rename(title: str | None) -> None:
            if title and title.strip():
                await self._change(self._store.update_conversation(chosen, title=title.strip()))

        self.app.push_screen(TextPrompt("New title", self._title_of(chosen)), rename)

    def action_delete(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return

        async def delete(confirmed: bool | None) -> None:
            if confirmed:
                await self._change(self._store.delete_conversation(chosen))

        question = f"Delete “{self._title_of(chosen)}” and all its messages?"
        self.app.push_screen(Confirm(question), delete)

    async def _change(self, change: Awaitable[None]) -> None:
        """Rename or delete, then show the list as it is now; a failure is said, not raised."""
        try:
            await change
        except StoreError as exc:
            self.app.notify(f"The change was not saved: {exc}", severity="error")
        self._reload(self.query_one("#search", Input).value)

    def _title_of(self, conversation_id: int) -> str:
        return self._titles.get(conversation_id, "")


class TextPrompt(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.TEXT_QUESTION

    def __init__(self, title: str, value: str) -> None:
        super().__init__()
        self._title, self._value = title, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = Content(visible(self._title))  # a plain string would be markup
            yield PlainInput(self._value, id="text")

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class Confirm(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = keymap.CONFIRM

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(visible(self._question)))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete (y)", id="yes", variant="error", compact=True)
                yield Button("Keep (n)", id="no", compact=True)

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
