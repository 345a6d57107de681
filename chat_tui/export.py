"""Conversations as files: Markdown to read, JSON to keep and import back.

Exports hold the system prompt, the messages with how each reply ended, and the settings
without any secret (the store never has one to give). They are written owner-only, like the
database they come from. Markdown is for reading, so its text passes `visible()`; JSON keeps the
text exact (JSON escapes control characters).

An imported file is untrusted: everything in it is checked before any of it is stored.
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chat_tui.command import Command
from chat_tui.conversation import Hidden
from chat_tui.errors import ChatError, sentence
from chat_tui.private_files import create_private, replace_private
from chat_tui.reply_state import ReplyState
from chat_tui.reply_stats import ReplyStats
from chat_tui.settings import checked_settings
from chat_tui.store import StoredConversation, StoredMessage
from chat_tui.text import visible

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "chat-tui-conversation"
# Version 2 added each message's "hidden" (taken out, or replaced by a retry or an edit), a
# failed reply's "error" and a reasoning model's "reasoning"; version 1 files are read as they
# are (nothing hidden, no errors, no reasoning).
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
# chat-tui never writes a system message among the messages: its instructions are the system
# prompt, which the sidebar shows. A file with one was made or edited elsewhere, and the message
# would be sent as an instruction the user never sees as one (drawn like a reply, or buried in
# a long history). Refusing the file is the sound choice: showing it as "system" would still
# let a file slip instructions into a conversation the user carries on.
_ROLES = {"user", "assistant"}
MAX_IMPORT_BYTES = 20 * 1024 * 1024
_MB = 1024 * 1024
_BINARY = getattr(os, "O_BINARY", 0)  # Windows would translate line endings otherwise


COMMANDS = (
    Command(
        "export",
        "Export as Markdown",
        "Export",
        "Write this conversation to chat-ID.md here",
        ("md",),
    ),
    Command(
        "export",
        "Export as JSON",
        "Export",
        "Write this conversation to chat-ID.json here",
        ("json",),
    ),
    Command("import", "Import a conversation", "Import", "Add a conversation from a JSON export"),
)


class ExportFormatError(ValueError):
    """A file that is not a chat-tui conversation export; the message says what is wrong."""


@dataclass(slots=True)
class Imported:
    """A conversation read from an export, and a sentence for each setting left out of it."""

    conversation: StoredConversation
    left_out: list[str] = field(default_factory=list)


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
    if message.hidden:
        document["hidden"] = message.hidden
    if message.error:
        document["error"] = message.error
    if message.reasoning:
        document["reasoning"] = message.reasoning
    return document


def read_export(path: Path) -> Imported:
    """Read and check the JSON export at `path`: ExportFormatError (or OSError) says why not.

    A file over MAX_IMPORT_BYTES is refused before it is read whole, and so is anything that is
    not a regular file: a FIFO or a terminal would block the read for as long as it stays open.
    """
    # Non-blocking: opening a FIFO would otherwise wait for a writer before fstat can say what
    # it is. For a regular file the flag changes nothing.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _BINARY)
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ExportFormatError("not a regular file")
        size = status.st_size
        data = file.read(MAX_IMPORT_BYTES + 1) if size <= MAX_IMPORT_BYTES else b""
    if size > MAX_IMPORT_BYTES or len(data) > MAX_IMPORT_BYTES:  # a device or a growing file
        raise ExportFormatError(
            f"the file is over {MAX_IMPORT_BYTES // _MB} MB, more than chat-tui imports; "
            "it was not read"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportFormatError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})"
        ) from None
    return from_json(text)


def from_json(text: str) -> Imported:
    """Check an export's text: ExportFormatError says what is wrong with it."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise ExportFormatError("not a conversation: its JSON is nested too deeply") from None
    except ValueError as exc:
        raise ExportFormatError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportFormatError(f'not a chat-tui conversation (no "format": "{FORMAT}")')
    if document.get("version") not in READABLE_VERSIONS:
        raise ExportFormatError(f"unsupported version {document.get('version')!r}")
    items = document.get("messages") or []
    if not isinstance(items, list):
        raise ExportFormatError('"messages" is not a list of messages')
    messages = [_message(number, item) for number, item in enumerate(items, 1)]
    settings = document.get("settings") or {}
    if not isinstance(settings, dict):
        raise ExportFormatError('"settings" is not an object')
    kept, left_out = checked_settings(settings)
    profile = _text(document, "profile", "the profile", None)
    now = time.time()
    conversation = StoredConversation(
        0,
        _text(document, "title", "the title", None) or "Imported chat",
        now,
        now,
        _text(document, "system_prompt", "the system prompt", ""),
        profile or None,
        kept,
        messages,
        len(messages),
    )
    _check_encodable(conversation)
    return Imported(conversation, left_out)


def _message(number: int, item: object) -> StoredMessage:
    if not isinstance(item, dict):
        raise ExportFormatError(f"message {number} is not an object")
    role = item.get("role")
    if not isinstance(role, str):  # a list or an object is no role (nor hashable)
        raise ExportFormatError(f"message {number} has no valid role")
    if role == "system":
        raise ExportFormatError(
            f"message {number} is a system message: chat-tui keeps instructions in the system "
            "prompt, never among the messages, so this file was not written by chat-tui and "
            "could carry hidden instructions"
        )
    if role not in _ROLES:
        raise ExportFormatError(f"message {number} has no valid role")
    content = item.get("content")
    if not isinstance(content, str):
        raise ExportFormatError(f"message {number} has no text content")
    state = _text(item, "state", f"message {number}'s state", "complete") or "complete"
    stats = ReplyStats.from_dict(item.get("stats"))  # only what a footer can show
    error = ChatError.from_dict(item.get("error"))  # only the fields an error card shows
    hidden = Hidden.saved(item.get("hidden"))
    reasoning = _text(item, "reasoning", f"message {number}'s reasoning", "") or ""
    return StoredMessage(
        role,
        content,
        state,
        stats=stats.to_dict() if stats else None,
        hidden=hidden.value if hidden else None,
        error=error.to_dict() if error else None,
        reasoning=reasoning if role == "assistant" else "",
    )


def _text(document: dict[str, Any], key: str, what: str, default: str | None) -> str | None:
    value = document.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ExportFormatError(f"{what} is not text")
    return value


def _check_encodable(conversation: StoredConversation) -> None:
    # JSON can spell a lone UTF-16 surrogate (\ud800), which is no character: it could be
    # neither stored nor shown. Everything kept is in the JSON export, so one encode finds any.
    try:
        to_json(conversation).encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise ExportFormatError(
            f"it holds U+{code:04X}, half of a UTF-16 surrogate pair, which is not text"
        ) from None


def to_markdown(conversation: StoredConversation) -> str:
    """The conversation to read: control characters made visible, wherever it is printed."""
    lines = [f"# {conversation.title}", "", f"_Saved {_iso(conversation.updated)}_", ""]
    model = conversation.settings.get("model")
    if model:
        lines += [f"Model or deployment: `{model}`", ""]
    if conversation.system_prompt.strip():
        lines += ["## System prompt", "", _quote(conversation.system_prompt), ""]
    for message in conversation.messages:
        if not message.shown:  # what is on screen: not what was taken out or replaced
            continue
        heading = "You" if message.role == "user" else message.role.capitalize()
        lines += [f"## {heading}", ""]
        if message.reasoning.strip():  # collapsed, as in the app once the answer began
            thinking = message.reasoning.strip()
            lines += ["<details><summary>Thinking</summary>", "", thinking, "", "</details>", ""]
        lines += [message.content.rstrip(), ""]
        state = ReplyState.saved(message.state)
        if message.role == "assistant" and state is not ReplyState.COMPLETE:
            error = ChatError.from_dict(message.error)
            # One line, or the italics would end at the first line break.
            why = f": {' '.join(sentence(error.title, error.detail).split())}" if error else ""
            lines += [f"_({state.ending}{why})_", ""]
    return visible("\n".join(lines))


def write_export(path: Path, text: str, *, overwrite: bool) -> Path:
    """Write an export owner-only (0600) and whole; returns the file written.

    With `overwrite`, `path` is replaced in one step (a symlink there is replaced, never
    followed). Without, nothing that exists at `path` is touched: the first free name of
    `chat-3-2.md`, `chat-3-3.md`, … is used.
    """
    data = text.encode("utf-8")
    if overwrite:
        replace_private(path, data)
        return path
    return create_private(path, data)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))
