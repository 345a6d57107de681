"""Settings values: provider inference, what is missing, validation of edited values."""

from __future__ import annotations

import pytest

from chat_tui.settings import (
    DEFAULT_READ_TIMEOUT,
    Auth,
    Provider,
    Settings,
    SettingsError,
    infer_provider,
    parse_api_version,
    parse_endpoint,
    parse_max_tokens,
    parse_read_timeout,
    parse_temperature,
)


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


def test_nothing_set_names_every_missing_piece() -> None:
    problems = " ".join(Settings().problems())
    assert "OPENAI_MODEL" in problems
    assert "OPENAI_API_KEY" in problems


def test_azure_missing_pieces_name_azure_variables() -> None:
    problems = " ".join(Settings(provider=Provider.AZURE).problems())
    for variable in ("ENDPOINT", "CHAT_DEPLOYMENT", "API_KEY"):
        assert "AZURE_OPENAI_" + variable in problems


def test_entra_needs_no_key_but_only_works_with_azure() -> None:
    azure = Settings(provider=Provider.AZURE, endpoint="https://x", model="d", auth=Auth.ENTRA)
    assert azure.problems() == []
    openai = Settings(model="m", auth=Auth.ENTRA)
    assert "Azure OpenAI only" in " ".join(openai.problems())


def test_compatible_server_needs_no_key() -> None:
    settings = Settings(provider=Provider.COMPATIBLE, endpoint="http://localhost:1/v1", model="m")
    assert settings.problems() == []


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


@pytest.mark.parametrize("text", ["2024-10-21", "2025-04-01-preview", ""])
def test_api_version_accepts(text: str) -> None:
    assert parse_api_version(text) == text


@pytest.mark.parametrize("text", ["2024-10", "v1", "latest", "2024-10-21-beta"])
def test_api_version_rejects(text: str) -> None:
    with pytest.raises(SettingsError, match="API version"):
        parse_api_version(text)


def test_read_timeout() -> None:
    assert parse_read_timeout("") == DEFAULT_READ_TIMEOUT
    assert parse_read_timeout("30") == 30.0
    for text in ("0", "x", "99999"):
        with pytest.raises(SettingsError, match="Read timeout must be"):
            parse_read_timeout(text)
