"""A local, scriptable OpenAI-compatible HTTP server for tests and manual runs.

Tests start it on a free port in a background thread and talk to it with the real ``openai``
SDK over real HTTP, so streaming, keep-alive and error handling are exercised end to end.
Run it directly (``python tests/openai_server.py --port 8000``) to point the app at it by hand.

Only the standard library is used so the file works wherever the tests run.

What it serves:

* Chat Completions: ``/v1/chat/completions`` (also without ``/v1``), Azure's
  ``/openai/deployments/{name}/chat/completions?api-version=...`` and Azure v1's
  ``/openai/v1/chat/completions``.
* The Responses API: ``/v1/responses`` (also without ``/v1``), Azure v1's ``/openai/v1/responses``
  and Azure's ``/openai/responses?api-version=...``; typed SSE events (``event:`` lines, each with a
  ``sequence_number``) or one ``Response`` object. ``responses_enabled = False`` makes these paths
  404, like a compatible server that only knows Chat Completions.
* ``/v1/models`` (and the other two prefixes).

The same queue of replies (``enqueue``) drives both APIs; with nothing queued, ``!commands`` in the
last user message pick a reply (see ``default_reply``). A ``TextReply`` can carry reasoning:
streamed before the answer in ``delta.reasoning_content`` or ``delta.reasoning``, or inline as
``<think>...</think>`` (tags optionally cut across chunks) on Chat Completions, and as a reasoning
summary on the Responses API.

Reasoning-model rules, checked before a reply is taken from the queue (so a rejected request
does not use one up): a model named in ``reasoning_models`` or starting with one of
``reasoning_prefixes`` (o1, o3, o4, gpt-5; not ``-chat`` variants) rejects ``temperature`` other
than 1, ``top_p``, the penalties, ``logprobs`` and ``max_tokens`` with OpenAI's 400 shapes, and
accepts only the ``reasoning_effort`` values of ``reasoning_efforts``; ``rejects`` names the
parameters a given model rejects instead. A model in ``responses_only`` answers Chat Completions
with the 400 that OpenAI (``invalid_request_error``) or Azure (``OperationNotSupported``) give.
The model is the deployment in an Azure deployment path, otherwise the request's ``model``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http
import itertools
import json
import random
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    import os

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
_RESPONSES_PATHS = {
    "/v1/responses": "openai",
    "/responses": "openai",
    "/openai/v1/responses": "azure-v1",
    # What AzureOpenAI calls with an api-version (the preview API before v1).
    "/openai/responses": "azure",
}
_MODEL_PATHS = {"/v1/models": "openai", "/models": "openai", "/openai/v1/models": "azure-v1"}
_SAFE = {"filtered": False, "severity": "safe"}

# Parameters OpenAI and Azure refuse for reasoning models, in the order they are checked.
REASONING_REJECTS = (
    "max_tokens",
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
)
_EFFORT_ORDER = ("none", "minimal", "low", "medium", "high", "xhigh")
_O_SERIES_EFFORTS = frozenset({"low", "medium", "high"})
_GPT5_EFFORTS = frozenset({"minimal", "low", "medium", "high"})
# The rate limits every answer reports (requests, tokens), as an OpenAI account's tier would.
RATE_LIMITS = (5000, 800_000)
TOKENS_PER_ANSWER = 500
_AZURE_OPERATIONS_LINK = "https://go.microsoft.com/fwlink/?linkid=2197993"
ReasoningField = Literal["reasoning_content", "reasoning", "think"]
FailEvent = Literal["response.failed", "error", "error-nested"]


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
    # Reasoning streamed before the content (str -> tokens, list -> one chunk per item). On Chat
    # Completions it goes where reasoning_field says: delta.reasoning_content (DeepSeek,
    # llama.cpp), delta.reasoning (vLLM, Ollama, OpenRouter) or "think": inline in the content as
    # "<think>" + reasoning + "</think>"; on the Responses API it is the reasoning summary.
    # drop_after, stall_after and fail_after count reasoning chunks too.
    reasoning: str | list[str] = ""
    reasoning_field: ReasoningField = "reasoning_content"
    # "think" only: cut each tag after this many characters, the first piece joining the chunk
    # before it and the rest the chunk after ("<thi" + "nk>First"); 0 sends each tag whole.
    think_split: int = 0
    # Seconds between reasoning chunks; overrides delay / tokens_per_second for them.
    reasoning_delay: float = 0.0
    # Usage: reasoning_tokens (None -> the reasoning chunks sent; count hidden reasoning with a
    # number) are part of completion/output tokens; cached_tokens are part of prompt/input tokens.
    reasoning_tokens: int | None = None
    cached_tokens: int = 0
    # After this many chunks, report a failure in the stream and end the body: Chat Completions
    # sends a data chunk {"error": {...}} (the SDK raises APIError); the Responses API sends
    # fail_event: "response.failed" (status "failed" with an error), "error" (the documented flat
    # ResponseErrorEvent) or "error-nested" (error fields under "error", as OpenAI has been seen to
    # send, which the SDK raises as APIError). Non-streaming requests get HTTP 500 instead.
    fail_after: int | None = None
    fail_event: FailEvent = "response.failed"
    fail_code: str = "server_error"
    fail_message: str = "The server had an error while processing your request. Sorry about that!"
    # Response headers sent besides (and over) the ones every answer carries.
    headers: dict[str, str] = field(default_factory=dict)

    def tokens(self) -> list[str]:
        return tokenize(self.content) if isinstance(self.content, str) else list(self.content)

    def reasoning_chunks(self) -> list[str]:
        if isinstance(self.reasoning, str):
            return tokenize(self.reasoning)
        return list(self.reasoning)


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
    # "chat" | "responses" | "models"; None for paths that matched nothing.
    operation: str | None = None
    # time.time() (comparable across processes, unlike monotonic clocks) when the whole request
    # had arrived, and when the last byte of its reply was written (None: nothing was written).
    received: float = 0.0
    replied: float | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def model(self) -> str | None:
        """The model the request names: the deployment in an Azure path, else body["model"]."""
        if self.deployment is not None:
            return self.deployment
        model = (self.body or {}).get("model")
        return model if isinstance(model, str) else None

    @property
    def instructions(self) -> str | None:
        value = (self.body or {}).get("instructions")
        return value if isinstance(value, str) else None

    @property
    def contents(self) -> list[tuple[str, str | list[dict[str, Any]]]]:
        """Each message as (role, content) exactly as sent, content parts and all, on either
        wire shape: Chat Completions' messages, or the Responses API's input messages."""
        body = self.body or {}
        if "messages" in body:
            return [(m.get("role", ""), m.get("content")) for m in self.messages]
        raw = body.get("input")
        items = raw if isinstance(raw, list) else []
        return [
            (item["role"], item.get("content"))
            for item in items
            if isinstance(item, dict) and item.get("type", "message") == "message"
        ]

    @property
    def images(self) -> list[tuple[str, str | None]]:
        """Every image sent, in order, as (data URL, detail), on either wire shape."""
        found: list[tuple[str, str | None]] = []
        for _, content in self.contents:
            for part in content if isinstance(content, list) else []:
                if part.get("type") == "image_url":
                    image = part.get("image_url") or {}
                    found.append((image.get("url", ""), image.get("detail")))
                elif part.get("type") == "input_image":
                    found.append((part.get("image_url", ""), part.get("detail")))
        return found

    @property
    def responses_input(self) -> list[tuple[str, str]]:
        """A Responses request's input as (role, text): a str input is one user message; items
        that are not messages (reasoning, tool calls) are left out."""
        return _input_messages(self.body)

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


def _input_messages(body: dict[str, Any] | None) -> list[tuple[str, str]]:
    raw = (body or {}).get("input")
    if isinstance(raw, str):
        return [("user", raw)]
    pairs: list[tuple[str, str]] = []
    for item in raw if isinstance(raw, list) else []:
        if (
            isinstance(item, dict)
            and isinstance(item.get("role"), str)
            and item.get("type", "message") == "message"
        ):
            pairs.append((item["role"], _content_text(item.get("content"))))
    return pairs


def _prompt_tokens(body: dict[str, Any] | None) -> int:
    messages = (body or {}).get("messages") or []
    texts = [_content_text(m.get("content")) for m in messages if isinstance(m, dict)]
    texts += [text for _, text in _input_messages(body)]
    instructions = (body or {}).get("instructions")
    if isinstance(instructions, str):
        texts.append(instructions)
    return max(1, sum(len(text.split()) for text in texts))


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


def _code_block(rng: random.Random, lines: int = 0, min_tokens: int = 0, min_lines: int = 0) -> str:
    """A python fence with ``lines`` steps, or as many as needed to reach ``min_tokens`` tokens
    or ``min_lines`` lines of code."""
    body = ["```python", f"def handler_{rng.randrange(1000)}(items: list[int]) -> int:"]
    body.append("    total = 0")
    count = sum(len(tokenize(line)) for line in body) + 4
    n = 0
    while n < lines or count < min_tokens or len(body) < min_lines:
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


def code_lines_markdown(n_lines: int, seed: int = 1) -> str:
    """One python code fence of at least ``n_lines`` lines of code (a line or two more)."""
    return _code_block(random.Random(seed), min_lines=n_lines)


def table_markdown(rows: int, columns: int, seed: int = 2) -> str:
    """A Markdown table of ``rows`` rows (after the header) and ``columns`` columns."""
    rng = random.Random(seed)
    header = ["Row", *(f"{rng.choice(_TOPICS)} {c}" for c in range(2, columns + 1))]
    lines = ["| " + " | ".join(header[:columns]) + " |", "|" + " --- |" * columns]
    for r in range(1, rows + 1):
        cells = [f"{r}"]
        for _ in range(columns - 1):
            word = rng.choice(_WORDS)
            cells.append(rng.choice((word, str(rng.randint(0, 99999)), f"`{word}`")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _table_size(arg: str | None) -> tuple[int, int]:
    """``!table ROWSxCOLS`` (or ``!table ROWS``): the size asked for, 50x6 by default."""
    match = re.fullmatch(r"(\d+)(?:x(\d+))?", arg or "")
    if match is None:
        return 50, 6
    return max(int(match.group(1)), 1), max(int(match.group(2) or 6), 1)


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
        "- try `!long 2000`, `!code 1500` or `!table 200x8` for big replies\n"
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
    for role, text in reversed(_input_messages(body)):
        if role == "user":
            return text
    return ""


_THOUGHTS = [
    "The user wants a short answer, so I should keep it focused.",
    "First I check what they actually asked and whether anything is ambiguous.",
    "A list of the main points would be easy to scan in a terminal.",
    "I should include a small code example, since they are probably a developer.",
    "Let me make sure the example is correct: the function takes a name and returns a greeting.",
    "Markdown headings and inline code should render fine, so I can use them.",
    "That covers it; now I write the answer.",
]


def thinking_text(n_sentences: int = len(_THOUGHTS)) -> str:
    """Deterministic "reasoning" of a few sentences, one paragraph each."""
    return "\n\n".join(_THOUGHTS[i % len(_THOUGHTS)] for i in range(n_sentences))


def _think_reply(text: str, mode: str) -> TextReply:
    """``!think [tags|field|hidden]``: a few seconds of reasoning, then the usual answer.
    (``!think N``: N tokens of reasoning and N of answer, as fast as the server goes.)"""
    answer = _short_reply(text)
    if mode == "hidden":
        # A reasoning model that reports its thinking only as a token count.
        return TextReply(answer, first_delay=3.0, reasoning_tokens=384)
    field_of: dict[str, ReasoningField] = {"tags": "think", "field": "reasoning"}
    reasoning_field = field_of.get(mode, "reasoning_content")
    return TextReply(
        answer,
        reasoning=thinking_text(),
        reasoning_field=reasoning_field,
        reasoning_delay=0.04,
        think_split=4 if reasoning_field == "think" else 0,
    )


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
    if command == "!code":  # !code N: about N tokens; !code N lines: N lines of code
        if arg is not None and parts[2:3] == ["lines"]:
            return TextReply(code_lines_markdown(arg))
        return TextReply(code_markdown(arg or 1500))
    if command == "!table":
        return TextReply(table_markdown(*_table_size(parts[1] if len(parts) > 1 else None)))
    if command == "!markup":
        return TextReply(_MARKUP)
    if command in ("!think", "!reason"):
        if arg is not None:  # !think N: N tokens of reasoning, then N of answer, at full speed
            reasoning = " ".join(thinking_text().split()[i % 60] for i in range(arg))
            return TextReply(long_markdown(arg), reasoning=reasoning)
        return _think_reply(text, parts[1].lower() if len(parts) > 1 else "")
    if command == "!fail":
        event: FailEvent = "error" if "error" in parts[1:] else "response.failed"
        return TextReply(filler, fail_after=10, fail_event=event)
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
        received = time.time()
        self._last_write: float | None = None
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else None

        kind, deployment, operation = "unknown", None, None
        if path in _CHAT_PATHS:
            kind, operation = _CHAT_PATHS[path], "chat"
        elif match := _AZURE_DEPLOYMENT_RE.match(path):
            kind, deployment, operation = "azure", match.group(1), "chat"
        elif path in _RESPONSES_PATHS:
            kind, operation = _RESPONSES_PATHS[path], "responses"
        elif path in _MODEL_PATHS:
            kind, operation = _MODEL_PATHS[path], "models"

        owner = self.server.owner
        request = RecordedRequest(
            self.command,
            path,
            query,
            headers,
            body,
            raw,
            kind,
            deployment,
            client_port=self.client_address[1],
            operation=operation,
            received=received,
        )
        owner._record(request)

        try:
            if operation == "chat" and self.command == "POST":
                self._chat(request)
            elif operation == "responses" and self.command == "POST" and owner.responses_enabled:
                self._responses(request)
            elif operation == "models" and self.command == "GET":
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
        finally:
            request.replied = self._last_write
            if operation in ("chat", "responses"):
                owner._log_timing(request)

    def _admit(self, request: RecordedRequest) -> dict[str, Any] | None:
        """The request's JSON body when it may be answered; otherwise the error was sent."""
        owner = self.server.owner
        kind, headers, body = request.kind, request.headers, request.body
        if kind == "azure" and "api-version" not in request.query:
            # Mirrors Azure, which answers a missing api-version with a bare 404.
            self._send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
            return None
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
            return None
        if body is None:
            self._send_json(
                400, _error_body(400, "We could not parse the JSON body of your request.")
            )
            return None
        return body

    def _chat(self, request: RecordedRequest) -> None:
        owner = self.server.owner
        body = self._admit(request)
        if body is None:
            return
        model = request.model
        if model is not None and model in owner.responses_only:
            self._send_json(400, _responses_only_error(request.kind, model))
            return
        rejection = owner._rejection(model, body, responses=False)
        if rejection is not None:
            self._send_json(400, rejection)
            return

        reply = owner._next_reply(body)
        if isinstance(reply, ErrorReply):
            self._send_error_reply(reply)
        elif body.get("stream"):
            self._stream(reply, body)
        else:
            self._complete(reply, body)

    def _responses(self, request: RecordedRequest) -> None:
        owner = self.server.owner
        body = self._admit(request)
        if body is None:
            return
        rejection = owner._rejection(request.model, body, responses=True)
        if rejection is not None:
            self._send_json(400, rejection)
            return

        reply = owner._next_reply(body)
        if isinstance(reply, ErrorReply):
            self._send_error_reply(reply)
        elif body.get("stream"):
            _ResponseWriter(self, reply, body).stream()
        else:
            _ResponseWriter(self, reply, body).complete()

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
        self._send_answer_headers(extra_headers)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        self._last_write = time.time()

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

    def _send_failure(self, reply: TextReply) -> None:
        """fail_after on a non-streaming request: the whole request fails."""
        error = _error_body(500, reply.fail_message, "server_error")
        error["error"]["code"] = reply.fail_code
        self._send_json(500, error)

    def _usage(
        self, reply: TextReply, body: dict[str, Any], sent: int, reasoning_sent: int = 0
    ) -> dict[str, Any] | None:
        if isinstance(reply.usage, dict):
            return reply.usage
        if not reply.usage:
            return None
        prompt = _prompt_tokens(body)
        reasoning = reply.reasoning_tokens if reply.reasoning_tokens is not None else reasoning_sent
        completion = sent + reasoning
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            # As OpenAI and Azure send them; reasoning and cached tokens are already counted above.
            "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": reply.cached_tokens},
            "completion_tokens_details": {
                "accepted_prediction_tokens": 0,
                "audio_tokens": 0,
                "reasoning_tokens": reasoning,
                "rejected_prediction_tokens": 0,
            },
        }

    def _complete(self, reply: TextReply, body: dict[str, Any]) -> None:
        tokens = reply.tokens()
        reasoning = reply.reasoning_chunks()
        # Fault knobs still apply so non-streaming clients can be tested against them.
        if reply.stall_after is not None:
            self._wait(reply.stall_seconds)
            raise _Abort
        if reply.drop_after is not None:
            self._drop()
        if reply.fail_after is not None:
            self._send_failure(reply)
            return
        content = "".join(tokens)
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if reasoning and reply.reasoning_field == "think":
            message["content"] = f"<think>{''.join(reasoning)}</think>{content}"
        elif reasoning:
            message[reply.reasoning_field] = "".join(reasoning)
        choice: dict[str, Any] = {
            "index": 0,
            "message": message,
            "finish_reason": reply.finish_reason,
            "logprobs": None,
        }
        payload: dict[str, Any] = {
            "id": self.server.owner._new_id("chatcmpl-fake-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model,
            "choices": [choice],
            "usage": self._usage(reply, body, len(tokens), len(reasoning)),
        }
        if reply.azure:
            choice["content_filter_results"] = _filter_results()
            payload["prompt_filter_results"] = _prompt_filter_results()
        self._send_json(200, payload, reply.headers)

    def _send_answer_headers(self, extra: dict[str, str] | None = None) -> None:
        """What real servers send with every answer: the request's id (and Azure's own, on its
        paths) and the rate limits left; `extra` (a test's) wins over them."""
        owner = self.server.owner
        request_id = owner._new_id("req-fake-")
        headers = {"x-request-id": request_id, **owner._limits_left()}
        if self.path.startswith("/openai/"):
            headers["apim-request-id"] = request_id.replace("req-fake-", "apim-fake-")
        extra = extra or {}
        headers = {k: v for k, v in headers.items() if k not in {n.lower() for n in extra}}
        for name, value in {**headers, **extra}.items():
            self.send_header(name, value)

    def _start_events(self, extra_headers: dict[str, str] | None = None) -> None:
        """Send the headers of a server-sent event stream."""
        # HTTP/1.0 clients cannot take chunked framing; stream raw and close instead.
        self._chunked = self.request_version != "HTTP/1.0"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self._send_answer_headers(extra_headers)
        if self._chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

    def _end_events(self) -> None:
        if self._chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _pause(self, reply: TextReply, reasoning: bool = False) -> None:
        """Wait between two chunks; abort when the server stops."""
        tps = self.server.owner.tokens_per_second
        pause = reply.delay if reply.delay > 0 else (1 / tps if tps else 0.0)
        if reasoning and reply.reasoning_delay > 0:
            pause = reply.reasoning_delay
        if pause and self._wait(pause):
            raise _Abort

    def _stream(self, reply: TextReply, body: dict[str, Any]) -> None:
        owner = self.server.owner
        self._start_events(reply.headers)
        tokens = reply.tokens()
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
        sent = content_sent = reasoning_sent = 0
        for field_name, text, is_reasoning in _chat_deltas(reply, tokens):
            if self._fault_point(reply, sent):
                self._stream_failure(reply)
                return
            self._pause(reply, is_reasoning)
            self._event(json.dumps(chunk({field_name: text})))
            sent += 1
            if is_reasoning:
                reasoning_sent += 1
            else:
                content_sent += 1
        if self._fault_point(reply, sent, final=True):
            self._stream_failure(reply)
            return

        for payload in reply.raw_chunks or []:
            self._event(payload)
        if reply.finish_reason is not None:
            self._event(json.dumps(chunk({}, reply.finish_reason)))
        include = bool((body.get("stream_options") or {}).get("include_usage"))
        usage = self._usage(reply, body, content_sent, reasoning_sent)
        if usage is not None and (include or isinstance(reply.usage, dict)):
            final = chunk(None)
            final["usage"] = usage
            self._event(json.dumps(final))
        if reply.done:
            self._event("[DONE]")
        self._end_events()

    def _stream_failure(self, reply: TextReply) -> None:
        # OpenAI's mid-stream error: a data chunk holding only an error, then the body ends.
        error = {"message": reply.fail_message, "type": "server_error", "param": None}
        self._event(json.dumps({"error": {**error, "code": reply.fail_code}}))
        self._end_events()

    def _fault_point(self, reply: TextReply, sent: int, final: bool = False) -> bool:
        """Drop or stall here if asked; True when the stream should report a failure now."""
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
        return reply.fail_after is not None and (
            sent == reply.fail_after or (final and sent < reply.fail_after)
        )

    def _event(self, data: str, event: str | None = None) -> None:
        text = f"event: {event}\ndata: {data}\n\n" if event else f"data: {data}\n\n"
        payload = text.encode()
        if self._chunked:
            payload = f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
        self.wfile.write(payload)
        self.wfile.flush()
        self._last_write = time.time()

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


def _chat_deltas(reply: TextReply, tokens: list[str]) -> list[tuple[str, str, bool]]:
    """The streamed deltas after the role chunk as (delta field, text, is reasoning)."""
    reasoning = reply.reasoning_chunks()
    content = [("content", token, False) for token in tokens]
    if not reasoning:
        return content
    if reply.reasoning_field != "think":
        return [(reply.reasoning_field, token, True) for token in reasoning] + content
    # Inline tags, as models served without a reasoning parser send them: each tag is its own
    # chunk, or is cut in two with the pieces glued to the neighbouring chunks.
    cut = reply.think_split
    if cut <= 0:
        texts = ["<think>", *reasoning, "</think>", *tokens]
        flags = [True] * (len(reasoning) + 2) + [False] * len(tokens)
    else:
        open_head, open_tail = "<think>"[:cut], "<think>"[cut:]
        close_head, close_tail = "</think>"[:cut], "</think>"[cut:]
        thought = list(reasoning)
        thought[0] = open_tail + thought[0]
        thought[-1] += close_head
        answer = list(tokens)
        if answer:
            answer[0] = close_tail + answer[0]
        elif close_tail:
            answer = [close_tail]
        texts = [open_head, *thought, *answer]
        flags = [True] * (len(thought) + 1) + [False] * len(answer)
    return [("content", text, flag) for text, flag in zip(texts, flags, strict=True)]


def _unsupported_parameter(name: str) -> dict[str, Any]:
    hint = " Use 'max_completion_tokens' instead." if name == "max_tokens" else ""
    message = f"Unsupported parameter: '{name}' is not supported with this model.{hint}"
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": name,
            "code": "unsupported_parameter",
        }
    }


def _unsupported_value(name: str, value: Any, supported: str) -> dict[str, Any]:
    shown = f"'{value}'" if isinstance(value, str) else json.dumps(value)
    message = f"Unsupported value: '{name}' does not support {shown} with this model. {supported}"
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": name,
            "code": "unsupported_value",
        }
    }


def _quoted_list(values: list[str]) -> str:
    """'a', 'b', and 'c' — how OpenAI lists supported values."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _responses_only_error(kind: str, model: str) -> dict[str, Any]:
    if kind == "openai":
        message = "This model is only supported in v1/responses and not in v1/chat/completions."
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": "model",
                "code": None,
            }
        }
    message = (
        f"The chatCompletion operation does not work with the specified model, {model}. "
        "Please choose different model and try again. You can learn more about which models "
        f"can be used with each operation here: {_AZURE_OPERATIONS_LINK}."
    )
    return {"error": {"code": "OperationNotSupported", "message": message}}


class _ResponseWriter:
    """Answers one Responses API request from a TextReply, streamed or as one object."""

    def __init__(self, handler: _Handler, reply: TextReply, body: dict[str, Any]) -> None:
        self.handler = handler
        self.reply = reply
        self.body = body
        owner = handler.server.owner
        self.id = owner._new_id("resp_fake")
        self.reasoning_id = owner._new_id("rs_fake")
        self.message_id = owner._new_id("msg_fake")
        self.created_at = int(time.time())
        self.reasoning = reply.reasoning_chunks()
        self.tokens = reply.tokens()
        # Hidden reasoning (only a token count) still shows as a reasoning item without summary.
        self.has_reasoning_item = bool(self.reasoning) or bool(reply.reasoning_tokens)
        self.reasoning_item: dict[str, Any] | None = None
        self.message_item: dict[str, Any] | None = None
        self.reasoning_sent = 0
        self.content_sent = 0
        self.sequence = itertools.count()

    # -- shapes

    def _text_part(self, text: str) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def _output(self) -> list[dict[str, Any]]:
        return [item for item in (self.reasoning_item, self.message_item) if item is not None]

    def _usage(self) -> dict[str, Any] | None:
        reply = self.reply
        if isinstance(reply.usage, dict):
            return reply.usage
        if not reply.usage:
            return None
        prompt = _prompt_tokens(self.body)
        reasoning = (
            reply.reasoning_tokens if reply.reasoning_tokens is not None else self.reasoning_sent
        )
        output = self.content_sent + reasoning
        return {
            "input_tokens": prompt,
            # Newer SDKs require cache_write_tokens here.
            "input_tokens_details": {"cached_tokens": reply.cached_tokens, "cache_write_tokens": 0},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": prompt + output,
        }

    def _response(self, status: str, **extra: Any) -> dict[str, Any]:
        body = self.body
        requested = body.get("reasoning")
        reasoning = requested if isinstance(requested, dict) else {"effort": None, "summary": None}
        response: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "completed_at": None,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "metadata": {},
            "model": self.reply.model,
            "output": self._output() if status != "in_progress" else [],
            "parallel_tool_calls": True,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": reasoning,
            "service_tier": "default",
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": [],
            "top_logprobs": 0,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": self._usage() if status != "in_progress" else None,
            "user": None,
        }
        response.update(extra)
        return response

    def _ending(self) -> tuple[str, dict[str, Any]]:
        """The terminal status and extra Response fields for the reply's finish_reason."""
        finish = self.reply.finish_reason
        if finish == "length":
            return "incomplete", {"incomplete_details": {"reason": "max_output_tokens"}}
        if finish == "content_filter":
            return "incomplete", {"incomplete_details": {"reason": "content_filter"}}
        return "completed", {"completed_at": int(time.time())}

    # -- non-streaming

    def complete(self) -> None:
        handler, reply = self.handler, self.reply
        if reply.stall_after is not None:
            handler._wait(reply.stall_seconds)
            raise _Abort
        if reply.drop_after is not None:
            handler._drop()
        if reply.fail_after is not None:
            handler._send_failure(reply)
            return
        status, extra = self._ending()
        if self.has_reasoning_item:
            summary = [{"type": "summary_text", "text": "".join(self.reasoning)}]
            self.reasoning_item = {
                "id": self.reasoning_id,
                "type": "reasoning",
                "summary": summary if self.reasoning else [],
            }
            self.reasoning_sent = len(self.reasoning)
        if self.tokens:
            self.message_item = {
                "id": self.message_id,
                "type": "message",
                "status": "completed" if status == "completed" else "incomplete",
                "role": "assistant",
                "content": [self._text_part("".join(self.tokens))],
            }
            self.content_sent = len(self.tokens)
        handler._send_json(200, self._response(status, **extra), self.reply.headers)

    # -- streaming

    def _emit(self, kind: str, **fields: Any) -> None:
        payload = {"type": kind, "sequence_number": next(self.sequence), **fields}
        self.handler._event(json.dumps(payload), event=kind)

    def stream(self) -> None:
        handler = self.handler
        handler._start_events(self.reply.headers)
        try:
            self._stream_events()
        except _Failed:
            self._emit_failure()
        handler._end_events()

    def _step(self, reasoning: bool) -> None:
        """Before a chunk: faults, then the pause."""
        sent = self.reasoning_sent + self.content_sent
        if self.handler._fault_point(self.reply, sent):
            raise _Failed
        self.handler._pause(self.reply, reasoning)

    def _last_step(self) -> None:
        sent = self.reasoning_sent + self.content_sent
        if self.handler._fault_point(self.reply, sent, final=True):
            raise _Failed

    def _stream_events(self) -> None:
        reply, handler = self.reply, self.handler
        self._emit("response.created", response=self._response("in_progress"))
        self._emit("response.in_progress", response=self._response("in_progress"))
        index = 0
        if self.has_reasoning_item:
            self.reasoning_item = {"id": self.reasoning_id, "type": "reasoning", "summary": []}
            self._emit("response.output_item.added", output_index=index, item=self.reasoning_item)
        # The model "thinks" with its reasoning item open, or before anything if it has none.
        if reply.first_delay and handler._wait(reply.first_delay):
            raise _Abort
        if self.reasoning_item is not None:
            self._stream_reasoning(index, last=not self.tokens)
            index += 1
        if self.tokens:
            self._stream_message(index)
        elif self.reasoning_item is None:
            self._last_step()
        if reply.finish_reason is None:
            return  # the body ends without a terminal event
        status, extra = self._ending()
        kind = "response.completed" if status == "completed" else "response.incomplete"
        self._emit(kind, response=self._response(status, **extra))

    def _stream_reasoning(self, index: int, last: bool) -> None:
        item = self.reasoning_item
        assert item is not None
        ids = {"item_id": self.reasoning_id, "output_index": index}
        if self.reasoning:
            part = {"type": "summary_text", "text": ""}
            item["summary"] = [part]
            self._emit("response.reasoning_summary_part.added", **ids, summary_index=0, part=part)
            for token in self.reasoning:
                self._step(reasoning=True)
                self._emit(
                    "response.reasoning_summary_text.delta", **ids, summary_index=0, delta=token
                )
                part["text"] += token
                self.reasoning_sent += 1
            if last:
                self._last_step()
            text = part["text"]
            self._emit("response.reasoning_summary_text.done", **ids, summary_index=0, text=text)
            self._emit(
                "response.reasoning_summary_part.done",
                **ids,
                summary_index=0,
                part={"type": "summary_text", "text": text},
            )
        elif last:
            self._last_step()
        self._emit("response.output_item.done", output_index=index, item=item)

    def _stream_message(self, index: int) -> None:
        item: dict[str, Any] = {
            "id": self.message_id,
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        self.message_item = item
        ids = {"item_id": self.message_id, "output_index": index, "content_index": 0}
        self._emit("response.output_item.added", output_index=index, item=dict(item))
        part = self._text_part("")
        item["content"] = [part]
        self._emit("response.content_part.added", **ids, part=self._text_part(""))
        for token in self.tokens:
            self._step(reasoning=False)
            self._emit("response.output_text.delta", **ids, delta=token, logprobs=[])
            part["text"] += token
            self.content_sent += 1
        self._last_step()
        text = part["text"]
        self._emit("response.output_text.done", **ids, text=text, logprobs=[])
        self._emit("response.content_part.done", **ids, part=self._text_part(text))
        status, _ = self._ending()
        item["status"] = "completed" if status == "completed" else "incomplete"
        self._emit("response.output_item.done", output_index=index, item=item)

    def _emit_failure(self) -> None:
        reply = self.reply
        if self.message_item is not None and self.message_item["status"] == "in_progress":
            self.message_item["status"] = "incomplete"
        if reply.fail_event == "response.failed":
            error = {"code": reply.fail_code, "message": reply.fail_message}
            self._emit("response.failed", response=self._response("failed", error=error))
        elif reply.fail_event == "error":
            self._emit("error", code=reply.fail_code, message=reply.fail_message, param=None)
        else:
            error = {
                "type": "server_error",
                "code": reply.fail_code,
                "message": reply.fail_message,
                "param": None,
            }
            self._emit("error", error=error)


class _Failed(Exception):
    """The reply's fail_after was reached: report the failure in the stream."""


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
        # False -> the Responses API paths answer 404, as on a server without that API.
        self.responses_enabled = True
        # Models whose Chat Completions requests are refused: only the Responses API serves them.
        self.responses_only: set[str] = {
            "o1-pro",
            "o3-pro",
            "o3-deep-research",
            "gpt-5-pro",
            "gpt-5-codex",
            "codex-mini-latest",
        }
        # Reasoning models: these names, and names starting with a prefix (except "-chat" ones).
        self.reasoning_models: set[str] = set()
        self.reasoning_prefixes: tuple[str, ...] = ("o1", "o3", "o4", "gpt-5")
        # Per model, the parameters it rejects, instead of REASONING_REJECTS for a reasoning model
        # (and for any other model): "temperature" is refused unless 1, "reasoning_effort" means
        # any effort, everything else whenever it is sent (not null).
        self.rejects: dict[str, set[str]] = {}
        # Per model, the reasoning efforts it accepts. A reasoning model without an entry accepts
        # minimal/low/medium/high (gpt-5...) or low/medium/high (o-series); others are unchecked.
        self.reasoning_efforts: dict[str, set[str]] = {}
        # When set, a JSON line per chat or Responses request is appended to this file once its
        # reply is written: {"path", "received", "replied"} (see RecordedRequest), so another
        # process (a benchmark) can tell when its request arrived and its last token went out.
        self.timings: str | os.PathLike[str] | None = None
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Reply] = collections.deque()
        self._cond = threading.Condition()
        self._ids = 0
        self._answered = 0  # answers sent: what the rate limits count down
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

    def is_reasoning_model(self, model: str | None) -> bool:
        if not model:
            return False
        name = model.lower()
        if model in self.reasoning_models:
            return True
        return name.startswith(self.reasoning_prefixes) and "-chat" not in name

    def _rejection(
        self, model: str | None, body: dict[str, Any], responses: bool
    ) -> dict[str, Any] | None:
        """The 400 body OpenAI/Azure would send for this model and these parameters, if any."""
        reasoning = self.is_reasoning_model(model)
        rules = self.rejects.get(model or "")
        if rules is None:
            rules = set(REASONING_REJECTS) if reasoning else set()
        requested = body.get("reasoning")
        if responses:
            effort_param = "reasoning.effort"
            effort = requested.get("effort") if isinstance(requested, dict) else None
        else:
            effort_param, effort = "reasoning_effort", body.get("reasoning_effort")
        order = [*REASONING_REJECTS, *sorted(set(rules) - set(REASONING_REJECTS))]
        for name in order:
            if name not in rules:
                continue
            if name == "reasoning_effort":
                if effort is not None:
                    return _unsupported_parameter(effort_param)
                continue
            value = body.get(name)
            if value is None:
                continue
            if name == "temperature":
                if value != 1:
                    supported = "Only the default (1) value is supported."
                    return _unsupported_value(name, value, supported)
                continue
            return _unsupported_parameter(name)
        allowed = self.reasoning_efforts.get(model or "")
        if allowed is None and reasoning:
            gpt5 = (model or "").lower().startswith("gpt-5")
            allowed = set(_GPT5_EFFORTS if gpt5 else _O_SERIES_EFFORTS)
        if effort is not None and allowed is not None and effort not in allowed:
            known = [e for e in _EFFORT_ORDER if e in allowed]
            known += sorted(set(allowed) - set(_EFFORT_ORDER))
            supported = f"Supported values are: {_quoted_list(known)}."
            return _unsupported_value(effort_param, effort, supported)
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _log_timing(self, request: RecordedRequest) -> None:
        if self.timings is None:
            return
        line = json.dumps(
            {"path": request.path, "received": request.received, "replied": request.replied}
        )
        with self._cond, open(self.timings, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def _next_reply(self, body: dict[str, Any] | None) -> Reply:
        with self._cond:
            if self._queue:
                return self._queue.popleft()
        return default_reply(body)

    def _limits_left(self) -> dict[str, str]:
        """Rate-limit headers as OpenAI sends them: each answer takes a request and some
        tokens off a generous limit."""
        with self._cond:
            self._answered += 1
            answered = self._answered
        requests, tokens = RATE_LIMITS
        return {
            "x-ratelimit-limit-requests": str(requests),
            "x-ratelimit-limit-tokens": str(tokens),
            "x-ratelimit-remaining-requests": str(max(0, requests - answered)),
            "x-ratelimit-remaining-tokens": str(max(0, tokens - TOKENS_PER_ANSWER * answered)),
            "x-ratelimit-reset-requests": "12ms",
            "x-ratelimit-reset-tokens": "6ms",
        }

    def _new_id(self, prefix: str) -> str:
        with self._cond:
            self._ids += 1
            return f"{prefix}{self._ids}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--tps", type=float, default=None, help="tokens per second to stream")
    parser.add_argument(
        "--timings",
        metavar="FILE",
        default=None,
        help="append a JSON line per chat request: when it arrived, when its reply ended",
    )
    args = parser.parse_args(argv)
    # Handlers before the first line is printed: whoever reads it may signal at once. Explicit,
    # because a shell may start background jobs with SIGINT ignored.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    server = FakeOpenAIServer(args.host, args.port, tokens_per_second=args.tps)
    server.timings = args.timings
    server.start()
    url = server.url
    print(f"fake OpenAI server on {url}")
    print(f"  OpenAI-compatible: OPENAI_BASE_URL={server.base_url} OPENAI_MODEL=fake-model")
    print(
        f"  Azure:             AZURE_OPENAI_ENDPOINT={url} "
        "AZURE_OPENAI_CHAT_DEPLOYMENT=fake-deployment AZURE_OPENAI_API_KEY=test-key"
    )
    commands = (
        "!long N, !code N [lines], !table ROWSxCOLS, !status N, !drop, !stall, !length, "
        "!filter, !nofinish, !markup, !think [tags|field|hidden], !fail [error]"
    )
    print(f"  prompts: {commands}")
    print(
        "  Responses API:     POST /v1/responses, /openai/v1/responses; "
        "reasoning models (o1, o3, o4, gpt-5...) refuse temperature, max_tokens...",
        flush=True,
    )
    try:
        stopping.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
