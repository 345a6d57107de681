"""The status line's context meter and cost, from what the test server reported: against the
model's window (the setting's here), and the config file's prices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.client import ChatClient
from chat_tui.config_file import load_config
from chat_tui.store import AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.widgets.status_bar import StatusBar
from tests.conftest import compatible_settings
from tests.openai_server import TextReply
from tests.test_app import FAST_RETRY, SIZE, chat

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer


def line(app: ChatApp) -> str:
    return str(app.query_one(StatusBar).render())


async def test_the_meter_fills_and_warns_before_the_limit(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    usage = {"prompt_tokens": 400, "completion_tokens": 100, "total_tokens": 500}
    near = {"prompt_tokens": 800, "completion_tokens": 100, "total_tokens": 900}
    server.enqueue(TextReply("One.", usage=usage), TextReply("Two.", usage=near))
    settings = compatible_settings(server, context_window=1000)
    app = ChatApp(
        settings,
        client=ChatClient(retry=FAST_RETRY),
        store=AsyncStore(lambda: Store(tmp_path / "chats.db")),
    )
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first")
        assert line(app) == "2 messages · 500 tokens used · context 500 / 1k (50%) ▰▰▰▰▱▱▱▱"
        assert not app.query_one(StatusBar).fill.warning  # type: ignore[union-attr]
        await chat(pilot, "second")
        bar = app.query_one(StatusBar)
        assert line(app) == "4 messages · 1,400 tokens used · context 900 / 1k (90%) ▰▰▰▰▰▰▰▱"
        assert bar.fill is not None
        assert bar.fill.warning
        assert bar.render().spans  # drawn as a warning, not plain
        # What is typed and sent after the last count is an estimate until the server counts.
        server.enqueue(TextReply("x", usage=False))
        await chat(pilot, "y" * 400)
        assert "context ~" in line(app)


async def test_the_cost_comes_from_the_config_files_prices(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[prices."fake-model"]\ninput = 1000\ncached_input = 100\noutput = 2000\n')
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 40},
    }
    server.enqueue(TextReply("Priced.", usage=usage))
    app = ChatApp(
        compatible_settings(server),
        client=ChatClient(retry=FAST_RETRY),
        config=load_config(config),
        store=AsyncStore(lambda: Store(tmp_path / "chats.db")),
    )
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "what does this cost?")
        # 60 uncached at $1,000/M, 40 cached at $100/M, 50 out at $2,000/M: $0.164.
        assert "150 tokens used · $0.164 · context 150 tokens" in line(app)


async def test_no_price_no_cost(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply("Free?"))
    app = ChatApp(compatible_settings(server), client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hi")
        assert "$" not in line(app)  # never a guess
