"""The chat screen: the transcript, the message box and the settings sidebar; what is typed,
queued and sent, and where the focus and Esc go.

Data flows one way: the message box -> the Conversation -> the ChatClient -> its events -> the
widgets. The life of a reply (request, stream, end, stop), what the conversation does (clear,
retry, open, export), what the sidebar asks for (profiles, test, save) and what a key does to
one message (copy, details, edit, take out) and what is pasted besides text (files, the
clipboard's image) are in the mixins beside this module.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, TextArea

from chat_tui.conversation import Conversation, Delivery, Message
from chat_tui.discovery import Discovery, LocalServer, worth_looking
from chat_tui.file_index import FileIndex
from chat_tui.prices import total_cost
from chat_tui.recorder import Recorder
from chat_tui.settings import ENVIRONMENT_HELP, NOTHING_SENT, Settings
from chat_tui.slash import as_message, is_command
from chat_tui.store import StoreError
from chat_tui.tui import keymap
from chat_tui.tui.screens.chat_branches import BranchActions
from chat_tui.tui.screens.chat_compact import FOLDED, CompactActions
from chat_tui.tui.screens.chat_compose import ComposeActions
from chat_tui.tui.screens.chat_conversations import ConversationActions
from chat_tui.tui.screens.chat_messages import MessageActions
from chat_tui.tui.screens.chat_paste import PasteActions
from chat_tui.tui.screens.chat_reply import ReplyActions
from chat_tui.tui.screens.chat_settings import SettingsActions
from chat_tui.tui.widgets.attachment_tray import AttachmentTray
from chat_tui.tui.widgets.file_list import FileList
from chat_tui.tui.widgets.footer import WholeKeysFooter
from chat_tui.tui.widgets.messages import AssistantMessage, Notice, UserMessage
from chat_tui.tui.widgets.prompt import MAX_MESSAGE_CHARS, PromptInput
from chat_tui.tui.widgets.queued import QueuedLine
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.slash_list import SlashList
from chat_tui.tui.widgets.status_bar import StatusBar
from chat_tui.tui.widgets.transcript import Transcript
from chat_tui.usage import day_start, spent, tallies

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from textual.app import ComposeResult
    from textual.binding import BindingType
    from textual.worker import Worker

    from chat_tui.attachments import Attachment
    from chat_tui.settings_sources import Resolved
    from chat_tui.store import AsyncStore

CHECKPOINT_INTERVAL = 1.0
COLLECT_DELAY = 0.3


class ChatScreen(
    ReplyActions,
    ComposeActions,
    ConversationActions,
    SettingsActions,
    MessageActions,
    BranchActions,
    CompactActions,
    PasteActions,
    Screen[None],
):
    """One conversation with one model; the app's main screen."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.CHAT
    AUTO_FOCUS = "#prompt"  # the first key typed goes into the message box

    is_streaming: reactive[bool] = reactive(False, bindings=True)
    # A message sent while a reply was on its way: it goes when that reply ends (one at a time).
    queued: reactive[str] = reactive("", init=False, bindings=True)
    # The one copy of the settings in use: the sidebar is bound to it (and edits it by message),
    # the header shows its target, and each request is sent with it.
    settings: reactive[Settings] = reactive(Settings, init=False)

    class Ready(TextualMessage):
        """The chat is on screen, with its notices: the app may open the store now."""

    def __init__(
        self,
        resolved: Resolved,
        store: AsyncStore,
        open_conversation: int | None = None,
        discovery: Discovery | None = None,
    ) -> None:
        super().__init__()
        self.resolved = resolved
        self.set_reactive(ChatScreen.settings, resolved.settings)
        self.conversation = Conversation(self.settings.system_prompt)
        self._streaming: tuple[Message, AssistantMessage] | None = None
        self._replacing: Message | None = None  # see _start_reply
        # What was taken out of the conversation on screen, latest last: restore brings it back.
        self._removed: list[list[Message]] = []
        self.recorder = Recorder(store, self._saving_failed, self._saving_resumed)
        self._open_at_start = open_conversation
        self.discovery = discovery or Discovery(ports={})
        # A server found on this machine, offered with one key until used or no longer needed.
        self.found: LocalServer | None = None
        # The set-up cards, taken away once the settings can be used.
        self._not_connected: Notice | None = None
        self._found_card: Notice | None = None
        # What the `@` picker offers: the files where chat-tui started.
        self.files = FileIndex(Path.cwd())

    async def _dispatch_message(self, message: TextualMessage) -> None:
        # As the app's own loop (see ChatApp.carries_on): a failure in one of the chat's
        # handlers is told, and the screen takes its next message, with the draft and the
        # conversation as they were.
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            if not self.app.carries_on(error):
                raise
            self.app.tell_failure(error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.on_worker_state_changed(event)  # the screen's workers fail as the app's do

    def watch_settings(self, settings: Settings) -> None:
        self.app.sub_title = settings.target
        self._show_totals()  # the context window may be another
        for transcript in self.query(Transcript):
            transcript.set_class(not settings.show_reasoning, "-no-reasoning")
        if not settings.problems():
            self.connected()
            self.app.prewarm_client()  # the next Enter sends without building one

    # -- the store, as the app opens it ---------------------------------------------------

    async def store_opened(self, prompts: list[str]) -> None:
        """The database is open: earlier prompts for ↑, and the conversation asked for."""
        self.query_one(PromptInput).prompts.prepend(prompts)
        if self._open_at_start is not None:
            await self.open_conversation(self._open_at_start)
        elif self.conversation.messages:
            self._save_soon()  # a chat that began before the store was open is saved now
        await self.show_today()

    async def show_today(self) -> None:
        """Today's spend over every saved conversation, on the status line: read again once a
        reply is saved (so it is counted), not while one streams."""
        if self.is_streaming or self.app.is_ending or not self.app.store.is_open:
            return
        try:
            rows = await self.app.store.reply_usage(day_start(date.today()))
        except StoreError:
            return  # the status line tells of a failing store already
        if (bar := self.status_bar()) is not None:
            bar.today = spent(tallies(rows, self.app.config.prices))

    async def store_unavailable(self, exc: StoreError) -> None:
        """The database cannot be used: the chat goes on in memory (the app's store now)."""
        self.recorder = Recorder(self.app.store, self._saving_failed, self._saving_resumed)
        self.query_one(StatusBar).problem = f"Not saved: {exc.reason}"
        await self._notice("Conversations are not being saved", [str(exc)])

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield SettingsPanel(
                self.settings,
                profiles=self.app.config.profiles,
                profile=self.resolved.profile,
                sources=self.resolved.sources,
                id="sidebar",
            ).data_bind(ChatScreen.settings)
            with Vertical(id="chat"):
                # The summarised messages start folded (CompactActions).
                yield Transcript(id="transcript").add_class(FOLDED)
                yield QueuedLine(id="queued")
                yield AttachmentTray(id="attachments")
                yield SlashList(id="commands")
                yield FileList(id="files")
                yield PromptInput(id="prompt")
                yield StatusBar(id="status-bar")
        yield WholeKeysFooter()

    async def on_mount(self) -> None:
        self.watch_settings(self.settings)
        prompt = self.query_one(PromptInput)
        prompt.commands = self.query_one(SlashList)
        prompt.files = self.query_one(FileList)
        prompt.focus()
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
            self._not_connected = Notice(
                "Not connected yet",
                "\n".join(problems)
                + "\n\nFill in the settings sidebar (ctrl+b shows it), or set\n"
                + ENVIRONMENT_HELP,
            )
            await self.query_one(Transcript).add(self._not_connected)
        if not self.settings.model and self.settings.endpoint:
            # Only a server URL so far (e.g. a local Ollama): offer the models it has.
            self._offer_models_at_start()
        elif self.discovery.enabled and worth_looking(self.settings):
            self._look_for_local_server()  # nothing says where to connect: a server here?
        self.set_interval(CHECKPOINT_INTERVAL, self._checkpoint)
        self.post_message(self.Ready())

    async def _notice(self, title: str, lines: Iterable[str]) -> None:
        await self.query_one(Transcript).add(Notice(title, "\n".join(lines)))

    @on(PromptInput.Submitted)
    async def _send(self, event: PromptInput.Submitted) -> None:
        if is_command(event.text):
            await self.run_command(event.prompt, event.text)
            return
        tray = self.query_one(AttachmentTray)
        if self.is_streaming:
            if self.queued or event.replaces is not None or tray.attachments:
                # One message waits at a time, and an edit or attachments wait for the reply:
                # all stays in the box. The box's border says why; a toast would cover it.
                self.app.bell()
                return
            event.prompt.sent(event.text)
            self.queued = as_message(event.text)
            return
        # An edited message keeps its attachments, and gains those added since.
        kept = event.replaces.attachments if event.replaces is not None else []
        if event.replaces is not None and not await self._rewind_to(event.replaces):
            return
        event.prompt.sent(event.text)
        await self._send_text(as_message(event.text), [*kept, *self._take_attachments()])

    async def _send_text(
        self, text: str, attachments: Sequence[Attachment] = (), *, asked: bool = True
    ) -> None:
        """Add `text` as the user's next message and ask for the reply (see _start_reply);
        compacting first when the `compact_at` setting says the request would be too full."""
        message = self.conversation.add_user(text, attachments)
        view = self._view_for(message)
        self.take_sidebar_edits(typing_too=asked)  # the context window, compact_at: as sent
        if self.due_for_compaction():
            await self.query_one(Transcript).add(view)
            started = await self.compact(reply_after=True)
            self._save_soon()
            if started:
                return  # the reply is asked for once the summary has come (or not)
            view = None
        await self._start_reply(asked=asked, shown=[view] if view is not None else [])

    async def _rewind_to(self, message: Message) -> bool:
        """Step back before `message`, to resend it edited: the edit is a new branch, and
        `message` with all that followed stays as the other (kept saved)."""
        if not any(m is message for m in self.conversation.shown):
            self.query_one(PromptInput).forget_edit()
            self.notify(
                "The message being edited is no longer in this conversation. Your text is "
                "still in the box: Enter sends it as a new message.",
                severity="warning",
            )
            return False
        await self._hide_views(self.conversation.rewind_to(message))
        return True

    @on(PromptInput.TooLong)
    def _too_long(self, event: PromptInput.TooLong) -> None:
        what = "That paste" if event.pasted else "The message"
        outcome = "Nothing was pasted." if event.pasted else "It was not sent."
        self.notify(
            f"{what} is {event.length:,} characters; a message holds up to "
            f"{MAX_MESSAGE_CHARS:,}. {outcome}",
            severity="warning",
        )

    def status_bar(self) -> StatusBar | None:
        """The status line; None once the app is closing (the screen's widgets are gone).
        Found by id, which Textual caches: a query by type walks every drawn widget."""
        try:
            return self.query_one("#status-bar", StatusBar)
        except NoMatches:
            return None

    def _show_totals(self) -> None:
        """The status line's totals, and the marks on the user's messages."""
        if (bar := self.status_bar()) is not None:
            bar.messages = len(self.conversation)
            bar.tokens_used = self.conversation.tokens_used
            bar.fill = self.context_fill()
            bar.cost = total_cost(
                (m.stats for m in self.conversation.messages), self.app.config.prices
            )
            deliveries = self.conversation.deliveries()
            if self._held is not None:  # its reply is asked for once the summary has come
                deliveries[id(self._held)] = Delivery.WAITING
            for view in self.query_one(Transcript).drawn_messages():
                if isinstance(view, UserMessage):
                    view.delivery = deliveries.get(id(view.message), Delivery.SENT)
            self._mark_branches()
            self._mark_summaries()

    def watch_is_streaming(self, streaming: bool) -> None:
        if streaming:
            self.app.collector.hold()
        else:
            # After the reply's last frame, while the user reads it.
            self.call_after_refresh(self._trim_transcript)
            self.set_timer(COLLECT_DELAY, self._collect_garbage)
        with suppress(NoMatches):  # gone once the app is closing
            self.query_one("#prompt", PromptInput).reply_coming = streaming
        if not streaming and self.queued and not self.app.is_ending:
            self.call_later(self._send_queued)  # at quitting, it is kept instead

    def watch_queued(self, text: str) -> None:
        self.query_one(QueuedLine).text = text
        self.query_one(PromptInput).message_queued = bool(text)

    async def _send_queued(self) -> None:
        if self.app.is_ending:
            return  # keep_queued saves it
        text, self.queued = self.queued, ""
        if text:
            await self._send_text(text, asked=False)

    def keep_queued(self) -> None:
        """Quitting with a message queued: it joins the conversation unanswered (marked as not
        answered, and sent with the next request), so it is saved and --continue finds it."""
        if self.queued:
            self.conversation.add_user(self.queued)
            self.set_reactive(ChatScreen.queued, "")  # its line may be gone already

    def unqueue(self) -> None:
        """Take the queued message back into the box, before what is being typed there."""
        text, self.queued = self.queued, ""
        if text:
            prompt = self.query_one(PromptInput)
            typed = prompt.text
            prompt.load_text(text + (f"\n\n{typed}" if typed.strip() else ""))
            prompt.move_cursor(prompt.document.end)

    async def _trim_transcript(self) -> None:
        """The messages drawn beyond the latest MAX_DRAWN go, now the reply has ended (its
        first frame did not wait for their removal)."""
        with suppress(NoMatches):  # gone once the app is closing
            await self.query_one("#transcript", Transcript).trim()

    def _collect_garbage(self) -> None:
        if not self.is_streaming:
            self.app.collector.release()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc's actions (keymap.ESCAPE): only the one that applies now is enabled, and shown in
        # the footer; "Stop reply" and "Retry" are hidden, in the palette too, when they cannot be.
        match action:
            case "close_commands":
                return self.query_one(SlashList).display or self.query_one(FileList).display
            case "close_sidebar":
                return self._sidebar_over_chat()
            case "cancel_edit":
                # Elsewhere (the sidebar, say) and with nothing to stop, Esc only comes back.
                prompt = self.query_one(PromptInput)
                return prompt.editing is not None and (self.is_streaming or prompt.has_focus)
            case "unqueue":
                return bool(self.queued)
            case "stop":
                return self.is_streaming
            case "escape":
                # In the box already, there is nothing for Esc to do: not offered.
                return not self.query_one(PromptInput).has_focus
            case "retry":
                return not self.is_streaming
            case "use_local_server":
                return self.found is not None  # offered only while a found server is
        return True

    async def action_stop(self) -> None:
        await self._stop_reply()
        self.action_focus_prompt()

    def action_cancel_edit(self) -> None:
        """Esc while editing: as the box's border says; a second Esc stops the reply."""
        prompt = self.query_one(PromptInput)
        prompt.cancel_edit()
        prompt.focus()

    def action_unqueue(self) -> None:
        """Esc with a message queued: it comes back; a second Esc stops the reply."""
        self.unqueue()
        self.action_focus_prompt()

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_escape(self) -> None:
        """Esc with nothing else to do: back to the message box."""
        self.action_focus_prompt()

    def action_scroll_transcript(self, where: str) -> None:
        """PageUp/PageDown and ctrl+home/ctrl+end from the message box: read while typing."""
        transcript = self.query_one(Transcript)
        if where == "up":
            transcript.scroll_page_up(animate=False)
        elif where == "down":
            transcript.scroll_page_down(animate=False)
        elif where == "top":
            transcript.scroll_home(animate=False)
        else:
            transcript.scroll_end(animate=False)  # and follow new text again

    def action_focus_transcript(self) -> None:
        self.query_one(Transcript).focus()

    @on(Transcript.NeedEarlier)
    async def _need_earlier(self, event: Transcript.NeedEarlier) -> None:
        await self.action_show_earlier(move_cursor=not event.scrolled)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(SettingsPanel)
        self._show_sidebar(not sidebar.display)
        if self._sidebar_over_chat():
            sidebar.focus()  # over the chat, it is where the keys go until it closes
        self._leave_hidden_sidebar()

    def action_close_sidebar(self) -> None:
        """Esc with the sidebar over the chat: it closes, and the typing goes to the box."""
        self._show_sidebar(False)
        self.action_focus_prompt()

    def _sidebar_over_chat(self) -> bool:
        """Whether the sidebar is open over the chat (below the width breakpoint), not beside."""
        return self.has_class("-narrow") and self.query_one(SettingsPanel).display

    @on(TextArea.Changed, "#prompt")
    @on(TextArea.SelectionChanged, "#prompt")  # the cursor leaving an `@word`, or coming back
    def _prompt_changed(self) -> None:
        self.follow_prompt()

    def on_descendant_blur(self) -> None:
        self.follow_prompt()  # the command list is the box's: gone when the box loses focus

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.follow_prompt()
        # Over the chat, the sidebar stays open while the keys go to it: focus moving on (tab
        # past its last field, a click in the message box) closes it.
        sidebar = self.query_one(SettingsPanel)
        if self._sidebar_over_chat() and sidebar not in event.widget.ancestors_with_self:
            self._show_sidebar(False)

    def on_click(self, event: events.Click) -> None:
        # A click on the chat beside the open sidebar is a click away from it.
        chat = self.query_one("#chat")
        if self._sidebar_over_chat() and event.widget and chat in event.widget.ancestors_with_self:
            self.action_close_sidebar()

    def on_resize(self) -> None:
        # Narrowed below the breakpoint, the stylesheet hides the sidebar: what is typed next
        # must not go on into a field nobody sees (the system prompt, say). One the user opened
        # stays only if it has the focus: the chat is not covered behind their back.
        self.call_after_refresh(self._after_resize)

    def _after_resize(self) -> None:
        sidebar = self.query_one(SettingsPanel)
        focused = self.focused
        if self._sidebar_over_chat() and (
            focused is None or sidebar not in focused.ancestors_with_self
        ):
            sidebar.remove_class("-open")  # back to the default for the width: hidden
        self._leave_hidden_sidebar()
        self.refresh_bindings()  # Esc closes the sidebar over the chat, not beside it

    def _leave_hidden_sidebar(self) -> None:
        sidebar = self.query_one(SettingsPanel)
        focused = self.focused
        if not sidebar.display and (focused is None or sidebar in focused.ancestors_with_self):
            self.action_focus_prompt()

    def _show_sidebar(self, show: bool) -> None:
        # Classes, not inline display: the stylesheet decides the default per terminal width.
        sidebar = self.query_one(SettingsPanel)
        sidebar.update_classes({"-open": show, "-closed": not show})
        self.refresh_bindings()  # Esc's words in the footer

    def action_edit_system_prompt(self) -> None:
        # Opened only if hidden: F2 on a wide screen must not pin it open for a narrow one.
        if not self.query_one(SettingsPanel).display:
            self._show_sidebar(True)
        area = self.query_one("#system-prompt", TextArea)
        area.focus()
        area.move_cursor(area.document.end)  # ready to add to the prompt, not to overwrite it
