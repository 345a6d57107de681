"""`chat-tui console`: the loop of Azure's "OpenAI chat streaming" console samples, better.

A multi-turn chat in the normal terminal, line by line (no alternate screen): `User: ` and a
line with editing and history, then `Assistant: ` and the reply as it streams. The samples'
contract holds (an empty line or `exit` quits, the same variables and system prompt), and the
rest is the app's: settings, retries, fault wording, the `/` commands, and the conversation saved
where the app finds it. UI-free: Textual is never imported; Rich only with --render.

The reply is streamed with `ask`'s pieces (ask.py); what is new here is the loop around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chat_tui import compaction
from chat_tui.ask import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNFINISHED,
    EXIT_USAGE,
    Output,
    Reply,
    UsageError,
    configured,
    console_client,
    exit_status,
    read_attachments,
    say,
    silence_stdout,
    stream_into,
)
from chat_tui.conversation import Conversation, Message, Role
from chat_tui.events import Adapted, ReplyStarted
from chat_tui.export import to_json, to_markdown, write_export
from chat_tui.failures import log_path, record, summary
from chat_tui.input_history import HISTORY_SIZE
from chat_tui.learned import Learned, Lesson
from chat_tui.model_info import EFFORTS
from chat_tui.recorder import Recorder, restored
from chat_tui.reply_outcome import ReplyOutcome
from chat_tui.slash import SLASH_HELP, SLASHES, SlashError, as_message, is_command, parse
from chat_tui.store import AsyncStore, Store, StoreError
from chat_tui.text import one_line, visible

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Coroutine, Iterable
    from types import ModuleType

    from chat_tui.attachments import Attachment
    from chat_tui.events import StreamEvent
    from chat_tui.settings import Settings
    from chat_tui.settings_sources import Resolved
    from chat_tui.slash import Call

PROMPT = "User: "
MORE = "... "  # the prompt of a line that a `\` at the end of the last one continues
ANSWER = "Assistant: "
QUIT = "exit"
SAVE_EVERY = 1.0  # seconds between saves of a streaming reply
DIM, UNDIM = "\x1b[2m", "\x1b[22m"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # what Rich writes of colour and style
# What the console does not do of the app's commands, and why (said when one is typed).
NOT_HERE = {"copy": "select the text in your terminal to copy it"}
# Where the console's command differs from the app's (the help line is the app's otherwise).
CONSOLE_HELP = {
    "system": "Set the system prompt (for this conversation); alone, show it",
    "clear": "Start a new conversation; the system prompt stays (the old one stays saved)",
    "help": "This help",
    "compact": "Summarise the older turns: later requests carry the summary in their place "
    "(the turns stay saved)",
}

# For `chat-tui console --help`; kept under 70 columns like the main help.
CONSOLE_EPILOG = """\
Type a message after "User: " and press Enter. A line ending in \\
goes on on the next line, and a paste of several lines is one
message. Up and down recall earlier messages (the app's too). The
/ commands are the app's (/help lists them). The conversation is
saved as the app saves it: open it there with --continue, and
carry on with the app's last one with chat-tui console --continue.

An empty line, exit or ctrl+d quits; ctrl+c stops a reply (what
arrived is kept) and, at the prompt, quits. When stdin is not a
terminal, each line is a message until the end of input, and the
replies go to stdout as with ask.

exit status:
  0    quit with an empty line, exit or ctrl+d
  1    stdin not a terminal: a request failed
  2    not configured: nothing was sent
  3    stdin not a terminal: a reply was cut off, filtered or
       ended without a finish reason
  130  ctrl+c at the prompt
  141  stdout was closed (| head)"""


class ConsoleOutput(Output):
    """A reply on the terminal: its text as it arrives, or (--render) each Markdown block once
    it is complete; the model's thinking dimmed before it. Nothing printed is rewritten."""

    def __init__(self, stdout: TextIO, *, render: bool, show_reasoning: bool) -> None:
        super().__init__(stdout, as_json=False)
        self.render = render
        self.show_reasoning = show_reasoning and self.on_terminal
        self._thinking = False  # the reasoning is being shown, dimmed
        self._text = ""  # --render: what arrived and is not printed yet
        self._blocks = 0  # --render: the blocks printed of this reply
        self._rich: Any = None  # --render: Rich's Console, made on first use
        self._prefix = ""  # "Assistant: ", at a terminal
        self._bare = False  # the prefix is all there is on the line
        self._again = False  # a notice came between the prefix and the text: say it again

    def begin(self, prefix: str = "") -> None:
        """A reply starts: `prefix` goes first (and again, should a notice come before the
        reply's first text)."""
        self._thinking, self._text, self._blocks, self._again = False, "", 0, False
        self._prefix = prefix
        if prefix:
            self.stdout.write(prefix if not self.render else prefix.rstrip() + "\n")
            self.stdout.flush()
            self._open_line = self._bare = not self.render

    def end_line(self) -> None:
        if self._bare and self._open_line:
            self._again = True  # only the prefix is on the line: a notice is to follow
        super().end_line()

    def _prefix_again(self) -> None:
        self._bare = False
        if self._again:
            self._again = False
            self.stdout.write(self._prefix)
            self._open_line = True

    def reasoning(self, text: str) -> None:
        if not self.show_reasoning or not text:
            return
        self._prefix_again()
        self.stdout.write(f"{DIM}{visible(text)}{UNDIM}")
        self.stdout.flush()
        self._thinking = True
        self._open_line = not text.endswith("\n")

    def write(self, text: str) -> None:
        if self._thinking:  # the answer starts apart from the thinking, after a blank line
            self._thinking = False
            self.end_line()
            self.stdout.write("\n")
        self._prefix_again()
        if not self.render:
            super().write(text)
            return
        self._text += text
        if "\n" in text and (done := complete_blocks(self._text)):
            self._print_blocks(self._text[:done])
            self._text = self._text[done:]

    def finish(self) -> None:
        """The reply ended (or was stopped): what is left of it, then a new line."""
        if self.render and self._text.strip():
            self._print_blocks(self._text)
        self._text = ""
        self.end_line()

    def _print_blocks(self, text: str) -> None:
        from rich.console import Console  # only with --render: the plain loop starts faster

        from chat_tui.markdown_render import TranscriptMarkdown

        if self._rich is None:
            self._rich = Console(file=self.stdout, highlight=False, soft_wrap=False)
        with self._rich.capture() as captured:
            self._rich.print(TranscriptMarkdown(text))  # made visible, as in the app
        # Rich opens a list, and pads a code block, with blank lines: one blank line between
        # blocks printed apart, as between blocks printed together.
        lines = captured.get().splitlines()
        while lines and not _plain(lines[0]).strip():
            lines.pop(0)
        while lines and not _plain(lines[-1]).strip():
            lines.pop()
        if self._blocks:
            self.stdout.write("\n")
        self.stdout.write("".join(f"{line}\n" for line in lines))
        self.stdout.flush()
        self._blocks += 1
        self._open_line = False


def _plain(line: str) -> str:
    """A rendered line without its colours."""
    return SGR.sub("", line)


def complete_blocks(text: str) -> int:
    """How much of `text` (a reply's rest, which starts outside any block) is whole Markdown
    blocks that nothing after them can change: 0 when none is yet.

    `settle_point` also cuts inside a long code block or table (the app draws those in pieces);
    here a block is printed whole, so such a cut moves back to where the block begins.
    """
    from chat_tui.markdown_render import settle_point  # Rich: only with --render

    cut = settle_point(text, 1)
    while cut.reopen:
        start = text.rfind(cut.reopen, 0, cut.index)
        if start < 0 or start + len(cut.reopen) >= len(text):
            return 0
        text = text[: start + len(cut.reopen)]  # up to the block's opening line(s)
        cut = settle_point(text, 1)
    return cut.index


def _line_editing() -> ModuleType | None:
    """The standard library's readline, where this Python has it (not on Windows)."""
    try:
        import readline
    except ImportError:
        return None
    # A paste arrives as one line, new lines and all: one message. GNU readline only: libedit
    # (macOS) has a syntax of its own, and no such variable.
    if "libedit" not in (readline.__doc__ or ""):
        readline.parse_and_bind("set enable-bracketed-paste on")
    readline.set_auto_history(False)  # whole messages are added, not each continued line
    return readline


class Prompter:
    """The user's messages: at a terminal with line editing and history; else line by line."""

    def __init__(self, stdin: TextIO, *, interactive: bool) -> None:
        self.stdin = stdin
        reconfigure = getattr(stdin, "reconfigure", None)
        if reconfigure is not None:
            # One odd byte (a paste, a piped file) must not cost the message, as with ask.
            reconfigure(errors="replace")
        self.interactive = interactive
        self.readline = _line_editing() if interactive else None

    def remember(self, prompts: Iterable[str]) -> None:
        """Earlier messages (the app's too), for up and down."""
        if self.readline is not None:
            for prompt in prompts:
                if prompt.strip():
                    self.readline.add_history(prompt)

    def read(self) -> str | None:
        """The next message, lines ended by `\\` joined to the next; None at the end of input.

        At a terminal, ctrl+c raises KeyboardInterrupt (the caller quits with 130).
        """
        lines: list[str] = []
        while True:
            line = self._line(MORE if lines else PROMPT)
            if line is None:
                return "\n".join(lines) if lines else None
            if not line.endswith("\\"):
                break
            lines.append(line[:-1])
        text = "\n".join([*lines, line])
        if self.readline is not None and text.strip():
            self.readline.add_history(text)
        return text

    def _line(self, prompt: str) -> str | None:
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = self.stdin.readline()
        return line.rstrip("\r\n") if line else None


@dataclass
class Session:
    """What the console keeps between turns."""

    resolved: Resolved
    profile: str | None
    conversation: Conversation
    output: ConsoleOutput
    stderr: TextIO
    profiles: Collection[str] = ()
    switch_profile: Callable[[str], Resolved] | None = None
    attachments: list[Attachment] = field(default_factory=list)  # for the next message
    worst: int = EXIT_OK  # the exit status for a run without a terminal

    @property
    def settings(self) -> Settings:
        return self.resolved.settings


class Console:
    """The loop's asynchronous side: the store, the client and each reply."""

    def __init__(self, session: Session, database: Path | None) -> None:
        self.session = session
        self.database = database
        self.store = AsyncStore(lambda: Store(database))
        self.recorder = Recorder(self.store, lambda message: say(session.stderr, message))
        self.client = console_client(session.settings)
        self._background: set[asyncio.Task[None]] = set()  # saves and lessons being written

    async def open(self, *, resume: bool) -> list[str]:
        """Open the store (in memory if it cannot be used: the chat goes on) and the last
        conversation if asked; the earlier prompts, for the history."""
        session = self.session
        try:
            await self.store.open()
            prompts = await self.store.recent_prompts(HISTORY_SIZE)
            self.client.learned.load(await self.store.lessons())
        except StoreError as exc:
            say(session.stderr, f"{exc}; this chat is not saved")
            await self.store.close()
            self.store = AsyncStore(lambda: Store(None))
            self.recorder = Recorder(self.store, lambda message: say(session.stderr, message))
            await self.store.open()
            return []
        if resume:
            await self._resume()
        return prompts

    async def _resume(self) -> None:
        session = self.session
        latest = await self.store.latest_id()
        if latest is None:
            say(session.stderr, "no saved conversation to continue: this is a new one")
            return
        stored = await self.store.load(latest)
        conversation, _ = restored(stored)
        self.recorder.adopt(conversation)
        session.conversation = conversation
        shown = conversation.shown
        told = (
            f"Continuing conversation {stored.id}, {one_line(stored.title)} ({len(shown)} messages)"
        )
        output = session.output
        if not output.on_terminal:  # stdout has the replies only, as with ask
            say(session.stderr, told)
            return
        output.stdout.write(told + "\n")
        for message in shown[-2:]:  # the last exchange, to pick up the thread
            who = PROMPT if message.role is Role.USER else ANSWER
            text = message.content or f"({message.state.note.rstrip('.').lower()})"
            output.stdout.write(f"{who}{visible(text)}\n")
        output.stdout.flush()

    async def save(self) -> None:
        session = self.session
        await self.recorder.save(session.conversation, session.settings, session.resolved.profile)

    async def ask(self, *, interactive: bool) -> Message:
        """Ask for a reply to the conversation as it stands, streamed to the terminal.

        Ctrl+C (the task cancelled) stops it: what arrived is kept, and the chat goes on.
        """
        session = self.session
        conversation, output = session.conversation, session.output
        messages = conversation.request_messages(detail=session.settings.image_detail)
        if left_out := conversation.images_left_out():
            say(session.stderr, f"{left_out} of the earliest images are left out of this request")
        message = conversation.begin_reply()
        await self.save()
        reply = Reply()
        saved = time.monotonic()

        def seen(event: StreamEvent) -> None:
            nonlocal saved
            self._learn(event)
            message.content, message.reasoning = reply.text, reply.reasoning
            # As the app does: a reply is saved as it streams, so a killed process loses at
            # most a second of it.
            if time.monotonic() - saved >= SAVE_EVERY and not self.recorder.busy:
                saved = time.monotonic()
                self._in_background(self.save())

        output.begin(ANSWER if interactive else "")
        try:
            await stream_into(
                reply, self.client, session.settings, messages, output, session.stderr, seen
            )
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # stopped: the chat goes on
        output.finish()
        message.content, message.reasoning = reply.text, reply.reasoning
        message.state, message.stats, message.error = reply.state, reply.stats(), reply.error
        status = exit_status(reply, session.stderr)  # says how it ended, if worth a word
        if reply.stopped:
            say(session.stderr, "Stopped: what arrived is kept.")
        session.worst = max(session.worst, status, key=_severity)
        await self.save()
        return message

    def _learn(self, event: StreamEvent) -> None:
        """Keep what the server taught about its model for the next run, as the app does."""
        settings = self.session.settings
        match event:
            case ReplyStarted(model):
                lesson, value = Lesson.SERVES.value, model
            case Adapted(lesson, value, _):
                pass
            case _:
                return
        endpoint, name = Learned.key(settings)
        if lesson == Lesson.SERVES.value and value == name:
            return
        self._in_background(self._store_lesson(endpoint, name, lesson, value))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)  # kept, or it could be collected before it is done
        task.add_done_callback(self._background.discard)

    async def _store_lesson(self, endpoint: str, model: str, lesson: str, value: str) -> None:
        with contextlib.suppress(StoreError):  # a lesson is learned again next time
            await self.store.learn(endpoint, model, lesson, value)

    async def retry(self, *, interactive: bool) -> None:
        conversation = self.session.conversation
        if not conversation.can_retry:
            say(self.session.stderr, "Nothing to retry yet: send a message first.")
            return
        # A new branch, as in the app: the reply it replaces stays beside it.
        replaced = conversation.branch_last_reply()
        attempt = await self.ask(interactive=interactive)
        if replaced is not None and not attempt.content:
            # Nothing came: the conversation goes on from the reply it was to replace.
            conversation.show(replaced)
            await self.save()

    async def export(self, format: str) -> None:
        session = self.session
        await self.save()
        if session.conversation.id is None:
            session.output.stdout.write("Nothing to export yet: send a message first.\n")
            return
        stored = await self.store.load(session.conversation.id)
        text = to_json(stored) if format == "json" else to_markdown(stored)
        wanted = Path.cwd() / f"chat-{stored.id}.{format}"
        try:
            # Never over a file already there: the next free name.
            path = await asyncio.to_thread(write_export, wanted, text, overwrite=False)
        except OSError as exc:
            say(session.stderr, f"could not write {wanted}: {exc.strerror or exc}")
            return
        session.output.stdout.write(f"Exported to {visible(str(path))}\n")

    async def compact(self) -> None:
        """Summarise the older turns, as the app does: later requests carry the summary in
        their place. Ctrl+C stops it; only a complete summary changes anything."""
        session = self.session
        conversation = session.conversation
        plan = conversation.compaction()
        if plan is None:
            say(session.stderr, compaction.too_short())
            return
        say(session.stderr, f"Summarising {len(plan.messages)} earlier messages (ctrl+c stops)")
        outcome = ReplyOutcome()
        summary = ""
        try:
            summary = await compaction.read_summary(
                self.client.stream(session.settings, plan.request), outcome
            )
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # stopped: the chat goes on
            outcome.stopped = True
        if problem := compaction.not_kept(outcome, summary):
            say(session.stderr, problem)
            return
        conversation.compact(plan.through, summary)
        await self.save()
        say(
            session.stderr,
            f"{len(plan.messages)} earlier messages summarised: the next requests carry the "
            "summary in their place.",
        )

    async def close(self) -> None:
        await asyncio.gather(*self._background)
        await self.save()
        await self.client.close()
        await self.store.close()


def _severity(status: int) -> int:
    """Which status a run without a terminal ends with: a failure over a cut-off reply."""
    return {EXIT_OK: 0, EXIT_UNFINISHED: 1, EXIT_FAILED: 2}.get(status, 0)


def help_text() -> str:
    """The console's help: its keys, then the app's commands, from the same table."""
    lines = [
        "Enter sends; a line ending in \\ goes on on the next; a paste is one message.",
        "Up and down recall earlier messages. An empty line, exit or ctrl+d quits;",
        "ctrl+c stops a reply (what arrived is kept), or quits at the prompt.",
        "",
    ]
    shown = [slash for slash in SLASHES if slash.word not in NOT_HERE]
    width = max(len(slash.usage) for slash in shown)
    for slash in shown:
        lines.append(f"  {slash.usage:<{width}}  {CONSOLE_HELP.get(slash.word, slash.help)}")
    lines.append(SLASH_HELP.replace("Tab completes, Enter runs; ", "") + ".")
    return "\n".join(lines) + "\n"


def next_effort(current: str | None) -> str:
    """The reasoning effort after `current`, the model's own default ("") after the last."""
    order = ("", *EFFORTS)
    return order[(order.index(current or "") + 1) % len(order)] if current in order else ""


def command(console: Console, runner: asyncio.Runner, call: Call, *, interactive: bool) -> None:
    """Run one of the app's `/` commands, as the console does it."""
    session = console.session
    stdout = session.output.stdout

    def tell(text: str) -> None:
        stdout.write(visible(text) + "\n")
        stdout.flush()

    def change(**changes: object) -> None:
        session.resolved.settings = session.settings.with_changes(**changes)

    match call.action, call.args:
        case "clear", _:
            runner.run(console.save())
            session.conversation = Conversation(session.conversation.system_prompt)
            tell("Cleared: a new conversation (the last one stays saved).")
        case "retry", _:
            runner.run(console.retry(interactive=interactive))
        case "compact", _:
            runner.run(console.compact())
        case "export", (str(format),):
            runner.run(console.export(format))
        case "help", _:
            stdout.write(help_text())
        case "edit_system_prompt", _:
            tell(f"System prompt: {session.conversation.system_prompt or '(none)'}")
        case "set_system_prompt", (str(text),):
            session.conversation.system_prompt = text
            change(system_prompt=text)
            tell("System prompt set.")
        case "set_model", (str(name),):
            change(model=name)
            tell(f"Model: {one_line(name)} from the next message on.")
        case "cycle_effort" | "set_effort", args:
            effort = str(args[0]) if args else next_effort(session.settings.reasoning_effort)
            change(reasoning_effort=effort or None)
            tell(f"Reasoning effort: {effort or 'the model default'} from the next message on.")
        case "use_profile", (str(name),) if session.switch_profile is not None:
            resolved = session.switch_profile(name)
            for problem in resolved.problems:
                say(session.stderr, problem)
            if missing := resolved.settings.problems():
                for problem in missing:
                    say(session.stderr, problem)
                return
            session.resolved = resolved
            session.profile = name
            session.output.show_reasoning = (
                resolved.settings.show_reasoning and session.output.on_terminal
            )
            tell(f"Profile: {one_line(name)}; the conversation carries on.")
        case "attach", (str(path),):
            try:
                session.attachments += read_attachments([path])
            except UsageError as exc:
                say(session.stderr, str(exc))
                return
            tell(f"Attached {one_line(path)} to the next message.")
        case "attach", ():
            say(session.stderr, "/attach PATH: name the file or image to attach")
        case _:
            word = call.action.split("_")[0]
            why = NOT_HERE.get(word, "it needs the app (chat-tui)")
            say(session.stderr, f"/{word} is not in the console: {why}")


def converse(
    console: Console, prompter: Prompter, runner: asyncio.Runner, *, interactive: bool
) -> int:
    """The loop: a message, its reply, until an empty line, `exit` or the end of input."""
    session = console.session
    while True:
        text = prompter.read()
        if text is None:
            return session.worst if not interactive else EXIT_OK
        if text.strip().lower() == QUIT or (interactive and not text.strip()):
            return EXIT_OK if interactive else session.worst
        if not text.strip() and not session.attachments:
            continue  # a blank line between piped messages
        if is_command(text):
            try:
                call = parse(text, session.profiles)
            except SlashError as exc:
                say(session.stderr, str(exc))
                continue
            command(console, runner, call, interactive=interactive)
            continue
        session.conversation.add_user(as_message(text), session.attachments)
        session.attachments = []
        runner.run(console.ask(interactive=interactive))


def _banner(session: Session) -> str:
    settings = session.settings
    return (
        f"{DIM}chat-tui console: {one_line(settings.model or '')} at {one_line(settings.where)}. "
        f"/help lists the commands; an empty line quits.{UNDIM}\n"
    )


def run_console(
    resolved: Resolved,
    *,
    profile: str | None = None,
    database: Path | None = None,
    resume: bool = False,
    render: bool = False,
    profiles: Collection[str] = (),
    switch_profile: Callable[[str], Resolved] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`chat-tui console`: the exit status (see CONSOLE_EPILOG). `profile` is the one
    --profile named; `database` the store's file (None: in memory)."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if stdout is None or stdin is None:  # started with one closed (`>&-`)
        if stderr is not None:
            say(stderr, "stdin or stdout is closed: there is no chat to have")
        return EXIT_BROKEN_PIPE if stdout is None else EXIT_USAGE
    if not configured(resolved, profile, stderr):
        return EXIT_USAGE
    # Line editing needs the real terminal on both ends; otherwise lines are read as a script.
    interactive = stdin is sys.stdin and stdin.isatty()
    output = ConsoleOutput(stdout, render=render, show_reasoning=resolved.settings.show_reasoning)
    session = Session(
        resolved,
        profile,
        Conversation(resolved.settings.system_prompt),
        output,
        stderr,
        profiles,
        switch_profile,
    )
    prompter = Prompter(stdin, interactive=interactive)
    with asyncio.Runner() as runner:
        console = Console(session, database)
        try:
            prompter.remember(runner.run(console.open(resume=resume)))
            if interactive and output.on_terminal:
                stdout.write(_banner(session))
                stdout.flush()
            return converse(console, prompter, runner, interactive=interactive)
        except KeyboardInterrupt:
            output.end_line()
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            silence_stdout()
            return EXIT_BROKEN_PIPE
        except StoreError as exc:
            say(stderr, str(exc))
            return EXIT_FAILED
        except Exception as exc:  # a bug: one line here, the traceback in the errors log
            path = log_path()
            not_logged = record(exc, path)
            where = f"not logged: {not_logged}" if not_logged else f"details in {path}"
            say(stderr, f"unexpected failure: {summary(exc)} ({where})")
            return EXIT_FAILED
        finally:
            # Quitting: a failed save was said already; a second ctrl+c asks not to wait.
            with contextlib.suppress(StoreError, KeyboardInterrupt):
                runner.run(console.close())
