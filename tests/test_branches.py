"""Branches: a retry or an edit adds one beside the old turns, which stay; the tree round trips
through the store and JSON exports, and older databases and files become trees."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from chat_tui.conversation import Conversation, Hidden, Message, Role
from chat_tui.export import FORMAT_VERSION, ExportFormatError, from_json, to_json, to_markdown
from chat_tui.recorder import restored
from chat_tui.reply_state import ReplyState
from chat_tui.store import MIGRATIONS, SCHEMA_VERSION, Store, legacy_tree

if TYPE_CHECKING:
    from pathlib import Path


def exchange(conversation: Conversation, text: str, answer: str) -> tuple[Message, Message]:
    user = conversation.add_user(text)
    reply = conversation.begin_reply()
    reply.append(answer)
    reply.state = ReplyState.COMPLETE
    return user, reply


def reply(conversation: Conversation, answer: str) -> Message:
    message = conversation.begin_reply()
    message.append(answer)
    message.state = ReplyState.COMPLETE
    return message


def texts(messages: list[Message]) -> list[str]:
    return [m.content for m in messages]


def branched() -> Conversation:
    """q → A (retried: A2), then an edit of "more" beside it: two levels of branches."""
    conversation = Conversation("sys")
    exchange(conversation, "q", "A")
    conversation.branch_last_reply()
    reply(conversation, "A2")
    more, _ = exchange(conversation, "more", "M")
    conversation.rewind_to(more)
    exchange(conversation, "more, edited", "M2")
    return conversation


# -- the conversation ---------------------------------------------------------------------


def test_a_retry_is_a_sibling_and_the_request_follows_the_branch_shown() -> None:
    conversation = Conversation("sys")
    question, first = exchange(conversation, "q", "A")
    assert conversation.branch_last_reply() is first
    second = reply(conversation, "A2")
    assert second.parent is first.parent is question
    assert conversation.siblings(second) == [first, second]
    assert conversation.branch_of(second) == (2, 2)
    assert conversation.branch_marks([question, first, second]) == [(1, 1), (1, 2), (2, 2)]
    assert conversation.last_branching() is second
    assert texts(conversation.shown) == ["q", "A2"]
    assert conversation.switch_branch(second, -1) is first
    assert texts(conversation.shown) == ["q", "A"]
    assert [m["content"] for m in conversation.request_messages()] == ["sys", "q", "A"]
    assert conversation.switch_branch(first, -1) is None  # the first already
    assert len(conversation.messages) == 3  # nothing deleted, nothing hidden
    assert all(m.hidden is None for m in conversation.messages)


def test_an_edit_is_a_sibling_and_switching_shows_the_latest_turns_of_a_branch() -> None:
    conversation = branched()
    edited = next(m for m in conversation.messages if m.content == "more, edited")
    old = next(m for m in conversation.messages if m.content == "more")
    assert edited.parent is old.parent
    assert texts(conversation.shown) == ["q", "A2", "more, edited", "M2"]
    conversation.switch_branch(edited, -1)
    assert texts(conversation.shown) == ["q", "A2", "more", "M"]
    # Back at the first reply: its branch has no turns after it.
    a2 = next(m for m in conversation.messages if m.content == "A2")
    conversation.switch_branch(a2, -1)
    assert texts(conversation.shown) == ["q", "A"]
    # And what is sent next continues that branch.
    user = conversation.add_user("on A")
    assert user.parent is not None
    assert user.parent.content == "A"
    assert [m["content"] for m in conversation.request_messages()] == ["sys", "q", "A", "on A"]
    reply(conversation, "ok")
    assert len(conversation.messages) == 9


def test_taking_out_stays_on_the_branch_and_restores_there() -> None:
    conversation = Conversation("")
    exchange(conversation, "a", "A")
    dropped = conversation.drop_oldest_exchange()
    exchange(conversation, "b", "B")
    assert texts(conversation.shown) == ["b", "B"]
    assert conversation.last_removed() == dropped
    conversation.restore(dropped)
    assert texts(conversation.shown) == ["a", "A", "b", "B"]


def test_a_fork_copies_the_shown_messages_up_to_one() -> None:
    conversation = branched()
    conversation.take_out(conversation.exchange_of(conversation.shown[0]))  # not copied
    target = next(m for m in conversation.messages if m.content == "more, edited")
    fork = conversation.fork(target)
    assert fork.id is None
    assert fork.system_prompt == "sys"
    assert texts(fork.shown) == ["more, edited"]
    originals = {id(m) for m in conversation.messages}
    assert all(m.id is None and id(m) not in originals for m in fork.messages)
    conversation.restore(conversation.last_removed())
    assert texts(conversation.fork(target).shown) == ["q", "A2", "more, edited"]


# -- the store --------------------------------------------------------------------------


def saved(store: Store, conversation: Conversation) -> int:
    """Write `conversation` as the app does (through the recorder's own conversion)."""
    from chat_tui.recorder import _stored

    cid = store.create_conversation("t", conversation.system_prompt)
    keys = {id(m): -n for n, m in enumerate(conversation.messages, 1)}
    leaf = keys[id(conversation.leaf)] if conversation.leaf is not None else None
    ids = store.save_messages(cid, [_stored(m, keys) for m in conversation.messages], (), leaf)
    for message, message_id in zip(conversation.messages, ids, strict=True):
        message.id = message_id
    return cid


def shape(conversation: Conversation) -> list[tuple[str, str | None, bool]]:
    """Each message: its text, its parent's text, whether it is shown."""
    shown = conversation.shown
    return [
        (m.content, m.parent.content if m.parent else None, any(m is s for s in shown))
        for m in conversation.messages
    ]


def test_the_tree_round_trips_through_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    conversation = branched()
    cid = saved(store, conversation)
    loaded, _ = restored(store.load(cid))
    assert shape(loaded) == shape(conversation)
    assert store.list_conversations()[0].message_count == 4  # the branch shown
    # Switching is saved as the leaf; the next message follows it.
    store.save_messages(cid, [], [], loaded.messages[1].id)
    again, _ = restored(store.load(cid))
    assert texts(again.shown) == ["q", "A"]
    store.add_message(cid, "user", "after A", "complete")
    assert texts(restored(store.load(cid))[0].shown) == ["q", "A", "after A"]
    assert store.list_conversations()[0].message_count == 3


def test_search_finds_text_on_a_branch_not_shown(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    conversation = Conversation("")
    exchange(conversation, "q", "the hidden-away answer")
    conversation.branch_last_reply()
    reply(conversation, "the shown answer")
    saved(store, conversation)
    assert [c.title for c in store.list_conversations("hidden-away")] == ["t"]


def old_database(path: Path, rows: list[tuple[str, str, str | None]]) -> None:
    """A database as schema 4 left it: one conversation of (role, text, hidden) rows."""
    db = sqlite3.connect(path)
    for version in range(1, 5):
        db.executescript(MIGRATIONS[version])
    db.execute("PRAGMA user_version = 4")
    db.execute("INSERT INTO conversations (id, title, created, updated) VALUES (1, 'Old', 0, 0)")
    db.executemany(
        "INSERT INTO messages (conversation_id, role, content, state, created, hidden)"
        " VALUES (1, ?, ?, 'complete', 0, ?)",
        rows,
    )
    db.commit()
    db.close()


def test_an_old_database_becomes_a_tree_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    rows = [
        ("user", "q", None),
        ("assistant", "first try", "superseded"),  # retried
        ("assistant", "A", None),
        ("user", "b", "superseded"),  # edited, with its reply
        ("assistant", "B", "superseded"),
        ("user", "b2", None),
        ("assistant", "B2", None),
        ("user", "gone", "removed"),  # taken out: stays on the branch, hidden
        ("assistant", "G", "removed"),
    ]
    old_database(path, rows)
    store = Store(path)
    assert store.version == SCHEMA_VERSION
    stored = store.load(1)
    assert len(stored.messages) == len(rows)
    conversation, _ = restored(stored)
    assert shape(conversation) == [
        ("q", None, True),
        ("first try", "q", False),
        ("A", "q", True),
        ("b", "A", False),
        ("B", "b", False),
        ("b2", "A", True),
        ("B2", "b2", True),
        ("gone", "B2", False),
        ("G", "gone", False),
    ]
    assert [m.hidden for m in conversation.messages][-2:] == [Hidden.REMOVED, Hidden.REMOVED]
    assert all(m.hidden is None for m in conversation.messages[:-2])
    assert store.list_conversations()[0].message_count == 4
    conversation.restore(conversation.last_removed())
    assert texts(conversation.shown)[-2:] == ["gone", "G"]


def test_legacy_trees_of_retries_that_ended_without_text() -> None:
    # A retry of a retry, then one that failed without text and left the reply it replaced.
    parents, leaf = legacy_tree(
        [
            ("user", None),
            ("assistant", "superseded"),
            ("assistant", "superseded"),
            ("assistant", None),
            ("assistant", "superseded"),
        ]
    )
    assert parents == [None, 0, 0, 0, 0]
    assert leaf == 3
    assert legacy_tree([]) == ([], None)


# -- exports ------------------------------------------------------------------------------


def test_json_holds_the_whole_tree_and_import_restores_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    conversation = branched()
    cid = saved(store, conversation)
    text = to_json(store.load(cid))
    document = json.loads(text)
    assert document["version"] == FORMAT_VERSION == 4
    assert len(document["messages"]) == 7
    assert {"id", "parent"} <= set(document["messages"][0])
    copy = store.load(store.import_conversation(from_json(text).conversation))
    assert shape(restored(copy)[0]) == shape(conversation)
    # Markdown: the branch on screen only.
    markdown = to_markdown(store.load(cid))
    assert "M2" in markdown
    assert "more, edited" in markdown
    assert "\nA\n" not in markdown
    assert "\nM\n" not in markdown


def tree_document(messages: list[dict[str, object]], **extra: object) -> str:
    return json.dumps(
        {"format": "chat-tui-conversation", "version": 4, "messages": messages, **extra}
    )


BASE = {"role": "user", "content": "x", "state": "complete"}


@pytest.mark.parametrize(
    ("messages", "why"),
    [
        ([BASE], "has no id"),
        ([{**BASE, "id": 1}, {**BASE, "id": 1}], "has no id"),
        ([{**BASE, "id": True}], "has no id"),
        ([{**BASE, "id": 1, "parent": 2}, {**BASE, "id": 2}], "not a message before it"),
        ([{**BASE, "id": 1, "parent": 1}], "not a message before it"),
    ],
)
def test_an_imported_tree_is_checked(messages: list[dict[str, object]], why: str) -> None:
    with pytest.raises(ExportFormatError, match=why):
        from_json(tree_document(messages))


def test_an_imported_leaf_that_is_no_message_is_the_last_one() -> None:
    two = [{**BASE, "id": 7}, {**BASE, "id": 9, "parent": 7, "content": "y"}]
    imported = from_json(tree_document(two, leaf="9")).conversation
    assert [m.content for m in imported.shown()] == ["x", "y"]


def test_an_earlier_export_with_replaced_turns_imports_them_as_branches(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "format": "chat-tui-conversation",
            "version": 3,
            "messages": [
                {"role": "user", "content": "q", "state": "complete"},
                {"role": "assistant", "content": "old", "hidden": "superseded"},
                {"role": "assistant", "content": "new", "state": "complete"},
            ],
        }
    )
    store = Store(tmp_path / "chats.db")
    copy = store.load(store.import_conversation(from_json(text).conversation))
    conversation, _ = restored(copy)
    assert shape(conversation) == [("q", None, True), ("old", "q", False), ("new", "q", True)]


def test_a_linear_chat_of_messages_without_parents_is_one_branch() -> None:
    a, b = Message(Role.USER, "a"), Message(Role.ASSISTANT, "b")
    conversation = Conversation("", [a, b])
    assert b.parent is a
    assert conversation.leaf is b
    assert texts(conversation.shown) == ["a", "b"]
