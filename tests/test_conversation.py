"""The conversation and what it contributes to each request."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
    code = "import sys, chat_tui.app\nprint('openai' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_core_imports_neither_textual_nor_openai() -> None:
    code = (
        "import sys\n"
        "import chat_tui.settings, chat_tui.conversation, chat_tui.client, chat_tui.events\n"
        "import chat_tui.errors, chat_tui.text, chat_tui.cli, chat_tui.console\n"
        "import chat_tui.reply_stats, chat_tui.input_history, chat_tui.clipboard\n"
        "import chat_tui.code_blocks, chat_tui.store, chat_tui.export, chat_tui.recorder\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'openai'))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
