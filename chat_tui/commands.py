"""Every command the user can give, in one registry.

The chat's own commands are declared here; export and import, copying and saving settings
declare theirs beside what they do, and each profile in the config file adds one. The palette
and the help screen read this registry, and the key map gives some of the commands keys.
Theme and quit are Textual's own commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui import clipboard, config_file, export
from chat_tui.command import Command
from chat_tui.model_info import EFFORTS

if TYPE_CHECKING:
    from collections.abc import Iterable

CHAT = (
    Command(
        "clear", "Clear conversation", "Clear", "Clear the conversation (the system prompt stays)"
    ),
    Command(
        "stop",
        "Stop reply",
        "Stop reply",
        "Stop the reply (what arrived stays); otherwise back to the message box",
    ),
    Command(
        "retry",
        "Retry",
        "Retry",
        "Ask for the last reply again: a new branch beside it (the old reply stays saved)",
    ),
    Command(
        "previous_branch",
        "Previous branch",
        "Previous branch",
        "Show the previous branch at the selected message (marked ‹ 2/3 ›), or the last that "
        "has one",
    ),
    Command(
        "next_branch",
        "Next branch",
        "Next branch",
        "Show the next branch at the selected message (marked ‹ 2/3 ›), or the last that has one",
    ),
    Command(
        "fork",
        "Fork from here",
        "Fork",
        "A new conversation with the messages shown up to the selected one (or all of them)",
    ),
    Command(
        "drop_oldest",
        "Drop oldest exchange",
        "Drop oldest",
        "Take the oldest exchange out of the conversation (kept saved; it can be restored)",
    ),
    Command(
        "compact",
        "Compact conversation",
        "Compact",
        "Summarise the older turns: later requests carry the summary in their place (the turns "
        "stay, folded)",
    ),
    Command(
        "toggle_summarised",
        "Show or fold summarised messages",
        "Summarised",
        "Unfold the messages a compaction summarised, with the summary; or fold them again",
    ),
    Command(
        "restore",
        "Restore taken-out messages",
        "Restore",
        "Bring back the exchange last taken out of the conversation",
    ),
    Command(
        "show_earlier",
        "Show earlier messages",
        "Earlier",
        "Draw earlier messages of a long conversation",
    ),
    Command(
        "conversations",
        "Conversations",
        "Chats",
        "Saved conversations: open, search, rename, delete",
    ),
    Command(
        "toggle_sidebar",
        "Toggle settings sidebar",
        "Settings",
        "Show or hide the settings sidebar",
    ),
    Command("edit_system_prompt", "Edit system prompt", "System prompt", "Edit the system prompt"),
    Command("focus_prompt", "Focus prompt", "Prompt", "Move the cursor to the message box"),
    Command(
        "focus_transcript",
        "Go to messages",
        "Messages",
        "Select a message to copy, edit and resend (↑ ↓ home end move)",
    ),
    Command("test_connection", "Test connection", "Test", "Test the connection"),
    Command(
        "attach",
        "Attach a file or image",
        "Attach",
        "Attach a file or an image to the next message (by its path)",
    ),
    Command(
        "paste_image",
        "Paste an image from the clipboard",
        "Paste image",
        "Attach the clipboard's image to the next message (text on it is pasted into the box)",
    ),
    Command(
        "cycle_effort",
        "Next reasoning effort",
        "Effort",
        "Step to the next reasoning effort the model takes, for the next message",
    ),
    Command(
        "use_local_server",
        "Use the local server found",
        "Use server",
        "Connect to the OpenAI-compatible server found on this machine, with its first model",
    ),
    Command(
        "edit_in_editor",
        "Write the message in your editor",
        "Editor",
        "Open the message box's text in $VISUAL or $EDITOR; what you save comes back into it",
    ),
    Command(
        "save_diagnostics",
        "Save diagnostics",
        "Diagnostics",
        "Write the last requests (redacted: never a key or token) to a file, for a support ticket",
    ),
    Command("help", "Help", "Help", "This help"),
)


# One per effort, and the model's own default (nothing sent).
EFFORT_COMMANDS = tuple(
    Command(
        "set_effort",
        f"Reasoning effort: {effort or 'model default'}",
        "Effort",
        f"Ask reasoning models for {effort or 'their default'} effort from the next message on",
        (effort,),
    )
    for effort in ("", *EFFORTS)
)


def every_command(profiles: Iterable[str] = ()) -> list[Command]:
    """The registry: the chat's commands, then those declared elsewhere, then the profiles'."""
    return [
        *CHAT,
        *EFFORT_COMMANDS,
        *clipboard.COMMANDS,
        *config_file.COMMANDS,
        *export.COMMANDS,
        *config_file.profile_commands(profiles),
    ]


def command(action: str) -> Command:
    """The command that runs `action` (without arguments)."""
    return next(c for c in every_command() if c.action == action and not c.args)
