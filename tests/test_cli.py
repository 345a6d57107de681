"""The command line: flags, help, version and the module entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from chat_tui import __version__
from chat_tui.ask import EXIT_FAILED, EXIT_USAGE
from chat_tui.cli import build_parser, main
from tests.openai_server import ErrorReply

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer


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


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`chat-tui ARGS` as a user runs it: no config file of theirs, only the variables given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHAT_TUI_"))}
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env={
            **clean,
            "CHAT_TUI_CONFIG": str(cwd / "none.toml"),
            "PYTHONIOENCODING": "utf-8",  # the output holds ␛ and •, whatever the locale
            **(env or {}),
        },
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


# Escapes that would write the clipboard, set the title, move the cursor up and erase the line;
# markup; a right-to-left override.
HOSTILE = "\x1b]52;c;c2VjcmV0\x07\x1b]0;pwned\x07\x1b[2A\x1b[K[bold]x[/bold]\u202e"
CONTROLS = ("\x1b", "\x07", "\u202e", "\x00")


def test_print_config_cannot_be_made_to_lie(tmp_path: Path) -> None:
    # A .env that tries to draw `endpoint = …openai.com (default)` over the real endpoint line.
    fake = "endpoint         = https://api.openai.com/v1  (default)"
    (tmp_path / ".env").write_text(
        f'OPENAI_MODEL="gpt{HOSTILE}\\n{fake}"\n'
        "OPENAI_BASE_URL=https://me:hunter2@evil.example/v1?api-key=sk-stolen-0000\n"
        "OPENAI_API_KEY=sk-my-own-key-123456789\n",
        encoding="utf-8",
    )
    config = tmp_path / f"conf{HOSTILE}.toml"
    result = cli("--print-config", cwd=tmp_path, env={"CHAT_TUI_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for bad in (*CONTROLS, "hunter2", "sk-stolen", "sk-my-own-key"):
        assert bad not in out + result.stderr
    endpoint_lines = [line for line in out.splitlines() if line.startswith("endpoint")]
    assert endpoint_lines == [
        "endpoint         = https://•••@evil.example/v1?api-key=•••  (.env file: OPENAI_BASE_URL)"
    ]
    assert "␛]52;c;c2VjcmV0␇␛]0;pwned␇␛[2A␛[K[bold]x[/bold]‹U+202E›␊endpoint" in out
    assert "config file      : " in out
    assert "conf␛]52;c;c2VjcmV0␇" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"OPENAI_MODEL=a\x00b\n", "model            = a␀b  "),
        (b"OPENAI_MODEL=caf\xe9\n", "model            = (not set)"),
        (b"OPENAI_MODEL=" + b"x" * 5_000_000 + b"\n", "model            = xxxx"),
        (b'OPENAI_MODEL="' + b"\\'" * 200_000 + b"\n", "model            = (not set)"),
        (b"\xef\xbb\xbfOPENAI_MODEL=bom\r\n=\n\x00\n", "model            = bom  "),
    ],
    ids=["nul", "latin-1", "huge-line", "unclosed-quote", "bom-crlf-junk"],
)
def test_odd_env_files_are_read_or_reported_never_a_traceback(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    (tmp_path / "odd.env").write_bytes(content)
    result = cli("--print-config", "--env-file", "odd.env", cwd=tmp_path)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert expected in result.stdout
    assert not any(c in result.stdout + result.stderr for c in CONTROLS)


def test_print_config_with_a_profile_that_does_not_exist_fails(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[profiles.work]\nmodel = "m"\n')
    result = cli("--config", "config.toml", "--print-config", "--profile", "nope", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert "--profile nope: no such profile" in result.stderr
    assert "(profiles: work)" in result.stderr
    chosen = cli("--config", "config.toml", "--print-config", "--profile", "work", cwd=tmp_path)
    assert chosen.returncode == 0


@pytest.mark.parametrize("flag", ["--config", "--env-file"])
def test_a_file_that_cannot_even_be_looked_at_is_reported(tmp_path: Path, flag: str) -> None:
    # Looking at it fails (the name is too long here; a directory that denies access does the
    # same): it is reported as unreadable, not raised from the check that it is there.
    result = cli("--print-config", flag, "x" * 5000, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0
    assert ": cannot read: " in result.stderr


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:82000/v1"])
def test_print_config_names_a_bad_endpoint_without_a_traceback(tmp_path: Path, url: str) -> None:
    result = cli("--print-config", cwd=tmp_path, env={"OPENAI_BASE_URL": url})
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert f"chat-tui: environment: OPENAI_BASE_URL: Endpoint {url} cannot be used" in (
        result.stderr
    )


def test_ask_sends_nothing_to_a_bad_endpoint(server: FakeOpenAIServer, tmp_path: Path) -> None:
    bad = server.base_url.replace(f":{server.port}/", ":82000/")
    result = cli("ask", "hi", "--endpoint", bad, "--model", "m", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert "Traceback" not in result.stderr
    assert "chat-tui: --endpoint: Endpoint http://127.0.0.1:82000/v1 cannot be used" in (
        result.stderr
    )
    assert server.requests == []


def test_ask_masks_the_key_a_server_echoes(server: FakeOpenAIServer, tmp_path: Path) -> None:
    key = "sk-live-0123456789abcdef"
    body = {"error": {"message": f"Incorrect API key provided: {key}. {HOSTILE}", "code": "x"}}
    server.enqueue(ErrorReply(401, body))
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_MODEL": "m", "OPENAI_API_KEY": key}
    result = cli("ask", "hi", cwd=tmp_path, env=env)
    assert server.last_request.api_key == key  # the server had it, and said it back
    assert result.returncode == EXIT_FAILED
    assert "Key rejected" in result.stderr
    assert "Incorrect API key provided: ••••••••cdef." in result.stderr
    assert key not in result.stderr
    assert "␛]52;c;c2VjcmV0␇" in result.stderr
    assert not any(c in result.stderr for c in CONTROLS)
    json_result = cli("ask", "--json", "hi", cwd=tmp_path, env=env)
    assert key not in json_result.stdout + json_result.stderr


def test_an_endpoint_only_the_http_client_refuses_is_named(tmp_path: Path) -> None:
    # IDNA 2003 (our check) encodes the snowman; IDNA 2008 (the HTTP client's) does not.
    result = cli("ask", "hi", "--endpoint", "http://☃.example/v1", "--model", "m", cwd=tmp_path)
    assert result.returncode == EXIT_FAILED
    assert "Traceback" not in result.stderr
    assert "chat-tui: Invalid endpoint. http://☃.example/v1: Invalid IDNA hostname" in (
        result.stderr
    )
