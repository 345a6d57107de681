"""What the rate-limit headers say is left, read from a server's answer."""

from __future__ import annotations

import pytest

from chat_tui.rate_limits import RateLimits


def test_what_is_left_in_words() -> None:
    limits = RateLimits.from_headers(
        {
            "x-ratelimit-limit-requests": "5000",
            "x-ratelimit-remaining-requests": "4999",
            "x-ratelimit-limit-tokens": "800000",
            "x-ratelimit-remaining-tokens": "799500",
        }
    )
    assert limits is not None
    assert limits.words() == "4,999 requests · 799.5k tokens left"
    assert not limits.low


@pytest.mark.parametrize(
    ("headers", "low"),
    [
        ({"x-ratelimit-remaining-tokens": "100", "x-ratelimit-limit-tokens": "1000"}, True),
        ({"x-ratelimit-remaining-tokens": "101", "x-ratelimit-limit-tokens": "1000"}, False),
        ({"x-ratelimit-remaining-requests": "0"}, False),  # no limit known: no share to judge
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-limit-requests": "60"}, True),
    ],
)
def test_a_tenth_left_is_low(headers: dict[str, str], low: bool) -> None:
    limits = RateLimits.from_headers(headers)
    assert limits is not None
    assert limits.low is low


def test_one_request_left() -> None:
    limits = RateLimits.from_headers({"x-ratelimit-remaining-requests": "1"})
    assert limits is not None
    assert limits.words() == "1 request left"


@pytest.mark.parametrize(
    "value", ["", "-1", "1e9", "9" * 16, "٣", "[b]5[/b]", "5\x1b[31m", "5\u202e", "12ms"]
)
def test_anything_but_a_count_is_ignored(value: str) -> None:
    assert RateLimits.from_headers({"x-ratelimit-remaining-tokens": value}) is None


def test_no_headers_no_limits() -> None:
    assert RateLimits.from_headers({"x-request-id": "r"}) is None
