"""Profiles, saving, testing the connection and signing in, from inside the app."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input, Select, Static, TextArea
from textual.widgets._toast import Toast

from chat_tui.client import ChatClient
from chat_tui.config_file import load_config
from chat_tui.settings import Auth
from chat_tui.settings_sources import Flags, load_settings
from chat_tui.tui.app import ChatApp
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.transcript import Transcript
from tests.conftest import azure_settings, compatible_settings, notice_texts, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, run_from_palette, send, settled, wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.openai_server import FakeOpenAIServer, RecordedRequest


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
        await wait_for(pilot, lambda: app.chat.settings.model == "prod-deployment")
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
        await wait_for(pilot, lambda: app.chat.resolved.profile == "azure")
        assert app.chat.settings.provider.value == "azure"


async def test_a_profile_chosen_in_the_palette_is_applied_once(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The sidebar's profile list follows the switch; that must not switch a second time.
    app = profiles_app(server, tmp_path, extra="temperature = 5\n")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.chat.use_profile("azure")  # what "Use profile azure" in the palette runs
        await pilot.pause(0.3)
        assert toasts(app).count("Using profile azure") == 1
        assert transcript_text(app).count("Profile azure has problems") == 1
        assert app.query_one("#profile", Select).value == "azure"


async def test_a_profile_that_sets_a_system_prompt_applies_it(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Aye."))
    app = profiles_app(server, tmp_path, extra='system_prompt = "Talk like a pirate."\n')
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.chat.use_profile("azure")
        await wait_for(
            pilot, lambda: app.query_one("#system-prompt", TextArea).text == "Talk like a pirate."
        )
        await chat(pilot, "hello")
        assert server.last_request.messages[0] == {
            "role": "system",
            "content": "Talk like a pirate.",
        }
        assert toasts(app).count("Using profile azure") == 1


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
        await wait_for(pilot, lambda: app.chat.settings.model == "fake-model-mini")
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
        await wait_for(pilot, lambda: app.chat.settings.auth is Auth.ENTRA)
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
        assert app.chat.settings.endpoint == server.base_url


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
        await wait_for(pilot, lambda: app.chat.settings.model == "fake-model-mini")
        await chat(pilot, "hello")
        assert server.last_request.body is not None
        assert server.last_request.body["model"] == "fake-model-mini"


def toasts(app: ChatApp) -> str:
    """The notifications on screen (run_test(notifications=True)), as one line of words."""
    return " ".join(" ".join(screen_text(app, toast).split()) for toast in app.query(Toast))


def transcript_text(app: ChatApp) -> str:
    return " ".join(screen_text(app, app.query_one(Transcript)).replace("│", " ").split())


async def test_a_port_out_of_range_typed_in_the_sidebar_is_not_applied(
    server: FakeOpenAIServer,
) -> None:
    app = ChatApp(compatible_settings(server), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#endpoint", Input)
        field.value = "http://127.0.0.1:8200"
        await wait_for(pilot, lambda: app.chat.settings.endpoint == "http://127.0.0.1:8200")
        field.focus()
        await pilot.press("end", "0")  # the fifth digit: port 82000
        await pilot.pause()
        assert app.is_running
        assert field.value == "http://127.0.0.1:82000"
        assert app.chat.settings.endpoint == "http://127.0.0.1:8200"
        text = sidebar_text(app)
        assert "the port must be a number from 1 to 65535, not 82000" in text
        assert "Endpoint is not applied until it is valid." in text
        app.chat.action_focus_prompt()
        await type_over(pilot, "endpoint", server.base_url)  # focusing selects it all
        await pilot.press("enter")  # done with it: applied
        await wait_for(pilot, lambda: app.chat.settings.endpoint == server.base_url)
        await chat(pilot, "hello")
        assert server.last_request.messages[-1]["content"] == "hello"


async def test_a_bad_endpoint_at_start_is_named_and_nothing_is_sent(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    environ = {"OPENAI_BASE_URL": "http://127.0.0.1:82000/v1", "OPENAI_MODEL": "fake-model"}
    config = load_config(tmp_path / "none.toml")
    resolved = load_settings(Flags(), config, cwd=tmp_path, environ=environ)
    app = ChatApp(resolved, config=config, client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = transcript_text(app)
        assert "Some settings could not be used" in text
        assert "environment: OPENAI_BASE_URL: Endpoint http://127.0.0.1:82000/v1 cannot" in text
        assert text.count("not 82000") == 1  # told once, with its source
        assert "127.0.0.1:82000" in app.sub_title
        await chat(pilot, "hello")
        assert "Nothing is sent until Endpoint is fixed" in transcript_text(app)
        assert server.requests == []


async def test_a_profile_with_a_bad_endpoint_does_not_borrow_another_one(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    # Old behaviour: the bad endpoint was skipped, and the environment's server got the
    # profile's key. Now nothing is sent until the endpoint is fixed.
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.broken]\nprovider = "compatible"\nendpoint = "http://[::1"\n'
        'model = "fake-model"\napi_key = "profile-secret-key"\n'
    )
    config = load_config(path)
    environ = {"OPENAI_BASE_URL": server.base_url, "OPENAI_MODEL": "fake-model"}
    resolved = load_settings(Flags(), config, cwd=tmp_path, environ=environ)
    app = ChatApp(resolved, config=config, client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#profile", Select).value = "broken"
        await wait_for(pilot, lambda: app.chat.resolved.profile == "broken")
        await pilot.pause()
        assert "Profile broken has problems" in transcript_text(app)
        await chat(pilot, "hello")
        assert server.requests == []
        assert app.chat.settings.endpoint == "http://[::1"


async def test_the_key_a_server_echoes_is_masked(server: FakeOpenAIServer) -> None:
    key = "sk-live-0123456789abcdef"
    hostile = "\x1b]52;c;c2VjcmV0\x07\x1b]0;pwned\x07\x1b[2A[bold]x[/bold]\u202e"
    body = {"error": {"message": f"Incorrect API key provided: {key}. {hostile}", "code": "x"}}
    server.enqueue(ErrorReply(401, body), ErrorReply(500, f"upstream said {key}"))
    app = ChatApp(compatible_settings(server, api_key=key), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        assert server.last_request.api_key == key
        error = app.query_one(AssistantMessage).error
        assert error is not None
        fields = (error.title, error.detail, error.hint, error.more)
        assert not any(key in field or "\x1b" in field for field in fields)
        text = transcript_text(app)
        assert "Key rejected" in text
        assert "Incorrect API key provided: ••••••••cdef." in text
        assert "␛]52;c;c2VjcmV0␇␛]0;pwned␇␛[2A[bold]x[/bold]‹U+202E›" in text
        assert key not in text
        await pilot.press("ctrl+t")  # the connection test reports the same way
        await wait_for(pilot, lambda: "Server error 500" in sidebar_text(app))
        assert "upstream said ••••••••cdef" in sidebar_text(app)
        assert key not in screen_text(app)


async def test_save_with_a_malformed_config_file_loses_nothing(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    original = "# my settings\ndefault_profile = [\n[profiles.local]\nmodel = 'x'\n"
    path.write_text(original)
    config = load_config(path)
    app = ChatApp(compatible_settings(server), config=config, client=ChatClient())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_over(pilot, "model", "fake-model-typed")
        await pilot.press("enter")
        assert app.chat.settings.model == "fake-model-typed"
        await pilot.click("#save")
        await wait_for(pilot, lambda: "Could not save" in toasts(app))
        assert "not valid TOML" in toasts(app)
        assert "nothing was written" in toasts(app)
        await app.chat.run_action("save_settings(True)")  # the palette's "with the API key"
        await pilot.pause()
        assert app.is_running
        assert path.read_text() == original
        assert app.chat.settings.model == "fake-model-typed"
        assert app.query_one("#model", Input).value == "fake-model-typed"
        await chat(pilot, "still here")
        assert server.last_request.body is not None
        assert server.last_request.body["model"] == "fake-model-typed"


async def test_save_without_the_key_says_a_saved_key_stays_in_the_file(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    app = profiles_app(server, tmp_path)
    path = tmp_path / "config.toml"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.chat.use_profile("azure")
        app.clear_notifications()
        await type_over(pilot, "model", "prod-deployment-v2")
        await pilot.click("#save")
        await wait_for(pilot, lambda: "Saved profile azure" in toasts(app))
        assert "The API key saved in this profile before is still in the file" in toasts(app)
        assert load_config(path).profiles["azure"]["api_key"] == "azure-key"
        assert load_config(path).profiles["azure"]["model"] == "prod-deployment-v2"
        # As the message says: an empty key saved with the key removes it.
        app.clear_notifications()
        app.query_one("#api_key", Input).value = ""
        await wait_for(pilot, lambda: app.chat.settings.api_key == "")
        await pilot.click("#save-key")
        await pilot.click("#save")
        removed = "with no API key: any saved before is removed"
        await wait_for(pilot, lambda: removed in toasts(app))
        assert "api_key" not in load_config(path).profiles["azure"]
        assert "still in the file" not in toasts(app)


async def test_the_sidebar_says_how_the_last_test_or_request_went(
    server: FakeOpenAIServer,
) -> None:
    server.require_key = "sk-right"
    app = ChatApp(compatible_settings(server, api_key="sk-wrong"), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        assert "Ready: fake-model" in sidebar_text(app)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "✖ Key rejected" in sidebar_text(app))
        assert "Ready" not in sidebar_text(app)  # it stays said, not only in a toast
        app.query_one("#api_key", Input).value = "sk-right"  # new settings: not tested yet
        await wait_for(pilot, lambda: "Ready: fake-model" in sidebar_text(app))
        await chat(pilot, "hello")
        await wait_for(pilot, lambda: "✔ fake-model answered the last request" in sidebar_text(app))
        app.query_one("#api_key", Input).value = "sk-wrong-again"
        await chat(pilot, "and again")
        await wait_for(pilot, lambda: "✖ Key rejected (the last request)" in sidebar_text(app))


# -- a field applies once the user is done with it -----------------------------------------


def note(app: ChatApp, name: str) -> str:
    """The note under a sidebar field, as one line of words ("" when none is shown)."""
    shown = app.query_one(f"#{name}-note", Static)
    return " ".join(str(shown.render()).split()) if shown.display else ""


async def test_emptying_a_field_on_the_way_to_a_new_value_keeps_the_old_one(
    server: FakeOpenAIServer,
) -> None:
    # The reported defect: the emptied field applied "server default" at once, while typing
    # "." next said "not applied". A message queued meanwhile goes with what is still in use.
    server.enqueue(TextReply("Thinking", stall_after=1), TextReply("Queued answer."))
    settings = compatible_settings(server, temperature=0.7, max_tokens=256, read_timeout=2)
    app = ChatApp(settings, client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await wait_for(pilot, lambda: app.chat.is_streaming)
        await pilot.press(*"second", "enter")
        await wait_for(pilot, lambda: app.chat.queued == "second")

        field = app.query_one("#temperature", Input)
        field.focus()  # which selects its text
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        assert field.value == ""
        assert app.chat.settings.temperature == 0.7
        assert note(app, "temperature") == (
            "Not applied yet: Enter applies the server's default · still using 0.7."
        )
        await pilot.press(".")
        await pilot.pause()
        assert app.chat.settings.temperature == 0.7
        assert note(app, "temperature") == (
            "Temperature must be a number from 0 to 2, not '.'. Not applied · still using 0.7."
        )
        assert "Temperature is not applied until it is valid." in sidebar_text(app)
        assert app.chat.queued == "second"  # still waiting for the stalled reply

        # The stalled reply ends; the queued message goes while the field is still being typed.
        await wait_for(pilot, lambda: asking(server, "second") is not None)
        queued = asking(server, "second")
        assert queued is not None
        assert queued.body is not None
        assert queued.body["temperature"] == 0.7
        assert queued.body["max_tokens"] == 256
        assert app.focused is field
        await wait_for(pilot, lambda: settled(app))

        await pilot.press("9")
        await pilot.pause()
        assert app.chat.settings.temperature == 0.7
        assert note(app, "temperature") == "Not applied yet: Enter applies 0.9 · still using 0.7."
        await pilot.press("enter")  # done: applied, and the note has nothing more to say
        assert app.chat.settings.temperature == 0.9
        assert note(app, "temperature") == ""

        # Emptied on purpose: leaving the field applies what empty means (no limit).
        max_tokens = app.query_one("#max_tokens", Input)
        max_tokens.focus()
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        assert app.chat.settings.max_tokens == 256
        assert (
            note(app, "max_tokens") == "Not applied yet: Enter applies no limit · still using 256."
        )
        await chat(pilot, "third")  # the message box takes the focus: the field is left
        assert app.chat.settings.max_tokens is None
        body = server.last_request.body
        assert body is not None
        assert body["temperature"] == 0.9
        assert "max_tokens" not in body


def asking(server: FakeOpenAIServer, text: str) -> RecordedRequest | None:
    """The request that sent the user's message `text` last, if one has arrived."""
    return next((r for r in list(server.requests) if r.messages[-1]["content"] == text), None)


# Each field: a text on its way to a new value (valid or not), the rest, and the value when done.
FIELD_EDITS = [
    ("endpoint", "http://l", "ocalhost:1/v1", "http://localhost:1/v1"),
    ("model", "other", "-model", "other-model"),
    ("api_key", "sk-new", "-key", "sk-new-key"),
    ("temperature", "1.", "5", 1.5),
    ("max_tokens", "1", "00", 100),
    ("context_window", "12", "000", 12_000),  # under 1,000 on the way: not applied
    ("compact_at", "9", "0", 90),
    ("read_timeout", "", "30", 30.0),
]


@pytest.mark.parametrize(("name", "on_the_way", "rest", "done"), FIELD_EDITS)
async def test_every_field_applies_only_when_the_user_is_done_with_it(
    server: FakeOpenAIServer, name: str, on_the_way: str, rest: str, done: object
) -> None:
    settings = compatible_settings(server, api_key="sk-old-key", temperature=0.3, max_tokens=9)
    app = ChatApp(settings, client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        before = getattr(app.chat.settings, name)
        field = app.query_one(f"#{name}", Input)
        field.focus()  # which selects its text: the first key replaces it
        await pilot.pause()
        await pilot.press("backspace", *on_the_way)
        await pilot.pause()
        assert field.value == on_the_way
        # Half an endpoint, a model or a key would send the conversation (and the key) elsewhere.
        assert getattr(app.chat.settings, name) == before
        assert "still using" in note(app, name)
        await pilot.press(*rest, "enter")
        assert field.value == on_the_way + rest
        assert getattr(app.chat.settings, name) == done
        assert note(app, name) == ""


async def test_the_api_version_and_the_system_prompt_wait_too(server: FakeOpenAIServer) -> None:
    server.enqueue(TextReply("Arr."))
    app = ChatApp(azure_settings(server, system_prompt="Be kind."), client=ChatClient())
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#api_version", Input)
        field.focus()
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        assert app.chat.settings.api_version == "2024-10-21"
        assert note(app, "api_version") == (
            "Not applied yet: Enter applies none · still using 2024-10-21."
        )
        await pilot.press(*"2025-01-01", "enter")
        assert app.chat.settings.api_version == "2025-01-01"

        await pilot.press("f2")
        area = app.query_one("#system-prompt", TextArea)
        area.clear()  # emptied on the way to another prompt
        await pilot.pause()
        assert app.chat.conversation.system_prompt == "Be kind."
        assert "Not applied yet" in note(app, "system-prompt")
        await pilot.press(*"Talk like a pirate.")
        await pilot.pause()
        assert app.chat.conversation.system_prompt == "Be kind."
        await pilot.press("escape")  # back to the message box: done
        await wait_for(pilot, lambda: app.chat.conversation.system_prompt == "Talk like a pirate.")
        assert note(app, "system-prompt") == ""
        await chat(pilot, "hello")
        request = server.last_request
        assert request.messages[0] == {"role": "system", "content": "Talk like a pirate."}
        assert request.query.get("api-version") == "2025-01-01"


async def test_a_test_asked_from_a_field_tests_what_the_field_says(
    server: FakeOpenAIServer,
) -> None:
    app = ChatApp(
        compatible_settings(server, endpoint="http://127.0.0.1:9/v1"), client=ChatClient()
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_over(pilot, "endpoint", server.base_url)
        assert app.chat.settings.endpoint == "http://127.0.0.1:9/v1"
        await pilot.press("ctrl+t")  # meaning the endpoint typed, as the Test button would
        await wait_for(pilot, lambda: "✔" in sidebar_text(app))
        assert app.chat.settings.endpoint == server.base_url
        assert note(app, "endpoint") == ""


async def test_a_field_note_never_shows_the_key(server: FakeOpenAIServer) -> None:
    app = ChatApp(compatible_settings(server, api_key="sk-secret-0123456789"))
    async with app.run_test(size=SIZE) as pilot:
        await type_over(pilot, "api_key", "x")
        assert note(app, "api_key") == (
            "Not applied yet: Enter applies •••••••• · still using ••••••••6789."
        )
        assert "sk-secret" not in screen_text(app)
