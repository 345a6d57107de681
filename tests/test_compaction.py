"""Compaction's requests, without the app: what is summarised, how, and what stands in for it."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from chat_tui.cli import build_parser
from chat_tui.compaction import (
    ASK,
    CLOSE,
    EARLIER,
    INSTRUCTION,
    OPEN,
    as_text,
    split_point,
    summary_request,
    with_summary,
)
from chat_tui.config_file import load_config
from chat_tui.conversation import Compaction, Conversation
from chat_tui.export import FORMAT_VERSION, from_json, to_json, to_markdown
from chat_tui.recorder import Recorder, restored
from chat_tui.settings import Settings, SettingsError, parse_compact_at
from chat_tui.settings_sources import Flags, describe, load_settings
from chat_tui.store import MIGRATIONS, SCHEMA_VERSION, AsyncStore, Store
from tests.test_branches import exchange, saved

if TYPE_CHECKING:
    from pathlib import Path


def test_the_latest_exchanges_are_kept() -> None:
    roles = ["user", "assistant"] * 5
    assert split_point(roles) == 6  # three exchanges summarised, two kept
    assert split_point(roles, keep=1) == 8
    assert split_point(["user", "assistant", "user", "assistant"]) == 0  # nothing worth it
    # An unanswered message starts an exchange too.
    assert split_point(["user", "assistant", "user", "user", "assistant"]) == 2


def test_the_summary_request_carries_the_turns_as_text() -> None:
    messages = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
    ]
    request = summary_request(messages)
    assert request[0] == {"role": "system", "content": INSTRUCTION}
    [ask] = request[1:]
    assert ask["role"] == "user"
    assert ask["content"] == (
        "User: My name is Ada.\n\nAssistant: Hello Ada.\n\n"
        f"User: What is in this picture?\n[an image]\n\n{ASK}"
    )
    assert "base64" not in ask["content"]


def test_the_summary_goes_into_the_one_system_message() -> None:
    system = with_summary("Be brief.", "  Ada likes tea.\n")
    assert system.startswith("Be brief.\n\n")
    assert system.endswith(f"{OPEN}\nAda likes tea.\n{CLOSE}")
    assert with_summary("", "x") == f"{OPEN}\nx\n{CLOSE}"


def test_as_text() -> None:
    assert as_text({"role": "user", "content": "plain"}) == "plain"
    assert as_text({"role": "user", "content": None}) == ""
    assert (
        as_text({"role": "user", "content": [{"type": "input_text", "text": "a"}, "junk"]}) == "a"
    )


# -- the conversation: what requests carry once compacted -----------------------------------


def chat_of(count: int) -> Conversation:
    conversation = Conversation("Be kind.")
    for n in range(1, count + 1):
        exchange(conversation, f"q{n}", f"A{n}.")
    return conversation


def compacted(conversation: Conversation, summary: str = "S") -> Compaction:
    plan = conversation.compaction()
    assert plan is not None
    conversation.compact(plan.through, summary)
    return plan


def test_a_compaction_summarises_all_but_the_last_exchanges() -> None:
    conversation = chat_of(4)
    plan = compacted(conversation, " Ada likes tea. ")
    assert [m.content for m in plan.messages] == ["q1", "A1.", "q2", "A2."]
    assert plan.request == summary_request(
        [
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "A1."},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": "A2."},
        ]
    )
    assert conversation.request_messages() == [
        {"role": "system", "content": with_summary("Be kind.", "Ada likes tea.")},
        {"role": "user", "content": "q3"},
        {"role": "assistant", "content": "A3."},
        {"role": "user", "content": "q4"},
        {"role": "assistant", "content": "A4."},
    ]
    # Nothing is lost: every turn is still shown, the first ones as summarised.
    assert len(conversation.shown) == 8
    assert [m.content for m in conversation.summarised()] == ["q1", "A1.", "q2", "A2."]
    # Without a system prompt, the summary is the system message, alone.
    conversation.system_prompt = ""
    assert conversation.request_messages()[0] == {
        "role": "system",
        "content": f"{OPEN}\nAda likes tea.\n{CLOSE}",
    }


def test_too_short_to_compact_and_again_after_a_compaction() -> None:
    assert chat_of(2).compaction() is None
    conversation = chat_of(3)
    compacted(conversation, "first")
    assert conversation.compaction() is None  # only the two kept exchanges are left
    exchange(conversation, "q4", "A4.")
    plan = compacted(conversation, "second")
    # The new summary replaces the first, which it is asked to fold in.
    assert plan.request[1]["content"].startswith(f"{EARLIER}\n{OPEN}\nfirst\n{CLOSE}\n\nUser: q2")
    assert conversation.request_messages()[0]["content"].endswith(f"{OPEN}\nsecond\n{CLOSE}")
    assert conversation.request_messages()[1] == {"role": "user", "content": "q3"}


def test_a_branch_that_leaves_before_the_summary_sends_its_turns() -> None:
    conversation = chat_of(3)
    first = conversation.shown[0]
    compacted(conversation)
    # An edit of the first message: its branch has none of the summarised turns.
    conversation.rewind_to(first)
    conversation.add_user("q1b")
    assert conversation.summary_point() is None
    assert conversation.request_messages() == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "q1b"},
    ]
    # Back on the compacted branch, the summary again.
    conversation.switch_branch(conversation.shown[0], -1)
    assert conversation.request_messages()[0]["content"].endswith(f"{OPEN}\nS\n{CLOSE}")
    # A branch after the summarised turns keeps it.
    conversation.rewind_to(conversation.shown[-2])
    conversation.add_user("q3b")
    assert conversation.request_messages()[0]["content"].endswith(f"{OPEN}\nS\n{CLOSE}")


def test_drop_oldest_fork_and_the_meter_after_a_compaction() -> None:
    conversation = chat_of(4)
    compacted(conversation)
    # ctrl+o takes out the oldest exchange still sent, not one the summary stands for.
    assert [m.content for m in conversation.drop_oldest_exchange()] == ["q3", "A3."]
    # The meter counts the summary and what follows it, not the summarised turns.
    assert [m.content for m in conversation.fill_messages()] == ["S", "q4", "A4."]
    fork = conversation.fork(conversation.shown[-1])
    assert fork.request_messages()[0]["content"].endswith(f"{OPEN}\nS\n{CLOSE}")


# -- kept: the store, its migration, exports ------------------------------------------------


def test_the_store_round_trip_keeps_the_summary(tmp_path: Path) -> None:
    conversation = chat_of(3)
    compacted(conversation, "kept")
    store = Store(tmp_path / "chats.db")
    try:
        cid = saved(store, conversation)
        again, _ = restored(store.load(cid))
        assert again.request_messages() == conversation.request_messages()
    finally:
        store.close()


async def test_the_recorder_writes_a_summary_made_after_saving(tmp_path: Path) -> None:
    store = AsyncStore(lambda: Store(tmp_path / "chats.db"))
    await store.open()
    recorder = Recorder(store, print)
    conversation = chat_of(3)
    await recorder.save(conversation, Settings(), None)
    compacted(conversation, "later")
    await recorder.save(conversation, Settings(), None)
    assert conversation.id is not None
    again, _ = restored(await store.load(conversation.id))
    assert again.summary_point() is not None
    assert again.summary_point().summary == "later"
    await store.close()


def test_a_schema_5_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    db = sqlite3.connect(path)
    for version in range(1, 6):
        db.executescript(MIGRATIONS[version])
    db.execute("PRAGMA user_version = 5")
    db.execute("INSERT INTO conversations (id, title, created, updated) VALUES (1, 'Old', 0, 0)")
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, state, created)"
        " VALUES (1, 'user', 'kept', 'complete', 0)"
    )
    db.commit()
    db.close()
    store = Store(path)
    try:
        assert store.version == SCHEMA_VERSION == 6
        [message] = store.load(1).messages
        assert (message.content, message.summary) == ("kept", "")
    finally:
        store.close()


def test_exports_keep_the_summary(tmp_path: Path) -> None:
    conversation = chat_of(3)
    compacted(conversation, "exported")
    store = Store(tmp_path / "chats.db")
    try:
        stored = store.load(saved(store, conversation))
    finally:
        store.close()
    document = json.loads(to_json(stored))
    assert document["version"] == FORMAT_VERSION
    assert [m.get("summary") for m in document["messages"]].count("exported") == 1
    imported, _ = restored(from_json(to_json(stored)).conversation)
    assert imported.request_messages() == conversation.request_messages()
    assert "<summary>Summary of the turns above</summary>\n\nexported" in to_markdown(stored)
    # A file without summaries (any earlier version) has none.
    del document["messages"][1]["summary"]
    assert restored(from_json(json.dumps(document)).conversation)[0].summary_point() is None


# -- the compact_at setting -------------------------------------------------------------------


def test_compact_at_is_read_from_every_source(tmp_path: Path) -> None:
    assert parse_compact_at("") == 0
    assert parse_compact_at(" 80% ") == 80
    for bad in ("lots", "100", "-1"):
        with pytest.raises(SettingsError, match="Compact at"):
            parse_compact_at(bad)
    (tmp_path / "config.toml").write_text("[profiles.big]\ncompact_at = 70\n", encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    env = {"CHAT_TUI_COMPACT_AT": "60"}
    assert load_settings(Flags(), config, cwd=tmp_path, environ={}).settings.compact_at == 0
    assert load_settings(Flags(), config, cwd=tmp_path, environ=env).settings.compact_at == 60
    profile = load_settings(Flags(profile="big"), config, cwd=tmp_path, environ=env)
    assert profile.settings.compact_at == 70
    flagged = Flags(options={"compact_at": 90})
    assert load_settings(flagged, config, cwd=tmp_path, environ=env).settings.compact_at == 90
    args = build_parser().parse_args(["--compact-at", "85"])
    assert args.compact_at == 85
    assert "compact_at       = 60  (environment: CHAT_TUI_COMPACT_AT)" in describe(
        load_settings(Flags(), config, cwd=tmp_path, environ=env)
    )
