"""Profiles, saving, testing the connection and signing in, from inside the app."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

from textual.widgets import Input, Select

from chat_tui.app import ChatApp
from chat_tui.client import ChatClient
from chat_tui.config_file import load_config
from chat_tui.settings import Auth
from chat_tui.settings_sources import Flags, load_settings
from chat_tui.widgets.settings_panel import SettingsPanel
from tests.conftest import azure_settings, compatible_settings, notice_texts, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import SIZE, chat, run_from_palette, wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer


def profiles_app(server: FakeOpenAIServer, tmp_path: Path, extra: str = "") -> ChatApp:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""# two ways to reach the same test server
default_profile = "local"

[profiles.local]
endpoint = "{server.base_url}"
model = "fake-model"

[profiles.azure]
provider = "azure"
endpoint = "{server.url}"
deployment = "prod-deployment"
api_key = "azure-key"
{extra}"""
    )
    config = load_config(path)
    resolved = load_settings(Flags(), config, cwd=tmp_path, environ={})
    return ChatApp(resolved, config=config, client=ChatClient())


def sidebar_text(app: ChatApp) -> str:
    return " ".join(screen_text(app, app.query_one(SettingsPanel)).split())


async def test_switching_profile_mid_conversation_keeps_it(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("From local."), TextReply("From Azure."))
    app = profiles_app(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first")
        assert server.last_request.kind == "openai"
        app.query_one("#profile", Select).value = "azure"
        await wait_for(pilot, lambda: app.settings.model == "prod-deployment")
        assert app.query_one("#model", Input).value == "prod-deployment"
        assert str(app.query_one("#model-label").render()) == "Deployment"
        await chat(pilot, "second")
        request = server.last_request
        assert (request.kind, request.deployment) == ("azure", "prod-deployment")
        assert request.headers["api-key"] == "azure-key"
        assert [m["content"] for m in request.messages[1:]] == ["first", "From local.", "second"]
        assert "From local." in screen_text(app)


async def test_profiles_are_in_the_palette(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = profiles_app(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await run_from_palette(pilot, "use profile azure", "Use profile azure")
        await wait_for(pilot, lambda: app.resolved.profile == "azure")
        assert app.settings.provider.value == "azure"


async def test_save_keeps_the_file_and_the_key_out_unless_asked(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = profiles_app(server, tmp_path, extra="# keep this comment\n")
    path = tmp_path / "config.toml"
    async with app.run_test(size=SIZE) as pilot:
        model = app.query_one("#model", Input)
        model.focus()
        await pilot.pause()
        await pilot.press(*"saved-model")
        app.query_one("#api_key", Input).value = "sk-typed-key"
        await pilot.click("#save")
        await wait_for(pilot, lambda: "saved-model" in path.read_text())
        text = path.read_text()
        assert "# keep this comment" in text
        assert "sk-typed-key" not in text
        assert 'api_key = "azure-key"' in text  # the other profile is untouched
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_config(path).profiles["local"]["model"] == "saved-model"
        await pilot.click("#save-key")
        await pilot.click("#save")
        await wait_for(pilot, lambda: "sk-typed-key" in path.read_text())


async def test_test_connection_reports_and_lists_models(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = profiles_app(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "Connected" in sidebar_text(app))
        assert "fake-model answered from fake-model @ 127.0.0.1" in sidebar_text(app)
        models = app.query_one("#model-list", Select)
        await wait_for(pilot, lambda: models.display)
        models.value = "fake-model-mini"
        await wait_for(pilot, lambda: app.settings.model == "fake-model-mini")
        server.enqueue(ErrorReply(401))
        await pilot.click("#test")
        await wait_for(pilot, lambda: "Key rejected" in sidebar_text(app))


async def test_config_problems_are_shown_at_start(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("default_profile = \n")
    config = load_config(path)
    resolved = load_settings(Flags(), config, cwd=tmp_path, environ={})
    app = ChatApp(resolved, config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        [text] = [n for n in notice_texts(app) if n.startswith("Some settings could not be used")]
        assert f"{path}: " in text
        assert "line 1" in text


async def fake_token() -> str:
    return "token-from-entra"


async def test_entra_sign_in_chosen_in_the_sidebar(server: FakeOpenAIServer) -> None:
    app = ChatApp(azure_settings(server), client=ChatClient(token_provider=fake_token))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#auth", Select).value = Auth.ENTRA
        await wait_for(pilot, lambda: app.settings.auth is Auth.ENTRA)
        assert not app.query_one("#api_key").display
        await chat(pilot, "hello")
        assert server.last_request.headers["authorization"] == "Bearer token-from-entra"


async def test_invalid_field_is_named_in_the_status(server: FakeOpenAIServer) -> None:
    app = ChatApp(compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await type_over(pilot, "endpoint", "ftp://nowhere")
        text = sidebar_text(app)
        assert "Endpoint is not applied until it is valid." in text
        assert "Ready" not in text
        assert app.settings.endpoint == server.base_url


async def type_over(pilot: Pilot[None], widget_id: str, text: str) -> None:
    field = pilot.app.query_one(f"#{widget_id}", Input)
    field.focus()
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause()


async def test_control_characters_in_settings_are_shown_literally(
    server: FakeOpenAIServer,
) -> None:
    app = ChatApp(compatible_settings(server, model="fake\x1b[41mRED\x1b]0;PWNED\x07"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "\x1b" not in app.sub_title
        assert "fake␛[41mRED␛]0;PWNED␇" in app.sub_title
        assert "\x1b" not in app.query_one("#model", Input).value
        assert "\x1b" not in screen_text(app)


async def test_a_server_url_alone_is_enough_to_get_connected(server: FakeOpenAIServer) -> None:
    # A new user with only a local server's URL: the models it offers are listed at start.
    app = ChatApp(compatible_settings(server, model=""), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        models = app.query_one("#model-list", Select)
        await wait_for(pilot, lambda: models.display)
        models.value = "fake-model-mini"
        await wait_for(pilot, lambda: app.settings.model == "fake-model-mini")
        await chat(pilot, "hello")
        assert server.last_request.body is not None
        assert server.last_request.body["model"] == "fake-model-mini"
