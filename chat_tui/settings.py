"""Connection and generation settings, and where they come from (environment, `.env`, flags).

UI-free: the app, the tests and any later console mode build `Settings` the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import urlsplit

from chat_tui.text import visible

DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."
# The newest generally-available Azure OpenAI data-plane version; override with
# AZURE_OPENAI_API_VERSION or in the sidebar.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
MAX_TEMPERATURE = 2.0
# The longest silence allowed between two chunks of a reply (not a limit on its length).
DEFAULT_READ_TIMEOUT = 120.0
MAX_READ_TIMEOUT = 3600.0

# Suffixes of Azure resource hosts, so a bare endpoint URL is recognised as Azure.
_AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
)
OPENAI_BASE_URL = "https://api.openai.com/v1"
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


class Auth(StrEnum):
    """How requests are signed in."""

    KEY = "key"  # an API key (optional for compatible servers)
    ENTRA = "entra"  # Microsoft Entra ID through azure-identity (Azure only)


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


def host_of(url: str) -> str:
    """host[:port] of a URL, without any user:password."""
    parts = urlsplit(url)
    if not parts.hostname:
        return visible(url)
    return visible(f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname)


def display_url(url: str) -> str:
    """A URL without credentials or query string, with control characters made visible."""
    parts = urlsplit(url)
    if not parts.hostname:
        return visible(url)
    return visible(f"{parts.scheme}://{host_of(url)}{parts.path}")


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
    auth: Auth = Auth.KEY
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float | None = None
    max_tokens: int | None = None
    read_timeout: float = DEFAULT_READ_TIMEOUT

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
        if self.auth is Auth.ENTRA and not provider.is_azure:
            found.append("Entra ID sign-in works with Azure OpenAI only: choose an API key.")
        elif self.auth is Auth.KEY and not self.api_key and provider is not Provider.COMPATIBLE:
            if provider.is_azure:
                found.append(
                    "No API key: set AZURE_OPENAI_API_KEY or fill in API key, "
                    "or choose Microsoft Entra ID under Sign-in."
                )
            else:
                found.append("No API key: set OPENAI_API_KEY or fill in API key.")
        return found

    @property
    def base_url(self) -> str:
        """The endpoint, or OpenAI's own for the OpenAI provider."""
        if not self.endpoint and self.provider is Provider.OPENAI:
            return OPENAI_BASE_URL
        return self.endpoint

    @property
    def where(self) -> str:
        """The endpoint fit to show: no user:password, no query string."""
        return display_url(self.base_url)

    @property
    def target(self) -> str:
        """A short, human description of where requests go, e.g. for the header."""
        host = host_of(self.base_url)
        name = visible(self.model) if self.model else "(no model)"
        return f"{name} @ {host}" if host else name


class SettingsError(ValueError):
    """A value that cannot be used, with a message fit to show the user."""


def _parse_number(text: str, name: str, low: float, high: float, unit: str = "") -> float | None:
    """A number in [low, high] typed into a field; None when the field is blank."""
    text = text.strip()
    if not text:
        return None
    span = f"from {low:g} to {high:g}{unit}"
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number {span}, not {text!r}.") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise SettingsError(f"{name} must be {span}, not {text}.")
    return value


def parse_temperature(text: str) -> float | None:
    """Parse a temperature field: blank means the server's default."""
    return _parse_number(text, "Temperature", 0.0, MAX_TEMPERATURE)


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


def parse_read_timeout(text: str) -> float:
    """Seconds of silence before a reply counts as stalled; blank means the default."""
    value = _parse_number(text, "Read timeout", 1.0, MAX_READ_TIMEOUT, " s")
    return DEFAULT_READ_TIMEOUT if value is None else value


_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def parse_api_version(text: str) -> str:
    """An Azure api-version looks like 2024-10-21 or 2025-04-01-preview."""
    text = text.strip()
    if text and not _API_VERSION.match(text):
        raise SettingsError(
            f"API version looks like 2024-10-21 or 2025-04-01-preview, not {text!r}."
        )
    return text


def parse_text(text: str) -> str:
    """A plain one-line value (model, key): no control characters, outer spaces dropped."""
    text = text.strip()
    if visible(text) != text or " " in text:
        raise SettingsError("This value cannot contain spaces or control characters.")
    return text


def parse_endpoint(text: str) -> str:
    """Check an endpoint URL's shape; blank is allowed (the provider may not need one)."""
    text = text.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if visible(text) != text or any(c.isspace() for c in text):
        raise SettingsError("Endpoint cannot contain spaces or control characters.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"Endpoint must be an http:// or https:// URL, not {text!r}.")
    return text


# Kept under 70 columns so it reads unwrapped in the transcript and in --help.
ENVIRONMENT_HELP = """\
Azure OpenAI  AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY,
              AZURE_OPENAI_CHAT_DEPLOYMENT (AZURE_OPENAI_API_VERSION)
OpenAI        OPENAI_API_KEY, OPENAI_MODEL
Local server  OPENAI_BASE_URL, OPENAI_MODEL
              (e.g. http://localhost:11434/v1 for Ollama)
in the environment or in a .env file in the current directory."""
