"""Keeps the saved copy of the conversation in step with the one on screen.

`save()` is idempotent: it creates what is new and updates what changed, so the app calls it
whenever something happened (a message sent, a second of streaming, a reply ended) without
tracking what is already written. If the database fails, the user is told, the chat goes on in
memory, and the next save that works writes everything that was missed: saving resumes by
itself once the database can be written again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from chat_tui.conversation import Conversation, Hidden, Message, Role
from chat_tui.errors import ChatError
from chat_tui.reply_state import ReplyState
from chat_tui.reply_stats import ReplyStats
from chat_tui.settings import saved_settings
from chat_tui.store import ConversationGone, StoredMessage, StoreError, title_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from chat_tui.settings import Settings
    from chat_tui.store import AsyncStore, StoredConversation


def restored(stored: StoredConversation) -> tuple[Conversation, int]:
    """A saved conversation as the chat holds it, and how many of its messages were left out.

    Only the user's and the model's messages come back: a system message among them (an
    earlier version imported files with some) would be sent as an instruction nobody sees.
    """
    by_id = {m.id: m for m in stored.messages}
    made: dict[int | None, Message] = {}  # by the stored message's id
    messages: list[Message] = []
    for m in stored.messages:
        if m.role not in (Role.USER, Role.ASSISTANT):
            continue
        message = Message(
            Role(m.role),
            m.content,
            ReplyState.saved(m.state),
            m.id,
            ReplyStats.from_dict(m.stats),
            ChatError.from_dict(m.error),
            Hidden.saved(m.hidden),
            m.reasoning,
            list(m.attachments) if m.role == Role.USER else [],
            parent=_kept_ancestor(m.parent, by_id, made),
            summary=m.summary,
        )
        made[m.id] = message
        messages.append(message)
    conversation = Conversation(stored.system_prompt, [], stored.id)
    conversation.messages = messages  # as saved: not made linear (see Conversation)
    leaf = stored.path()[-1].id if stored.messages else None
    conversation.leaf = made.get(leaf) or _kept_ancestor(leaf, by_id, made)
    return conversation, len(stored.messages) - len(messages)


def _kept_ancestor(
    parent: int | None, by_id: dict[int | None, StoredMessage], made: dict[int | None, Message]
) -> Message | None:
    """The message restored for the saved one `parent`, or for its nearest ancestor that was
    (a system message in between is left out)."""
    seen: set[int] = set()
    while parent is not None and parent not in made and parent not in seen:
        seen.add(parent)
        above = by_id.get(parent)
        parent = above.parent if above is not None else None
    return made.get(parent) if parent is not None else None


def _stored(message: Message, keys: dict[int, int] | None = None) -> StoredMessage:
    """A message as the store writes it (its attachments only when it is new: they never
    change once sent). A new one is written with `keys`: its own key, and its parent's saved
    id or key (see Store.save_messages)."""
    parent = message.parent
    parent_id = None
    if parent is not None and keys is not None:
        parent_id = parent.id if parent.id is not None else keys[id(parent)]
    return StoredMessage(
        message.role.value,
        message.content,
        message.state.value,
        keys[id(message)] if keys is not None else message.id,
        message.stats.to_dict() if message.stats is not None else None,
        message.hidden.value if message.hidden is not None else None,
        message.error.to_dict() if message.error is not None else None,
        message.reasoning,
        message.attachments if message.id is None else [],
        parent_id,
        message.summary,
    )


# What says whether a saved message changed: see _written.
Written = tuple[int, int, str, bool, Hidden | None, bool, str]


def _written(message: Message) -> Written:
    """What says whether a saved message changed (its texts only grow)."""
    return (
        len(message.content),
        len(message.reasoning),
        message.state.value,
        message.stats is not None,
        message.hidden,
        message.error is not None,
        message.summary,  # set once, by a compaction
    )


def _title_text(conversation: Conversation, message: Message) -> str:
    """What a conversation's title is made of: its first message, or its attachments' chips
    when it is only attachments."""
    return message.content if message.content.strip() else " ".join(conversation.chips(message))


class Recorder:
    def __init__(
        self,
        store: AsyncStore,
        on_error: Callable[[str], None],
        on_resumed: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._on_error = on_error
        self._on_resumed = on_resumed
        self._lock = asyncio.Lock()
        # message id -> what of it was written last (see _written)
        self._saved: dict[int, Written] = {}
        self._meta: dict[int, tuple[str, str | None, dict[str, Any]]] = {}
        # conversation id -> the id of the leaf written last (the end of the branch shown)
        self._leaves: dict[int, int | None] = {}
        # Why saving fails, until a save works again (the status line shows it meanwhile).
        self.failing: StoreError | None = None
        # What a failed save left unwritten: conversations put aside meanwhile (cleared,
        # switched from); each later save tries them first.
        self._behind: dict[int, tuple[Conversation, Settings, str | None]] = {}

    @property
    def busy(self) -> bool:
        """A save is running (retrying while one waits for a lock would only pile up)."""
        return self._lock.locked()

    def adopt(self, conversation: Conversation) -> None:
        """A conversation just loaded from the store: everything in it is saved already."""
        for message in conversation.messages:
            if message.id is not None:
                self._saved[message.id] = _written(message)
        if conversation.id is not None and conversation.leaf is not None:
            self._leaves[conversation.id] = conversation.leaf.id

    async def save(
        self, conversation: Conversation, settings: Settings, profile: str | None
    ) -> None:
        # Before the database is open nothing is written; being idempotent, the next save
        # catches up with everything.
        if not self._store.is_open:
            return
        async with self._lock:
            if conversation.messages:
                self._behind[id(conversation)] = (conversation, settings, profile)
            try:
                for key, (behind, kept, name) in list(self._behind.items()):
                    try:
                        await self._save(behind, kept, name)
                    except ConversationGone:
                        # Deleted elsewhere. One put aside goes as the user wished; the one on
                        # screen is saved afresh, or none of what follows would ever be.
                        if behind is conversation:
                            self._detach(behind)
                            await self._save(behind, kept, name)
                    del self._behind[key]
            except (StoreError, OSError) as exc:
                self._fail(exc)
            else:
                self._resume()

    def _detach(self, conversation: Conversation) -> None:
        """Forget that `conversation` was saved: the next save writes all of it anew."""
        self._meta.pop(conversation.id or 0, None)
        self._leaves.pop(conversation.id or 0, None)
        conversation.id = None
        for message in conversation.messages:
            self._saved.pop(message.id or 0, None)
            message.id = None

    async def _save(
        self, conversation: Conversation, settings: Settings, profile: str | None
    ) -> None:
        store = self._store
        meta = (conversation.system_prompt, profile, saved_settings(settings))
        if conversation.id is None:
            first = next((_title_text(conversation, m) for m in conversation.messages), "")
            conversation.id = await store.create_conversation(title_for(first), *meta)
        elif self._meta.get(conversation.id) != meta:
            await store.update_conversation(
                conversation.id,
                system_prompt=meta[0],
                profile=meta[1],
                settings=meta[2],
            )
        self._meta[conversation.id] = meta
        # What is new or changed, checked here (cheap: a tuple per message) and written in one
        # call: a long conversation costs the store's thread one transaction, and the event
        # loop one round trip, instead of one per message.
        new: list[tuple[Message, Written]] = []
        changed: list[tuple[Message, Written]] = []
        for message in conversation.messages:
            written = _written(message)
            if message.id is None:
                new.append((message, written))
            elif self._saved.get(message.id) != written:
                changed.append((message, written))
        # New messages get keys (their parents and the leaf may be new too: see save_messages).
        keys = {id(message): -number for number, (message, _) in enumerate(new, 1)}
        leaf = conversation.leaf
        leaf_key = (leaf.id or keys.get(id(leaf))) if leaf is not None else None
        moved = self._leaves.get(conversation.id) != leaf_key
        if not new and not changed and not moved:
            return
        ids = await store.save_messages(
            conversation.id,
            [_stored(message, keys) for message, _ in new],
            [_stored(message) for message, _ in changed],
            leaf_key if moved else None,
        )
        # Only once all of it is written: after a failure, the next save writes it all again.
        for (message, written), message_id in zip(new, ids, strict=True):
            message.id = message_id
            self._saved[message_id] = written
        for message, written in changed:
            assert message.id is not None
            self._saved[message.id] = written
        if moved and leaf_key is not None:
            self._leaves[conversation.id] = leaf.id if leaf is not None else None

    def _fail(self, exc: StoreError | OSError) -> None:
        problem = exc if isinstance(exc, StoreError) else StoreError(self._store.path, str(exc))
        told = self.failing is not None and self.failing.reason == problem.reason
        self.failing = problem
        if not told:
            self._on_error(
                f"Saving failed: {problem}. This chat goes on in memory, and is saved as soon "
                "as the database can be written again."
            )

    def _resume(self) -> None:
        if self.failing is not None:
            self.failing = None
            if self._on_resumed is not None:
                self._on_resumed()
