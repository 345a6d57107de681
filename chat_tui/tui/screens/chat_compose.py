"""What the chat screen does for composing: the message in the user's editor, the commands
typed in the message box (`/model NAME`, see chat_tui/slash.py) and the files picked after `@`.

A mixin of ChatScreen (it uses the screen's message box, settings and conversation), kept apart
so that each module holds one concern.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING

from textual import work
from textual.app import SuspendNotSupported
from textual.css.query import NoMatches

from chat_tui import editor
from chat_tui.code_blocks import code_blocks
from chat_tui.slash import SlashError, parse, typing_word
from chat_tui.text import one_line
from chat_tui.tui.widgets.file_list import FileList
from chat_tui.tui.widgets.prompt import MAX_MESSAGE_CHARS, PromptInput
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.slash_list import SlashList
from chat_tui.tui.widgets.suggestions import Suggestions

if TYPE_CHECKING:
    from textual.widgets import OptionList

    from chat_tui.tui.screens.chat import ChatScreen

# A model name named back in a toast is cut to this length.
MODEL_SHOWN = 100
SOURCE = "/model in the message box"


class ComposeActions:
    """The editor and the message box's commands (mixed into ChatScreen)."""

    # -- the editor ------------------------------------------------------------------------

    def action_edit_in_editor(self: ChatScreen) -> None:
        """The box's text in $VISUAL or $EDITOR; what is saved there comes back into the box.
        Whatever goes wrong, the draft stays as it was."""
        prompt = self.query_one(PromptInput)
        argv = editor.editor_command()
        if argv is None:
            self.notify(
                "No editor found: set $VISUAL or $EDITOR (e.g. export EDITOR=nano). "
                "Your message is still in the box.",
                severity="warning",
            )
            return
        try:
            with self.app.suspend():
                edited = editor.edit(prompt.text, argv)
        except SuspendNotSupported:
            self.notify(
                "An editor cannot take over the terminal here. Your message is still in the box.",
                severity="warning",
            )
            return
        if edited.text is None:
            self.notify(
                f"The editor did not finish: {edited.problem}. Your message is as it was.",
                severity="warning",
            )
        elif len(edited.text) > MAX_MESSAGE_CHARS:
            self.notify(
                f"The edited message is {len(edited.text):,} characters; a message holds up to "
                f"{MAX_MESSAGE_CHARS:,}. Your message is as it was.",
                severity="warning",
            )
        elif edited.text != prompt.text:
            # An edit, not a reload: ctrl+z in the box brings back what was there before.
            prompt.replace(edited.text, prompt.document.start, prompt.document.end)
            prompt.move_cursor(prompt.document.end)
        prompt.focus()

    # -- commands typed in the message box ---------------------------------------------------

    async def run_command(self: ChatScreen, prompt: PromptInput, text: str) -> None:
        """Run the command `text` ("/model x"); one that cannot run is explained, and stays in
        the box to be put right. It is never sent, nor added to the conversation."""
        try:
            call = parse(text, self.app.config.profiles)
        except SlashError as problem:
            self.notify(str(problem), severity="warning")
            return
        target = self if hasattr(self, f"action_{call.action}") else self.app
        if target.check_action(call.action, call.args) is False:
            self.notify(f"{text.split()[0]} cannot run now: a reply is on its way.")
            return
        prompt.sent(text)  # out of the box (↑ brings it back), before it acts on the chat
        result = getattr(target, f"action_{call.action}")(*call.args)
        if inspect.isawaitable(result):
            await result

    def action_close_commands(self: ChatScreen) -> None:
        """Esc with a list shown above the box: it closes, and the text stays (an `@` typed
        stays a literal `@`)."""
        prompt = self.query_one(PromptInput)
        self.query_one(SlashList).close(typing_word(prompt.text) or "")
        mention = prompt.mention()
        if mention is not None:
            self.query_one(FileList).close((mention.row, mention.start))
        self.refresh_bindings()

    def follow_prompt(self: ChatScreen) -> None:
        """The lists above the box follow what it holds, while it has the focus."""
        # query_one, not query: it is cached, and this runs at every key typed.
        try:
            prompt = self.query_one(PromptInput)
            commands, files = self.query_one(SlashList), self.query_one(FileList)
        except NoMatches:
            return  # the screen is being taken down
        recalled = prompt.prompts.browsing  # walking the history: ↑ ↓ stay the history's
        active = prompt.has_focus and not recalled
        shown = commands.display or files.display
        commands.follow(prompt.text, active=active)
        mention = prompt.mention() if active else None
        if mention is not None and self.files.stale:
            self._list_files()
        files.follow(mention, self.files.paths, active=active)
        if (commands.display or files.display) != shown:
            self.refresh_bindings()  # Esc closes a list now, or no longer

    @work(group="list_files", exclusive=True, exit_on_error=False)
    async def _list_files(self: ChatScreen) -> None:
        await asyncio.to_thread(self.files.refresh)
        self.follow_prompt()

    def on_prompt_input_file_chosen(self: ChatScreen, event: PromptInput.FileChosen) -> None:
        self._attach_file(event.path)

    def on_option_list_option_selected(self: ChatScreen, event: OptionList.OptionSelected) -> None:
        """A click on a suggestion above the box takes it, as Tab would."""
        if isinstance(event.option_list, Suggestions):
            event.stop()
            prompt = self.query_one(PromptInput)
            prompt.take_suggestion()
            prompt.focus()

    def action_set_model(self: ChatScreen, name: str) -> None:
        self.take_sidebar_edits()
        self.settings = self.settings.with_changes(model=name)
        self.resolved.sources["model"] = SOURCE
        self.query_one(SettingsPanel).show(self.settings, self.resolved.sources)
        shown = one_line(name)
        shown = shown if len(shown) <= MODEL_SHOWN else shown[: MODEL_SHOWN - 1] + "…"
        self.notify(f"Model: {shown}, from the next message.", timeout=3)

    def action_set_system_prompt(self: ChatScreen, text: str) -> None:
        self.take_sidebar_edits()
        self._use_system_prompt(text)
        self.query_one(SettingsPanel).show_system_prompt(text)
        self.notify("System prompt set, from the next message.", timeout=3)

    def action_copy_code_block(self: ChatScreen, number: int) -> None:
        """Copy code block `number` (1 is the first) of the last reply."""
        reply = self._last_reply()
        blocks = code_blocks(reply.content) if reply is not None else []
        if not blocks:
            self.notify("The last reply has no code blocks.")
        elif number > len(blocks):
            count = f"{len(blocks)} code block{'s' if len(blocks) > 1 else ''}"
            self.notify(f"The last reply has {count}: there is no block {number}.")
        else:
            block = blocks[number - 1]
            language = f" ({block.language})" if block.language else ""
            self.app.copy_text(block.code, f"code block {number}{language}")
