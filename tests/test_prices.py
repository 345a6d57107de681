"""Prices and costs: each token priced once (cached tokens are part of the prompt, reasoning
tokens part of the completion), the defaults, and the user's own from the config file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_tui.config_file import load_config
from chat_tui.events import Usage
from chat_tui.prices import Price, dollars, parse_price, price_of, reply_cost
from chat_tui.reply_stats import ReplyStats

if TYPE_CHECKING:
    from pathlib import Path


def test_cached_and_reasoning_tokens_are_priced_as_parts_never_twice() -> None:
    price = Price(input=2.0, output=8.0, cached_input=0.5)
    usage = Usage(
        prompt_tokens=1_000_000,
        completion_tokens=500_000,
        total_tokens=1_500_000,
        reasoning_tokens=400_000,  # part of the 500,000: output, once
        cached_tokens=600_000,  # part of the 1,000,000: at the cached price
    )
    assert price.cost(usage) == pytest.approx(400_000 * 2 / 1e6 + 600_000 * 0.5 / 1e6 + 4.0)
    # Without a cached price, cached tokens cost as input.
    assert Price(2.0, 8.0).cost(usage) == pytest.approx(2.0 + 4.0)
    # A server that says more were cached than sent is not believed beyond the prompt.
    odd = Usage(10, 0, 10, cached_tokens=50)
    assert price.cost(odd) == pytest.approx(10 * 0.5 / 1e6)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-2024-08-06", Price(2.50, 10.00, 1.25)),
        ("gpt-4o-mini", Price(0.15, 0.60, 0.075)),
        ("openai/gpt-4.1-mini", Price(0.40, 1.60, 0.10)),
        ("GPT-5", Price(1.25, 10.00, 0.125)),
        ("o3-2025-04-16", Price(2.00, 8.00, 0.50)),
        ("o4-mini", Price(1.10, 4.40, 0.275)),
        ("llama3.2", None),  # no price: no cost, never a guess
        ("my-deployment", None),
    ],
)
def test_default_prices(model: str, expected: Price | None) -> None:
    assert price_of(model) == expected


def test_the_users_prices_come_first() -> None:
    own = {"gpt-4o": Price(1.0, 2.0), "Llama3.2": Price(0.0, 0.0)}
    assert price_of("gpt-4o", own) == Price(1.0, 2.0)
    assert price_of("llama3.2", own) == Price(0.0, 0.0)  # names compare case-folded
    assert price_of("gpt-4o-mini", own) == Price(0.15, 0.60, 0.075)  # exact names only


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"output": 1}, "input is missing"),
        ({"input": 1, "output": "2"}, "output must be a number"),
        ({"input": -1, "output": 2}, "input must be a number"),
        ({"input": True, "output": 2}, "input must be a number"),
        ({"input": 1, "output": 2, "per": 1000}, "unknown key 'per'"),
    ],
)
def test_a_bad_price_says_what_is_wrong(table: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_price(table)


def test_prices_in_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[prices."gpt-4o"]\ninput = 2\ncached_input = 1\noutput = 8\n'
        '[prices."bad"]\ninput = "free"\noutput = 0\n'
        "[prices.worse]\nnot_a_table = 1\n"
    )
    config = load_config(path)
    assert config.prices == {"gpt-4o": Price(2.0, 8.0, 1.0)}
    assert any("prices.bad: input must be a number" in p for p in config.problems)
    assert any("prices.worse" in p for p in config.problems)


def test_dollars() -> None:
    assert dollars(0.000123) == "$0.0001"
    assert dollars(0.25) == "$0.250"
    assert dollars(1234.5) == "$1,234.50"


def test_a_replys_cost_from_its_stats_each_token_once() -> None:
    stats = ReplyStats(
        model="o3-2025-04-16",
        prompt_tokens=1_000_000,
        completion_tokens=500_000,
        reasoning_tokens=400_000,  # of the completion: output, once
        cached_tokens=600_000,  # of the prompt: at o3's cached price
    )
    # 400,000 uncached at $2/M, 600,000 cached at $0.50/M, 500,000 out at $8/M.
    assert reply_cost(stats) == pytest.approx(0.8 + 0.3 + 4.0)
    assert reply_cost(ReplyStats(model="llama3.2", prompt_tokens=1, completion_tokens=1)) is None
    assert reply_cost(ReplyStats(model="o3", ending="stopped")) is None  # no counts, no cost
    # The reply's footer: the cost after its tokens, before how it ended.
    footer = ReplyStats(model="o3", prompt_tokens=10, completion_tokens=5, ending="complete")
    assert footer.summary(0.25) == "o3 · 10 in → 5 out tokens · $0.250 · finished"
    assert footer.summary() == "o3 · 10 in → 5 out tokens · finished"
