"""The Textual shell: composes the widgets, routes keys to actions and renders the core's events.

Data flows one way: prompt -> Conversation -> ChatClient -> events -> widgets.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import aclosing, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual._context import active_message_pump  # the loop a failure happened in
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape as escape_markup
from textual.reactive import reactive
from textual.widgets import Footer, Header, TextArea
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from chat_tui.client import ChatClient
from chat_tui.clipboard import CopyOutcome, copy_commands, run_copy
from chat_tui.code_blocks import code_blocks
from chat_tui.collector import Collector
from chat_tui.config_file import ConfigFile, config_path, load_config, save_profile, save_theme
from chat_tui.conversation import Conversation, Message, Role
from chat_tui.events import Retrying, TextDelta
from chat_tui.export import read_export, to_json, to_markdown, write_export
from chat_tui.failures import log_path, record, summary
from chat_tui.input_history import HISTORY_SIZE
from chat_tui.private_files import expand_home
from chat_tui.recorder import Recorder
from chat_tui.reply_outcome import ReplyOutcome
from chat_tui.reply_state import ReplyState
from chat_tui.reply_stats import ReplyStats
from chat_tui.screens.code_picker import CodePicker
from chat_tui.screens.conversations import NEW_CONVERSATION, ConversationsScreen, TextPrompt
from chat_tui.screens.details import DetailsScreen
from chat_tui.screens.help import HelpScreen, describe_bindings
from chat_tui.settings import ENVIRONMENT_HELP, NOTHING_SENT, Settings, checked_settings
from chat_tui.settings_sources import DEFAULT_SOURCE, Resolved, switch_profile
from chat_tui.store import AsyncStore, Store, StoreError
from chat_tui.text import for_clipboard, visible
from chat_tui.widgets.messages import AssistantMessage, Notice, UserMessage
from chat_tui.widgets.prompt import MAX_MESSAGE_CHARS, PromptInput
from chat_tui.widgets.settings_panel import SettingsPanel
from chat_tui.widgets.status_bar import StatusBar
from chat_tui.widgets.transcript import MAX_DRAWN, Transcript

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from textual.app import ComposeResult
    from textual.message import Message as TextualMessage
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.timer import Timer


REPLY_GROUP = "reply"
CHECKPOINT_INTERVAL = 1.0
THEME_SAVE_DELAY = 0.5
COLLECT_DELAY = 0.3
# A long saved conversation opens with only its latest messages drawn, as many as the transcript
# keeps drawn; F4 draws as many again each time.
SHOWN_WHEN_OPENED = MAX_DRAWN
STYLESHEET = "chat_tui.tcss"
# The terminal was closed, or the system asks the app to end: it ends as on ctrl+q, with what
# arrived saved and the terminal given back as it was.
ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def stylesheet_path() -> Path:
    """The app's stylesheet: inside the package in a wheel, at the top of a checkout otherwise."""
    here = Path(__file__).resolve().parent
    for candidate in (here / STYLESHEET, here.parent / STYLESHEET):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{STYLESHEET} is missing from the installation")


class ChatApp(App[None]):
    """A chat with one model: a transcript, a prompt box and a settings sidebar."""

    CSS_PATH = stylesheet_path()
    TITLE = "chat-tui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "stop",
            "Stop reply",
            tooltip="Stop the reply (what arrived stays); otherwise back to the message box",
        ),
        # Esc when nothing streams; no description, so it is not listed twice.
        Binding("escape", "escape", show=False),
        Binding(
            "ctrl+l", "clear", "Clear", tooltip="Clear the conversation (the system prompt stays)"
        ),
        Binding(
            "ctrl+b", "toggle_sidebar", "Settings", tooltip="Show or hide the settings sidebar"
        ),
        Binding(
            "f2",
            "edit_system_prompt",
            "System prompt",
            show=False,
            tooltip="Edit the system prompt",
        ),
        Binding(
            "ctrl+r",
            "retry",
            "Retry",
            tooltip="Send the last request again; the last reply is replaced",
        ),
        Binding(
            "ctrl+o",
            "drop_oldest",
            "Drop oldest",
            show=False,
            tooltip="Drop the oldest exchange from the conversation",
        ),
        Binding("ctrl+t", "test_connection", "Test", show=False, tooltip="Test the connection"),
        Binding(
            "f4",
            "show_earlier",
            "Earlier",
            show=False,
            tooltip="Draw earlier messages of a long conversation",
        ),
        Binding(
            "f3",
            "conversations",
            "Chats",
            tooltip="Saved conversations: open, search, rename, delete",
        ),
        Binding("f1", "help", "Help", tooltip="This help"),
    ]

    # Palette entries: (title, help, action). Every action is reachable from ctrl+p.
    PALETTE = (
        (
            "Clear conversation",
            "Stop any reply, empty the transcript, keep the system prompt",
            "clear",
        ),
        ("Stop reply", "Stop the reply that is streaming; keep what arrived", "stop"),
        ("Retry", "Send the last request again, replacing the last reply", "retry"),
        ("Drop oldest exchange", "Shorten the conversation from the start", "drop_oldest"),
        ("Show earlier messages", "Draw earlier messages of a long conversation", "show_earlier"),
        (
            "Toggle settings sidebar",
            "Show or hide the system prompt and deployment settings",
            "toggle_sidebar",
        ),
        (
            "Edit system prompt",
            "Open the sidebar and focus the system prompt",
            "edit_system_prompt",
        ),
        ("Focus prompt", "Move the cursor to the message box", "focus_prompt"),
        (
            "Go to messages",
            "Select a message to copy, edit and resend (↑ ↓ home end move)",
            "focus_transcript",
        ),
        ("Copy last reply", "Copy the latest reply to the clipboard", "copy_last_reply"),
        (
            "Copy code from last reply",
            "Copy a code block of the latest reply to the clipboard",
            "copy_last_code",
        ),
        ("Test connection", "Check the settings with a one-token request", "test_connection"),
        ("Save settings", "Save to the config file, without the API key", "save_settings"),
        (
            "Save settings with the API key",
            "Save to the config file (owner-only), including the API key",
            "save_settings(True)",
        ),
        ("Help", "Show every key", "help"),
        ("Conversations", "Open, search, rename or delete saved conversations", "conversations"),
        ("Export as Markdown", "Write this conversation to chat-ID.md here", "export('md')"),
        ("Export as JSON", "Write this conversation to chat-ID.json here", "export('json')"),
        ("Import a conversation", "Add a conversation from a JSON export", "import"),
    )

    # Below 100 columns the sidebar starts hidden (ctrl+b still shows it).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    is_streaming: reactive[bool] = reactive(False, bindings=True)

    def __init__(
        self,
        settings: Settings | Resolved,
        *,
        client: ChatClient | None = None,
        config: ConfigFile | None = None,
        store: AsyncStore | None = None,
        open_conversation: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(settings, Settings):
            settings = Resolved(
                settings, dict.fromkeys(Settings.__dataclass_fields__, DEFAULT_SOURCE)
            )
        self.resolved = settings
        self.settings = settings.settings
        self.config = config if config is not None else ConfigFile(config_path())
        self.conversation = Conversation(self.settings.system_prompt)
        self.client = client or ChatClient()
        self._streaming: tuple[Message, AssistantMessage] | None = None
        # Conversations are saved as they happen; without a database, in memory only.
        self.store = store or AsyncStore(lambda: Store(None))
        self.recorder = Recorder(self.store, self._saving_failed, self._saving_resumed)
        self._open_at_start = open_conversation
        self._theme_timer: Timer | None = None
        self.collector = Collector()
        # Unexpected failures (see _carries_on): each told once; the line for stderr if one
        # ended the app.
        self._started = False
        self._failures_told: set[str] = set()
        self.exit_message: str | None = None

    # -- life cycle -----------------------------------------------------------------------

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

    # -- unexpected failures --------------------------------------------------------------
    # Textual ends the app, with a traceback, on any exception that a handler, a worker or a
    # callback lets through. Where the app's own loop can go on, it says so in a notice and
    # carries on, with the draft and the conversation as they were; otherwise it ends with
    # status 1 and one line on stderr. The traceback goes to the log, for a bug report.
    # Textual has no public hook for this: `_dispatch_message` and `_handle_exception` are
    # private, so textual is pinned below 9 and tests/test_failures.py fails if they change.

    def _carries_on(self, error: Exception) -> bool:
        """Whether the app can go on after `error`: raised in its own loop (a handler, an action,
        a key, a timer, a callback) or in a worker, after start-up and before quitting. A widget
        or a screen whose handler failed handles nothing more, so the app cannot go on."""
        if not self._started or not self.is_running or self.return_code is not None:
            return False  # starting, or ending (quit, a signal, an earlier failure)
        return isinstance(error, WorkerFailed) or active_message_pump.get(None) is self

    async def _dispatch_message(self, message: TextualMessage) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            # Textual would stop the app's message loop for good: tell, and take the next one.
            if not self._carries_on(error):
                raise
            self._tell_failure(error)

    def _handle_exception(self, error: Exception) -> None:
        if self._carries_on(error):
            self._tell_failure(error.error if isinstance(error, WorkerFailed) else error)
            return
        self._note_fatal_failure(error)
        super()._handle_exception(error)  # status 1, the app closes, run_test re-raises it
        self._exit_renderables.clear()  # the traceback is in the log, not on the terminal

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app's workers fail without ending it (exit_on_error=False); the user still hears.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._tell_failure(event.worker.error)

    def _tell_failure(self, error: BaseException) -> None:
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
            self.conversation.messages
            and self.recorder.failing is None
            and self.store.is_open
            and self.store.store.path is not None
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

    # -- the app's own surfaces: every text passes the sanitizer here, whoever sends it ------

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

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield SettingsPanel(
                self.settings,
                profiles=self.config.profiles,
                profile=self.resolved.profile,
                sources=self.resolved.sources,
                id="sidebar",
            )
            with Vertical(id="chat"):
                yield Transcript(id="transcript")
                yield PromptInput(id="prompt")
                yield StatusBar(id="status-bar")
        yield Footer()

    async def on_mount(self) -> None:
        self._listen_for_ending_signals()
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        self.sub_title = self.settings.target
        self.query_one(PromptInput).focus()
        if self.resolved.problems:
            await self._notice("Some settings could not be used", self.resolved.problems)
        # What the first notice told already (a bad endpoint, with its source) is not repeated.
        told = "\n".join(self.resolved.problems)
        problems = [
            problem
            for problem in self.settings.problems()
            if problem.removesuffix(NOTHING_SENT) not in told
        ]
        if problems:
            await self.query_one(Transcript).add(
                Notice(
                    "Not connected yet",
                    "\n".join(problems)
                    + "\n\nFill in the settings sidebar (ctrl+b shows it), or set\n"
                    + ENVIRONMENT_HELP,
                )
            )
        # Opening may wait for another process's lock: the app is usable meanwhile.
        self.run_worker(self._open_store(), group="store", exit_on_error=False)
        # Import the SDK off the UI thread after the first frame: it takes most of a second.
        self.call_after_refresh(self._prewarm_sdk)
        if not self.settings.model and self.settings.endpoint:
            # Only a server URL so far (e.g. a local Ollama): offer the models it has.
            self._offer_models_at_start()
        self.set_interval(CHECKPOINT_INTERVAL, self._checkpoint)
        self._started = True

    async def _open_store(self) -> None:
        try:
            await self.store.open()
            prompts = await self.store.call(self.store.store.recent_prompts, HISTORY_SIZE)
        except StoreError as exc:
            # A damaged or locked database must not cost the user their chat: go on in memory.
            await self.store.close()
            self.store = AsyncStore(lambda: Store(None))
            await self.store.open()
            self.recorder = Recorder(self.store, self._saving_failed, self._saving_resumed)
            self.query_one(StatusBar).problem = f"Not saved: {exc.reason}"
            await self._notice("Conversations are not being saved", [str(exc)])
            return
        self.query_one(PromptInput).prompts.prepend(prompts)
        if self._open_at_start is not None:
            await self.open_conversation(self._open_at_start)

    def _saving_failed(self, message: str) -> None:
        # The status line says so for as long as it lasts; the toast says it all, once.
        failing = self.recorder.failing
        for bar in self.query(StatusBar):  # none once the app is closing
            bar.problem = f"Not saved: {failing.reason}; retrying" if failing else ""
        self.notify(message, severity="error", timeout=10)

    def _saving_resumed(self) -> None:
        for bar in self.query(StatusBar):
            bar.problem = ""
        self.notify("Saving again: the conversation is saved up to date.")

    def _store_failed(self, exc: StoreError) -> None:
        """A read or change of the saved conversations failed: say so; the chat goes on."""
        self.notify(
            f"The saved conversations cannot be used: {exc}",
            severity="error",
            timeout=10,
        )

    async def _save(self) -> None:
        await self.recorder.save(self.conversation, self.settings, self.resolved.profile)

    def _save_soon(self) -> None:
        """The conversation changed: save it in the background, and update the totals."""
        self._show_totals()
        self.run_worker(self._save(), group="save", exit_on_error=False)

    def _checkpoint(self) -> None:
        # A streaming reply is written at least every second: a crash loses at most that.
        # After a failure, saving is retried as often, so it resumes by itself.
        if (self.is_streaming or self.recorder.failing) and not self.recorder.busy:
            self._save_soon()

    async def _notice(self, title: str, lines: Iterable[str]) -> None:
        await self.query_one(Transcript).add(Notice(title, "\n".join(lines)))

    @work(thread=True, group="prewarm", exit_on_error=False)
    def _prewarm_sdk(self) -> None:
        import openai  # noqa: F401

        # Start-up is over: what it built lives as long as the app.
        self.collector.freeze_startup()

    async def on_unmount(self) -> None:
        if self._theme_timer is not None:  # chosen just before quitting
            self._theme_timer.stop()
            self._remember_theme()
        self.collector.release()  # quitting mid-reply: the process may go on (tests)
        await self._save()  # whatever arrived last, even mid-reply
        await self.store.close()
        await self.client.close()

    # -- sending and streaming ------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _send(self, event: PromptInput.Submitted) -> None:
        if self.is_streaming:
            # Keep the text in the box: nothing the user typed is thrown away. The prompt's
            # border already says a reply is streaming; a toast would cover what they type.
            self.bell()
            return
        if event.replaces is not None and not await self._rewind_to(event.replaces):
            return
        event.prompt.sent(event.text)
        message = self.conversation.add_user(event.text)
        await self.query_one(Transcript).add(UserMessage(message))
        await self._start_reply()

    async def _rewind_to(self, message: Message) -> bool:
        """Take back `message` and all that followed, to resend it edited."""
        if not any(m is message for m in self.conversation.messages):
            self.query_one(PromptInput).forget_edit()
            self.notify(
                "The message being edited is no longer in this conversation. Your text is "
                "still in the box: Enter sends it as a new message.",
                severity="warning",
            )
            return False
        removed = self.conversation.rewind_to(message)
        await self._remove_views(removed)
        transcript = self.query_one(Transcript)
        transcript.set_earlier(min(transcript.earlier, len(self.conversation)))
        await self.recorder.forget(removed)
        return True

    async def _start_reply(self) -> None:
        """Ask for a reply to the conversation as it stands."""
        messages = self.conversation.request_messages()
        reply = self.conversation.begin_reply()
        view = AssistantMessage(reply)
        transcript = self.query_one(Transcript)
        await transcript.add(view)
        transcript.scroll_end(animate=False)
        self._streaming = (reply, view)
        self.is_streaming = True
        self._stream_reply(reply, view, self.settings, messages)
        self._save_soon()

    @on(PromptInput.TooLong)
    def _too_long(self, event: PromptInput.TooLong) -> None:
        what = "That paste" if event.pasted else "The message"
        outcome = "Nothing was pasted." if event.pasted else "It was not sent."
        self.notify(
            f"{what} is {event.length:,} characters; a message holds up to "
            f"{MAX_MESSAGE_CHARS:,}. {outcome}",
            severity="warning",
        )

    @work(exclusive=True, group=REPLY_GROUP, exit_on_error=False)
    async def _stream_reply(
        self,
        reply: Message,
        view: AssistantMessage,
        settings: Settings,
        messages: list[dict[str, str]],
    ) -> None:
        outcome = ReplyOutcome()
        try:
            async with aclosing(self.client.stream(settings, messages)) as events:
                async for event in events:
                    outcome.observe(event)
                    match event:
                        case TextDelta(text):
                            reply.append(text)
                            view.append(text)
                        case Retrying():
                            view.show_retry(event)
                        case _:
                            pass  # the outcome has the rest
        except asyncio.CancelledError:
            outcome.stopped = True
            raise
        finally:
            self._end_reply(outcome)

    def _end_reply(self, outcome: ReplyOutcome | None = None) -> None:
        """Give the streaming reply its final state (once) and free the prompt.

        Without an outcome (the worker never ran), the reply was stopped before it began.
        """
        if self._streaming is not None:
            reply, view = self._streaming
            self._streaming = None
            if outcome is None:
                reply.state = ReplyState.STOPPED
                view.finish(reply.state)
            else:
                reply.state = outcome.state
                reply.stats = outcome.stats()
                view.finish(outcome.state, outcome.error, outcome.filtered)
            self._save_soon()
        self.is_streaming = False

    def _show_totals(self) -> None:
        bar = self.query_one(StatusBar)
        bar.messages = len(self.conversation)
        bar.tokens_used = self.conversation.tokens_used
        bar.context = self.conversation.context_tokens

    def watch_is_streaming(self, streaming: bool) -> None:
        if streaming:
            self.collector.hold()
        else:
            # After the reply's last frame, while the user reads it.
            self.set_timer(COLLECT_DELAY, self._collect_garbage)
        for prompt in self.query(PromptInput):
            prompt.border_subtitle = "a reply is streaming · esc stops it" if streaming else ""

    def _collect_garbage(self) -> None:
        if not self.is_streaming:
            self.collector.release()

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            # Hidden from the footer when there is nothing to stop; Esc then means "prompt".
            return self.is_streaming
        return True

    async def _stop_reply(self) -> None:
        """Cancel the streaming reply and wait until its worker has wound down."""
        running: list[Worker[None]] = [
            w for w in self.workers if w.group == REPLY_GROUP and not w.is_finished
        ]
        for worker in running:
            worker.cancel()
        for worker in running:
            with suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        # A worker cancelled before it began never ran its `finally`.
        self._end_reply()

    async def action_stop(self) -> None:
        prompt = self.query_one(PromptInput)
        if prompt.editing is not None:
            prompt.cancel_edit()  # as the box's border says; a second Esc stops the reply
            prompt.focus()
            return
        await self._stop_reply()
        self.action_focus_prompt()

    def _store_ready(self) -> bool:
        if not self.store.is_open:
            self.notify("The conversation store is still opening; try again in a moment.")
        return self.store.is_open

    def action_conversations(self) -> None:
        if isinstance(self.screen, ConversationsScreen) or not self._store_ready():
            return

        async def chosen(conversation_id: int | None) -> None:
            if conversation_id == NEW_CONVERSATION:
                await self.action_clear()
            elif conversation_id is not None and conversation_id != self.conversation.id:
                await self.open_conversation(conversation_id)
            elif self.conversation.id is not None:
                try:
                    await self._forget_if_deleted()
                except StoreError as exc:
                    self._store_failed(exc)

        self.push_screen(ConversationsScreen(self.store, self.conversation.id), chosen)

    async def _forget_if_deleted(self) -> None:
        """The conversation on screen was deleted from the list: start afresh."""
        known = await self.store.call(self.store.store.list_conversations)
        if all(item.id != self.conversation.id for item in known):
            await self._stop_reply()
            await self._switch_to(Conversation(self.conversation.system_prompt))

    async def action_export(self, format: str) -> None:
        """Write the conversation on screen to a file in the current directory."""
        await self._save()
        if self.conversation.id is None or not self._store_ready():
            self.notify("Nothing to export yet: send a message first.")
            return
        try:
            stored = await self.store.call(self.store.store.load, self.conversation.id)
        except KeyError:  # deleted from another window meanwhile
            self.notify("Nothing to export: this conversation is no longer saved.")
            return
        except StoreError as exc:
            self._store_failed(exc)
            return
        text = to_json(stored) if format == "json" else to_markdown(stored)
        wanted = Path.cwd() / f"chat-{stored.id}.{format}"
        try:
            # Never over a file already there: the next free name, and the notice says so.
            path = await asyncio.to_thread(write_export, wanted, text, overwrite=False)
        except OSError as exc:
            self.notify(f"Could not write {wanted}: {exc}", severity="error")
            return
        kept = f" ({wanted.name} was there already, and is left as it was)"
        self.notify(f"Exported to {path}{kept if path != wanted else ''}.")

    def action_import(self) -> None:
        if not self._store_ready():
            return

        async def chosen(name: str | None) -> None:
            if not name or not name.strip():
                return
            path = expand_home(Path(name.strip()))
            try:
                imported = await asyncio.to_thread(read_export, path)
                new_id = await self.store.call(
                    self.store.store.import_conversation, imported.conversation
                )
            # ValueError: ExportFormatError, or a path with a NUL in it (pasted).
            except (OSError, ValueError, StoreError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                self.notify(f"Cannot import {path}: {reason}", severity="error")
                return
            await self.open_conversation(new_id)
            self.notify(f"Imported {path} as a new conversation.")
            if imported.left_out:
                await self._notice("Some of the file's settings were left out", imported.left_out)

        self.push_screen(TextPrompt("Import a conversation: path of the JSON file", ""), chosen)

    async def action_show_earlier(self) -> None:
        """Draw up to SHOWN_WHEN_OPENED more of the messages before the first one drawn."""
        transcript = self.query_one(Transcript)
        if not transcript.earlier:
            return
        end = transcript.earlier
        start = max(0, end - SHOWN_WHEN_OPENED)
        views = [self._view_for(m) for m in self.conversation.messages[start:end]]
        await transcript.add_earlier(views)

    async def action_retry(self) -> None:
        """Send the last request again; the failed, partial or unwanted reply is replaced."""
        if self.is_streaming:
            self.bell()
            return
        if not self.conversation.can_retry:
            self.notify("Nothing to retry yet: send a message first.")
            return
        dropped = self.conversation.remove_last_reply()
        if dropped is not None:
            await self._remove_views([dropped])
            await self.recorder.forget([dropped])
        await self._start_reply()

    async def action_drop_oldest(self) -> None:
        """Forget the oldest exchange, to bring a long conversation under the model's limit."""
        await self._stop_reply()
        dropped = self.conversation.drop_oldest_exchange()
        if not dropped:
            self.notify("The conversation is already empty.")
            return
        removed = await self._remove_views(dropped)
        transcript = self.query_one(Transcript)
        transcript.set_earlier(transcript.earlier - (len(dropped) - removed))
        await self.recorder.forget(dropped)
        prompt = self.query_one(PromptInput)
        if any(m is prompt.editing for m in dropped):
            prompt.forget_edit()
        self._show_totals()
        self.notify(f"Dropped the oldest exchange ({len(dropped)} messages).")

    async def _remove_views(self, messages: list[Message]) -> int:
        """Remove the drawn widgets of `messages`; returns how many were drawn."""
        gone = {id(message) for message in messages}
        views = [
            view
            for view in self.query_one(Transcript).children
            if id(getattr(view, "message", None)) in gone
        ]
        for view in views:
            await view.remove()
        return len(views)

    async def action_clear(self) -> None:
        # Stop first and wait, so no text from the stopped reply lands after the clear.
        await self._stop_reply()
        await self._save()
        # The old conversation stays saved; a new one starts, with the same system prompt.
        await self._switch_to(Conversation(self.conversation.system_prompt))
        self.action_focus_prompt()

    async def _switch_to(self, conversation: Conversation) -> None:
        """Put `conversation` on screen in place of the current one (drawn by the caller)."""
        self.conversation = conversation
        await self.query_one(Transcript).clear()
        self.query_one(PromptInput).forget_edit()  # its message belonged to the old one
        self._show_totals()

    async def open_conversation(self, conversation_id: int) -> None:
        """Replace the conversation on screen with a saved one."""
        if not self._store_ready():
            return
        await self._stop_reply()
        await self._save()
        try:
            stored = await self.store.call(self.store.store.load, conversation_id)
        except KeyError:
            self.notify(f"No saved conversation {conversation_id}.", severity="error")
            return
        except StoreError as exc:
            self._store_failed(exc)
            return
        # Only the user's and the model's messages: a system message among them (an earlier
        # version imported files with some) would be sent as an unseen instruction.
        kept = [m for m in stored.messages if m.role in (Role.USER, Role.ASSISTANT)]
        conversation = Conversation(
            stored.system_prompt,
            [
                Message(
                    Role(m.role),
                    m.content,
                    ReplyState.saved(m.state),
                    m.id,
                    ReplyStats.from_dict(m.stats),
                )
                for m in kept
            ],
            stored.id,
        )
        await self._switch_to(conversation)
        self.recorder.adopt(conversation)
        self.query_one(SettingsPanel).show_system_prompt(conversation.system_prompt)
        # Only the generation settings come back with a conversation (the connection is the
        # current one), so only they are checked: a connection saved then is not news now.
        applied = ("temperature", "max_tokens")
        settings, left_out = checked_settings({k: stored.settings.get(k) for k in applied})
        generation = {key: settings.get(key) for key in applied}
        if stored.profile in self.config.profiles and stored.profile != self.resolved.profile:
            await self.use_profile(stored.profile)
        self.settings = self.settings.with_changes(**generation)
        self.query_one(SettingsPanel).show(self.settings, self.resolved.sources)
        transcript = self.query_one(Transcript)
        shown = conversation.messages[-SHOWN_WHEN_OPENED:]
        transcript.set_earlier(len(conversation.messages) - len(shown))
        await transcript.add(*(self._view_for(message) for message in shown))
        transcript.scroll_end(animate=False)
        self.sub_title = self.settings.target
        self.action_focus_prompt()
        if skipped := len(stored.messages) - len(kept):
            left_out.append(
                f"{skipped} of its messages, neither yours nor the model's (a system message "
                "from an imported file), are neither shown nor sent."
            )
        if left_out:
            await self._notice("Some of this saved conversation could not be used", left_out)

    @staticmethod
    def _view_for(message: Message) -> UserMessage | AssistantMessage:
        return UserMessage(message) if message.role is Role.USER else AssistantMessage(message)

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_escape(self) -> None:
        """Esc with no reply streaming: cancel an edit, else back to the message box."""
        prompt = self.query_one(PromptInput)
        if prompt.has_focus and prompt.editing is not None:
            prompt.cancel_edit()
        self.action_focus_prompt()

    def action_focus_transcript(self) -> None:
        self.query_one(Transcript).focus()

    # -- acting on messages: copy, edit and resend -----------------------------------------

    @on(Transcript.Selected)
    def _message_action(self, event: Transcript.Selected) -> None:
        message = event.message
        if event.action == "copy":
            what = "your message" if message.role is Role.USER else "the reply"
            self.copy_text(message.content, what)
        elif event.action == "copy_code":
            self.copy_code(message)
        elif event.action == "details":
            self.show_details(message)
        elif message.role is Role.USER:
            self.query_one(PromptInput).edit_message(message)
        else:
            self.notify(
                "Only your own messages can be edited; ctrl+r asks for the last reply again.",
            )

    def show_details(self, message: Message) -> None:
        view = self.query_one(Transcript).view_of(message)
        error = view.error if isinstance(view, AssistantMessage) else None
        if error is None or not error.more:
            self.notify("That message has no more to show.")
            return
        self.push_screen(DetailsScreen(error.title, error.more))

    @on(Transcript.NeedEarlier)
    async def _need_earlier(self) -> None:
        await self.action_show_earlier()

    def _last_reply(self) -> Message | None:
        return next(
            (m for m in reversed(self.conversation.messages) if m.role is Role.ASSISTANT), None
        )

    def action_copy_last_reply(self) -> None:
        reply = self._last_reply()
        if reply is None:
            self.notify("There is no reply to copy yet.")
        else:
            self.copy_text(reply.content, "the last reply")

    def action_copy_last_code(self) -> None:
        reply = self._last_reply()
        if reply is None:
            self.notify("There is no reply to copy from yet.")
        else:
            self.copy_code(reply)

    def copy_code(self, message: Message) -> None:
        """Copy the message's only code block, or the one the user picks."""
        blocks = code_blocks(message.content)
        if not blocks:
            self.notify("That message has no code blocks.")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                block = blocks[index]
                name = f"code block {index + 1}" + (
                    f" ({block.language})" if block.language else ""
                )
                self.copy_text(block.code, name)

        if len(blocks) == 1:
            chosen(0)
        else:
            self.push_screen(CodePicker(blocks), chosen)

    def copy_text(self, text: str, what: str) -> None:
        """To the clipboard every way there is: the terminal's (OSC 52, works over SSH) and
        the local ones; a notice says what was copied and how."""
        text = for_clipboard(text)  # a paste into a shell must not carry escape sequences
        if not text:
            self.notify(f"Nothing to copy: {what} is empty.")
            return
        self.copy_to_clipboard(text)
        path = self.store.store.path if self.store.is_open else None
        self._copy_with_programs(text, what, path.parent if path is not None else None)

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

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(SettingsPanel)
        self._show_sidebar(not sidebar.display)
        if not sidebar.display and (self.focused is None or sidebar in self.focused.ancestors):
            self.action_focus_prompt()

    def _show_sidebar(self, show: bool) -> None:
        # Classes, not inline display: the stylesheet decides the default per terminal width.
        sidebar = self.query_one(SettingsPanel)
        sidebar.set_class(show, "-open")
        sidebar.set_class(not show, "-closed")

    def action_edit_system_prompt(self) -> None:
        # Opened only if hidden: F2 on a wide screen must not pin it open for a narrow one.
        if not self.query_one(SettingsPanel).display:
            self._show_sidebar(True)
        area = self.query_one("#system-prompt", TextArea)
        area.focus()
        area.move_cursor(area.document.end)  # ready to add to the prompt, not to overwrite it

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        """Every key, for the help screen: the prompt's, the app's and Textual's own."""
        bindings = [
            Binding("enter", "", "Send the message"),
            *PromptInput.BINDINGS,
            Binding("up,down", "", "Earlier prompts (on the first or last line of the box)"),
            *self.BINDINGS,
            Binding("ctrl+p", "", "Command palette: every action by name, and the Theme"),
            Binding("shift+tab", "", "From the message box up to the messages"),
            Binding("tab,shift+tab", "", "Move between the prompt, transcript and settings"),
            Binding("ctrl+q", "", "Quit (also while a reply streams)"),
            Binding("", "", "With the messages focused:"),
            *Transcript.BINDINGS,
            Binding("escape", "", "Back to the message box"),
        ]
        return describe_bindings(bindings, lambda key: self.get_key_display(Binding(key, "")))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # The palette reads titles and help as markup: escaped, a profile called
        # "[@click=app.quit]" shows as written and does nothing.
        for command in self._system_commands(screen):
            yield command._replace(
                title=escape_markup(visible(command.title)),
                help=escape_markup(visible(command.help)),
            )

    def _system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in self.PALETTE:
            if action == "stop" and not self.is_streaming:
                continue
            yield SystemCommand(title, help_text, self._palette_callback(action))
        for name in self.config.profiles:
            yield SystemCommand(
                f"Use profile {name}",
                "Switch the connection; the conversation carries on",
                partial(self.use_profile, name),
            )

    def _palette_callback(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        return run

    # -- settings -------------------------------------------------------------------------

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

    @on(SettingsPanel.SettingsChanged)
    def _settings_changed(self, event: SettingsPanel.SettingsChanged) -> None:
        self.settings = event.settings
        self.sub_title = self.settings.target

    @on(SettingsPanel.SystemPromptChanged)
    def _system_prompt_changed(self, event: SettingsPanel.SystemPromptChanged) -> None:
        self.conversation.system_prompt = event.text
        if self.conversation.id is not None:
            self._save_soon()

    @on(SettingsPanel.ProfileChosen)
    async def _profile_chosen(self, event: SettingsPanel.ProfileChosen) -> None:
        await self.use_profile(event.name)

    async def use_profile(self, name: str) -> None:
        """Switch the connection to profile `name`; the conversation carries on."""
        if name not in self.config.profiles:
            return
        self.resolved = switch_profile(self.resolved, self.config, name)
        self.settings = self.resolved.settings
        self.sub_title = self.settings.target
        panel = self.query_one(SettingsPanel)
        panel.show(self.settings, self.resolved.sources)
        panel.show_profiles(self.config.profiles, name)
        self.notify(f"Using profile {name}: {self.settings.target}")
        if self.resolved.problems:
            await self._notice(f"Profile {name} has problems", self.resolved.problems)

    @on(SettingsPanel.TestRequested)
    def _test_requested(self) -> None:
        self.action_test_connection()

    @on(SettingsPanel.SaveRequested)
    def _save_requested(self, event: SettingsPanel.SaveRequested) -> None:
        self.action_save_settings(event.include_key)

    def action_test_connection(self) -> None:
        self.query_one(SettingsPanel).show_check(True, "Testing…")
        self._test_connection(self.settings)

    @work(exclusive=True, group="test-connection", exit_on_error=False)
    async def _test_connection(self, settings: Settings) -> None:
        panel = self.query_one(SettingsPanel)
        result = await self.client.check(settings)
        text = str(result)
        panel.show_check(result.ok, text)
        self.notify(text, severity="information" if result.ok else "error")
        if result.ok or not settings.model:
            await self._offer_models(settings)

    async def _offer_models(self, settings: Settings) -> None:
        models = await self.client.list_models(settings)
        self.query_one(SettingsPanel).show_models(models)
        if models and not settings.model:
            self.notify(f"The server offers {len(models)} models: pick one under Model.")

    @work(group="models", exit_on_error=False)
    async def _offer_models_at_start(self) -> None:
        await self._offer_models(self.settings)

    def action_save_settings(self, include_key: bool = False) -> None:
        """Write the current settings to the config file, under the current profile's name."""
        name = self.resolved.profile or "default"
        settings = self.settings
        values: dict[str, object] = {
            "provider": settings.provider.value,
            "endpoint": settings.endpoint or None,
            "model": settings.model or None,
            "api_version": settings.api_version if settings.provider.is_azure else None,
            "auth": settings.auth.value,
            "system_prompt": self.conversation.system_prompt,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
        }
        if include_key:
            values["api_key"] = settings.api_key or None
        path = self.config.path
        try:
            save_profile(path, name, values)
        except (OSError, ValueError) as exc:  # ConfigError: the file and the sidebar stay as is
            message = f"Could not save to {path}: {exc}"
            self.notify(message, severity="error")
            return
        self.config = load_config(path)
        self.resolved.profile = name
        self.query_one(SettingsPanel).show_profiles(self.config.profiles, name)
        secret = "with the API key, owner-only" if include_key else "without the API key"
        if include_key and not settings.api_key:
            secret = "with no API key: any saved before is removed"
        message = f"Saved profile {name} to {path} ({secret})."
        if not include_key and "api_key" in self.config.profiles.get(name, {}):
            # Kept rather than removed: a save must not lose a key the user may have no copy of.
            message += (
                " The API key saved in this profile before is still in the file; to remove it,"
                " empty API key and save with 'save the API key too'."
            )
        self.notify(message)
