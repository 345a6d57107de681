"""The Textual shell: composes the widgets, routes keys to actions and renders the core's events.

Data flows one way: prompt -> Conversation -> ChatClient -> events -> widgets.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing, suppress
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Header, TextArea
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from chat_tui.client import ChatClient
from chat_tui.conversation import Conversation, Message, ReplyState
from chat_tui.events import ReplyFailed, ReplyFinished, TextDelta, Usage
from chat_tui.screens.help import HelpScreen, describe_bindings
from chat_tui.settings import ENVIRONMENT_HELP, Settings
from chat_tui.widgets.messages import AssistantMessage, Notice, UserMessage
from chat_tui.widgets.prompt import PromptInput
from chat_tui.widgets.settings_panel import SettingsPanel
from chat_tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from textual.app import ComposeResult
    from textual.screen import Screen

    from chat_tui.errors import ChatError

REPLY_GROUP = "reply"
STYLESHEET = "chat_tui.tcss"


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
        Binding("escape", "stop", "Stop reply", tooltip="Stop the reply; what arrived stays"),
        Binding("escape", "focus_prompt", "Prompt", show=False, tooltip="Back to the message box"),
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
        ("Help", "Show every key", "help"),
    )

    # Below 100 columns the sidebar starts hidden (ctrl+b still shows it).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    is_streaming: reactive[bool] = reactive(False, bindings=True)

    def __init__(self, settings: Settings, *, client: ChatClient | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.conversation = Conversation(settings.system_prompt)
        self.client = client or ChatClient()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield SettingsPanel(self.settings, id="sidebar")
            with Vertical(id="chat"):
                yield Transcript(id="transcript")
                yield PromptInput(id="prompt")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.settings.target
        self.query_one(PromptInput).focus()
        problems = self.settings.problems()
        if problems:
            await self.query_one(Transcript).add(
                Notice(
                    "Not connected yet",
                    "\n".join(problems)
                    + "\n\nFill in the settings sidebar (ctrl+b shows it), or set\n"
                    + ENVIRONMENT_HELP,
                )
            )
        # Import the SDK off the UI thread after the first frame: it takes most of a second.
        self.call_after_refresh(self._prewarm_sdk)

    @work(thread=True, group="prewarm", exit_on_error=False)
    def _prewarm_sdk(self) -> None:
        import openai  # noqa: F401

    async def on_unmount(self) -> None:
        await self.client.close()

    # -- sending and streaming ------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _send(self, event: PromptInput.Submitted) -> None:
        if self.is_streaming:
            # Keep the text in the box: nothing the user typed is thrown away.
            self.notify("A reply is still streaming: press Esc to stop it, or wait.", markup=False)
            return
        event.prompt.clear()
        self.conversation.add_user(event.text)
        messages = self.conversation.request_messages()
        reply = self.conversation.begin_reply()
        view = AssistantMessage(reply)
        transcript = self.query_one(Transcript)
        await transcript.add(UserMessage(event.text), view)
        transcript.scroll_end(animate=False)
        self.is_streaming = True
        self._stream_reply(reply, view, self.settings, messages)

    @work(exclusive=True, group=REPLY_GROUP, exit_on_error=False)
    async def _stream_reply(
        self,
        reply: Message,
        view: AssistantMessage,
        settings: Settings,
        messages: list[dict[str, str]],
    ) -> None:
        state = ReplyState.INCOMPLETE
        error: ChatError | None = None
        try:
            async with aclosing(self.client.stream(settings, messages)) as events:
                async for event in events:
                    match event:
                        case TextDelta(text):
                            reply.append(text)
                            view.append(text)
                        case ReplyFinished(finish_reason):
                            state = ReplyState.from_finish_reason(finish_reason)
                        case ReplyFailed(failure):
                            error = failure
                            state = ReplyState.INTERRUPTED if reply.content else ReplyState.FAILED
                        case Usage():
                            pass  # shown per reply in a later version
        except asyncio.CancelledError:
            state = ReplyState.STOPPED
            raise
        finally:
            reply.state = state
            view.finish(state, error)
            self.is_streaming = False

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

    async def action_stop(self) -> None:
        await self._stop_reply()
        self.action_focus_prompt()

    async def action_clear(self) -> None:
        # Stop first and wait, so no text from the stopped reply lands after the clear.
        await self._stop_reply()
        self.conversation.clear()
        await self.query_one(Transcript).clear()
        self.action_focus_prompt()

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

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
        self._show_sidebar(True)
        self.query_one("#system-prompt", TextArea).focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        """Every key, for the help screen: the prompt's, the app's and Textual's own."""
        bindings = [
            Binding("enter", "", "Send the message"),
            *PromptInput.BINDINGS,
            *self.BINDINGS,
            Binding("ctrl+p", "", "Command palette: every action by name"),
            Binding("tab,shift+tab", "", "Move between the prompt, transcript and settings"),
            Binding("ctrl+q", "", "Quit (also while a reply streams)"),
        ]
        return describe_bindings(bindings, lambda key: self.get_key_display(Binding(key, "")))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in self.PALETTE:
            yield SystemCommand(title, help_text, self._palette_callback(action))

    def _palette_callback(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        return run

    # -- settings -------------------------------------------------------------------------

    @on(SettingsPanel.SettingsChanged)
    def _settings_changed(self, event: SettingsPanel.SettingsChanged) -> None:
        self.settings = event.settings
        self.sub_title = self.settings.target

    @on(SettingsPanel.SystemPromptChanged)
    def _system_prompt_changed(self, event: SettingsPanel.SystemPromptChanged) -> None:
        self.conversation.system_prompt = event.text
