"""Conversations as files: Markdown to read, JSON to keep and import back.

Exports hold the system prompt, the messages with how each reply ended, and the settings
without any secret (the store never has one to give). They are written owner-only, like the
database they come from. Markdown is for reading, so its text passes `visible()`; JSON keeps the
text exact (JSON escapes control characters).

An imported file is untrusted: everything in it is checked before any of it is stored.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chat_tui.attachments import (
    IMAGE_TYPES,
    MAX_FILE_BYTES,
    Attachment,
    AttachmentError,
    Kind,
    decoded_image,
    image_numbers,
)
from chat_tui.command import Command
from chat_tui.conversation import Hidden
from chat_tui.errors import ChatError, sentence
from chat_tui.private_files import create_private, replace_private
from chat_tui.reply_state import ReplyState
from chat_tui.reply_stats import ReplyStats
from chat_tui.settings import checked_settings
from chat_tui.store import SUPERSEDED, StoredConversation, StoredMessage, legacy_tree
from chat_tui.text import visible

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "chat-tui-conversation"
# Version 2 added each message's "hidden" (taken out, or replaced by a retry or an edit), a
# failed reply's "error" and a reasoning model's "reasoning"; version 1 files are read as they
# are (nothing hidden, no errors, no reasoning). Version 3 added a user message's
# "attachments": a file's text, an image's bytes in base64. Version 4 holds the whole tree of
# branches: each message's "id" and "parent" (the id of the message it follows; null for a first
# one), and the conversation's "leaf" (the last message of the branch shown); "hidden" is only
# "removed" (taken out). Earlier versions are read as linear chats, the turns they mark hidden
# as "superseded" (replaced by a retry or an edit) becoming branches, as in the store. A version
# 4 message may hold a "summary": compaction's summary of the branch up to it (an earlier
# reader leaves it out, and sends the turns in full).
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
# chat-tui never writes a system message among the messages: its instructions are the system
# prompt, which the sidebar shows. A file with one was made or edited elsewhere, and the message
# would be sent as an instruction the user never sees as one (drawn like a reply, or buried in
# a long history). Refusing the file is the sound choice: showing it as "system" would still
# let a file slip instructions into a conversation the user carries on.
_ROLES = {"user", "assistant"}
# Room for a conversation's images in base64 (a third more than their bytes).
MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_NAME = 4096  # an attachment's name: a path
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
        "leaf": (path[-1].id if (path := conversation.path()) else None),
        "messages": [_message_document(m) for m in conversation.messages],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _message_document(message: StoredMessage) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": message.id,
        "parent": message.parent,
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
    if message.summary:
        document["summary"] = message.summary
    if message.attachments:
        document["attachments"] = [_attachment_document(a) for a in message.attachments]
    return document


def _attachment_document(attachment: Attachment) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": attachment.kind.value,
        "name": attachment.name,
        "mime": attachment.mime,
        "size": attachment.size,
    }
    if attachment.is_image:
        document |= {"width": attachment.width, "height": attachment.height}
        if attachment.data:  # a saved copy that went missing is exported without its bytes
            document["data"] = base64.b64encode(attachment.data).decode("ascii")
    else:
        document["text"] = attachment.text
        if attachment.truncated:
            document["truncated"] = True
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
    version = document["version"]
    messages = [_message(number, item, version) for number, item in enumerate(items, 1)]
    leaf = _branches(document, items, messages) if version >= 4 else _linear(items, messages)
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
        leaf=leaf,
    )
    conversation.message_count = len(conversation.shown())
    _check_encodable(conversation)
    return Imported(conversation, left_out)


def _branches(document: dict[str, Any], items: list[Any], messages: list[StoredMessage]) -> int:
    """A version 4 file's tree: each message gets a key of its own (its number, negated) and its
    parent's, which must be a message before it; the key of the leaf (the last message if the
    file names none that is there)."""
    keys: dict[int, int] = {}
    for number, (item, message) in enumerate(zip(items, messages, strict=True), 1):
        own, parent = item.get("id"), item.get("parent")
        if not _is_id(own) or own in keys:
            raise ExportFormatError(f"message {number} has no id of its own")
        if parent is not None and not (_is_id(parent) and parent in keys):
            raise ExportFormatError(f"message {number}'s parent is not a message before it")
        message.id = keys[own] = -number
        message.parent = keys[parent] if parent is not None else None
    leaf = document.get("leaf")
    return keys[leaf] if _is_id(leaf) and leaf in keys else -len(messages)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _linear(items: list[Any], messages: list[StoredMessage]) -> int:
    """An earlier version's linear chat as a tree (see store.legacy_tree); the leaf's key."""
    hidden = [
        item.get("hidden") if item.get("hidden") == SUPERSEDED else m.hidden
        for item, m in zip(items, messages, strict=True)
    ]
    parents, leaf = legacy_tree([(m.role, h) for m, h in zip(messages, hidden, strict=True)])
    for number, (message, parent) in enumerate(zip(messages, parents, strict=True), 1):
        message.id = -number
        message.parent = -(parent + 1) if parent is not None else None
    return -(leaf + 1) if leaf is not None else 0


def _message(number: int, item: object, version: int = FORMAT_VERSION) -> StoredMessage:
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
    summary = _text(item, "summary", f"message {number}'s summary", "") or ""
    attachments = _attachments(number, item.get("attachments"), role) if version >= 3 else []
    return StoredMessage(
        role,
        content,
        state,
        stats=stats.to_dict() if stats else None,
        hidden=hidden.value if hidden else None,
        error=error.to_dict() if error else None,
        reasoning=reasoning if role == "assistant" else "",
        attachments=attachments,
        summary=summary,
    )


def _attachments(number: int, items: object, role: str) -> list[Attachment]:
    """A message's attachments from a file: each field checked, an image's type by its bytes,
    its size and hash computed again rather than believed."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ExportFormatError(f"message {number}'s attachments are not a list")
    if items and role != "user":
        raise ExportFormatError(f"message {number} is a reply with attachments")
    return [_attachment(f"message {number}'s attachment {n}", a) for n, a in enumerate(items, 1)]


def _attachment(what: str, item: object) -> Attachment:
    if not isinstance(item, dict):
        raise ExportFormatError(f"{what} is not an object")
    kind = item.get("type")
    if kind not in (Kind.FILE.value, Kind.IMAGE.value):
        raise ExportFormatError(f"{what} is neither a file nor an image")
    name = _text(item, "name", f"{what}'s name", None)
    if not name or len(name) > MAX_NAME:
        raise ExportFormatError(f"{what} has no valid name")
    if kind == Kind.FILE.value:
        text = _text(item, "text", f"{what}'s text", None)
        if text is None:
            raise ExportFormatError(f"{what} is a file without its text")
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise ExportFormatError(f"{what} is a file over the {MAX_FILE_BYTES // 1024} KB limit")
        truncated = item.get("truncated", False)
        if not isinstance(truncated, bool):
            raise ExportFormatError(f"{what}'s truncated mark is not true or false")
        size = _count_field(item, "size", what)
        length = len(text.encode("utf-8", "surrogatepass"))
        return Attachment(
            Kind.FILE,
            name,
            "text/plain",
            max(size, length),
            text=text,
            lines=len(text.splitlines()),
            truncated=truncated,
        )
    mime = item.get("mime")
    if mime not in IMAGE_TYPES:
        raise ExportFormatError(f"{what} is not a PNG, JPEG, GIF or WebP image")
    data = item.get("data")
    if data is None:  # exported after its saved copy went missing: shown, never sent
        return Attachment(
            Kind.IMAGE,
            name,
            str(mime),
            _count_field(item, "size", what),
            width=_count_field(item, "width", what),
            height=_count_field(item, "height", what),
        )
    if not isinstance(data, str):
        raise ExportFormatError(f"{what}'s data is not base64 text")
    try:
        image = decoded_image(name, data)
    except AttachmentError as exc:
        raise ExportFormatError(f"{what}: {str(exc).partition(': ')[2]}") from None
    if image.mime != mime:
        raise ExportFormatError(f"{what} says it is {mime} but its bytes are {image.mime}")
    return image


def _count_field(item: dict[str, Any], key: str, what: str) -> int:
    value = item.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise ExportFormatError(f"{what}'s {key} is not a size")
    return value


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
    numbers = dict(
        zip(
            (id(m) for m in conversation.messages),
            image_numbers(m.attachments for m in conversation.messages),
            strict=True,
        )
    )
    # What is on screen: the branch shown, without what was taken out.
    for message in conversation.shown():
        heading = "You" if message.role == "user" else message.role.capitalize()
        lines += [f"## {heading}", ""]
        if message.reasoning.strip():  # collapsed, as in the app once the answer began
            thinking = message.reasoning.strip()
            lines += ["<details><summary>Thinking</summary>", "", thinking, "", "</details>", ""]
        if message.content.strip():
            lines += [message.content.rstrip(), ""]
        if message.attachments:  # referenced by their chips, as the transcript shows them
            chips = (
                a.chip(n) for a, n in zip(message.attachments, numbers[id(message)], strict=True)
            )
            lines += ["  \n".join(chips), ""]
        state = ReplyState.saved(message.state)
        if message.role == "assistant" and state is not ReplyState.COMPLETE:
            error = ChatError.from_dict(message.error)
            # One line, or the italics would end at the first line break.
            why = f": {' '.join(sentence(error.title, error.detail).split())}" if error else ""
            lines += [f"_({state.ending}{why})_", ""]
        if message.summary.strip():  # what the model got in place of the turns above
            summary = ["<details><summary>Summary of the turns above</summary>", ""]
            lines += [*summary, message.summary.strip(), "", "</details>", ""]
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
