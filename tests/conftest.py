"""Shared fixtures: an isolated environment, the local OpenAI-compatible server, app helpers."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

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
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's keys, endpoints, identity or .env file."""
    for name in list(os.environ):
        if name.startswith(_DROPPED_PREFIXES):
            monkeypatch.delenv(name)
    # Should a test reach azure-identity's default chain by mistake, only the developer-tool
    # credentials are in it: the managed-identity probe would leave this machine.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def _session_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def server(_session_server: FakeOpenAIServer) -> FakeOpenAIServer:
    """The local server, with no scripted replies or recorded requests left from other tests."""
    _session_server.reset()
    _session_server.require_key = None
    return _session_server


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
    from chat_tui.widgets.messages import Notice

    return [str(notice.render()) for notice in app.query(Notice)]
