"""Looking for a local server on a first run: the core on its own, then the app as a user meets
it. Every test names the ports it looks at (the fake server's, or ones nothing listens on), so
no test finds a server of the developer's own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Select

from chat_tui import discovery
from chat_tui.client import ChatClient
from chat_tui.discovery import KNOWN_PORTS, Discovery, LocalServer, model_ids, worth_looking
from chat_tui.settings import Provider, Settings
from chat_tui.tui.app import ChatApp
from tests.conftest import compatible_settings, notice_texts
from tests.openai_server import TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, wait_for

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.openai_server import FakeOpenAIServer

# Long enough for a busy machine running other tests; a real first run waits 0.5 s.
PATIENT = 5.0


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def answering(answer: bytes | None) -> AsyncIterator[int]:
    """A port whose server sends `answer` (raw HTTP) to any request, or never answers (None)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if answer is None:
            await asyncio.sleep(30)  # holds the connection open, silent
        else:
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def http_answer(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


# -- the core -------------------------------------------------------------------------------


async def test_finds_the_server_on_a_named_port(server: FakeOpenAIServer) -> None:
    found = await Discovery({server.port: "Ollama"}, timeout=PATIENT).run()
    assert found == [LocalServer("Ollama", server.base_url, ("fake-model", "fake-model-mini"))]
    assert server.last_request.path == "/v1/models"


async def test_nothing_listening_is_nothing_found(closed_port: int) -> None:
    assert await Discovery({closed_port: "Ollama"}, timeout=PATIENT).run() == []


async def test_the_environments_proxy_is_not_used(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    # A request for this machine must not go to a proxy (here one that is not there).
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    [found] = await Discovery({server.port: "vLLM"}, timeout=PATIENT).run()
    assert found.base_url == server.base_url


@pytest.mark.parametrize(
    "answer",
    [
        http_answer("404 Not Found", b'{"error": "no"}'),
        http_answer("200 OK", b"<html>a web page</html>", "text/html"),
        http_answer("200 OK", b'{"models": ["not", "openai"]}'),
        http_answer("200 OK", b'{"data": "not a list"}'),
        http_answer("200 OK", b"[" * 100_000 + b"]" * 100_000),  # nested past any limit
        http_answer("200 OK", b'{"data": [' + b'{"id": "m"},' * 100_000 + b'{"id": "m"}]}'),
        b"SSH-2.0-OpenSSH_9.6\r\n",  # not HTTP at all
    ],
    ids=["404", "html", "other-json", "data-not-a-list", "deep", "too-big", "not-http"],
)
async def test_an_answer_that_is_not_a_model_list_is_not_a_server(answer: bytes) -> None:
    async with answering(answer) as port:
        assert await Discovery({port: "llama.cpp"}, timeout=PATIENT).run() == []


async def test_silent_ports_are_given_up_on_together() -> None:
    # Four ports that accept and never answer: asked at once, all given up on within about one
    # time limit, not four.
    async with contextlib.AsyncExitStack() as stack:
        ports = [await stack.enter_async_context(answering(None)) for _ in range(4)]
        started = time.monotonic()
        found = await Discovery(dict.fromkeys(ports, "vLLM"), timeout=0.5).run()
        assert found == []
        assert time.monotonic() - started < 1.5


async def test_every_server_that_answers_in_the_order_of_the_ports(
    server: FakeOpenAIServer, closed_port: int
) -> None:
    async with answering(http_answer("200 OK", b'{"data": [{"id": "other"}]}')) as port:
        ports = {port: "LM Studio", closed_port: "vLLM", server.port: "Ollama"}
        found = await Discovery(ports, timeout=PATIENT).run()
    assert [(s.kind, s.models) for s in found] == [
        ("LM Studio", ("other",)),
        ("Ollama", ("fake-model", "fake-model-mini")),
    ]


def test_model_ids_as_the_server_sent_them_without_repeats() -> None:
    body = b'{"data": [{"id": "b"}, {"id": 7}, "c", {"id": ""}, {"id": "a"}, {"id": "b"}, {}]}'
    assert model_ids(body) == ("b", "a")
    assert model_ids(b'{"object": "list", "data": []}') == ()
    assert model_ids(b"\xff\xfe") is None


def test_the_first_model_is_the_first_that_is_a_valid_setting() -> None:
    server = LocalServer("Ollama", "http://127.0.0.1:11434/v1", ("a b", "\x1b[31m", "llama3.2"))
    assert server.first_model == "llama3.2"
    assert LocalServer("Ollama", "http://127.0.0.1:11434/v1", ("a b",)).first_model == ""


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
def test_the_environment_can_turn_it_off(value: str) -> None:
    assert not Discovery.from_environment({"CHAT_TUI_DISCOVER": value}).enabled


@pytest.mark.parametrize("environ", [{}, {"CHAT_TUI_DISCOVER": "1"}])
def test_on_by_default_at_the_usual_ports(environ: dict[str, str]) -> None:
    looked_at = Discovery.from_environment(environ)
    assert (
        dict(looked_at.ports)
        == KNOWN_PORTS
        == {
            11434: "Ollama",
            1234: "LM Studio",
            8080: "llama.cpp",
            8000: "vLLM",
        }
    )
    assert looked_at.host == "127.0.0.1"
    assert looked_at.timeout == 0.5


def test_worth_looking_only_with_no_endpoint_and_no_model() -> None:
    assert worth_looking(Settings())
    assert worth_looking(Settings(api_key="sk-from-the-environment"))
    assert not worth_looking(Settings(model="gpt-4o"))
    assert not worth_looking(Settings(provider=Provider.COMPATIBLE, endpoint="http://h:1/v1"))


# -- the app --------------------------------------------------------------------------------


def app_looking_at(ports: dict[int, str], settings: Settings | None = None) -> ChatApp:
    return ChatApp(
        settings or Settings(),
        client=ChatClient(retry=FAST_RETRY),
        discovery=Discovery(ports, timeout=PATIENT),
    )


def looked(app: ChatApp) -> bool:
    """The look for a local server is over (or never began)."""
    return all(w.is_finished for w in app.chat.workers if w.group == "discovery")


def found_cards(app: ChatApp) -> list[str]:
    return [text for text in notice_texts(app) if text.startswith("Found ")]


def model_requests(server: FakeOpenAIServer) -> list[str]:
    return [r.path for r in server.requests if r.path.endswith("/models")]


async def test_a_server_found_is_used_with_one_key_and_answers(server: FakeOpenAIServer) -> None:
    app = app_looking_at({server.port: "Ollama"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(found_cards(app)))
        [card] = found_cards(app)
        assert card.startswith(f"Found Ollama at {server.base_url} · f8 uses it")
        assert "2 models: fake-model, fake-model-mini" in card
        assert any(t.startswith("Not connected yet") for t in notice_texts(app))
        await pilot.press("f8")
        settings = app.chat.settings
        assert settings.provider is Provider.COMPATIBLE
        assert (settings.endpoint, settings.model) == (server.base_url, "fake-model")
        await pilot.pause()
        assert notice_texts(app) == []  # connected: both set-up cards are gone
        models = app.query_one("#model-list", Select)
        await wait_for(pilot, lambda: models.display)  # the others, to pick from
        server.enqueue(TextReply("Hi from the local server."))
        await chat(pilot, "hello")
        assert app.chat.conversation.messages[-1].content == "Hi from the local server."
        assert server.last_request.body is not None
        assert server.last_request.body["model"] == "fake-model"
        await pilot.press("f8")  # offered once: the key does nothing now
        assert app.chat.settings == settings


async def test_a_found_server_is_not_sent_another_services_key(server: FakeOpenAIServer) -> None:
    app = app_looking_at({server.port: "Ollama"}, Settings(api_key="sk-meant-for-openai-only"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(found_cards(app)))
        await pilot.press("f8")
        await chat(pilot, "hello")
        assert "sk-meant-for-openai-only" not in str(server.last_request.headers)


async def test_a_found_server_with_no_models_leaves_the_model_to_pick(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "models", [])
    app = app_looking_at({server.port: "LM Studio"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(found_cards(app)))
        assert "It has no models yet." in found_cards(app)[0]
        await pilot.press("f8")
        assert app.chat.settings.endpoint == server.base_url
        assert app.chat.settings.model == ""
        await pilot.pause()
        assert found_cards(app) == []
        # Still not connected (no model): that card stays, and the sidebar opens to pick one.
        assert any(t.startswith("Not connected yet") for t in notice_texts(app))
        assert app.query_one("#sidebar").display


async def test_nothing_found_changes_nothing(closed_port: int) -> None:
    app = app_looking_at({closed_port: "Ollama"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await wait_for(pilot, lambda: looked(app))
        await pilot.pause()
        assert found_cards(app) == []
        before = app.chat.settings
        await pilot.press("f8")
        assert app.chat.settings == before


async def test_no_look_once_something_is_configured(server: FakeOpenAIServer) -> None:
    app = app_looking_at({server.port: "Ollama"}, compatible_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert looked(app)
        assert found_cards(app) == []
        assert model_requests(server) == []


async def test_discovery_is_off_in_tests_unless_a_test_turns_it_on(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The usual ports made to be the fake server's: only the environment keeps the app away.
    monkeypatch.setattr(discovery, "KNOWN_PORTS", {server.port: "Ollama"})
    monkeypatch.setattr(discovery, "PROBE_TIMEOUT", PATIENT)
    app = ChatApp(Settings(), client=ChatClient(retry=FAST_RETRY))
    assert not app.chat.discovery.enabled
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert found_cards(app) == []
        assert model_requests(server) == []
    monkeypatch.setenv("CHAT_TUI_DISCOVER", "1")  # as on a user's machine: then it finds it
    app = ChatApp(Settings(), client=ChatClient(retry=FAST_RETRY))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(found_cards(app)))


async def test_a_card_that_came_too_late_is_not_shown(server: FakeOpenAIServer) -> None:
    # The user filled in the settings while the look was under way: no offer then.
    async with answering(None) as silent:
        app = ChatApp(
            Settings(),
            client=ChatClient(retry=FAST_RETRY),
            discovery=Discovery({silent: "vLLM", server.port: "Ollama"}, timeout=1.0),
        )
        async with app.run_test(size=SIZE) as pilot:
            app.chat.settings = compatible_settings(server)
            await wait_for(pilot, lambda: looked(app))
            await pilot.pause()
            assert found_cards(app) == []
            assert notice_texts(app) == []
