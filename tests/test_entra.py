"""Microsoft Entra ID sign-in through the real azure-identity code, offline.

azure-identity refuses a plain-http authority, but two of DefaultAzureCredential's credentials
work on loopback: the App Service managed identity (a token endpoint this file starts) and the
Azure CLI (a stub `az` on PATH). HOME and PATH are the tests' own, and conftest drops every
identity variable, so a developer's `az login` or environment never takes part.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from textual.widgets import TextArea

from chat_tui.client import ChatClient
from chat_tui.entra import CREDENTIAL_NAMES, short_reason
from chat_tui.events import ReplyFailed, ReplyFinished
from chat_tui.settings import Auth, Provider, Settings
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.details import DetailsScreen
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import azure_settings, screen_text
from tests.identity_endpoint import IdentityEndpoint, stub_az
from tests.openai_server import TextReply
from tests.test_app import chat, send, wait_for
from tests.test_app_settings import sidebar_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from chat_tui.events import StreamEvent
    from tests.openai_server import FakeOpenAIServer

SIZE = (120, 50)
MI_TOKEN = "token-from-managed-identity"
CLI_TOKEN = "token-from-azure-cli"
HOSTILE = "evil\x1b]52;c;aGk=\x07\x1b[2J[bold]x[/]\u202etxt.exe"


@pytest.fixture
def tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A HOME with no sign-in in it, and a PATH of one empty folder (where a stub az may go)."""
    home, tools = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    tools.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", str(tools))
    return tools


@pytest.fixture
def managed_identity(monkeypatch: pytest.MonkeyPatch, tools: Path) -> Iterator[IdentityEndpoint]:
    """Running "in App Service": DefaultAzureCredential's whole default chain, as shipped."""
    with IdentityEndpoint(MI_TOKEN) as endpoint:
        monkeypatch.delenv("AZURE_TOKEN_CREDENTIALS")
        for name, value in endpoint.environment().items():
            monkeypatch.setenv(name, value)
        yield endpoint


def entra(server: FakeOpenAIServer, **changes: object) -> Settings:
    return azure_settings(server, auth=Auth.ENTRA, api_key="", **changes)


async def collect(client: ChatClient, settings: Settings) -> list[StreamEvent]:
    events = [event async for event in client.stream(settings, [{"role": "user", "content": "hi"}])]
    return events


# -- the core ---------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [Provider.AZURE, Provider.AZURE_V1])
async def test_a_managed_identity_token_reaches_the_server(
    server: FakeOpenAIServer, managed_identity: IdentityEndpoint, provider: Provider
) -> None:
    client = ChatClient()
    settings = entra(server, provider=provider)
    try:
        first = await collect(client, settings)
        second = await collect(client, settings)
    finally:
        await client.close()
    assert isinstance(first[-1], ReplyFinished)
    assert isinstance(second[-1], ReplyFinished)
    for request in server.requests:
        assert request.headers["authorization"] == f"Bearer {MI_TOKEN}"
        assert "api-key" not in request.headers
    assert [r.kind for r in server.requests] == [provider.value] * 2
    # Asked once, for Azure OpenAI's resource, with App Service's header; then kept.
    assert len(managed_identity.requests) == 1
    asked = managed_identity.requests[0]
    assert asked["query"]["resource"] == "https://cognitiveservices.azure.com"
    assert asked["header"] == "test-identity-header"


async def test_the_token_scope_is_a_setting(
    server: FakeOpenAIServer, managed_identity: IdentityEndpoint
) -> None:
    client = ChatClient()
    try:
        await collect(client, entra(server))
        events = await collect(client, entra(server, entra_scope="https://ai.azure.com/.default"))
    finally:
        await client.close()
    assert isinstance(events[-1], ReplyFinished)
    # A new scope is a new token: asked again, for the other resource.
    asked = [request["query"]["resource"] for request in managed_identity.requests]
    assert asked == ["https://cognitiveservices.azure.com", "https://ai.azure.com"]


async def test_the_azure_cli_signs_in_and_the_check_names_it(
    server: FakeOpenAIServer, tools: Path
) -> None:
    stub_az(tools, CLI_TOKEN)
    client = ChatClient()
    try:
        result = await client.check(entra(server))
    finally:
        await client.close()
    assert result.ok, str(result)
    assert "Signed in with Entra ID through Azure CLI." in result.detail
    assert CLI_TOKEN not in str(result)
    assert server.last_request.headers["authorization"] == f"Bearer {CLI_TOKEN}"


async def test_without_a_credential_the_failure_is_one_line_each(
    server: FakeOpenAIServer, tools: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    client = ChatClient()
    try:
        events = await collect(client, entra(server))
    finally:
        await client.close()
    failed = events[-1]
    assert isinstance(failed, ReplyFailed)
    error = failed.error
    assert error.title == "Entra ID sign-in failed"
    first, *tried = error.detail.splitlines()
    assert first == "No credential gave a token:"
    assert "  Azure CLI: Azure CLI not found on path." in tried
    assert "  Azure PowerShell: PowerShell is not installed." in tried
    assert len(tried) <= len(CREDENTIAL_NAMES)
    for line in tried:
        name, _, reason = line.strip().partition(": ")
        assert name in CREDENTIAL_NAMES.values()
        assert reason.endswith((".", "…"))
        assert len(reason) <= 160
    assert "az login" in error.hint
    assert "Missing" not in str(error)
    # azure-identity's own report stays whole, for the details view.
    assert "DefaultAzureCredential failed to retrieve a token" in error.more
    assert server.requests == []
    # Nothing from azure-identity's logger reached the terminal.
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            "EnvironmentCredential authentication unavailable. Environment variables are not "
            "fully configured.\nVisit https://aka.ms/azsdk/python/identity/environmentcredential",
            "Environment variables are not fully configured.",
        ),
        ("Azure CLI not found on path", "Azure CLI not found on path."),
        (
            "VisualStudioCodeCredential requires the 'azure-identity-broker' package to be "
            "installed. You must also ensure you have the Azure Resources extension installed.",
            "Requires the 'azure-identity-broker' package to be installed.",
        ),
        ("", "Unavailable."),
        ("x" * 500, "X" + "x" * 158 + "…"),
    ],
    ids=["class-prefix", "bare", "first-sentence", "empty", "long"],
)
def test_a_credential_error_becomes_one_short_line(message: str, reason: str) -> None:
    assert short_reason(message) == reason


# -- the app ----------------------------------------------------------------------------------


async def test_the_app_signs_in_and_test_connection_names_the_credential(
    server: FakeOpenAIServer, managed_identity: IdentityEndpoint
) -> None:
    app = ChatApp(entra(server), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        server.enqueue(TextReply("Signed in and answering."))
        await chat(pilot, "hello")
        assert "Signed in and answering." in screen_text(app)
        assert server.last_request.headers["authorization"] == f"Bearer {MI_TOKEN}"
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "Connected" in sidebar_text(app))
        assert "Signed in with Entra ID through Managed identity" in sidebar_text(app)
        assert MI_TOKEN not in screen_text(app)


async def test_a_failed_sign_in_is_short_and_its_whole_text_is_a_key_away(
    server: FakeOpenAIServer, tools: Path
) -> None:
    app = ChatApp(entra(server), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        reply = app.query_one(AssistantMessage)
        await wait_for(pilot, lambda: reply.error is not None)
        await pilot.pause()
        shown = screen_text(app, reply)
        assert "Entra ID sign-in failed" in shown
        assert "Azure CLI: Azure CLI not found on path." in shown
        assert "d shows the details" in shown
        assert "Missing" not in shown
        assert len(shown.splitlines()) < 20
        await pilot.press("shift+tab")
        assert app.query_one(Transcript).has_focus
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        text = app.screen.query_one(TextArea).text
        assert "DefaultAzureCredential failed to retrieve a token" in text
        assert "Azure CLI:\nAzure CLI not found on path" in text
        assert "_Recorded" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DetailsScreen))
        assert server.requests == []


async def test_the_details_view_shows_hostile_text_literally() -> None:
    app = ChatApp(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(DetailsScreen(HOSTILE, HOSTILE))
        await pilot.pause()
        text = app.screen.query_one(TextArea).text
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "␛]52;c;aGk=␇" in text
        shown = screen_text(app)
        assert shown.count("[bold]x[/]") == 2  # in the title and in the text


# -- `chat-tui ask` ---------------------------------------------------------------------------


def ask(server: FakeOpenAIServer, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AZURE_OPENAI_ENDPOINT": server.url,
        "AZURE_OPENAI_CHAT_DEPLOYMENT": "my-deployment",
        "CHAT_TUI_AUTH": "entra",
        "CHAT_TUI_CONFIG": str(tmp_path / "no-config.toml"),
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", "ask", "hello"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_ask_signs_in_with_the_managed_identity(
    server: FakeOpenAIServer, managed_identity: IdentityEndpoint, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Hello from Azure."))
    result = ask(server, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello from Azure.\n", "")
    assert server.last_request.headers["authorization"] == f"Bearer {MI_TOKEN}"
    assert server.last_request.kind == "azure"


def test_ask_without_a_credential_says_so_briefly(
    server: FakeOpenAIServer, tools: Path, tmp_path: Path
) -> None:
    result = ask(server, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "chat-tui: Entra ID sign-in failed."
    assert "  Azure CLI: Azure CLI not found on path." in lines
    assert "az login" in lines[-1]
    assert len(lines) <= len(CREDENTIAL_NAMES) + 3
    assert "DefaultAzureCredential" not in result.stderr  # no logger output, no report
    assert "Traceback" not in result.stderr
    assert server.requests == []
