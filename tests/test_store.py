"""The conversation store: round trips, search, migrations, damage, two writers, exports."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from chat_tui.export import ExportFormatError, from_json, to_json, to_markdown
from chat_tui.store import SCHEMA_VERSION, Store, StoreError, title_for

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "chats.db")


def test_round_trip(store: Store) -> None:
    cid = store.create_conversation("Hi", "Be brief.", "work", {"model": "m", "temperature": 0.2})
    first = store.add_message(cid, "user", "Hello", "complete")
    reply = store.add_message(cid, "assistant", "", "streaming")
    store.update_message(reply, "Hi there", "stopped")
    loaded = store.load(cid)
    assert (loaded.title, loaded.system_prompt, loaded.profile) == ("Hi", "Be brief.", "work")
    assert loaded.settings == {"model": "m", "temperature": 0.2}
    assert [(m.id, m.role, m.content, m.state) for m in loaded.messages] == [
        (first, "user", "Hello", "complete"),
        (reply, "assistant", "Hi there", "stopped"),
    ]


def test_list_is_newest_first_and_searches_titles_and_text(store: Store) -> None:
    a = store.create_conversation("Cooking pasta", "")
    b = store.create_conversation("Taxes", "")
    store.add_message(a, "user", "How long to boil spaghetti?", "complete")
    store.add_message(b, "assistant", "File by April 100%_sure", "complete")
    assert [c.id for c in store.list_conversations()] == [b, a]
    assert [c.id for c in store.list_conversations("SPAGHETTI")] == [a]
    assert [c.id for c in store.list_conversations("pasta")] == [a]
    assert [c.id for c in store.list_conversations("100%_")] == [b]  # no wildcards
    assert store.list_conversations("nothing like this") == []
    assert store.list_conversations()[1].message_count == 1


def test_rename_and_delete(store: Store) -> None:
    cid = store.create_conversation("Old", "")
    store.add_message(cid, "user", "x", "complete")
    store.update_conversation(cid, title="New")
    assert store.load(cid).title == "New"
    store.delete_conversation(cid)
    with pytest.raises(KeyError):
        store.load(cid)
    count = store._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert count == 0


def test_latest(store: Store) -> None:
    assert store.latest_id() is None
    first = store.create_conversation("a", "")
    store.create_conversation("b", "")
    store.add_message(first, "user", "touch", "complete")
    assert store.latest_id() == first


def test_wal_and_schema_version(store: Store, tmp_path: Path) -> None:
    assert store.version == SCHEMA_VERSION
    mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_migrates_an_empty_database_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()  # version 0: no tables at all
    store = Store(path)
    assert store.version == SCHEMA_VERSION
    store.create_conversation("works", "")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer chat-tui"):
        Store(path)


def test_a_damaged_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StoreError, match=r"broken\.db: the database is damaged"):
        Store(path)


def test_a_locked_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(path)
        store._db.execute("PRAGMA busy_timeout = 200")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.create_conversation("x", "")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


WRITER = """
import sys
from pathlib import Path
from chat_tui.store import Store
store = Store(Path(sys.argv[1]))
for n in range(200):
    cid = store.create_conversation(f"{sys.argv[2]} {n}", "")
    store.add_message(cid, "user", "hello", "complete")
"""


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Store(path).close()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name]) for name in "ab"]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    titles = [c.title for c in Store(path).list_conversations()]
    assert len(titles) == 400
    assert sum(t.startswith("a ") for t in titles) == 200


def test_titles() -> None:
    assert title_for("\n  How do I boil an egg?\nthanks") == "How do I boil an egg?"
    assert len(title_for("x" * 200)) == 60
    assert title_for("   ") == "New chat"


def test_export_and_import_round_trip(store: Store) -> None:
    cid = store.create_conversation(
        "Trip", "Be helpful.", None, {"model": "gpt", "api_key": "must-not-leak"}
    )
    store.add_message(cid, "user", "Plan [bold]a[/bold] trip", "complete")
    store.add_message(cid, "assistant", "Day 1: walk.", "length")
    original = store.load(cid)
    exported = to_json(original)
    assert "must-not-leak" not in exported
    copy_id = store.import_conversation(from_json(exported))
    copy = store.load(copy_id)
    assert copy_id != cid
    assert (copy.title, copy.system_prompt) == ("Trip", "Be helpful.")
    assert [(m.role, m.content, m.state) for m in copy.messages] == [
        ("user", "Plan [bold]a[/bold] trip", "complete"),
        ("assistant", "Day 1: walk.", "length"),
    ]
    markdown = to_markdown(original)
    assert "# Trip" in markdown
    assert "> Be helpful." in markdown
    assert "## You\n\nPlan [bold]a[/bold] trip" in markdown
    assert "_(cut off by the token limit)_" in markdown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ('{"format": "other"}', "not a chat-tui conversation"),
        ('{"format": "chat-tui-conversation", "version": 9}', "unsupported version"),
        (
            '{"format": "chat-tui-conversation", "version": 1, "messages": [{"role": "x"}]}',
            "message 1 has no valid role",
        ),
    ],
)
def test_bad_imports_say_why(text: str, message: str) -> None:
    with pytest.raises(ExportFormatError, match=message):
        from_json(text)
