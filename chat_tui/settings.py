"""Connection and generation settings, and where they come from (environment, `.env`, flags).

UI-free: the app, the tests and any later console mode build `Settings` the same way.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from chat_tui.text import one_line, visible

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."
# The newest generally-available Azure OpenAI data-plane version; override with
# AZURE_OPENAI_API_VERSION or in the sidebar.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
MAX_TEMPERATURE = 2.0
# The longest silence allowed between two chunks of a reply (not a limit on its length).
DEFAULT_READ_TIMEOUT = 120.0
MAX_READ_TIMEOUT = 3600.0
MAX_COMPACT_AT = 99  # percent: at 100 the request would be refused before compacting

# Suffixes of Azure resource hosts, so a bare endpoint URL is recognised as Azure.
_AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
)
OPENAI_BASE_URL = "https://api.openai.com/v1"
NOTHING_SENT = " Nothing is sent until Endpoint is fixed."
# What Azure accepts as a deployment name (it goes into the request's path).
_DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
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


class Api(StrEnum):
    """Which of the two wire protocols carries the chat."""

    AUTO = "auto"  # Chat Completions, unless the model answers on the Responses API only
    CHAT = "chat"  # POST …/chat/completions
    RESPONSES = "responses"  # POST …/responses (OpenAI, Azure's v1 endpoint)


# The scope of Azure OpenAI and Azure AI Services resources for Entra ID tokens; Azure AI
# Foundry projects take https://ai.azure.com/.default.
DEFAULT_ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"


# RFC 3986, appendix B: splits any string into scheme, authority, path, query and fragment, and
# never fails, so that showing or masking a URL works even on one that is not valid.
_URL_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.S)
_HIDDEN = "•••"
# Longer than any real endpoint; a .env line this long is a mistake, not a server.
MAX_URL_LENGTH = 2048
_SHOWN_URL = 120  # of a URL quoted in a message


def _url_parts(url: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    match = _URL_PARTS.match(url)
    assert match is not None  # every group is optional: any string matches
    return match.groups()  # type: ignore[return-value]


def _host_port(authority: str) -> str:
    """host[:port] of a URL's authority: what follows any user:password@."""
    return authority.rpartition("@")[2]


def _host_name(authority: str) -> str:
    host = _host_port(authority)
    if host.startswith("["):  # an IPv6 literal, whose colons are not the port's
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.partition(":")[0].lower()


def infer_provider(endpoint: str, *, azure_hint: bool = False) -> Provider:
    """Guess the provider from an endpoint URL (and whether it came from an AZURE_* variable)."""
    if not endpoint:
        return Provider.AZURE if azure_hint else Provider.OPENAI
    _, authority, path, _, _ = _url_parts(endpoint)
    host = _host_name(authority or "")
    if "/openai/v1" in path.rstrip("/") + "/":
        return Provider.AZURE_V1
    if azure_hint or host.endswith(_AZURE_HOST_SUFFIXES):
        return Provider.AZURE
    if host == _OPENAI_HOST:
        return Provider.OPENAI
    return Provider.COMPATIBLE


def redact_url(url: str) -> str:
    """`url` with every place that can carry a credential masked, for showing it.

    The user:password@ is masked whole (a token is often the user name alone), and so is every
    query value and the fragment; query names stay. Every value, not a list of secret names:
    keys travel as api-key, key, code, sig, token, X-Amz-Signature… and no list is complete,
    while what a reader checks (where requests go) is the scheme, host, port and path.
    """
    scheme, authority, path, query, fragment = _url_parts(url)
    shown = f"{scheme}:" if scheme is not None else ""
    if authority is not None:
        shown += "//" + (f"{_HIDDEN}@" if "@" in authority else "") + _host_port(authority)
    shown += path
    if query is not None:
        shown += "?" + "&".join(_redact_parameter(item) for item in query.split("&"))
    if fragment:
        shown += f"#{_HIDDEN}"
    return shown


def _redact_parameter(item: str) -> str:
    name, equals, value = item.partition("=")
    if not equals:  # a bare item (?sk-…) may be the secret itself
        return _HIDDEN if item else item
    return f"{name}={_HIDDEN}" if value else item


def url_secrets(url: str) -> list[str]:
    """What `redact_url` masks: the user:password (whole and each half), query values, fragment."""
    _, authority, _, query, fragment = _url_parts(url)
    userinfo = authority.rpartition("@")[0] if authority else ""
    user, _, password = userinfo.partition(":")
    values = [item.partition("=")[2] or item for item in (query or "").split("&")]
    return [secret for secret in (userinfo, user, password, *values, fragment or "") if secret]


def host_of(url: str) -> str:
    """host[:port] of a URL, without any user:password, fit to show."""
    _, authority, _, _, _ = _url_parts(url)
    return one_line(_host_port(authority) if authority else redact_url(url))


def display_url(url: str) -> str:
    """A URL without credentials or query string, fit to show."""
    scheme, authority, path, _, _ = _url_parts(url)
    if scheme is None or authority is None:
        return one_line(redact_url(url))
    return one_line(f"{scheme}://{_host_port(authority)}{path}")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint, or None. Never raises, whatever the text.

    The rules are the HTTP client's: a port from 1 to 65535, a dotted IPv4 address or a [IPv6]
    address that is one, a host name that IDNA can encode; urllib's own checks come first.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"a URL of {len(url):,} characters is not an endpoint"
    if visible(url) != url or any(c.isspace() for c in url):
        return "it cannot contain spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed [, or a host that NFKC normalization changes
        return f"it is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must be an http:// or https:// URL"
    host, host_port = parts.hostname, _host_port(parts.netloc)
    bracketed = host_port.startswith("[")
    after_host = host_port[host_port.find("]") + 1 :] if bracketed else host_port
    if bracketed and after_host and not after_host.startswith(":"):
        return f"{after_host!r} follows the address in [ ]"
    port = after_host.partition(":")[2]
    # At most five ASCII digits: int() rejects a very long digit string, and "²" is a digit.
    digits = len(port) <= 5 and port.isascii() and port.isdigit()
    if port and not (digits and 0 < int(port) < 2**16):
        return f"the port must be a number from 1 to 65535, not {port}"
    try:
        if bracketed:
            ipaddress.IPv6Address(host)
        elif re.fullmatch(r"[0-9]+(\.[0-9]+){3}", host):
            ipaddress.IPv4Address(host)
        elif not host.isascii():
            host.encode("idna")
            if unicodedata.normalize("NFKC", host) != host:
                raise ValueError(host)
    except (ValueError, UnicodeError):
        return f"{host!r} is not a host name or IP address"
    return None


def _mask(secret: str) -> str:
    if not secret:
        return "(not set)"
    return "•" * 8 + secret[-4:] if len(secret) > 12 else "•" * 8


# Shorter "secrets" are not masked in free text: a local server takes any key ("none", "x"), and
# replacing such a word wherever it occurs would garble the message around it.
MIN_MASKED_SECRET = 8


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
    reasoning_effort: str | None = None  # None: the model's own default, nothing sent
    api: Api = Api.AUTO
    show_reasoning: bool = True
    entra_scope: str = DEFAULT_ENTRA_SCOPE
    image_detail: str = "auto"  # how closely a model looks at images: auto, low or high
    context_window: int | None = None  # tokens a request may carry; None: the model table's
    compact_at: int = 0  # percent of the context window that compacts before sending; 0: off
    log: str = ""  # a file the requests are logged to (see wire_log.py); "" keeps them in memory
    log_level: str = "requests"  # "content": the messages' text goes into the log too

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def masked_key(self) -> str:
        return _mask(self.api_key)

    def redact(self, text: str) -> str:
        """`text` (a server's answer, an error) with this connection's secrets masked.

        The API key, as is and URL-encoded, becomes `masked_key`; the credentials inside the
        endpoint URL become •••. Longest first, so a secret inside another is not half-masked.
        """
        masks = {secret: _HIDDEN for secret in url_secrets(self.endpoint)}
        if self.api_key:
            masks |= dict.fromkeys({self.api_key, quote(self.api_key, safe="")}, self.masked_key)
        for secret in sorted(masks, key=len, reverse=True):
            if len(secret) >= MIN_MASKED_SECRET:
                text = text.replace(secret, masks[secret])
        return text

    def problems(self) -> list[str]:
        """What is missing before a request can be sent, each saying how to set it."""
        found: list[str] = []
        provider = self.provider
        try:
            parse_endpoint(self.endpoint)
        except SettingsError as exc:
            # Kept, not replaced by another source's: requests must not go somewhere else.
            found.append(f"{exc}{NOTHING_SENT}")
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
        elif provider is Provider.AZURE and not _DEPLOYMENT_NAME.fullmatch(self.model):
            # The deployment goes into the URL's path: a "?" or "#" would rewrite the query.
            found.append(
                f"Deployment {visible(self.model)!r} is not a deployment name: Azure allows "
                "letters, digits, '-', '_' and '.'."
            )
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
        name = one_line(self.model) if self.model else "(no model)"
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


def parse_context_window(text: str) -> int | None:
    """The tokens a request may carry; blank: what chat-tui knows of the model."""
    text = text.strip().replace(",", "").replace("_", "")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"The context window is a number of tokens, not {text!r}.") from None
    if value < 1000:
        raise SettingsError(f"The context window is at least 1000 tokens, not {value}.")
    return value


def parse_compact_at(text: str) -> int:
    """How full the context may get (percent of the window) before a message is sent: past
    it, the older turns are compacted first. Blank or 0: never by itself."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(
            f"Compact at is a percent of the context window (e.g. 80), or 0 for off; not {text!r}."
        ) from None
    if not 0 <= value <= MAX_COMPACT_AT:
        raise SettingsError(
            f"Compact at is from 1 to {MAX_COMPACT_AT} (percent of the context window), or 0 for "
            f"off; not {value}."
        )
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


def parse_effort(text: str) -> str | None:
    """A reasoning effort; blank means the model's own default."""
    from chat_tui.model_info import EFFORTS

    text = text.strip().lower()
    if text and text not in EFFORTS:
        raise SettingsError(f"Reasoning effort is one of {', '.join(EFFORTS)}, not {text!r}.")
    return text or None


def parse_detail(text: str) -> str:
    """An image detail level: auto (the model's choice), low or high."""
    from chat_tui.attachments import DETAILS

    text = text.strip().lower()
    if text not in DETAILS:
        raise SettingsError(f"Image detail is one of {', '.join(DETAILS)}, not {text!r}.")
    return text


def parse_log(text: str) -> str:
    """The path of the requests' log file ("~" is the home directory); empty: no file."""
    text = text.strip()
    if visible(text) != text:
        raise SettingsError("A log file's path cannot contain control characters.")
    return text


def parse_log_level(text: str) -> str:
    from chat_tui.wire_log import Level

    text = text.strip().lower()
    if text not in Level._value2member_map_:
        raise SettingsError(f"The log level is requests or content, not {text!r}.")
    return text


def parse_api(text: str) -> Api:
    text = text.strip().lower()
    if text not in Api._value2member_map_:
        choices = ", ".join(api.value for api in Api)
        raise SettingsError(f"API is one of {choices}, not {text!r}.")
    return Api(text)


_YES, _NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0")


def parse_switch(text: str) -> bool:
    """yes/no, true/false, on/off, 1/0 (TOML's true and false read as text too)."""
    text = text.strip().lower()
    if text not in _YES + _NO:
        raise SettingsError(f"Use yes or no, not {text!r}.")
    return text in _YES


def parse_scope(text: str) -> str:
    """An Entra ID token scope, e.g. https://cognitiveservices.azure.com/.default."""
    text = parse_text(text)
    if not (text.startswith("https://") and text.endswith("/.default")):
        raise SettingsError(f"An Entra ID scope looks like {DEFAULT_ENTRA_SCOPE}, not {text!r}.")
    return text


def parse_text(text: str) -> str:
    """A plain one-line value (model, key): no control characters, outer spaces dropped."""
    text = text.strip()
    if visible(text) != text or " " in text:
        raise SettingsError("This value cannot contain spaces or control characters.")
    return text


def parse_endpoint(text: str) -> str:
    """Check an endpoint URL; blank is allowed (the provider may not need one).

    The one check of every endpoint, wherever it comes from: flags, environment, .env, profiles,
    the sidebar. The message shows the URL with its credentials masked.
    """
    text = text.strip()
    if not text:
        return ""
    problem = url_problem(text)
    if problem is not None:
        shown = one_line(redact_url(text))
        shown = shown if len(shown) <= _SHOWN_URL else shown[: _SHOWN_URL - 1] + "…"
        raise SettingsError(f"Endpoint {shown} cannot be used: {problem}.")
    return text


# How each setting is read from text, wherever the text comes from: a sidebar field, a profile,
# a saved conversation, an imported file. One table, so no source is checked more loosely.
VALUE_PARSERS: dict[str, Callable[[str], object]] = {
    "provider": lambda text: Provider(text.strip().lower()),
    "auth": lambda text: Auth(text.strip().lower()),
    "endpoint": parse_endpoint,
    "model": parse_text,
    "api_key": parse_text,
    "api_version": parse_api_version,
    "temperature": parse_temperature,
    "max_tokens": parse_max_tokens,
    "read_timeout": parse_read_timeout,
    "reasoning_effort": parse_effort,
    "api": parse_api,
    "show_reasoning": parse_switch,
    "entra_scope": parse_scope,
    "image_detail": parse_detail,
    "context_window": parse_context_window,
    "compact_at": parse_compact_at,
    "log": parse_log,
    "log_level": parse_log_level,
}


@dataclass(frozen=True, slots=True)
class Option:
    """A setting read the same way from a flag, a variable (environment or .env) and a profile
    key (its `name`): the settings beyond the connection's own, which the seed samples' and the
    SDK's variables cover."""

    name: str
    variable: str
    flag: str
    metavar: str
    help: str


OPTIONS = (
    Option(
        "read_timeout",
        "CHAT_TUI_READ_TIMEOUT",
        "--read-timeout",
        "SECONDS",
        "seconds without data before a reply counts as stalled (default 120)",
    ),
    Option(
        "reasoning_effort",
        "CHAT_TUI_REASONING_EFFORT",
        "--reasoning-effort",
        "EFFORT",
        "how hard a reasoning model thinks: none, minimal, low, medium, high or xhigh, as the "
        "model allows (default: the model's own)",
    ),
    Option(
        "api",
        "CHAT_TUI_API",
        "--api",
        "API",
        "auto (default), chat (Chat Completions) or responses (the Responses API)",
    ),
    Option(
        "show_reasoning",
        "CHAT_TUI_SHOW_REASONING",
        "--show-reasoning",
        "yes|no",
        "show a reasoning model's thinking above its answer (default yes)",
    ),
    Option(
        "entra_scope",
        "CHAT_TUI_ENTRA_SCOPE",
        "--entra-scope",
        "SCOPE",
        f"the Entra ID token scope (default {DEFAULT_ENTRA_SCOPE})",
    ),
    Option(
        "image_detail",
        "CHAT_TUI_IMAGE_DETAIL",
        "--image-detail",
        "DETAIL",
        "how closely a model looks at attached images: auto (default), low or high",
    ),
    Option(
        "context_window",
        "CHAT_TUI_CONTEXT_WINDOW",
        "--context-window",
        "TOKENS",
        "how many tokens a request may carry, for the context meter (default: known for common "
        "models)",
    ),
    Option(
        "compact_at",
        "CHAT_TUI_COMPACT_AT",
        "--compact-at",
        "PERCENT",
        "compact the conversation (summarise its older turns) before a message would fill more "
        "than PERCENT of the context window (default 0: only when asked)",
    ),
    Option(
        "log",
        "CHAT_TUI_LOG",
        "--log",
        "FILE",
        "log every request to FILE (owner-only, redacted: never a key or token)",
    ),
    Option(
        "log_level",
        "CHAT_TUI_LOG_LEVEL",
        "--log-level",
        "LEVEL",
        "requests (default: shapes, never the conversation) or content (the messages' text too)",
    ),
)


def saved_settings(settings: Settings) -> dict[str, Any]:
    """The settings a conversation keeps: the connection and generation, never the key."""
    return {
        "provider": settings.provider.value,
        "endpoint": settings.where if settings.endpoint else "",
        "model": settings.model,
        "api_version": settings.api_version,
        "auth": settings.auth.value,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "reasoning_effort": settings.reasoning_effort,
    }


_SAVED = (
    "provider",
    "endpoint",
    "model",
    "api_version",
    "auth",
    "temperature",
    "max_tokens",
    "reasoning_effort",
)


def checked_settings(kept: Mapping[str, object]) -> tuple[dict[str, Any], list[str]]:
    """A conversation's settings read back from a file or the store, each value checked as the
    sidebar checks it: those that pass, and a sentence for each that does not (left out).

    Keys a conversation does not keep (the API key among them) are left out without a word.
    """
    settings: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in kept.items():
        if key not in _SAVED:
            continue
        if value is None:  # not set: the server's default
            settings[key] = None
            continue
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise SettingsError(f"{type(value).__name__} is not a setting's value.")
            parsed = VALUE_PARSERS[key](str(value))
        except (SettingsError, ValueError) as exc:
            problems.append(f"{key}: {exc}")
            continue
        settings[key] = parsed.value if isinstance(parsed, StrEnum) else parsed
    return settings, problems


# Kept under 70 columns so it reads unwrapped in the transcript and in --help.
ENVIRONMENT_HELP = """\
Azure OpenAI  AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY,
              AZURE_OPENAI_CHAT_DEPLOYMENT (AZURE_OPENAI_API_VERSION)
OpenAI        OPENAI_API_KEY, OPENAI_MODEL
Local server  OPENAI_BASE_URL, OPENAI_MODEL
              (e.g. http://localhost:11434/v1 for Ollama)
in the environment or in a .env file in the current directory."""
