"""The files the `@` picker offers: those under the directory chat-tui was started in, as git
sees them where it can (so `.gitignore` is respected), and a fuzzy match on their paths.

In a git work tree the list is `git ls-files` (tracked, and untracked but not ignored); elsewhere
a walk that skips hidden directories and the usual bulky ones. Either way it stops at LIMIT
paths, so a home directory or a huge monorepo never stalls the app (the caller runs it in a
thread). Paths are relative, with "/" separators.
"""

from __future__ import annotations

import heapq
import os
import shutil
import subprocess
import time
from pathlib import Path

LIMIT = 20_000
GIT_TIMEOUT = 5.0
# Files come and go while chat-tui runs: an `@` typed later than this lists them again.
FRESH_FOR = 10.0
# Never worth attaching, and often huge: skipped by the walk outside git.
_SKIPPED_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", ".venv", "dist", "build", "target", ".git"}
)


class FileIndex:
    """The files under `root`, listed again when they may have changed (`refresh`, run off the
    event loop: a large tree takes a while)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: list[str] = []
        self._listed_at: float | None = None

    @property
    def stale(self) -> bool:
        return self._listed_at is None or time.monotonic() - self._listed_at > FRESH_FOR

    def refresh(self) -> None:
        # A new list, not the old one changed: whoever holds the old one may be reading it.
        self.paths = list_files(self.root)
        self._listed_at = time.monotonic()


def list_files(root: Path, *, limit: int = LIMIT) -> list[str]:
    """Files under `root`, relative, sorted; git's view where `root` is in a work tree."""
    listed = _git_files(root, limit)
    return sorted(listed if listed is not None else _walk(root, limit))


def _git_files(root: Path, limit: int) -> list[str] | None:
    """What git lists (tracked, and untracked not ignored); None where git cannot say."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:  # not a work tree
        return None
    names = result.stdout.decode("utf-8", errors="replace").split("\0")
    # Listed files may be gone from the disk (deleted, not yet committed).
    return [name for name in dict.fromkeys(names) if name and (root / name).is_file()][:limit]


def _walk(root: Path, limit: int) -> list[str]:
    found: list[str] = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories if not d.startswith(".") and d not in _SKIPPED_DIRS
        )
        base = Path(directory).relative_to(root)
        for name in sorted(files):
            if name.startswith("."):
                continue
            found.append((base / name).as_posix())
            if len(found) >= limit:
                return found
    return found


def score(query: str, path: str) -> int | None:
    """How well `path` matches `query` (higher is better), or None when it does not.

    The query's characters must appear in order (case-insensitively). Matches in the file's name,
    at the start of a name or word, and in a row score higher; shorter paths win ties.
    """
    if not query:
        return -len(path)
    haystack = path.lower()
    name_start = haystack.rfind("/") + 1
    total, position, previous = 0, 0, -2
    for char in query.lower():
        found = haystack.find(char, position)
        if found < 0:
            return None
        total += 1
        if found == previous + 1:
            total += 5  # in a row
        if found == 0 or haystack[found - 1] in "/_-. ":
            total += 8  # the start of a name or a word
        if found >= name_start:
            total += 3  # in the file's own name
        previous, position = found, found + 1
    return total * 100 - len(path)


def best_matches(query: str, paths: list[str], count: int = 8) -> list[str]:
    """The `count` paths that match `query` best."""
    scored = ((s, p) for p in paths if (s := score(query, p)) is not None)
    # The few best, not a sort of thousands: this runs at every key typed after "@".
    return [path for _, path in heapq.nsmallest(count, scored, key=lambda it: (-it[0], it[1]))]
