"""The context meter's arithmetic: the server's counts, estimates for what came since, and the
model's window (known, or the setting's)."""

from __future__ import annotations

import pytest

from chat_tui.context_meter import ContextFill, context_fill, estimate_tokens, short_count
from chat_tui.model_info import context_window
from chat_tui.settings import SettingsError, parse_context_window


def test_the_servers_count_and_an_estimate_for_what_came_since() -> None:
    fill = context_fill(1000, "x" * 401, 128_000)
    assert fill == ContextFill(1101, 128_000, estimated=True)
    assert fill.words() == "context ~1.1k / 128k (1%)"
    exact = context_fill(100_000, "", 128_000)
    assert not exact.estimated
    assert exact.words() == "context 100k / 128k (78%)"
    assert not exact.warning
    assert context_fill(110_000, "", 128_000).warning  # 86%: before the server refuses
    assert context_fill(None, "hello", None).words() == "context ~2 tokens"
    assert context_fill(None, "", None).bar() == ""


def test_the_bar() -> None:
    assert ContextFill(0, 100).bar() == "▱" * 8
    assert ContextFill(50, 100).bar() == "▰" * 4 + "▱" * 4
    assert ContextFill(150, 100).bar() == "▰" * 8  # over the limit: full, not longer


@pytest.mark.parametrize(
    ("model", "window"),
    [
        ("gpt-4o-2024-08-06", 128_000),
        ("gpt-4.1-mini", 1_047_576),
        ("gpt-5", 272_000),
        ("gpt-5-chat-latest", 128_000),
        ("o3-mini", 200_000),
        ("azure/o4-mini", 200_000),
        ("llama3.2", None),
    ],
)
def test_known_windows(model: str, window: int | None) -> None:
    assert context_window(model) == window


def test_helpers() -> None:
    assert estimate_tokens("abcde") == 2
    assert short_count(999) == "999"
    assert short_count(12_345) == "12.3k"
    assert short_count(1_047_576) == "1.05M"
    assert short_count(2_000_000) == "2M"
    assert parse_context_window("128,000") == 128_000
    assert parse_context_window(" ") is None
    with pytest.raises(SettingsError):
        parse_context_window("12")
    with pytest.raises(SettingsError):
        parse_context_window("lots")
