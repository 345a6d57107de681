"""Files dropped on the terminal, told from text by their paths: every way terminals write them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_tui.dropped_paths import MAX_PASTE_CHARS, dropped_files

if TYPE_CHECKING:
    from pathlib import Path


def files(*paths: str) -> object:
    """A file system holding exactly `paths`."""
    return lambda path: path in paths


@pytest.mark.parametrize(
    "pasted",
    [
        "'/home/u/shot 1.png'",  # GNOME Terminal, Konsole
        '"/home/u/shot 1.png"',
        "/home/u/shot\\ 1.png",  # macOS Terminal, iTerm2, kitty
        "file:///home/u/shot%201.png",  # a file URI, as some file managers copy it
        "file://localhost/home/u/shot%201.png",
        "/home/u/shot 1.png",  # as it is, unquoted: the whole paste is one path
        "  '/home/u/shot 1.png' \n",  # with the blanks a terminal adds
    ],
)
def test_one_dropped_file_in_each_form(pasted: str) -> None:
    assert dropped_files(pasted, is_file=files("/home/u/shot 1.png")) == ["/home/u/shot 1.png"]


def test_several_files_between_spaces_or_on_lines() -> None:
    present = files("/a/one.txt", "/b/two words.png")
    assert dropped_files("/a/one.txt '/b/two words.png'", is_file=present) == [
        "/a/one.txt",
        "/b/two words.png",
    ]
    assert dropped_files("/a/one.txt\n/b/two words.png\n", is_file=present) == [
        "/a/one.txt",
        "/b/two words.png",
    ]
    assert dropped_files("/a/one.txt\n/b/two\\ words.png", is_file=present) == [
        "/a/one.txt",
        "/b/two words.png",
    ]


def test_windows_paths_quoted_bare_and_as_uris() -> None:
    present = files("C:\\Users\\u\\shot 1.png", "C:\\tmp\\a.txt", "C:/Users/u/b.png")
    assert dropped_files('"C:\\Users\\u\\shot 1.png"', is_file=present) == [
        "C:\\Users\\u\\shot 1.png"
    ]
    # Unquoted, a backslash is a separator, not an escape.
    assert dropped_files("C:\\tmp\\a.txt", is_file=present) == ["C:\\tmp\\a.txt"]
    assert dropped_files("file:///C:/Users/u/b.png", is_file=present) == ["C:/Users/u/b.png"]


def test_home_is_kept_for_reading_to_expand() -> None:
    assert dropped_files("~/notes.txt", is_file=files("~/notes.txt")) == ["~/notes.txt"]


@pytest.mark.parametrize(
    "pasted",
    [
        "",
        "   \n",
        "hello world",
        "see /home/u/shot 1.png for the bug",  # prose that mentions a path
        "/home/u/shot 1.png /home/u/missing.png",  # one of them is not there
        "notes.txt",  # relative: a word that happens to name a file here is text
        "'/home/u/shot 1.png",  # a quote left open, and the whole is no file either
        "file://server/share/shot.png",  # another machine's file
        "https://example.com/shot.png",
        "def f():\n    return '/home/u/shot 1.png'\n",
    ],
)
def test_anything_else_is_text(pasted: str) -> None:
    present = files("/home/u/shot 1.png", "notes.txt")
    assert dropped_files(pasted, is_file=present) == []


def test_a_long_paste_is_text_without_looking_at_the_disk() -> None:
    looked: list[str] = []

    def is_file(path: str) -> bool:
        looked.append(path)
        return True

    assert dropped_files("/a " * MAX_PASTE_CHARS, is_file=is_file) == []
    assert dropped_files("\n".join(f"/f{n}" for n in range(100)), is_file=is_file) == []
    assert looked == []


def test_the_real_file_system(tmp_path: Path) -> None:
    (tmp_path / "shot 1.png").write_bytes(b"x")
    (tmp_path / "folder").mkdir()
    quoted = f"'{tmp_path / 'shot 1.png'}'"
    assert dropped_files(quoted) == [str(tmp_path / "shot 1.png")]
    assert dropped_files((tmp_path / "shot 1.png").as_uri()) == [str(tmp_path / "shot 1.png")]
    assert dropped_files(str(tmp_path / "folder")) == []  # a directory is not a file
