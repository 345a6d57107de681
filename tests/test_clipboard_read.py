"""Reading the clipboard for ctrl+v, with stand-ins for the platform's programs: no test runs a
real one (each gives its own PATH, display and platform), and every failure comes back told."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import pytest

from chat_tui.clipboard_read import IMAGE_VARIABLE, read_clipboard
from tests.test_attach_app import png

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the stand-in programs are scripts")

PNG = png(2, 1)


def program(folder: Path, name: str, body: str) -> Path:
    """An executable `name` in `folder` that runs the Python `body` (sys and args at hand)."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport sys\nargs = sys.argv[1:]\n{body}\n")
    path.chmod(0o755)
    return path


def writes_png(target: str = "sys.stdout.buffer") -> str:
    return f"{target}.write({PNG!r})"


def env(bin_dir: Path, **more: str) -> dict[str, str]:
    return {"PATH": str(bin_dir), **more}


def test_the_users_command_gives_the_image(tmp_path: Path) -> None:
    command = program(tmp_path / "own", "grab-image", writes_png())
    found = read_clipboard(env(tmp_path / "bin", **{IMAGE_VARIABLE: f"'{command}'"}))
    assert found.image == PNG


def test_the_users_command_failing_or_missing_is_told(tmp_path: Path) -> None:
    failing = program(tmp_path / "own", "no-image", "sys.exit(1)")
    found = read_clipboard(env(tmp_path / "bin", **{IMAGE_VARIABLE: str(failing)}))
    assert (found.image, found.text) == (b"", "")
    assert found.problem == "The clipboard holds no image or text."
    missing = read_clipboard(env(tmp_path / "bin", **{IMAGE_VARIABLE: str(tmp_path / "nope")}))
    assert missing.problem.startswith(f"Could not read the clipboard: {IMAGE_VARIABLE}: ")
    malformed = read_clipboard(env(tmp_path / "bin", **{IMAGE_VARIABLE: "'open quote"}))
    assert f"{IMAGE_VARIABLE} cannot be read" in malformed.problem


def test_a_command_that_hangs_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    # It starts a child that would hold stdout open after it: the whole group goes.
    body = "import subprocess, time\nsubprocess.Popen(['sleep', '30'])\ntime.sleep(30)"
    hangs = program(tmp_path / "own", "hangs", body)
    started = time.monotonic()
    found = read_clipboard(env(tmp_path / "bin", **{IMAGE_VARIABLE: str(hangs)}), timeout=0.5)
    assert time.monotonic() - started < 5
    assert found.problem == (
        f"Could not read the clipboard: {IMAGE_VARIABLE} did not answer in 0.5 s."
    )


def test_wayland_lists_the_types_then_reads_the_image(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    program(
        bin_dir,
        "wl-paste",
        "if args == ['--list-types']: print('text/html\\nimage/png')\n"
        f"elif args == ['--type', 'image/png']: {writes_png()}\n"
        "else: sys.exit(2)",
    )
    assert read_clipboard(env(bin_dir, WAYLAND_DISPLAY="wayland-0")).image == PNG


def test_wayland_text_when_there_is_no_image(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    program(
        bin_dir,
        "wl-paste",
        "if args == ['--list-types']: print('text/plain;charset=utf-8')\n"
        "elif args == ['--no-newline']: sys.stdout.buffer.write('héllo'.encode())\n"
        "else: sys.exit(2)",
    )
    found = read_clipboard(env(bin_dir, WAYLAND_DISPLAY="wayland-0"))
    assert (found.image, found.text) == (b"", "héllo")


def test_x11_reads_the_image_named_in_its_targets(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    program(
        bin_dir,
        "xclip",
        "kind = args[args.index('-t') + 1] if '-t' in args else ''\n"
        "if kind == 'TARGETS': print('TARGETS\\nimage/jpeg\\nimage/png\\nUTF8_STRING')\n"
        f"elif kind == 'image/png': {writes_png()}\n"
        "else: sys.exit(2)",
    )
    assert read_clipboard(env(bin_dir, DISPLAY=":0")).image == PNG


def test_an_empty_clipboard(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    program(bin_dir, "xclip", "sys.exit(1)")  # as xclip does with nothing on the clipboard
    found = read_clipboard(env(bin_dir, DISPLAY=":0"))
    assert found.problem == "The clipboard holds no image or text."


def test_macos_decodes_what_osascript_prints(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    shown = "«data PNGf" + PNG.hex().upper() + "»"
    program(bin_dir, "osascript", f"print({shown!r})")
    assert read_clipboard(env(bin_dir), platform="darwin").image == PNG
    program(bin_dir, "pngpaste", writes_png())  # preferred where installed
    (bin_dir / "osascript").unlink()
    assert read_clipboard(env(bin_dir), platform="darwin").image == PNG


def test_windows_asks_powershell(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    program(
        bin_dir,
        "powershell",
        f"if 'Get-Clipboard -Format Image' in args[-1]: {writes_png()}\nelse: sys.exit(1)",
    )
    assert read_clipboard(env(bin_dir), platform="win32").image == PNG


@pytest.mark.parametrize(
    ("platform", "variables", "says"),
    [
        ("linux", {"DISPLAY": ":0"}, "install wl-clipboard (Wayland) or xclip (X11)"),
        ("linux", {"WAYLAND_DISPLAY": "w"}, "install wl-clipboard (Wayland) or xclip (X11)"),
        ("linux", {}, "no Wayland or X11 display"),
        ("darwin", {}, "brew install pngpaste"),
        ("win32", {}, "PowerShell was not found"),
    ],
)
def test_no_program_says_what_to_install(
    tmp_path: Path, platform: str, variables: dict[str, str], says: str
) -> None:
    found = read_clipboard(env(tmp_path / "empty", **variables), platform=platform)
    assert says in found.problem
    assert "/attach PATH" in found.problem


def test_over_ssh_no_program_of_this_machine_is_asked(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    asked = tmp_path / "asked"
    program(bin_dir, "wl-paste", f"open({str(asked)!r}, 'w').close()")
    found = read_clipboard(env(bin_dir, WAYLAND_DISPLAY="w", SSH_CONNECTION="1 2 3 4"))
    assert not asked.exists()
    assert "Over SSH the clipboard is on the machine you connect from" in found.problem
    # The user's own command is still theirs to give.
    command = program(tmp_path / "own", "grab-image", writes_png())
    over_ssh = env(bin_dir, SSH_TTY="/dev/pts/1", **{IMAGE_VARIABLE: str(command)})
    assert read_clipboard(over_ssh).image == PNG
