"""Reasoning sent inline, as `<think>…</think>` in the reply's text, split out as it streams.

Local servers that do not parse a model's reasoning (DeepSeek-R1, Qwen3 and others through
llama.cpp, Ollama or vLLM without a reasoning parser) pass the tags on in the content, and a tag
can be cut anywhere across chunks ("<thi" + "nk>"). Only a tag at the start of the reply (after
white space) opens reasoning, as those models write it; `<think>` later in an answer is text.
"""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Feed the content's chunks in order; each call returns (reasoning, text) to show now."""

    def __init__(self) -> None:
        self._held = ""  # what might still be the start of a tag
        self._state = "start"  # start -> thinking -> text; or start -> text
        self._trim = False  # the line breaks after </think> are neither reasoning nor answer

    def feed(self, chunk: str) -> tuple[str, str]:
        data = self._held + chunk
        self._held = ""
        if self._state == "start":
            stripped = data.lstrip()
            if stripped.startswith(OPEN):
                self._state = "thinking"
                data = stripped[len(OPEN) :]
            elif OPEN.startswith(stripped):  # all white space so far, or a tag cut short
                self._held = data
                return "", ""
            else:
                self._state = "text"
        if self._state == "text":
            return "", self._answer(data)
        end = data.find(CLOSE)
        if end >= 0:
            self._state, self._trim = "text", True
            return data[:end], self._answer(data[end + len(CLOSE) :])
        keep = _partial_suffix(data, CLOSE)
        self._held = data[len(data) - keep :] if keep else ""
        return data[: len(data) - keep], ""

    def _answer(self, text: str) -> str:
        if self._trim:
            text = text.lstrip("\n")
            self._trim = not text
        return text

    def flush(self) -> tuple[str, str]:
        """The end of the stream: whatever was held back is what it looked like."""
        held, self._held = self._held, ""
        if self._state == "thinking":
            return held, ""
        return "", held


def _partial_suffix(text: str, tag: str) -> int:
    """How many characters at the end of `text` could begin `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
