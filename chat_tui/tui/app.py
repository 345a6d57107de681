"""The Textual app: what is global to chat-tui (the store, the client, the config file, the
theme, the command palette, the clipboard, unexpected failures), around one ChatScreen.

The chat itself (the transcript, the message box, the sidebar and the life of a reply) is the
chat screen's: see chat_tui/tui/screens/chat.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual._context import active_message_pump  # the loop a failure happened in
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.markup import escape as escape_markup
from textual.worker import Worker, WorkerFailed, WorkerState

from chat_tui.client import ChatClient
from chat_tui.clipboard import CopyOutcome, copy_commands, run_copy
from chat_tui.collector import Collector
from chat_tui.config_file import ConfigFile, config_path, save_theme
from chat_tui.discovery import Discovery
from chat_tui.failures import log_path, record, summary
from chat_tui.input_history import HISTORY_SIZE
from chat_tui.settings import Settings
from chat_tui.settings_sources import DEFAULT_SOURCE, Resolved
from chat_tui.slash import SLASH_HELP, SLASHES
from chat_tui.store import AsyncStore, Store, StoreError
from chat_tui.text import for_clipboard, visible
from chat_tui.tui import keymap, strip_cycles
from chat_tui.tui.palette import ChatCommands
from chat_tui.tui.pending_input import INPUT_WAIT, PendingInput
from chat_tui.tui.screens.chat import ChatScreen
from chat_tui.tui.screens.help import HelpScreen, describe_bindings
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.wire_log import diagnostics_header, for_settings, route_library_loggers

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.message import Message as TextualMessage
    from textual.message_pump import MessagePump
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.timer import Timer

THEME_SAVE_DELAY = 0.5
STYLESHEET = "chat_tui.tcss"
# The terminal was closed, or the system asks the app to end: it ends as on ctrl+q, with what
# arrived saved and the terminal given back as it was.
ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def warm_markdown() -> None:
    """Render a reply with a code block once, off screen: the Markdown parser, the lexer of
    the most common language and the highlighting theme load here, not with a reply."""
    from io import StringIO

    from rich.console import Console

    from chat_tui.markdown_render import TranscriptMarkdown

    sample = "**warm**\n\n```python\nx = 1\n```\n"
    console = Console(file=StringIO(), width=40, color_system="truecolor")
    for highlight in (True, False):
        console.print(TranscriptMarkdown(sample, highlight=highlight))


def _from_terminal(message: object) -> bool:
    """A key or paste as the terminal sent it (not one forwarded on to a widget)."""
    return isinstance(message, (events.Key, events.Paste)) and not message.is_forwarded


def stylesheet_path() -> Path:
    """The app's stylesheet: inside the package in a wheel, at the top of a checkout otherwise."""
    package = Path(__file__).resolve().parent.parent  # chat_tui/
    for candidate in (package / STYLESHEET, package.parent / STYLESHEET):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{STYLESHEET} is missing from the installation")


class ChatApp(App[None]):
    """chat-tui: one ChatScreen, and what the whole app shares."""

    CSS_PATH = stylesheet_path()
    TITLE = "chat-tui"
    COMMANDS: ClassVar = App.COMMANDS | {ChatCommands}

    # Below 100 columns the sidebar starts hidden (ctrl+b still shows it).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    def __init__(
        self,
        settings: Settings | Resolved,
        *,
        client: ChatClient | None = None,
        config: ConfigFile | None = None,
        store: AsyncStore | None = None,
        open_conversation: int | None = None,
        discovery: Discovery | None = None,
    ) -> None:
        """`discovery`: where to look for a local server when nothing is configured (by default
        the usual ports, unless CHAT_TUI_DISCOVER=0)."""
        super().__init__()
        if isinstance(settings, Settings):
            settings = Resolved(
                settings, dict.fromkeys(Settings.__dataclass_fields__, DEFAULT_SOURCE)
            )
        self.config = config if config is not None else ConfigFile(config_path())
        self.client = client or ChatClient(wire=for_settings(settings.settings))
        # Conversations are saved as they happen; without a database, in memory only.
        self.store = store or AsyncStore(lambda: Store(None))
        if discovery is None:
            discovery = Discovery.from_environment(os.environ)
        self.chat = ChatScreen(settings, self.store, open_conversation, discovery)
        self._theme_timer: Timer | None = None
        self.collector = Collector()
        strip_cycles.install()  # or every frame leaves garbage for a full collection
        self.pending_input = PendingInput()
        self._frames_held: ExitStack | None = None
        # Unexpected failures (see carries_on): each told once; the line for stderr if one
        # ended the app.
        self._started = False
        self._failures_told: set[str] = set()
        self.exit_message: str | None = None

    def _listen_for_ending_signals(self) -> None:
        if self.is_headless:
            return  # under test, in a process that is not the app's
        loop = asyncio.get_running_loop()
        for signum in ENDING_SIGNALS:
            with suppress(NotImplementedError, RuntimeError):  # Windows; not the main thread
                loop.add_signal_handler(signum, self._end_by_signal, signum)

    def _end_by_signal(self, signum: int) -> None:
        # 128 + N, the status a shell gives a command that a signal ended.
        self.exit(return_code=128 + signum)

    @property
    def is_ending(self) -> bool:
        """Quitting (a key, a signal, a failure): nothing new is started."""
        return not self.is_running or self.return_code is not None

    def carries_on(self, error: Exception) -> bool:
        """Whether the app can go on after `error`: raised in its own loop (a handler, an action,
        a key, a timer, a callback), in the chat screen's (which goes on the same way) or in a
        worker, after start-up and before quitting. Another widget or screen whose handler
        failed handles nothing more, so the app cannot go on."""
        if not self._started or self.is_ending:
            return False  # starting, or ending (quit, a signal, an earlier failure)
        return isinstance(error, WorkerFailed) or active_message_pump.get(None) in (self, self.chat)

    def post_message(self, message: TextualMessage) -> bool:
        posted = super().post_message(message)
        if posted and _from_terminal(message):
            self.pending_input.arrived()
            self._hold_frames()
        return posted

    def _hold_frames(self) -> None:
        """While a reply streams, no frame until the key just come is handled: one due
        meanwhile would be drawn first, and the key shown only in the next (on a huge reply
        a frame takes tens of ms). Otherwise frames are few and cheap, and the Enter that
        sends a message must not hold back the frame that shows the reply's first text."""
        if self._frames_held is None and self.chat.is_streaming:
            self._frames_held = ExitStack()
            self._frames_held.enter_context(self.batch_update())
            # Whatever becomes of the key. (Not a Textual timer: keys are posted from outside
            # the app's context.)
            asyncio.get_running_loop().call_later(INPUT_WAIT, self._release_frames)

    def _release_frames(self) -> None:
        if self._frames_held is not None:
            held, self._frames_held = self._frames_held, None
            held.close()
            # A frame skipped meanwhile left the screen's update timer paused: the screen
            # starts it again when next idle, which it may not otherwise be for a while.
            with suppress(ScreenStackError):
                self.screen.check_idle()

    async def on_event(self, event: events.Event) -> None:
        typed = _from_terminal(event)
        await super().on_event(event)  # forwards it to the focused widget's queue
        if typed:
            target = self.focused or self.screen
            # Behind the key in the queue of the widget that handles it: runs once it has.
            if not target.call_later(self._key_handled, target):
                self._key_handled(target)

    def _key_handled(self, target: MessagePump) -> None:
        """Frames may go on; the key counts as shown after the next (while frames were held,
        the screen ran such callbacks without one)."""
        self._release_frames()
        if not target.call_after_refresh(self.pending_input.shown):
            self.pending_input.shown()

    async def _dispatch_message(self, message: TextualMessage) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            # Textual would stop the app's message loop for good: tell, and take the next one.
            if not self.carries_on(error):
                raise
            self.tell_failure(error)

    def _handle_exception(self, error: Exception) -> None:
        if self.carries_on(error):
            self.tell_failure(error.error if isinstance(error, WorkerFailed) else error)
            return
        self._note_fatal_failure(error)
        super()._handle_exception(error)  # status 1, the app closes, run_test re-raises it
        self._exit_renderables.clear()  # the traceback is in the log, not on the terminal

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app's workers fail without ending it (exit_on_error=False); the user still hears.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.tell_failure(event.worker.error)

    def tell_failure(self, error: BaseException) -> None:
        text = summary(error)
        if text in self._failures_told:
            return  # a timer that fails every second is told once
        self._failures_told.add(text)
        problem = record(error, log_path())
        details = f"details are in {log_path()}" if problem is None else f"no details ({problem})"
        self.notify(
            f"{text}. Your message and the conversation are as they were; {details}.",
            title="Something went wrong",
            severity="error",
            timeout=15,
        )

    def _note_fatal_failure(self, error: Exception) -> None:
        if self.exit_message is not None:
            return  # the first failure is the one to tell
        draft = self._draft()
        problem = record(error, log_path(), draft=draft)
        if problem is None:
            kept = "the details and the message you had not sent" if draft else "the details"
            where = f"{kept} are in {log_path()}"
        else:
            where = f"the details could not be written ({problem})"
        saved = (
            self.chat.conversation.messages
            and self.chat.recorder.failing is None
            and self.store.is_open
            and self.store.path is not None
        )
        self.exit_message = (
            f"stopped by an unexpected error ({summary(error)}); "
            + ("the conversation is saved (--continue reopens it); " if saved else "")
            + where
        )

    def _draft(self) -> str:
        """The message box's text, read while the app is failing (its screen may be gone)."""
        try:
            return self.screen_stack[0].query_one(PromptInput).text
        except Exception:
            return ""  # the original failure is the one to tell

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast. Its text often quotes a server, a file or a profile: never markup, and
        control characters are shown, not sent (widgets' `notify` comes here too)."""
        del markup  # no caller may turn it on: the text is not ours
        super().notify(
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    def validate_title(self, title: object) -> str:
        return visible(str(title))

    def validate_sub_title(self, sub_title: object) -> str:
        return visible(str(sub_title))  # the connection's target: from settings and profiles

    def get_default_screen(self) -> ChatScreen:
        return self.chat

    async def on_mount(self) -> None:
        self._listen_for_ending_signals()
        # The SDK's, httpx's and azure-identity's own logs go to the wire log, never over the
        # screen (OPENAI_LOG set in the environment would write there).
        route_library_loggers(self.client.wire, debug=self.client.wire.path is not None)
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        # Import the SDK off the UI thread after the first frame: it takes most of a second.
        self.call_after_refresh(self._prewarm_sdk)
        self._started = True

    def on_chat_screen_ready(self) -> None:
        # After the chat's own notices, so a conversation opened at start comes after them.
        # Opening may wait for another process's lock: the app is usable meanwhile.
        self.run_worker(self._open_store(), group="store", exit_on_error=False)

    async def _open_store(self) -> None:
        try:
            await self.store.open()
            prompts = await self.store.recent_prompts(HISTORY_SIZE)
            self.client.learned.load(await self.store.lessons())
        except StoreError as exc:
            # A damaged or locked database must not cost the user their chat: go on in memory.
            await self.store.close()
            self.store = AsyncStore(lambda: Store(None))
            await self.store.open()
            await self.chat.store_unavailable(exc)
            return
        await self.chat.store_opened(prompts)

    @work(thread=True, group="prewarm", exit_on_error=False)
    def _prewarm_sdk(self) -> None:
        # Everything the first request and its first code block need, so Enter sends at once.
        # Only a head start: whatever fails here, the first request does in its own time.
        with suppress(Exception):
            self.client.prewarm(self.chat.settings)
            warm_markdown()
        # Start-up is over: what it built lives as long as the app.
        self.collector.freeze_startup()

    def prewarm_client(self) -> None:
        """The settings changed: build the SDK client for them ahead of the next request."""
        if self._started and not self.is_ending:
            self._rewarm_client(self.chat.settings)

    @work(thread=True, group="prewarm", exclusive=True, exit_on_error=False)
    def _rewarm_client(self, settings: Settings) -> None:
        with suppress(Exception):  # as at start: only a head start
            self.client.prewarm(settings)

    async def on_unmount(self) -> None:
        if self._theme_timer is not None:  # chosen just before quitting
            self._theme_timer.stop()
            self._remember_theme()
        self.collector.release()  # quitting mid-reply: the process may go on (tests)
        self.chat.keep_queued()
        await self.chat.save()  # whatever arrived last, even mid-reply
        await self.store.close()
        await self.client.close()

    def copy_text(self, text: str, what: str) -> None:
        """To the clipboard every way there is: the terminal's (OSC 52, works over SSH) and
        the local ones; a notice says what was copied and how."""
        text = for_clipboard(text)  # a paste into a shell must not carry escape sequences
        if not text:
            self.notify(f"Nothing to copy: {what} is empty.")
            return
        super().copy_to_clipboard(text)  # the terminal's clipboard, with the cleaned text
        path = self.store.path
        self._copy_with_programs(text, what, path.parent if path is not None else None)

    def copy_to_clipboard(self, text: str) -> None:
        """Textual's own copies (ctrl+c on a selection in a field, the message box or a dialog;
        ctrl+x) go the one way chat-tui copies: cleaned, to tmux and the desktop's program too,
        and told. Textual's would write the terminal's clipboard only, with the text as is."""
        self.copy_text(text, "the selected text")

    def action_help_quit(self) -> None:
        # ctrl+c where nothing is selected. Textual's words carry markup, shown here as typed.
        self.notify("Nothing is selected to copy; ctrl+q quits.")

    @work(thread=True, group="copy", exclusive=True, exit_on_error=False)
    def _copy_with_programs(self, text: str, what: str, fallback_dir: Path | None) -> None:
        outcome = run_copy(text, copy_commands(), fallback_dir)
        self.call_from_thread(self._copied, text, what, outcome)

    def _copied(self, text: str, what: str, outcome: CopyOutcome) -> None:
        lines = len(text.splitlines())
        size = f"{len(text):,} characters" + (f", {lines:,} lines" if lines > 1 else "")
        ways = ", ".join(["the terminal (OSC 52)", *outcome.copied_by])
        message = f"Copied {what} ({size}) via {ways}."
        if outcome.saved_to is not None:
            message += f" If your terminal ignores OSC 52, it is also in {outcome.saved_to}"
        if outcome.failures:
            message += f" ({'; '.join(outcome.failures)})"
        self.notify(message)  # a code block's language is the model's: notify shows it safely

    async def action_save_diagnostics(self) -> None:
        """The last requests, redacted, to a file in the current directory for a ticket."""
        wire = self.client.wire
        wanted = Path.cwd() / f"chat-tui-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        header = diagnostics_header(self.chat.settings)
        try:
            path = await asyncio.to_thread(wire.save, wanted, header)
        except OSError as exc:
            self.notify(f"Could not write {wanted}: {exc}", severity="error")
            return
        count = len(wire.exchanges)
        requests = f"{count} request{'s' if count != 1 else ''}"
        also = f" Also logged to {wire.path}." if wire.path is not None else ""
        problem = f" The log file could not be written: {wire.problem}." if wire.problem else ""
        self.notify(f"Saved {requests} (no keys or tokens) to {path}.{also}{problem}")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        """Every key, for the help screen: the prompt's, the app's and Textual's own."""
        bindings = [
            Binding("enter", "", "Send the message"),
            *keymap.PROMPT,
            Binding("up,down", "", "Earlier prompts (on the first or last line of the box)"),
            # Esc once, with all it does: the footer shows the one that applies at the time.
            *(binding for binding in keymap.CHAT if binding not in keymap.ESCAPE),
            Binding("escape", "", f"Esc, the first that applies: {keymap.ESC_ORDER}"),
            Binding("ctrl+p", "", "Command palette: every action by name, and the Theme"),
            Binding("shift+tab", "", "From the message box up to the messages"),
            Binding("tab,shift+tab", "", "Move between the prompt, transcript and settings"),
            Binding("ctrl+q", "", "Quit (also while a reply streams)"),
            Binding("", "", "With the messages focused:"),
            *keymap.TRANSCRIPT,
        ]
        rows = describe_bindings(bindings, lambda key: self.get_key_display(Binding(key, "")))
        return [
            *rows,
            ("", f"Commands in the message box ({SLASH_HELP}):"),
            *((slash.usage, slash.help) for slash in SLASHES),
        ]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own (theme, quit, keys…); the chat's are ChatCommands. The palette reads
        # these titles and help as markup: made visible and escaped, whatever they say.
        for command in super().get_system_commands(screen):
            yield command._replace(
                title=escape_markup(visible(command.title)),
                help=escape_markup(visible(command.help)),
            )

    def watch_theme(self) -> None:
        # Chosen from the palette ("Theme"): remembered in the config file for the next run,
        # once the choice has settled (the chooser previews each theme it passes).
        if self.is_mounted:
            if self._theme_timer is not None:
                self._theme_timer.stop()
            self._theme_timer = self.set_timer(THEME_SAVE_DELAY, self._remember_theme)

    def _remember_theme(self) -> None:
        self._theme_timer = None
        theme = self.theme
        if theme == self.config.theme:
            return
        try:
            save_theme(self.config.path, theme)
        except (OSError, ValueError) as exc:  # tomlkit's parse errors are ValueErrors
            self.notify(
                f"Could not remember the theme in {self.config.path}: {exc}",
                severity="warning",
            )
            return
        self.config.theme = theme
