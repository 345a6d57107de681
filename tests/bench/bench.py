"""chat-tui's benchmark: prints figures, asserts nothing (the machines are noisy).

    python tests/bench/bench.py [--runs 5] [--quick]

It starts the local OpenAI-compatible server in separate processes (one at full speed, one at
150 tokens/s), drives the real app headless through Textual's Pilot for most figures, runs
chat-tui in a real pseudo-terminal for start-up, and consumes the same replies with a bare SDK
script for the floor. Every figure is the median of the runs, with min and max.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import re
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chat_tui.client import ChatClient  # noqa: E402
from chat_tui.conversation import Message, Role  # noqa: E402
from chat_tui.events import TextDelta  # noqa: E402
from chat_tui.reply_state import ReplyState  # noqa: E402
from chat_tui.settings import Provider, Settings  # noqa: E402
from chat_tui.tui.app import ChatApp  # noqa: E402
from chat_tui.tui.widgets.messages import AssistantMessage, UserMessage  # noqa: E402
from chat_tui.tui.widgets.prompt import PromptInput  # noqa: E402
from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SIZE = (120, 40)


# -- the server, in its own process ---------------------------------------------------------


class Server:
    def __init__(self, tokens_per_second: float | None = None) -> None:
        command = [sys.executable, str(ROOT / "tests" / "openai_server.py"), "--port", "0"]
        if tokens_per_second:
            command += ["--tps", str(tokens_per_second)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = re.search(r"(http://\S+)", first)
        assert match, first
        self.url = match.group(1)

    @property
    def settings(self) -> Settings:
        return Settings(provider=Provider.COMPATIBLE, endpoint=self.url + "/v1", model="fake-model")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- figures --------------------------------------------------------------------------------


def summary(values: list[float], unit: str = "s", digits: int = 2) -> str:
    median = statistics.median(values)
    return (
        f"{median:.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f})"
    )


def report(name: str, text: str) -> None:
    print(f"  {name:<58} {text}", flush=True)


async def bare_sdk(server: Server, prompt: str) -> float:
    """The floor: the SDK streaming the same reply, printing each token (to /dev/null)."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:  # noqa: ASYNC230 - as a console script prints
        stream = await client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": prompt}], stream=True
        )
        async with stream:
            async for chunk in stream:
                delta = chunk.choices[0].delta if chunk.choices else None
                extra = (delta.model_extra if delta else None) or {}
                # The reasoning too, where the server streams it: a console script shows both.
                text = delta and (delta.content or extra.get("reasoning_content"))
                if text:
                    sink.write(text)
                    sink.flush()
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


frames: list[float] = []  # when each frame of the app under test was composed


class TimedClient(ChatClient):
    """Notes when the last token reached the app."""

    last_token = 0.0

    async def stream(self, settings: Settings, messages: Any) -> Any:
        async with aclosing(super().stream(settings, messages)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    TimedClient.last_token = time.perf_counter()
                yield event


async def with_app(
    server: Server, work: Callable[[ChatApp, Any], Awaitable[Any]], earlier: int = 0
) -> Any:
    app = ChatApp(server.settings, client=TimedClient())
    frames.clear()
    draw = app._display

    def timed_display(screen: Any, update: Any) -> None:
        # Headless, a frame is composed but not written: composing it is the cost that counts.
        draw(screen, update)
        if update is not None:
            frames.append(time.perf_counter())

    app._display = timed_display  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await quiet()
        if earlier:
            await add_history(app, earlier)
            await quiet()  # measure the reply, not the drawing of the history
        return await work(app, pilot)


async def quiet(seconds: float = 0.3, limit: float = 15.0) -> None:
    """Wait until the event loop has run without a stall for `seconds`: start-up, mounting and
    the SDK's import (in a thread, but holding the GIL) are over."""
    deadline = time.perf_counter() + limit
    calm_since = time.perf_counter()
    while time.perf_counter() < deadline:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        if time.perf_counter() - before > 0.015:
            calm_since = time.perf_counter()
        elif time.perf_counter() - calm_since >= seconds:
            return


async def add_history(app: ChatApp, turns: int) -> None:
    """Earlier turns, drawn as a long live session ends up with them: the latest MAX_DRAWN."""
    text = "## A heading\n\nSome **bold** text and `code`.\n\n- one\n- two\n\n" * 3
    start = len(app.chat.conversation.messages)
    for n in range(turns):
        app.chat.conversation.add_user(f"question {n}")
        app.chat.conversation.messages.append(Message(Role.ASSISTANT, text, ReplyState.COMPLETE))
    transcript = app.query_one(Transcript)
    added = app.chat.conversation.messages[start:]
    drawn = added[-MAX_DRAWN:]
    transcript.set_earlier(transcript.earlier + len(added) - len(drawn))
    views = [UserMessage(m) if m.role is Role.USER else AssistantMessage(m) for m in drawn]
    await transcript.add(*views)


async def send_and_time(app: ChatApp, pilot: Any, prompt: str) -> float:
    """From Enter until the reply's last token is on screen."""
    prompt_box = app.query_one(PromptInput)
    prompt_box.insert(prompt)
    started = time.perf_counter()
    await pilot.press("enter")
    while app.chat.is_streaming:  # noqa: ASYNC110 - polling is the measurement
        await asyncio.sleep(0.002)
    await pilot.pause()  # the final render has been drawn
    return time.perf_counter() - started


async def stalls_while(app: ChatApp, pilot: Any, prompt: str) -> tuple[float, float, float]:
    """Event-loop lateness of a 10 ms heartbeat while a reply streams: p99, max, and the lag."""
    lateness: list[float] = []
    box = app.query_one(PromptInput)
    box.insert(prompt)
    # Not pilot.press: it waits for the app to be idle, which it rarely is while streaming.
    box.action_submit()
    while not app.chat.is_streaming:  # noqa: ASYNC110 - polling is the measurement
        await asyncio.sleep(0.001)
    while app.chat.is_streaming:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lateness.append(time.perf_counter() - before - 0.01)
    ended = time.perf_counter()  # the reply's last text is set: the next frame shows it
    await pilot.pause(0.3)
    lag = min(f for f in frames if f >= ended) - TimedClient.last_token
    lateness.sort()
    return lateness[int(len(lateness) * 0.99)], lateness[-1], lag


# -- scenarios ------------------------------------------------------------------------------


def startup(runs: int) -> None:
    """A real terminal: launch to the first full frame, and to a typed key on screen."""
    first_frame: list[float] = []
    first_key: list[float] = []
    for _ in range(runs):
        main_fd, child_fd = pty.openpty()
        fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        data_dir = tempfile.mkdtemp(prefix="chat-tui-bench-")
        env = {**os.environ, "TERM": "xterm-256color", "CHAT_TUI_DATA_DIR": data_dir}
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "chat_tui"],
            stdin=child_fd,
            stdout=child_fd,
            stderr=child_fd,
            env=env,
            cwd=ROOT,
        )
        os.close(child_fd)
        output = b""
        waiting_for_key = False
        while time.perf_counter() - started < 20:
            ready, _, _ = select.select([main_fd], [], [], 0.005)
            if ready:
                output += os.read(main_fd, 65536)
            if not waiting_for_key and b"Enter sends" in output and b"palette" in output:
                first_frame.append(time.perf_counter() - started)
                os.write(main_fd, b"Q")
                waiting_for_key, output = True, b""
            elif waiting_for_key and b"Q" in output:
                first_key.append(time.perf_counter() - started)
                break
        os.write(main_fd, b"\x11")
        process.wait(timeout=10)
        os.close(main_fd)
    report("launch -> first full frame (real pty)", summary(first_frame))
    report("launch -> a typed key on screen (real pty)", summary(first_key))


async def full_speed(fast: Server, runs: int, sizes: tuple[int, ...]) -> None:
    for size in sizes:
        app_times = [
            await with_app(
                fast, lambda app, pilot, size=size: send_and_time(app, pilot, f"!long {size}")
            )
            for _ in range(runs)
        ]
        floor = [await bare_sdk(fast, f"!long {size}") for _ in range(runs)]
        ratio = statistics.median(app_times) / statistics.median(floor)
        report(f"{size} tokens at full speed: Enter -> last token on screen", summary(app_times))
        report(f"{size} tokens: bare SDK floor", summary(floor))
        report(f"{size} tokens: ratio to the floor", f"{ratio:.2f}x")


async def reasoning_then_answer(fast: Server, runs: int, tokens: int) -> None:
    """Reasoning streamed into the thinking block, then the answer: against the floor."""
    prompt = f"!think {tokens}"
    app_times = [
        await with_app(fast, lambda app, pilot: send_and_time(app, pilot, prompt))
        for _ in range(runs)
    ]
    floor = [await bare_sdk(fast, prompt) for _ in range(runs)]
    ratio = statistics.median(app_times) / statistics.median(floor)
    what = f"{tokens} tokens of reasoning, then {tokens} of answer"
    report(f"{what}: Enter -> last token on screen", summary(app_times))
    report(f"{what}: bare SDK floor", summary(floor))
    report(f"{what}: ratio to the floor", f"{ratio:.2f}x")


async def paced(slow: Server, runs: int, tokens: int) -> None:
    lags: list[float] = []
    for _ in range(runs):
        _, _, lag = await with_app(
            slow, lambda app, pilot: stalls_while(app, pilot, f"!code {tokens}")
        )
        lags.append(lag)
    report(f"150 tok/s, one {tokens}-token code block: lag after last token", summary(lags))


async def responsiveness(slow: Server, runs: int, tokens: int) -> None:
    for earlier in (0, 50, 200):
        p99s: list[float] = []
        maxes: list[float] = []
        for _ in range(runs):
            p99, worst, _ = await with_app(
                slow,
                lambda app, pilot: stalls_while(app, pilot, f"!long {tokens}"),
                earlier=earlier,
            )
            p99s.append(p99 * 1000)
            maxes.append(worst * 1000)
        report(f"loop stall while streaming, {earlier} earlier turns: p99", summary(p99s, "ms", 0))
        report(f"loop stall while streaming, {earlier} earlier turns: max", summary(maxes, "ms", 0))


async def long_conversations(fast: Server, runs: int) -> None:
    results: dict[int, list[float]] = {}
    for earlier in (0, 30, 200):
        results[earlier] = [
            await with_app(
                fast,
                lambda app, pilot: send_and_time(app, pilot, "!long 300"),
                earlier=earlier,
            )
            for _ in range(runs)
        ]
        report(f"300-token reply after {earlier} earlier turns", summary(results[earlier]))
    first = statistics.median(results[0])
    for earlier in (30, 200):
        ratio = statistics.median(results[earlier]) / first
        report(f"300-token reply: turn {earlier + 1} against turn 1", f"{ratio:.2f}x")


async def cpu_per_thousand(fast: Server, runs: int) -> None:
    per_thousand: list[float] = []
    for _ in range(runs):
        before = time.process_time()
        await with_app(fast, lambda app, pilot: send_and_time(app, pilot, "!long 4000"))
        per_thousand.append((time.process_time() - before) / 4)
    report("CPU seconds per 1,000 tokens rendered (whole app)", summary(per_thousand))


def peak_rss(runs: int) -> None:
    values = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, __file__, "--rss-child"], capture_output=True, text=True, check=True
        )
        values.append(float(result.stdout.strip().splitlines()[-1]))
    report("peak RSS with 1,000 messages in the transcript", summary(values, "MB", 0))


async def rss_child() -> None:
    app = ChatApp(Settings())
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):  # 500 turns, 1,000 messages, arriving as in a session
            await add_history(app, 10)
            await pilot.pause()
        await pilot.pause(0.5)
        app.query_one(Transcript).scroll_home(animate=False)
        await pilot.pause(0.5)
    print(peak_rss_mb())


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux from VmHWM: getrusage's figure survives
    fork and exec, so a child started by a big parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller replies")
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        await rss_child()
        return
    runs = 2 if args.quick else args.runs
    fast, slow = Server(), Server(tokens_per_second=150)
    try:
        print(f"chat-tui benchmark: {runs} runs each, terminal {SIZE[0]}x{SIZE[1]}")
        startup(runs)
        await full_speed(fast, runs, (2000, 8000))
        await reasoning_then_answer(fast, runs, 2000)
        await paced(slow, runs, 600 if args.quick else 1500)
        await responsiveness(slow, runs, 300 if args.quick else 600)
        await long_conversations(fast, runs)
        await cpu_per_thousand(fast, runs)
        peak_rss(runs)
    finally:
        fast.stop()
        slow.stop()


if __name__ == "__main__":
    asyncio.run(main())
