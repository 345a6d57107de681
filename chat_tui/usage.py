"""Tokens and cost by day and by model, from the replies saved in the store: what
`chat-tui --usage` prints, and today's spend on the status line.

The token counts are the servers' (each reply's usage report, saved with it); chat-tui estimates
none here. Costs are prices.py's: each token priced once, and none for a model without a price.
A reply counts on the day (local time) it was asked for; replies taken out or replaced count too
(they were paid for), while those of a deleted conversation are gone with it.
"""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from chat_tui.prices import PRICES_AS_OF, dollars, price_of, reply_cost
from chat_tui.reply_stats import ReplyStats
from chat_tui.text import one_line

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from chat_tui.prices import Price

DEFAULT_DAYS = 30
MAX_DAYS = 36_500  # a century: more would be before any date
UNKNOWN_MODEL = "(unknown)"  # a reply whose server named no model
MODEL_WIDTH = 40  # a longer name (a server's to choose) is cut
NO_PRICE = "-"
NOTE_WIDTH = 96  # the notes under the table, wrapped

# What the store gives: when each reply was asked for (time.time()), and its stats as saved.
Row = tuple[float, dict[str, Any] | None]


@dataclass(slots=True)
class Tally:
    """One model's replies on one day."""

    day: date
    model: str
    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens
    completion_tokens: int = 0
    reasoning_tokens: int = 0  # of completion_tokens
    uncounted: int = 0  # replies the server reported no tokens for (stopped, failed…)
    cost: float | None = None  # dollars; None: the model has no price

    def add(self, stats: ReplyStats, prices: Mapping[str, Price]) -> None:
        self.requests += 1
        if stats.prompt_tokens is None or stats.completion_tokens is None:
            self.uncounted += 1
            return
        self.prompt_tokens += stats.prompt_tokens
        self.cached_tokens += stats.cached_tokens or 0
        self.completion_tokens += stats.completion_tokens
        self.reasoning_tokens += stats.reasoning_tokens or 0
        cost = reply_cost(stats, prices)
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost


def day_start(day: date) -> float:
    """The moment `day` begins, local time, as time.time() counts."""
    return time.mktime(day.timetuple())


def tallies(rows: Iterable[Row], prices: Mapping[str, Price] | None = None) -> list[Tally]:
    """The replies of `rows` by day and model, oldest day first, models by name."""
    prices = prices or {}
    found: dict[tuple[date, str], Tally] = {}
    for created, saved in rows:
        stats = ReplyStats.from_dict(saved)
        if stats is None:
            continue  # unreadable: nothing to count
        try:
            day = date.fromtimestamp(created)
        except (OverflowError, OSError, ValueError):
            continue  # a time no calendar has (a damaged row): not a day to count it on
        model = stats.model or UNKNOWN_MODEL
        tally = found.get((day, model))
        if tally is None:
            tally = found[day, model] = Tally(day, model)
            if stats.model and price_of(stats.model, prices) is not None:
                tally.cost = 0.0  # priced: a reply without counts adds nothing, but it has one
        tally.add(stats, prices)
    return [found[key] for key in sorted(found)]


def spent(found: Iterable[Tally]) -> float | None:
    """What the priced replies cost together; None when none has a price."""
    costs = [t.cost for t in found if t.cost is not None]
    return sum(costs) if costs else None


def first_day(days: int, today: date | None = None) -> date:
    """The first of the last `days` days, today included."""
    return (today or date.today()) - timedelta(days=max(1, days) - 1)


def _tokens(count: int, part: int) -> str:
    return f"{count:,} ({part:,})"


def _model(name: str) -> str:
    shown = one_line(name)  # a server's words: never a control sequence on the terminal
    return shown if len(shown) <= MODEL_WIDTH else shown[: MODEL_WIDTH - 1] + "…"


def table(found: Sequence[Tally], since: date) -> str:
    """The text `chat-tui --usage` prints: a row per day and model, the totals, and notes."""
    if not found:
        return f"No replies saved since {since.isoformat()}.\n"
    header = ("day", "model", "requests", "prompt (cached)", "completion (reasoning)", "cost")
    rows = [
        (
            t.day.isoformat(),
            _model(t.model),
            f"{t.requests:,}",
            _tokens(t.prompt_tokens, t.cached_tokens),
            _tokens(t.completion_tokens, t.reasoning_tokens),
            NO_PRICE if t.cost is None else dollars(t.cost),
        )
        for t in found
    ]
    total = spent(found)
    rows.append(
        (
            "total",
            "",
            f"{sum(t.requests for t in found):,}",
            _tokens(sum(t.prompt_tokens for t in found), sum(t.cached_tokens for t in found)),
            _tokens(
                sum(t.completion_tokens for t in found), sum(t.reasoning_tokens for t in found)
            ),
            NO_PRICE if total is None else dollars(total),
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4, 5}  # the numbers line up on their last digit

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [f"Since {since.isoformat()}:", line(header)]
    lines += [line(row) for row in rows[:-1]]
    lines += ["-" * len(line(header)), line(rows[-1]), ""]
    notes: list[str] = []
    if any(t.cost is None for t in found):
        lines.append(
            f"{NO_PRICE}: no price for the model (none is guessed); add one to the config file "
            'as [prices."MODEL"] with input, cached_input and output in dollars per million '
            "tokens. The total is of the priced models."
        )
    uncounted = sum(t.uncounted for t in found)
    if uncounted:
        replies = "reply" if uncounted == 1 else "replies"
        notes.append(
            f"{uncounted:,} {replies} without token counts from the server (stopped or failed "
            "early, or a server that reports none): in the requests, not in the tokens or cost."
        )
    notes.append(
        "Tokens as the servers reported them; cached tokens are part of the prompt and "
        "reasoning tokens part of the completion, each priced once. Costs in US dollars at "
        f"chat-tui's list prices (as of {PRICES_AS_OF}) or the config file's."
    )
    lines += [textwrap.fill(note, NOTE_WIDTH, break_on_hyphens=False) for note in notes]
    return "\n".join(lines) + "\n"
