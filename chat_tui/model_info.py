"""What chat-tui knows about models: reasoning or not, which parameters they take, which API.

One table, keyed on the model name the server reports (or the name the user chose where no
answer has come yet): Azure deployment names are arbitrary, so the model a deployment serves is
learned from the first reply (`ReplyStarted.model`). A name the table does not know gets no
special treatment; what such a model rejects is learned from its 400 answers instead (see
`client.py`) and remembered per endpoint and model in the store.

From the vendors' documentation (2025-2026): reasoning models (the o-series, the GPT-5 family)
reject `temperature`, `top_p`, the penalties, `logprobs` and `max_tokens` (they take
`max_completion_tokens`); which `reasoning_effort` values each accepts depends on the model; the
codex and pro models answer on the Responses API only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every value of `reasoning_effort` any model takes, least effort first.
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
# What a reasoning model rejects, as the Chat Completions API names them.
SAMPLING_PARAMETERS = frozenset(
    {"temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "max_tokens"}
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What one model family accepts. `efforts` is empty for a model that does not reason."""

    family: str
    efforts: tuple[str, ...] = ()
    default_effort: str | None = None
    rejects: frozenset[str] = frozenset()
    responses_only: bool = False

    @property
    def reasoning(self) -> bool:
        return bool(self.efforts)

    def accepts(self, parameter: str) -> bool:
        return parameter not in self.rejects


def _reasoning(
    family: str, efforts: str, default: str | None = "medium", *, responses_only: bool = False
) -> ModelInfo:
    return ModelInfo(family, tuple(efforts.split()), default, SAMPLING_PARAMETERS, responses_only)


UNKNOWN = ModelInfo("unknown")

# First match wins: the more specific names come first. Matched at the start of the name, case
# folded, so dated snapshots ("o3-2025-04-16") and Azure model names match too.
_TABLE: tuple[tuple[str, ModelInfo], ...] = (
    (r"gpt-5(\.\d+)?-chat", ModelInfo("gpt-5-chat")),  # the non-reasoning chat models
    (r"gpt-5(\.\d+)?-pro", _reasoning("gpt-5-pro", "high", "high", responses_only=True)),
    (r"gpt-5(\.\d+)?-codex", _reasoning("gpt-5-codex", "low medium high", responses_only=True)),
    (r"gpt-5\.2", _reasoning("gpt-5.2", "none low medium high xhigh", "none")),
    (r"gpt-5\.1", _reasoning("gpt-5.1", "none low medium high", "none")),
    (r"gpt-5", _reasoning("gpt-5", "minimal low medium high")),
    (r"o1-mini|o1-preview", _reasoning("o1-mini", "low medium high")),
    (r"o[134](-mini|-pro)?", _reasoning("o-series", "low medium high")),
    (r"codex-mini", _reasoning("codex-mini", "low medium high", responses_only=True)),
    (r"gpt-oss", ModelInfo("gpt-oss", ("low", "medium", "high"), "medium")),
    (r"deepseek-r1|deepseek-reasoner|qwq|qwen3", ModelInfo("open reasoning")),
)
_COMPILED = tuple((re.compile(pattern + r"\b", re.IGNORECASE), info) for pattern, info in _TABLE)
# An Azure or a local server's name may carry a provider's prefix: "openai/gpt-5", "azure/o3".
_PREFIX = re.compile(r"^[\w.-]+/")


def model_info(name: str) -> ModelInfo:
    """What is known about the model called `name`; UNKNOWN for a name the table does not know."""
    bare = _PREFIX.sub("", name.strip())
    return next((info for pattern, info in _COMPILED if pattern.match(bare)), UNKNOWN)


# How many tokens a request may carry (the input limit, where a model's window is shared with
# its output: GPT-5's 400,000 leave 272,000 for input), from the vendors' model pages.
_CONTEXT: tuple[tuple[str, int], ...] = (
    (r"gpt-5(\.\d+)?-chat", 128_000),
    (r"gpt-5", 272_000),
    (r"gpt-4\.1", 1_047_576),
    (r"gpt-4o", 128_000),
    (r"gpt-4-turbo", 128_000),
    (r"o1-mini", 128_000),
    (r"o[134]", 200_000),
    (r"codex-mini", 200_000),
    (r"gpt-oss", 131_072),
    (r"gpt-35-turbo|gpt-3\.5-turbo", 16_385),
)
_CONTEXT_COMPILED = tuple(
    (re.compile(pattern + r"\b", re.IGNORECASE), size) for pattern, size in _CONTEXT
)


def context_window(name: str) -> int | None:
    """The tokens a request to `name` may carry, where known (the `context_window` setting
    says it for the others)."""
    bare = _PREFIX.sub("", name.strip())
    return next((size for pattern, size in _CONTEXT_COMPILED if pattern.match(bare)), None)


def efforts_for(name: str) -> tuple[str, ...]:
    """The efforts worth offering for `name`: its own where known, else every value."""
    info = model_info(name)
    return info.efforts or EFFORTS
