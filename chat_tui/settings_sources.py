"""Where each setting comes from, and which source wins.

Precedence, highest first: command-line flags (a profile named with --profile counts as a flag),
the environment, the `.env` file, the config file's default profile, then built-in defaults.
Every resolved value keeps the name of its source, for `--print-config` and the sidebar.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chat_tui.private_files import looks_like_a_file
from chat_tui.settings import (
    OPTIONS,
    VALUE_PARSERS,
    Auth,
    Provider,
    Settings,
    SettingsError,
    infer_provider,
    parse_endpoint,
    redact_url,
)
from chat_tui.text import one_line

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from chat_tui.config_file import ConfigFile

DEFAULT_SOURCE = "default"
# --print-config's column of names: the longest setting's.
NAME_WIDTH = max(len(name) for name in Settings.__dataclass_fields__)
# Pseudo-settings of the environment layer: the key variables, one per family.
_AZURE_KEY = "azure_key"
_OPENAI_KEY = "openai_key"


@dataclass(frozen=True, slots=True)
class Sourced:
    """One setting's value and where it came from."""

    value: object
    source: str
    # An endpoint from AZURE_OPENAI_ENDPOINT means Azure even on an unusual host.
    azure_hint: bool = False


Layer = dict[str, Sourced]


@dataclass(frozen=True, slots=True)
class Flags:
    """Values from command-line flags; None means 'not given'."""

    provider: Provider | None = None
    endpoint: str | None = None
    model: str | None = None
    api_version: str | None = None
    system_prompt: str | None = None
    profile: str | None = None
    # The OPTIONS given as flags, by setting name, already parsed (argparse checks them).
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Resolved:
    """The effective settings, the source of each field, and what went wrong on the way."""

    settings: Settings
    sources: dict[str, str]
    profile: str | None = None
    problems: list[str] = field(default_factory=list)
    # The environment's layer, kept so that switching profiles can fall back on it.
    environment: Layer = field(default_factory=dict)


# -- environment and .env -------------------------------------------------------------------


def read_variables(
    env_file: Path | None, *, cwd: Path, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Variables from `.env` (or `env_file`) under the real environment, which wins.

    Returns the values, the origin of each ("environment" or ".env file …") and problems, such as
    a line of the file that could not be parsed. Nothing is written to `os.environ`.
    """
    from dotenv.parser import parse_stream

    environ = os.environ if environ is None else environ
    path = env_file if env_file is not None else cwd / ".env"
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    if looks_like_a_file(path):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            text = ""
        for binding in parse_stream(io.StringIO(text)):
            if binding.error:
                problems.append(f"{path} line {binding.original.line}: cannot parse this line")
            elif binding.key is not None and binding.value is not None:
                values[binding.key] = binding.value
                origins[binding.key] = f"{path.name} file"
    for name, value in environ.items():
        values[name] = value
        origins[name] = "environment"
    return values, origins, problems


def variables_layer(
    values: Mapping[str, str], origins: Mapping[str, str], problems: list[str] | None = None
) -> Layer:
    """Settings from the seed samples' AZURE_OPENAI_* variables, the SDK's OPENAI_* ones and
    chat-tui's own CHAT_TUI_* (OPTIONS); values that do not parse go to `problems`."""

    def get(name: str) -> str:
        return values.get(name, "").strip()

    def sourced(name: str, value: object, azure_hint: bool = False) -> Sourced:
        return Sourced(value, f"{origins.get(name, 'environment')}: {name}", azure_hint)

    def first(*names: str) -> str | None:
        return next((name for name in names if get(name)), None)

    layer: Layer = {}
    provider_name = get("CHAT_TUI_PROVIDER").lower()
    if provider_name in Provider._value2member_map_:
        layer["provider"] = sourced("CHAT_TUI_PROVIDER", Provider(provider_name))
    openai_set = any(get(n) for n in ("OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY"))
    azure_family = bool(get("AZURE_OPENAI_ENDPOINT")) or (
        provider_name.startswith("azure")
        or (not openai_set and bool(first("AZURE_OPENAI_CHAT_DEPLOYMENT", "AZURE_OPENAI_API_KEY")))
    )
    if name := first("AZURE_OPENAI_ENDPOINT", "OPENAI_BASE_URL"):
        layer["endpoint"] = sourced(name, get(name), azure_hint=name == "AZURE_OPENAI_ENDPOINT")
    azure_model, openai_model = "AZURE_OPENAI_CHAT_DEPLOYMENT", "OPENAI_MODEL"
    azure_key, openai_key = "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"
    model_order = (azure_model, openai_model) if azure_family else (openai_model, azure_model)
    if name := first(*model_order):
        layer["model"] = sourced(name, get(name))
    # Keys stay tied to their family: resolve() never sends an Azure key to another server.
    for setting, name in ((_AZURE_KEY, azure_key), (_OPENAI_KEY, openai_key)):
        if get(name):
            layer[setting] = sourced(name, get(name))
    if name := first("AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION"):
        layer["api_version"] = sourced(name, get(name))
    # The system prompt keeps its inner whitespace; only an empty value counts as unset.
    if values.get("AZURE_OPENAI_SYSTEM_PROMPT"):
        layer["system_prompt"] = sourced(
            "AZURE_OPENAI_SYSTEM_PROMPT", values["AZURE_OPENAI_SYSTEM_PROMPT"]
        )
    for option in OPTIONS:
        if text := get(option.variable):
            try:
                layer[option.name] = sourced(option.variable, VALUE_PARSERS[option.name](text))
            except SettingsError as exc:
                if problems is not None:
                    problems.append(f"{option.variable}: {exc}")
    if get("CHAT_TUI_AUTH").lower() in Auth._value2member_map_:
        layer["auth"] = sourced("CHAT_TUI_AUTH", Auth(get("CHAT_TUI_AUTH").lower()))
    return layer


# -- profiles and flags ---------------------------------------------------------------------


def check_endpoint(layer: Layer, problems: list[str]) -> None:
    """Report the layer's endpoint if it is not a usable URL, naming where it came from.

    It stays in the layer, and so in the settings, whose problems() then stop every request:
    falling back on a lower source's endpoint would send the conversation (and perhaps this
    source's key) to a server the user did not name.
    """
    endpoint = layer.get("endpoint")
    if endpoint is None:
        return
    try:
        parse_endpoint(str(endpoint.value))
    except SettingsError as exc:
        problems.append(f"{endpoint.source}: {exc}")


def profile_layer(
    profile: Mapping[str, object],
    source: str,
    problems: list[str],
    lines: Mapping[str, int] | None = None,
) -> Layer:
    """A config-file profile as a layer; values that do not parse are reported (with their line
    in the file, where known) and skipped.

    An endpoint that is not a usable URL is reported and kept: see check_endpoint.
    """
    lines = lines or {}
    layer: Layer = {}
    for key, value in profile.items():
        try:
            if key == "endpoint":
                value = str(value).strip()  # checked by check_endpoint, as from every source
            elif key in VALUE_PARSERS:
                value = VALUE_PARSERS[key](str(value))
        except (SettingsError, ValueError) as exc:
            line = f" line {lines[key]}" if key in lines else ""
            problems.append(f"{source}{line}: {key}: {exc}")
            continue
        layer[key] = Sourced(value, source)
    check_endpoint(layer, problems)
    return layer


def flags_layer(flags: Flags) -> Layer:
    layer: Layer = {}
    for name, flag in (
        ("provider", "--provider"),
        ("endpoint", "--endpoint"),
        ("model", "--model"),
        ("api_version", "--api-version"),
        ("system_prompt", "--system"),
    ):
        value = getattr(flags, name)
        if isinstance(value, str) and name not in ("provider", "system_prompt"):
            value = value.strip()  # a stray space from the shell; a prompt keeps its own
        if value is not None:
            layer[name] = Sourced(value, flag)
    for option in OPTIONS:
        if option.name in flags.options:
            layer[option.name] = Sourced(flags.options[option.name], option.flag)
    return layer


# -- resolution -----------------------------------------------------------------------------


def resolve(layers: Iterable[Layer]) -> tuple[Settings, dict[str, str]]:
    """Merge layers (lowest first); infer the provider where no layer names one."""
    merged: Layer = {}
    height: dict[str, int] = {}  # the layer each merged value came from
    provider: Sourced | None = None
    for index, layer in enumerate(layers):
        merged.update(layer)
        height.update(dict.fromkeys(layer, index))
        # The provider follows the highest layer that speaks about the connection.
        if "provider" in layer:
            provider = layer["provider"]
        elif "endpoint" in layer:
            endpoint = layer["endpoint"]
            inferred = infer_provider(str(endpoint.value), azure_hint=endpoint.azure_hint)
            provider = Sourced(inferred, f"inferred from {endpoint.source}")
    if provider is not None:
        merged["provider"] = provider
    _choose_key(merged, height)
    defaults = Settings()
    values = {
        name: merged[name].value if name in merged else getattr(defaults, name)
        for name in Settings.__dataclass_fields__
    }
    sources = {
        name: merged[name].source if name in merged else DEFAULT_SOURCE
        for name in Settings.__dataclass_fields__
    }
    return Settings(**values), sources  # type: ignore[arg-type]


def _choose_key(merged: Layer, height: dict[str, int]) -> None:
    """Use the environment's key for the provider's family, unless a higher layer set one."""
    provider = merged["provider"].value if "provider" in merged else Settings().provider
    families = [_AZURE_KEY] if provider in (Provider.AZURE,) else [_OPENAI_KEY]
    if provider is Provider.AZURE_V1:
        families = [_AZURE_KEY, _OPENAI_KEY]
    candidates = [name for name in families if name in merged]
    env_key = merged[candidates[0]] if candidates else None
    if env_key is not None and height.get("api_key", -1) < height[candidates[0]]:
        merged["api_key"] = env_key
    merged.pop(_AZURE_KEY, None)
    merged.pop(_OPENAI_KEY, None)


def load_settings(
    flags: Flags,
    config: ConfigFile,
    *,
    cwd: Path,
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Resolved:
    """The effective settings at start-up, from every source."""
    problems = list(config.problems)
    for name in config.profiles:  # every profile is checked now, not when first chosen
        _config_profile(config, name, problems, chosen_by="")
    values, origins, env_problems = read_variables(env_file, cwd=cwd, environ=environ)
    problems += env_problems
    provider_name = values.get("CHAT_TUI_PROVIDER", "").strip().lower()
    if provider_name and provider_name not in Provider._value2member_map_:
        choices = ", ".join(p.value for p in Provider)
        problems.append(f"CHAT_TUI_PROVIDER={provider_name!r} is not one of {choices}")
    layers: list[Layer] = []
    profile = config.default_profile
    if profile is not None:
        layers.append(_config_profile(config, profile, []))
    environment = variables_layer(values, origins, problems)
    check_endpoint(environment, problems)
    layers.append(environment)
    if flags.profile is not None:
        if flags.profile in config.profiles:
            profile = flags.profile
            layers.append(_config_profile(config, profile, [], chosen_by="--profile"))
        else:
            known = ", ".join(sorted(config.profiles)) or "none"
            problems.append(
                f"--profile {flags.profile}: no such profile in {config.path} (profiles: {known})"
            )
    flagged = flags_layer(flags)
    check_endpoint(flagged, problems)
    layers.append(flagged)
    settings, sources = resolve(layers)
    return Resolved(settings, sources, profile, problems, environment)


# Settings that belong to the chat rather than the connection: a profile switch keeps them
# unless the profile sets them.
_CHAT_SETTINGS = (
    "system_prompt",
    "temperature",
    "max_tokens",
    "read_timeout",
    "reasoning_effort",
    "show_reasoning",
    "image_detail",
    "compact_at",
    "log",
    "log_level",
)


def switch_profile(current: Resolved, config: ConfigFile, name: str) -> Resolved:
    """Apply profile `name`, as chosen in the app: its connection wins over everything.

    What the profile leaves out of the connection comes from the environment (a key for the
    profile's provider, say); the chat settings (system prompt, temperature, max tokens) stay.
    """
    problems: list[str] = []
    kept = {
        key: Sourced(getattr(current.settings, key), current.sources[key]) for key in _CHAT_SETTINGS
    }
    layer = _config_profile(config, name, problems, chosen_by="chosen in the app")
    settings, sources = resolve([current.environment, kept, layer])
    return Resolved(settings, sources, name, problems, current.environment)


def _config_profile(
    config: ConfigFile, name: str, problems: list[str], chosen_by: str = "default"
) -> Layer:
    how = f" ({chosen_by})" if chosen_by else ""
    source = f"profile {name}{how} in {config.path}"
    lines = {key: line for (profile, key), line in config.lines.items() if profile == name}
    return profile_layer(config.profiles[name], source, problems, lines)


def describe(resolved: Resolved) -> str:
    """The effective settings as lines of `name = value  (source)`, fit for a terminal.

    The key is masked and so are the credentials in the endpoint URL; every value and source is
    made visible on one line, so that no value (from a .env file, say) can move the cursor or
    print a line that passes for another setting.
    """
    settings = resolved.settings
    lines = []
    for name in Settings.__dataclass_fields__:
        value = settings.masked_key if name == "api_key" else getattr(settings, name)
        shown = "(not set)" if value in ("", None) else str(value)
        if name == "endpoint" and value:
            shown = redact_url(shown)
        lines.append(
            f"{name:{NAME_WIDTH}} = {one_line(shown)}  ({one_line(resolved.sources[name])})"
        )
    return "\n".join(lines)
