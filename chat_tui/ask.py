"""`chat-tui ask`: one question in, the reply streamed to stdout as plain text.

One turn of Azure's "OpenAI chat streaming" console samples, with chat-tui's settings,
profiles, retries and error messages. It is UI-free (Textual is never imported, and `openai` only
when the request is built, so `chat-tui ask` starts fast) and saves nothing to the conversation
store: a one-off question is not a conversation. `chat-tui console` (console.py), the samples'
whole loop, streams its replies with the same pieces.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
from contextlib import aclosing
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TextIO

from chat_tui.attachments import MAX_IMAGES, AttachmentError, read_attachment
from chat_tui.client import ChatClient
from chat_tui.conversation import Conversation
from chat_tui.events import Adapted, ReasoningDelta, Retrying, TextDelta
from chat_tui.reply_outcome import ReplyOutcome
from chat_tui.text import visible
from chat_tui.wire_log import for_settings, route_library_loggers

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from chat_tui.attachments import Attachment
    from chat_tui.events import StreamEvent
    from chat_tui.settings import Settings
    from chat_tui.settings_sources import Resolved

EXIT_OK = 0
EXIT_FAILED = 1  # the request failed; the error is on stderr
EXIT_USAGE = 2  # no question, or not configured: nothing was sent
EXIT_UNFINISHED = 3  # a reply came, but cut off, filtered or without a finish reason
EXIT_INTERRUPTED = 130  # ctrl+c, as a shell reports SIGINT
EXIT_BROKEN_PIPE = 141  # stdout closed early (`| head`), as a shell reports SIGPIPE

# For `chat-tui ask --help`; kept under 70 columns like the main help.
ASK_EPILOG = """\
The question is the argument, or stdin when piped, or both: the
argument, a blank line, then stdin (git diff | chat-tui ask "review
this"). -a FILE attaches a text file or an image (PNG, JPEG, GIF,
WebP), as often as needed; with attachments the question may be
left out. Settings, profiles and flags are those of the app;
nothing is saved. The reply streams to stdout; notices and errors
go to stderr.

exit status:
  0    the reply finished
  1    the request failed (what arrived before the error is kept)
  2    no question, a file that cannot be attached, or not
       configured: nothing was sent
  3    the reply was cut off by the token limit, stopped by the
       content filter, or ended without a finish reason
  130  interrupted (ctrl+c)
  141  stdout was closed before the reply ended (| head)"""

# The app's notes for replies that ended without finishing, in the same words.


class UsageError(Exception):
    """The command cannot be acted on as given; the message says why."""


def say(stderr: TextIO, message: str) -> None:
    """A notice or error on stderr, `chat-tui: …`; made visible, as it may quote a server."""
    stderr.write(f"chat-tui: {visible(message)}\n")
    stderr.flush()


def _read_all(stream: TextIO) -> str:
    # Bytes decoded leniently: one odd byte in a piped file should not cost the whole question.
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return buffer.read().decode("utf-8", errors="replace")
    return stream.read()


def read_prompt(argument: str | None, stdin: TextIO | None, *, attached: bool = False) -> str:
    """The question: the argument, piped stdin, or both (argument, blank line, stdin).

    stdin is read only when it is not a terminal, so `chat-tui ask "hi"` never waits for input.
    With `attached` (files or images given) the question may be empty: they are the question.
    """
    piped = _read_all(stdin) if stdin is not None and not stdin.isatty() else None
    if attached:
        return "\n\n".join(part for part in (argument, piped) if part and part.strip())
    if argument is None and piped is None:
        raise UsageError(
            "no question: give it as an argument or pipe it on stdin (see chat-tui ask --help)"
        )
    prompt = "\n\n".join(part for part in (argument, piped) if part and part.strip())
    if not prompt:
        raise UsageError("the question is empty")
    return prompt


class Reply(ReplyOutcome):
    """What came back: its text, and how it ended; the exit status and --json come from it."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.reasoning = ""  # what a reasoning model showed of its thinking

    def as_json(self) -> str:
        usage = self.usage
        data: dict[str, object] = {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "model": self.model,
            # The reasoning and cached tokens only where the server counted them.
            "usage": {k: v for k, v in asdict(usage).items() if v is not None} if usage else None,
            "request_id": self.request_id or None,
        }
        if self.reasoning:
            data["reasoning"] = self.reasoning
        if self.error is not None:
            data["error"] = str(self.error)
            # The whole failure, for a support ticket (the string above stays as it was).
            data["error_details"] = {
                **self.error.details,
                "title": self.error.title,
                "status": self.error.status,
                "request_id": self.error.request_id or None,
            }
        # json escapes control characters, so this is safe to show on a terminal as it is.
        return json.dumps(data, ensure_ascii=False)


class Output:
    """The reply on stdout: streamed as it arrives, or held back for --json.

    On a terminal, model text goes through `visible()` so that escape codes in a reply cannot
    drive the terminal; into a pipe or file it is written unchanged.
    """

    def __init__(self, stdout: TextIO, *, as_json: bool) -> None:
        self.stdout = stdout
        self.as_json = as_json
        self.on_terminal = stdout.isatty()
        self._open_line = False  # text was written and its last line has no newline yet

    def write(self, text: str) -> None:
        if self.as_json or not text:
            return
        self.stdout.write(visible(text) if self.on_terminal else text)
        self.stdout.flush()  # each piece as it arrives, even into a pipe
        self._open_line = not text.endswith("\n")

    def reasoning(self, text: str) -> None:
        """Some of the model's thinking: `ask` shows none of it (--json has it)."""

    def end_line(self) -> None:
        """End the text with a newline, unless it already does (or there was none)."""
        if self._open_line:
            self._open_line = False
            self.stdout.write("\n")
            self.stdout.flush()


def read_attachments(paths: Sequence[str]) -> list[Attachment]:
    """The files given with -a, read and checked: UsageError names the first that cannot be."""
    attachments: list[Attachment] = []
    for path in paths:
        try:
            attachments.append(read_attachment(path))
        except AttachmentError as exc:
            raise UsageError(f"cannot attach {exc}") from None
    return attachments


async def stream_reply(
    settings: Settings,
    prompt: str,
    output: Output,
    stderr: TextIO,
    attachments: Sequence[Attachment] = (),
) -> Reply:
    """Send the question and stream the answer into `output`; failures end up in the Reply."""
    conversation = Conversation(settings.system_prompt)
    conversation.add_user(prompt, attachments)
    if left_out := conversation.images_left_out():
        say(stderr, f"{left_out} of the images left out: a request carries at most {MAX_IMAGES}")
    messages = conversation.request_messages(detail=settings.image_detail)
    reply = Reply()
    client = console_client(settings)
    try:
        await stream_into(reply, client, settings, messages, output, stderr)
    finally:
        await client.close()
    return reply


def console_client(settings: Settings) -> ChatClient:
    """A client whose libraries log to the log file, if any, never to the terminal."""
    client = ChatClient(wire=for_settings(settings))
    route_library_loggers(client.wire, debug=client.wire.path is not None)
    return client


async def stream_into(
    reply: Reply,
    client: ChatClient,
    settings: Settings,
    messages: list[dict[str, Any]],
    output: Output,
    stderr: TextIO,
    observe: Callable[[StreamEvent], None] | None = None,
) -> None:
    """Stream the answer to `messages` into `reply` and `output`; retries and notices go to
    stderr. Cancelled (ctrl+c), the reply is marked stopped and keeps what arrived.
    `observe` sees every event too."""
    try:
        async with aclosing(client.stream(settings, messages)) as events:
            async for event in events:
                reply.observe(event)
                if observe is not None:
                    observe(event)
                match event:
                    case TextDelta(text):
                        reply.text += text
                        output.write(text)
                    case ReasoningDelta(text):
                        reply.reasoning += text  # in --json; never mixed into the answer
                        output.reasoning(text)
                    case Adapted(note=note):
                        output.end_line()
                        say(stderr, note)
                    case Retrying(reason, attempt, attempts, delay):
                        # Rounded up, as the app's countdown is.
                        output.end_line()
                        say(
                            stderr,
                            f"{reason}: retrying in {math.ceil(delay)} s "
                            f"(attempt {attempt} of {attempts})",
                        )
                    case _:
                        pass  # the outcome has the rest
    except asyncio.CancelledError:
        reply.stopped = True
        raise


def exit_status(reply: Reply, stderr: TextIO) -> int:
    """Report how the reply ended on stderr and choose the exit status."""
    state = reply.state
    if reply.error is not None:
        say(stderr, str(reply.error))
        if reply.error.request_id:
            say(stderr, f"request id: {reply.error.request_id} (give it to support)")
        return EXIT_FAILED
    if state.unfinished:
        say(stderr, reply.note)
        return EXIT_UNFINISHED
    return EXIT_OK


def configured(resolved: Resolved, profile: str | None, stderr: TextIO) -> bool:
    """Report problems with the settings; False when the question cannot be sent."""
    for problem in resolved.problems:
        say(stderr, problem)
    # A profile that does not exist is fatal here: the question would go to another server.
    if profile is not None and resolved.profile != profile:
        return False
    missing = resolved.settings.problems()
    for problem in missing:
        say(stderr, problem)
    return not missing


def silence_stdout() -> None:
    # The reader went away (`| head`): send what is left in the buffer nowhere, so that
    # Python's final flush does not fail once more with a traceback.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_ask(
    resolved: Resolved,
    question: str | None,
    *,
    profile: str | None = None,
    as_json: bool = False,
    attach: Sequence[str] = (),
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`chat-tui ask`: the exit status (see ASK_EPILOG). `profile` is the one --profile named;
    `attach` the files given with -a."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if stdout is None:  # started with stdout closed (`>&-`): Python then has no sys.stdout
        if stderr is not None:
            say(stderr, "stdout is closed: there is nowhere to write the reply")
        return EXIT_BROKEN_PIPE
    output = Output(stdout, as_json=as_json)
    try:
        if not configured(resolved, profile, stderr):
            return EXIT_USAGE
        attachments = read_attachments(attach)
        prompt = read_prompt(question, stdin, attached=bool(attachments))
        reply = asyncio.run(stream_reply(resolved.settings, prompt, output, stderr, attachments))
        output.end_line()
        status = exit_status(reply, stderr)
        if as_json:
            stdout.write(reply.as_json() + "\n")
            stdout.flush()
        return status
    except UsageError as exc:
        say(stderr, str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        # asyncio.run cancelled the request (the HTTP response is closed); keep what arrived.
        output.end_line()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
