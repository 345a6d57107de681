"""Files and images attached to messages: reading and refusing them, what each request carries
on both wire shapes, saving, exporting and importing them, and `chat-tui ask -a`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import struct
import subprocess
import sys
import zlib
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import pytest

from chat_tui.ask import EXIT_OK, EXIT_USAGE
from chat_tui.attachments import (
    MAX_FILE_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    Attachment,
    AttachmentError,
    Kind,
    image_attachment,
    read_attachment,
)
from chat_tui.client import ChatClient
from chat_tui.conversation import Conversation
from chat_tui.errors import ChatError
from chat_tui.events import ReplyFailed, ReplyFinished
from chat_tui.export import FORMAT_VERSION, ExportFormatError, from_json, to_json, to_markdown
from chat_tui.recorder import Recorder, restored
from chat_tui.retry import RetryPolicy
from chat_tui.settings import Api, Settings, parse_detail
from chat_tui.store import AsyncStore, Store
from tests.conftest import azure_settings, compatible_settings
from tests.openai_server import ErrorReply, TextReply

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer

# -- tiny images, built byte by byte ------------------------------------------------------------


def png(width: int = 1280, height: int = 720) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg(width: int = 640, height: int = 480) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00" * 3
    return b"\xff\xd8" + app0 + frame + b"\xff\xd9"


def gif(width: int = 32, height: int = 16) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def webp(width: int = 300, height: int = 200) -> bytes:
    body = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    chunk = b"VP8X" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_lossless(width: int = 5, height: int = 7) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + struct.pack("<I", bits)
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "mime", "size"),
    [
        ("shot.png", png(1280, 720), "image/png", (1280, 720)),
        ("photo.jpg", jpeg(640, 480), "image/jpeg", (640, 480)),
        ("anim.gif", gif(32, 16), "image/gif", (32, 16)),
        ("pic.webp", webp(300, 200), "image/webp", (300, 200)),
        ("lossless.webp", webp_lossless(5, 7), "image/webp", (5, 7)),
        ("misnamed.txt", png(3, 4), "image/png", (3, 4)),  # the bytes say what it is
    ],
)
def test_images_are_told_by_their_bytes_and_sized_from_their_headers(
    tmp_path: Path, name: str, data: bytes, mime: str, size: tuple[int, int]
) -> None:
    attachment = read_attachment(write(tmp_path, name, data))
    assert attachment.kind is Kind.IMAGE
    assert (attachment.mime, (attachment.width, attachment.height)) == (mime, size)
    assert attachment.data == data
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.data_url() == data_url(data, mime)


def test_image_chip() -> None:
    image = image_attachment("shot.png", png(1280, 720) + b"\x00" * (240 * 1024))
    assert image.chip(1) == "[Image #1 · 1280x720 · 240 KB]"
    assert image.chip(3).startswith("[Image #3 ·")


def test_a_text_file(tmp_path: Path) -> None:
    path = write(tmp_path, "app.py", ("\ufeffprint('hi')\n" + "x = 1\n" * 211).encode())
    attachment = read_attachment(str(path))
    assert attachment.kind is Kind.FILE
    assert attachment.name == str(path)
    assert attachment.text.startswith("print('hi')\n")  # no byte-order mark
    assert attachment.lines == 212
    assert not attachment.truncated
    assert attachment.chip() == f"[file: {path} · 212 lines]"
    one = read_attachment(write(tmp_path, "one.txt", b"only"))
    assert one.chip() == f"[file: {tmp_path / 'one.txt'} · 1 line]"


def test_a_file_over_the_limit_is_refused_or_its_first_part_taken(tmp_path: Path) -> None:
    lines = "".join(f"line {n:05}\n" for n in range(40_000))  # 440 KB
    path = write(tmp_path, "big.log", lines.encode())
    with pytest.raises(AttachmentError, match=r"big\.log: 430 KB, over the 256 KB") as refused:
        read_attachment(path)
    assert refused.value.too_large
    part = read_attachment(path, first_part=True)
    assert part.truncated
    assert part.size == len(lines)
    assert len(part.text.encode()) <= MAX_FILE_BYTES
    assert part.text.endswith("\n")  # whole lines
    assert part.text == lines[: len(part.text)]
    assert part.chip() == f"[file: {path} · first {part.lines:,} lines]"
    assert 'part="first' in part.block()


def test_a_first_part_never_splits_a_character(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.txt", ("é" * 100).encode())  # one line, two bytes each
    part = read_attachment(path, first_part=True, max_file_bytes=51)
    assert part.text == "é" * 25


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("blob.bin", b"ELF\x00\x01\x02", "a binary file"),
        ("latin.txt", "café".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 at offset 3\)"),
        ("fake.png", b"this is not a picture", "not an image of a known type"),
        ("old.bmp", b"BM" + b"\x00" * 60, "a BMP image; models take PNG, JPEG, GIF or WebP"),
        ("cut.png", b"\x89PNG\r\n\x1a\n\x00\x00", r"a damaged image \(its size cannot be read\)"),
    ],
)
def test_files_that_cannot_be_attached_say_why(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(AttachmentError, match=reason) as refused:
        read_attachment(write(tmp_path, name, data))
    assert not refused.value.too_large
    assert str(refused.value).startswith(str(tmp_path / name))


def test_missing_directories_and_special_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match=r"nowhere\.txt: no such file"):
        read_attachment(tmp_path / "nowhere.txt")
    with pytest.raises(AttachmentError, match="a directory, not a file"):
        read_attachment(tmp_path)
    if sys.platform != "win32":
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        with pytest.raises(AttachmentError, match="not a regular file"):
            read_attachment(fifo)  # refused at once: nothing waits for a writer


def test_an_image_over_twenty_megabytes_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.png", png(10, 10))
    with path.open("r+b") as file:
        file.truncate(MAX_IMAGE_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(AttachmentError, match=r"huge\.png: an image of 20\.0 MB, over the 20"):
        read_attachment(path)


def test_hostile_names_are_shown_through_the_sanitizer(tmp_path: Path) -> None:
    name = "evil\x1b]52;c;aGk=\x07\u202e\ntxt"
    attachment = Attachment(Kind.FILE, name, "text/plain", 3, text="hi\n", lines=1)
    chip = attachment.chip()
    assert not {"\x1b", "\u202e", "\n"} & set(chip)
    assert chip == "[file: evil␛]52;c;aGk=␇‹U+202E›␊txt · 1 line]"
    with pytest.raises(AttachmentError) as refused:
        read_attachment(tmp_path / name)
    assert "\x1b" not in str(refused.value)
    assert "\n" not in str(refused.value)
    # Sent as it is, the name quoted: it cannot break out of the tag that names the file.
    assert (
        attachment.block() == '<file path="evil\\u001b]52;c;aGk=\\u0007\u202e\\ntxt">\nhi\n</file>'
    )


def test_the_detail_setting() -> None:
    assert Settings().image_detail == "auto"
    assert parse_detail(" High ") == "high"
    with pytest.raises(ValueError, match="Image detail is one of auto, low, high"):
        parse_detail("ultra")


# -- what requests carry ---------------------------------------------------------------------


def file_attachment(name: str = "src/app.py", text: str = "print('hi')\n") -> Attachment:
    return Attachment(Kind.FILE, name, "text/plain", len(text), text=text, lines=1)


def test_a_message_with_attachments_becomes_content_parts() -> None:
    conversation = Conversation("Be brief.")
    conversation.add_user("plain")  # without attachments: a string, as before
    image = image_attachment("shot.png", png(2, 2))
    conversation.add_user("What is wrong?", [file_attachment(), image])
    assert conversation.request_messages(detail="low") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "plain"},
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "What is wrong?\n\n<file path=\"src/app.py\">\nprint('hi')\n</file>",
                },
                {
                    "type": "image_url",
                    "image_url": {"url": data_url(png(2, 2), "image/png"), "detail": "low"},
                },
            ],
        },
    ]
    assert conversation.chips(conversation.messages[1]) == [
        "[file: src/app.py · 1 line]",
        "[Image #1 · 2x2 · 69 B]",
    ]


def test_a_message_can_be_only_an_image() -> None:
    conversation = Conversation("")
    conversation.add_user("", [image_attachment("a.gif", gif())])
    assert conversation.request_messages() == [
        {
            "role": "user",
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": data_url(gif(), "image/gif"), "detail": "auto"},
                }
            ],
        }
    ]


def many_images(conversation: Conversation, count: int) -> list[Attachment]:
    images = [image_attachment(f"{n}.png", png(n, n)) for n in range(1, count + 1)]
    for image in images:
        conversation.add_user(f"look at {image.name}", [image])
        reply = conversation.begin_reply()
        reply.append("I see it.")
        reply.state = reply.state.COMPLETE
    return images


def test_the_oldest_images_beyond_ten_are_replaced_by_placeholders() -> None:
    conversation = Conversation("")
    images = many_images(conversation, MAX_IMAGES + 2)
    assert conversation.images_left_out() == 2
    sent = conversation.request_messages()
    users = [m["content"] for m in sent if m["role"] == "user"]
    assert users[0] == [
        {"type": "text", "text": "look at 1.png"},
        {"type": "text", "text": "[Image #1 left out: too many images]"},
    ]
    assert users[1][1] == {"type": "text", "text": "[Image #2 left out: too many images]"}
    assert users[2][1]["image_url"]["url"] == images[2].data_url()
    assert sum(part["type"] == "image_url" for content in users for part in content) == 10
    # Taking out the oldest exchanges brings the count under the limit: nothing left out.
    conversation.drop_oldest_exchange()
    conversation.drop_oldest_exchange()
    assert conversation.images_left_out() == 0
    # Numbers never change: the first image shown is still #3.
    assert conversation.chips(conversation.shown[0]) == [images[2].chip(3)]


@pytest.fixture
async def client() -> Any:
    client = ChatClient(retry=RetryPolicy(base_delay=0.01))
    yield client
    await client.close()


async def send(client: ChatClient, settings: Settings, conversation: Conversation) -> list[Any]:
    messages = conversation.request_messages(detail=settings.image_detail)
    async with aclosing(client.stream(settings, messages)) as events:
        return [event async for event in events]


def attached_conversation() -> Conversation:
    conversation = Conversation("Be brief.")
    conversation.add_user(
        "Why?", [file_attachment("a.txt", "alpha\n"), image_attachment("s.jpg", jpeg(4, 3))]
    )
    return conversation


async def test_chat_completions_receive_image_url_parts(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    server.enqueue(TextReply("ok"))
    events = await send(
        client, compatible_settings(server, image_detail="high"), attached_conversation()
    )
    assert isinstance(events[-1], ReplyFinished)
    request = server.last_request
    assert request.contents == [
        ("system", "Be brief."),
        (
            "user",
            [
                {"type": "text", "text": 'Why?\n\n<file path="a.txt">\nalpha\n</file>'},
                {
                    "type": "image_url",
                    "image_url": {"url": data_url(jpeg(4, 3), "image/jpeg"), "detail": "high"},
                },
            ],
        ),
    ]


@pytest.mark.parametrize("make", [compatible_settings, azure_settings], ids=["openai", "azure"])
async def test_the_responses_api_receives_input_image_parts(
    client: ChatClient, server: FakeOpenAIServer, make: Any
) -> None:
    server.enqueue(TextReply("ok"))
    settings = make(server, api=Api.RESPONSES, image_detail="low")
    events = await send(client, settings, attached_conversation())
    assert isinstance(events[-1], ReplyFinished)
    request = server.last_request
    assert request.operation == "responses"
    assert request.instructions == "Be brief."
    assert request.contents == [
        (
            "user",
            [
                {"type": "input_text", "text": 'Why?\n\n<file path="a.txt">\nalpha\n</file>'},
                {
                    "type": "input_image",
                    "image_url": data_url(jpeg(4, 3), "image/jpeg"),
                    "detail": "low",
                },
            ],
        ),
    ]


@pytest.mark.parametrize("api", [Api.CHAT, Api.RESPONSES])
async def test_the_server_gets_ten_images_and_placeholders_for_the_rest(
    client: ChatClient, server: FakeOpenAIServer, api: Api
) -> None:
    conversation = Conversation("")
    images = many_images(conversation, MAX_IMAGES + 1)
    server.enqueue(TextReply("ok"))
    await send(client, compatible_settings(server, api=api), conversation)
    request = server.last_request
    assert request.images == [(image.data_url(), "auto") for image in images[1:]]
    first = request.contents[0][1]
    assert isinstance(first, list)
    assert first[1]["text"] == "[Image #1 left out: too many images]"


async def test_a_model_without_vision_is_explained(
    client: ChatClient, server: FakeOpenAIServer
) -> None:
    body = {
        "error": {
            "message": "Invalid content type. image_url is only supported by certain models.",
            "type": "invalid_request_error",
            "param": "messages.[1].content.[1].type",
            "code": None,
        }
    }
    server.enqueue(ErrorReply(400, body))
    events = await send(client, compatible_settings(server), attached_conversation())
    failed = events[-1]
    assert isinstance(failed, ReplyFailed)
    error = failed.error
    assert error.title == "This model does not take images"
    assert "image_url is only supported by certain models" in error.detail
    assert error.refused
    assert len(server.requests) == 1  # not asked again


# -- saving -----------------------------------------------------------------------------------


def test_attachments_are_saved_and_loaded(tmp_path: Path) -> None:
    store = Store(tmp_path / "data" / "conversations.db")
    image = image_attachment("shot.png", png(8, 6))
    text = file_attachment("notes.md", "# Notes\nsecond\n")
    cid = store.create_conversation("t", "")
    store.add_message(cid, "user", "see", "complete", attachments=[text, image])
    store.add_message(cid, "assistant", "seen", "complete")
    loaded = store.load(cid)
    assert loaded.messages[0].attachments == [text, image]
    assert loaded.messages[1].attachments == []
    kept = tmp_path / "data" / "attachments" / f"{image.sha256}.png"
    assert kept.read_bytes() == image.data
    if sys.platform != "win32":
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    conversation, _ = restored(loaded)
    assert conversation.messages[0].attachments == [text, image]
    assert conversation.request_messages()[0]["content"][1]["image_url"]["url"] == (
        image.data_url()
    )


def test_an_image_file_goes_with_the_last_conversation_that_holds_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "conversations.db")
    shared = image_attachment("shared.png", png(5, 5))
    own = image_attachment("own.webp", webp(9, 9))
    first = store.create_conversation("one", "")
    store.add_message(first, "user", "", "complete", attachments=[shared, own])
    second = store.create_conversation("two", "")
    store.add_message(second, "user", "", "complete", attachments=[shared])
    folder = tmp_path / "attachments"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{shared.sha256}.png", f"{own.sha256}.webp"]
    )
    store.delete_conversation(first)
    assert [p.name for p in folder.iterdir()] == [f"{shared.sha256}.png"]
    store.delete_conversation(second)
    assert list(folder.iterdir()) == []


def test_a_missing_image_file_is_a_placeholder_not_a_crash(tmp_path: Path) -> None:
    store = Store(tmp_path / "conversations.db")
    image = image_attachment("gone.png", png(5, 5))
    cid = store.create_conversation("t", "")
    store.add_message(cid, "user", "x", "complete", attachments=[image])
    (tmp_path / "attachments" / f"{image.sha256}.png").write_bytes(b"tampered")
    loaded = store.load(cid).messages[0].attachments[0]
    assert loaded.data == b""
    assert loaded.chip(1) == image.chip(1)
    conversation, _ = restored(store.load(cid))
    assert conversation.images_left_out() == 0
    assert conversation.request_messages()[0]["content"][1] == {
        "type": "text",
        "text": "[Image #1 left out: its saved copy is missing]",
    }


def test_the_memory_store_keeps_images_in_memory(tmp_path: Path) -> None:
    store = Store(None)
    image = image_attachment("m.gif", gif())
    cid = store.create_conversation("t", "")
    store.add_message(cid, "user", "", "complete", attachments=[image])
    assert store.load(cid).messages[0].attachments == [image]
    store.delete_conversation(cid)
    assert list(tmp_path.iterdir()) == []


# -- exports ----------------------------------------------------------------------------------


def saved_with_attachments(store: Store) -> int:
    cid = store.create_conversation("Pictures", "Be brief.")
    store.add_message(
        cid,
        "user",
        "What is this?",
        "complete",
        attachments=[file_attachment(), image_attachment("shot.png", png(1280, 720))],
    )
    store.add_message(cid, "assistant", "A picture.", "complete")
    store.add_message(cid, "user", "", "complete", attachments=[image_attachment("b.gif", gif())])
    return cid


def test_json_export_round_trip_with_attachments(tmp_path: Path) -> None:
    store = Store(tmp_path / "conversations.db")
    original = store.load(saved_with_attachments(store))
    text = to_json(original)
    document = json.loads(text)
    assert document["version"] == FORMAT_VERSION
    file_doc, image_doc = document["messages"][0]["attachments"]
    assert file_doc == {
        "type": "file",
        "name": "src/app.py",
        "mime": "text/plain",
        "size": 12,
        "text": "print('hi')\n",
    }
    assert image_doc["type"] == "image"
    assert base64.b64decode(image_doc["data"]) == png(1280, 720)
    assert (image_doc["mime"], image_doc["width"], image_doc["height"]) == ("image/png", 1280, 720)
    imported = from_json(text).conversation
    other = Store(tmp_path / "other" / "conversations.db")
    new_id = other.import_conversation(imported)
    loaded = other.load(new_id)
    assert [m.attachments for m in loaded.messages] == [m.attachments for m in original.messages]
    assert (tmp_path / "other" / "attachments" / f"{image_doc_sha(image_doc)}.png").exists()


def image_doc_sha(document: dict[str, Any]) -> str:
    return hashlib.sha256(base64.b64decode(document["data"])).hexdigest()


def test_markdown_export_shows_the_chips(store_path: Path) -> None:
    store = Store(store_path)
    markdown = to_markdown(store.load(saved_with_attachments(store)))
    assert "What is this?\n\n[file: src/app.py · 1 line]  \n[Image #1 · 1280x720 · 69 B]" in (
        markdown
    )
    assert "## You\n\n[Image #2 · 32x16 · 14 B]\n" in markdown
    assert "print('hi')" not in markdown  # the chip, not the file's text


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "conversations.db"


def export_with(attachments: object, *, role: str = "user", version: int = 3) -> str:
    message = {"role": role, "content": "x", "state": "complete", "attachments": attachments}
    document = {"format": "chat-tui-conversation", "version": version, "messages": [message]}
    return json.dumps(document)


def image_doc(payload: bytes, mime: str = "image/png", **changes: object) -> dict[str, Any]:
    return {
        "type": "image",
        "name": "i.png",
        "mime": mime,
        "data": base64.b64encode(payload).decode(),
        **changes,
    }


@pytest.mark.parametrize(
    ("attachments", "reason"),
    [
        ({"type": "file"}, "attachments are not a list"),
        (["file"], "attachment 1 is not an object"),
        ([{"type": "pdf", "name": "a"}], "neither a file nor an image"),
        ([{"type": "file", "name": 3, "text": ""}], "attachment 1's name is not text"),
        ([{"type": "file", "name": "", "text": ""}], "has no valid name"),
        ([{"type": "file", "name": "a"}], "a file without its text"),
        (
            [{"type": "file", "name": "a", "text": "x" * (MAX_FILE_BYTES + 1)}],
            "a file over the 256 KB limit",
        ),
        ([{"type": "file", "name": "a", "text": "", "truncated": "yes"}], "truncated mark"),
        ([{"type": "file", "name": "a", "text": "", "size": -1}], "size is not a size"),
        ([image_doc(png(1, 1), mime="image/bmp")], "not a PNG, JPEG, GIF or WebP image"),
        ([image_doc(png(1, 1), data="@@not base64@@")], "not valid base64"),
        ([image_doc(b"plain text")], "not a PNG, JPEG, GIF or WebP image"),
        ([image_doc(gif())], "says it is image/png but its bytes are image/gif"),
        ([image_doc(png(1, 1), data=5)], "data is not base64 text"),
        (
            [image_doc(png(1, 1), data="A" * ((MAX_IMAGE_BYTES // 3 + 2) * 4))],
            "an image over the 20.0 MB",
        ),
    ],
)
def test_an_imported_attachment_is_checked_field_by_field(attachments: object, reason: str) -> None:
    with pytest.raises(ExportFormatError, match=reason):
        from_json(export_with(attachments))


def test_a_reply_with_attachments_is_refused() -> None:
    with pytest.raises(ExportFormatError, match="a reply with attachments"):
        from_json(export_with([image_doc(png(1, 1))], role="assistant"))


@pytest.mark.parametrize("version", [1, 2])
def test_older_versions_still_import_and_carry_no_attachments(version: int) -> None:
    imported = from_json(export_with([image_doc(png(1, 1))], version=version)).conversation
    assert imported.messages[0].content == "x"
    assert imported.messages[0].attachments == []


def test_an_image_exported_without_its_bytes_comes_back_as_a_placeholder() -> None:
    document = {"type": "image", "name": "g.png", "mime": "image/png", "size": 10, "width": 2}
    imported = from_json(export_with([document])).conversation.messages[0].attachments[0]
    assert (imported.data, imported.width, imported.height) == (b"", 2, 0)


# -- chat-tui ask -a --------------------------------------------------------------------------


def ask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CHAT_TUI_CONFIG": str(tmp_path / "no-config.toml"),
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", "ask", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=60,
    )


def to(server: FakeOpenAIServer) -> list[str]:
    return ["--endpoint", server.base_url, "--model", "fake-model"]


def test_ask_attaches_files_and_images(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", b"one\ntwo\n")
    write(tmp_path, "shot.png", png(3, 2))
    server.enqueue(TextReply("Seen."))
    result = ask(
        tmp_path,
        "-a",
        "notes.txt",
        "--attach",
        "shot.png",
        "--image-detail",
        "high",
        *to(server),
        "Explain",
    )
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_OK, "Seen.\n", "")
    assert server.last_request.contents[-1] == (
        "user",
        [
            {"type": "text", "text": 'Explain\n\n<file path="notes.txt">\none\ntwo\n</file>'},
            {
                "type": "image_url",
                "image_url": {"url": data_url(png(3, 2), "image/png"), "detail": "high"},
            },
        ],
    )


def test_ask_with_only_an_attachment(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write(tmp_path, "shot.png", png(3, 2))
    server.enqueue(TextReply("A picture."))
    result = ask(tmp_path, "-a", "shot.png", *to(server))
    assert result.returncode == EXIT_OK, result.stderr
    assert server.last_request.images == [(data_url(png(3, 2), "image/png"), "auto")]


def test_ask_names_a_bad_attachment_on_one_line(server: FakeOpenAIServer, tmp_path: Path) -> None:
    write(tmp_path, "blob.bin", b"\x00\x01\x02")
    result = ask(tmp_path, "-a", "blob.bin", *to(server), "What is it?")
    assert result.returncode == EXIT_USAGE
    assert result.stderr == (
        "chat-tui: cannot attach blob.bin: a binary file; only text files and images attach\n"
    )
    assert result.stdout == ""
    assert server.requests == []


def test_a_refusal_is_a_chat_error_that_survives_saving() -> None:
    error = ChatError("This model does not take images", "x", refused=True)
    assert ChatError.from_dict(error.to_dict()) == error


async def test_the_recorder_saves_attachments_with_the_message(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    store = AsyncStore(lambda: Store(path))
    await store.open()
    problems: list[str] = []
    recorder = Recorder(store, problems.append)
    conversation = Conversation("")
    image = image_attachment("only.png", png(4, 4))
    conversation.add_user("", [image])
    settings = Settings(model="m")
    await recorder.save(conversation, settings, None)
    await recorder.save(conversation, settings, None)  # nothing new: written once
    await store.close()
    assert problems == []
    saved = Store(path).load(conversation.id or 0)
    assert saved.title == image.chip(1)  # only an image: its chip names the conversation
    assert [m.attachments for m in saved.messages] == [[image]]
