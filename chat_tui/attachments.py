"""Files and images attached to a user's message: read, checked, shown as chips, sent as parts.

A text file goes into the request as a delimited block with its path; the transcript shows its
chip (`[file: src/app.py · 212 lines]`), never its text. An image (PNG, JPEG, GIF or WebP, told
by its first bytes, never by its name) goes as a base64 data URL and is shown as
`[Image #1 · 1280x720 · 240 KB]`. Its size is read from the file's header: no imaging library.

Everything is checked when the file is read, so nothing is refused later by the server for
what the file is: the limits are Azure OpenAI's documented ones (20 MB per image, 10 images per
request), which OpenAI's are wider than.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat_tui.text import one_line

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # Azure OpenAI's limit per image
MAX_IMAGES = 10  # Azure OpenAI's limit per request
MAX_FILE_BYTES = 256 * 1024  # a text file's part of the context: about 64k tokens at most
DETAILS = ("auto", "low", "high")
_SNIFF = 8192  # a NUL byte in a text file's first bytes says it is binary
_BINARY = getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# Image types a model takes, by MIME type: the file's extension in the data directory.
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
_IMAGE_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".webp",
    ".bmp",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".avif",
    ".ico",
    ".svg",
}
# Images models do not take, named so the refusal says what the file is.
_OTHER_IMAGES = (
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
)


class Kind(StrEnum):
    FILE = "file"
    IMAGE = "image"


class AttachmentError(ValueError):
    """A file that cannot be attached; the message says why, in one line.

    `too_large` is set for a text file over the limit: `read_attachment(path, first_part=True)`
    then takes its first part instead.
    """

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached file or image. `name` is the path as the user gave it (shown, and sent with
    a file's text); the rest is what was read."""

    kind: Kind
    name: str
    mime: str
    size: int  # bytes: the whole file's, even when only its first part is kept
    text: str = ""  # a text file's contents (its first part when `truncated`)
    lines: int = 0
    truncated: bool = False
    data: bytes = b""  # an image's bytes; b"" when its saved copy is missing
    sha256: str = ""
    width: int = 0
    height: int = 0

    @property
    def is_image(self) -> bool:
        return self.kind is Kind.IMAGE

    def chip(self, number: int = 1) -> str:
        """What the transcript shows in place of the attachment, safe to print: `number` is the
        image's number in the conversation (see `Conversation.chips`)."""
        if self.is_image:
            return f"[Image #{number} · {self.width}x{self.height} · {human_size(self.size)}]"
        lines = f"first {self.lines:,} lines" if self.truncated else _count(self.lines, "line")
        return f"[file: {one_line(self.name)} · {lines}]"

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def block(self) -> str:
        """A file as it goes into the request: its text between tags naming its path, so the
        model can tell the files apart and from the message."""
        part = f" part={json.dumps(f'first {self.lines} lines')}" if self.truncated else ""
        path = json.dumps(self.name, ensure_ascii=False)
        return f"<file path={path}{part}>\n{self.text.rstrip(chr(10))}\n</file>"

    @property
    def extension(self) -> str:
        """The extension of an image's file in the data directory."""
        return IMAGE_TYPES.get(self.mime, "bin")


def image_numbers(groups: Iterable[Sequence[Attachment]]) -> list[list[int]]:
    """For each message's attachments, each one's image number (0 for a file): the images are
    numbered 1, 2, … through the whole conversation."""
    found: list[list[int]] = []
    number = 0
    for attachments in groups:
        numbers = []
        for attachment in attachments:
            number += attachment.is_image
            numbers.append(number if attachment.is_image else 0)
        found.append(numbers)
    return found


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}" + ("" if number == 1 else "s")


def read_attachment(
    path: Path | str, *, first_part: bool = False, max_file_bytes: int = MAX_FILE_BYTES
) -> Attachment:
    """The file at `path` as an attachment: AttachmentError says why it cannot be one.

    A text file over `max_file_bytes` is refused with `too_large` set, unless `first_part`:
    then its first `max_file_bytes` are kept, cut at a line's end.
    """
    name = str(path)
    shown = one_line(name)
    file = Path(os.path.expanduser(name))
    try:
        # Non-blocking: a FIFO would otherwise wait for a writer before fstat can say what it is.
        descriptor = os.open(file, os.O_RDONLY | _NONBLOCK | _BINARY)
    except FileNotFoundError:
        raise AttachmentError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise AttachmentError(f"{shown}: a directory, not a file") from None
    except OSError as exc:
        raise AttachmentError(f"{shown}: {exc.strerror or exc}") from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        what = "a directory, not a file" if stat.S_ISDIR(status.st_mode) else "not a regular file"
        raise AttachmentError(f"{shown}: {what}")
    with os.fdopen(descriptor, "rb") as stream:
        head = stream.read(_SNIFF)
        mime = image_type(head)
        if mime is not None:
            if status.st_size > MAX_IMAGE_BYTES:
                raise AttachmentError(_image_too_large(shown, status.st_size))
            data = head + stream.read(MAX_IMAGE_BYTES + 1 - len(head))
            return image_attachment(name, data)
        _refuse_other_images(shown, head, file.suffix.lower())
        if b"\x00" in head:
            raise AttachmentError(f"{shown}: a binary file; only text files and images attach")
        size = status.st_size
        if size > max_file_bytes and not first_part:
            raise AttachmentError(
                f"{shown}: {human_size(size)}, over the {human_size(max_file_bytes)} a file may be",
                too_large=True,
            )
        rest = stream.read(max_file_bytes + 1 - len(head)) if len(head) <= max_file_bytes else b""
        data = (head + rest)[: max_file_bytes + 1]
    truncated = len(data) > max_file_bytes
    if truncated:
        data = data[:max_file_bytes]
        # Whole lines only; and never half of a UTF-8 character.
        end = data.rfind(b"\n")
        data = data[: end + 1] if end >= 0 else data[: _whole_characters(data)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AttachmentError(
            f"{shown}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})"
        ) from None
    text = text.removeprefix("\ufeff")
    return Attachment(
        Kind.FILE,
        name,
        "text/plain",
        max(size, len(data)),
        text=text,
        lines=len(text.splitlines()),
        truncated=truncated,
    )


def _whole_characters(data: bytes) -> int:
    """How many of `data`'s bytes end on a UTF-8 character's boundary."""
    end = len(data)
    for back in range(1, min(4, end) + 1):
        if data[end - back] & 0xC0 != 0x80:  # the first byte of the last character
            lead = data[end - back]
            length = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
            return end if length <= back else end - back
    return end


def _image_too_large(shown: str, size: int) -> str:
    return f"{shown}: an image of {human_size(size)}, over the {human_size(MAX_IMAGE_BYTES)} limit"


def _refuse_other_images(shown: str, head: bytes, suffix: str) -> None:
    for magic, kind in _OTHER_IMAGES:
        if head.startswith(magic):
            raise AttachmentError(f"{shown}: a {kind} image; models take PNG, JPEG, GIF or WebP")
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        raise AttachmentError(f"{shown}: a HEIC or AVIF image; models take PNG, JPEG, GIF or WebP")
    if suffix in _IMAGE_SUFFIXES and suffix != ".svg":
        raise AttachmentError(
            f"{shown}: not an image of a known type (PNG, JPEG, GIF or WebP), nor text"
        )


def image_attachment(name: str, data: bytes) -> Attachment:
    """An image from its bytes (a file, the clipboard, an import): AttachmentError if it is not
    one a model takes, is over the limit, or its size cannot be read."""
    shown = one_line(name)
    if len(data) > MAX_IMAGE_BYTES:
        raise AttachmentError(_image_too_large(shown, len(data)))
    mime = image_type(data)
    if mime is None:
        raise AttachmentError(f"{shown}: not a PNG, JPEG, GIF or WebP image")
    dimensions = image_size(data)
    if dimensions is None:
        raise AttachmentError(f"{shown}: a damaged image (its size cannot be read)")
    return Attachment(
        Kind.IMAGE,
        name,
        mime,
        len(data),
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        width=dimensions[0],
        height=dimensions[1],
    )


def image_type(head: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, GIF or WebP image by its first bytes; None otherwise."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image's header; None if the header is damaged."""
    try:
        match image_type(data):
            case "image/png":
                if data[12:16] != b"IHDR":
                    return None
                return _positive(*struct.unpack(">II", data[16:24]))
            case "image/gif":
                return _positive(*struct.unpack("<HH", data[6:10]))
            case "image/jpeg":
                return _jpeg_size(data)
            case "image/webp":
                return _webp_size(data)
    except struct.error:  # cut short
        return None
    return None


def _positive(width: int, height: int) -> tuple[int, int] | None:
    return (width, height) if width > 0 and height > 0 else None


# Start-of-frame markers, which carry the size: SOF0-SOF15 but DHT, JPG and DAC.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return _positive(width, height)
        if marker == 0xDA or length < 2:  # image data before any frame header
            return None
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return _positive(width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack("<I", data[21:25])
        return _positive((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return (width, height) if len(data) >= 30 else None
    return None


def decoded_image(name: str, encoded: str) -> Attachment:
    """An image from base64 text (an export): AttachmentError if either is not right."""
    if len(encoded) > (MAX_IMAGE_BYTES // 3 + 1) * 4:
        limit = human_size(MAX_IMAGE_BYTES)
        raise AttachmentError(f"{one_line(name)}: an image over the {limit} limit")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentError(f"{one_line(name)}: its image data is not valid base64") from None
    return image_attachment(name, data)


# -- requests --------------------------------------------------------------------------------


def content_parts(
    text: str, attachments: list[Attachment], numbers: list[int], detail: str, sent: set[int]
) -> list[dict[str, Any]]:
    """A user message with attachments as Chat Completions content parts: one text part (the
    typed text, then each file's block), then each image; an image whose number is not in
    `sent` (over the request's limit, or its saved copy missing) as a short text placeholder.

    `numbers` holds each attachment's image number (0 for files).
    """
    texts = [text] if text.strip() else []
    texts += [a.block() for a in attachments if not a.is_image]
    parts: list[dict[str, Any]] = [{"type": "text", "text": "\n\n".join(texts)}] if texts else []
    for attachment, number in zip(attachments, numbers, strict=True):
        if not attachment.is_image:
            continue
        if number in sent and attachment.data:
            url = {"url": attachment.data_url(), "detail": detail}
            parts.append({"type": "image_url", "image_url": url})
        else:
            why = "its saved copy is missing" if not attachment.data else "too many images"
            parts.append({"type": "text", "text": f"[Image #{number} left out: {why}]"})
    return parts


def responses_parts(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions content parts as the Responses API's input parts."""
    parts: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "image_url":
            image = part["image_url"]
            parts.append(
                {"type": "input_image", "image_url": image["url"], "detail": image["detail"]}
            )
        else:
            parts.append({"type": "input_text", "text": part.get("text", "")})
    return parts
