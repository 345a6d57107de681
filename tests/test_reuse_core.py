"""The UI-free parts behind reusing replies: stats, history, code blocks, clipboard programs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat_tui.clipboard import copy_commands, run_copy
from chat_tui.code_blocks import code_blocks
from chat_tui.conversation import Conversation
from chat_tui.events import ReplyStarted, RequestSent, TextDelta, Usage
from chat_tui.export import from_json, to_json
from chat_tui.input_history import InputHistory
from chat_tui.reply_stats import ReplyStats, StatsMeter
from chat_tui.store import Store

if TYPE_CHECKING:
    from pathlib import Path


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stats_time_the_reply_from_its_request() -> None:
    clock = Clock()
    meter = StatsMeter(clock)
    clock.now = 101.0  # building the SDK client: not the model's time
    meter.observe(RequestSent(1))
    clock.now = 101.5
    meter.observe(ReplyStarted("gpt-x"))
    clock.now = 101.75
    meter.observe(TextDelta("Hi"))
    clock.now = 102.0
    meter.observe(TextDelta(" there"))
    meter.observe(Usage(10, 5, 15))
    clock.now = 102.75
    stats = meter.finish("complete")
    assert stats == ReplyStats("gpt-x", 0.75, 1.0, 10, 5, "complete")
    assert stats.tokens_per_second == 5.0
    assert stats.summary() == (
        "gpt-x · 0.75 s to first token · 5 tok/s · 10 in → 5 out tokens · finished"
    )
    assert ReplyStats.from_dict(stats.to_dict()) == stats


def test_stats_without_usage_or_text_claim_nothing() -> None:
    stats = StatsMeter(Clock()).finish("failed")
    assert stats.first_token is None
    assert stats.tokens_per_second is None
    assert stats.summary() == "failed"
    assert ReplyStats.from_dict({"model": "m", "from_the_future": 1}) == ReplyStats("m")
    assert ReplyStats.from_dict("junk") is None  # type: ignore[arg-type]


def test_totals_count_what_the_server_reported() -> None:
    conversation = Conversation("sys")
    conversation.add_user("a")
    first = conversation.begin_reply()
    first.stats = ReplyStats(prompt_tokens=10, completion_tokens=5)
    conversation.add_user("b")
    second = conversation.begin_reply()
    second.stats = ReplyStats(ending="stopped")  # no usage came
    assert conversation.tokens_used == 15
    assert conversation.context_tokens == 15


def test_rewind_takes_back_a_message_and_what_followed() -> None:
    conversation = Conversation("sys")
    a = conversation.add_user("a")
    conversation.begin_reply().append("A")
    b = conversation.add_user("b")
    conversation.begin_reply()
    removed = conversation.rewind_to(b)
    assert [m.content for m in removed] == ["b", ""]
    assert [m.content for m in conversation.shown] == ["a", "A"]
    assert len(conversation.messages) == 4  # set aside, not deleted
    assert conversation.rewind_to(b) == []  # no longer there
    assert conversation.rewind_to(a)[0] is a


def test_history_walks_back_and_returns_the_draft() -> None:
    history = InputHistory(["one", "two", "two", " "])
    assert len(history) == 2  # repeats and blanks are not kept
    assert history.newer() is None
    assert history.older("draft") == "two"
    assert history.older("two") == "one"
    assert history.older("one") is None
    assert history.newer() == "two"
    assert history.newer() == "draft"
    assert not history.browsing
    history.prepend(["zero", "one"])
    assert history.older("") == "two"
    assert history.older("") == "one"
    assert history.older("") == "zero"


def test_history_keeps_its_size() -> None:
    history = InputHistory((str(n) for n in range(10)), size=3)
    assert len(history) == 3
    assert history.older("") == "9"


def test_code_blocks_in_order_with_languages() -> None:
    text = "x\n\n```python\nprint(1)\n```\n\n    indented\n\n~~~\nopen at the end"
    blocks = code_blocks(text)
    assert [(b.language, b.code) for b in blocks] == [
        ("python", "print(1)\n"),
        ("", "indented\n"),
        ("", "open at the end"),
    ]
    assert blocks[0].label == "python · 1 line · print(1)"


def test_clipboard_programs_by_place(tmp_path: Path) -> None:
    def which(name: str) -> str | None:
        return f"/bin/{name}" if name in ("tmux", "xclip", "wl-copy", "pbcopy") else None

    def names(env: dict[str, str], platform: str = "linux") -> list[str]:
        return [c.name for c in copy_commands(env, which, platform)]

    assert names({}) == []
    assert names({"DISPLAY": ":0"}) == ["xclip"]
    assert names({"WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}) == ["wl-copy"]
    assert names({}, "darwin") == ["pbcopy"]
    # Over SSH a local program would fill the remote machine's clipboard.
    assert names({"DISPLAY": ":0", "SSH_CONNECTION": "1 2 3 4"}) == []
    assert names({"TMUX": "/tmp/t,1,0", "SSH_TTY": "/dev/pts/1"}) == ["tmux"]
    assert names({"CHAT_TUI_CLIPBOARD": "/usr/bin/my-copy --flag", "DISPLAY": ":0"}) == ["my-copy"]


def test_copy_falls_back_to_an_owner_only_file(tmp_path: Path) -> None:
    [missing] = copy_commands({"CHAT_TUI_CLIPBOARD": "no-such-program-here"}, lambda _: None)
    outcome = run_copy("secret", [missing], tmp_path)
    assert outcome.copied_by == []
    assert outcome.failures[0].startswith("no-such-program-here:")
    assert outcome.saved_to == tmp_path / "clipboard.txt"
    assert outcome.saved_to.read_text() == "secret"
    assert outcome.saved_to.stat().st_mode & 0o777 == 0o600


def test_stats_are_stored_and_exported(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    chat = store.create_conversation("t", "sys")
    stats = ReplyStats("m", 0.5, 1.0, 3, 4, "complete").to_dict()
    store.add_message(chat, "user", "q", "complete")
    reply = store.add_message(chat, "assistant", "a", "streaming")
    store.update_message(reply, "ab", "complete", stats)
    loaded = store.load(chat)
    assert [m.stats for m in loaded.messages] == [None, stats]
    assert store.recent_prompts(5) == ["q"]
    imported = from_json(to_json(loaded)).conversation
    assert imported.messages[1].stats == stats
    store.close()


def test_stats_from_a_file_keep_only_sound_values() -> None:
    bad = {"prompt_tokens": "5", "first_token": "x", "completion_tokens": True, "model": "m"}
    assert ReplyStats.from_dict(bad) == ReplyStats("m")
    assert ReplyStats.from_dict({"prompt_tokens": "5"}) is None


def test_a_failing_program_is_tried_its_other_way_and_bad_settings_are_named(
    tmp_path: Path,
) -> None:
    import sys

    from chat_tui.clipboard import CopyCommand

    target = tmp_path / "got"
    fails = (sys.executable, "-c", "raise SystemExit(1)")
    works = (
        sys.executable,
        "-c",
        f"import sys; open({str(target)!r}, 'w').write(sys.stdin.read())",
    )
    outcome = run_copy("hi", [CopyCommand("tmux", fails, fallback=works)], None)
    assert outcome.copied_by == ["tmux"]
    assert target.read_text() == "hi"
    [broken] = copy_commands({"CHAT_TUI_CLIPBOARD": 'xclip "unclosed'}, lambda _: None)
    outcome = run_copy("hi", [broken], None)
    assert outcome.failures == ["CHAT_TUI_CLIPBOARD: cannot be read: No closing quotation"]


def test_full_collections_wait_for_the_reply_to_end() -> None:
    import gc

    from chat_tui.collector import Collector

    before = gc.get_threshold()
    collector = Collector()
    collector.hold()
    assert gc.get_threshold()[:2] == before[:2]  # young collections go on
    assert gc.get_threshold()[2] > 10**6
    collector.release()
    assert gc.get_threshold() == before
