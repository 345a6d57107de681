"""`chat-tui console`: the samples' loop, run in a real pseudo-terminal (and with piped stdin)
against the local server over real HTTP."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from typing import TYPE_CHECKING

import pytest

from chat_tui.ask import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNFINISHED
from chat_tui.console import SAVE_EVERY, complete_blocks, help_text
from chat_tui.settings import DEFAULT_SYSTEM_PROMPT
from chat_tui.slash import SLASHES
from chat_tui.store import Store
from tests.openai_server import ErrorReply, TextReply
from tests.test_persistence import saved_rows, saving_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

PROFILES = """\
[profiles.local]
endpoint = "{url}"
model = "profile-model"
"""
HOSTILE = "plain \x1b[31mred\x1b[0m [red]markup[/] \u202eevil\u202c \x1b]0;title\x07 done"


def _controlling_terminal() -> None:
    # In the child (a session of its own): the pty becomes its terminal, so ctrl+c typed
    # there is SIGINT, as in a shell.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`chat-tui console ARGS` in an 100x30 pseudo-terminal, typed at and read from."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        main_fd, child_fd = pty.openpty()
        fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chat_tui", "console", *args],
            stdin=child_fd,
            stdout=child_fd,
            stderr=child_fd,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_controlling_terminal,
        )
        os.close(child_fd)
        self.fd = main_fd
        self.output = b""
        self._seen = 0  # what `expect` has passed over

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not chunk:
                    return
                self.output += chunk
                return

    def expect(self, text: str, seconds: float = 20.0) -> str:
        """Wait until `text` is shown after what was expected last; what came up to its end."""
        wanted = text.encode()
        deadline = time.monotonic() + seconds
        while (found := self.output.find(wanted, self._seen)) < 0:
            if time.monotonic() > deadline or (
                self.process.poll() is not None and not (select.select([self.fd], [], [], 0.2)[0])
            ):
                raise AssertionError(f"{text!r} not shown; the end: {self.shown()[-1500:]!r}")
            self.read(0.2)
        start, self._seen = self._seen, found + len(wanted)
        return self.output[start : self._seen].decode(errors="replace")

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def send(self, text: str) -> None:
        """Type a message at the prompt and press Enter, once the prompt is there."""
        self.expect("User: ")
        self.type(text + "\r")

    def wait(self, seconds: float = 20.0) -> int:
        deadline = time.monotonic() + seconds
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        return self.process.wait(timeout=1)

    def shown(self) -> str:
        return self.output.decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.fd)


@pytest.fixture
def env(tmp_path: Path, server: FakeOpenAIServer) -> dict[str, str]:
    """The (already cleaned) environment, pointed at the local server, with no config file."""
    return {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_MODEL": "fake-model",
        "CHAT_TUI_CONFIG": str(tmp_path / "no-config.toml"),
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "CHAT_TUI_READ_TIMEOUT": "5",
        "PYTHONIOENCODING": "utf-8",
        "TERM": "xterm-256color",
    }


@pytest.fixture
def terminal(env: dict[str, str], tmp_path: Path) -> Iterator[Terminal]:
    console = Terminal([], env, tmp_path)
    yield console
    console.close()


def saved(tmp_path: Path) -> list[tuple[str, str, str]]:
    """The last saved conversation's shown messages: (role, content, state)."""
    return saved_rows(tmp_path / "data" / "conversations.db")


def asked(server: FakeOpenAIServer, index: int = -1) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.requests[index].messages]


# -- the samples' loop ------------------------------------------------------------------------


def test_three_turns_each_carrying_the_earlier_ones(
    server: FakeOpenAIServer, terminal: Terminal, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Hi Ada."), TextReply("Blue."), TextReply("Ada likes blue."))
    terminal.send("I am Ada.")
    assert "Assistant: Hi Ada." in terminal.expect("Hi Ada.")
    terminal.send("My colour is blue.")
    terminal.expect("Assistant: Blue.")
    terminal.send("Sum it up.")
    terminal.expect("Assistant: Ada likes blue.")
    terminal.send("")  # an empty line quits, as in the samples
    assert terminal.wait() == EXIT_OK
    assert asked(server) == [
        ("system", DEFAULT_SYSTEM_PROMPT),
        ("user", "I am Ada."),
        ("assistant", "Hi Ada."),
        ("user", "My colour is blue."),
        ("assistant", "Blue."),
        ("user", "Sum it up."),
    ]
    assert "Traceback" not in terminal.shown()
    assert [row[:2] for row in saved(tmp_path)][-2:] == [
        ("user", "Sum it up."),
        ("assistant", "Ada likes blue."),
    ]


@pytest.mark.parametrize("quit", ["exit", "\x04"], ids=["exit", "ctrl+d"])
def test_exit_and_ctrl_d_quit_with_status_0(
    server: FakeOpenAIServer, terminal: Terminal, quit: str
) -> None:
    terminal.expect("User: ")
    terminal.type(quit if quit == "\x04" else quit + "\r")
    assert terminal.wait() == EXIT_OK
    assert server.requests == []


def test_a_continued_line_and_a_paste_are_one_message_each(
    server: FakeOpenAIServer, terminal: Terminal
) -> None:
    server.enqueue(TextReply("One."), TextReply("Two."))
    terminal.send("first line \\")
    terminal.expect("... ")
    terminal.type("second line\r")
    terminal.expect("One.")
    terminal.expect("User: ")
    terminal.type("\x1b[200~pasted one\npasted two\x1b[201~")  # as a terminal brackets a paste
    terminal.type("\r")
    terminal.expect("Two.")
    terminal.send("exit")
    assert terminal.wait() == EXIT_OK
    users = [m["content"] for m in server.requests[-1].messages if m["role"] == "user"]
    assert users == ["first line \nsecond line", "pasted one\npasted two"]


def test_clear_starts_afresh_with_the_same_system_prompt(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("Noted."), TextReply("Fresh."))
    console = Terminal(["--system", "Be brief."], env, tmp_path)
    try:
        console.send("remember 42")
        console.expect("Noted.")
        console.send("/clear")
        console.expect("Cleared")
        console.send("what number?")
        console.expect("Fresh.")
        console.send("")
        assert console.wait() == EXIT_OK
    finally:
        console.close()
    assert asked(server) == [("system", "Be brief."), ("user", "what number?")]
    store = Store(tmp_path / "data" / "conversations.db")
    try:
        assert len(store.list_conversations()) == 2  # the first one stays saved
    finally:
        store.close()


def test_ctrl_c_stops_a_reply_then_quits_at_the_prompt(
    server: FakeOpenAIServer, terminal: Terminal, tmp_path: Path
) -> None:
    server.enqueue(TextReply(["word "] * 400, delay=0.05), TextReply("Next."))
    terminal.send("talk")
    terminal.expect("word word ")
    terminal.type("\x03")
    terminal.expect("Stopped: what arrived is kept.")
    terminal.send("go on")
    terminal.expect("Next.")
    # The stopped reply's text was kept, and went with the next request.
    stopped = asked(server)[2]
    assert stopped[0] == "assistant"
    assert stopped[1].startswith("word word ")
    terminal.expect("User: ")
    # As a person would: not within the instant the prompt appears. CPython's readline acts
    # on a signal only while it waits for a key, and it is still drawing the prompt then.
    time.sleep(0.3)
    terminal.type("\x03")
    assert terminal.wait() == EXIT_INTERRUPTED
    assert "Traceback" not in terminal.shown()
    assert saved(tmp_path)[1][2] == "stopped"


def test_a_reply_cut_off_by_the_token_limit_says_so(
    server: FakeOpenAIServer, terminal: Terminal
) -> None:
    server.enqueue(TextReply("Half a sent", finish_reason="length"))
    terminal.send("write a lot")
    shown = terminal.expect("Cut off: the reply reached the token limit (max tokens).")
    assert "Assistant: Half a sent" in shown
    terminal.send("exit")
    assert terminal.wait() == EXIT_OK


def test_a_fault_is_retried_and_a_failure_told_then_retried(
    server: FakeOpenAIServer, terminal: Terminal, tmp_path: Path
) -> None:
    server.enqueue(ErrorReply(503), TextReply("Back again."))
    terminal.send("hello")
    shown = terminal.expect("Back again.")
    assert "retrying in 1 s (attempt 2 of 4)" in shown
    assert "Assistant: Back again." in shown  # the prefix again, after the notice
    # A failure the client does not retry: told with its request id; /retry asks again.
    server.enqueue(ErrorReply(400, {"error": {"message": "Bad \x1b[31mthing\x1b[0m"}}))
    terminal.send("again")
    shown = terminal.expect("give it to support")
    assert "Bad ␛[31mthing␛[0m" in shown
    assert "request id:" in shown
    server.enqueue(TextReply("Answered."))
    terminal.send("/retry")
    terminal.expect("Answered.")
    assert asked(server)[-1] == ("user", "again")
    terminal.send("")
    assert terminal.wait() == EXIT_OK
    assert [(role, content) for role, content, _ in saved(tmp_path)][-2:] == [
        ("user", "again"),
        ("assistant", "Answered."),
    ]


def test_untrusted_text_is_shown_literally(server: FakeOpenAIServer, terminal: Terminal) -> None:
    server.enqueue(TextReply([HOSTILE]))
    terminal.send("hi")
    shown = terminal.expect("done")
    assert "plain ␛[31mred␛[0m [red]markup[/]" in shown
    assert "\u202e" not in shown
    assert "\x07" not in shown
    terminal.send("exit")
    assert terminal.wait() == EXIT_OK


def test_reasoning_is_dimmed_or_hidden(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    for args, shown in (([], True), (["--show-reasoning", "no"], False)):
        server.enqueue(TextReply("The answer.", reasoning="Thinking hard."))
        console = Terminal(args, env, tmp_path)
        try:
            console.send("why?")
            output = console.expect("The answer.")
            console.send("exit")
            assert console.wait() == EXIT_OK
        finally:
            console.close()
        assert ("\x1b[2mThinking" in output) is shown
        assert ("hard." in output) is shown


def test_render_prints_each_markdown_block_once_complete(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    text = f"# Title\n\nSome **bold** text.\n\n```python\nx = 1\n```\n\n{HOSTILE}\n\n- one\n- two\n"
    server.enqueue(TextReply(text))
    console = Terminal(["--render"], env, tmp_path)
    try:
        console.send("show me")
        output = console.expect("two")
        console.send("exit")
        assert console.wait() == EXIT_OK
    finally:
        console.close()
    for markup in ("**", "```", "# Title", "\u202e", "\x07", "\x1b[31mred"):
        assert markup not in output
    assert "␛[31mred␛[0m [red]markup[/]" in output
    for piece in ("Title", "bold", "x", "one"):
        assert piece in output


def test_commands_of_the_app(server: FakeOpenAIServer, terminal: Terminal, tmp_path: Path) -> None:
    server.enqueue(TextReply("Sure."))
    terminal.send("/help")
    for slash in SLASHES:
        if slash.word != "copy":
            terminal.expect(slash.usage)
    terminal.send("/model other-model")
    terminal.expect("Model: other-model")
    terminal.send("/system Speak like a pirate.")
    terminal.expect("System prompt set.")
    terminal.send("/nonsense")
    terminal.expect("is not a command")
    terminal.send("//slash first")
    terminal.expect("Sure.")
    terminal.send("/export md")
    terminal.expect("Exported to")
    terminal.send("exit")
    assert terminal.wait() == EXIT_OK
    request = server.requests[-1]
    assert request.model == "other-model"
    assert asked(server) == [("system", "Speak like a pirate."), ("user", "/slash first")]
    (exported,) = tmp_path.glob("chat-*.md")
    assert "Speak like a pirate." in exported.read_text()


# -- without a terminal -----------------------------------------------------------------------


def console_piped(
    env: dict[str, str], tmp_path: Path, text: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", "console", *args],
        input=text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_piped_stdin_is_one_message_a_line(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("First."), TextReply("Second."))
    result = console_piped(env, tmp_path, "one\n\ntwo\n")
    assert (result.returncode, result.stdout) == (EXIT_OK, "First.\nSecond.\n")
    assert "Traceback" not in result.stderr
    assert asked(server)[1:] == [("user", "one"), ("assistant", "First."), ("user", "two")]


def test_piped_status_says_the_worst_reply(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("Half", finish_reason="length"))
    assert console_piped(env, tmp_path, "one\n").returncode == EXIT_UNFINISHED
    server.enqueue(ErrorReply(401), TextReply("Fine."))
    result = console_piped(env, tmp_path, "one\ntwo\n")
    assert result.returncode == EXIT_FAILED
    assert "Fine." in result.stdout


def test_the_conversation_is_the_apps_both_ways(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("Forty-two."))
    assert console_piped(env, tmp_path, "the answer?\n").returncode == EXIT_OK
    listed = subprocess.run(
        [sys.executable, "-m", "chat_tui", "--list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert "2 msgs  the answer?" in listed.stdout
    # Reopened in the app, as --continue does.
    path = tmp_path / "data" / "conversations.db"
    store = Store(path)
    latest = store.latest_id()
    store.close()

    async def reopen() -> list[tuple[str, str]]:
        app = saving_app(server, path, open_conversation=latest)
        async with app.run_test() as pilot:
            await pilot.pause()
            return [(m.role.value, m.content) for m in app.chat.conversation.messages]

    import asyncio

    assert asyncio.run(reopen()) == [("user", "the answer?"), ("assistant", "Forty-two.")]
    # And the other way round: the console carries on the last conversation.
    server.enqueue(TextReply("Still 42."))
    result = console_piped(env, tmp_path, "and now?\n", "--continue")
    assert result.returncode == EXIT_OK
    assert "Continuing conversation" in result.stderr
    assert result.stdout == "Still 42.\n"
    assert asked(server)[1:] == [
        ("user", "the answer?"),
        ("assistant", "Forty-two."),
        ("user", "and now?"),
    ]


def test_history_recalls_earlier_messages(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("Noted."))
    assert console_piped(env, tmp_path, "from an earlier session\n").returncode == EXIT_OK
    server.enqueue(TextReply("Again."))
    console = Terminal([], env, tmp_path)
    try:
        console.expect("User: ")
        console.type("\x1b[A")  # up: the last message sent, in any session
        console.expect("from an earlier session")
        console.type("\r")
        console.expect("Again.")
        console.send("")
        assert console.wait() == EXIT_OK
    finally:
        console.close()
    assert asked(server)[-1] == ("user", "from an earlier session")


def test_not_configured_sends_nothing(env: dict[str, str], tmp_path: Path) -> None:
    del env["OPENAI_MODEL"]
    result = console_piped(env, tmp_path, "hello\n")
    assert result.returncode == 2
    assert "chat-tui:" in result.stderr


# -- pieces -----------------------------------------------------------------------------------


def test_complete_blocks_never_split_a_block() -> None:
    assert complete_blocks("A paragraph still") == 0
    assert complete_blocks("One.\n\nTwo") == len("One.\n\n")
    code = "Intro.\n\n```python\n" + "x = 1\n" * 30
    assert complete_blocks(code) == len("Intro.\n\n")
    table = "Intro.\n\n| a | b |\n| - | - |\n" + "| 1 | 2 |\n" * 30
    assert complete_blocks(table) == len("Intro.\n\n")
    # The block's opening line again inside it (as code: it cannot close it) is not its start.
    nested = "Intro.\n\n```python\n" + "```python\nx = 1\n" * 10
    assert complete_blocks(nested) == len("Intro.\n\n")
    assert complete_blocks(nested + "```\n\nAfter.") == len(nested + "```\n\n")


def test_help_comes_from_the_command_registry() -> None:
    text = help_text()
    assert all(slash.usage in text for slash in SLASHES if slash.word != "copy")


def test_ctrl_c_while_waiting_for_the_first_token_is_not_a_traceback(
    server: FakeOpenAIServer, terminal: Terminal
) -> None:
    server.enqueue(TextReply("Late.", first_delay=10))
    terminal.send("hello")
    terminal.expect("Assistant: ")
    time.sleep(0.5)
    os.killpg(terminal.process.pid, signal.SIGINT)
    terminal.expect("Stopped")
    terminal.send("exit")
    assert terminal.wait() == EXIT_OK
    assert "Traceback" not in terminal.shown()


def test_profile_attach_and_effort_commands(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(PROFILES.format(url=server.base_url), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("the notes\n", encoding="utf-8")
    server.enqueue(TextReply("Read."), TextReply("Again."))
    console = Terminal(["--config", str(config)], env, tmp_path)
    try:
        console.send("/attach notes.txt")
        console.expect("Attached notes.txt to the next message.")
        console.send("/attach missing.txt")
        console.expect("cannot attach")
        console.send("read this")
        console.expect("Read.")
        console.send("/profile nowhere")
        console.expect("There is no profile 'nowhere'")
        console.send("/profile local")
        console.expect("Profile: local")
        console.send("/effort high")
        console.expect("Reasoning effort: high")
        console.send("and again")
        console.expect("Again.")
        console.send("")
        assert console.wait() == EXIT_OK
    finally:
        console.close()
    first, second = server.requests
    assert "the notes" in str(first.messages[1]["content"])
    assert first.model == "fake-model"
    assert second.model == "profile-model"
    assert second.body is not None
    assert second.body.get("reasoning_effort") == "high"
    # The conversation carries on with its own system prompt.
    assert second.messages[0]["content"] == DEFAULT_SYSTEM_PROMPT


def test_a_killed_console_loses_at_most_a_second_of_the_reply(
    server: FakeOpenAIServer, terminal: Terminal, tmp_path: Path
) -> None:
    server.enqueue(TextReply(["word "] * 400, delay=0.02))
    terminal.send("talk")
    terminal.expect("word " * 60)
    time.sleep(SAVE_EVERY + 0.5)
    terminal.process.kill()
    terminal.wait()
    (_, question, _), (role, content, _) = saved(tmp_path)
    assert (question, role) == ("talk", "assistant")
    assert content.startswith("word " * 50)


def test_continue_shows_the_last_exchange_literally(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    store = Store(tmp_path / "data" / "conversations.db")
    cid = store.create_conversation(f"title {HOSTILE}", "")
    store.add_message(cid, "user", f"asked {HOSTILE}", "complete")
    store.add_message(cid, "assistant", "", "failed")
    store.close()
    server.enqueue(TextReply("Now then."))
    console = Terminal(["--continue"], env, tmp_path)
    try:
        shown = console.expect("User: ", seconds=20)  # the last exchange, then the prompt
        shown += console.expect("User: ")
        console.type("go on\r")
        console.expect("Now then.")
        console.send("")
        assert console.wait() == EXIT_OK
    finally:
        console.close()
    assert f"Continuing conversation {cid}" in shown
    assert "Assistant: (failed)" in shown
    for hostile in ("\u202e", "\x07", "\x1b[31mred"):
        assert hostile not in shown
    # The failed reply's question is pending: it goes again with the next one (and the
    # conversation keeps its own system prompt: none).
    assert asked(server) == [("user", f"asked {HOSTILE}"), ("user", "go on")]


def test_the_samples_azure_variables_and_system_prompt(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("From Azure.", azure=True), TextReply("Again.", azure=True))
    del env["OPENAI_BASE_URL"], env["OPENAI_MODEL"]
    env |= {
        "AZURE_OPENAI_ENDPOINT": server.url,
        "AZURE_OPENAI_API_KEY": "azure-key",
        "AZURE_OPENAI_CHAT_DEPLOYMENT": "my-deployment",
    }
    result = console_piped(env, tmp_path, "hi\nmore\nexit\nnever sent\n")
    assert (result.returncode, result.stdout, result.stderr) == (
        EXIT_OK,
        "From Azure.\nAgain.\n",
        "",
    )
    assert len(server.requests) == 2
    request = server.last_request
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.headers["api-key"] == "azure-key"
    assert asked(server)[0] == ("system", DEFAULT_SYSTEM_PROMPT)


def test_help_documents_the_keys_and_exit_statuses() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chat_tui", "console", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for text in ("--render", "--continue", "--show-reasoning", "exit status:", "130", "ctrl+c"):
        assert text in result.stdout


def test_an_odd_byte_in_the_input_costs_nothing(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(TextReply("Fine."))
    result = subprocess.run(
        [sys.executable, "-m", "chat_tui", "console"],
        input=b"caf\xe9 au lait\n",
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_OK, b"Fine.\n", b"")
    assert asked(server)[-1] == ("user", "caf\ufffd au lait")


def test_compact_in_the_console(
    server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path
) -> None:
    server.enqueue(*(TextReply(f"A{n}.") for n in (1, 2, 3)), TextReply("S."), TextReply("A4."))
    script = "q1\nq2\n/compact\nq3\n/compact\nq4\n"
    result = console_piped(env, tmp_path, script)
    assert result.returncode == EXIT_OK, result.stderr
    assert "Too short to compact" in result.stderr  # two exchanges: both kept as they are
    assert "2 earlier messages summarised" in result.stderr
    assert server.requests[3].messages[1]["content"].startswith("User: q1\n\nAssistant: A1.")
    system, *rest = server.last_request.messages
    assert system["content"].endswith("<summary-of-earlier-turns>\nS.\n</summary-of-earlier-turns>")
    assert [m["content"] for m in rest] == ["q2", "A2.", "q3", "A3.", "q4"]
