"""Turning SDK and transport exceptions into messages a user can act on.

`describe_error` imports openai lazily: this module is imported at start-up.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chat_tui.retry import asked_to_wait
from chat_tui.settings import host_of
from chat_tui.text import one_line, visible
from chat_tui.wire_log import REQUEST_ID_HEADERS

if TYPE_CHECKING:
    from chat_tui.settings import Settings

# Error bodies can be whole HTML pages; show enough to recognise them, not a screenful.
_MAX_DETAIL = 600


# A request id is short; a server's header could be anything: it is cut to this.
REQUEST_ID_CHARS = 200
# A failed response's body, as much of it as the details keep.
BODY_CHARS = 4000


@dataclass(frozen=True, slots=True)
class ChatError:
    """A failure as the user should see it. All fields are plain, untrusted-safe text."""

    title: str
    detail: str = ""
    hint: str = ""
    status: int | None = None
    # The whole text behind a summary (e.g. azure-identity's report), shown on request.
    more: str = ""
    # Commands the hint suggests, by action name: the app shows their keys beside the hint
    # (the core does not know the keys; `chat-tui ask` has none).
    actions: tuple[str, ...] = ()
    # The server refused the request for what the user's message is (too long, filtered, a bad
    # request): sending it again as it is would fail again, and take later messages down too.
    refused: bool = False
    # The server's id for the failed request (x-request-id, or Azure's apim-request-id): the
    # first thing support asks for.
    request_id: str = ""
    # The whole failure for a support ticket, by field name: the status, the response's headers
    # that matter, its body, and the request's shape (see `failure_details`). Plain strings.
    details: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return sentence(self.title, self.detail, self.hint)

    @property
    def about_the_connection(self) -> bool:
        """Whether it says the connection is wrong (unreachable, key, deployment, server), not
        the request (a message the filter blocked, a conversation too long)."""
        return self.status is None or self.status in (401, 403, 404, 408) or self.status >= 429

    def to_dict(self) -> dict[str, Any]:
        """The error as saved with its reply (and exported): only what is set."""
        saved: dict[str, Any] = {"title": self.title}
        for name in ("detail", "hint", "more"):
            if value := getattr(self, name):
                saved[name] = value
        if self.status is not None:
            saved["status"] = self.status
        if self.actions:
            saved["actions"] = list(self.actions)
        if self.refused:
            saved["refused"] = True
        if self.request_id:
            saved["request_id"] = self.request_id
        if self.details:
            saved["details"] = dict(self.details)
        return saved

    @classmethod
    def from_dict(cls, data: object) -> ChatError | None:
        """An error read back from the store or an export (untrusted): None if it is not one.

        Only known fields of the right types are kept; the text is shown through `visible()`
        like any other.
        """
        if not isinstance(data, dict) or not isinstance(data.get("title"), str):
            return None

        def text(name: str) -> str:
            value = data.get(name)
            return value if isinstance(value, str) else ""

        status = data.get("status")
        actions = data.get("actions")
        details = data.get("details")
        return cls(
            text("title"),
            text("detail"),
            text("hint"),
            status if isinstance(status, int) and not isinstance(status, bool) else None,
            text("more"),
            tuple(a for a in actions if isinstance(a, str)) if isinstance(actions, list) else (),
            data.get("refused") is True,
            text("request_id"),
            {k: v for k, v in details.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(details, dict)
            else {},
        )

    def cleaned(self, settings: Settings) -> ChatError:
        """Every field with the connection's secrets masked, and made visible.

        Server text goes into these fields: a 401 body may repeat the key it was sent, and any
        body may carry escape codes.
        """

        def clean(text: str) -> str:
            return visible(settings.redact(text))

        return replace(
            self,
            title=clean(self.title),
            detail=clean(self.detail),
            hint=clean(self.hint),
            more=clean(self.more),
            request_id=one_line(self.request_id)[:REQUEST_ID_CHARS],
            details={one_line(name): clean(value) for name, value in self.details.items()},
        )

    def ticket(self) -> str:
        """The failure as text to paste into a support ticket: what the card says, the request
        id, then every detail. Safe to show (the fields are cleaned)."""
        lines = [str(self)]
        if self.request_id:
            lines.append(f"request id: {self.request_id}")
        lines += [f"{name}: {value}" for name, value in self.details.items()]
        return "\n".join(lines)

    def with_request_id(self, request_id: str | None) -> ChatError:
        """The error with the request's id, where the failure itself did not carry one (a
        stream that broke after its headers had come)."""
        if self.request_id or not request_id:
            return self
        return replace(self, request_id=one_line(request_id)[:REQUEST_ID_CHARS])


class ModelFailed(Exception):
    """The server reported in the middle of a stream that the model failed (the Responses API's
    `response.failed` or `error` event): the request was accepted, the reply was not made."""

    def __init__(self, code: str | None, message: str | None) -> None:
        self.code = code or ""
        self.message = message or "The server gave no reason."
        super().__init__(f"{self.code}: {self.message}" if self.code else self.message)


def sentence(title: str, detail: str = "", hint: str = "") -> str:
    """'Title. Detail. Hint', for a toast or a status line; each part ends a sentence."""
    parts = [part.strip() for part in (title, detail, hint)]
    ended = [p if p.endswith((".", "!", "?", "…", ":")) else f"{p}." for p in parts if p]
    # A part of several lines (a list) reads best with each part on lines of its own.
    return ("\n" if any("\n" in p for p in ended) else " ").join(ended)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "…"


def _server_message(exc: Exception) -> str:
    """The server's own words: the error body's message, else the raw response text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message:
            return _clip(message)
    elif isinstance(body, str) and body:
        return _clip(body)
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            return _clip(response.text)
        except Exception:  # a streamed body that was never read
            return ""
    return ""


def _limit_hit(exc: Exception, message: str) -> str:
    """Which rate limit a 429 hit, as the start of a sentence ("" when nothing says): the
    x-ratelimit headers OpenAI and Azure send, else the server's words."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for kind in ("tokens", "requests"):
        if headers.get(f"x-ratelimit-remaining-{kind}") == "0":
            limit = headers.get(f"x-ratelimit-limit-{kind}")
            of = f" (all {limit} used)" if limit else ""
            return f"The {kind}-per-minute limit was hit{of}. "
    lowered = message.lower()
    if "token rate limit" in lowered or "tokens per min" in lowered:
        return "The tokens-per-minute limit was hit. "
    if "request rate limit" in lowered or "requests per min" in lowered or "call rate" in lowered:
        return "The requests-per-minute limit was hit. "
    return ""


def _filter_summary(exc: Exception) -> str:
    """Azure's verdict: what was filtered (the prompt or the reply) and in which categories."""
    body = getattr(exc, "body", None)
    if not isinstance(body, dict):
        return ""
    where = "the reply" if body.get("param") == "completion" else "your message"
    inner = body.get("innererror") or {}
    results = inner.get("content_filter_result") or {} if isinstance(inner, dict) else {}
    categories = [
        f"{name} ({result.get('severity', 'filtered')})"
        for name, result in results.items()
        if isinstance(result, dict) and result.get("filtered")
    ]
    found = f" for {', '.join(categories)}" if categories else ""
    return f"The filter stopped {where}{found}. "


def _error_code(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else ""


def _is_tls_failure(cause: BaseException | None) -> bool:
    import ssl

    while cause is not None:
        if isinstance(cause, ssl.SSLError) or "SSL" in f"{type(cause).__name__} {cause}":
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _mentions_api_version(exc: Exception, message: str) -> bool:
    # Azure answers an unknown api-version with 400/404 and a message that names it.
    status = getattr(exc, "status_code", None)
    return status in (400, 404) and "api version" in message.lower().replace("-", " ")


def _is_stream_error(exc: BaseException) -> bool:
    """An error the server sent inside a stream, which the SDK raises as a bare APIError: no
    status (the response had begun with 200), no connection failure."""
    import openai

    return isinstance(exc, openai.APIError) and not isinstance(
        exc, (openai.APIStatusError, openai.APIConnectionError, openai.APIResponseValidationError)
    )


def describe_error(
    exc: BaseException, settings: Settings, *, answered: bool = False, text: bool = False
) -> ChatError:
    """Map an exception from a chat request to a ChatError naming what to check.

    `answered`: the server had sent its response, so a connection error is a drop, not an
    unreachable server; `text`: some of the reply had arrived (and is kept). The fields are safe
    to show: secrets masked, control characters visible.
    """
    error = _describe(exc, settings, answered=answered, text=text)
    return replace(
        error,
        request_id=error.request_id or _request_id(exc),
        details=failure_details(exc, settings),
    ).cleaned(settings)


def failure_details(exc: BaseException, settings: Settings) -> dict[str, str]:
    """What support needs to see of a failure, made of plain strings (cleaned by the caller):
    the request's shape, and for an HTTP error its status, headers that matter and body."""
    from chat_tui.wire_log import kept_response_headers

    details = {
        # Its words are the card's already (and a sign-in's, the text above the details).
        "error": f"{type(exc).__module__.partition('.')[0]}.{type(exc).__name__}",
        "provider": settings.provider.value,
        "endpoint": settings.where,
        settings.provider.model_label.lower(): settings.model,
    }
    if settings.provider.is_azure and settings.api_version:
        details["api-version"] = settings.api_version
    # httpx's own errors raise, rather than give None, for a request they were not given.
    with contextlib.suppress(AttributeError, RuntimeError):
        details["request"] = f"{exc.request.method} {exc.request.url.path}"  # type: ignore[attr-defined]
    response = getattr(exc, "response", None)
    if response is not None:
        details["status"] = str(getattr(response, "status_code", ""))
        headers = kept_response_headers(getattr(response, "headers", {}) or {})
        details.update({f"header {name}": value for name, value in headers.items()})
        with contextlib.suppress(Exception):  # a streamed body that was never read
            details["body"] = response.text[:BODY_CHARS]
    return details


def _request_id(exc: BaseException) -> str:
    """The id the server gave the failed request, from its response's headers."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return ""
    return next((headers[n] for n in REQUEST_ID_HEADERS if headers.get(n)), "")


# How servers say a model takes no images: OpenAI and Azure ("image_url is only supported by
# certain models"), vLLM ("not a multimodal model"), llama.cpp, Ollama and others.
_NO_IMAGES = (
    "image_url is only supported",
    "image input is not supported",
    "image inputs are not supported",
    "does not support image",
    "doesn't support image",
    "not a multimodal model",
    "does not support vision",
    "image content is not supported",
    "images are not supported",
    "multimodal is not supported",
)


def _refuses_images(message: str) -> bool:
    """Whether a server's 400 says the model does not accept images."""
    lowered = message.lower()
    return any(phrase in lowered for phrase in _NO_IMAGES)


def _describe(exc: BaseException, settings: Settings, *, answered: bool, text: bool) -> ChatError:
    import openai

    from chat_tui.entra import SIGN_IN_HINT, SignInError, SignInFailed

    where = settings.where
    model_word = settings.provider.model_label.lower()
    if isinstance(exc, SignInError):
        return ChatError("Cannot sign in", str(exc))
    if isinstance(exc, SignInFailed):
        return ChatError(
            "Entra ID sign-in failed", exc.summary(), SIGN_IN_HINT, more=exc.report.strip()
        )
    if type(exc).__module__.startswith("azure."):  # e.g. a token endpoint that answered 400
        return ChatError(
            "Entra ID sign-in failed", _clip(str(exc)), SIGN_IN_HINT, more=str(exc).strip()
        )
    if isinstance(exc, ModelFailed) or _is_stream_error(exc):
        code = getattr(exc, "code", None)
        code = code if isinstance(code, str) else ""
        message = _clip(str(getattr(exc, "message", "") or exc))
        return ChatError(
            "The model failed",
            f"{code}: {message}" if code else message,
            "What arrived is kept; send again to retry." if text else "Send again to retry.",
        )
    if isinstance(exc, openai.APITimeoutError):
        return ChatError(
            f"No response for {settings.read_timeout:g} s",
            f"{where} sent nothing for {settings.read_timeout:g} s.",
            "The read timeout is a setting (read_timeout); reasoning models may think longer.",
        )
    if isinstance(exc, openai.APIConnectionError) and (answered or text):
        when = "in the middle of the reply" if text else "before the reply began"
        return ChatError(
            "Connection lost",
            _clip(f"{where} closed the connection {when} ({exc.__cause__})."),
            "What arrived is kept; send again to retry." if text else "Send again to retry.",
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        if _is_tls_failure(cause):
            return ChatError(
                "TLS failure",
                _clip(f"The secure connection to {where} failed: {cause}"),
                "Check the URL's scheme (https:// or http://) and the server's certificate.",
            )
        reason = f" ({type(cause).__name__}: {cause})" if cause else ""
        return ChatError(
            f"Cannot reach {host_of(settings.base_url)}",
            _clip(f"The connection failed{reason}."),
            "Check the endpoint URL and that the server is running.",
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = _server_message(exc)
        code = _error_code(exc)
        if isinstance(exc, openai.AuthenticationError):
            return ChatError(
                "Key rejected",
                f"{where} answered 401: {message}",
                "Check the API key, and that it belongs to this endpoint.",
                status,
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return ChatError(
                "Access denied",
                f"{where} answered 403: {message}",
                "The key or account has no access to this resource.",
                status,
            )
        if isinstance(exc, openai.NotFoundError):
            hint = (
                "On Azure this is the deployment name you chose, not the model name."
                if settings.provider.is_azure
                else "Check the model name and the endpoint URL."
            )
            return ChatError(
                f"{model_word.capitalize()} not found",
                f"{where} has no {model_word} {settings.model!r} (404): {message}",
                hint,
                status,
            )
        if _mentions_api_version(exc, message):
            return ChatError(
                "Unsupported API version",
                f"{where} does not accept api-version {settings.api_version!r}: {message}",
                "Use a version your resource supports, e.g. 2024-10-21.",
                status,
            )
        if isinstance(exc, openai.BadRequestError) and code == "context_length_exceeded":
            return ChatError(
                "Conversation too long",
                message,
                "Your message is not sent again as it is: compact the conversation (the "
                "model summarises its older turns), drop the oldest exchange or clear it, or "
                "edit the message; then retry.",
                status,
                actions=("compact", "drop_oldest", "clear", "retry"),
                refused=True,
            )
        if isinstance(exc, openai.BadRequestError) and code == "content_filter":
            return ChatError(
                "Blocked by the content filter",
                f"{_filter_summary(exc)}{message}",
                "Rephrase it: your message is not sent again as it is.",
                status,
                refused=True,
            )
        if status in (400, 415, 422) and _refuses_images(message):
            return ChatError(
                "This model does not take images",
                f"{where} refused the images in the conversation: {message}",
                f"Choose a {model_word} that sees images, or take out or edit the messages "
                "with images, then retry: your message is not sent again as it is.",
                status,
                actions=("retry",),
                refused=True,
            )
        if isinstance(exc, openai.RateLimitError):
            asked = asked_to_wait(exc)
            hint = (
                f"The server asks to wait {asked:.0f} s before the next request; send again then."
                if asked is not None and asked >= 1
                else "Wait a moment, then send again."
            )
            return ChatError("Rate limited", _limit_hit(exc, message) + message, hint, status)
        if status >= 500:
            return ChatError(f"Server error {status}", message, "", status)
        # What is left of 400, 413 (too large) and 422 (unprocessable) is about the request.
        refused = status in (400, 413, 422)
        hint = "Your message is not sent again as it is." if refused else ""
        return ChatError(f"Request rejected ({status})", message, hint, status, refused=refused)
    if isinstance(exc, json.JSONDecodeError):
        return ChatError(
            "Malformed response",
            _clip(f"{where} sent a chunk that is not valid JSON ({exc}): {exc.doc[:120]!r}"),
            "What arrived before it is kept.",
        )
    if type(exc).__name__ == "InvalidURL":  # the HTTP client's own check, should ours miss one
        return ChatError(
            "Invalid endpoint", _clip(f"{where}: {exc}"), "Correct Endpoint in the sidebar."
        )
    if isinstance(exc, openai.OpenAIError):
        return ChatError("Cannot send the request", _clip(str(exc)))
    return ChatError("Unexpected error", _clip(f"{type(exc).__name__}: {exc}"))
