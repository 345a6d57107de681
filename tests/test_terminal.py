"""chat-tui in a real pseudo-terminal: starts, streams, quits mid-reply without a traceback."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from typing import TYPE_CHECKING

import pytest

from tests.openai_server import TextReply

if TYPE_CHECKING:
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
    server: FakeOpenAIServer, args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """chat-tui in a 120x40 pseudo-terminal; returns the process and the terminal's fd."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "chat_tui", *args],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        env={**os.environ, "TERM": "xterm-256color", "OPENAI_MODEL": "fake-model", **env},
        close_fds=True,
    )
    os.close(child_fd)
    return process, main_fd


def test_quit_while_streaming_in_a_real_terminal(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply(["word "] * 2000, delay=0.005))
    data_dir = tmp_path / "data"
    process, main_fd = start_in_pty(
        server, ["--data-dir", str(data_dir)], {"OPENAI_BASE_URL": server.base_url}
    )
    try:
        output = read_until(main_fd, 5.0, done=b"Enter sends")  # the first frame is up
        os.write(main_fd, b"hello")
        time.sleep(0.2)
        os.write(main_fd, b"\r")
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
    assert b"word" in output
    assert b"Traceback" not in output
    assert b"Error" not in output
