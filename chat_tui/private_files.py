"""Files only their owner may read: the config, exports, the clipboard file and the error log.

Each holds something private (a key, a conversation, a draft), so each is created owner-only
(0600) in a directory chat-tui creates owner-only (0700), and none is written through a symlink
an attacker could have left in its place. One module, so every writer gets this the same way.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

# Without O_NOFOLLOW (Windows), O_EXCL alone still refuses a name that exists as a link.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FREE_NAME_TRIES = 1000


def expand_home(path: Path) -> Path:
    """`path` with a leading ~ or ~user expanded; as it is where there is no such home (a
    missing file is then reported where it is opened, not as a crash here)."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


def looks_like_a_file(path: Path) -> bool:
    """Whether `path` is a regular file, or may be one that cannot be looked at (a directory on
    the way that denies access): then reading it says why not, rather than this raising."""
    try:
        return path.is_file()
    except OSError:
        return True


def private_dir(path: Path) -> None:
    """Create `path` (and its parents) where missing; the directory itself owner-only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def tighten(path: Path, mode: int) -> None:
    """Give `path` `mode` if it has another: files an earlier version left readable to others.

    Not there yet, or not ours to change (another user's file): left as it is.
    """
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)


def replace_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole and owner-only, replacing what is there in one step.

    It is written beside `path`, then moved over it, so a reader never sees half of it and a
    symlink at `path` is replaced, never followed to the file it points at. What cannot be
    replaced (a FIFO, a device such as /dev/stdout, reached directly or through a link) is
    written into instead: renaming over it would remove it, not write to it.
    """
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False  # not there yet, or a dangling link: created
    if special:
        with path.open("wb") as stream:
            stream.write(data)
        return
    private_dir(path.parent)
    # mkstemp creates the file owner-only (0600); os.replace keeps that mode.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_private(path: Path, data: bytes) -> Path:
    """Write `data` to a new owner-only file: `path`, or the first free name of `path-2`, ….

    Nothing that exists (a file or a symlink) is touched. Returns the file written.
    """
    for number in range(1, _FREE_NAME_TRIES + 1):
        candidate = path if number == 1 else path.with_stem(f"{path.stem}-{number}")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW
            descriptor = os.open(candidate, flags, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
        except BaseException:
            candidate.unlink(missing_ok=True)
            raise
        return candidate
    raise FileExistsError(f"{path} and the next {_FREE_NAME_TRIES - 1} names are all taken")


def append_private(path: Path, text: str) -> None:
    """Append `text` to the owner-only file at `path`, never through a symlink."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as stream:
        stream.write(text)
