"""The conversation and what it contributes to each request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import chat_tui
from chat_tui.conversation import Conversation
from chat_tui.reply_state import ReplyState


def test_request_carries_system_prompt_and_whole_history() -> None:
    conversation = Conversation("Be helpful.")
    conversation.add_user("Hi")
    reply = conversation.begin_reply()
    reply.append("Hello!")
    reply.state = ReplyState.COMPLETE
    conversation.add_user("And?")
    assert conversation.request_messages() == [
        {"role": "system", "content": "Be helpful."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And?"},
    ]


def test_streaming_reply_is_not_sent() -> None:
    conversation = Conversation("S")
    conversation.add_user("Hi")
    conversation.begin_reply().append("partial")
    assert [m["role"] for m in conversation.request_messages()] == ["system", "user"]


@pytest.mark.parametrize(
    "state",
    [ReplyState.STOPPED, ReplyState.LENGTH, ReplyState.INCOMPLETE, ReplyState.INTERRUPTED],
)
def test_partial_replies_are_sent_with_the_text_that_arrived(state: ReplyState) -> None:
    conversation = Conversation("S")
    conversation.add_user("Hi")
    reply = conversation.begin_reply()
    reply.append("half a rep")
    reply.state = state
    assert conversation.request_messages()[-1] == {"role": "assistant", "content": "half a rep"}


def test_failed_reply_without_text_is_not_sent_but_the_prompt_stays() -> None:
    conversation = Conversation("S")
    conversation.add_user("Hi")
    conversation.begin_reply().state = ReplyState.FAILED
    assert conversation.request_messages()[-1] == {"role": "user", "content": "Hi"}


def test_clear_keeps_the_system_prompt() -> None:
    conversation = Conversation("Keep me.")
    conversation.add_user("Hi")
    conversation.clear()
    assert len(conversation) == 0
    assert conversation.request_messages() == [{"role": "system", "content": "Keep me."}]


def test_blank_system_prompt_is_left_out() -> None:
    conversation = Conversation("  ")
    conversation.add_user("Hi")
    assert conversation.request_messages() == [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("reason", "state"),
    [
        ("stop", ReplyState.COMPLETE),
        ("length", ReplyState.LENGTH),
        ("content_filter", ReplyState.FILTERED),
        ("tool_calls", ReplyState.COMPLETE),
        (None, ReplyState.INCOMPLETE),
    ],
)
def test_finish_reasons(reason: str | None, state: ReplyState) -> None:
    assert ReplyState.from_finish_reason(reason) is state


def test_the_app_defers_the_sdk_import() -> None:
    code = "import sys, chat_tui.tui.app\nprint('openai' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_core_imports_neither_textual_nor_openai() -> None:
    # The core is every module outside chat_tui/tui: a new one is checked without a word here.
    package = Path(chat_tui.__file__).parent
    core = sorted(
        "chat_tui." + path.stem
        for path in package.glob("*.py")
        if path.stem not in ("__init__", "__main__")
    )
    assert "chat_tui.settings" in core
    code = (
        "import importlib, sys\n"
        f"for name in {core!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'openai'))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
