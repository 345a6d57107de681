"""Where each setting comes from: flags > environment > .env > config file > defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_tui.config_file import ConfigFile, load_config
from chat_tui.settings import (
    DEFAULT_AZURE_API_VERSION,
    DEFAULT_SYSTEM_PROMPT,
    Auth,
    Provider,
    Settings,
)
from chat_tui.settings_sources import Flags, Resolved, describe, load_settings, switch_profile

if TYPE_CHECKING:
    from pathlib import Path

AZURE_ENV = {
    "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
    "AZURE_OPENAI_API_KEY": "az-key",
    "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt4o-prod",
}

CONFIG = """\
# my profiles
default_profile = "local"

[profiles.local]  # Ollama on this machine
endpoint = "http://localhost:11434/v1"
model = "llama3.2"
temperature = 0.3

[profiles.work]
provider = "azure"
endpoint = "https://work.openai.azure.com"
deployment = "gpt4o-work"
auth = "entra"
"""


def load(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    flags: Flags | None = None,
    config_text: str | None = None,
    dotenv: str | None = None,
) -> Resolved:
    path = tmp_path / "config.toml"
    if config_text is not None:
        path.write_text(config_text)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return load_settings(flags or Flags(), load_config(path), cwd=tmp_path, environ=env or {})


def test_defaults(tmp_path: Path) -> None:
    resolved = load(tmp_path)
    assert resolved.settings.system_prompt == DEFAULT_SYSTEM_PROMPT
    assert resolved.settings.api_version == DEFAULT_AZURE_API_VERSION
    assert resolved.settings.provider is Provider.OPENAI
    assert set(resolved.sources.values()) == {"default"}


def test_azure_variables_as_in_the_seed_samples(tmp_path: Path) -> None:
    env = {**AZURE_ENV, "AZURE_OPENAI_API_VERSION": "2025-01-01-preview"}
    settings = load(tmp_path, env).settings
    assert settings.provider is Provider.AZURE
    assert settings.endpoint == "https://res.openai.azure.com"
    assert settings.model == "gpt4o-prod"
    assert settings.api_key == "az-key"
    assert settings.api_version == "2025-01-01-preview"
    assert settings.problems() == []


def test_system_prompt_variable(tmp_path: Path) -> None:
    env = {**AZURE_ENV, "AZURE_OPENAI_SYSTEM_PROMPT": "Answer in French."}
    resolved = load(tmp_path, env)
    assert resolved.settings.system_prompt == "Answer in French."
    assert resolved.sources["system_prompt"] == "environment: AZURE_OPENAI_SYSTEM_PROMPT"


def test_azure_v1_endpoint_is_recognised(tmp_path: Path) -> None:
    env = {**AZURE_ENV, "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/openai/v1/"}
    assert load(tmp_path, env).settings.provider is Provider.AZURE_V1


def test_openai_variables(tmp_path: Path) -> None:
    settings = load(tmp_path, {"OPENAI_API_KEY": "sk-1", "OPENAI_MODEL": "gpt-4.1"}).settings
    assert settings.provider is Provider.OPENAI
    assert (settings.api_key, settings.model, settings.endpoint) == ("sk-1", "gpt-4.1", "")


def test_compatible_server(tmp_path: Path) -> None:
    env = {"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_MODEL": "llama3.2"}
    settings = load(tmp_path, env).settings
    assert settings.provider is Provider.COMPATIBLE
    assert settings.problems() == []


def test_explicit_provider_and_auth_variables(tmp_path: Path) -> None:
    env = {**AZURE_ENV, "CHAT_TUI_PROVIDER": "azure-v1", "CHAT_TUI_AUTH": "entra"}
    settings = load(tmp_path, env).settings
    assert settings.provider is Provider.AZURE_V1
    assert settings.auth is Auth.ENTRA


def test_dotenv_is_read_and_the_real_environment_wins(tmp_path: Path) -> None:
    dotenv = "AZURE_OPENAI_ENDPOINT=https://from-file.openai.azure.com\nAZURE_OPENAI_API_KEY=f\n"
    resolved = load(tmp_path, {"AZURE_OPENAI_API_KEY": "real"}, dotenv=dotenv)
    assert resolved.settings.endpoint == "https://from-file.openai.azure.com"
    assert resolved.sources["endpoint"] == ".env file: AZURE_OPENAI_ENDPOINT"
    assert resolved.settings.api_key == "real"
    assert resolved.sources["api_key"] == "environment: AZURE_OPENAI_API_KEY"


def test_env_file_flag_reads_that_file(tmp_path: Path) -> None:
    other = tmp_path / "work.env"
    other.write_text("OPENAI_MODEL=from-flag-file\n")
    (tmp_path / ".env").write_text("OPENAI_MODEL=from-dotenv\n")
    resolved = load_settings(
        Flags(), ConfigFile(tmp_path / "none.toml"), cwd=tmp_path, env_file=other, environ={}
    )
    assert resolved.settings.model == "from-flag-file"


def test_malformed_dotenv_names_the_line_and_keeps_the_rest(tmp_path: Path) -> None:
    resolved = load(tmp_path, dotenv='OPENAI_MODEL=good\nthis is not "valid\nOPENAI_API_KEY=k\n')
    assert resolved.settings.model == "good"
    assert resolved.settings.api_key == "k"
    assert any(".env line 2" in problem for problem in resolved.problems)


def test_config_default_profile_is_the_lowest_source(tmp_path: Path) -> None:
    resolved = load(tmp_path, config_text=CONFIG)
    assert resolved.profile == "local"
    settings = resolved.settings
    assert settings.provider is Provider.COMPATIBLE  # inferred from the profile's endpoint
    assert (settings.endpoint, settings.model, settings.temperature) == (
        "http://localhost:11434/v1",
        "llama3.2",
        0.3,
    )
    assert resolved.sources["model"].startswith("profile local (default) in ")


def test_environment_beats_the_config_file(tmp_path: Path) -> None:
    resolved = load(tmp_path, {"OPENAI_MODEL": "from-env"}, config_text=CONFIG)
    assert resolved.settings.model == "from-env"
    assert resolved.settings.endpoint == "http://localhost:11434/v1"


def test_flags_beat_everything(tmp_path: Path) -> None:
    flags = Flags(endpoint="http://127.0.0.1:1234/v1", model="flagged", system_prompt="Be brief.")
    resolved = load(tmp_path, AZURE_ENV, flags=flags, config_text=CONFIG)
    settings = resolved.settings
    assert settings.endpoint == "http://127.0.0.1:1234/v1"
    assert settings.provider is Provider.COMPATIBLE
    assert settings.model == "flagged"
    assert settings.system_prompt == "Be brief."
    assert resolved.sources["endpoint"] == "--endpoint"


def test_profile_flag_beats_the_environment(tmp_path: Path) -> None:
    resolved = load(tmp_path, AZURE_ENV, flags=Flags(profile="work"), config_text=CONFIG)
    settings = resolved.settings
    assert resolved.profile == "work"
    assert settings.endpoint == "https://work.openai.azure.com"
    assert settings.model == "gpt4o-work"  # `deployment` is accepted for `model`
    assert settings.auth is Auth.ENTRA


def test_unknown_profile_is_reported(tmp_path: Path) -> None:
    resolved = load(tmp_path, flags=Flags(profile="nope"), config_text=CONFIG)
    assert resolved.profile == "local"
    assert any("--profile nope" in p and "local, work" in p for p in resolved.problems)


def test_a_key_is_never_sent_to_another_family(tmp_path: Path) -> None:
    # An Azure key from the environment must not go to the local server of the default profile.
    resolved = load(tmp_path, {"AZURE_OPENAI_API_KEY": "azure-secret"}, config_text=CONFIG)
    assert resolved.settings.provider is Provider.COMPATIBLE
    assert resolved.settings.api_key == ""


def test_switching_profile_keeps_chat_settings_and_uses_the_right_key(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "sk-openai", "AZURE_OPENAI_API_KEY": "az"}
    config_text = CONFIG + '\n[profiles.openai]\nprovider = "openai"\nmodel = "gpt-4.1"\n'
    path = tmp_path / "config.toml"
    path.write_text(config_text)
    config = load_config(path)
    start = load_settings(Flags(system_prompt="Pirate."), config, cwd=tmp_path, environ=env)
    switched = switch_profile(start, config, "openai")
    assert switched.profile == "openai"
    assert switched.settings.provider is Provider.OPENAI
    assert switched.settings.model == "gpt-4.1"
    assert switched.settings.endpoint == ""
    assert switched.settings.api_key == "sk-openai"
    assert switched.settings.system_prompt == "Pirate."
    assert switched.settings.temperature == 0.3  # kept from the chat so far
    work = switch_profile(switched, config, "work")
    assert work.settings.auth is Auth.ENTRA
    assert work.settings.api_key == "az"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default_profile = [\n", "the file was ignored"),
        ('default_profile = "x"\nbroken line\n', "(at line 2, column 8)"),
        ('[profiles.x]\ntemperature = "hot"\n', "profiles.x.temperature has the wrong type"),
        ('[profiles.x]\ncolour = "blue"\n', "unknown key 'colour'"),
        ("[profiles.x]\ntemperature = 5\n", "Temperature must be from 0 to 2"),
        ('[profiles.x]\nendpoint = "nope"\n', "Endpoint nope cannot be used: it must be an http"),
        ('default_profile = "y"\n[profiles.x]\n', "'y' is not a profile"),
    ],
)
def test_malformed_config_is_reported_with_its_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    resolved = load(tmp_path, {"OPENAI_MODEL": "still-works"}, config_text=text)
    assert resolved.settings.model == "still-works"
    assert any(expected in problem for problem in resolved.problems), resolved.problems
    assert all("config.toml" in problem for problem in resolved.problems)


def test_describe_masks_the_key_and_names_sources(tmp_path: Path) -> None:
    env = {**AZURE_ENV, "AZURE_OPENAI_API_KEY": "super-secret-azure-key-9876"}
    text = describe(load(tmp_path, env))
    assert "super-secret" not in text
    assert "9876" in text
    assert (
        "endpoint         = https://res.openai.azure.com  (environment: AZURE_OPENAI_ENDPOINT)"
        in text
    )
    assert "temperature      = (not set)  (default)" in text


def test_provider_flag_stays_a_provider(tmp_path: Path) -> None:
    # A plain "azure-v1" string would miss `is Provider.AZURE_V1` and the key it takes.
    env = {"AZURE_OPENAI_API_KEY": "azure-key"}
    flags = Flags(provider=Provider.AZURE_V1, endpoint=" https://x.openai.azure.com ", model="m")
    settings = load(tmp_path, env, flags=flags).settings
    assert settings.provider is Provider.AZURE_V1
    assert settings.endpoint == "https://x.openai.azure.com"
    assert settings.api_key == "azure-key"
    assert settings.problems() == []


BAD_PORT = "http://127.0.0.1:82000/v1"


@pytest.mark.parametrize(
    ("how", "source"),
    [
        ("environment", "environment: OPENAI_BASE_URL"),
        ("dotenv", ".env file: OPENAI_BASE_URL"),
        ("flag", "--endpoint"),
        ("profile", "profile broken in"),
    ],
)
@pytest.mark.parametrize("url", [BAD_PORT, "http://[::1"])
def test_a_bad_endpoint_from_any_source_is_named_and_nothing_is_sent(
    tmp_path: Path, how: str, source: str, url: str
) -> None:
    config = f'default_profile = "broken"\n[profiles.broken]\nendpoint = "{url}"\n'
    resolved = load(
        tmp_path,
        {"OPENAI_BASE_URL": url, "OPENAI_MODEL": "m"} if how == "environment" else {},
        flags=Flags(endpoint=url, model="m") if how == "flag" else None,
        config_text=config if how == "profile" else None,
        dotenv=f"OPENAI_BASE_URL={url}\nOPENAI_MODEL=m\n" if how == "dotenv" else None,
    )
    named = [p for p in resolved.problems if p.startswith(source)]
    assert len(named) == 1, resolved.problems
    assert f"Endpoint {url} cannot be used" in named[0]
    # Kept where it was given, so that every request stops until it is fixed.
    assert resolved.settings.endpoint == url
    assert any("Nothing is sent" in p for p in resolved.settings.problems())
    assert url in describe(resolved)


def test_a_bad_endpoint_does_not_fall_back_on_a_lower_source(tmp_path: Path) -> None:
    # Falling back would send the profile's key to the server the environment names.
    config = (
        'default_profile = "mine"\n[profiles.mine]\n'
        'endpoint = "http://[::1"\napi_key = "profile-secret-key"\nprovider = "compatible"\n'
    )
    env = {"OPENAI_BASE_URL": "http://other.example/v1", "OPENAI_MODEL": "m"}
    resolved = load(tmp_path, env, flags=Flags(profile="mine"), config_text=config)
    assert resolved.settings.endpoint == "http://[::1"
    assert resolved.settings.problems()
    path = tmp_path / "config.toml"
    switched = switch_profile(resolved, load_config(path), "mine")
    assert switched.settings.endpoint == "http://[::1"
    assert any("cannot be used" in p for p in switched.problems)
    assert switched.settings.problems()


def test_describe_shows_every_value_on_its_own_line(tmp_path: Path) -> None:
    hostile = (
        "gpt\x1b]52;c;c2VjcmV0\x07\x1b]0;title\x07\x1b[2A\x1b[K[bold]x[/bold]\u202e"
        "\nendpoint      = https://api.openai.com/v1  (default)\tz"
    )
    env = {
        "OPENAI_MODEL": hostile,
        "OPENAI_BASE_URL": "https://me:hunter2@evil.example/v1?api-key=sk-secret&x=1",
        "AZURE_OPENAI_SYSTEM_PROMPT": "two\nlines",
    }
    text = describe(load(tmp_path, env))
    lines = text.splitlines()
    assert len(lines) == len(Settings.__dataclass_fields__)
    assert [line.split(" ", 1)[0] for line in lines] == list(Settings.__dataclass_fields__)
    for bad in ("\x1b", "\x07", "\u202e", "\t", "hunter2", "sk-secret"):
        assert bad not in text
    assert "endpoint         = https://•••@evil.example/v1?api-key=•••&x=•••  (environment" in text
    assert "␛]52;c;c2VjcmV0␇␛]0;title␇␛[2A␛[K[bold]x[/bold]‹U+202E›␊endpoint" in text
    assert "system_prompt    = two␊lines  (environment" in text
