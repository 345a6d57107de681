"""When and how long to wait before trying a failed request again.

chat-tui retries by itself, visibly, instead of letting the SDK sleep in silence. The statuses
in RETRY_STATUSES are retried, honouring Retry-After (up to MAX_RETRY_AFTER); a request the
server refused for a reason that will not change (400, 401, 403, 404, 422, 501…) never is. The
README lists the same statuses.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

# Transient by their meaning: a timeout, a conflict (409, which OpenAI sends when a request
# collides with another), too many requests, a server fault, a bad gateway, unavailable, a gateway
# timeout, overloaded (529). 501 says the server cannot do this at all: never retried.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # tries in all, the first one included
    base_delay: float = 1.0  # the first back-off; it doubles each time
    max_delay: float = 30.0  # the longest back-off of chat-tui's own choosing
    max_total_wait: float = 90.0  # the most a single request waits, in all, unless asked
    # A server's Retry-After is waited out up to this (with a countdown Esc cancels), and the
    # total rises with it; a longer one is given up at once, saying how long it asked.
    max_retry_after: float = 300.0


def retry_after(headers: object) -> float | None:
    """Seconds from Retry-After-Ms or Retry-After (seconds or an HTTP date), if present."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    if (value := get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def retry_delay(
    exc: BaseException, attempt: int, waited: float, policy: RetryPolicy
) -> float | None:
    """How long to wait before attempt `attempt + 1`, or None to give up now."""
    status = getattr(exc, "status_code", None)
    if status not in RETRY_STATUSES or attempt >= policy.attempts:
        return None
    return _wait(asked_to_wait(exc), attempt, waited, policy)


def drop_retry_delay(attempt: int, waited: float, policy: RetryPolicy) -> float | None:
    """How long to wait before asking again after the server dropped the connection before
    any text arrived (nothing is lost by asking again), or None to give up now."""
    if attempt >= policy.attempts:
        return None
    return _wait(None, attempt, waited, policy)


def _wait(asked: float | None, attempt: int, waited: float, policy: RetryPolicy) -> float | None:
    if asked is not None:
        if asked > policy.max_retry_after:
            return None
        delay, limit = asked, max(policy.max_total_wait, policy.max_retry_after)
    else:
        delay = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
        limit = policy.max_total_wait
    if waited + delay > limit:
        return None
    return delay


def asked_to_wait(exc: BaseException) -> float | None:
    """The Retry-After of the failed request's response, in seconds, if it gave one."""
    response = getattr(exc, "response", None)
    return retry_after(getattr(response, "headers", None))
