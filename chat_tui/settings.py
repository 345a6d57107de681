"""Connection and generation settings, and where they come from (environment, `.env`, flags).

UI-free: the app, the tests and any later console mode build `Settings` the same way.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."
# The newest generally-available Azure OpenAI data-plane version; override with
# AZURE_OPENAI_API_VERSION or in the sidebar.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
MAX_TEMPERATURE = 2.0

# Suffixes of Azure resource hosts, so a bare endpoint URL is recognised as Azure.
_AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
)
_OPENAI_HOST = "api.openai.com"


class Provider(StrEnum):
    """How requests are shaped and authenticated."""

    AZURE = "azure"  # /openai/deployments/{deployment}/chat/completions?api-version=…
    AZURE_V1 = "azure-v1"  # {endpoint}/openai/v1/chat/completions, no api-version
    OPENAI = "openai"  # api.openai.com (or OPENAI_BASE_URL), key required
    COMPATIBLE = "compatible"  # any OpenAI-compatible base URL; key optional

    @property
    def label(self) -> str:
        return _PROVIDER_LABELS[self]

    @property
    def is_azure(self) -> bool:
        return self in (Provider.AZURE, Provider.AZURE_V1)

    @property
    def model_label(self) -> str:
        """What the model field is called for this provider."""
        return "Deployment" if self.is_azure else "Model"


_PROVIDER_LABELS = {
    Provider.AZURE: "Azure OpenAI (deployments)",
    Provider.AZURE_V1: "Azure OpenAI (v1 endpoint)",
    Provider.OPENAI: "OpenAI",
    Provider.COMPATIBLE: "OpenAI-compatible server",
}


def infer_provider(endpoint: str, *, azure_hint: bool = False) -> Provider:
    """Guess the provider from an endpoint URL (and whether it came from an AZURE_* variable)."""
    if not endpoint:
        return Provider.AZURE if azure_hint else Provider.OPENAI
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if "/openai/v1" in parts.path.rstrip("/") + "/":
        return Provider.AZURE_V1
    if azure_hint or host.endswith(_AZURE_HOST_SUFFIXES):
        return Provider.AZURE
    if host == _OPENAI_HOST:
        return Provider.OPENAI
    return Provider.COMPATIBLE


def _mask(secret: str) -> str:
    if not secret:
        return "(not set)"
    return "•" * 8 + secret[-4:] if len(secret) > 12 else "•" * 8


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything needed to send one chat request. Immutable: edits make a new instance."""

    provider: Provider = Provider.OPENAI
    endpoint: str = ""
    model: str = ""
    api_version: str = DEFAULT_AZURE_API_VERSION
    api_key: str = field(default="", repr=False)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float | None = None
    max_tokens: int | None = None

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def masked_key(self) -> str:
        return _mask(self.api_key)

    def problems(self) -> list[str]:
        """What is missing before a request can be sent, each saying how to set it."""
        found: list[str] = []
        provider = self.provider
        if provider.is_azure and not self.endpoint:
            found.append(
                "No Azure endpoint: set AZURE_OPENAI_ENDPOINT "
                "(https://<resource>.openai.azure.com) or fill in Endpoint."
            )
        if provider is Provider.COMPATIBLE and not self.endpoint:
            found.append(
                "No server URL: set OPENAI_BASE_URL (e.g. http://localhost:11434/v1) "
                "or fill in Endpoint."
            )
        if not self.model:
            if provider.is_azure:
                found.append(
                    "No deployment: set AZURE_OPENAI_CHAT_DEPLOYMENT or fill in Deployment."
                )
            else:
                found.append("No model: set OPENAI_MODEL or fill in Model.")
        if provider is Provider.AZURE and not self.api_version:
            found.append("No API version: set AZURE_OPENAI_API_VERSION or fill in API version.")
        if not self.api_key and provider is not Provider.COMPATIBLE:
            variable = "AZURE_OPENAI_API_KEY" if provider.is_azure else "OPENAI_API_KEY"
            found.append(f"No API key: set {variable} or fill in API key.")
        return found

    @property
    def target(self) -> str:
        """A short, human description of where requests go, e.g. for the header."""
        where = urlsplit(self.endpoint).netloc if self.endpoint else ""
        if not where and self.provider is Provider.OPENAI:
            where = _OPENAI_HOST
        name = self.model or "(no model)"
        return f"{name} @ {where}" if where else name


class SettingsError(ValueError):
    """A value that cannot be used, with a message fit to show the user."""


def parse_temperature(text: str) -> float | None:
    """Parse a temperature field: blank means the server's default."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"Temperature must be a number from 0 to 2, not {text!r}.") from None
    if not (math.isfinite(value) and 0.0 <= value <= MAX_TEMPERATURE):
        raise SettingsError(f"Temperature must be from 0 to 2, not {text}.")
    return value


def parse_max_tokens(text: str) -> int | None:
    """Parse a max-tokens field: blank means no limit from chat-tui."""
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"Max tokens must be a whole number, not {text!r}.") from None
    if value <= 0:
        raise SettingsError(f"Max tokens must be more than 0, not {value}.")
    return value


def parse_endpoint(text: str) -> str:
    """Check an endpoint URL's shape; blank is allowed (the provider may not need one)."""
    text = text.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"Endpoint must be an http:// or https:// URL, not {text!r}.")
    return text


def read_environment(env_file: Path | None = None, *, cwd: Path | None = None) -> dict[str, str]:
    """The process environment over the `.env` file (real variables win, as with python-dotenv).

    The file is `env_file` if given, else `.env` in the current directory. Nothing is written to
    `os.environ`, so loading settings has no side effects on the SDK or child processes.
    """
    from dotenv import dotenv_values

    path = env_file if env_file is not None else (cwd or Path.cwd()) / ".env"
    merged: dict[str, str] = {}
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ)
    return merged


@dataclass(frozen=True, slots=True)
class Overrides:
    """Values from command-line flags; None means 'not given'."""

    provider: Provider | None = None
    endpoint: str | None = None
    model: str | None = None
    api_version: str | None = None
    system_prompt: str | None = None


def settings_from_environment(
    env: Mapping[str, str], overrides: Overrides | None = None
) -> Settings:
    """Build settings from variables (the seed samples' AZURE_OPENAI_* first, then OPENAI_*).

    Azure wins when AZURE_OPENAI_ENDPOINT is set; otherwise OPENAI_BASE_URL / OPENAI_API_KEY /
    OPENAI_MODEL describe OpenAI or a compatible server. CHAT_TUI_PROVIDER names it explicitly.
    """
    overrides = overrides or Overrides()

    def get(name: str) -> str:
        return env.get(name, "").strip()

    azure_endpoint = get("AZURE_OPENAI_ENDPOINT")
    use_azure = bool(azure_endpoint)
    endpoint = azure_endpoint or get("OPENAI_BASE_URL")
    if overrides.endpoint is not None:
        endpoint = overrides.endpoint.strip()

    explicit = overrides.provider or _provider_from_name(get("CHAT_TUI_PROVIDER"))
    provider = explicit or infer_provider(endpoint, azure_hint=use_azure)
    if provider.is_azure:
        model = get("AZURE_OPENAI_CHAT_DEPLOYMENT") or get("OPENAI_MODEL")
        api_key = get("AZURE_OPENAI_API_KEY") or get("OPENAI_API_KEY")
    else:
        model = get("OPENAI_MODEL") or get("AZURE_OPENAI_CHAT_DEPLOYMENT")
        api_key = get("OPENAI_API_KEY") or get("AZURE_OPENAI_API_KEY")
    api_version = (
        get("AZURE_OPENAI_API_VERSION") or get("OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION
    )
    # The system prompt keeps its inner whitespace: only an empty value falls back.
    system_prompt = env.get("AZURE_OPENAI_SYSTEM_PROMPT") or DEFAULT_SYSTEM_PROMPT
    return Settings(
        provider=provider,
        endpoint=endpoint,
        model=overrides.model.strip() if overrides.model is not None else model,
        api_version=overrides.api_version or api_version,
        api_key=api_key,
        system_prompt=overrides.system_prompt
        if overrides.system_prompt is not None
        else system_prompt,
    )


def _provider_from_name(name: str) -> Provider | None:
    if not name:
        return None
    try:
        return Provider(name.lower())
    except ValueError:
        return None


# Kept under 70 columns so it reads unwrapped in the transcript and in --help.
ENVIRONMENT_HELP = """\
Azure OpenAI  AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY,
              AZURE_OPENAI_CHAT_DEPLOYMENT (AZURE_OPENAI_API_VERSION)
OpenAI        OPENAI_API_KEY, OPENAI_MODEL
Local server  OPENAI_BASE_URL, OPENAI_MODEL
              (e.g. http://localhost:11434/v1 for Ollama)
in the environment or in a .env file in the current directory."""
