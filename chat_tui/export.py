"""Conversations as files: Markdown to read, JSON to keep and import back.

Exports hold the system prompt, the messages with how each reply ended, and the settings
without any secret (the store never has one to give).
"""

from __future__ import annotations

import json
import time
from typing import Any

from chat_tui.store import StoredConversation, StoredMessage

FORMAT = "chat-tui-conversation"
FORMAT_VERSION = 1
_ROLES = {"user", "assistant", "system"}


class ExportFormatError(ValueError):
    """A file that is not a chat-tui conversation export; the message says what is wrong."""


def to_json(conversation: StoredConversation) -> str:
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "title": conversation.title,
        "created": _iso(conversation.created),
        "updated": _iso(conversation.updated),
        "system_prompt": conversation.system_prompt,
        "profile": conversation.profile,
        "settings": {k: v for k, v in conversation.settings.items() if k != "api_key"},
        "messages": [_message_document(m) for m in conversation.messages],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _message_document(message: StoredMessage) -> dict[str, Any]:
    document: dict[str, Any] = {
        "role": message.role,
        "content": message.content,
        "state": message.state,
    }
    if message.stats:
        document["stats"] = message.stats
    return document


def from_json(text: str) -> StoredConversation:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ExportFormatError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportFormatError(f'not a chat-tui conversation (no "format": "{FORMAT}")')
    if document.get("version") != FORMAT_VERSION:
        raise ExportFormatError(f"unsupported version {document.get('version')!r}")
    messages = []
    for index, item in enumerate(document.get("messages") or []):
        if not isinstance(item, dict) or item.get("role") not in _ROLES:
            raise ExportFormatError(f"message {index + 1} has no valid role")
        content = item.get("content")
        if not isinstance(content, str):
            raise ExportFormatError(f"message {index + 1} has no text content")
        state = str(item.get("state") or "complete")
        stats = item.get("stats") if isinstance(item.get("stats"), dict) else None
        messages.append(StoredMessage(item["role"], content, state, stats=stats))
    settings = document.get("settings") if isinstance(document.get("settings"), dict) else {}
    settings.pop("api_key", None)
    now = time.time()
    return StoredConversation(
        0,
        str(document.get("title") or "Imported chat"),
        now,
        now,
        str(document.get("system_prompt") or ""),
        document.get("profile") if isinstance(document.get("profile"), str) else None,
        settings,
        messages,
        len(messages),
    )


_STATE_NOTES = {
    "stopped": "stopped by the user",
    "length": "cut off by the token limit",
    "content_filter": "stopped by the content filter",
    "incomplete": "incomplete: the stream ended without a finish reason",
    "interrupted": "interrupted",
    "streaming": "interrupted",
    "failed": "failed",
}


def to_markdown(conversation: StoredConversation) -> str:
    lines = [f"# {conversation.title}", "", f"_Saved {_iso(conversation.updated)}_", ""]
    model = conversation.settings.get("model")
    if model:
        lines += [f"Model or deployment: `{model}`", ""]
    if conversation.system_prompt.strip():
        lines += ["## System prompt", "", _quote(conversation.system_prompt), ""]
    for message in conversation.messages:
        heading = "You" if message.role == "user" else message.role.capitalize()
        lines += [f"## {heading}", "", message.content.rstrip(), ""]
        if note := _STATE_NOTES.get(message.state):
            lines += [f"_({note})_", ""]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))
