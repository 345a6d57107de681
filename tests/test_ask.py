"""`chat-tui ask`: the console mode, run as a subprocess against the local server over real HTTP."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from chat_tui.ask import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNFINISHED, EXIT_USAGE
from chat_tui.settings import DEFAULT_SYSTEM_PROMPT
from tests.openai_server import ErrorReply, TextReply
from tests.test_terminal import read_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

    Ask = Callable[..., subprocess.CompletedProcess[str]]

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chat_tui", "ask", *args]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The (already cleaned) environment, with no config file, store or slow timeouts."""
    return {
        **os.environ,
        "CHAT_TUI_CONFIG": str(tmp_path / "no-config.toml"),
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "CHAT_TUI_READ_TIMEOUT": "5",
        "PYTHONIOENCODING": "utf-8",
    }


@pytest.fixture
def ask(env: dict[str, str], tmp_path: Path) -> Ask:
    """Run `chat-tui ask ARGS`; stdin is empty unless `input` is given."""

    def run(
        *args: str, input: str | None = None, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command(*args),
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**env, **(extra or {})},
            cwd=tmp_path,
            timeout=60,
        )

    return run


def to(server: FakeOpenAIServer) -> list[str]:
    """Flags that point `ask` at the local server as an OpenAI-compatible one."""
    return ["--endpoint", server.base_url, "--model", "fake-model"]


# -- the reply on stdout ----------------------------------------------------------------------


def test_streams_the_reply_to_stdout(server: FakeOpenAIServer, ask: Ask, tmp_path: Path) -> None:
    server.enqueue(TextReply("Hello there, world."))
    result = ask(
        "What is up?", extra={"OPENAI_BASE_URL": server.base_url, "OPENAI_MODEL": "fake-model"}
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        EXIT_OK,
        "Hello there, world.\n",
        "",
    )
    request = server.last_request
    assert request.path == "/v1/chat/completions"
    assert request.body is not None
    assert request.body["stream"] is True
    assert request.body["model"] == "fake-model"
    assert request.messages == [
        {"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": "What is up?"},
    ]
    assert not (tmp_path / "data").exists()  # nothing saved


def test_a_reply_ending_in_a_newline_gets_no_second_one(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(TextReply(["line one\n", "line two\n"]))
    assert ask("hi", *to(server)).stdout == "line one\nline two\n"


def test_question_from_stdin(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(TextReply("Piped."))
    result = ask(*to(server), input="a question on stdin\n")
    assert (result.returncode, result.stdout) == (EXIT_OK, "Piped.\n")
    assert server.last_request.messages[-1] == {
        "role": "user",
        "content": "a question on stdin\n",
    }


def test_argument_then_a_blank_line_then_stdin(server: FakeOpenAIServer, ask: Ask) -> None:
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new\n"
    result = ask("review this", *to(server), input=diff)
    assert result.returncode == EXIT_OK
    assert server.last_request.messages[-1]["content"] == f"review this\n\n{diff}"


def test_settings_flags_work_before_and_after_ask(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    args = [sys.executable, "-m", "chat_tui", "--system", "Before.", "--model", "other"]
    args += ["--endpoint", server.base_url, "ask", "--system", "After.", "--model", "fake-model"]
    args += ["--provider", "compatible", "hello"]
    result = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert server.last_request.body is not None
    assert server.last_request.body["model"] == "fake-model"
    assert server.last_request.messages[0] == {"role": "system", "content": "After."}
    # Given only before `ask`, a flag still applies.
    args = [sys.executable, "-m", "chat_tui", "--system", "Before.", "ask", *to(server), "hi"]
    subprocess.run(args, capture_output=True, env=env, cwd=tmp_path, timeout=60, check=True)
    assert server.last_request.messages[0] == {"role": "system", "content": "Before."}


def test_system_flag_overrides_the_environment(server: FakeOpenAIServer, ask: Ask) -> None:
    result = ask(
        "hi", "--system", "Answer in French.", *to(server),
        extra={"AZURE_OPENAI_SYSTEM_PROMPT": "From the environment."},
    )  # fmt: skip
    assert result.returncode == EXIT_OK
    assert server.last_request.messages[0] == {"role": "system", "content": "Answer in French."}
    # An empty system prompt sends none, as in the app.
    assert ask("hi", "--system", "", *to(server)).returncode == EXIT_OK
    assert [m["role"] for m in server.last_request.messages] == ["user"]


PROFILES = """\
default_profile = "elsewhere"

[profiles.elsewhere]
endpoint = "http://127.0.0.1:9/v1"
model = "never-used"

[profiles.local]
endpoint = "{url}"
model = "fake-model"
system_prompt = "From the profile."
"""


@pytest.mark.parametrize("where", ["before", "after"])
def test_profile_from_the_config_file(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path, where: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(PROFILES.format(url=server.base_url), encoding="utf-8")
    flags = ["--config", str(config), "--profile", "local"]
    args = [*flags, "ask", "hi"] if where == "before" else ["ask", "hi", *flags]
    result = subprocess.run(
        [sys.executable, "-m", "chat_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert server.last_request.messages[0] == {"role": "system", "content": "From the profile."}


def test_an_unknown_profile_sends_nothing(
    server: FakeOpenAIServer, ask: Ask, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(PROFILES.format(url=server.base_url), encoding="utf-8")
    result = ask("hi", "--config", str(config), "--profile", "locl", *to(server))
    assert result.returncode == EXIT_USAGE
    assert "chat-tui: --profile locl: no such profile" in result.stderr
    assert "profiles: elsewhere, local" in result.stderr
    assert result.stdout == ""
    assert server.requests == []


def test_azure_deployment(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(TextReply("From Azure.", azure=True))
    azure = {
        "AZURE_OPENAI_ENDPOINT": server.url,
        "AZURE_OPENAI_API_KEY": "azure-key",
        "AZURE_OPENAI_CHAT_DEPLOYMENT": "my-deployment",
    }
    result = ask("hi", extra=azure)
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_OK, "From Azure.\n", "")
    request = server.last_request
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.query["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == "azure-key"
    assert request.body is not None
    assert request.body["stream"] is True


def test_json_prints_one_object_at_the_end(server: FakeOpenAIServer, ask: Ask) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    server.enqueue(TextReply("Hello in JSON.", usage=usage, model="fake-model-2024"))
    result = ask("hi", "--json", *to(server))
    assert (result.returncode, result.stderr) == (EXIT_OK, "")
    data = json.loads(result.stdout)
    # The server's id for the request, for support, as its header gave it.
    assert re.fullmatch(r"req-fake-\d+", data.pop("request_id"))
    assert data == {
        "text": "Hello in JSON.",
        "finish_reason": "stop",
        "model": "fake-model-2024",
        "usage": usage,
    }
    assert result.stdout.count("\n") == 1


def test_json_names_the_error(server: FakeOpenAIServer, ask: Ask) -> None:
    server.require_key = "the-right-key"
    result = ask("hi", "--json", *to(server), extra={"OPENAI_API_KEY": "a-wrong-key"})
    assert result.returncode == EXIT_FAILED
    data = json.loads(result.stdout)
    assert data["text"] == ""
    assert data["usage"] is None
    assert data["error"].startswith("Key rejected.")
    assert f"chat-tui: {data['error']}" in result.stderr
    # The whole failure, for a support ticket; never the key.
    details = data["error_details"]
    assert details["title"] == "Key rejected"
    assert details["status"] == 401
    assert details["request_id"].startswith("req-fake-")
    assert details["header x-request-id"] == details["request_id"]
    assert details["request"] == "POST /v1/chat/completions"
    assert details["provider"] == "compatible"
    assert details["model"] == "fake-model"
    assert "error" in json.loads(details["body"])
    assert "a-wrong-key" not in result.stdout + result.stderr


# -- how replies end --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "notice"),
    [
        (
            TextReply("Cut here", finish_reason="length"),
            "chat-tui: Cut off: the reply reached the token limit (max tokens).\n",
        ),
        (
            TextReply("I can't", finish_reason="content_filter"),
            "chat-tui: Filtered: the content filter stopped this reply.\n",
        ),
        (
            TextReply("No end", finish_reason=None, done=False),
            "chat-tui: Incomplete: the stream ended without a finish reason.\n",
        ),
    ],
)
def test_unfinished_replies_are_kept_with_a_notice(
    server: FakeOpenAIServer, ask: Ask, reply: TextReply, notice: str
) -> None:
    server.enqueue(reply)
    result = ask("hi", *to(server))
    assert (result.returncode, result.stdout, result.stderr) == (
        EXIT_UNFINISHED,
        f"{reply.content}\n",
        notice,
    )


def test_length_in_json(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(TextReply("Cut here", finish_reason="length"))
    result = ask("hi", "--json", *to(server))
    assert result.returncode == EXIT_UNFINISHED
    assert json.loads(result.stdout)["finish_reason"] == "length"
    assert "Cut off" in result.stderr


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_json_has_the_reasoning_and_the_detailed_usage(
    server: FakeOpenAIServer, ask: Ask, api: str
) -> None:
    server.enqueue(
        TextReply("The answer.", reasoning="Let me think.", cached_tokens=2, model="reasoner-2025")
    )
    result = ask("hi", "--json", "--api", api, *to(server))
    assert (result.returncode, result.stderr) == (EXIT_OK, "")
    data = json.loads(result.stdout)
    assert data.pop("request_id").startswith("req-fake-")
    assert data == {
        "text": "The answer.",
        "reasoning": "Let me think.",
        "finish_reason": "stop",
        "model": "reasoner-2025",
        # The system prompt and "hi" in; two tokens of text and three of reasoning out.
        "usage": {
            "prompt_tokens": 7,
            "completion_tokens": 5,
            "total_tokens": 12,
            "reasoning_tokens": 3,
            "cached_tokens": 2,
        },
    }
    request = server.last_request
    assert request.operation == api
    if api == "responses":
        assert request.instructions == DEFAULT_SYSTEM_PROMPT
        assert request.responses_input == [("user", "hi")]


def test_an_azure_deployment_on_the_responses_api(
    server: FakeOpenAIServer, ask: Ask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A model no table knows, which answers on the Responses API only: learned from its 400.
    monkeypatch.setattr(server, "responses_only", {*server.responses_only, "my-deployment"})
    server.enqueue(TextReply("From the Responses API.", finish_reason="length"))
    result = ask(
        "hi",
        "--endpoint", server.url, "--deployment", "my-deployment", "--provider", "azure",
        extra={"AZURE_OPENAI_API_KEY": "azure-key"},
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (EXIT_UNFINISHED, "From the Responses API.\n")
    assert result.stderr.splitlines() == [
        "chat-tui: my-deployment answers on the Responses API only: asking there",
        "chat-tui: Cut off: the reply reached the token limit (max tokens).",
    ]
    assert [(r.operation, r.path) for r in server.requests] == [
        ("chat", "/openai/deployments/my-deployment/chat/completions"),
        ("responses", "/openai/v1/responses"),
    ]
    assert server.last_request.headers["api-key"] == "azure-key"


def test_a_drop_keeps_the_text_that_arrived(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(TextReply("one two three four five six", drop_after=3))
    result = ask("hi", *to(server))
    assert result.returncode == EXIT_FAILED
    assert result.stdout == "one two three\n"
    failure, request_id = result.stderr.splitlines()
    assert failure.startswith("chat-tui: Connection lost.")
    # The id the stream's response had, for support.
    assert request_id.startswith("chat-tui: request id: req-fake-")
    assert "Traceback" not in result.stderr


# -- failures ---------------------------------------------------------------------------------


def test_a_rejected_key_fails_with_the_reason(server: FakeOpenAIServer, ask: Ask) -> None:
    server.require_key = "the-right-key"
    result = ask("hi", *to(server), extra={"OPENAI_API_KEY": "a-wrong-key"})
    assert result.returncode == EXIT_FAILED
    assert result.stdout == ""
    assert result.stderr.startswith(f"chat-tui: Key rejected. {server.base_url} answered 401")
    assert "Check the API key" in result.stderr
    assert len(server.requests) == 1  # a 401 is never retried


def test_an_unknown_deployment(server: FakeOpenAIServer, ask: Ask) -> None:
    body = {"error": {"code": "DeploymentNotFound", "message": "No such deployment."}}
    server.enqueue(ErrorReply(404, body))
    result = ask(
        "hi",
        "--endpoint", server.url, "--deployment", "my-deployment", "--provider", "azure",
        extra={"AZURE_OPENAI_API_KEY": "azure-key"},
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (EXIT_FAILED, "")
    failure, request_id = result.stderr.splitlines()
    assert failure == (
        f"chat-tui: Deployment not found. {server.url} has no deployment 'my-deployment' (404): "
        "No such deployment. On Azure this is the deployment name you chose, not the model "
        "name."
    )
    # The id the server gave the request, for support.
    assert re.fullmatch(r"chat-tui: request id: req-fake-\S+ \(give it to support\)", request_id)


def test_a_rate_limit_is_retried_visibly(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(ErrorReply(429, headers={"retry-after-ms": "10"}), TextReply("At last."))
    result = ask("hi", *to(server))
    assert (result.returncode, result.stdout) == (EXIT_OK, "At last.\n")
    assert result.stderr == "chat-tui: Rate limited: retrying in 1 s (attempt 2 of 4)\n"
    assert len(server.requests) == 2


def test_not_configured_says_what_to_set(server: FakeOpenAIServer, ask: Ask) -> None:
    result = ask("hi")
    assert (result.returncode, result.stdout) == (EXIT_USAGE, "")
    assert "chat-tui: No model: set OPENAI_MODEL" in result.stderr
    assert "chat-tui: No API key: set OPENAI_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    result = ask("hi", "--provider", "compatible", "--model", "m")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith("chat-tui: No server URL: set OPENAI_BASE_URL")
    assert server.requests == []


def test_config_problems_are_reported_and_the_question_still_goes(
    server: FakeOpenAIServer, ask: Ask, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("default_profile = [\n", encoding="utf-8")
    result = ask("hi", "--config", str(config), *to(server))
    assert result.returncode == EXIT_OK
    assert result.stderr.startswith(f"chat-tui: {config}: ")
    assert "the file was ignored" in result.stderr


def test_an_empty_question_is_a_usage_error(server: FakeOpenAIServer, ask: Ask) -> None:
    result = ask("  ", *to(server), input="\n")
    assert (result.returncode, result.stdout) == (EXIT_USAGE, "")
    assert result.stderr == "chat-tui: the question is empty\n"
    assert server.requests == []


@posix_only
def test_no_question_at_a_terminal_is_a_usage_error(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    main_fd, child_fd = pty.openpty()
    try:
        result = subprocess.run(
            command(*to(server)),
            stdin=child_fd,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        os.close(child_fd)
        os.close(main_fd)
    assert (result.returncode, result.stdout) == (EXIT_USAGE, "")
    assert "chat-tui: no question: give it as an argument or pipe it on stdin" in result.stderr
    assert server.requests == []


# -- the terminal -----------------------------------------------------------------------------

ESCAPES = "plain \x1b[31mred\x1b[0m \x1b]0;title\x07 done"


def test_escape_codes_pass_through_into_a_pipe(server: FakeOpenAIServer, ask: Ask) -> None:
    server.enqueue(TextReply([ESCAPES]))
    assert ask("hi", *to(server)).stdout == ESCAPES + "\n"


def read_all(fd: int, seconds: float) -> bytes:
    """A pseudo-terminal's output until the child closes it, for up to `seconds`."""
    return read_until(fd, seconds)


@posix_only
def test_escape_codes_cannot_drive_a_terminal(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply([ESCAPES]))
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        command("hi", *to(server)),
        stdin=subprocess.DEVNULL,
        stdout=child_fd,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    os.close(child_fd)
    try:
        output = read_all(main_fd, 30).decode()
        assert process.wait(timeout=30) == EXIT_OK
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main_fd)
        assert process.stderr is not None
        process.stderr.close()
    assert "\x1b" not in output
    assert "\x07" not in output
    assert "plain ␛[31mred␛[0m ␛]0;title␇ done" in output


@posix_only
def test_ctrl_c_stops_without_a_traceback(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply(["word "] * 400, delay=0.05))
    process = subprocess.Popen(
        command("hi", *to(server)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        first = os.read(process.stdout.fileno(), 100)  # the reply is streaming
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_INTERRUPTED
    assert (first + rest).startswith(b"word ")
    assert (first + rest).endswith(b"\n")
    assert errors == b""


# -- the command itself -----------------------------------------------------------------------


def test_help_documents_the_exit_statuses() -> None:
    result = subprocess.run(
        command("--help"), capture_output=True, text=True, timeout=60, check=True
    )
    for text in ("--json", "--system", "--profile", "exit status:", "130", "token limit"):
        assert text in result.stdout


def test_the_console_mode_imports_neither_textual_nor_openai() -> None:
    code = (
        "import sys\n"
        "import chat_tui.ask, chat_tui.console, chat_tui.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'openai')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_a_closed_stdout_is_reported_not_a_traceback() -> None:
    # Started with stdout closed, Python has no sys.stdout at all.
    result = subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m chat_tui ask hi >&-'],
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr
    assert "stdout is closed" in result.stderr
    assert result.returncode == 141
