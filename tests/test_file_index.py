"""The `@` picker's file list and matching, on real directories (with and without git)."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from chat_tui.file_index import best_matches, list_files, score

if TYPE_CHECKING:
    from pathlib import Path


def make_tree(root: Path) -> None:
    for name in (
        "src/app.py",
        "src/widgets/prompt.py",
        "README.md",
        "notes/app-ideas.txt",
        "node_modules/left-pad/index.js",
        ".hidden/secret.txt",
        "build/out.bin",
        "ignored.log",
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


def test_outside_git_the_walk_skips_hidden_and_bulky_directories(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert list_files(tmp_path) == [
        "README.md",
        "ignored.log",
        "notes/app-ideas.txt",
        "src/app.py",
        "src/widgets/prompt.py",
    ]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_in_a_git_work_tree_gitignore_is_respected(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / ".gitignore").write_text("*.log\nbuild/\nnode_modules/\n.hidden/\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "src/app.py"], cwd=tmp_path, check=True)
    files = list_files(tmp_path)
    assert "ignored.log" not in files
    assert "build/out.bin" not in files
    assert "src/app.py" in files  # tracked
    assert "notes/app-ideas.txt" in files  # untracked, not ignored
    assert ".gitignore" in files


def test_the_list_is_bounded(tmp_path: Path) -> None:
    for n in range(50):
        (tmp_path / f"f{n:02}.txt").write_text("")
    assert len(list_files(tmp_path, limit=10)) == 10


def test_fuzzy_matching_prefers_names_word_starts_and_runs() -> None:
    paths = ["src/app.py", "notes/app-ideas.txt", "src/widgets/prompt.py", "README.md"]
    assert best_matches("app", paths)[:2] == ["src/app.py", "notes/app-ideas.txt"]
    assert best_matches("swp", paths) == ["src/widgets/prompt.py"]
    assert best_matches("zzz", paths) == []
    assert score("", "a") is not None
    assert best_matches("", paths, count=2) == ["README.md", "src/app.py"]  # shortest first
