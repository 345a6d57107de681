"""Commands typed in the message box: `/model NAME`, `/clear`… (`//text` sends "/text").

Each slash word runs an action of the command registry (chat_tui/commands.py), so a command
does the same from the box, its key and the palette; only the argument is parsed here. Without
Textual: the chat screen runs what `parse` returns, and shows `SlashError`s as they read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_tui.commands import command
from chat_tui.model_info import EFFORTS
from chat_tui.text import one_line

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

# An argument named back in a message is cut to this length.
SHOWN_ARGUMENT = 120
# A word being typed on the first line ("/mo"), before any argument.
TYPING_WORD = re.compile(r"/([a-z]*)")
# A command as sent: the word, then its argument (the rest, new lines too: /system's text).
COMMAND = re.compile(r"/(\S*)\s*(.*)", re.DOTALL)
EFFORT_WORDS = ("default", *EFFORTS)  # "default": the model's own (nothing sent)
EXPORT_FORMATS = ("md", "json")


class SlashError(ValueError):
    """A command that cannot run as typed; the message says why and what would."""


@dataclass(frozen=True, slots=True)
class Call:
    """An action of the chat screen (or else of the app) to run, with its arguments."""

    action: str
    args: tuple[str | int, ...] = ()


def _shown(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= SHOWN_ARGUMENT else text[: SHOWN_ARGUMENT - 1] + "…"


def _one_word(argument: str, usage: str, what: str) -> str:
    if not argument:
        raise SlashError(f"{usage} needs {what}.")
    if len(argument.split()) > 1:
        raise SlashError(f"{usage} takes one word: '{_shown(argument)}' is more.")
    return argument


def _model(argument: str, _profiles: Collection[str]) -> Call:
    return Call("set_model", (_one_word(argument, "/model NAME", "a model or deployment name"),))


def _effort(argument: str, _profiles: Collection[str]) -> Call:
    if not argument:
        return Call(command("cycle_effort").action)
    level = argument.lower()
    if level not in EFFORT_WORDS:
        raise SlashError(
            f"'{_shown(argument)}' is not a reasoning effort: one of {', '.join(EFFORT_WORDS)}."
        )
    return Call("set_effort", ("" if level == "default" else level,))


def _system(argument: str, _profiles: Collection[str]) -> Call:
    if not argument:
        return Call(command("edit_system_prompt").action)
    return Call("set_system_prompt", (argument,))


def _copy(argument: str, _profiles: Collection[str]) -> Call:
    if not argument:
        return Call(command("copy_last_reply").action)
    if not argument.isdecimal() or int(argument) < 1:
        raise SlashError(
            f"/copy takes the number of a code block (1 is the first): '{_shown(argument)}' is "
            "not one. /copy alone copies the whole reply."
        )
    return Call("copy_code_block", (int(argument),))


def _export(argument: str, _profiles: Collection[str]) -> Call:
    format = argument.lower() or EXPORT_FORMATS[0]
    if format not in EXPORT_FORMATS:
        raise SlashError(f"/export writes md or json, not '{_shown(argument)}'.")
    return Call("export", (format,))


def _profile(argument: str, profiles: Collection[str]) -> Call:
    known = ", ".join(sorted(profiles)) or "none in the config file yet"
    name = _one_word(argument, "/profile NAME", f"a profile's name ({known})")
    if name not in profiles:
        raise SlashError(f"There is no profile '{_shown(name)}'. Profiles: {known}.")
    return Call("use_profile", (name,))


def _attach(argument: str, _profiles: Collection[str]) -> Call:
    return Call("attach", (argument,) if argument else ())  # alone: the path is asked for


def _plain(action: str) -> Callable[[str, Collection[str]], Call]:
    def parse(argument: str, _profiles: Collection[str]) -> Call:
        if argument:
            raise SlashError(f"/{action} takes nothing after it: '{_shown(argument)}' is extra.")
        return Call(command(action).action)

    return parse


@dataclass(frozen=True, slots=True)
class Slash:
    word: str  # typed after the slash
    usage: str  # "/model NAME": the list above the box, the help screen, the README
    help: str  # one line
    parse: Callable[[str, Collection[str]], Call]  # the argument, the profiles -> what to run


SLASHES = (
    Slash(
        "model",
        "/model NAME",
        "Use this model (or Azure deployment) from the next message on",
        _model,
    ),
    Slash(
        "effort",
        "/effort [LEVEL]",
        f"Reasoning effort ({', '.join(EFFORT_WORDS)}); alone, the next one",
        _effort,
    ),
    Slash(
        "system",
        "/system [TEXT]",
        "Set the system prompt; alone, go to it in the sidebar",
        _system,
    ),
    Slash("clear", "/clear", command("clear").help, _plain("clear")),
    Slash("retry", "/retry", command("retry").help, _plain("retry")),
    Slash("compact", "/compact", command("compact").help, _plain("compact")),
    Slash(
        "copy",
        "/copy [N]",
        "Copy code block N of the last reply; alone, the whole reply",
        _copy,
    ),
    Slash("export", "/export [md|json]", "Write this conversation to a file here", _export),
    Slash(
        "profile",
        "/profile NAME",
        "Switch to this profile of the config file; the conversation carries on",
        _profile,
    ),
    Slash("attach", "/attach [PATH]", "Attach a file or image to the next message", _attach),
    Slash("help", "/help", "Every key and command", _plain("help")),
)
# How the commands are typed, in a line (the help screen, the README say the same).
SLASH_HELP = "Tab completes, Enter runs; //text sends a message that starts with /"
BY_WORD = {slash.word: slash for slash in SLASHES}


def is_command(text: str) -> bool:
    """Whether `text` is a command: it starts with one slash ("//" sends a message)."""
    return text.startswith("/") and not text.startswith("//")


def as_message(text: str) -> str:
    """The message to send for `text`: "//x" sends "/x"."""
    return text[1:] if text.startswith("//") else text


def typing_word(text: str) -> str | None:
    """The word being typed when the box's first line is "/wor" so far, else None."""
    first = text.split("\n", 1)[0]
    match = TYPING_WORD.fullmatch(first)
    return match.group(1) if match and "\n" not in text else None


def matching(word: str) -> list[Slash]:
    """The commands that start with `word`, in the table's order."""
    return [slash for slash in SLASHES if slash.word.startswith(word)]


def parse(text: str, profiles: Collection[str] = ()) -> Call:
    """What the command `text` runs ("/model gpt-4o" -> set_model('gpt-4o')).

    Raises SlashError when it is no command or its argument is not one it takes.
    """
    match = COMMAND.fullmatch(text)
    word, argument = (match.group(1), match.group(2).strip()) if match else ("", "")
    slash = BY_WORD.get(word)
    if slash is None:
        shown = _shown(text.split()[0] if text.split() else text)
        raise SlashError(
            f"{shown} is not a command; /help lists them; /{shown} sends '{shown}' as a message."
        )
    return slash.parse(argument, profiles)
