"""The test suite itself: it never reaches the user's own files, fails a test that hangs, and
keeps the code linted."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chat_tui.store import Store

REPO = Path(__file__).resolve().parents[1]
CANARY = "canary-7f3a"

# Runs under this suite's conftest, in an environment whose home holds a canary config file and
# a canary conversation; nothing a test does may see them.
CANARY_TEST = textwrap.dedent(
    f"""
    import subprocess
    import sys

    from chat_tui.tui.app import ChatApp
    from chat_tui.config_file import config_path, load_config
    from chat_tui.settings import Settings


    def chat_tui(*args):
        return subprocess.run(
            [sys.executable, "-m", "chat_tui", *args],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
        )


    def test_the_users_own_files_are_out_of_reach(tmp_path):
        assert {CANARY!r} not in load_config(config_path()).profiles
        app = ChatApp(Settings())
        # In the test run's own temporary folder (the test's home lies beside its folder).
        assert app.config.path.is_relative_to(tmp_path.parent)
        shown = chat_tui("--print-config")
        assert shown.returncode == 0, shown.stderr
        assert {CANARY!r} not in shown.stdout + shown.stderr
        listed = chat_tui("--list")
        assert listed.returncode == 0, listed.stderr
        assert {CANARY!r} not in listed.stdout
    """
)


def plant_canaries(home: Path) -> dict[str, Path]:
    """A user's home as a developer's machine has it: a config file and a saved conversation,
    where the platform keeps them and where the variables point. Returns those variables."""
    config = f'default_profile = "{CANARY}"\n[profiles.{CANARY}]\nmodel = "{CANARY}-model"\n'
    places = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
        "CHAT_TUI_CONFIG": home / "my-config.toml",
        "CHAT_TUI_DATA_DIR": home / "my-chats",
    }
    for config_file in (
        places["XDG_CONFIG_HOME"] / "chat-tui" / "config.toml",
        places["CHAT_TUI_CONFIG"],
    ):
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(config)
    for data_dir in (places["XDG_DATA_HOME"] / "chat-tui", places["CHAT_TUI_DATA_DIR"]):
        store = Store(data_dir / "conversations.db")
        store.create_conversation(f"{CANARY} chat", "")
        store.close()
    return places


def run_under_this_conftest(
    tmp_path: Path, source: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """pytest on one test file of `source`, with this suite's conftest, in a process of its own."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_inner.py").write_text(source)
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"),
            *("-p", "tests.conftest", "--rootdir", str(suite), str(suite / "test_inner.py")),
        ],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("with_variables", [False, True], ids=["platform-dirs", "variables"])
def test_no_test_reads_the_users_config_or_conversations(
    tmp_path: Path, with_variables: bool
) -> None:
    places = plant_canaries(tmp_path / "developer-home")
    if not with_variables:
        del places["CHAT_TUI_CONFIG"], places["CHAT_TUI_DATA_DIR"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("CHAT_TUI_")}
    env |= {name: str(path) for name, path in places.items()}
    result = run_under_this_conftest(tmp_path, CANARY_TEST, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


# The app carries on after a bug with no more than a notice; the suite must not.
SWALLOWED_BUG_TEST = textwrap.dedent(
    """
    from chat_tui.tui.app import ChatApp
    from chat_tui.settings import Settings


    class Buggy(ChatApp):
        def action_help(self):
            raise RuntimeError("a bug the app survives")


    async def test_that_never_looks_at_the_notices():
        app = Buggy(Settings())
        async with app.run_test() as pilot:
            await pilot.press("f1")
            await pilot.pause()
    """
)


def test_a_bug_the_app_survives_still_fails_the_test(tmp_path: Path) -> None:
    result = run_under_this_conftest(tmp_path, SWALLOWED_BUG_TEST)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert "the app met an unexpected failure" in result.stdout
    assert "RuntimeError: a bug the app survives" in result.stdout


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=["ruff-check", "ruff-format"]
)
def test_the_code_is_linted_and_formatted(command: list[str]) -> None:
    """So the one test command (as CI runs it) also keeps the code clean."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "--no-cache", "chat_tui", "tests"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_test_has_a_time_limit(request: pytest.FixtureRequest) -> None:
    # Set in pyproject.toml for pytest-timeout: a hung test fails, and the run goes on.
    assert float(request.config.getini("timeout")) > 0
