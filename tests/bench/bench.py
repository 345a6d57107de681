"""chat-tui's benchmark: prints figures, asserts nothing (the machines are noisy).

    python tests/bench/bench.py [--runs 5] [--quick] [--only NAME[,NAME...]]

Scenarios (names for --only): startup, full, reasoning, paced, code-lag, stalls, turns, table,
code, reopen, memory.

It starts the local OpenAI-compatible server in separate processes (at full speed and paced),
which log when each request arrived and when its reply ended. Every measurement of the app runs
in a fresh child process that drives the real app headless through Textual's Pilot (so each
scenario's peak memory is its own); the floor is a bare SDK script consuming the same stream, in
a child process too. Start-up is measured with chat-tui in a real pseudo-terminal. A figure is
the median of the runs, with min and max, next to the floor's where there is one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import pty
import re
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.widget import Widget

    from chat_tui.settings import Settings
    from chat_tui.tui.app import ChatApp
    from chat_tui.tui.widgets.messages import AssistantMessage

SIZE = (120, 40)
# A key typed into the message box this often while a huge reply renders or opens.
TYPING_INTERVAL = 0.25
# And for this long after the reply has ended (what its end leaves to do, e.g. collecting the
# garbage it left).
TYPING_AFTER = 1.5
# The turns cases run this many times the runs asked for: a 300-token reply at full speed takes
# either about 0.16 s or about 0.25 s (whether its reading ends before the live tail's first
# redraw or after it), at any length of conversation, and a median of five lands in either.
TURN_ROUNDS = 3
# A case that takes longer than this is cut short and reported as "> GIVE_UP s" (--give-up).
GIVE_UP = 120.0
# Each run's figures, by name; a figure is None where its run gave up.
Runs = list[dict[str, Any]]


# -- the servers, each in its own process -------------------------------------------------------


class Server:
    def __init__(self, workdir: Path, tokens_per_second: float | None = None) -> None:
        self.timings = workdir / f"timings-{tokens_per_second or 'full'}.jsonl"
        command = [sys.executable, str(ROOT / "tests" / "openai_server.py"), "--port", "0"]
        command += ["--timings", str(self.timings)]
        if tokens_per_second:
            command += ["--tps", str(tokens_per_second)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = re.search(r"(http://\S+)", first)
        if match is None:
            self.stop()
            raise RuntimeError(f"the server did not start: {first!r}")
        self.url = match.group(1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def server_times(timings: str, seen: int, wait: float = 10.0) -> dict[str, float]:
    """The server's log line for the first request after the `seen` it had logged: when it
    arrived and when its reply's last byte went out (time.time()). The server writes it just
    after that byte, which the client may have read already: wait a little for it."""
    deadline = time.time() + wait
    while True:
        lines = logged(timings)
        if len(lines) > seen:
            return json.loads(lines[seen])
        if time.time() > deadline:
            raise RuntimeError(f"the server logged no request in {timings}")
        time.sleep(0.01)


def logged(timings: str) -> list[str]:
    try:
        return Path(timings).read_text().splitlines()
    except FileNotFoundError:
        return []


# -- the parent: scenarios run as child processes, figures printed -------------------------------


@dataclass
class Bench:
    runs: int
    quick: bool
    workdir: Path
    servers: dict[float | None, Server] = field(default_factory=dict)

    def server(self, tokens_per_second: float | None = None) -> Server:
        """A server streaming at this rate (None: as fast as it can), started when first used."""
        if tokens_per_second not in self.servers:
            self.servers[tokens_per_second] = Server(self.workdir, tokens_per_second)
        return self.servers[tokens_per_second]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def env(self) -> dict[str, str]:
        """Nothing of the user's: config, data, logs and caches all in the bench's directory."""
        home = self.workdir / "home"
        return {
            **os.environ,
            "CHAT_TUI_CONFIG": str(home / "config.toml"),
            "CHAT_TUI_DATA_DIR": str(home / "data"),
            "CHAT_TUI_DISCOVER": "0",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "share"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
        }

    def child(self, measure: str, **args: Any) -> dict[str, Any]:
        """One measurement in a fresh process: its figures, with its peak memory."""
        spec = json.dumps({"measure": measure, "args": args, "give_up": GIVE_UP})
        command = [sys.executable, __file__, "--child", spec]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=self.env(),
                timeout=2 * GIVE_UP + 120,
            )
            output, problem = done.stdout, done.stderr if done.returncode else ""
        except subprocess.TimeoutExpired as expired:  # run() killed it
            output, problem = str(expired.stdout or ""), "it did not end"
        lines = [line for line in output.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"{measure} {args} failed: {problem[-2000:]}")
        return json.loads(lines[-1])

    def repeat(self, measure: str, **args: Any) -> Runs:
        return [self.child(measure, **args) for _ in range(self.runs)]

    def rotate(
        self, cases: dict[str, tuple[str, dict[str, Any]]], rounds: int = 1
    ) -> dict[str, Runs]:
        """The runs of several cases taken in turn (a, b, a, b, …), so a figure compared with
        another does not depend on what else the machine did meanwhile; `rounds` times the
        runs asked for."""
        runs: dict[str, Runs] = {name: [] for name in cases}
        for _ in range(self.runs * rounds):
            for name, (measure, args) in cases.items():
                runs[name].append(self.child(measure, **args))
        return runs


def summary(values: list[float | None], unit: str = "s", digits: int = 2) -> str:
    """Median (min-max); runs that gave up count as longer than GIVE_UP."""
    done = [v for v in values if v is not None]
    gave_up = len(values) - len(done)
    if not done:
        return f"> {GIVE_UP:.0f} s"
    text = f"{statistics.median(done):.{digits}f} {unit}"
    if len(done) > 1:
        text += f" ({min(done):.{digits}f}-{max(done):.{digits}f})"
    if gave_up:
        text += f", {gave_up} run(s) > {GIVE_UP:.0f} s"
    return text


def report(name: str, text: str) -> None:
    print(f"  {name:<58} {text}", flush=True)


# How a figure kept in seconds or megabytes is shown: the scale and the digits.
UNITS = {"s": (1.0, 2), "ms": (1000.0, 0), "MB": (1.0, 0)}


def figure(name: str, runs: Runs, key: str, unit: str = "s", per: float = 1.0) -> None:
    """The app's figure alone (no floor applies)."""
    report(name, summary(values(runs, key, unit, per), unit, UNITS[unit][1]))


def median(runs: Runs, key: str) -> float:
    done = [run[key] for run in runs if run[key] is not None]
    return statistics.median(done) if done else float("nan")


def against_floor(
    name: str, app: Runs, floor: Runs, key: str, unit: str = "s", per: float = 1.0
) -> None:
    """The app's figure, the floor's from the same run of the bench, and their ratio."""
    digits = UNITS[unit][1]
    mine, base = values(app, key, unit, per), values(floor, key, unit, per)
    text = f"{summary(mine, unit, digits):<24} floor {summary(base, unit, digits):<22}"
    ratio = median(app, key) / median(floor, key) if median(floor, key) > 0 else math.nan
    if math.isfinite(ratio):  # not where the app's runs gave up
        text += f" {ratio:.1f}x"
    report(name, text)


def values(runs: Runs, key: str, unit: str, per: float) -> list[float | None]:
    return [None if run[key] is None else run[key] * UNITS[unit][0] / per for run in runs]


# -- scenarios (parent side) --------------------------------------------------------------------


def startup(bench: Bench) -> None:
    """A real terminal: launch to the first full frame, and to a typed key on screen."""
    first_frame: list[float | None] = []
    first_key: list[float | None] = []
    for _ in range(bench.runs):
        frame, key = launch_in_pty(bench.env())
        first_frame.append(frame)
        first_key.append(key)
    report("launch -> first full frame (real pty)", summary(first_frame))
    report("launch -> a typed key on screen (real pty)", summary(first_key))


def launch_in_pty(env: dict[str, str]) -> tuple[float | None, float | None]:
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "chat_tui"],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        env={**env, "TERM": "xterm-256color"},
        cwd=ROOT,
    )
    os.close(child_fd)
    output = b""
    first_frame = first_key = None
    try:
        while time.perf_counter() - started < 20:
            ready, _, _ = select.select([main_fd], [], [], 0.005)
            if ready:
                output += os.read(main_fd, 65536)
            if first_frame is None and b"Enter sends" in output and b"palette" in output:
                first_frame = time.perf_counter() - started
                os.write(main_fd, b"Q")
                output = b""
            elif first_frame is not None and b"Q" in output:
                first_key = time.perf_counter() - started
                break
        os.write(main_fd, b"\x11")  # ctrl+q
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main_fd)
    return first_frame, first_key


def full_speed(bench: Bench) -> None:
    """Enter to the request at the server, to the first and the last text on screen."""
    fast = bench.server()
    for size in (2000,) if bench.quick else (2000, 8000):
        prompt = f"!long {size}"
        app = bench.repeat("reply", url=fast.url, timings=str(fast.timings), prompt=prompt)
        floor = bench.repeat("floor", url=fast.url, timings=str(fast.timings), prompt=prompt)
        what = f"{size:,} tokens, full speed"
        against_floor(f"{what}: Enter -> request at the server", app, floor, "to_request", "ms")
        against_floor(f"{what}: Enter -> first text on screen", app, floor, "first_text")
        against_floor(f"{what}: Enter -> last token on screen", app, floor, "last_text")
        against_floor(f"{what}: CPU s per 1,000 tokens", app, floor, "cpu", per=size / 1000)
        against_floor(f"{what}: peak RSS", app, floor, "peak_rss", "MB")


def reasoning_then_answer(bench: Bench) -> None:
    """Reasoning streamed into the thinking block, then the answer."""
    fast = bench.server()
    prompt = "!think 2000"
    app = bench.repeat("reply", url=fast.url, timings=str(fast.timings), prompt=prompt)
    floor = bench.repeat("floor", url=fast.url, timings=str(fast.timings), prompt=prompt)
    against_floor("2,000 reasoning + 2,000 answer: Enter -> last token", app, floor, "last_text")


def paced(bench: Bench) -> None:
    """A model's pace: what the app costs while it keeps up, and how far it trails."""
    slow = bench.server(200)
    prompt = "!long 1000"
    app = bench.repeat("reply", url=slow.url, timings=str(slow.timings), prompt=prompt)
    floor = bench.repeat("floor", url=slow.url, timings=str(slow.timings), prompt=prompt)
    against_floor("1,000 tokens at 200 tok/s: client CPU", app, floor, "cpu")
    against_floor("1,000 tokens at 200 tok/s: last token sent -> shown", app, floor, "lag", "ms")


def code_lag(bench: Bench) -> None:
    slow = bench.server(150)
    tokens = 600 if bench.quick else 1500
    app = bench.repeat("reply", url=slow.url, timings=str(slow.timings), prompt=f"!code {tokens}")
    figure(f"150 tok/s, one {tokens}-token code block: lag after last", app, "lag", "ms")


def stalls(bench: Bench) -> None:
    """Event-loop lateness of a 10 ms heartbeat while a reply streams, with a history."""
    slow = bench.server(150)
    prompt = f"!long {300 if bench.quick else 600}"
    for earlier in (0, 50, 200):
        runs = bench.repeat(
            "reply",
            url=slow.url,
            timings=str(slow.timings),
            prompt=prompt,
            earlier=earlier,
            heartbeat=True,
        )
        figure(f"loop stall while streaming, {earlier} earlier turns: p99", runs, "stall_p99", "ms")
        figure(f"loop stall while streaming, {earlier} earlier turns: max", runs, "stall_max", "ms")


def long_conversations(bench: Bench) -> None:
    fast = bench.server()
    common = {"url": fast.url, "timings": str(fast.timings), "prompt": "!long 300"}
    turns = (0, 30, 200)
    runs = bench.rotate(
        {
            "floor": ("floor", common),
            **{str(earlier): ("reply", {**common, "earlier": earlier}) for earlier in turns},
        },
        rounds=TURN_ROUNDS,
    )
    for earlier in turns:
        what = f"300-token reply after {earlier} earlier turns"
        against_floor(what, runs[str(earlier)], runs["floor"], "last_text")
    first = median(runs["0"], "last_text")
    for earlier in turns[1:]:
        ratio = median(runs[str(earlier)], "last_text") / first
        report(f"300-token reply: turn {earlier + 1} against turn 1", f"{ratio:.2f}x")


def huge_size(bench: Bench, kind: str) -> str:
    if kind == "table":
        return "200x20" if bench.quick else "2000x40"
    return "1000" if bench.quick else "10000"


def huge_prompt(kind: str, size: str) -> str:
    return f"!table {size}" if kind == "table" else f"!code {size} lines"


def huge_name(kind: str, size: str) -> str:
    if kind == "table":
        rows, columns = size.split("x")
        return f"{int(rows):,} x {columns} table"
    return f"{int(size):,}-line code block"


def huge_reply(bench: Bench, kind: str) -> None:
    """A huge reply streaming at full speed while a key is typed every TYPING_INTERVAL."""
    fast = bench.server()
    size = huge_size(bench, kind)
    prompt = huge_prompt(kind, size)
    app = bench.repeat("reply", url=fast.url, timings=str(fast.timings), prompt=prompt, typing=True)
    floor = bench.repeat("floor", url=fast.url, timings=str(fast.timings), prompt=prompt)
    what = huge_name(kind, size)
    against_floor(f"{what}: Enter -> last token on screen", app, floor, "last_text")
    figure(f"{what}: key echo while it streams, worst", app, "echo_worst", "ms")
    figure(f"{what}: key echo while it streams, p99", app, "echo_p99", "ms")
    figure(f"{what}: key echo in the {TYPING_AFTER:g} s after it, worst", app, "echo_after", "ms")
    against_floor(f"{what}: peak RSS", app, floor, "peak_rss", "MB")


def reopen(bench: Bench) -> None:
    """A saved conversation holding a huge reply, opened in a fresh app."""
    for kind in ("table", "code"):
        size = huge_size(bench, kind)
        runs = bench.repeat("reopen", kind=kind, size=size, url=bench.server().url)
        what = f"reopen a {huge_name(kind, size)}"
        figure(f"{what}: open -> shown", runs, "shown")
        figure(f"{what}: key echo meanwhile, worst", runs, "echo_worst", "ms")
        figure(f"{what}: peak RSS", runs, "peak_rss", "MB")


def memory(bench: Bench) -> None:
    runs = bench.repeat("history")
    figure("peak RSS with 1,000 messages in the transcript", runs, "peak_rss", "MB")


SCENARIOS: dict[str, Callable[[Bench], None]] = {
    "startup": startup,
    "full": full_speed,
    "reasoning": reasoning_then_answer,
    "paced": paced,
    "code-lag": code_lag,
    "stalls": stalls,
    "turns": long_conversations,
    "table": lambda bench: huge_reply(bench, "table"),
    "code": lambda bench: huge_reply(bench, "code"),
    "reopen": reopen,
    "memory": memory,
}


# -- the child: one measurement -----------------------------------------------------------------


def now() -> float:
    # Wall-clock time: the server, another process, says when things happened with it too.
    return time.time()


async def measure_floor(url: str, timings: str, prompt: str) -> dict[str, Any]:
    """The floor: the SDK streaming the same reply, printing each piece (to /dev/null) as a
    console script would, reasoning included."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url + "/v1", api_key="none", max_retries=0)
    seen = len(logged(timings))
    first: float | None = None
    cpu = time.process_time()
    call = now()
    with open(os.devnull, "w") as sink:  # noqa: ASYNC230 - as a console script prints
        stream = await client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": prompt}], stream=True
        )
        async with stream:
            async for chunk in stream:
                delta = chunk.choices[0].delta if chunk.choices else None
                extra = (delta.model_extra if delta else None) or {}
                text = delta and (delta.content or extra.get("reasoning_content"))
                if text:
                    sink.write(text)
                    sink.flush()
                    first = first or now()
    last = now()
    cpu = time.process_time() - cpu
    await client.close()
    server = server_times(timings, seen)
    return {
        "to_request": server["received"] - call,
        "first_text": (first or last) - call,
        "last_text": last - call,
        "lag": last - server["replied"],
        "cpu": cpu,
    }


class Frames:
    """The frames the app under test composes: when each was, and the first at which a
    condition held. Headless, a frame is composed but not written: composing it is the cost
    that counts."""

    def __init__(self, app: ChatApp) -> None:
        self.times: list[float] = []
        self.hooks: list[Callable[[float], None]] = []
        self._waiting: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        draw = app._display

        def timed_display(screen: Any, update: Any) -> None:
            draw(screen, update)
            if update is None:
                return
            at = now()
            self.times.append(at)
            for hook in self.hooks:
                hook(at)
            self._waiting = [(c, f) for c, f in self._waiting if not self._held(c, f, at)]

        app._display = timed_display  # type: ignore[method-assign]

    def first(self, condition: Callable[[], bool]) -> asyncio.Future[float]:
        """When the first frame composed while `condition()` holds was (checked per frame, so
        it must be cheap most of the time)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, future))
        return future

    @staticmethod
    def _held(condition: Callable[[], bool], future: asyncio.Future[float], at: float) -> bool:
        if future.done():
            return True
        try:
            held = condition()
        except Exception:
            held = False  # a widget not there yet, or gone
        if held:
            future.set_result(at)
        return held


async def within(future: asyncio.Future[float], seconds: float) -> float | None:
    """The future's time, or None when it did not come in `seconds`."""
    try:
        return await asyncio.wait_for(asyncio.shield(future), max(seconds, 0.0))
    except TimeoutError:
        return None


def shows_text(app: ChatApp, widget: Widget) -> bool:
    """Whether some of `widget`'s text is on screen, not only its place. Renders the screen's
    lines: call it only once cheaper conditions hold."""
    geometry = app.screen.find_widget(widget)
    region = geometry.region.intersection(geometry.clip)
    if not region:
        return False
    # Only the lines of what overlaps the widget are composed: the whole screen would cost
    # more the more it shows, and the check runs in the frames it measures.
    chops = app.screen._compositor._render_chops(region, lambda y: True)
    return any(
        strip.text[max(region.x - x, 0) : region.right - x].strip()
        for chop in chops[region.y : region.bottom]
        for x, strip in chop.items()
        if strip is not None
    )


class ReplyOnScreen:
    """The reply that follows the message sent: when its first text shows, when it has ended."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        self.before = len(app.chat.conversation.messages)
        self._widget: AssistantMessage | None = None

    def widget(self) -> AssistantMessage | None:
        from chat_tui.tui.widgets.messages import AssistantMessage

        if self._widget is None:
            messages = self.app.chat.conversation.messages[self.before :]
            reply = next((m for m in messages if m.role.value == "assistant"), None)
            if reply is not None:
                drawn = self.app.query(AssistantMessage)
                self._widget = next((w for w in drawn if w.reply is reply), None)
        return self._widget

    def shows_text(self) -> bool:
        from chat_tui.tui.widgets.reply_body import ReplyBody

        widget = self.widget()
        if widget is None or not widget.reply.content:
            return False
        return shows_text(self.app, widget.query_one(ReplyBody))

    def ended(self) -> bool:
        """The reply has ended and its last text is drawn."""
        from chat_tui.reply_state import ReplyState
        from chat_tui.tui.widgets.reply_body import ReplyBody

        widget = self.widget()
        if widget is None or widget.state is ReplyState.STREAMING:
            return False
        return not widget.query_one(ReplyBody).behind


class Typist:
    """Types a key into the message box every TYPING_INTERVAL, from a thread of its own as a
    terminal's input thread does: a busy event loop delays the echo, not the typing. A key's
    echo is the first frame composed once the box holds it. The key is one no prompt here
    has, so the count is right whether or not the box still holds the prompt."""

    KEY = "z"

    def __init__(self, app: ChatApp, frames: Frames, *, at_once: bool = False) -> None:
        from chat_tui.tui.widgets.prompt import PromptInput

        self.at_once = at_once
        self.app = app
        self.box = app.query_one(PromptInput)
        self.sent: list[float] = []
        self.echoes: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._type, daemon=True)
        frames.hooks.append(self._frame)

    def start(self) -> None:
        self._thread.start()

    def _type(self) -> None:
        from textual import events

        driver = self.app._driver
        assert driver is not None
        # The first at once when asked: a case over within TYPING_INTERVAL still has a key
        # to echo (a reply is typed over from a quarter second in, as before).
        if not self.at_once and self._stop.wait(TYPING_INTERVAL):
            return
        while True:
            key = events.Key(self.KEY, self.KEY)
            key.set_sender(self.app)
            self.sent.append(now())
            driver.send_message(key)
            if self._stop.wait(TYPING_INTERVAL):
                break

    def _frame(self, at: float) -> None:
        shown = min(self.box.text.count(self.KEY), len(self.sent))
        while len(self.echoes) < shown:
            self.echoes.append(at - self.sent[len(self.echoes)])

    def stop(self, until: float | None = None) -> dict[str, float | None]:
        """The worst and the 99th-percentile echo of the keys typed `until` then (default:
        all), and the worst of those typed after it; a key not echoed yet counts as waiting
        since it was typed."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        ended = now()
        delays = self.echoes + [ended - sent for sent in self.sent[len(self.echoes) :]]
        until = ended if until is None else until
        before = sorted(d for d, sent in zip(delays, self.sent, strict=True) if sent <= until)
        after = [d for d, sent in zip(delays, self.sent, strict=True) if sent > until]
        return {
            "echo_worst": before[-1] if before else None,
            "echo_p99": before[int(len(before) * 0.99)] if before else None,
            "echo_after": max(after) if after else None,
        }


def press(app: ChatApp, key: str, character: str | None) -> None:
    """A key as the terminal sends it (Pilot's press would wait for the app to be idle,
    which it rarely is while a reply streams)."""
    from textual import events

    event = events.Key(key, character)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


async def heartbeat(lateness: list[float]) -> None:
    """How late a 10 ms sleep wakes: how long input would wait for the event loop."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lateness.append(time.perf_counter() - before - 0.01)


def settings_for(url: str) -> Settings:
    from chat_tui.settings import Provider, Settings

    return Settings(provider=Provider.COMPATIBLE, endpoint=url + "/v1", model="fake-model")


async def measure_reply(
    url: str,
    timings: str,
    prompt: str,
    earlier: int = 0,
    typing: bool = False,
    heartbeat: bool = False,
) -> dict[str, Any]:
    """One reply in a fresh app, from Enter: the request at the server, the first and the last
    text on screen, the CPU used meanwhile; optionally key echo or event-loop stalls."""
    from chat_tui.client import ChatClient
    from chat_tui.tui.app import ChatApp

    app = ChatApp(settings_for(url), client=ChatClient())
    frames = Frames(app)
    async with app.run_test(size=SIZE):
        await prewarmed(app)
        await quiet()
        if earlier:
            await add_history(app, earlier)
            await quiet()  # measure the reply, not the drawing of the history
        figures = await send(app, frames, timings, prompt, typing, heartbeat)
    return figures


async def send(
    app: ChatApp, frames: Frames, timings: str, prompt: str, typing: bool, beat: bool
) -> dict[str, Any]:
    from chat_tui.tui.widgets.prompt import PromptInput

    app.query_one(PromptInput).insert(prompt)
    reply = ReplyOnScreen(app)
    first_text, ended = frames.first(reply.shows_text), frames.first(reply.ended)
    typist = Typist(app, frames) if typing else None
    lateness: list[float] = []
    seen = len(logged(timings))
    cpu = time.process_time()
    enter = now()
    press(app, "enter", "\r")
    beating = asyncio.create_task(heartbeat(lateness)) if beat else None
    if typist is not None:
        typist.start()
    try:
        end = await within(ended, GIVE_UP)
    finally:
        cpu = time.process_time() - cpu
        if typist is not None and end is not None:
            await asyncio.sleep(TYPING_AFTER)  # what the reply's end leaves to do
        echo = typist.stop(until=end) if typist is not None else {}
        if beating is not None:
            beating.cancel()
    shown = await within(first_text, 0 if end is None else 1)
    server = server_times(timings, seen) if end is not None else None
    lateness.sort()
    return {
        "to_request": server["received"] - enter if server else None,
        "first_text": shown - enter if shown is not None else None,
        "last_text": end - enter if end is not None else None,
        "lag": end - server["replied"] if server and end is not None else None,
        "cpu": cpu if end is not None else None,
        "stall_p99": lateness[int(len(lateness) * 0.99)] if lateness else None,
        "stall_max": lateness[-1] if lateness else None,
        **echo,
    }


async def measure_reopen(kind: str, size: str, url: str) -> dict[str, Any]:
    """Open a saved conversation holding a huge reply, as picking it from the list does, in a
    fresh app: until the reply shows, with a key typed meanwhile."""
    from chat_tui.client import ChatClient
    from chat_tui.store import AsyncStore, Store
    from chat_tui.tui.app import ChatApp
    from tests.openai_server import default_reply

    prompt = huge_prompt(kind, size)
    text = default_reply({"messages": [{"role": "user", "content": prompt}]}).content
    path = Path(os.environ["CHAT_TUI_DATA_DIR"]) / f"reopen-{os.getpid()}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = Store(path)
    conversation = saved.create_conversation(prompt, "")
    saved.add_message(conversation, "user", prompt, "complete")
    saved.add_message(conversation, "assistant", str(text), "complete")
    saved.close()

    app = ChatApp(settings_for(url), client=ChatClient(), store=AsyncStore(lambda: Store(path)))
    frames = Frames(app)
    async with app.run_test(size=SIZE):
        while not app.store.is_open:  # noqa: ASYNC110 - the app opens it in a worker
            await asyncio.sleep(0.01)
        await quiet()
        shown = frames.first(lambda: reopened(app, conversation))
        typist = Typist(app, frames, at_once=True)
        opened = now()
        app.chat.call_later(app.chat.open_conversation, conversation)
        typist.start()
        try:
            at = await within(shown, GIVE_UP)
        finally:
            echo = typist.stop()
    return {"shown": at - opened if at is not None else None, **echo}


def reopened(app: ChatApp, conversation: int) -> bool:
    from chat_tui.tui.widgets.messages import AssistantMessage
    from chat_tui.tui.widgets.reply_body import ReplyBody

    if app.chat.conversation.id != conversation:
        return False
    reply = next(iter(app.query(AssistantMessage)), None)
    return reply is not None and shows_text(app, reply.query_one(ReplyBody))


async def measure_history() -> dict[str, Any]:
    """1,000 messages arriving as in a long session, then scrolled through to the top."""
    from chat_tui.settings import Settings
    from chat_tui.tui.app import ChatApp
    from chat_tui.tui.widgets.transcript import Transcript

    app = ChatApp(Settings())
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):  # 500 turns
            await add_history(app, 10)
            await pilot.pause()
        await pilot.pause(0.5)
        app.query_one(Transcript).scroll_home(animate=False)
        await pilot.pause(0.5)
    return {}


async def prewarmed(app: ChatApp, limit: float = 15.0) -> None:
    """Wait until the SDK is loaded and its client built (in a thread, after the first frame),
    as they are long before a person has typed a message. A thread holding the interpreter
    lock now and then does not stall the event loop enough for `quiet` to see it."""
    deadline = time.perf_counter() + limit
    while app.client._warm is None and time.perf_counter() < deadline:  # noqa: ASYNC110 - set by a thread
        await asyncio.sleep(0.01)


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
    from chat_tui.conversation import Role
    from chat_tui.reply_state import ReplyState
    from chat_tui.tui.widgets.messages import AssistantMessage, UserMessage
    from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript

    text = "## A heading\n\nSome **bold** text and `code`.\n\n- one\n- two\n\n" * 3
    conversation = app.chat.conversation
    start = len(conversation.messages)
    for n in range(turns):
        conversation.add_user(f"question {n}")
        reply = conversation.begin_reply()  # the tree's API: it answers the question
        reply.content, reply.state = text, ReplyState.COMPLETE
    transcript = app.query_one(Transcript)
    added = conversation.messages[start:]
    drawn = added[-MAX_DRAWN:]
    transcript.set_earlier(transcript.earlier + len(added) - len(drawn))
    views = [UserMessage(m) if m.role is Role.USER else AssistantMessage(m) for m in drawn]
    await transcript.add(*views)
    # As after any reply: the status line shows (it takes a line), and the turns are saved
    # (the reply measured saves only what it adds).
    app.chat._show_totals()
    deadline = time.perf_counter() + 15
    while not app.store.is_open and time.perf_counter() < deadline:  # noqa: ASYNC110 - opened by a worker
        await asyncio.sleep(0.01)
    await app.chat.save()


MEASURES: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "floor": measure_floor,
    "reply": measure_reply,
    "reopen": measure_reopen,
    "history": measure_history,
}


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


async def child(spec: dict[str, Any]) -> None:
    global GIVE_UP  # the parent's --give-up
    GIVE_UP = spec["give_up"]
    figures = await MEASURES[spec["measure"]](**spec["args"])
    figures["peak_rss"] = peak_rss_mb()
    print(json.dumps(figures), flush=True)


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    global GIVE_UP  # --give-up: one setting for every scenario and its children
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller replies, and 2 runs unless --runs says"
    )
    parser.add_argument(
        "--only", default="", metavar="NAME[,NAME]", help=f"only: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--give-up",
        type=float,
        default=GIVE_UP,
        metavar="SECONDS",
        help=f"cut a case short after this long (default {GIVE_UP:.0f})",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(child(json.loads(args.child)))
        return
    names = [name.strip() for name in args.only.split(",") if name.strip()] or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario {', '.join(unknown)}; there are {', '.join(SCENARIOS)}")
    GIVE_UP = args.give_up
    runs = args.runs or (2 if args.quick else 5)
    # ctrl+c (explicitly: a shell may start background jobs with SIGINT ignored, which the
    # children would inherit) and a kill still stop the servers and remove the directory.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with tempfile.TemporaryDirectory(prefix="chat-tui-bench-") as workdir:
        bench = Bench(runs, args.quick, Path(workdir))
        try:
            print(f"chat-tui benchmark: {runs} run(s) each, terminal {SIZE[0]}x{SIZE[1]}")
            print(f"  {'':<58} {'median (min-max)':<24} floor of the same run")
            for name in names:
                try:
                    SCENARIOS[name](bench)
                except RuntimeError as failure:  # a child failed: say so, go on with the rest
                    print(f"  {name}: {failure}", flush=True)
        finally:
            with contextlib.suppress(Exception):
                bench.stop()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # everything is cleaned up already: no traceback
