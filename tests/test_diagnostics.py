"""Diagnostics in the app and in `ask`: the request log from the settings, request ids on the
cards, the failure's details for a ticket, and "Save diagnostics". The real SDK, over HTTP,
against the test server; files are checked for what they must never hold."""

from __future__ import annotations

import json
import re
import stat
from typing import TYPE_CHECKING

import pytest

from chat_tui.store import AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.details import DetailsScreen
from chat_tui.tui.widgets.messages import AssistantMessage
from tests.conftest import compatible_settings, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import SIZE, chat, wait_for
from tests.test_ask import command
from tests.test_reuse import notices

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

KEY = "sk-diagnostics-secret-0123456789"


def saved_files(directory: Path) -> list[Path]:
    return list(directory.glob("chat-tui-diagnostics-*.jsonl"))


def lines_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_the_app_logs_to_the_file_its_settings_name(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "logs" / "wire.jsonl"
    server.require_key = KEY
    server.enqueue(TextReply("Logged."))
    app = ChatApp(compatible_settings(server, api_key=KEY, log=str(log)))  # its own client
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "a private question")
        await wait_for(pilot, lambda: log.exists() and "exchange" in log.read_text())
        # Each request as it ended, between the libraries' own lines (debug, with a log file).
        [exchange] = [line["exchange"] for line in lines_of(log) if "exchange" in line]
        assert isinstance(exchange, dict)
        assert any("log" in line for line in lines_of(log))
        assert exchange["status"] == 200
        assert exchange["ending"] == "stop"
        assert exchange["ids"]["x-request-id"].startswith("req-fake-")  # type: ignore[index]
        assert exchange["chunks"] > 1  # type: ignore[operator]
        assert exchange["headers"]["authorization"] == "[redacted]"  # type: ignore[index]
        assert stat.S_IMODE(log.stat().st_mode) == 0o600

        await app.run_action("save_diagnostics")
        await wait_for(pilot, lambda: any("Saved 1 request" in n for n in notices(app)))
    [saved] = saved_files(tmp_path)
    header, *rest = lines_of(saved)
    assert header["provider"] == "compatible"
    assert header["model"] == "fake-model"
    assert rest[0]["exchange"]["status"] == 200  # type: ignore[index]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    for written in (log, saved):
        text = written.read_text()
        assert KEY not in text
        assert "a private question" not in text  # the requests level: never the conversation


async def test_a_failed_reply_names_its_request_id_and_shows_the_details(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(
        ErrorReply(
            429,
            {"error": {"message": "Slow down."}},
            # A wait longer than chat-tui waits out: it stops at once, and says so.
            headers={"x-ratelimit-remaining-requests": "0", "retry-after": "400"},
        )
    )
    app = ChatApp(compatible_settings(server, api_key=KEY, log=""))
    async with app.run_test(size=(120, 50)) as pilot:
        await chat(pilot, "hello")
        reply = app.query_one(AssistantMessage)
        await wait_for(pilot, lambda: reply.error is not None)
        assert reply.error is not None
        request_id = reply.error.request_id
        assert request_id.startswith("req-fake-")
        await wait_for(pilot, lambda: f"request id {request_id}" in screen_text(app, reply))
        assert "requests-per-minute limit was hit" in screen_text(app, reply)
        await pilot.press("shift+tab", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        text = app.screen.query_one("#details-text").text  # type: ignore[attr-defined]
        assert f"request id: {request_id}" in text
        assert "header retry-after: 400" in text
        assert "request: POST /v1/chat/completions" in text
        assert KEY not in text


async def test_a_drop_mid_stream_names_the_request_id_it_had(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Half of it " * 30, drop_after=5))
    app = ChatApp(compatible_settings(server, log=""))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        reply = app.query_one(AssistantMessage)
        await wait_for(pilot, lambda: reply.error is not None)
        assert reply.error is not None
        assert reply.error.title == "Connection lost"
        assert reply.error.request_id.startswith("req-fake-")  # from the stream's headers


def test_ask_logs_and_keeps_the_libraries_off_the_terminal(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    import os
    import subprocess

    server.require_key = KEY
    server.enqueue(TextReply("Fine."))
    log = tmp_path / "ask.jsonl"
    result = subprocess.run(
        command("hi", "--endpoint", server.base_url, "--model", "fake-model", "--log", str(log)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "OPENAI_API_KEY": KEY,
            "OPENAI_LOG": "debug",  # the SDK would print every request to stderr
            "CHAT_TUI_CONFIG": str(tmp_path / "none.toml"),
            "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        },
        cwd=tmp_path,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "Fine.\n", "")
    text = log.read_text()
    assert KEY not in text
    assert '"status": 200' in text
    assert re.search(r'"log": "(openai|httpx)', text)  # the libraries' lines, in the file


async def test_a_hostile_request_id_and_headers_are_shown_literally(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    from tests.test_hostile import RAW, terminal_output

    # What a header can carry: markup, and a C1 control (CSI) that some terminals obey.
    hostile = "req-[bold]x[/]\x9b31m"
    server.enqueue(
        ErrorReply(401, {"error": {"message": "no"}}, headers={"apim-request-id": hostile})
    )
    app = ChatApp(compatible_settings(server, log=""))
    async with app.run_test(size=(140, 50)) as pilot:
        await chat(pilot, "hello")
        reply = app.query_one(AssistantMessage)
        await wait_for(pilot, lambda: reply.error is not None)
        await pilot.press("shift+tab", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await pilot.pause()
        # Shown literally: the markup as written, the control as a replacement character.
        assert "header apim-request-id: req-[bold]x[/]\ufffd31m" in screen_text(app)
        written = terminal_output(app)
        assert "\x9b31m" not in written
        for what, raw in RAW.items():
            assert raw not in written, f"a raw {what} reached the terminal"


async def test_a_good_reply_keeps_its_request_id_and_the_limits_left(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    from chat_tui.export import to_json
    from chat_tui.tui.widgets.status_bar import StatusBar

    server.enqueue(
        TextReply(
            "Fine.",
            azure=True,
            headers={
                "x-ratelimit-limit-requests": "100",
                "x-ratelimit-remaining-requests": "9",  # a tenth left: a warning
                "x-ratelimit-remaining-tokens": "12345",
            },
        )
    )
    settings = compatible_settings(server, log="")
    app = ChatApp(settings, store=AsyncStore(lambda: Store(tmp_path / "chats.db")))
    async with app.run_test(size=(140, 50)) as pilot:
        await chat(pilot, "hello")
        reply = app.query_one(AssistantMessage)
        await wait_for(pilot, lambda: reply.message.stats is not None)
        stats = reply.message.stats
        assert stats is not None
        assert re.fullmatch(r"req-fake-\d+", stats.request_id)
        bar = app.query_one(StatusBar)
        assert str(bar.render()).endswith(" · 9 requests · 12.3k tokens left")
        assert bar.render().spans  # a warning: little is left
        await pilot.press("shift+tab", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        text = app.screen.query_one("#details-text").text  # type: ignore[attr-defined]
        assert text.startswith(f"request id: {stats.request_id}\nmodel: fake-model\n")
    store = Store(tmp_path / "chats.db")
    exported = json.loads(to_json(store.load(store.latest_id() or 0)))
    assert exported["messages"][-1]["stats"]["request_id"] == stats.request_id


async def test_hostile_limits_are_not_shown(server: FakeOpenAIServer, tmp_path: Path) -> None:
    from chat_tui.tui.widgets.status_bar import StatusBar

    server.enqueue(
        TextReply(
            "Fine.",
            headers={
                "x-ratelimit-remaining-requests": "[red]9[/]\u202e",
                "x-ratelimit-remaining-tokens": "\x1b[31m5",
            },
        )
    )
    app = ChatApp(compatible_settings(server, log=""))
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        await wait_for(pilot, lambda: app.query_one(AssistantMessage).message.stats is not None)
        line = str(app.query_one(StatusBar).render())
        assert "left" not in line  # neither is a count: nothing is said rather than a guess
        assert "[red]" not in line


@pytest.mark.parametrize(
    ("reply", "title", "lines"),
    [
        (ErrorReply(401, {"error": {"message": "bad key"}}), "Key rejected", ["status: 401"]),
        (ErrorReply(404, {"error": {"message": "no such"}}), "Model not found", ["status: 404"]),
        (
            ErrorReply(429, {"error": {"message": "slow"}}, headers={"retry-after": "400"}),
            "Rate limited",
            ["status: 429", "header retry-after: 400", "header x-ratelimit-remaining-requests"],
        ),
        (TextReply("Half of it " * 30, drop_after=5), "Connection lost", []),
    ],
    ids=["401", "404", "429", "drop"],
)
async def test_the_details_of_each_failure_are_ready_for_a_ticket(
    server: FakeOpenAIServer, reply: ErrorReply | TextReply, title: str, lines: list[str]
) -> None:
    server.enqueue(reply)
    app = ChatApp(compatible_settings(server, api_key=KEY, log=""))
    async with app.run_test(size=(120, 50)) as pilot:
        await chat(pilot, "hello")
        view = app.query_one(AssistantMessage)
        await wait_for(pilot, lambda: view.error is not None)
        await pilot.press("shift+tab", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        text = app.screen.query_one("#details-text").text  # type: ignore[attr-defined]
        assert text.startswith(title)
        assert re.search(r"^request id: req-fake-\d+$", text, re.M)
        assert "request: POST /v1/chat/completions" in text
        for line in lines:
            assert line in text
        assert KEY not in text
