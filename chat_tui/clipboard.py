"""Getting text to the system clipboard, locally and over SSH.

No single way is certain, so several are tried and the user is told which were used:
- the terminal's clipboard escape (OSC 52), which the app always writes: it crosses SSH, but some
  terminals ignore it, and tmux drops it unless `set-clipboard on`;
- inside tmux, `tmux load-buffer -w -`: a tmux buffer, and the outer terminal's clipboard where
  tmux may set it;
- on a local desktop (not over SSH), the platform's program: pbcopy, wl-copy, xclip, xsel, clip;
- CHAT_TUI_CLIPBOARD, a command of the user's own that reads the text on stdin, replaces the
  platform's program.
Where no program confirms the copy, the text is also written to a file whose path the notice gives.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chat_tui.command import Command
from chat_tui.private_files import replace_private

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

CLIPBOARD_VARIABLE = "CHAT_TUI_CLIPBOARD"
FALLBACK_FILE = "clipboard.txt"
COMMAND_TIMEOUT = 3.0


COMMANDS = (
    Command(
        "copy_selection",
        "Copy selected text",
        "Copy selection",
        "Copy the text selected with the mouse (drag over a reply or a message)",
    ),
    Command("copy_last_reply", "Copy last reply", "Copy", "Copy the latest reply to the clipboard"),
    Command(
        "copy_last_code",
        "Copy code from last reply",
        "Copy code",
        "Copy a code block of the latest reply to the clipboard",
    ),
)


@dataclass(frozen=True, slots=True)
class CopyCommand:
    name: str  # as the notice names it
    argv: tuple[str, ...]
    # Tried when argv fails, e.g. tmux before 3.2, which has no `load-buffer -w`.
    fallback: tuple[str, ...] | None = None
    problem: str = ""  # why it cannot be run at all (a malformed CHAT_TUI_CLIPBOARD)


@dataclass(slots=True)
class CopyOutcome:
    copied_by: list[str] = field(default_factory=list)  # programs that took the text
    failures: list[str] = field(default_factory=list)  # "xclip: exit status 1"
    saved_to: Path | None = None


def _platform_commands(
    env: Mapping[str, str], which: Callable[[str], str | None], platform: str
) -> list[CopyCommand]:
    candidates: list[tuple[str, ...]] = []
    if platform == "darwin":
        candidates.append(("pbcopy",))
    elif platform == "win32":
        candidates.append(("clip",))
    else:
        if env.get("WAYLAND_DISPLAY"):
            candidates.append(("wl-copy",))
        if env.get("DISPLAY"):
            candidates += [("xclip", "-selection", "clipboard"), ("xsel", "--clipboard", "--input")]
        if env.get("WSL_DISTRO_NAME"):
            candidates.append(("clip.exe",))
    for argv in candidates:
        if which(argv[0]):
            return [CopyCommand(argv[0], argv)]
    return []


def copy_commands(
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = sys.platform,
) -> list[CopyCommand]:
    """The programs to pipe a copy into, besides the terminal escape the app writes."""
    env = os.environ if env is None else env
    commands: list[CopyCommand] = []
    if env.get("TMUX") and which("tmux"):
        commands.append(
            CopyCommand(
                "tmux", ("tmux", "load-buffer", "-w", "-"), fallback=("tmux", "load-buffer", "-")
            )
        )
    custom = env.get(CLIPBOARD_VARIABLE, "").strip()
    if custom:
        try:
            argv = tuple(shlex.split(custom, posix=os.name != "nt"))
        except ValueError as exc:
            commands.append(CopyCommand(CLIPBOARD_VARIABLE, (), problem=f"cannot be read: {exc}"))
        else:
            commands.append(CopyCommand(os.path.basename(argv[0]), argv))
    elif not (env.get("SSH_CONNECTION") or env.get("SSH_TTY")):
        # Over SSH the platform's program would fill the remote machine's clipboard.
        commands += _platform_commands(env, which, platform)
    return commands


def run_copy(text: str, commands: list[CopyCommand], fallback_dir: Path | None) -> CopyOutcome:
    """Pipe `text` into each command (blocking: call it from a thread)."""
    outcome = CopyOutcome()
    for command in commands:
        failure = command.problem or _pipe(text, command.argv)
        if failure and command.fallback is not None:
            failure = _pipe(text, command.fallback)
        if failure:
            outcome.failures.append(f"{command.name}: {failure}")
        else:
            outcome.copied_by.append(command.name)
    if not outcome.copied_by and fallback_dir is not None:
        outcome.saved_to = _save(text, fallback_dir / FALLBACK_FILE)
    return outcome


def _pipe(text: str, argv: tuple[str, ...]) -> str:
    """Run `argv` with `text` on stdin; what went wrong, or "" if nothing did."""
    try:
        # No pipes for its output: xclip and wl-copy leave a child holding them, serving the
        # selection, and reading them would wait for that child to end.
        result = subprocess.run(
            argv,
            input=text.encode(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return f"exit status {result.returncode}" if result.returncode else ""


def _save(text: str, path: Path) -> Path | None:
    try:
        replace_private(path, text.encode("utf-8"))  # a copied reply may be private
    except OSError:
        return None
    return path
