"""What a reply costs: prices per model, and the cost of the tokens a server reported.

The defaults are OpenAI's published list prices in US dollars per million tokens, as read on
PRICES_AS_OF (Azure OpenAI's global deployments list the same). Prices change and deployments
differ (regional, data-zone, provisioned): the config file's `[prices."MODEL"]` tables override
them and add models (`input`, `cached_input`, `output`). A model with no price gets no cost:
never a guess.

Cached tokens are part of the prompt tokens and reasoning tokens part of the completion tokens
(see events.Usage), so each token is priced once: the cached part of the prompt at the cached
price, the rest at the input price, every completion token (reasoning included) at the output
price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from chat_tui.events import Usage
    from chat_tui.reply_stats import ReplyStats

PRICES_AS_OF = "2025-08"
PER = 1_000_000  # prices are per million tokens


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens. `cached_input` None: cached tokens cost as input."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, usage: Usage) -> float:
        """What `usage` costs at this price, in dollars."""
        cached = min(usage.cached_tokens or 0, usage.prompt_tokens)
        cached_price = self.cached_input if self.cached_input is not None else self.input
        return (
            (usage.prompt_tokens - cached) * self.input
            + cached * cached_price
            + usage.completion_tokens * self.output
        ) / PER


# First match wins, at the start of the name (dated snapshots match their model): the more
# specific names first.
_DEFAULTS: tuple[tuple[str, Price], ...] = (
    (r"gpt-5(\.\d+)?-nano", Price(0.05, 0.40, 0.005)),
    (r"gpt-5(\.\d+)?-mini", Price(0.25, 2.00, 0.025)),
    (r"gpt-5(\.\d+)?-pro", Price(15.00, 120.00)),
    (r"gpt-5(\.\d+)?(-chat)?", Price(1.25, 10.00, 0.125)),
    (r"gpt-4\.1-nano", Price(0.10, 0.40, 0.025)),
    (r"gpt-4\.1-mini", Price(0.40, 1.60, 0.10)),
    (r"gpt-4\.1", Price(2.00, 8.00, 0.50)),
    (r"gpt-4o-mini", Price(0.15, 0.60, 0.075)),
    (r"gpt-4o", Price(2.50, 10.00, 1.25)),
    (r"o4-mini", Price(1.10, 4.40, 0.275)),
    (r"o3-mini", Price(1.10, 4.40, 0.55)),
    (r"o3-pro", Price(20.00, 80.00)),
    (r"o3", Price(2.00, 8.00, 0.50)),
    (r"o1-mini", Price(1.10, 4.40, 0.55)),
    (r"o1", Price(15.00, 60.00, 7.50)),
)
_COMPILED = tuple(
    (re.compile(pattern + r"\b", re.IGNORECASE), price) for pattern, price in _DEFAULTS
)
_PREFIX = re.compile(r"^[\w.-]+/")  # "openai/gpt-4o", "azure/o3"


def price_of(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of `model` (the name the server reported, or the one asked for): the user's
    own for that exact name first, then the defaults; None when there is none."""
    overrides = overrides or {}
    if model in overrides:
        return overrides[model]
    folded = {name.casefold(): price for name, price in overrides.items()}
    bare = _PREFIX.sub("", model.strip())
    if (own := folded.get(bare.casefold())) is not None:
        return own
    return next((price for pattern, price in _COMPILED if pattern.match(bare)), None)


def parse_price(table: Mapping[str, object]) -> Price:
    """A `[prices."MODEL"]` table of the config file; ValueError says what is wrong."""
    unknown = set(table) - {"input", "output", "cached_input"}
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r} (input, cached_input, output)")
    values: dict[str, float] = {}
    for name in ("input", "output", "cached_input"):
        value = table.get(name)
        if value is None and name != "cached_input":
            raise ValueError(f"{name} is missing (dollars per million tokens)")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name} must be a number of dollars per million tokens, >= 0")
        values[name] = float(value)
    return Price(values["input"], values["output"], values.get("cached_input"))


def dollars(amount: float) -> str:
    """A cost as shown: cents to four places below a dollar, so small replies do not read 0."""
    if amount < 0.01:
        return f"${amount:.4f}"
    if amount < 1:
        return f"${amount:.3f}"
    return f"${amount:,.2f}"


def reply_cost(stats: ReplyStats, overrides: Mapping[str, Price] | None = None) -> float | None:
    """What one reply cost, from the tokens the server reported and its model's price; None
    without a price or without counts."""
    from chat_tui.events import Usage

    if stats.prompt_tokens is None or stats.completion_tokens is None:
        return None
    price = price_of(stats.model, overrides) if stats.model else None
    if price is None:
        return None
    usage = Usage(
        stats.prompt_tokens,
        stats.completion_tokens,
        stats.total_tokens,
        stats.reasoning_tokens,
        stats.cached_tokens,
    )
    return price.cost(usage)


def total_cost(
    stats: Iterable[ReplyStats | None], overrides: Mapping[str, Price] | None = None
) -> float | None:
    """What the replies cost together (replaced and taken-out ones too: they were paid for);
    None when none of them has a price."""
    costs = [c for s in stats if s is not None and (c := reply_cost(s, overrides)) is not None]
    return sum(costs) if costs else None
