"""The multi-line prompt box: Enter sends, ctrl+j or shift+enter starts a new line.

Up on the first line and down on the last walk through earlier prompts. The box can also hold an
earlier message being edited, to resend it in place of the turns that followed it. A "/" at its
start gives a command (chat_tui/slash.py), with the list of those that match above the box; an
`@` at the start of a word, the files that match (chat_tui/mention.py), to attach one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.message import Message
from textual.reactive import reactive

from chat_tui.dropped_paths import dropped_files
from chat_tui.input_history import InputHistory
from chat_tui.mention import Mention, mention_at
from chat_tui.slash import typing_word
from chat_tui.tui import keymap
from chat_tui.tui.fit import border_label_width, fitting
from chat_tui.tui.widgets.plain_text import PlainTextArea

if TYPE_CHECKING:
    from textual import events
    from textual.binding import BindingType
    from textual.widgets import TextArea

    from chat_tui.conversation import Message as ChatMessage
    from chat_tui.tui.widgets.file_list import FileList
    from chat_tui.tui.widgets.slash_list import SlashList

# The box's words, each fullest first: the longest form the box's width holds is shown. Every
# form of a mode's words keeps its way out (Esc); tests check them at 80 and 120 columns.
PLACEHOLDERS = ("Message  (Enter sends · ctrl+j new line)", "Message  (Enter sends)", "Message")
EDITING = (
    "editing an earlier message · esc cancels · enter resends it, replacing later turns",
    "editing a message · esc cancels · enter resends, replacing later turns",
    "editing · esc cancels · enter resends, replacing later turns",
    "editing · esc cancels · enter resends",
    "esc cancels",
)
# While a reply is on its way, under the box: how to stop it, when Esc would stop it.
REPLY_STOPPABLE = ("a reply is on its way · esc stops it", "esc stops the reply", "esc stops")
# When Esc would first cancel the edit or take back the queued message (the title or the queued
# line says so): why Enter is refused until the reply ends.
REPLY_BUSY = ("a reply is on its way", "")
# About 25,000 tokens. A longer message is almost always a mistaken paste, and would make the
# transcript slow to draw.
MAX_MESSAGE_CHARS = 100_000


class PromptInput(PlainTextArea):
    """A TextArea whose Enter submits instead of inserting a newline."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.PROMPT

    # An earlier message of the conversation being edited; sending replaces it and what followed.
    editing: reactive[ChatMessage | None] = reactive(None, init=False, always_update=True)
    # The chat screen's state, for the box's borders: a reply is on its way; a message is queued.
    reply_coming: reactive[bool] = reactive(False, init=False)
    message_queued: reactive[bool] = reactive(False, init=False)
    # How many attachments wait above the box: a message may then be only them.
    attached: reactive[int] = reactive(0, init=False)
    # How many chips Backspace took off since the text last changed: ctrl+z puts them back,
    # as it would a character (the text's own undo comes after).
    chips_taken_off = 0

    class Submitted(Message):
        """The user asked to send `text` (empty or only whitespace only with attachments).

        `replaces` is the earlier message it was edited from, if it was.
        """

        def __init__(
            self, prompt: PromptInput, text: str, replaces: ChatMessage | None = None
        ) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text
            self.replaces = replaces

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            placeholder=PLACEHOLDERS[0],
            compact=True,
            id=id,
        )
        self.prompts = InputHistory()
        self._recalled = ""  # the history entry last loaded into the box
        self._draft_before_edit = ""
        # The lists above the box (the chat screen's): while one is shown, ↑ ↓ move in it and
        # Tab takes the highlighted suggestion; so does Enter, but on a command already typed
        # in full, Enter runs it.
        self.commands: SlashList | None = None
        self.files: FileList | None = None
        # A paste of file paths just attached: ctrl+z, before anything else is typed, takes
        # the files back off and puts this text in instead.
        self.undoable_paste = ""

    class FileChosen(Message):
        """A file was chosen in the `@` list: attach it (its `@word` has left the text)."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class BackspaceAtStart(Message):
        """Backspace with the cursor at the very start: the last attachment comes off."""

    class UndoChip(Message):
        """ctrl+z right after Backspace took a chip off: it comes back."""

    class TooLong(Message):
        """Text was refused for being longer than MAX_MESSAGE_CHARS."""

        def __init__(self, length: int, pasted: bool) -> None:
            super().__init__()
            self.length = length
            self.pasted = pasted

    class FilesPasted(Message):
        """A paste that was only paths of existing files (`paths`, as parsed from `text`)."""

        def __init__(self, text: str, paths: list[str]) -> None:
            super().__init__()
            self.text = text
            self.paths = paths

    class PasteUndone(Message):
        """ctrl+z right after FilesPasted: its files come off again; the text went in."""

    # Textual calls the handler of every class in the MRO (until one prevents the default), so
    # these run before TextArea's own and never call it themselves.
    def _on_paste(self, event: events.Paste) -> None:
        if len(self.text) + len(event.text) > MAX_MESSAGE_CHARS:
            event.stop()
            event.prevent_default()
            self.post_message(self.TooLong(len(event.text), pasted=True))
        elif paths := dropped_files(event.text):
            # Files dropped on the terminal arrive as their paths: attach them instead.
            event.stop()
            event.prevent_default()
            self.post_message(self.FilesPasted(event.text, paths))

    def action_undo(self) -> None:
        # What the box did last, undone first: a paste that attached files, chips Backspace
        # took off; then the text's own edits.
        if self.undoable_paste:
            text, self.undoable_paste = self.undoable_paste, ""
            self.post_message(self.PasteUndone())
            self.paste_as_text(text)
        elif self.chips_taken_off:
            self.chips_taken_off -= 1
            self.post_message(self.UndoChip())
        else:
            super().action_undo()

    def paste_as_text(self, text: str) -> None:
        """Put `text` in as TextArea's paste does, in place of the selection."""
        result = self.replace(text, *self.selection)
        self.move_cursor(result.end_location)

    def _on_key(self, event: events.Key) -> None:
        if self._suggestion_key(event.key):
            event.stop()
            event.prevent_default()
        elif event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif (
            event.key == "backspace"
            and self.attached
            and self.cursor_location == (0, 0)
            and self.selection.is_empty
        ):
            event.stop()
            event.prevent_default()
            self.undoable_paste = ""
            self.chips_taken_off += 1
            self.post_message(self.BackspaceAtStart())
        elif event.key in ("up", "down") and self._walk_history(older=event.key == "up"):
            event.stop()
            event.prevent_default()

    def _suggestion_key(self, key: str) -> bool:
        """↑ ↓ Tab Enter for the list shown above the box, if one is; whether the key was used."""
        shown = next((s for s in (self.commands, self.files) if s is not None and s.chosen), None)
        if shown is None:
            return False
        if key in ("up", "down"):
            shown.move(-1 if key == "up" else 1)
        elif key == "tab" or (key == "enter" and typing_word(self.text) != shown.chosen):
            self.take_suggestion()
        else:
            return False
        return True

    def take_suggestion(self) -> None:
        """The highlighted suggestion: a command's word completes the box; a file is attached."""
        if self.commands is not None and (word := self.commands.chosen):
            self.load_text(f"/{word} ")
            self.move_cursor(self.document.end)
        elif self.files is not None and (path := self.files.chosen):
            mention = self.mention()
            if mention is not None:  # the `@word` goes: the chip above the box stands for it
                self.delete((mention.row, mention.start), (mention.row, mention.end))
            self.post_message(self.FileChosen(path))

    def mention(self) -> Mention | None:
        """The `@word` the cursor ends, if any (none while text is selected)."""
        if not self.selection.is_empty:
            return None
        row, column = self.cursor_location
        return mention_at(self.text, row, column)

    def _walk_history(self, *, older: bool) -> bool:
        """Up on the first line, down on the last: the previous or next prompt, if any."""
        if self.editing is not None:
            return False  # the box holds a message being edited: arrows only move the cursor
        row = self.cursor_location[0]
        if older and row == 0 and not self.selection.is_empty:
            return False  # extending a selection, not walking
        if older and row == 0:
            entry = self.prompts.older(self.text)
        elif not older and row == self.document.line_count - 1:
            entry = self.prompts.newer()
        else:
            return False
        if entry is None:
            return False
        self._recalled = entry
        self.load_text(entry)
        self.move_cursor(self.document.end)
        return True

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        # A recalled prompt that is changed becomes the text being written: walking on must not
        # throw the change away.
        self.undoable_paste = ""
        if self.prompts.browsing and self.text != self._recalled:
            self.prompts.reset()
        self.chips_taken_off = 0  # ctrl+z is the text's now

    def action_submit(self) -> None:
        if len(self.text) > MAX_MESSAGE_CHARS:
            self.post_message(self.TooLong(len(self.text), pasted=False))
        elif self.text.strip() or self.attached:
            self.post_message(self.Submitted(self, self.text, self.editing))

    def sent(self, text: str) -> None:
        """The app sent `text`: empty the box, remember the prompt, end any edit."""
        self.chips_taken_off = 0
        self.prompts.add(text)
        self.undoable_paste = ""
        self._draft_before_edit = ""
        self.editing = None
        self.clear()

    def edit_message(self, message: ChatMessage) -> None:
        """Load an earlier message to be edited; what was being typed comes back on cancel."""
        if self.editing is None:
            self._draft_before_edit = self.text
        self.prompts.reset()
        self.editing = message
        self.load_text(message.content)
        self.move_cursor(self.document.end)
        self.focus()

    def forget_edit(self) -> None:
        """The message being edited is gone (cleared, another conversation): the text stays,
        to be sent as a new message."""
        if self.editing is not None:
            self.editing = None
            self._draft_before_edit = ""

    def cancel_edit(self) -> None:
        self.editing = None
        self.load_text(self._draft_before_edit)
        self.move_cursor(self.document.end)
        self._draft_before_edit = ""

    def watch_editing(self, message: ChatMessage | None) -> None:
        self.set_class(message is not None, "-editing")
        self._show_words()
        self.refresh_bindings()  # the footer's Esc cancels the edit now, or no longer

    def watch_reply_coming(self) -> None:
        self._show_words()

    def watch_message_queued(self) -> None:
        self._show_words()

    def on_resize(self) -> None:
        self._show_words()

    def _show_words(self) -> None:
        """The placeholder and the borders' words, in the forms that fit the box as it is now."""
        label = border_label_width(self.outer_size.width)
        self.border_title = fitting(EDITING, label) if self.editing is not None else None
        if not self.reply_coming:
            note = ""
        elif self.editing is None and not self.message_queued:
            note = fitting(REPLY_STOPPABLE, label)
        else:
            note = fitting(REPLY_BUSY, label)
        self.border_subtitle = note
        # Wrapped, it would go on below the box's one line: the form that fits on that line.
        self.placeholder = fitting(PLACEHOLDERS, self.content_size.width)

    def action_newline(self) -> None:
        self.insert("\n")
