"""The user config file: named connection profiles in TOML.

Read with the standard library; saved with tomlkit, which keeps the user's comments, order and
other profiles. The file is always written owner-only (0600), since it may hold an API key.

    default_profile = "work-azure"

    [profiles.work-azure]
    provider = "azure"
    endpoint = "https://my-resource.openai.azure.com"
    model = "gpt-4o-prod"          # the deployment name on Azure
    auth = "entra"

    [profiles.local-ollama]
    endpoint = "http://localhost:11434/v1"
    model = "llama3.2"

    [prices."gpt-4o-2024-08-06"]   # dollars per million tokens (see prices.py)
    input = 2.5
    cached_input = 1.25
    output = 10
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat_tui.command import Command
from chat_tui.prices import Price, parse_price
from chat_tui.private_files import expand_home, looks_like_a_file, replace_private

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tomlkit import TOMLDocument

CONFIG_VARIABLE = "CHAT_TUI_CONFIG"

# Keys a profile may hold, and the type each must have in TOML.
PROFILE_KEYS: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "endpoint": (str,),
    "model": (str,),
    "api_version": (str,),
    "api_key": (str,),
    "auth": (str,),
    "system_prompt": (str,),
    "temperature": (int, float),
    "max_tokens": (int,),
    "read_timeout": (int, float),
    "reasoning_effort": (str,),
    "api": (str,),
    "show_reasoning": (bool,),
    "entra_scope": (str,),
    "image_detail": (str,),
    "context_window": (int,),
    "compact_at": (int,),
    "log": (str,),
    "log_level": (str,),
}
# Accepted as another name for `model`, as Azure users call it.
_ALIASES = {"deployment": "model"}
_TOO_DEEP = "arrays or tables are nested too deeply to read"


class ConfigError(ValueError):
    """The config file cannot be updated as it is; the message says why. Nothing was written."""


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("chat-tui", appauthor=False) / "config.toml"


def config_path(env: dict[str, str] | None = None) -> Path:
    """CHAT_TUI_CONFIG if set, else the platform's config directory."""
    override = (env if env is not None else os.environ).get(CONFIG_VARIABLE, "").strip()
    return expand_home(Path(override)) if override else default_config_path()


COMMANDS = (
    Command(
        "save_settings", "Save settings", "Save", "Save to the config file, without the API key"
    ),
    Command(
        "save_settings",
        "Save settings with the API key",
        "Save",
        "Save to the config file (owner-only), including the API key",
        (True,),
    ),
)


def profile_commands(names: Iterable[str]) -> list[Command]:
    """A command for each profile in the file: switch the connection to it."""
    return [
        Command(
            "use_profile",
            f"Use profile {name}",
            "Profile",
            "Switch the connection; the conversation carries on",
            (name,),
        )
        for name in names
    ]


@dataclass(slots=True)
class ConfigFile:
    path: Path
    default_profile: str | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    theme: str | None = None  # the app's look, as last chosen
    # The user's prices, by model name as the server reports it (see prices.py).
    prices: dict[str, Price] = field(default_factory=dict)
    # The line of each profile's key in the file, (profile, setting) -> line, for messages.
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def line_of(self, profile: str, setting: str) -> int | None:
        return self.lines.get((profile, setting))

    @property
    def exists(self) -> bool:
        return looks_like_a_file(self.path)


def load_config(path: Path) -> ConfigFile:
    """Read the config file; problems are collected with the file and line, never raised."""
    config = ConfigFile(path)
    if not looks_like_a_file(path):
        return config
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        config.problems.append(f"{path}: cannot read: {exc}")
        return config
    except tomllib.TOMLDecodeError as exc:
        # The message names the line and column, e.g. "Expected '=' (at line 3, column 7)".
        config.problems.append(f"{path}: {exc}; the file was ignored")
        return config
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        config.problems.append(f"{path}: {_TOO_DEEP}; the file was ignored")
        return config
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        config.problems.append(f"{path}: default_profile must be a string")
        default = None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        config.problems.append(f"{path}: [profiles] must be a table")
        profiles = {}
    config.lines = _key_lines(text)
    for name, table in profiles.items():
        if not isinstance(table, dict):
            config.problems.append(f"{path}: profiles.{name} must be a table")
            continue
        config.profiles[name] = _checked_profile(config, name, table)
    if default is not None and default not in config.profiles:
        config.problems.append(f"{path}: default_profile {default!r} is not a profile")
        default = None
    config.default_profile = default
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        config.problems.append(f"{path}: theme must be a string")
        theme = None
    config.theme = theme
    config.prices = _checked_prices(config, data.get("prices", {}))
    return config


def _checked_prices(config: ConfigFile, prices: object) -> dict[str, Price]:
    if not isinstance(prices, dict):
        config.problems.append(f"{config.path}: [prices] must be a table")
        return {}
    checked: dict[str, Price] = {}
    for model, table in prices.items():
        try:
            if not isinstance(table, dict):
                raise ValueError("must be a table of input, cached_input and output")
            checked[model] = parse_price(table)
        except ValueError as exc:
            config.problems.append(f"{config.path}: prices.{model}: {exc} (ignored)")
    return checked


def _checked_profile(config: ConfigFile, name: str, table: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    named: dict[str, str] = {}  # setting -> the key the file names it by

    def where(setting: str) -> str:
        line = config.line_of(name, setting)
        return f"{config.path} line {line}" if line else str(config.path)

    for written, value in table.items():
        key = _ALIASES.get(written, written)
        if key in named:
            config.problems.append(
                f"{where(key)}: profiles.{name} sets both {named[key]} and {written}, one "
                f"setting; {written} (the later) is used"
            )
        named[key] = written
        types = PROFILE_KEYS.get(key)
        if types is None:
            config.problems.append(f"{where(key)}: profiles.{name}: unknown key {key!r} (ignored)")
        elif isinstance(value, bool) or not isinstance(value, types):
            config.problems.append(
                f"{where(key)}: profiles.{name}.{key} has the wrong type (ignored)"
            )
        else:
            profile[key] = value
    return profile


# A profile's table header and a key in it, as the file writes them: enough to name the line a
# problem is on (tomllib keeps no positions).
_PROFILE_HEADER = re.compile(
    r"""^\s*\[\s*profiles\s*\.\s*(?P<name>"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*\]"""
)
_KEY_LINE = re.compile(r"""^\s*(?P<key>"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def _key_lines(text: str) -> dict[tuple[str, str], int]:
    lines: dict[tuple[str, str], int] = {}
    profile: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if header := _PROFILE_HEADER.match(line):
            profile = _bare(header["name"])
        elif line.lstrip().startswith("["):
            profile = None
        elif profile is not None and (key := _KEY_LINE.match(line)):
            written = _bare(key["key"])
            lines[(profile, _ALIASES.get(written, written))] = number
    return lines


def _bare(token: str) -> str:
    """A TOML key as written (bare, "basic" or 'literal') as the key it names."""
    if token.startswith('"'):
        try:
            return str(json.loads(token))  # TOML's basic strings escape as JSON's do
        except ValueError:
            return token[1:-1]
    return token[1:-1] if token.startswith("'") else token


def save_profile(
    path: Path, name: str, values: dict[str, Any], *, make_default: bool = False
) -> None:
    """Write one profile, keeping everything else in the file as it was.

    Keys whose value is None are removed from the profile. The file is replaced atomically and
    is owner-only, whether or not it holds a secret now: it may later. Raises ConfigError (and
    writes nothing) if the file cannot be read as a config file, OSError if it cannot be written.
    """
    from tomlkit.exceptions import TOMLKitError

    document = _read_document(path)
    try:
        _set_profile(document, name, values, make_default=make_default)
    except ConfigError as exc:
        raise ConfigError(f"{exc}; nothing was written") from None
    except (TOMLKitError, TypeError, ValueError) as exc:  # a shape tomlkit cannot update
        raise ConfigError(f"cannot update profiles.{name} ({exc}); nothing was written") from None
    _write_checked(path, document)


def _set_profile(
    document: TOMLDocument, name: str, values: dict[str, Any], *, make_default: bool
) -> None:
    import tomlkit

    profiles = document.get("profiles")
    if profiles is None:
        profiles = document["profiles"] = tomlkit.table(is_super_table=True)
    elif not isinstance(profiles, dict):
        raise ConfigError("profiles is not a table")
    if name not in profiles:
        profiles[name] = tomlkit.table()
    profile = profiles[name]
    if not isinstance(profile, dict):
        raise ConfigError(f"profiles.{name} is not a table")
    for key, value in values.items():
        # Under the name the file already uses (deployment = …), not beside it as a second key.
        key = next((alias for alias, to in _ALIASES.items() if to == key and alias in profile), key)
        if value is None:
            profile.pop(key, None)
        else:
            profile[key] = value
    if make_default or "default_profile" not in document:
        document["default_profile"] = name


def save_theme(path: Path, theme: str) -> None:
    """Remember the theme, keeping everything else in the file as it was (or ConfigError)."""
    document = _read_document(path)
    document["theme"] = theme
    _write_checked(path, document)


def _read_document(path: Path) -> TOMLDocument:
    """The file as tomlkit's document (empty if there is none), or ConfigError saying why not."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = path.read_text(encoding="utf-8") if looks_like_a_file(path) else ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc}); nothing was written") from None
    try:
        return tomlkit.parse(text)
    except (TOMLKitError, ValueError) as exc:
        raise ConfigError(f"not valid TOML ({exc}); nothing was written") from None
    except RecursionError:
        raise ConfigError(f"{_TOO_DEEP}; nothing was written") from None


def _write_checked(path: Path, document: TOMLDocument) -> None:
    """Write the document, once it is known to read back: a save never leaves a broken file."""
    import tomlkit

    text = tomlkit.dumps(document)
    try:
        tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"the file would not read back ({exc}); nothing was written") from None
    _write_private(path, text)


def _write_private(path: Path, text: str) -> None:
    # A symlinked config (dotfiles) is written where it points.
    replace_private(path.resolve(), text.encode("utf-8"))
