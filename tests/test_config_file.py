"""The config file: profiles read and saved without losing anything, owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from chat_tui.config_file import ConfigError, config_path, load_config, save_profile, save_theme
from chat_tui.settings_sources import Flags, load_settings

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
    assert f"config file      : {path}" in result.stdout
    assert "profile          : local" in result.stdout
    assert "model            = llama3.2  (profile local (default) in" in result.stdout
    assert "api_key          = ••••••••5678  (environment: OPENAI_API_KEY)" in result.stdout


DEEP = "theme = " + "[" * 5000 + "]" * 5000 + "\n"


def test_deeply_nested_config_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(DEEP)
    config = load_config(path)
    assert config.problems == [
        f"{path}: arrays or tables are nested too deeply to read; the file was ignored"
    ]
    assert config.profiles == {}


def test_deeply_nested_config_still_starts(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(DEEP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHAT_TUI_"))}
    result = subprocess.run(
        [sys.executable, "-m", "chat_tui", "--print-config", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "nested too deeply to read; the file was ignored" in result.stderr
    assert "config.toml" in result.stderr


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"default_profile = [\n", "not valid TOML"),
        (b'[profiles.local]\nmodel = "m"\nmodel = "again"\n', "not valid TOML"),
        (DEEP.encode(), "not valid TOML"),
        (b"profiles = 3\n", "profiles is not a table"),
        (b'[profiles]\nlocal = "a string"\n', "profiles.local is not a table"),
        (b"[[profiles.local]]\nmodel = 'm'\n", "profiles.local is not a table"),
        (b'[profiles.local]\nmodel = "caf\xe9"\n', "not UTF-8 text"),
    ],
)
def test_save_leaves_a_file_it_cannot_update_as_it_was(
    tmp_path: Path, text: bytes, why: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text)
    with pytest.raises(ConfigError, match=why) as caught:
        save_profile(path, "local", {"model": "new"})
    assert "nothing was written" in str(caught.value)
    assert path.read_bytes() == text
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary file left


@pytest.mark.parametrize("text", ["default_profile = [\n", DEEP])
def test_remembering_the_theme_leaves_a_malformed_file_as_it_was(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="nothing was written"):
        save_theme(path, "nord")
    assert path.read_text() == text


def test_save_writes_under_the_name_the_file_uses(tmp_path: Path) -> None:
    # `deployment` is another name for `model`: a second key beside it would shadow one of them.
    path = tmp_path / "config.toml"
    path.write_text('[profiles.work]\ndeployment = "old"  # Azure calls it that\n')
    save_profile(path, "work", {"model": "new"})
    text = path.read_text()
    assert 'deployment = "new"  # Azure calls it that' in text
    assert "model" not in text
    assert load_config(path).profiles["work"] == {"model": "new"}


def test_a_profile_that_names_one_setting_twice_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.work]\nmodel = "a"\ndeployment = "b"\n')
    config = load_config(path)
    assert config.profiles["work"] == {"model": "b"}
    [problem] = config.problems
    assert "profiles.work sets both model and deployment, one setting; deployment" in problem
    assert problem.startswith(f"{path} line 3: ")


def test_a_bad_value_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "# mine\n"
        '[profiles."home lab"]\n'
        'endpoint = "http://127.0.0.1:11434/v1"\n'
        "temperature = 9\n"
        "\n"
        "[profiles.work]\n"
        "colour = 'blue'\n"
        "max_tokens = 'lots'\n"
    )
    config = load_config(path)
    assert f"{path} line 7: profiles.work: unknown key 'colour' (ignored)" in config.problems
    assert f"{path} line 8: profiles.work.max_tokens has the wrong type (ignored)" in (
        config.problems
    )
    resolved = load_settings(Flags(profile="home lab"), config, cwd=tmp_path, environ={})
    assert any(
        f"profile home lab in {path} line 4: temperature: " in problem
        for problem in resolved.problems
    ), resolved.problems
