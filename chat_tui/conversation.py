"""The conversation: a system prompt and the messages exchanged so far.

What a reply contributes to the next request (documented in the README):
- a finished reply is sent as it is;
- a reply that was stopped, cut off, filtered, left incomplete or interrupted is sent with the text
  that arrived, since the user saw it and may refer to it;
- a reply with no text (failed before the first token) is not sent at all; the user's message
  that asked for it stays and is sent again with the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from chat_tui.reply_state import ReplyState

if TYPE_CHECKING:
    from chat_tui.reply_stats import ReplyStats


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(slots=True)
class Message:
    role: Role
    content: str
    # Only meaningful for assistant replies.
    state: ReplyState = ReplyState.COMPLETE
    id: int | None = None  # the row in the conversation store, once saved
    stats: ReplyStats | None = None  # how a reply went, once it has ended

    def append(self, text: str) -> None:
        self.content += text

    @property
    def counts_in_history(self) -> bool:
        """Whether this message is sent with later requests (see the module docstring)."""
        if self.role is not Role.ASSISTANT:
            return True
        return self.state.is_final and bool(self.content)


@dataclass(slots=True)
class Conversation:
    system_prompt: str
    messages: list[Message] = field(default_factory=list)
    id: int | None = None  # the conversation store's id, once saved

    def add_user(self, text: str) -> Message:
        message = Message(Role.USER, text)
        self.messages.append(message)
        return message

    def begin_reply(self) -> Message:
        reply = Message(Role.ASSISTANT, "", ReplyState.STREAMING)
        self.messages.append(reply)
        return reply

    def request_messages(self) -> list[dict[str, str]]:
        """The messages for the next request: the system prompt, then the history that counts."""
        sent: list[dict[str, str]] = []
        if self.system_prompt.strip():
            sent.append({"role": Role.SYSTEM.value, "content": self.system_prompt})
        sent.extend(
            {"role": m.role.value, "content": m.content}
            for m in self.messages
            if m.counts_in_history
        )
        return sent

    def remove_last_reply(self) -> Message | None:
        """Take back the last reply (to retry or regenerate it), if the last message is one."""
        if self.messages and self.messages[-1].role is Role.ASSISTANT:
            return self.messages.pop()
        return None

    @property
    def can_retry(self) -> bool:
        """A request can be made again: there is a user message to answer."""
        return any(m.role is Role.USER for m in self.messages)

    def drop_oldest_exchange(self) -> list[Message]:
        """Remove the first user message and the replies to it, to shorten the history."""
        starts = [i for i, m in enumerate(self.messages) if m.role is Role.USER]
        if not starts:
            return []
        end = starts[1] if len(starts) > 1 else len(self.messages)
        dropped, self.messages[:end] = self.messages[:end], []
        return dropped

    def rewind_to(self, message: Message) -> list[Message]:
        """Remove `message` and everything after it (to edit and resend it); returns them."""
        index = next((i for i, m in enumerate(self.messages) if m is message), None)
        if index is None:
            return []
        removed, self.messages[index:] = self.messages[index:], []
        return removed

    @property
    def tokens_used(self) -> int:
        """Tokens the server reported for this conversation's replies, prompt and completion."""
        return sum(m.stats.total_tokens for m in self.messages if m.stats is not None)

    @property
    def context_tokens(self) -> int | None:
        """The size of the last reported exchange: about what the next request will carry."""
        for message in reversed(self.messages):
            if message.stats is not None and message.stats.prompt_tokens is not None:
                return message.stats.total_tokens
        return None

    def clear(self) -> None:
        """Forget the messages; the system prompt stays, as in the seed samples."""
        self.messages.clear()

    def __len__(self) -> int:
        return len(self.messages)
