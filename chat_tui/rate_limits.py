"""What a server's rate-limit headers say is left: requests and tokens, in the current window.

OpenAI and Azure send `x-ratelimit-remaining-requests` / `-tokens` (and the `limit-` pair) on
every answer; the status line shows what is left, and warns when little is. Header values come
from the server: anything that is not a plain count is ignored rather than shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_tui.context_meter import short_count

if TYPE_CHECKING:
    from collections.abc import Mapping

PREFIX = "x-ratelimit-"
LOW = 0.1  # a share of the limit under which what is left is a warning


@dataclass(frozen=True, slots=True)
class RateLimits:
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    limit_requests: int | None = None
    limit_tokens: int | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimits | None:
        """The limits in a response's (lower-cased) headers; None when it sent no remaining
        count."""
        found = cls(
            remaining_requests=_count(headers.get(PREFIX + "remaining-requests")),
            remaining_tokens=_count(headers.get(PREFIX + "remaining-tokens")),
            limit_requests=_count(headers.get(PREFIX + "limit-requests")),
            limit_tokens=_count(headers.get(PREFIX + "limit-tokens")),
        )
        if found.remaining_requests is None and found.remaining_tokens is None:
            return None
        return found

    @property
    def low(self) -> bool:
        """Little is left of either limit (a tenth or less, where the limit is known)."""
        return any(
            left is not None and limit and left <= limit * LOW
            for left, limit in (
                (self.remaining_requests, self.limit_requests),
                (self.remaining_tokens, self.limit_tokens),
            )
        )

    def words(self) -> str:
        """`59 requests · 149k tokens left`: what the server says is left."""
        parts = []
        if self.remaining_requests is not None:
            noun = "request" if self.remaining_requests == 1 else "requests"
            parts.append(f"{self.remaining_requests:,} {noun}")
        if self.remaining_tokens is not None:
            parts.append(f"{short_count(self.remaining_tokens)} tokens")
        return " · ".join(parts) + " left"


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    # A bounded, plain decimal count; anything else (a hostile or odd header) is not shown.
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        return None
    return int(value)
