"""Reading the system clipboard for ctrl+v in the message box: an image, else text.

A terminal pastes text itself (its own paste key sends it as a bracketed paste) but never an
image, so chat-tui asks the platform's program for one:
- macOS: `pngpaste -` where installed, else `osascript` (`the clipboard as «class PNGf»`);
  text from `pbpaste`;
- Wayland: `wl-paste --list-types`, then `wl-paste --type image/png` (or the text);
- X11: `xclip -selection clipboard -t TARGETS -o`, then `-t image/png -o` (or the text);
  `xsel` for text only;
- Windows (and WSL): PowerShell's `Get-Clipboard -Format Image`, saved as PNG;
- CHAT_TUI_CLIPBOARD_IMAGE, a command of the user's own that writes the image's bytes to
  stdout, replaces the platform's image reader (as CHAT_TUI_CLIPBOARD replaces its copier).
Over SSH the clipboard is on the other machine: only that command is run.

Every program runs with a timeout, in its own process group (killed whole if it hangs), and
every failure becomes a sentence for a toast: nothing here raises.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_tui.attachments import IMAGE_TYPES

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

IMAGE_VARIABLE = "CHAT_TUI_CLIPBOARD_IMAGE"
READ_TIMEOUT = 3.0
ATTACH_BY_PATH = "or attach the file: /attach PATH"
# What a text target is called on Wayland and X11.
_TEXT_TYPES = ("text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING")
_OSASCRIPT_DATA = re.compile(rb"\xc2\xabdata PNGf([0-9A-Fa-f]*)\xc2\xbb")
_POWERSHELL_IMAGE = (
    "Add-Type -AssemblyName System.Drawing; $i = Get-Clipboard -Format Image; "
    "if (-not $i) { exit 1 }; $m = New-Object System.IO.MemoryStream; "
    "$i.Save($m, [System.Drawing.Imaging.ImageFormat]::Png); "
    "$o = [Console]::OpenStandardOutput(); $o.Write($m.ToArray(), 0, $m.Length); $o.Flush()"
)
_POWERSHELL_TEXT = (
    "[Console]::OutputEncoding = [Text.Encoding]::UTF8; [Console]::Out.Write((Get-Clipboard -Raw))"
)


@dataclass(frozen=True, slots=True)
class ClipboardContent:
    """What ctrl+v found: an image's bytes, else text, else why there is neither."""

    image: bytes = b""
    text: str = ""
    problem: str = ""


class _Failed(Exception):
    """A program that could not be run or did not answer in time; the message says which."""


@dataclass(frozen=True, slots=True)
class _Reader:
    """One platform's programs. With `types`, the clipboard's types are listed first and the
    image read as the first type models take; without, the image is asked for and a failing
    exit means there is none."""

    name: str
    image: Callable[[str], tuple[str, ...]] | None  # argv for an image of a MIME type
    text: tuple[str, ...] | None
    types: tuple[str, ...] | None = None
    decode: Callable[[bytes], bytes] = bytes


def read_clipboard(
    env: Mapping[str, str] | None = None,
    which: Callable[..., str | None] = shutil.which,
    platform: str = sys.platform,
    timeout: float = READ_TIMEOUT,
) -> ClipboardContent:
    """The clipboard's image, else its text (blocking: call it from a thread)."""
    env = os.environ if env is None else env
    over_ssh = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    reader = None if over_ssh else _platform_reader(env, which, platform)
    custom = env.get(IMAGE_VARIABLE, "").strip()
    failures: list[str] = []
    if custom:
        try:
            image = _output(_custom_argv(custom), timeout, IMAGE_VARIABLE)
        except _Failed as exc:
            failures.append(str(exc))
        else:
            if image:
                return ClipboardContent(image=image)
    if reader is not None:
        try:
            listed = _types(reader, timeout)
            if not custom and reader.image is not None:
                image = _read_image(reader, listed, timeout)
                if image:
                    return ClipboardContent(image=image)
            text = _read_text(reader, listed, timeout)
            if text:
                return ClipboardContent(text=text)
        except _Failed as exc:
            failures.append(str(exc))
    if failures:
        return ClipboardContent(problem=f"Could not read the clipboard: {'; '.join(failures)}.")
    if custom or (reader is not None and reader.image is not None):
        return ClipboardContent(problem="The clipboard holds no image or text.")
    return ClipboardContent(problem=_no_reader(env, platform, over_ssh, reader is not None))


def _platform_reader(
    env: Mapping[str, str], which: Callable[..., str | None], platform: str
) -> _Reader | None:
    """The first reader whose program is installed, its argv[0] a full path."""

    def find(program: str) -> str | None:
        return which(program, path=env.get("PATH"))

    if platform == "darwin":
        pbpaste = find("pbpaste")
        text = (pbpaste,) if pbpaste else None
        if pngpaste := find("pngpaste"):
            return _Reader("pngpaste", lambda _: (pngpaste, "-"), text)
        if osascript := find("osascript"):
            script = "the clipboard as «class PNGf»"
            return _Reader(
                "osascript", lambda _: (osascript, "-e", script), text, decode=_osascript
            )
        return _Reader("pbpaste", None, text) if text else None
    if platform == "win32" or env.get("WSL_DISTRO_NAME"):
        program = find("powershell" if platform == "win32" else "powershell.exe")
        if program:
            return _Reader(
                "PowerShell",
                lambda _: (program, "-NoProfile", "-Command", _POWERSHELL_IMAGE),
                (program, "-NoProfile", "-Command", _POWERSHELL_TEXT),
            )
        if platform == "win32":
            return None
        # WSL without Windows' PowerShell on its PATH: its own desktop (WSLg) may still have one.
    if env.get("WAYLAND_DISPLAY") and (wl_paste := find("wl-paste")):
        return _Reader(
            "wl-paste",
            lambda kind: (wl_paste, "--type", kind),
            (wl_paste, "--no-newline"),
            types=(wl_paste, "--list-types"),
        )
    if env.get("DISPLAY") and (xclip := find("xclip")):
        return _Reader(
            "xclip",
            lambda kind: (xclip, "-selection", "clipboard", "-t", kind, "-o"),
            (xclip, "-selection", "clipboard", "-o"),
            types=(xclip, "-selection", "clipboard", "-t", "TARGETS", "-o"),
        )
    if env.get("DISPLAY") and (xsel := find("xsel")):
        return _Reader("xsel", None, (xsel, "--clipboard", "--output"))
    return None


def _no_reader(env: Mapping[str, str], platform: str, over_ssh: bool, text_only: bool) -> str:
    """Why no image can be read here, and what to do instead."""
    if over_ssh:
        return (
            "Over SSH the clipboard is on the machine you connect from: attach the image by "
            f"its path (/attach PATH), or set {IMAGE_VARIABLE}; paste text with your "
            "terminal's paste key."
        )
    if platform == "darwin":
        how = "brew install pngpaste"
    elif platform == "win32" or env.get("WSL_DISTRO_NAME"):
        how = "PowerShell was not found"
    elif not (env.get("WAYLAND_DISPLAY") or env.get("DISPLAY")):
        return f"No clipboard to read here (no Wayland or X11 display); {ATTACH_BY_PATH}"
    else:
        how = "install wl-clipboard (Wayland) or xclip (X11)"
    what = "images from the clipboard" if text_only else "the clipboard"
    return f"No program to read {what}: {how}; {ATTACH_BY_PATH}"


def _types(reader: _Reader, timeout: float) -> list[str] | None:
    """The clipboard's types, one a line; None where the platform cannot list them."""
    if reader.types is None:
        return None
    listed = _output(reader.types, timeout, reader.name).decode("utf-8", errors="replace")
    return [line.strip() for line in listed.splitlines()]


def _read_image(reader: _Reader, listed: list[str] | None, timeout: float) -> bytes:
    assert reader.image is not None
    if listed is None:  # asked for outright: a failing exit says there is none
        return reader.decode(_output(reader.image("image/png"), timeout, reader.name))
    kind = next((kind for kind in IMAGE_TYPES if kind in listed), None)
    return _output(reader.image(kind), timeout, reader.name) if kind else b""


def _read_text(reader: _Reader, listed: list[str] | None, timeout: float) -> str:
    if reader.text is None:
        return ""
    if listed is not None and not any(kind in listed for kind in _TEXT_TYPES):
        return ""  # an image or files only: asking for text would get something else
    return _output(reader.text, timeout, reader.name).decode("utf-8", errors="replace")


def _osascript(output: bytes) -> bytes:
    """osascript prints the image as `«data PNGf89504E47…»`: its bytes in hex."""
    found = _OSASCRIPT_DATA.search(output)
    return bytes.fromhex(found.group(1).decode("ascii")) if found else b""


def _custom_argv(command: str) -> list[str]:
    try:
        argv = shlex.split(command, posix=os.name != "nt")
    except ValueError as exc:
        raise _Failed(f"{IMAGE_VARIABLE} cannot be read: {exc}") from None
    if not argv:
        raise _Failed(f"{IMAGE_VARIABLE} is empty")
    return argv


def _output(argv: Sequence[str], timeout: float, name: str) -> bytes:
    """What `argv` writes to stdout; b"" if it exits with a failure (the usual way to say the
    clipboard has nothing of the kind). _Failed if it cannot be run or does not end in time."""
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise _Failed(f"{name}: {exc.strerror or exc}") from None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise _Failed(f"{name} did not answer in {timeout:g} s") from None
    return output if process.returncode == 0 else b""


def _kill(process: subprocess.Popen[bytes]) -> None:
    """The program and whatever it started: a child left holding stdout would outlive it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)  # its own group: start_new_session
        else:
            process.kill()
    except OSError:
        pass  # already gone
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
