"""chat-tui in a real pseudo-terminal: starts, streams, quits mid-reply without a traceback, and
ends cleanly on SIGTERM and SIGHUP."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from typing import TYPE_CHECKING

import pytest

from chat_tui.store import Store
from tests.openai_server import TextReply

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")


def read_until(fd: int, seconds: float, done: bytes | None = None) -> bytes:
    """Read the terminal's output for up to `seconds`, or until `done` appears."""
    output = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if done is not None and done in output:
                break
    return output


def start_in_pty(
    server: FakeOpenAIServer,
    args: list[str],
    env: dict[str, str],
    program: Sequence[str] = ("-m", "chat_tui"),
) -> tuple[subprocess.Popen[bytes], int]:
    """chat-tui (or `program`, run by Python) in a 120x40 pseudo-terminal; returns the process
    and the terminal's fd."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, *program, *args],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        env={**os.environ, "TERM": "xterm-256color", "OPENAI_MODEL": "fake-model", **env},
        close_fds=True,
    )
    os.close(child_fd)
    return process, main_fd


def send_message(fd: int, text: str) -> bytes:
    """Type `text` into the message box, and once it is on the screen, press Enter."""
    os.write(fd, text.encode())
    output = read_until(fd, 10.0, done=text.encode())
    assert text.encode() in output, output[-2000:]
    os.write(fd, b"\r")
    return output


def stored_messages(data_dir: Path) -> list[tuple[str, str, str]]:
    """The latest saved conversation's messages: (role, content, state)."""
    store = Store(data_dir / "conversations.db")
    try:
        return [(m.role, m.content, m.state) for m in store.load(store.latest_id() or 0).messages]
    finally:
        store.close()


def test_quit_while_streaming_in_a_real_terminal(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply(["word "] * 2000, delay=0.005))
    data_dir = tmp_path / "data"
    process, main_fd = start_in_pty(
        server, ["--data-dir", str(data_dir)], {"OPENAI_BASE_URL": server.base_url}
    )
    try:
        output = read_until(main_fd, 5.0, done=b"Enter sends")  # the first frame is up
        output += send_message(main_fd, "hello")
        server.wait_for_requests(1, timeout=10)
        output += read_until(main_fd, 1.0)  # the reply is streaming
        os.write(main_fd, b"\x11")  # ctrl+q
        output += read_until(main_fd, 10.0)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main_fd)
    assert server.last_request.messages[-1] == {"role": "user", "content": "hello"}
    [_, (_, partial, state)] = stored_messages(data_dir)
    assert state == "stopped"
    assert partial.startswith("word")
    assert b"word" in output
    assert b"Traceback" not in output
    assert b"Error" not in output


# What a terminal needs back when a full-screen app ends: mouse reporting off (each mode Textual
# turns on) and the alternate screen left, so the shell's own screen returns as it was.
RESTORED = (b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1006l", b"\x1b[?1049l")


@pytest.mark.parametrize(
    ("signum", "hang_up_first"),
    [(signal.SIGTERM, False), (signal.SIGHUP, False), (signal.SIGHUP, True)],
    ids=["SIGTERM", "SIGHUP", "SIGHUP-terminal-gone"],
)
def test_a_signal_mid_reply_saves_it_and_restores_the_terminal(
    server: FakeOpenAIServer, tmp_path: Path, signum: signal.Signals, hang_up_first: bool
) -> None:
    server.enqueue(TextReply(["word "] * 2000, delay=0.005))
    data_dir = tmp_path / "data"
    process, main_fd = start_in_pty(
        server, ["--data-dir", str(data_dir)], {"OPENAI_BASE_URL": server.base_url}
    )
    ending = b""
    terminal_open = True
    try:
        read_until(main_fd, 10.0, done=b"Enter sends")
        send_message(main_fd, "hello")
        server.wait_for_requests(1, timeout=10)
        read_until(main_fd, 10.0, done=b"word word word")  # the reply is streaming
        if hang_up_first:  # as when the terminal window is closed: no one reads any more
            os.close(main_fd)
            terminal_open = False
        process.send_signal(signum)
        if terminal_open:
            ending = read_until(main_fd, 15.0)  # until the app closes the terminal
        status = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
        if terminal_open:
            os.close(main_fd)
    assert status == 128 + signum  # as a shell reports a command ended by that signal
    if not hang_up_first:
        for sequence in RESTORED:
            assert sequence in ending, (sequence, ending[-300:])
        assert ending.rfind(b"\x1b[?1049l") > ending.rfind(b"\x1b[?1049h")
        assert b"Traceback" not in ending
    [(_, question, _), (role, partial, state)] = stored_messages(data_dir)
    assert (question, role, state) == ("hello", "assistant", "stopped")
    assert partial.startswith("word word word")
    assert partial.count("word") < 2000


# An editor that adds a line to the file, and notes what it was given: the file's permissions,
# whether it had the terminal.
EDITOR_SCRIPT = """
import json, os, stat, sys
note_path, path = sys.argv[1], sys.argv[2]  # the file to edit comes last
with open(path, encoding="utf-8") as file:
    text = file.read()
with open(path, "w", encoding="utf-8") as file:
    file.write(text + "\\nadded in the editor\\n")
note = {"mode": stat.S_IMODE(os.stat(path).st_mode), "tty": os.isatty(0), "path": path}
with open(note_path, "w", encoding="utf-8") as file:
    json.dump(note, file)
"""


def test_the_message_goes_to_the_editor_and_back(server: FakeOpenAIServer, tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    note = tmp_path / "note.json"
    server.enqueue(TextReply("Got it."))
    process, main_fd = start_in_pty(
        server,
        ["--data-dir", str(tmp_path / "data")],
        {
            "OPENAI_BASE_URL": server.base_url,
            "VISUAL": f'"{sys.executable}" "{script}" "{note}"',
        },
    )
    try:
        read_until(main_fd, 10.0, done=b"Enter sends")
        os.write(main_fd, b"my draft")
        read_until(main_fd, 10.0, done=b"my draft")
        os.write(main_fd, b"\x07")  # ctrl+g
        back = read_until(main_fd, 15.0, done=b"added in the editor")
        assert b"added in the editor" in back, back[-2000:]
        os.write(main_fd, b"\r")
        server.wait_for_requests(1, timeout=10)
        read_until(main_fd, 10.0, done=b"Got it.")
        os.write(main_fd, b"\x11")  # ctrl+q
        output = read_until(main_fd, 10.0)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main_fd)
    # The draft went in, the editor's line came back, and its added newline did not.
    assert server.last_request.messages[-1] == {
        "role": "user",
        "content": "my draft\nadded in the editor",
    }
    given = json.loads(note.read_text())
    assert given["mode"] == 0o600  # owner-only
    assert given["tty"]  # the editor had the terminal
    assert not os.path.exists(given["path"])  # deleted after
    assert b"Traceback" not in output


def test_an_editor_that_fails_leaves_the_draft(server: FakeOpenAIServer, tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text("import sys\nopen(sys.argv[1], 'w').write('lost')\nsys.exit(3)\n")
    server.enqueue(TextReply("Got it."))
    process, main_fd = start_in_pty(
        server,
        ["--data-dir", str(tmp_path / "data")],
        {"OPENAI_BASE_URL": server.base_url, "VISUAL": f'"{sys.executable}" "{script}"'},
    )
    try:
        read_until(main_fd, 10.0, done=b"Enter sends")
        os.write(main_fd, b"my draft")
        read_until(main_fd, 10.0, done=b"my draft")
        os.write(main_fd, b"\x07")  # ctrl+g
        told = read_until(main_fd, 15.0, done=b"ended with status 3")
        assert b"ended with status 3" in told, told[-2000:]
        os.write(main_fd, b"\r")
        server.wait_for_requests(1, timeout=10)
        read_until(main_fd, 10.0, done=b"Got it.")
        os.write(main_fd, b"\x11")  # ctrl+q
        read_until(main_fd, 10.0)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main_fd)
    # What the editor wrote before failing is not taken: the draft went as it was.
    assert server.last_request.messages[-1] == {"role": "user", "content": "my draft"}
