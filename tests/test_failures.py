"""Bugs inside the app. A failure in the app's handler, a worker or a callback is told in a
notice, and the app carries on with the draft and the conversation as they were; one it cannot
go on after ends it with status 1 and one line on stderr. The traceback goes to the errors log.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from chat_tui.client import ChatClient
from chat_tui.failures import log_path, record
from chat_tui.store import AsyncStore, Store
from chat_tui.tui.app import ChatApp
from chat_tui.tui.screens.code_picker import CodePicker
from chat_tui.tui.widgets.prompt import PromptInput
from tests.conftest import compatible_settings
from tests.openai_server import TextReply
from tests.test_app import FAST_RETRY, SIZE, chat, settled, wait_for
from tests.test_faults import words
from tests.test_reuse import TWO_BLOCKS, notices
from tests.test_terminal import read_until, send_message, start_in_pty, stored_messages

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from textual.pilot import Pilot

    from chat_tui.client import ConnectionCheck
    from chat_tui.settings import Settings
    from tests.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.injects_failures

INJECTED = "injected failure"
DRAFT = "a half-written thought"


class FailsInAHandler(ChatApp):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chat.action_toggle_sidebar = self.fail  # type: ignore[method-assign]  # ctrl+b

    def fail(self) -> None:
        raise RuntimeError(f"{INJECTED} in a handler")


class FailsInACallback(ChatApp):
    def copy_text(self, text: str, what: str) -> None:  # called back with the block picked
        raise RuntimeError(f"{INJECTED} in a callback")


class FailingCheck(ChatClient):
    async def check(self, settings: Settings) -> ConnectionCheck:  # ctrl+t, in a worker
        raise RuntimeError(f"{INJECTED} in a worker")


async def press_ctrl_b(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+b")


async def press_ctrl_t(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+t")


async def pick_a_code_block(pilot: Pilot[None]) -> None:
    await pilot.press("shift+tab", "b")  # the messages; copy a code block of the reply
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CodePicker))
    await pilot.press("enter")


@pytest.mark.parametrize(
    ("app_class", "client_class", "trigger", "where"),
    [
        (FailsInAHandler, ChatClient, press_ctrl_b, "handler"),
        (ChatApp, FailingCheck, press_ctrl_t, "worker"),
        (FailsInACallback, ChatClient, pick_a_code_block, "callback"),
    ],
    ids=["handler", "worker", "callback"],
)
async def test_a_failure_is_told_and_the_app_carries_on(
    server: FakeOpenAIServer,
    tmp_path: Path,
    app_class: type[ChatApp],
    client_class: type[ChatClient],
    trigger: Callable[[Pilot[None]], Awaitable[None]],
    where: str,
) -> None:
    server.enqueue(TextReply(TWO_BLOCKS), TextReply("Noted."))
    path = tmp_path / "chats.db"
    app = app_class(
        compatible_settings(server),
        client=client_class(retry=FAST_RETRY),
        store=AsyncStore(lambda: Store(path)),
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat(pilot, "Two snippets please")
        prompt = app.query_one(PromptInput)
        prompt.insert(DRAFT)
        await trigger(pilot)
        failure = f"RuntimeError: {INJECTED} in a {where}"
        await wait_for(pilot, lambda: failure in words(app))
        assert "Something went wrong" in words(app)
        assert f"details are in {log_path()}" in notices(app)[-1]  # the toast wraps the path
        # The draft and the conversation are as they were ...
        assert prompt.text == DRAFT
        assert [m.content for m in app.chat.conversation.messages] == [
            "Two snippets please",
            TWO_BLOCKS,
        ]
        # ... and the app goes on: the draft is sent with the whole conversation.
        prompt.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(server.requests) == 2 and settled(app))
        assert [m["content"] for m in server.last_request.messages[1:]] == [
            "Two snippets please",
            TWO_BLOCKS,
            DRAFT,
        ]
    assert app.return_code in (None, 0)
    assert [(m.role, m.state) for m in Store(path).load(1).messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    details = log_path().read_text()
    assert "Traceback" in details
    assert failure in details
    assert DRAFT not in details  # it is still in the box: nothing to keep for the user


# The message box's own key handler fails on F9: the box handles no key after that, so the app
# cannot go on.
BROKEN_MESSAGE_BOX = textwrap.dedent(
    f"""
    import sys

    import chat_tui.tui.screens.chat
    from chat_tui.cli import main
    from chat_tui.tui.widgets.prompt import PromptInput


    class BrokenMessageBox(PromptInput):
        def on_key(self, event):
            if event.key == "f9":
                raise RuntimeError({INJECTED + " in the message box"!r})


    chat_tui.tui.screens.chat.PromptInput = BrokenMessageBox
    sys.exit(main())
    """
)
F9 = b"\x1b[20~"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_a_failure_the_app_cannot_survive_ends_it_with_one_line(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(TextReply("Hi there."))
    script = tmp_path / "broken_chat_tui.py"
    script.write_text(BROKEN_MESSAGE_BOX)
    data_dir = tmp_path / "data"
    process, terminal = start_in_pty(
        server,
        ["--data-dir", str(data_dir)],
        {"OPENAI_BASE_URL": server.base_url},
        program=[str(script)],
    )
    try:
        read_until(terminal, 10.0, done=b"Enter sends")
        send_message(terminal, "hello")
        read_until(terminal, 10.0, done=b"Hi there.")
        os.write(terminal, DRAFT.encode())
        read_until(terminal, 10.0, done=DRAFT.encode())
        os.write(terminal, F9)
        output = read_until(terminal, 15.0)  # until the app closes the terminal
        status = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    assert status == 1
    # What the terminal shows once the app has left its screen (the codes that restore the
    # terminal's modes show nothing).
    after = output[output.rfind(b"\x1b[?1049l") :].decode()
    assert re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", after).strip().splitlines() == [
        f"chat-tui: stopped by an unexpected error (RuntimeError: {INJECTED} in the message "
        f"box); the conversation is saved (--continue reopens it); the details and the message "
        f"you had not sent are in {log_path()}"
    ]
    assert "Traceback" not in output.decode(errors="replace")
    details = log_path().read_text()
    assert "Traceback" in details
    assert f"{INJECTED} in the message box" in details
    assert DRAFT in details
    assert log_path().stat().st_mode & 0o777 == 0o600
    assert stored_messages(data_dir) == [
        ("user", "hello", "complete"),
        ("assistant", "Hi there.", "complete"),
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes and links")
def test_the_log_is_owner_only_and_never_written_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "someone-elses.txt"
    target.write_text("precious")
    log = tmp_path / "log" / "errors.log"
    log.parent.mkdir()
    log.symlink_to(target)
    assert record(RuntimeError("boom"), log) is not None  # said, not raised
    assert target.read_text() == "precious"
    fresh = tmp_path / "new" / "errors.log"
    assert record(RuntimeError("boom"), fresh, draft="my draft") is None
    assert "my draft" in fresh.read_text()
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert fresh.parent.stat().st_mode & 0o777 == 0o700
