"""Shared fixtures: an isolated environment, the local OpenAI-compatible server, app helpers."""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING

import pytest

from chat_tui.failures import log_path
from chat_tui.settings import Provider, Settings
from tests.openai_server import FakeOpenAIServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from textual.app import App
    from textual.widget import Widget

# Ours and the SDK's settings, and every variable azure-identity reads to find an identity.
_DROPPED_PREFIXES = ("AZURE_", "OPENAI_", "CHAT_TUI_", "IDENTITY_", "MSI_", "IMDS_")


@pytest.fixture(autouse=True)
def isolated_environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    """No test sees the developer's keys, endpoints, identity, .env file, config file or saved
    conversations; processes a test starts inherit the same environment.

    The app carries on after a bug, with a notice, and logs it: a test that meets one fails
    anyway, unless it is marked `injects_failures`.
    """
    for name in list(os.environ):
        if name.startswith(_DROPPED_PREFIXES):
            monkeypatch.delenv(name)
    # Should a test reach azure-identity's default chain by mistake, only the developer-tool
    # credentials are in it: the managed-identity probe would leave this machine.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    # No test finds the developer's own local server: a test of discovery names its port.
    monkeypatch.setenv("CHAT_TUI_DISCOVER", "0")
    # A home of the test's own: every per-user place (config, data, logs, caches, sign-ins)
    # lies inside it, whichever variable a library reads. Beside the test's folder, not in it:
    # tests look at what their folder holds.
    home = tmp_path_factory.mktemp("user-home")
    places = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
        "CHAT_TUI_CONFIG": home / ".config" / "chat-tui" / "config.toml",
        "CHAT_TUI_DATA_DIR": home / ".local" / "share" / "chat-tui",
    }
    for name, path in places.items():
        monkeypatch.setenv(name, str(path))
    monkeypatch.chdir(tmp_path)
    errors = log_path()  # in the test's home
    yield
    if errors.exists() and request.node.get_closest_marker("injects_failures") is None:
        pytest.fail(f"the app met an unexpected failure; from {errors}:\n{errors.read_text()}")


@pytest.fixture(scope="session")
def _session_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def server(_session_server: FakeOpenAIServer) -> FakeOpenAIServer:
    """The local server, with no scripted replies or recorded requests left from other tests."""
    _session_server.reset()
    # Every rule a test may have changed (a key required, the models listed, what a model
    # rejects…) back to how a new server starts.
    fresh = FakeOpenAIServer()
    for name in _SERVER_RULES:
        setattr(_session_server, name, copy.deepcopy(getattr(fresh, name)))
    return _session_server


_SERVER_RULES = (
    "require_key",
    "models",
    "responses_enabled",
    "responses_only",
    "reasoning_models",
    "reasoning_prefixes",
    "rejects",
    "reasoning_efforts",
)


def compatible_settings(server: FakeOpenAIServer, **changes: object) -> Settings:
    settings = Settings(
        provider=Provider.COMPATIBLE, endpoint=server.base_url, model="fake-model", read_timeout=3
    )
    return settings.with_changes(**changes)


def azure_settings(server: FakeOpenAIServer, **changes: object) -> Settings:
    settings = Settings(
        provider=Provider.AZURE,
        endpoint=server.url,
        model="my-deployment",
        api_key="azure-key",
        api_version="2024-10-21",
        read_timeout=3,
    )
    return settings.with_changes(**changes)


def screen_text(app: App[object], widget: Widget | None = None) -> str:
    """The screen as the user sees it, as plain text lines; only `widget`'s part if given."""
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    if widget is None:
        return "\n".join(lines)
    region = widget.content_region
    return "\n".join(line[region.x : region.right] for line in lines[region.y : region.bottom])


def notice_texts(app: App[object]) -> list[str]:
    """The transcript's notices, each as its own text: not as wrapped inside its border, where
    the line breaks depend on the length of a path in it."""
    from chat_tui.tui.widgets.messages import Notice

    return [str(notice.render()) for notice in app.query(Notice)]
