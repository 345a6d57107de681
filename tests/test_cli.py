"""The command line: flags, help, version and the module entry point."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

from chat_tui import __version__
from chat_tui.cli import build_parser, main

if TYPE_CHECKING:
    import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chat-tui {__version__}"


def test_help_lists_flags_and_variables() -> None:
    result = run("--help")
    assert result.returncode == 0
    for text in ("--env-file", "--endpoint", "--model", "--system", "AZURE_OPENAI_ENDPOINT"):
        assert text in result.stdout


def test_missing_env_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env-file", "nowhere.env"]) == 2
    assert "nowhere.env: no such file" in capsys.readouterr().err


def test_deployment_is_an_alias_of_model() -> None:
    args = build_parser().parse_args(["--deployment", "dep", "--system", "Be brief."])
    assert args.model == "dep"
    assert args.system == "Be brief."
