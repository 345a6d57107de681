"""Conversations saved as they happen, reopened, listed, and surviving a killed process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from textual.widgets import Input, OptionList

from chat_tui.app import ChatApp
from chat_tui.client import ChatClient
from chat_tui.screens.conversations import ConversationsScreen
from chat_tui.store import AsyncStore, Store
from chat_tui.widgets.transcript import Transcript
from tests.conftest import compatible_settings, notice_texts, screen_text
from tests.openai_server import ErrorReply, TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, replies, wait_for
from tests.test_terminal import read_until, start_in_pty

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import FakeOpenAIServer


def saving_app(server: FakeOpenAIServer, path: Path, **kwargs: object) -> ChatApp:
    return ChatApp(
        compatible_settings(server, system_prompt="Be kind."),
        client=ChatClient(retry=FAST_RETRY),
        store=AsyncStore(lambda: Store(path)),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_every_message_is_saved_with_its_state(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(TextReply("Sure."), TextReply(["cut"], finish_reason="length"))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "Plan my week")
        await chat(pilot, "More")
        await pilot.pause(0.3)
    stored = Store(path).load(Store(path).latest_id() or 0)
    assert stored.title == "Plan my week"
    assert stored.system_prompt == "Be kind."
    assert stored.settings["model"] == "fake-model"
    assert "api_key" not in stored.settings
    assert [(m.role, m.content, m.state) for m in stored.messages] == [
        ("user", "Plan my week", "complete"),
        ("assistant", "Sure.", "complete"),
        ("user", "More", "complete"),
        ("assistant", "cut", "length"),
    ]


async def test_retry_replaces_the_saved_reply(server: FakeOpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    server.enqueue(ErrorReply(401), TextReply("Second try."))
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "hello")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(server.requests) == 2 and not app.is_streaming)
        await pilot.pause(0.3)
    stored = Store(path).load(Store(path).latest_id() or 0)
    assert [(m.role, m.content, m.state) for m in stored.messages] == [
        ("user", "hello", "complete"),
        ("assistant", "Second try.", "complete"),
    ]


async def test_clear_starts_a_new_conversation_and_keeps_the_old(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "first chat")
        await pilot.press("ctrl+l")
        await chat(pilot, "second chat")
        await pilot.pause(0.3)
    titles = [c.title for c in Store(path).list_conversations()]
    assert titles == ["second chat", "first chat"]


async def test_list_screen_opens_searches_renames_and_deletes(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    seed = Store(path)
    for title, text in [("Pasta", "boil water"), ("Taxes", "file early"), ("Bikes", "oil chain")]:
        cid = seed.create_conversation(title, "Old prompt.")
        seed.add_message(cid, "user", text, "complete")
        seed.add_message(cid, "assistant", f"About {title}.", "complete")
    seed.close()
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        assert isinstance(app.screen, ConversationsScreen)
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count == 3)
        await pilot.press(*"water")
        await wait_for(pilot, lambda: options.option_count == 1)
        assert "Pasta" in screen_text(app)
        # Rename it.
        await pilot.press("f2")
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.value = "Cooking"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Cooking" in screen_text(app))
        # Delete another, after confirming.
        app.screen.query_one("#search", Input).value = "Taxes"
        await wait_for(pilot, lambda: options.option_count == 1 and "Taxes" in screen_text(app))
        await pilot.press("down", "delete")  # in the list; in the search box it edits text
        await pilot.pause()
        assert "Delete “Taxes” and all its messages?" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: options.option_count == 0)
        # Open the renamed one.
        app.screen.query_one("#search", Input).value = ""
        await wait_for(pilot, lambda: options.option_count == 2)
        app.screen.query_one("#search", Input).value = "cook"
        await wait_for(pilot, lambda: options.option_count == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConversationsScreen))
        await wait_for(pilot, lambda: "About Pasta." in screen_text(app))
        assert app.conversation.system_prompt == "Old prompt."
        # Carry on in it: the next request has its history.
        await chat(pilot, "and then?")
        assert [m["content"] for m in server.last_request.messages] == [
            "Old prompt.",
            "boil water",
            "About Pasta.",
            "and then?",
        ]
    assert sorted(c.title for c in Store(path).list_conversations()) == ["Bikes", "Cooking"]


async def test_a_long_conversation_opens_quickly(server: FakeOpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    seed = Store(path)
    cid = seed.create_conversation("Long", "")
    for n in range(250):
        seed.add_message(cid, "user", f"question {n}", "complete")
        seed.add_message(cid, "assistant", f"## Answer {n}\n\n- point\n- point", "complete")
    seed.close()
    app = saving_app(server, path, open_conversation=cid)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(app.conversation.messages) == 500
        assert len(replies(app)) == 15  # only the latest are drawn
        transcript = app.query_one(Transcript)
        notice = transcript.children[0]
        assert "470 earlier messages are not shown" in str(notice.render())
        assert "question 249" in screen_text(app)
        await pilot.press("f4")  # draw 30 more
        await pilot.pause()
        assert "440 earlier messages are not shown" in str(notice.render())
        assert len(transcript.drawn_messages()) == 60
        assert transcript.earlier == 440


async def test_a_damaged_database_does_not_stop_the_chat(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    path.write_bytes(b"garbage" * 1000)
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(notice_texts(app)))
        [notice] = notice_texts(app)
        assert notice.startswith("Conversations are not being saved\n")
        assert f"{path}: the database is damaged" in notice
        await chat(pilot, "still works")
        assert "still works" in screen_text(app)
        assert len(server.requests) == 1


def test_a_killed_process_loses_at_most_a_second(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.enqueue(TextReply(["tok "] * 2000, delay=0.01))
    data_dir = tmp_path / "data"
    process, terminal = start_in_pty(
        server, ["--data-dir", str(data_dir)], {"OPENAI_BASE_URL": server.base_url}
    )
    try:
        read_until(terminal, 5.0, done=b"Enter sends")
        os.write(terminal, b"count for me")
        time.sleep(0.2)
        os.write(terminal, b"\r")
        server.wait_for_requests(1, timeout=10)
        started = time.monotonic()
        read_until(terminal, 3.0)
        streamed_for = time.monotonic() - started
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    store = Store(data_dir / "conversations.db")
    stored = store.load(store.latest_id() or 0)
    user, reply = stored.messages
    assert (user.content, reply.state) == ("count for me", "streaming")
    # ~100 tokens a second were arriving; at most about one second of them may be missing.
    tokens = reply.content.count("tok")
    assert tokens >= (streamed_for - 1.5) * 100 * 0.5, (tokens, streamed_for)


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_list_export_and_import_from_the_command_line(tmp_path: Path) -> None:
    seed = Store(tmp_path / "conversations.db")
    cid = seed.create_conversation("Recipes", "Be brief.", None, {"model": "m"})
    seed.add_message(cid, "user", "Soup?", "complete")
    seed.add_message(cid, "assistant", "Yes, soup.", "complete")
    seed.close()
    listed = run_cli("--list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert "Recipes" in listed.stdout
    assert f"{cid:>5}" in listed.stdout
    markdown = run_cli("export", str(cid), "--format", "md", data_dir=tmp_path)
    assert markdown.returncode == 0
    assert "# Recipes" in markdown.stdout
    assert "Yes, soup." in markdown.stdout
    exported = tmp_path / "recipes.json"
    assert (
        run_cli(
            "export", str(cid), "--format", "json", "-o", str(exported), data_dir=tmp_path
        ).returncode
        == 0
    )
    imported = run_cli("import", str(exported), data_dir=tmp_path)
    assert imported.returncode == 0
    assert len(Store(tmp_path / "conversations.db").list_conversations()) == 2
    missing = run_cli("export", "999", data_dir=tmp_path)
    assert missing.returncode == 1
    assert "no saved conversation 999" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    failed = run_cli("import", str(bad), data_dir=tmp_path)
    assert failed.returncode == 1
    assert "bad.json" in failed.stderr


def test_continue_reopens_the_last_conversation(server: FakeOpenAIServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed = Store(data_dir / "conversations.db")
    cid = seed.create_conversation("Before", "")
    seed.add_message(cid, "user", "remember the number 42", "complete")
    seed.add_message(cid, "assistant", "I will remember 42.", "complete")
    seed.close()
    process, terminal = start_in_pty(
        server,
        ["--data-dir", str(data_dir), "--continue"],
        {"OPENAI_BASE_URL": server.base_url},
    )
    try:
        output = read_until(terminal, 8.0, done=b"remember 42")
        os.write(terminal, b"\x11")
        read_until(terminal, 5.0)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    assert b"remember 42" in output


async def test_export_and_import_from_the_app(server: FakeOpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    app = saving_app(server, path)
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "export me")
        await app.run_action("export('md')")
        await app.run_action("export('json')")
        cid = app.conversation.id
        markdown = (tmp_path / f"chat-{cid}.md").read_text()
        assert "# export me" in markdown
        assert "## You\n\nexport me" in markdown
        await app.run_action("import")
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / f"chat-{cid}.json")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.id not in (None, cid))
        assert "export me" in screen_text(app)
    assert len(Store(path).list_conversations()) == 2


async def test_a_locked_database_does_not_stop_the_chat(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    path = tmp_path / "chats.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        app = saving_app(server, path)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await chat(pilot, "typed while locked")  # the app is usable at once
            await wait_for(pilot, lambda: "locked" in " ".join(screen_text(app).split()), 15)
            assert "typed while locked" in screen_text(app)
            assert app.conversation.messages[0].content == "typed while locked"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_new_conversation_from_the_list(server: FakeOpenAIServer, tmp_path: Path) -> None:
    app = saving_app(server, tmp_path / "chats.db")
    async with app.run_test(size=SIZE) as pilot:
        await chat(pilot, "old one")
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not app.conversation.messages)
        assert "old one" not in screen_text(app)
