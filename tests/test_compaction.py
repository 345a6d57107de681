"""Compaction's requests, without the app: what is summarised, how, and what stands in for it."""

from __future__ import annotations

from chat_tui.compaction import (
    ASK,
    CLOSE,
    INSTRUCTION,
    OPEN,
    as_text,
    split_point,
    summary_request,
    with_summary,
)


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
