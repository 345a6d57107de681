"""Looking for an OpenAI-compatible server on this machine, for a first run with nothing set.

Each usual port is asked `GET /v1/models` at once, with a short time limit. The standard
library's HTTP client does the asking, in threads of its own: no proxy from the environment
applies to it (a request for 127.0.0.1 must not leave the machine), nothing is imported at
start-up, and a server that answers slowly holds neither the event loop nor the app's exit.

Set CHAT_TUI_DISCOVER=0 to never look (the test suite does; a test that looks names its port).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chat_tui.settings import VALUE_PARSERS, SettingsError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from chat_tui.settings import Settings

SWITCH = "CHAT_TUI_DISCOVER"
# The ports local servers listen on out of the box, in the order they are offered.
KNOWN_PORTS: dict[int, str] = {11434: "Ollama", 1234: "LM Studio", 8080: "llama.cpp", 8000: "vLLM"}
HOST = "127.0.0.1"
# Seconds for each port, all asked at once: a local server answers in milliseconds.
PROBE_TIMEOUT = 0.5
# A model list is a few kilobytes; more than this is not one.
MAX_ANSWER_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A server that answered: what it probably is, its base URL and its model ids (untrusted:
    as the server sent them, in its order)."""

    kind: str
    base_url: str
    models: tuple[str, ...]

    @property
    def first_model(self) -> str:
        """The first model id that is also a valid setting; "" if none is."""
        for model in self.models:
            with suppress(SettingsError):
                if VALUE_PARSERS["model"](model) == model:
                    return model
        return ""


@dataclass(frozen=True, slots=True)
class Discovery:
    """Where to look: port -> the kind of server usually there. No ports: it is off."""

    ports: Mapping[int, str] = field(default_factory=lambda: dict(KNOWN_PORTS))
    host: str = HOST
    timeout: float = PROBE_TIMEOUT

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Discovery:
        """The usual ports, unless CHAT_TUI_DISCOVER is 0 (or false, no, off)."""
        off = environ.get(SWITCH, "").strip().lower() in ("0", "false", "no", "off")
        return cls(ports={}) if off else cls()

    @property
    def enabled(self) -> bool:
        return bool(self.ports)

    async def run(self) -> list[LocalServer]:
        """The servers that answered like OpenAI-compatible ones, in the order of `ports`."""
        found = await asyncio.gather(*(self.probe(port, kind) for port, kind in self.ports.items()))
        return [server for server in found if server is not None]

    async def probe(self, port: int, kind: str) -> LocalServer | None:
        """The server on `port` if it lists models as OpenAI's API does, else None."""
        try:
            async with asyncio.timeout(self.timeout):
                body = await _in_daemon_thread(_ask, self.host, port, self.timeout)
        except TimeoutError:
            return None
        models = model_ids(body) if body is not None else None
        if models is None:
            return None
        return LocalServer(kind, f"http://{_host_in_url(self.host)}:{port}/v1", models)


def worth_looking(settings: Settings) -> bool:
    """Nothing says where to connect yet: no endpoint and no model."""
    return not settings.endpoint and not settings.model


def model_ids(body: bytes) -> tuple[str, ...] | None:
    """The ids of an OpenAI model list (`{"data": [{"id": …}, …]}`); None if it is not one."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        return None
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        return None
    ids = (item.get("id") for item in data if isinstance(item, dict))
    return tuple(dict.fromkeys(i for i in ids if isinstance(i, str) and i))


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _ask(host: str, port: int, timeout: float) -> bytes | None:
    """GET /v1/models; the body of a 200 answer, or None. Every socket wait is bounded, and so
    is the whole (a server that trickles its answer is given up on)."""
    deadline = time.monotonic() + timeout
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/v1/models", headers={"Accept": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            return None
        body = b""
        while chunk := response.read1(65536):
            body += chunk
            if len(body) > MAX_ANSWER_BYTES or time.monotonic() > deadline:
                return None
        return body
    except (OSError, http.client.HTTPException, ValueError):
        return None  # nothing there, or not an HTTP server
    finally:
        connection.close()


async def _in_daemon_thread(
    function: Callable[[str, int, float], bytes | None], *args: object
) -> bytes | None:
    """`function(*args)` in a daemon thread: one given up on never delays the app's exit, as a
    thread of the event loop's executor would."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes | None] = loop.create_future()

    def settle(result: bytes | None, error: Exception | None) -> None:
        if future.done():
            return  # given up on meanwhile
        if error is not None:
            future.set_exception(error)  # a bug: the app tells it, as any other
        else:
            future.set_result(result)

    def run() -> None:
        result, error = None, None
        try:
            result = function(*args)  # type: ignore[arg-type]
        except Exception as exc:
            error = exc
        with suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="chat-tui-discovery", daemon=True).start()
    return await future
