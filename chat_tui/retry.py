"""When and how long to wait before trying a failed request again.

chat-tui retries by itself, visibly, instead of letting the SDK sleep in silence: rate limits
(429) and server errors (500, 502, 503, 504, and 408) are retried, honouring Retry-After; a request
the server refused for a reason that will not change (400, 401, 403, 404) never is.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # tries in all, the first one included
    base_delay: float = 1.0  # the first back-off; it doubles each time
    max_delay: float = 30.0  # a longer Retry-After is not waited for
    max_total_wait: float = 90.0  # the most a single request waits, in all


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
    response = getattr(exc, "response", None)
    asked = retry_after(getattr(response, "headers", None))
    if asked is not None and asked > policy.max_delay:
        return None
    delay = asked if asked is not None else policy.base_delay * 2 ** (attempt - 1)
    delay = min(delay, policy.max_delay)
    if waited + delay > policy.max_total_wait:
        return None
    return delay
