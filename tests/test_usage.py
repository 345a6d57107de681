"""Tokens and cost by day and by model: `chat-tui --usage` over the saved replies, a reply's cost
in its footer and today's spend on the status line; each token priced once."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import Input, Static

from chat_tui.cli import main
from chat_tui.client import ChatClient
from chat_tui.config_file import load_config
from chat_tui.store import DATABASE_NAME, AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.widgets.messages import AssistantMessage
from chat_tui.tui.widgets.status_bar import StatusBar
from chat_tui.usage import Tally, day_start, spent, tallies
from tests.conftest import compatible_settings
from tests.openai_server import TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, wait_for
from tests.test_app_settings import note

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

HOSTILE = "\x1b[31mevil[red]x[/]\u202e"
# Dollars per million tokens: large, so that a few tokens cost exact cents.
PRICES = '[prices."local-model"]\ninput = 1000\ncached_input = 100\noutput = 2000\n'


def stats(model: str, prompt: int | None, completion: int | None, **parts: int) -> dict[str, Any]:
    """A reply's stats as the store keeps them (`cached_tokens`, `reasoning_tokens` in parts)."""
    saved: dict[str, Any] = {"model": model, "ending": "complete", **parts}
    if prompt is not None and completion is not None:
        saved |= {"prompt_tokens": prompt, "completion_tokens": completion}
    return saved


def fill(store: Store) -> None:
    """A day's replies: priced by default and by the config file, unpriced, without counts,
    replaced; and the user's messages, which cost nothing themselves."""
    first = store.create_conversation("first", "")
    store.add_message(first, "user", "hi", "complete")
    # gpt-4o: 6,000 uncached at $2.50/M, 4,000 cached at $1.25/M, 2,000 out at $10/M (500 of
    # them reasoning, priced once as output): $0.040.
    store.add_message(
        first,
        "assistant",
        "a",
        "complete",
        stats("gpt-4o-2024-08-06", 10_000, 2_000, cached_tokens=4_000, reasoning_tokens=500),
    )
    # Replaced by the one above, but paid for: 2,000 in, 100 out: $0.006.
    store.add_message(
        first,
        "assistant",
        "b",
        "complete",
        stats("gpt-4o-2024-08-06", 2_000, 100),
        hidden="superseded",
    )
    # Stopped before the server counted anything: a request, no tokens, no cost.
    store.add_message(first, "assistant", "c", "stopped", stats("gpt-4o-2024-08-06", None, None))
    second = store.create_conversation("second", "")
    # The config file's price: 60 at $1,000/M, 40 cached at $100/M, 50 out at $2,000/M: $0.164.
    store.add_message(
        second,
        "assistant",
        "d",
        "complete",
        stats("local-model", 100, 50, cached_tokens=40, reasoning_tokens=20),
    )
    store.add_message(second, "assistant", "e", "complete", stats(HOSTILE, 7, 3))


def test_usage_prints_tokens_and_cost_by_day_and_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / DATABASE_NAME)
    fill(store)
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(PRICES)
    code = main(["--usage", "--data-dir", str(tmp_path), "--config", str(config)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    today = date.today().isoformat()
    since = date.fromordinal(date.today().toordinal() - 29).isoformat()
    assert out.splitlines()[:7] == [
        f"Since {since}:",
        "day         model                       requests  prompt (cached)  completion (reasoning)"
        "    cost",
        f"{today}  ␛[31mevil[red]x[/]‹U+202E›         1            7 (0)                   3 (0)"
        "       -",
        f"{today}  gpt-4o-2024-08-06                  3   12,000 (4,000)             2,100 (500)"
        "  $0.046",
        f"{today}  local-model                        1         100 (40)                 50 (20)"
        "  $0.164",
        "-" * 97,
        "total                                          5   12,107 (4,040)             2,153 (520)"
        "  $0.210",
    ]
    notes = out.split("\n\n", 1)[1]
    assert "-: no price for the model (none is guessed)" in notes
    assert "1 reply without token counts from the server" in notes
    assert "\x1b" not in out
    assert "\u202e" not in out


def test_usage_over_fewer_days_and_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--usage", "1", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"No replies saved since {date.today().isoformat()}.\n"
    with pytest.raises(SystemExit) as exited:  # a usage error, as argparse reports one
        main(["--usage", "0", "--data-dir", str(tmp_path)])
    assert exited.value.code == 2
    assert "a number of days from 1 to 36,500" in capsys.readouterr().err
    (tmp_path / DATABASE_NAME).write_bytes(b"not a database" * 100)
    assert main(["--usage", "--data-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("chat-tui: ")
    assert len(err.splitlines()) == 1


def test_replies_count_on_their_own_day_each_token_once() -> None:
    noon = day_start(date(2026, 3, 1)) + 12 * 3600
    rows = [
        (noon, stats("o3", 1_000_000, 500_000, cached_tokens=600_000, reasoning_tokens=400_000)),
        (noon + 60, stats("o3", 0, 0)),
        (noon + 86_400, stats("o3", 1_000_000, 0)),
        (noon + 86_400, {"not": "stats"}),  # an unreadable row counts for nothing
        (noon + 86_400, None),
        (1e20, stats("o3", 1, 1)),  # a time no calendar has: left out
    ]
    found = tallies(rows)
    # o3: 400,000 uncached at $2/M + 600,000 cached at $0.50/M + 500,000 out at $8/M.
    assert found == [
        Tally(date(2026, 3, 1), "o3", 2, 1_000_000, 600_000, 500_000, 400_000, 0, 0.8 + 0.3 + 4),
        Tally(date(2026, 3, 2), "o3", 1, 1_000_000, 0, 0, 0, 0, 2.0),
    ]
    assert spent(found) == 7.1
    assert spent(tallies([(noon, stats("llama3.2", 10, 10))])) is None  # no price, no guess
    # A reply whose server named no model is counted, unpriced.
    assert tallies([(noon, stats("", 5, 5))])[0].model == "(unknown)"


def test_the_store_gives_the_replies_since_a_moment(tmp_path: Path) -> None:
    store = Store(tmp_path / DATABASE_NAME)
    fill(store)
    rows = store.reply_usage(day_start(date.today()))
    assert [saved["model"] for _, saved in rows if saved] == [
        "gpt-4o-2024-08-06",
        "gpt-4o-2024-08-06",
        "gpt-4o-2024-08-06",
        "local-model",
        HOSTILE,
    ]
    assert store.reply_usage(rows[-1][0] + 1) == []
    store.close()


async def test_a_replys_cost_and_todays_spend_are_shown(
    server: FakeOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(PRICES.replace("local-model", "fake-model"))
    database = tmp_path / DATABASE_NAME
    earlier = Store(database)  # another conversation today: 1,000 in at $1,000/M, $1.00
    earlier.add_message(
        earlier.create_conversation("earlier", ""),
        "assistant",
        "x",
        "complete",
        stats("fake-model", 1_000, 0),
    )
    earlier.close()
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 40},
        "completion_tokens_details": {"reasoning_tokens": 20},
    }
    server.enqueue(TextReply("Priced.", usage=usage))
    app = ChatApp(
        compatible_settings(server),
        client=ChatClient(retry=FAST_RETRY),
        config=load_config(config),
        store=AsyncStore(lambda: Store(database)),
    )
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "what does this cost?")
        footer = str(app.query_one(AssistantMessage).query_one("#stats", Static).render())
        assert "100 in (40 cached) → 50 out (20 reasoning) tokens · $0.164 · finished" in footer
        bar = app.query_one(StatusBar)
        await wait_for(pilot, lambda: bar.today is not None and bar.today > 1)
        assert "150 tokens used · $0.164 · today $1.16 · context" in str(bar.render())
    code = main(["--usage", "--data-dir", str(tmp_path), "--config", str(config)])
    table = capsys.readouterr().out
    assert code == 0
    row = next(line for line in table.splitlines() if "fake-model" in line).split()
    assert row == [
        date.today().isoformat(),
        "fake-model",
        "2",
        "1,100",
        "(40)",
        "50",
        "(20)",
        "$1.16",
    ]


async def test_today_is_not_repeated_when_it_is_this_conversations_cost(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(PRICES.replace("local-model", "fake-model"))
    usage = {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    server.enqueue(TextReply("Priced.", usage=usage))
    app = ChatApp(
        compatible_settings(server),
        client=ChatClient(retry=FAST_RETRY),
        config=load_config(config),
        store=AsyncStore(lambda: Store(tmp_path / DATABASE_NAME)),
    )
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "what does this cost?")
        bar = app.query_one(StatusBar)
        await wait_for(pilot, lambda: bar.today is not None)
        assert "$0.200 · context" in str(bar.render())
        assert "today" not in str(bar.render())


async def test_the_context_window_set_in_the_sidebar_fills_the_meter(
    server: FakeOpenAIServer,
) -> None:
    usage = {"prompt_tokens": 400, "completion_tokens": 100, "total_tokens": 500}
    server.enqueue(TextReply("One.", usage=usage))
    app = ChatApp(compatible_settings(server, model="gpt-4o"), client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first")
        bar = app.query_one(StatusBar)
        assert "context 500 / 128k (0%)" in str(bar.render())
        field = app.query_one("#context_window", Input)
        assert field.value == ""
        assert field.placeholder == "the model's: 128,000"  # what empty stands for
        field.focus()
        await pilot.pause()
        await pilot.press(*"1000")
        await pilot.pause()
        assert note(app, "context_window") == (
            "Not applied yet: Enter applies 1,000 tokens · still using the model's (128,000 "
            "tokens)."
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.chat.settings.context_window == 1000
        assert "context 500 / 1k (50%)" in str(bar.render())
        await pilot.press(*["backspace"] * 4, "enter")  # empty again: the model's
        await pilot.pause()
        assert app.chat.settings.context_window is None
        assert "context 500 / 128k (0%)" in str(bar.render())
