"""Unexpected failures (bugs): one line for the user, the details in a file they can find.

The traceback is for whoever fixes the bug, so it goes to a log file, never onto the screen. The
log is owner-only: when a failure ends the app, the message the user had not sent yet is kept
there too.
"""

from __future__ import annotations

import time
import traceback
from typing import TYPE_CHECKING

from chat_tui import __version__
from chat_tui.private_files import append_private
from chat_tui.text import visible

if TYPE_CHECKING:
    from pathlib import Path

LOG_NAME = "errors.log"
# Past this the log starts afresh; the previous one is kept beside it, as errors.log.old.
MAX_LOG_BYTES = 1_000_000
SUMMARY_LENGTH = 160


def log_path() -> Path:
    """Where the details go: the platform's log directory (~/.local/state/chat-tui/log/…)."""
    from platformdirs import user_log_path

    return user_log_path("chat-tui", appauthor=False) / LOG_NAME


def summary(error: BaseException) -> str:
    """The failure in a few words: its kind and the first line of its message."""
    lines = str(error).strip().splitlines()
    text = visible(f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__)
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def record(error: BaseException, path: Path, *, draft: str = "") -> str | None:
    """Append the failure's traceback, and `draft` if any, to the log at `path`.

    Returns why the log could not be written, or None once it is.
    """
    lines = [
        f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} chat-tui {__version__}",
        "".join(traceback.format_exception(error)).rstrip("\n"),
    ]
    if draft:
        lines += ["The message you had not sent:", draft]
    try:
        if path.is_file() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(f"{path.name}.old"))
        append_private(path, "\n".join(lines) + "\n\n")
    except OSError as exc:
        return str(exc)
    return None
