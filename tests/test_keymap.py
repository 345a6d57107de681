"""The one key map: no key means two things at once, and every key reaches an action."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, TextArea

from chat_tui.commands import every_command
from chat_tui.tui import keymap
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.chat import ChatScreen
from chat_tui.tui.screens.code_picker import CodePicker
from chat_tui.tui.screens.conversations import Confirm, ConversationsScreen, TextPrompt
from chat_tui.tui.screens.details import DetailsScreen
from chat_tui.tui.screens.help import HelpScreen
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.transcript import Transcript


def action_name(action: str) -> str:
    return action.removeprefix("app.").removeprefix("screen.").split("(")[0]


# Textual's own keys, active everywhere: quit, the palette, focus moves (ctrl+c is Textual's to
# share between copying a selection and telling how to quit).
ALWAYS = [
    *(b for b in ChatApp.BINDINGS if isinstance(b, Binding) and b.key != "ctrl+c"),
    *(b for b in Screen.BINDINGS if isinstance(b, Binding) and "ctrl+c" not in b.key),
    Binding(ChatApp.COMMAND_PALETTE_BINDING, "command_palette"),
]


def test_no_key_means_two_things_in_one_context() -> None:
    for context, bindings in keymap.CONTEXTS.items():
        seen: dict[str, str] = {}
        for binding in [*ALWAYS, *bindings]:
            for key in binding.key.split(","):
                if key in seen and (key, seen[key], binding.action) not in keymap.SHARED:
                    raise AssertionError(
                        f"{context}: {key} is both {seen[key]} and {binding.action}"
                    )
                seen.setdefault(key, binding.action)


def test_no_chat_key_is_taken_by_a_text_fields_own_keys() -> None:
    # The message box and the sidebar's fields keep Textual's editing keys (ctrl+u deletes to
    # the start of the line): a chat key among them would not reach the screen from there.
    own = {
        key
        for widget in (TextArea, Input)
        for binding in widget.BINDINGS
        if isinstance(binding, Binding)
        for key in binding.key.split(",")
    }
    for binding in keymap.CHAT:
        for key in binding.key.split(","):
            if key not in keymap.FIELD_FIRST:
                assert key not in own, f"{key} ({binding.action}) is a text field's own key"


def test_every_key_reaches_an_action_of_its_own_widget_or_screen() -> None:
    owners = [
        (keymap.CHAT, ChatScreen),
        (keymap.PROMPT, PromptInput),
        (keymap.TRANSCRIPT, Transcript),
        (keymap.CONVERSATIONS, ConversationsScreen),
        (keymap.TEXT_QUESTION, TextPrompt),
        (keymap.CONFIRM, Confirm),
        (keymap.CODE_PICKER, CodePicker),
        (keymap.DETAILS, DetailsScreen),
        (keymap.HELP, HelpScreen),
    ]
    for bindings, owner in owners:
        assert owner.BINDINGS is bindings, owner  # the class takes its keys from the map
        for binding in bindings:
            target = ChatApp if binding.action.startswith("app.") else owner
            if binding.action.startswith("screen."):
                target = ChatScreen  # the prompt and transcript live on the chat screen
            name = action_name(binding.action)
            assert hasattr(target, f"action_{name}"), (owner.__name__, binding.action)


def test_every_command_with_a_key_takes_its_words_from_the_registry() -> None:
    commands = {command.call: command for command in every_command()}
    for binding in keymap.CHAT:
        command = commands.get(binding.action.removeprefix("app."))
        if command is None:
            continue  # Esc's fallback to the message box
        assert binding.description == command.label
        assert binding.tooltip == command.help
