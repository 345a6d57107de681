"""What went over the wire, for a support ticket: each request as sent and how it was answered,
with every credential taken out.

One `Exchange` per HTTP request: method, URL (query values masked), api-version, headers
(`api-key`, `Authorization` and the like redacted), body size and parameters (the messages'
text only at the `content` level), then the status, the response's headers that matter (request
ids, region, rate limits, retry-after), the times to headers, to the first chunk and to the end,
the chunks, the retries and how the reply ended.

The `WireLog` keeps the last exchanges in memory (so "Save diagnostics" has them when they are
needed) and, with a file, appends each to it as a JSON line when it ends: an owner-only file,
bounded in size (the older half is moved aside). The SDK's, httpx's and azure-identity's own
loggers are sent there too (`route_library_loggers`), never to the terminal.

The HTTP client calls `on_request` and `on_response` (httpx event hooks); the streaming client
tells the rest (`first_chunk`, `ended`…) for the exchange `current()` names: hooks run in the
task that made the request, so a context variable carries the exchange from one to the other.
"""

from __future__ import annotations

import contextvars
import json
import logging
import platform
import re
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat_tui.private_files import append_private, create_private, expand_home
from chat_tui.settings import redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from chat_tui.settings import Settings

REDACTED = "[redacted]"
# Headers that carry a credential, in any request or response.
SECRET_HEADERS = frozenset(
    {
        "api-key",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "ocp-apim-subscription-key",
        "x-api-key",
    }
)
# The server's names for a request, which support asks for (Azure sends both).
REQUEST_ID_HEADERS = ("x-request-id", "apim-request-id")
# Response headers worth keeping: ids, where it ran, limits and when to come back.
_KEPT_RESPONSE_HEADERS = re.compile(
    r"^(x-request-id|apim-request-id|x-ms-region|x-ms-client-request-id|openai-model|"
    r"openai-organization|openai-processing-ms|openai-version|azureml-model-deployment|"
    r"x-ratelimit-.*|retry-after|retry-after-ms|content-type|date|x-ms-.*)$"
)
# Body fields that hold what the user wrote; kept only at the content level.
_CONTENT_FIELDS = ("messages", "input", "instructions", "prompt")
# A bearer token or key in free text (a logger's message): masked whatever its value.
_BEARER = re.compile(
    r"(?i)\b(bearer|api-key|api_key|key)([\"']?\s*[:=]\s*[\"']?|\s+)([^\s\"',;]{8,})"
)
KEEP = 50  # exchanges kept in memory
MAX_FILE_BYTES = 5 * 1024 * 1024
_LIBRARY_LOGGERS = ("openai", "httpx", "httpcore", "azure")


class Level(StrEnum):
    """How much the log holds: `requests` (shapes, never the conversation) or `content` (the
    messages' text too)."""

    REQUESTS = "requests"
    CONTENT = "content"


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers, names lower-cased, with every credential's value replaced."""
    return {
        name.lower(): REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in headers
    }


def kept_response_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers worth keeping (ids, region, rate limits, retry-after), redacted."""
    redacted = redact_headers(headers.items())
    return {name: value for name, value in redacted.items() if _KEPT_RESPONSE_HEADERS.match(name)}


def request_ids(headers: Mapping[str, str]) -> dict[str, str]:
    """The server's ids for a request, by header name, from its (lower-cased) headers."""
    return {name: headers[name] for name in REQUEST_ID_HEADERS if headers.get(name)}


def body_shape(body: bytes, level: Level) -> dict[str, Any]:
    """A request body's parameters; the messages' text only at the content level (otherwise
    how many messages, and their roles)."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return {"unreadable": f"{len(body):,} bytes that are not JSON"}
    if not isinstance(parsed, dict):
        return {"unreadable": f"a JSON {type(parsed).__name__}"}
    if level is Level.CONTENT:
        return parsed
    shape = {name: value for name, value in parsed.items() if name not in _CONTENT_FIELDS}
    for name in _CONTENT_FIELDS:
        value = parsed.get(name)
        if isinstance(value, list):
            roles = [m.get("role", "?") for m in value if isinstance(m, dict)]
            shape[name] = (
                f"{len(value)} items ({', '.join(roles[-6:])}{'…' if len(roles) > 6 else ''})"
            )
        elif isinstance(value, str):
            shape[name] = f"{len(value):,} characters"
    return shape


class Scrubber:
    """Masks credentials in free text: the known secrets (the key, a token), and anything
    written as a bearer token or a key."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


@dataclass(slots=True)
class Exchange:
    """One request and its answer, as the log keeps it (nothing secret)."""

    number: int
    method: str
    url: str
    api_version: str | None
    headers: dict[str, str]
    body_bytes: int
    params: dict[str, Any]
    started: float  # time.time(), for the reader; the durations below are from it
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    to_headers: float | None = None
    to_first_chunk: float | None = None
    to_end: float | None = None
    chunks: int = 0
    retries: list[str] = field(default_factory=list)
    ending: str = ""
    _clock: float = 0.0  # time.monotonic() when it started

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["_clock"]
        return {name: value for name, value in data.items() if value not in (None, [], {}, "")}

    def since_start(self) -> float:
        return round(time.monotonic() - self._clock, 4)


_CURRENT: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "chat_tui_exchange", default=None
)


def current() -> Exchange | None:
    """The exchange of the request this task made last, if any."""
    return _CURRENT.get()


def forget_current() -> None:
    """Before a request: `current()` is None until it is sent (it may fail before that)."""
    _CURRENT.set(None)


class WireLog:
    """The last exchanges, in memory and (with `path`) in a file; see the module's doc."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        level: Level = Level.REQUESTS,
        keep: int = KEEP,
        max_bytes: int = MAX_FILE_BYTES,
        scrub: Scrubber | None = None,
    ) -> None:
        self.path = path
        self.level = level
        self.max_bytes = max_bytes
        self.scrub = scrub or Scrubber()
        self.exchanges: deque[Exchange] = deque(maxlen=keep)
        self.lines: deque[str] = deque(maxlen=keep * 4)  # the libraries' own log lines
        self._count = 0
        self.problem = ""  # why the file could not be written, once it could not

    # -- the HTTP client's hooks ----------------------------------------------------------

    async def on_request(self, request: Any) -> None:
        """httpx's request hook: a new exchange, made current for this task."""
        self._count += 1
        url = str(request.url)
        exchange = Exchange(
            number=self._count,
            method=request.method,
            url=self.scrub(redact_url(url)),
            api_version=request.url.params.get("api-version"),
            headers=redact_headers(request.headers.items()),
            body_bytes=len(request.content or b""),
            params=self._scrubbed(body_shape(request.content or b"", self.level)),
            started=time.time(),
            _clock=time.monotonic(),
        )
        self.exchanges.append(exchange)
        _CURRENT.set(exchange)

    async def on_response(self, response: Any) -> None:
        """httpx's response hook: the status and headers, for the request's exchange."""
        exchange = self._exchange_of(response.request)
        if exchange is None:
            return
        exchange.status = response.status_code
        exchange.response_headers = {
            name: self.scrub(value)
            for name, value in kept_response_headers(response.headers).items()
        }
        exchange.ids = request_ids(exchange.response_headers)
        exchange.to_headers = exchange.since_start()
        if response.status_code >= 400:
            # A failed request has no stream to end it: it ends here (its body is the error's).
            self.ended(exchange, f"HTTP {response.status_code}")

    def _exchange_of(self, request: Any) -> Exchange | None:
        exchange = current()
        if exchange is not None and exchange.method == request.method:
            return exchange
        return None

    # -- what the streaming client tells ---------------------------------------------------

    def chunk(self, exchange: Exchange | None) -> None:
        """A chunk of the stream arrived (cheap: called for every one)."""
        if exchange is None:
            return
        if not exchange.chunks:
            exchange.to_first_chunk = exchange.since_start()
        exchange.chunks += 1

    def retried(self, exchange: Exchange | None, reason: str) -> None:
        """The request failed for `reason` and is asked again (a new exchange)."""
        if exchange is not None:
            exchange.retries.append(self.scrub(reason))
            self.ended(exchange, "asked again")

    def hooks(self) -> dict[str, list[Any]]:
        """The HTTP client's event hooks that feed this log."""
        return {"request": [self.on_request], "response": [self.on_response]}

    def ended(self, exchange: Exchange | None, how: str) -> None:
        """The exchange is over (`how`: finished, stopped, the error's title): to the file."""
        if exchange is None or exchange.to_end is not None:
            return
        exchange.to_end = exchange.since_start()
        exchange.ending = self.scrub(how)
        self._write({"exchange": exchange.to_dict()})

    def note(self, line: str) -> None:
        """A line from a library's logger, scrubbed."""
        line = self.scrub(line)
        self.lines.append(line)
        self._write({"log": line})

    # -- files ----------------------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        """What is kept, oldest first: exchanges, then the libraries' last lines."""
        return [{"exchange": e.to_dict()} for e in self.exchanges] + [
            {"log": line} for line in self.lines
        ]

    def save(self, path: Path, header: Mapping[str, Any]) -> Path:
        """Write `header` (see `diagnostics_header`) and what is kept, as JSON lines, to `path`
        or the next free name beside it (never over a file): the path written, owner-only."""
        lines = [json.dumps(dict(header), ensure_ascii=False)]
        lines += [json.dumps(item, ensure_ascii=False) for item in self.snapshot()]
        return create_private(path, ("\n".join(lines) + "\n").encode("utf-8"))

    def _write(self, item: dict[str, Any]) -> None:
        if self.path is None or self.problem:
            return
        text = json.dumps(item, ensure_ascii=False) + "\n"
        try:
            if self.path.exists() and self.path.stat().st_size + len(text) > self.max_bytes:
                # Bounded: the older half goes aside (one file), the newest goes on.
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            append_private(self.path, text)
        except OSError as exc:
            self.problem = f"{self.path}: {exc.strerror or exc}"

    def _scrubbed(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self._scrubbed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrubbed(v) for v in value]
        return value


class _ToWireLog(logging.Handler):
    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink(self.format(record))
        except Exception:  # a log line must never take the app down
            self.handleError(record)


def route_library_loggers(log: WireLog, *, debug: bool) -> None:
    """The SDK's, httpx's and azure-identity's loggers write to `log` only, never to the
    terminal (even with OPENAI_LOG set): at DEBUG with `debug`, else warnings and up."""
    handler = _ToWireLog(log.note)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if debug else logging.WARNING)
        logger.propagate = False


def diagnostics_header(settings: Settings) -> dict[str, Any]:
    """What a support engineer reads first: versions, platform and the connection's shape
    (where, which model and API, how signed in; never a secret)."""
    from chat_tui import __version__

    return {
        "chat-tui": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "provider": settings.provider.value,
        "endpoint": settings.where,
        settings.provider.model_label.lower(): settings.model,
        "api_version": settings.api_version if settings.provider.is_azure else None,
        "api": settings.api.value,
        "auth": settings.auth.value,
        "log_level": settings.log_level,
    }


def for_settings(settings: Settings) -> WireLog:
    """The log the settings ask for (`log`, `log_level`), knowing their secrets to scrub."""
    scrub = Scrubber()
    scrub.add(settings.api_key)
    path = expand_home(Path(settings.log)) if settings.log else None
    return WireLog(path, level=Level(settings.log_level), scrub=scrub)
