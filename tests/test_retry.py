"""The retry policy: which failures are retried, and how long to wait."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace

import pytest

from chat_tui.retry import RetryPolicy, retry_after, retry_delay

POLICY = RetryPolicy(attempts=4, base_delay=1.0, max_delay=30.0, max_total_wait=90.0)


def failure(status: int, **headers: str) -> SimpleNamespace:
    return SimpleNamespace(status_code=status, response=SimpleNamespace(headers=headers))


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 < (retry_after({"retry-after": date}) or 0) <= 20
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
    assert retry_after(None) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 501])
def test_never_retried(status: int) -> None:
    assert retry_delay(failure(status), 1, 0.0, POLICY) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retried_with_back_off(status: int) -> None:
    assert [retry_delay(failure(status), n, 0.0, POLICY) for n in (1, 2, 3, 4)] == [
        1.0,
        2.0,
        4.0,
        None,  # four attempts in all
    ]


def test_retry_after_is_honoured_within_bounds() -> None:
    assert retry_delay(failure(429, **{"retry-after": "7"}), 1, 0.0, POLICY) == 7.0
    # A long wait the server asks for is waited out (with a countdown), up to five minutes ...
    assert retry_delay(failure(429, **{"retry-after": "45"}), 1, 0.0, POLICY) == 45.0
    assert retry_delay(failure(503, **{"retry-after": "300"}), 1, 0.0, POLICY) == 300.0
    # ... and the total wait rises with it.
    assert retry_delay(failure(429, **{"retry-after": "20"}), 2, 80.0, POLICY) == 20.0
    # Longer than that: give up at once; the error says how long the server asked.
    assert retry_delay(failure(429, **{"retry-after": "301"}), 1, 0.0, POLICY) is None
    # The total wait is bounded too.
    assert retry_delay(failure(429, **{"retry-after": "250"}), 2, 60.0, POLICY) is None
    # chat-tui's own back-off stays within its own cap.
    assert retry_delay(failure(500), 3, 88.0, POLICY) is None


def test_connection_errors_are_not_retried() -> None:
    assert retry_delay(ConnectionError("refused"), 1, 0.0, POLICY) is None
