"""Settings from the environment, `.env` and flags; validation of edited values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_tui.settings import (
    DEFAULT_AZURE_API_VERSION,
    DEFAULT_SYSTEM_PROMPT,
    Overrides,
    Provider,
    Settings,
    SettingsError,
    infer_provider,
    parse_endpoint,
    parse_max_tokens,
    parse_temperature,
    read_environment,
    settings_from_environment,
)

if TYPE_CHECKING:
    from pathlib import Path

AZURE_ENV = {
    "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
    "AZURE_OPENAI_API_KEY": "az-key",
    "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt4o-prod",
}


def test_azure_variables_as_in_the_seed_samples() -> None:
    settings = settings_from_environment(
        {**AZURE_ENV, "AZURE_OPENAI_API_VERSION": "2025-01-01-preview"}
    )
    assert settings.provider is Provider.AZURE
    assert settings.endpoint == "https://res.openai.azure.com"
    assert settings.model == "gpt4o-prod"
    assert settings.api_key == "az-key"
    assert settings.api_version == "2025-01-01-preview"
    assert settings.system_prompt == DEFAULT_SYSTEM_PROMPT
    assert settings.problems() == []


def test_azure_defaults_and_custom_system_prompt() -> None:
    settings = settings_from_environment(
        {**AZURE_ENV, "AZURE_OPENAI_SYSTEM_PROMPT": "Answer in French."}
    )
    assert settings.api_version == DEFAULT_AZURE_API_VERSION
    assert settings.system_prompt == "Answer in French."


def test_azure_v1_endpoint_is_recognised() -> None:
    env = {**AZURE_ENV, "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/openai/v1/"}
    assert settings_from_environment(env).provider is Provider.AZURE_V1


def test_openai_variables() -> None:
    settings = settings_from_environment({"OPENAI_API_KEY": "sk-1", "OPENAI_MODEL": "gpt-4.1"})
    assert settings.provider is Provider.OPENAI
    assert (settings.api_key, settings.model, settings.endpoint) == ("sk-1", "gpt-4.1", "")
    assert settings.problems() == []


def test_compatible_server_needs_no_key() -> None:
    settings = settings_from_environment(
        {"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_MODEL": "llama3.2"}
    )
    assert settings.provider is Provider.COMPATIBLE
    assert settings.problems() == []


def test_explicit_provider_wins_over_inference() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "CHAT_TUI_PROVIDER": "openai"}
    assert settings_from_environment(env).provider is Provider.OPENAI


@pytest.mark.parametrize(
    ("endpoint", "azure_hint", "expected"),
    [
        ("", False, Provider.OPENAI),
        ("", True, Provider.AZURE),
        ("https://x.openai.azure.com", False, Provider.AZURE),
        ("https://x.cognitiveservices.azure.com/", False, Provider.AZURE),
        ("https://x.openai.azure.com/openai/v1", False, Provider.AZURE_V1),
        ("https://api.openai.com/v1", False, Provider.OPENAI),
        ("http://localhost:8000/v1", False, Provider.COMPATIBLE),
        ("http://127.0.0.1:8000", True, Provider.AZURE),
    ],
)
def test_infer_provider(endpoint: str, azure_hint: bool, expected: Provider) -> None:
    assert infer_provider(endpoint, azure_hint=azure_hint) is expected


def test_flags_override_the_environment() -> None:
    overrides = Overrides(
        endpoint="http://127.0.0.1:1234/v1", model="other", system_prompt="Be brief."
    )
    settings = settings_from_environment(AZURE_ENV, overrides)
    assert settings.endpoint == "http://127.0.0.1:1234/v1"
    assert settings.model == "other"
    assert settings.system_prompt == "Be brief."


def test_nothing_set_names_every_missing_piece() -> None:
    problems = " ".join(Settings().problems())
    assert "OPENAI_MODEL" in problems
    assert "OPENAI_API_KEY" in problems


def test_azure_missing_pieces_name_azure_variables() -> None:
    problems = " ".join(Settings(provider=Provider.AZURE).problems())
    for variable in ("ENDPOINT", "CHAT_DEPLOYMENT", "API_KEY"):
        variable = "AZURE_OPENAI_" + variable
        assert variable in problems


def test_dotenv_in_current_directory_is_read_and_real_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "AZURE_OPENAI_ENDPOINT=https://from-file.openai.azure.com\nAZURE_OPENAI_API_KEY=file-key\n"
    )
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "real-key")
    env = read_environment(cwd=tmp_path)
    assert env["AZURE_OPENAI_ENDPOINT"] == "https://from-file.openai.azure.com"
    assert env["AZURE_OPENAI_API_KEY"] == "real-key"


def test_env_file_flag_reads_that_file(tmp_path: Path) -> None:
    other = tmp_path / "work.env"
    other.write_text("OPENAI_MODEL=from-flag-file\n")
    (tmp_path / ".env").write_text("OPENAI_MODEL=from-dotenv\n")
    assert read_environment(other, cwd=tmp_path)["OPENAI_MODEL"] == "from-flag-file"


def test_key_never_in_repr() -> None:
    settings = Settings(api_key="sk-very-secret-key-1234")
    assert "secret" not in repr(settings)
    assert "secret" not in settings.masked_key
    assert settings.masked_key.endswith("1234")


@pytest.mark.parametrize(("text", "value"), [("", None), ("0", 0.0), ("0.7", 0.7), ("2", 2.0)])
def test_temperature_accepts(text: str, value: float | None) -> None:
    assert parse_temperature(text) == value


@pytest.mark.parametrize("text", ["-0.1", "2.1", "warm", "nan", "inf"])
def test_temperature_rejects(text: str) -> None:
    with pytest.raises(SettingsError, match="Temperature"):
        parse_temperature(text)


@pytest.mark.parametrize("text", ["0", "-5", "1.5", "many"])
def test_max_tokens_rejects(text: str) -> None:
    with pytest.raises(SettingsError, match="Max tokens"):
        parse_max_tokens(text)


def test_max_tokens_accepts() -> None:
    assert parse_max_tokens(" 256 ") == 256
    assert parse_max_tokens("") is None


@pytest.mark.parametrize("text", ["localhost:8000", "ftp://x", "http://"])
def test_endpoint_rejects(text: str) -> None:
    with pytest.raises(SettingsError, match="Endpoint"):
        parse_endpoint(text)
