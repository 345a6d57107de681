"""The config file: profiles read and saved without losing anything, owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

from chat_tui.config_file import config_path, load_config, save_profile

if TYPE_CHECKING:
    from pathlib import Path

EXISTING = """\
# chat-tui settings, edited by hand
default_profile = "local"

[profiles.local]  # my laptop
endpoint = "http://localhost:11434/v1"
model = "llama3.2"

[profiles.other]
model = "keep-me"  # do not touch
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_config_path_follows_the_variable(tmp_path: Path) -> None:
    assert config_path({"CHAT_TUI_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"
    assert config_path({}).name == "config.toml"


def test_save_new_file_is_owner_only_and_becomes_the_default(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    save_profile(path, "work", {"provider": "azure", "endpoint": "https://w", "api_key": "k"})
    assert mode(path) == 0o600
    config = load_config(path)
    assert config.problems == []
    assert config.default_profile == "work"
    assert config.profiles["work"] == {"provider": "azure", "endpoint": "https://w", "api_key": "k"}


def test_save_keeps_comments_and_other_profiles(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(EXISTING)
    os.chmod(path, 0o644)
    save_profile(path, "local", {"model": "qwen3", "temperature": 0.5, "endpoint": None})
    text = path.read_text()
    for kept in ("# chat-tui settings, edited by hand", "# my laptop", "# do not touch"):
        assert kept in text
    config = load_config(path)
    assert config.default_profile == "local"
    assert config.profiles["local"] == {"model": "qwen3", "temperature": 0.5}
    assert config.profiles["other"] == {"model": "keep-me"}
    assert mode(path) == 0o600  # it may hold a key from now on


def test_save_new_profile_next_to_existing_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(EXISTING)
    save_profile(path, "new", {"model": "m"}, make_default=True)
    config = load_config(path)
    assert config.default_profile == "new"
    assert set(config.profiles) == {"local", "other", "new"}
    assert "# do not touch" in path.read_text()


def test_print_config_masks_the_key_and_names_sources(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(EXISTING)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AZURE_OPENAI_", "OPENAI_", "CHAT_TUI_"))
    }
    env |= {"OPENAI_API_KEY": "sk-do-not-print-me-5678", "CHAT_TUI_CONFIG": str(path)}
    result = subprocess.run(
        [sys.executable, "-m", "chat_tui", "--print-config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    assert "do-not-print" not in result.stdout + result.stderr
    assert "5678" in result.stdout
    assert f"config file   : {path}" in result.stdout
    assert "profile       : local" in result.stdout
    assert "model         = llama3.2  (profile local (default) in" in result.stdout
    assert "api_key       = ••••••••5678  (environment: OPENAI_API_KEY)" in result.stdout
