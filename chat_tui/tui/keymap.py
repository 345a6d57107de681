"""Every key binding of the app, in one place: the footer and the help screen are built from it.

Each context is the set of keys active at once: a screen's, and those of the widget that has
the focus on it (which win over the screen's for the same key). A command's words come from the
command registry; only widget-local keys (moving between messages, say) carry their own.
tests/test_keymap.py checks that no key means two things in one context.
"""

from __future__ import annotations

from textual.binding import Binding

from chat_tui.commands import command


def key(keys: str, action: str, *, show: bool = True, target: str = "") -> Binding:
    """A binding for the registered command `action`, with its label and help."""
    entry = command(action)
    call = f"{target}.{entry.call}" if target else entry.call
    return Binding(keys, call, entry.label, show=show, tooltip=entry.help)


# What Esc does, the first that applies (the help screen shows it; the README says the same).
ESC_ORDER = (
    "close a dialog · close the list above the message box · close the sidebar over the "
    "chat · leave the messages · cancel an edit · take back a queued message · stop the "
    "reply · go to the message box"
)

# Esc on the chat screen, in ESC_ORDER's order: the first whose action is enabled now
# (ChatScreen.check_action) is the one the key runs and the footer shows, in its own words.
ESCAPE = [
    Binding(
        "escape",
        "close_commands",
        "Close list",
        tooltip="Close the list of commands or files above the message box (the text stays)",
    ),
    Binding(
        "escape",
        "close_sidebar",
        "Close",
        tooltip="Close the settings sidebar, open over the chat on a narrow terminal",
    ),
    Binding(
        "escape",
        "cancel_edit",
        "Cancel edit",
        tooltip="Cancel the edit: what you were typing comes back",
    ),
    Binding("escape", "unqueue", "Take back", tooltip="Take the queued message back into the box"),
    key("escape", "stop"),
    Binding("escape", "escape", "Message box", tooltip="Back to the message box"),
]

# The chat screen: active whatever has the focus on it. Esc and F1 first: the footer shows the
# focused widget's keys, then these, and leaves out what does not fit at its right end.
CHAT = [
    *ESCAPE,
    key("f1", "help", target="app"),
    key("ctrl+l", "clear"),
    key("ctrl+b", "toggle_sidebar"),
    key("f2", "edit_system_prompt", show=False),
    key("ctrl+r", "retry"),
    key("ctrl+o", "drop_oldest", show=False),
    # "Summarise". Not ctrl+k: the message box's own (delete to the end of the line).
    key("ctrl+s", "compact", show=False),
    key("ctrl+t", "test_connection", show=False),
    # The message box's text in $EDITOR. Not ctrl+e or ctrl+x (as in shells): the box's own
    # (end of line, cut), and Textual has no two-key chords.
    key("ctrl+g", "edit_in_editor", show=False),
    # Only while a server found on this machine is offered (check_action), and named on its
    # card, not in the footer. Not f6 or f7: the message box's own (select the line, all).
    key("f8", "use_local_server", show=False),
    # Textual's key for copying a selection (a focused field's own selection comes first),
    # bound here so that the copy goes chat-tui's way: cleaned, to tmux and the desktop too.
    key("ctrl+c,super+c", "copy_selection", show=False),
    key("f4", "show_earlier", show=False),
    key("f5", "cycle_effort", show=False),
    key("f3", "conversations"),
]

# The message box, when it has the focus. ctrl+j works in every terminal; shift+enter only
# where the terminal reports it.
PROMPT = [
    Binding(
        "ctrl+j,shift+enter",
        "newline",
        "New line",
        tooltip="New line in the message (shift+enter where the terminal reports it)",
    ),
    # In place of TextArea's own ctrl+v (the app's last copy): terminals paste text with their
    # own key (ctrl+shift+v, cmd+v), but an image only reaches the app if it asks for it.
    key("ctrl+v", "paste_image", show=False, target="screen"),
    # Reading while typing: the page keys scroll the transcript, not the box.
    Binding(
        "pageup",
        "screen.scroll_transcript('up')",
        "Page up",
        show=False,
        tooltip="Scroll the transcript up a page",
    ),
    Binding(
        "pagedown",
        "screen.scroll_transcript('down')",
        "Page down",
        show=False,
        tooltip="Scroll the transcript down a page",
    ),
    Binding(
        "ctrl+home",
        "screen.scroll_transcript('top')",
        "Top",
        show=False,
        tooltip="To the start of the transcript",
    ),
    Binding(
        "ctrl+end",
        "screen.scroll_transcript('bottom')",
        "Bottom",
        show=False,
        tooltip="To the end of the transcript (and follow new text again)",
    ),
]

# The transcript, when it has the focus: a message is selected, and these act on it.
TRANSCRIPT = [
    # Back to typing; it never stops a reply from here (Esc in the message box does).
    Binding("escape", "screen.focus_prompt", "Back", tooltip="Back to the message box"),
    Binding("up,k", "select(-1)", "Previous", show=False, tooltip="Previous message"),
    Binding("down,j", "select(1)", "Next", show=False, tooltip="Next message"),
    Binding("home,g", "select_first", "First", show=False, tooltip="First message"),
    Binding("end,G", "select_last", "Last", show=False, tooltip="Last message"),
    Binding("c,y", "act('copy')", "Copy", tooltip="Copy the selected message"),
    Binding(
        "b", "act('copy_code')", "Copy code", tooltip="Copy a code block of the selected reply"
    ),
    Binding(
        "d",
        "act('details')",
        "Details",
        show=False,  # an error card says so itself
        tooltip="Show the selected reply's details: its request id, or its error in full",
    ),
    Binding(
        "e,enter",
        "act('edit')",
        "Edit",
        tooltip="Edit the selected message of yours and resend it (a new branch: the old turns "
        "stay, [ and ] switch back)",
    ),
    # On a message marked ‹ 2/3 ›: its other branches (a retry's replies, an edit's messages).
    key("left_square_bracket", "previous_branch", show=False, target="screen"),
    key("right_square_bracket", "next_branch", show=False, target="screen"),
    key("f", "fork", show=False, target="screen"),
    key("z", "toggle_summarised", show=False, target="screen"),
    Binding(
        "t",
        "act('thinking')",
        "Thinking",
        show=False,
        tooltip="Show or fold the selected reply's thinking (a reasoning model's)",
    ),
    Binding(
        "a",
        "act('attachments')",
        "Attachments",
        show=False,  # only messages with attachments have any; the chips say so when selected
        tooltip="Show or fold what is attached to the selected message of yours",
    ),
    Binding(
        "r",
        "act('resend')",
        "Send again",
        show=False,
        tooltip="Send the selected message again: the last one, or one the server refused",
    ),
    Binding(
        "x,delete",
        "act('take_out')",
        "Take out",
        tooltip="Take the selected exchange out of the conversation (kept saved; u restores)",
    ),
    key("u", "restore", show=False, target="screen"),
]

# The saved conversations (F3).
CONVERSATIONS = [
    Binding("escape", "dismiss(None)", "Close"),
    Binding("ctrl+n", "new", "New"),
    Binding("f2", "rename", "Rename"),
    Binding("delete", "delete", "Delete"),
    Binding("down", "focus_list", show=False),
]

# A question with a text answer (rename, import), a yes-or-no question, and the read-only
# screens (help, details, the code picker).
TEXT_QUESTION = [Binding("escape", "dismiss(None)", "Cancel")]
CONFIRM = [Binding("escape,n", "dismiss(False)", "No"), Binding("y", "dismiss(True)", "Yes")]
CODE_PICKER = [Binding("escape", "dismiss(None)", "Close")]
DETAILS = [
    Binding("escape,q", "app.pop_screen", "Close"),
    Binding("c", "copy_all", "Copy", tooltip="Copy all of it, e.g. for a support ticket"),
]
HELP = [Binding("escape,f1,q", "app.pop_screen", "Close")]

# What is active together: a screen's keys and, on the chat screen, the focused widget's.
CONTEXTS: dict[str, list[Binding]] = {
    "chat, message box focused": [*CHAT, *PROMPT],
    "chat, messages focused": [*CHAT, *TRANSCRIPT],
    "conversations": CONVERSATIONS,
    "text question": TEXT_QUESTION,
    "confirm": CONFIRM,
    "code picker": CODE_PICKER,
    "details": DETAILS,
    "help": HELP,
}

# Keys that mean two things in one context on purpose, as (key, the first action, another):
# the first binding whose action is enabled wins (Esc, see ESCAPE). A focused widget's key over
# the screen's is listed too.
SHARED = {
    *(("escape", ESCAPE[0].action, binding.action) for binding in ESCAPE[1:]),
    ("escape", ESCAPE[0].action, "screen.focus_prompt"),  # the transcript's Esc, over these
}


def _message_binding(action: str) -> Binding:
    return next(b for b in TRANSCRIPT if b.action == f"act('{action}')")


def message_key(action: str) -> str:
    """The first of the keys for the message action `action` (an act('…') name), e.g. "a"."""
    return _message_binding(action).key.split(",")[0]


def message_keys(*actions: str) -> str:
    """How to reach the message keys for `actions` (act('…') names), with what each does."""
    keys = " · ".join(
        f"{message_key(a)} {_message_binding(a).description.lower()}" for a in actions
    )
    return f"shift+tab to the message, then {keys}"


# Chat keys a focused text field acts on first, on purpose: ctrl+c copies the field's own
# selection there, and a selection elsewhere (the transcript's) otherwise.
FIELD_FIRST = frozenset({"ctrl+c", "super+c"})


def restore_hint() -> str:
    """How to bring back what was taken out, with the keys."""
    keys = next(b.key.split(",")[0] for b in TRANSCRIPT if b.action == "screen.restore")
    return f"To bring it back: {keys} in the messages (shift+tab), or Restore in ctrl+p."


def summary_keys() -> str:
    """How to unfold or fold the summarised messages, with the keys."""
    keys = next(b.key for b in TRANSCRIPT if b.action == "screen.toggle_summarised")
    return f"{keys} in the messages (shift+tab) or ctrl+p"


def keys_for(action: str) -> str:
    """The first key of the chat screen's binding for `action`, e.g. "ctrl+o"; "" if none."""
    binding = next((b for b in CHAT if b.action.removeprefix("app.") == action), None)
    return binding.key.split(",")[0] if binding is not None else ""


def command_keys(actions: tuple[str, ...]) -> str:
    """The keys for `actions`, with what each does: "ctrl+o Drop oldest exchange · …"."""
    keyed = ((keys_for(action), command(action).title) for action in actions)
    return " · ".join(f"{keys} {title}" for keys, title in keyed if keys)
