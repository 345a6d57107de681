"""What the chat screen does with whole conversations: save them as they change, clear, retry,
drop the oldest exchange, open a saved one, list, export and import.

A mixin of ChatScreen (it uses the screen's conversation, recorder and widgets), kept apart so
that each module holds one concern.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from chat_tui.conversation import Conversation, Message, Role
from chat_tui.export import read_export, to_json, to_markdown, write_export
from chat_tui.private_files import expand_home
from chat_tui.recorder import restored
from chat_tui.settings import checked_settings
from chat_tui.store import StoreError
from chat_tui.tui import keymap
from chat_tui.tui.screens.conversations import NEW_CONVERSATION, ConversationsScreen, TextPrompt
from chat_tui.tui.widgets.messages import AssistantMessage, UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.transcript import MAX_DRAWN, Transcript

if TYPE_CHECKING:
    from chat_tui.tui.screens.chat import ChatScreen

# A long saved conversation opens with only its latest messages drawn, as many as the transcript
# keeps drawn; F4 draws as many again each time.
SHOWN_WHEN_OPENED = MAX_DRAWN


class ConversationActions:
    """The chat screen's conversation-wide actions (mixed into ChatScreen)."""

    def _saving_failed(self: ChatScreen, message: str) -> None:
        # The status line says so for as long as it lasts; the toast says it all, once.
        failing = self.recorder.failing
        if (bar := self.status_bar()) is not None:
            bar.problem = f"Not saved: {failing.reason}; retrying" if failing else ""
        self.notify(message, severity="error", timeout=10)

    def _saving_resumed(self: ChatScreen) -> None:
        if (bar := self.status_bar()) is not None:
            bar.problem = ""
        self.notify("Saving again: the conversation is saved up to date.")

    async def save(self: ChatScreen) -> None:
        await self.recorder.save(self.conversation, self.settings, self.resolved.profile)
        await self.show_today()  # a reply that ended is counted now

    def _save_soon(self: ChatScreen, *, totals: bool = True) -> None:
        """The conversation changed: save it in the background, and update the totals."""
        if totals:
            self._show_totals()
        self.run_worker(self.save(), group="save", exit_on_error=False)

    def _checkpoint(self: ChatScreen) -> None:
        # A streaming reply is written at least every second: a crash loses at most that.
        # After a failure, saving is retried as often, so it resumes by itself. The totals
        # stay as they are: they change when a message is added or a reply ends (its stats),
        # and going over every message each second would cost a long conversation more.
        if (self.is_streaming or self.recorder.failing) and not self.recorder.busy:
            self._save_soon(totals=False)

    def _store_ready(self: ChatScreen) -> bool:
        if not self.app.store.is_open:
            self.notify("The conversation store is still opening; try again in a moment.")
        return self.app.store.is_open

    def _store_failed(self: ChatScreen, exc: StoreError) -> None:
        """A read or change of the saved conversations failed: say so; the chat goes on."""
        self.notify(
            f"The saved conversations cannot be used: {exc}",
            severity="error",
            timeout=10,
        )

    def action_conversations(self: ChatScreen) -> None:
        if isinstance(self.app.screen, ConversationsScreen) or not self._store_ready():
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

        self.app.push_screen(ConversationsScreen(self.app.store, self.conversation.id), chosen)

    async def _forget_if_deleted(self: ChatScreen) -> None:
        """The conversation on screen was deleted from the list: start afresh."""
        known = await self.app.store.list_conversations()
        if all(item.id != self.conversation.id for item in known):
            await self._stop_reply()
            await self._switch_to(Conversation(self.conversation.system_prompt))

    async def action_export(self: ChatScreen, format: str) -> None:
        """Write the conversation on screen to a file in the current directory."""
        await self.save()
        if self.conversation.id is None or not self._store_ready():
            self.notify("Nothing to export yet: send a message first.")
            return
        try:
            stored = await self.app.store.load(self.conversation.id)
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

    def action_import(self: ChatScreen) -> None:
        if not self._store_ready():
            return

        async def chosen(name: str | None) -> None:
            if not name or not name.strip():
                return
            path = expand_home(Path(name.strip()))
            try:
                imported = await asyncio.to_thread(read_export, path)
                new_id = await self.app.store.import_conversation(imported.conversation)
            # ValueError: ExportFormatError, or a path with a NUL in it (pasted).
            except (OSError, ValueError, StoreError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                self.notify(f"Cannot import {path}: {reason}", severity="error")
                return
            await self.open_conversation(new_id)
            self.notify(f"Imported {path} as a new conversation.")
            if imported.left_out:
                await self._notice("Some of the file's settings were left out", imported.left_out)

        self.app.push_screen(TextPrompt("Import a conversation: path of the JSON file", ""), chosen)

    async def action_show_earlier(self: ChatScreen, move_cursor: bool = True) -> None:
        """Draw up to SHOWN_WHEN_OPENED more of the messages before the first one drawn."""
        transcript = self.query_one(Transcript)
        if not transcript.earlier:
            return
        end = transcript.earlier
        start = max(0, end - SHOWN_WHEN_OPENED)
        views = [self._view_for(m) for m in self.conversation.shown[start:end]]
        await transcript.add_earlier(views, move_cursor=move_cursor)
        self._show_totals()  # the marks on the messages just drawn

    async def action_retry(self: ChatScreen) -> None:
        """Ask for the last reply again, as a new branch: the reply it replaces stays beside it,
        and on screen until the new one has text: a retry that fails takes nothing away."""
        if self.is_streaming:
            self.app.bell()
            return
        if not self.conversation.can_retry:
            self.notify("Nothing to retry yet: send a message first.")
            return
        replaced = self.conversation.branch_last_reply()
        if replaced is not None and not replaced.content:
            await self._hide_views([replaced])  # nothing on it to keep in view
            replaced = None
        self.take_sidebar_edits(typing_too=True)  # the context window, compact_at: as sent
        if self.due_for_compaction() and await self.compact(reply_after=True, replacing=replaced):
            return  # the reply is asked for once the summary has come (or not)
        await self._start_reply(replacing=replaced)

    async def action_drop_oldest(self: ChatScreen) -> None:
        """Take out the oldest exchange, to bring a long conversation under the model's limit."""
        await self._stop_reply()
        dropped = self.conversation.drop_oldest_exchange()
        if not dropped:
            self.notify("The conversation is already empty.")
            return
        await self._take_out(dropped, "The oldest exchange is")

    async def take_out_exchange(self: ChatScreen, message: Message) -> None:
        """Take `message` out of the conversation with the rest of its exchange."""
        exchange = self.conversation.exchange_of(message)
        if self._streaming is not None and any(m is self._streaming[0] for m in exchange):
            self.notify("That reply is still on its way: stop it first (esc).")
            return
        if not exchange:
            return
        self.conversation.take_out(exchange)
        await self._take_out(
            exchange, "That message is" if len(exchange) == 1 else "That exchange is"
        )

    async def _take_out(self: ChatScreen, messages: list[Message], what: str) -> None:
        await self._hide_views(messages)
        prompt = self.query_one(PromptInput)
        if any(m is prompt.editing for m in messages):
            prompt.forget_edit()
        self._removed.append(messages)
        self._save_soon()
        self.notify(
            f"{what} out of the conversation: not sent from now on, and kept in the saved copy. "
            f"{keymap.restore_hint()}"
        )

    async def action_restore(self: ChatScreen) -> None:
        """Bring back the exchange taken out last (in this session, else the last saved so)."""
        messages = self._removed.pop() if self._removed else self.conversation.last_removed()
        if not messages:
            self.notify("Nothing was taken out of this conversation.")
            return
        self.conversation.restore(messages)
        await self._redraw()
        transcript = self.query_one(Transcript)
        if transcript.has_focus and (view := transcript.view_of(messages[0])) is not None:
            transcript.select(view)  # where it came back
        self._save_soon()
        self.notify("Brought back into the conversation.")

    async def _hide_views(self: ChatScreen, messages: list[Message]) -> None:
        """Remove the drawn widgets of messages no longer shown; those not drawn were earlier.

        The selection moves to the nearest message left, so the message keys go on working.
        """
        gone = {id(message) for message in messages}
        transcript = self.query_one(Transcript)
        drawn = transcript.drawn_messages()
        views = [view for view in drawn if id(getattr(view, "message", None)) in gone]
        selected = transcript.selected
        if selected in views:
            after = drawn[drawn.index(selected) :] + drawn[: drawn.index(selected)][::-1]
            transcript.select(next((v for v in after if v not in views), None), scroll=False)
        for view in views:
            await view.remove()
        transcript.set_earlier(transcript.earlier - (len(messages) - len(views)))

    async def action_clear(self: ChatScreen) -> None:
        # Stop first and wait, so no text from the stopped reply lands after the clear.
        await self._stop_reply()
        await self.save()
        # The old conversation stays saved; a new one starts, with the same system prompt.
        await self._switch_to(Conversation(self.conversation.system_prompt))
        self.action_focus_prompt()

    async def _switch_to(self: ChatScreen, conversation: Conversation) -> None:
        """Put `conversation` on screen in place of the current one (drawn by the caller)."""
        self.conversation = conversation
        self._removed.clear()
        await self.query_one(Transcript).clear()
        self.query_one(PromptInput).forget_edit()  # its message belonged to the old one
        self._show_totals()

    async def open_conversation(self: ChatScreen, conversation_id: int) -> None:
        """Replace the conversation on screen with a saved one."""
        if not self._store_ready():
            return
        await self._stop_reply()
        await self.save()
        try:
            stored = await self.app.store.load(conversation_id)
        except KeyError:
            self.notify(f"No saved conversation {conversation_id}.", severity="error")
            return
        except StoreError as exc:
            self._store_failed(exc)
            return
        conversation, skipped = restored(stored)
        await self._switch_to(conversation)
        self.recorder.adopt(conversation)
        self.query_one(SettingsPanel).show_system_prompt(conversation.system_prompt)
        # Only the generation settings come back with a conversation (the connection is the
        # current one), so only they are checked: a connection saved then is not news now.
        applied = ("temperature", "max_tokens")
        settings, left_out = checked_settings({k: stored.settings.get(k) for k in applied})
        generation = {key: settings.get(key) for key in applied}
        if stored.profile in self.app.config.profiles and stored.profile != self.resolved.profile:
            await self.use_profile(stored.profile)
        self.settings = self.settings.with_changes(**generation)
        self.query_one(SettingsPanel).show(self.settings, self.resolved.sources)
        self._removed.clear()
        await self._redraw()
        self.action_focus_prompt()
        if skipped:
            left_out.append(
                f"{skipped} of its messages, neither yours nor the model's (a system message "
                "from an imported file), are neither shown nor sent."
            )
        if left_out:
            await self._notice("Some of this saved conversation could not be used", left_out)

    async def _redraw(self: ChatScreen) -> None:
        """Draw the conversation's latest shown messages afresh, scrolled to the end."""
        transcript = self.query_one(Transcript)
        await transcript.clear()
        shown = self.conversation.shown
        drawn = shown[-SHOWN_WHEN_OPENED:]
        transcript.set_earlier(len(shown) - len(drawn))
        await transcript.add(*(self._view_for(message) for message in drawn))
        transcript.scroll_end(animate=False)
        self._show_totals()

    def _view_for(self: ChatScreen, message: Message) -> UserMessage | AssistantMessage:
        if message.role is Role.USER:
            return UserMessage(message, self.conversation.chips(message))
        return AssistantMessage(message)
