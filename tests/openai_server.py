"""A local, scriptable OpenAI-compatible HTTP server for tests and manual runs.

Tests start it on a free port in a background thread and talk to it with the real ``openai``
SDK over real HTTP, so streaming, keep-alive and error handling are exercised end to end.
Run it directly (``python tests/openai_server.py --port 8000``) to point the app at it by hand.

Only the standard library is used so the file works wherever the tests run.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http
import json
import random
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["ErrorReply", "FakeOpenAIServer", "RecordedRequest", "Reply", "TextReply", "tokenize"]

# Keeps whitespace attached to the following word so "".join(tokens) == text exactly.
_TOKEN_RE = re.compile(r"\s*\S+|\s+")
_AZURE_DEPLOYMENT_RE = re.compile(r"^/openai/deployments/([^/]+)/chat/completions$")
_CHAT_PATHS = {
    "/v1/chat/completions": "openai",
    # Some clients are configured with a base URL that lacks the /v1 prefix.
    "/chat/completions": "openai",
    "/openai/v1/chat/completions": "azure-v1",
}
_MODEL_PATHS = {"/v1/models": "openai", "/models": "openai", "/openai/v1/models": "azure-v1"}
_SAFE = {"filtered": False, "severity": "safe"}


def tokenize(text: str) -> list[str]:
    """Split text into whitespace-preserving pseudo tokens."""
    return _TOKEN_RE.findall(text)


@dataclass
class TextReply:
    """A successful chat completion, streamed as SSE or returned as one JSON object."""

    # A str is split into tokens; a list is sent as given, one chunk per item.
    content: str | list[str] = "Hello from the fake server."
    # None -> no chunk carrying a finish_reason is sent.
    finish_reason: str | None = "stop"
    # True -> computed usage when the request asks for it; a dict is always sent; False -> none.
    usage: dict[str, Any] | bool = True
    # Azure shapes: a prelude chunk without choices and content filter results on each choice.
    azure: bool = False
    # Seconds between chunks; overrides the server's tokens_per_second for this reply.
    delay: float = 0.0
    # Seconds between the first (role) chunk and the first token: the model "thinking".
    first_delay: float = 0.0
    # After this many content chunks, cut the connection without ending the chunked body.
    drop_after: int | None = None
    # After this many content chunks, send nothing more and hold the connection open.
    stall_after: int | None = None
    stall_seconds: float = 30.0
    # False -> end the body cleanly but without the "data: [DONE]" sentinel.
    done: bool = True
    model: str = "fake-model"
    # Exact SSE data payloads sent after the content chunks, e.g. invalid JSON for fault tests.
    raw_chunks: list[str] | None = None

    def tokens(self) -> list[str]:
        return tokenize(self.content) if isinstance(self.content, str) else list(self.content)


@dataclass
class ErrorReply:
    """An HTTP error response; identical for streaming and non-streaming requests."""

    status: int = 500
    # None -> an OpenAI-shaped error body; a str is sent as-is (text/plain).
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Reply = TextReply | ErrorReply


@dataclass
class RecordedRequest:
    """One request as the server saw it (every request is recorded, including errors)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw_body: bytes
    # "openai" | "azure" | "azure-v1"; "unknown" for paths that matched nothing.
    kind: str
    deployment: str | None = None
    # The client's source port: equal ports on two requests prove a keep-alive connection.
    client_port: int | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def api_key(self) -> str | None:
        return _request_key(self.headers)


def _request_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get("api-key")


def _content_text(content: Any) -> str:
    """Text of a message content, which may be a str or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def _prompt_tokens(body: dict[str, Any] | None) -> int:
    messages = (body or {}).get("messages") or []
    words = sum(
        len(_content_text(m.get("content")).split()) for m in messages if isinstance(m, dict)
    )
    return max(1, words)


def _error_body(status: int, message: str | None = None, kind: str | None = None) -> dict[str, Any]:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    if kind is None:
        kind = "invalid_request_error" if 400 <= status < 500 else "server_error"
    return {
        "error": {"message": message or reason, "type": kind, "param": None, "code": str(status)}
    }


# --- default responder ----------------------------------------------------------------------

_WORD_TEXT = (
    "the server streams tokens quickly while the client renders markdown incrementally and "
    "keeps the interface responsive even when responses grow large enough to scroll past the "
    "visible area of the terminal window so every widget must update efficiently without "
    "blocking input handling or dropping frames during long conversations with many turns"
)
_WORDS = _WORD_TEXT.split()
_TOPICS = ["Overview", "Details", "Configuration", "Streaming", "Rendering", "Errors", "Summary"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 14))]
    i = rng.randrange(len(words))
    style = rng.randrange(4)
    if style == 0:
        words[i] = f"**{words[i]}**"
    elif style == 1:
        words[i] = f"`{words[i]}()`"
    elif style == 2:
        words[i] = f"[{words[i]}](https://example.com/{words[i]})"
    return " ".join(words).capitalize() + "."


def _code_block(rng: random.Random, lines: int = 0, min_tokens: int = 0) -> str:
    """A python fence with ``lines`` steps, or as many as needed to reach ``min_tokens``."""
    body = ["```python", f"def handler_{rng.randrange(1000)}(items: list[int]) -> int:"]
    body.append("    total = 0")
    count = sum(len(tokenize(line)) for line in body) + 4
    n = 0
    while n < lines or count < min_tokens:
        choice = rng.randrange(3)
        if choice == 0:
            step = [f"    for item in items[{n}:]:", f"        total += item * {rng.randint(2, 9)}"]
        elif choice == 1:
            step = [
                f"    if total > {rng.randint(10, 999)}:",
                f'        print("limit at", {n}, total)',
            ]
        else:
            step = [f"    total = max(total, len(items) + {rng.randint(1, 50)})  # step {n}"]
        body.extend(step)
        count += sum(len(tokenize(line)) for line in step)
        n += 1
    body.append("    return total")
    body.append("```")
    return "\n".join(body)


def long_markdown(n_tokens: int, seed: int = 0) -> str:
    """Deterministic mixed Markdown of about ``n_tokens`` tokens (whole blocks are kept)."""
    rng = random.Random(seed)
    blocks: list[str] = []
    count = 0
    while count < n_tokens:
        kind = rng.randrange(4) if blocks else 0
        if kind == 0:
            block = f"## {rng.choice(_TOPICS)} {len(blocks) + 1}"
        elif kind == 1:
            block = " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
        elif kind == 2:
            block = "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5)))
        else:
            block = _code_block(rng, rng.randint(2, 6))
        blocks.append(block)
        count += len(tokenize(block)) + 1
    return "\n\n".join(blocks)


def code_markdown(n_tokens: int, seed: int = 1) -> str:
    """One python code fence of about ``n_tokens`` tokens."""
    return _code_block(random.Random(seed), min_tokens=n_tokens)


_MARKUP = (
    "Literal markup must not be interpreted: [bold]not bold[/bold] [/INST] "
    "[link=http://x]y[/link] and an ANSI escape \x1b[31mred\x1b[0m done."
)


def _short_reply(text: str) -> str:
    quoted = "\n".join(f"> {line}" for line in (text or "(empty)").splitlines() or ["(empty)"])
    words = len(text.split())
    return (
        f"{quoted}\n\n"
        "## Fake reply\n\n"
        f"You sent **{words}** word{'s' if words != 1 else ''}. This is a deterministic answer "
        "from the local fake server, useful for checking `markdown` rendering and streaming.\n\n"
        "- streaming arrives token by token\n"
        "- try `!long 2000` or `!code 1500` for big replies\n"
        "- try `!status 429`, `!drop` or `!stall` for failures\n\n"
        "```python\n"
        "def greet(name: str) -> str:\n"
        '    return f"Hello, {name}!"\n'
        "```\n"
    )


def _last_user_text(body: dict[str, Any] | None) -> str:
    for message in reversed((body or {}).get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def default_reply(body: dict[str, Any] | None) -> Reply:
    """The reply used when nothing is queued: driven by "!commands" in the last user message."""
    text = _last_user_text(body).strip()
    parts = text.split()
    command = parts[0].lower() if parts else ""
    arg = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    filler = long_markdown(60, seed=7)
    if command == "!status":
        status = arg or 500
        if status == 404:
            message = (
                "The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again."
            )
            return ErrorReply(404, {"error": {"code": "DeploymentNotFound", "message": message}})
        headers = {"retry-after": "2"} if status == 429 else {}
        return ErrorReply(status, _error_body(status), headers)
    if command == "!drop":
        return TextReply(filler, drop_after=20)
    if command == "!stall":
        return TextReply(filler, stall_after=10)
    if command == "!length":
        return TextReply(filler, finish_reason="length")
    if command == "!filter":
        return TextReply("I can't help with", finish_reason="content_filter")
    if command == "!nofinish":
        return TextReply(filler, finish_reason=None, done=False)
    if command == "!long":
        return TextReply(long_markdown(arg or 2000))
    if command == "!code":
        return TextReply(code_markdown(arg or 1500))
    if command == "!markup":
        return TextReply(_MARKUP)
    return TextReply(_short_reply(text))


# --- HTTP plumbing --------------------------------------------------------------------------


class _Abort(Exception):
    """Stop writing the current response and close the connection."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Tests restart servers quickly; never fail on a lingering TIME_WAIT socket.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: FakeOpenAIServer) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects are routine in fault tests; do not print tracebacks for them.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    # -- request handling

    def _read_body(self) -> bytes:
        # Read exactly Content-Length bytes so the next keep-alive request starts cleanly.
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        raw = self._read_body()
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else None

        kind, deployment, is_chat = "unknown", None, False
        if path in _CHAT_PATHS:
            kind, is_chat = _CHAT_PATHS[path], True
        elif match := _AZURE_DEPLOYMENT_RE.match(path):
            kind, deployment, is_chat = "azure", match.group(1), True
        elif path in _MODEL_PATHS:
            kind = _MODEL_PATHS[path]

        owner = self.server.owner
        owner._record(
            RecordedRequest(
                self.command,
                path,
                query,
                headers,
                body,
                raw,
                kind,
                deployment,
                client_port=self.client_address[1],
            )
        )

        try:
            if is_chat and self.command == "POST":
                self._chat(kind, headers, body, query)
            elif path in _MODEL_PATHS and self.command == "GET":
                data = [
                    {"id": m, "object": "model", "created": 0, "owned_by": "test"}
                    for m in owner.models
                ]
                self._send_json(200, {"object": "list", "data": data})
            else:
                self._send_json(404, _error_body(404, f"Unknown path: {self.command} {path}"))
        except _Abort:
            self.close_connection = True
        except OSError:
            # The client went away (timeout, cancel); nothing left to do on this connection.
            self.close_connection = True

    def _chat(
        self,
        kind: str,
        headers: dict[str, str],
        body: dict[str, Any] | None,
        query: dict[str, str],
    ) -> None:
        owner = self.server.owner
        if kind == "azure" and "api-version" not in query:
            # Mirrors Azure, which answers a missing api-version with a bare 404.
            self._send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
            return
        if owner.require_key is not None and _request_key(headers) != owner.require_key:
            if kind == "openai":
                err = _error_body(401, "Incorrect API key provided.")
                err["error"]["code"] = "invalid_api_key"
            else:
                message = (
                    "Access denied due to invalid subscription key or wrong API endpoint. "
                    "Make sure to provide a valid key for an active subscription and use a "
                    "correct regional API endpoint for your resource."
                )
                err = {"error": {"code": "401", "message": message}}
            self._send_json(401, err)
            return
        if body is None:
            self._send_json(
                400, _error_body(400, "We could not parse the JSON body of your request.")
            )
            return

        reply = owner._next_reply(body)
        if isinstance(reply, ErrorReply):
            self._send_error_reply(reply)
        elif body.get("stream"):
            self._stream(reply, body)
        else:
            self._complete(reply, body)

    # -- responses

    def _send_json(
        self, status: int, payload: Any, extra_headers: dict[str, str] | None = None
    ) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", extra_headers)

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", self.server.owner._new_id("req-fake-"))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _send_error_reply(self, reply: ErrorReply) -> None:
        if isinstance(reply.body, str):
            data, ctype = reply.body.encode(), "text/plain; charset=utf-8"
        else:
            payload = (
                reply.body
                if reply.body is not None
                else _error_body(reply.status, kind="server_error")
            )
            data, ctype = json.dumps(payload).encode(), "application/json"
        self._send_bytes(reply.status, data, ctype, reply.headers)

    def _usage(self, reply: TextReply, body: dict[str, Any], sent: int) -> dict[str, Any] | None:
        if isinstance(reply.usage, dict):
            return reply.usage
        if not reply.usage:
            return None
        prompt = _prompt_tokens(body)
        return {"prompt_tokens": prompt, "completion_tokens": sent, "total_tokens": prompt + sent}

    def _complete(self, reply: TextReply, body: dict[str, Any]) -> None:
        tokens = reply.tokens()
        # Fault knobs still apply so non-streaming clients can be tested against them.
        if reply.stall_after is not None:
            self._wait(reply.stall_seconds)
            raise _Abort
        if reply.drop_after is not None:
            self._drop()
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
            "finish_reason": reply.finish_reason,
            "logprobs": None,
        }
        payload: dict[str, Any] = {
            "id": self.server.owner._new_id("chatcmpl-fake-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model,
            "choices": [choice],
            "usage": self._usage(reply, body, len(tokens)),
        }
        if reply.azure:
            choice["content_filter_results"] = _filter_results()
            payload["prompt_filter_results"] = _prompt_filter_results()
        self._send_json(200, payload)

    def _stream(self, reply: TextReply, body: dict[str, Any]) -> None:
        owner = self.server.owner
        # HTTP/1.0 clients cannot take chunked framing; stream raw and close instead.
        self._chunked = self.request_version != "HTTP/1.0"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("x-request-id", owner._new_id("req-fake-"))
        if self._chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

        tokens = reply.tokens()
        pause = (
            reply.delay
            if reply.delay > 0
            else (1 / owner.tokens_per_second if owner.tokens_per_second else 0.0)
        )
        cid = owner._new_id("chatcmpl-fake-")
        created = int(time.time())

        def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
            choices: list[dict[str, Any]] = []
            if delta is not None:
                c: dict[str, Any] = {
                    "index": 0,
                    "delta": delta,
                    "finish_reason": finish,
                    "logprobs": None,
                }
                if reply.azure:
                    c["content_filter_results"] = _filter_results() if delta.get("content") else {}
                choices.append(c)
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": reply.model,
                "choices": choices,
                "usage": None,
            }

        if reply.azure:
            prelude = chunk(None)
            prelude.update(
                id="", model="", created=0, prompt_filter_results=_prompt_filter_results()
            )
            self._event(json.dumps(prelude))
        self._event(json.dumps(chunk({"role": "assistant", "content": ""})))

        if reply.first_delay and self._wait(reply.first_delay):
            raise _Abort
        sent = 0
        for token in tokens:
            self._fault_point(reply, sent)
            if pause and self._wait(pause):
                raise _Abort
            self._event(json.dumps(chunk({"content": token})))
            sent += 1
        self._fault_point(reply, sent, final=True)

        for payload in reply.raw_chunks or []:
            self._event(payload)
        if reply.finish_reason is not None:
            self._event(json.dumps(chunk({}, reply.finish_reason)))
        include = bool((body.get("stream_options") or {}).get("include_usage"))
        usage = self._usage(reply, body, sent)
        if usage is not None and (include or isinstance(reply.usage, dict)):
            final = chunk(None)
            final["usage"] = usage
            self._event(json.dumps(final))
        if reply.done:
            self._event("[DONE]")
        if self._chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _fault_point(self, reply: TextReply, sent: int, final: bool = False) -> None:
        # final=True: a threshold at or beyond the token count triggers after the last token.
        if reply.drop_after is not None and (
            sent == reply.drop_after or (final and sent < reply.drop_after)
        ):
            self._drop()
        if reply.stall_after is not None and (
            sent == reply.stall_after or (final and sent < reply.stall_after)
        ):
            self._wait(reply.stall_seconds)
            self._drop()

    def _event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        if self._chunked:
            payload = f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
        self.wfile.write(payload)
        self.wfile.flush()

    def _wait(self, seconds: float) -> bool:
        """Sleep, waking early when the server stops; True means it is stopping."""
        return self.server.stopping.wait(seconds)

    def _drop(self) -> None:
        # Cut the TCP connection mid-body so the client sees an incomplete chunked read.
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort


def _filter_results() -> dict[str, Any]:
    return {name: dict(_SAFE) for name in ("hate", "self_harm", "sexual", "violence")}


def _prompt_filter_results() -> list[dict[str, Any]]:
    return [{"prompt_index": 0, "content_filter_results": _filter_results()}]


# --- public server --------------------------------------------------------------------------


class FakeOpenAIServer:
    """OpenAI / Azure OpenAI compatible server with scripted replies, run in a daemon thread."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, tokens_per_second: float | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.tokens_per_second = tokens_per_second
        self.models: list[str] = ["fake-model", "fake-model-mini"]
        # When set, chat requests must carry this key (Bearer token or api-key header).
        self.require_key: str | None = None
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Reply] = collections.deque()
        self._cond = threading.Condition()
        self._ids = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        # A short poll interval keeps shutdown() fast for the test suite.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        # Wake handlers blocked on a stalled response or an idle keep-alive read.
        with httpd.connections_lock:
            held = list(httpd.connections)
        for conn in held:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    # -- scripting and inspection

    def enqueue(self, *replies: Reply) -> None:
        with self._cond:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._cond:
            self._queue.clear()
            self.requests.clear()

    @property
    def last_request(self) -> RecordedRequest:
        with self._cond:
            if not self.requests:
                raise AssertionError("the fake server has received no requests")
            return self.requests[-1]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= n, timeout):
                raise AssertionError(f"expected {n} requests, got {len(self.requests)}")
            return list(self.requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _next_reply(self, body: dict[str, Any] | None) -> Reply:
        with self._cond:
            if self._queue:
                return self._queue.popleft()
        return default_reply(body)

    def _new_id(self, prefix: str) -> str:
        with self._cond:
            self._ids += 1
            return f"{prefix}{self._ids}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--tps", type=float, default=None, help="tokens per second to stream")
    args = parser.parse_args(argv)
    # Handlers before the first line is printed: whoever reads it may signal at once. Explicit,
    # because a shell may start background jobs with SIGINT ignored.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    server = FakeOpenAIServer(args.host, args.port, tokens_per_second=args.tps).start()
    url = server.url
    print(f"fake OpenAI server on {url}")
    print(f"  OpenAI-compatible: OPENAI_BASE_URL={server.base_url} OPENAI_MODEL=fake-model")
    print(
        f"  Azure:             AZURE_OPENAI_ENDPOINT={url} "
        "AZURE_OPENAI_CHAT_DEPLOYMENT=fake-deployment AZURE_OPENAI_API_KEY=test-key"
    )
    commands = "!long N, !code N, !status N, !drop, !stall, !length, !filter, !nofinish, !markup"
    print(f"  prompts: {commands}", flush=True)
    try:
        stopping.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
