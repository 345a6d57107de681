"""The conversation and what it contributes to each request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import chat_tui
from chat_tui.conversation import Conversation, Delivery, Hidden
from chat_tui.errors import ChatError
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


# -- what failed, what was taken out, what was replaced -------------------------------------


def exchange(conversation: Conversation, text: str, reply_text: str, **reply: object) -> None:
    conversation.add_user(text)
    message = conversation.begin_reply()
    message.append(reply_text)
    message.state = reply.get("state", ReplyState.COMPLETE)  # type: ignore[assignment]
    message.error = reply.get("error")  # type: ignore[assignment]


REFUSED = ChatError("Blocked", status=400, refused=True)
UNREACHABLE = ChatError("Cannot reach x")


def sent(conversation: Conversation) -> list[str]:
    return [m["content"] for m in conversation.request_messages()]


def test_a_refused_message_is_left_out_and_a_pending_one_goes_again() -> None:
    conversation = Conversation("")
    exchange(conversation, "first", "One.")
    exchange(conversation, "refused", "", state=ReplyState.FAILED, error=REFUSED)
    exchange(conversation, "unreachable", "", state=ReplyState.FAILED, error=UNREACHABLE)
    assert sent(conversation) == ["first", "One.", "unreachable"]
    marks = {m.content: conversation.deliveries().get(id(m)) for m in conversation.messages}
    assert marks["first"] is Delivery.SENT
    assert marks["refused"] is Delivery.REFUSED
    assert marks["unreachable"] is Delivery.PENDING
    exchange(conversation, "next", "Answered both.")
    marks = {m.content: conversation.deliveries().get(id(m)) for m in conversation.messages}
    assert marks["unreachable"] is Delivery.SENT  # carried by the request that was answered
    assert marks["refused"] is Delivery.REFUSED


def test_taking_out_restoring_and_replacing_hide_without_deleting() -> None:
    conversation = Conversation("")
    exchange(conversation, "a", "A.")
    exchange(conversation, "b", "B.")
    exchange(conversation, "c", "C.")
    b = conversation.messages[2]
    conversation.take_out(conversation.exchange_of(conversation.messages[3]))
    assert sent(conversation) == ["a", "A.", "c", "C."]
    assert len(conversation) == 4
    assert len(conversation.messages) == 6
    assert conversation.last_removed() == [b, conversation.messages[3]]
    conversation.restore(conversation.last_removed())
    assert sent(conversation) == ["a", "A.", "b", "B.", "c", "C."]
    dropped = conversation.drop_oldest_exchange()
    assert [m.content for m in dropped] == ["a", "A."]
    assert all(m.hidden is Hidden.REMOVED for m in dropped)
    replaced = conversation.rewind_to(b)
    assert [m.content for m in replaced] == ["b", "B.", "c", "C."]
    # Not hidden: a branch beside what the edit sends, off the path shown.
    assert all(m.hidden is None and m not in conversation.path for m in replaced)
    assert conversation.shown == []
    assert len(conversation.messages) == 6
    assert conversation.last_removed() == dropped  # replaced turns are not "taken out"


def test_a_retry_sets_the_last_reply_aside() -> None:
    conversation = Conversation("")
    exchange(conversation, "q", "first try")
    old = conversation.branch_last_reply()
    assert old is not None
    assert old.hidden is None  # kept as a branch, not hidden
    assert sent(conversation) == ["q"]
    assert conversation.branch_last_reply() is None  # the last shown is the question now


def test_an_error_round_trips_and_untrusted_fields_are_dropped() -> None:
    error = ChatError("T", "d", "h", 400, "more", ("retry",), refused=True)
    assert ChatError.from_dict(error.to_dict()) == error
    assert ChatError.from_dict({"title": "T", "status": True, "actions": [1, "x"]}) == ChatError(
        "T", actions=("x",)
    )
    assert ChatError.from_dict({"detail": "no title"}) is None
    assert ChatError.from_dict("text") is None
