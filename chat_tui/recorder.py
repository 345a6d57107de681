"""Keeps the saved copy of the conversation in step with the one on screen.

`save()` is idempotent: it creates what is new and updates what changed, so the app calls it
whenever something happened (a message sent, a second of streaming, a reply ended) without
tracking what is already written. If the database fails, saving stops, the user is told once,
and the chat goes on in memory.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Any

from chat_tui.store import StoreError, title_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from chat_tui.conversation import Conversation, Message
    from chat_tui.settings import Settings
    from chat_tui.store import AsyncStore


def saved_settings(settings: Settings) -> dict[str, Any]:
    """The settings a conversation keeps: the connection and generation, never the key."""
    return {
        "provider": settings.provider.value,
        "endpoint": settings.where if settings.endpoint else "",
        "model": settings.model,
        "api_version": settings.api_version,
        "auth": settings.auth.value,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
    }


def _written(message: Message) -> tuple[int, str, bool]:
    return (len(message.content), message.state.value, message.stats is not None)


class Recorder:
    def __init__(self, store: AsyncStore, on_error: Callable[[str], None]) -> None:
        self._store = store
        self._on_error = on_error
        self._lock = asyncio.Lock()
        # message id -> (length, state, has stats) as written
        self._saved: dict[int, tuple[int, str, bool]] = {}
        self._meta: dict[int, tuple[str, str | None, dict[str, Any]]] = {}
        self.enabled = True

    def adopt(self, conversation: Conversation) -> None:
        """A conversation just loaded from the store: everything in it is saved already."""
        for message in conversation.messages:
            if message.id is not None:
                self._saved[message.id] = _written(message)

    async def save(
        self, conversation: Conversation, settings: Settings, profile: str | None
    ) -> None:
        # Before the database is open nothing is written; being idempotent, the next save
        # catches up with everything.
        if not self.enabled or not conversation.messages or not self._store.is_open:
            return
        async with self._lock:
            try:
                await self._save(conversation, settings, profile)
            except (StoreError, sqlite3.Error, OSError) as exc:
                self._fail(exc)

    async def _save(
        self, conversation: Conversation, settings: Settings, profile: str | None
    ) -> None:
        store = self._store.store
        meta = (conversation.system_prompt, profile, saved_settings(settings))
        if conversation.id is None:
            first = next((m.content for m in conversation.messages), "")
            conversation.id = await self._store.call(
                store.create_conversation, title_for(first), *meta
            )
        elif self._meta.get(conversation.id) != meta:
            await self._store.call(
                store.update_conversation,
                conversation.id,
                system_prompt=meta[0],
                profile=meta[1],
                settings=meta[2],
            )
        self._meta[conversation.id] = meta
        for message in list(conversation.messages):
            await self._save_message(conversation.id, message)

    async def _save_message(self, conversation_id: int, message: Message) -> None:
        store = self._store.store
        written = _written(message)
        stats = message.stats.to_dict() if message.stats is not None else None
        if message.id is None:
            message.id = await self._store.call(
                store.add_message,
                conversation_id,
                message.role.value,
                message.content,
                message.state.value,
                stats,
            )
        elif self._saved.get(message.id) != written:
            await self._store.call(
                store.update_message, message.id, message.content, message.state.value, stats
            )
        self._saved[message.id] = written

    async def forget(self, messages: Iterable[Message]) -> None:
        """Delete messages taken out of the conversation (a retried reply, a dropped turn)."""
        ids = [m.id for m in messages if m.id is not None]
        if not self.enabled or not ids or not self._store.is_open:
            return
        async with self._lock:
            try:
                await self._store.call(self._store.store.delete_messages, ids)
            except (StoreError, sqlite3.Error, OSError) as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.enabled = False
        where = self._store.store.path or "memory"
        self._on_error(f"Saving to {where} failed ({exc}); this chat goes on in memory only.")
