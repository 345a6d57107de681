"""Files dropped or pasted into the message box, told apart from text by their paths.

A terminal pastes a file dropped on it as its path: quoted (`'/home/u/shot 1.png'`), with its
spaces escaped (`/home/u/shot\\ 1.png`), as a file URI (`file:///home/u/shot%201.png`) or, on
Windows, in double quotes (`"C:\\Users\\u\\shot 1.png"`). Several files come as several paths,
between spaces or on lines of their own.

A paste counts as files only when the whole of it is such paths, each absolute (or from `~`),
and every one names an existing regular file: anything else (prose or code that mentions a
path, a relative name that happens to exist) is text, as before.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable

# Longer pastes, or more words, are text: nothing of them is looked up on disk.
MAX_PASTE_CHARS = 8192
MAX_FILES = 32
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")  # C:\… or \\server\share
_DRIVE_IN_URI = re.compile(r"^/[A-Za-z]:[\\/]")  # file:///C:/… has a slash before the drive


def _is_regular_file(path: str) -> bool:
    return os.path.isfile(os.path.expanduser(path))


def dropped_files(text: str, *, is_file: Callable[[str], bool] = _is_regular_file) -> list[str]:
    """The paths `text` is made of, if it is only paths of existing regular files; else [].

    `~` is kept as given (reading the file expands it); a file URI comes back as its path.
    """
    if not text.strip() or len(text) > MAX_PASTE_CHARS:
        return []
    # Each way a terminal may have written the paths; the files on disk tell which it was.
    for words in (_words(text, escapes=True), _words(text, escapes=False), _lines(text)):
        paths = [_as_path(word) for word in words]
        if 0 < len(paths) <= MAX_FILES and all(
            path is not None and is_file(path) for path in paths
        ):
            return [path for path in paths if path is not None]
    return []


def _words(text: str, *, escapes: bool) -> list[str]:
    """The words of `text` as a shell reads them: quotes group, and a backslash escapes the
    next character unless `escapes` is off (Windows paths, whose backslashes are separators)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    if not escapes:
        lexer.escape = ""
    try:
        return list(lexer)
    except ValueError:  # a quote left open: not a quoted path
        return []


def _lines(text: str) -> list[str]:
    """One path a line, as given (spaces and all), without one pair of enclosing quotes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [
        line[1:-1] if len(line) > 1 and line[0] == line[-1] and line[0] in "'\"" else line
        for line in lines
    ]


def _as_path(word: str) -> str | None:
    """`word` as an absolute path (a file URI decoded), or None if it is not one."""
    if word.lower().startswith("file:"):
        parts = urlsplit(word)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            return None  # another machine's file, or not a plain file URI
        word = unquote(parts.path)
        if _DRIVE_IN_URI.match(word):
            word = word[1:]
    if word.startswith("~") or os.path.isabs(word) or _WINDOWS_ABSOLUTE.match(word):
        return word
    return None
