"""Settings values: provider inference, what is missing, validation of edited values."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from chat_tui.settings import (
    DEFAULT_READ_TIMEOUT,
    Auth,
    Provider,
    Settings,
    SettingsError,
    display_url,
    host_of,
    infer_provider,
    parse_api_version,
    parse_endpoint,
    parse_max_tokens,
    parse_read_timeout,
    parse_temperature,
    redact_url,
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


# URLs that urllib or the HTTP client refuse (or that would crash on .port), with why.
BAD_URLS = [
    ("http://127.0.0.1:82000/v1", "the port must be a number from 1 to 65535, not 82000"),
    ("http://[::1]:99999/v1", "not 99999"),
    ("http://127.0.0.1:0/v1", "not 0"),
    ("http://host:abc/v1", "not abc"),
    ("http://host:-1/v1", "not -1"),
    ("http://host:²/v1", "not ²"),
    ("http://host:" + "9" * 5000 + "/v1", "characters is not an endpoint"),
    ("http://[::1", "it is not a URL"),
    ("http://[::1]x/v1", "follows the address in [ ]"),
    ("http://[v1.x]/v1", "is not a host name or IP address"),
    ("http://1.2.3.999/v1", "is not a host name or IP address"),
    ("http://ａ.example/v1", "is not a host name or IP address"),
    ("http://℀/v1", "it is not a URL"),
    ("http://exa\x1b[2Ample.com/v1", "spaces or control characters"),
    ("http://exa mple.com/v1", "spaces or control characters"),
]


@pytest.mark.parametrize(("url", "why"), BAD_URLS)
def test_endpoint_rejects_what_the_http_client_cannot_use(url: str, why: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_endpoint(url)
    assert why in str(caught.value)
    assert "\x1b" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://[::1]:8000/v1", "http://[fe80::1%eth0]:80/", "https://bücher.example/v1"]
)
def test_endpoint_accepts_ip_literals_and_international_names(url: str) -> None:
    assert parse_endpoint(f" {url} ") == url


@pytest.mark.parametrize("url", [url for url, _ in BAD_URLS])
def test_a_bad_endpoint_never_raises_and_blocks_requests(url: str) -> None:
    # Everything that shows or sorts an endpoint works on any text; problems() stops requests.
    settings = Settings(provider=infer_provider(url), endpoint=url, model="m")
    shown = [settings.target, settings.where, host_of(url), display_url(url)]
    assert all(shown)
    assert not any("\x1b" in text for text in shown)
    assert any("Nothing is sent until Endpoint is fixed" in p for p in settings.problems())


def test_redact_url_masks_every_credential() -> None:
    url = "https://me:hunter2@example.com:8443/v1?api-version=2024&api-key=abc&sig=xyz&tok#frag"
    assert redact_url(url) == (
        "https://•••@example.com:8443/v1?api-version=•••&api-key=•••&sig=•••&•••#•••"
    )
    # Where requests go stays readable; a URL that does not parse is masked all the same.
    assert redact_url("https://example.com/v1") == "https://example.com/v1"
    assert redact_url("http://[::1?key=abc") == "http://[::1?key=•••"
    assert display_url(url) == "https://example.com:8443/v1"
    assert host_of(url) == "example.com:8443"


def test_redact_masks_the_key_and_the_endpoint_credentials() -> None:
    key = "sk-live/0123456789+abcdef"
    settings = Settings(
        endpoint="https://user:pa55word-long@example.com/v1?api-key=querysecret1", api_key=key
    )
    # As sent, and as a server quotes it back inside a URL.
    echoed = f"bad key {key} ({quote(key, safe='')}) for user:pa55word-long, querysecret1"
    redacted = settings.redact(echoed)
    for secret in ("0123456789", "pa55word-long", "querysecret1"):
        assert secret not in redacted
    assert redacted.startswith("bad key ••••••••cdef")
    # A placeholder key (local servers take any) is not hunted for in ordinary words.
    assert Settings(api_key="none").redact("none of these") == "none of these"


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


@pytest.mark.parametrize("name", ["gpt-4o?api-version=1999-01-01", "a#b", "../models", "x y"])
def test_an_azure_deployment_name_cannot_rewrite_the_request(name: str) -> None:
    settings = Settings(provider=Provider.AZURE, endpoint="https://x", model=name, api_key="k")
    assert any("is not a deployment name" in problem for problem in settings.problems())
    assert (
        Settings(
            provider=Provider.AZURE, endpoint="https://x", model="gpt-4o_prod.2", api_key="k"
        ).problems()
        == []
    )
