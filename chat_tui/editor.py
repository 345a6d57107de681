"""Writing a message in the user's own editor ($VISUAL, $EDITOR, else vi or nano).

Without Textual: the app gives the terminal to the editor (App.suspend) and calls `edit` inside.
The draft goes through a temporary file only the user can read, deleted afterwards.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# Tried in this order when neither variable names an editor.
FALLBACKS = ("vi", "nano")


@dataclass(frozen=True, slots=True)
class Edited:
    """What the editor left: `text` when it ended well, else `problem` (the draft stands)."""

    text: str | None = None
    problem: str = ""


def editor_command(
    env: Mapping[str, str] | None = None, which: Callable[[str], str | None] | None = None
) -> list[str] | None:
    """The editor to run, as argv (the file is added at the end); None if there is none."""
    env = os.environ if env is None else env
    which = which or shutil.which
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError:
                argv = [value]  # an unbalanced quote: taken as one program's path
            if argv:
                return argv
    for fallback in FALLBACKS:
        path = which(fallback)
        if path:
            return [path]
    return None


def without_added_newline(text: str) -> str:
    """`text` without the one line ending most editors add at the end of the file."""
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def edit(text: str, argv: list[str]) -> Edited:
    """Run the editor `argv` on a file holding `text`; the edited text, or why there is none."""
    # mkstemp makes the file readable by its owner only: a draft can hold anything.
    fd, name = tempfile.mkstemp(prefix="chat-tui-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        program = os.path.basename(argv[0]) or argv[0]  # its name reads better than its path
        try:
            status = subprocess.call([*argv, name])
        except OSError as exc:
            return Edited(problem=f"{program} could not be started ({exc.strerror or exc})")
        if status != 0:
            return Edited(problem=f"{program} ended with status {status}")
        with open(name, encoding="utf-8", errors="replace", newline="") as file:
            return Edited(text=without_added_newline(file.read()))
    finally:
        with suppress(OSError):  # gone already (an editor that renames and removes)
            os.unlink(name)
