"""The conversation: a system prompt and the messages exchanged so far.

What a reply contributes to the next request (documented in the README):
- a finished reply is sent as it is;
- a reply that was stopped, cut off, filtered, left incomplete or interrupted is sent with the text
  that arrived, since the user saw it and may refer to it;
- a reply with no text (failed before the first token) is not sent at all; the user's message
  that asked for it is pending: it is sent again with the next request;
- unless the server refused the request for what that message is (too long, filtered, a bad
  request): then the message is not sent again until the user retries or edits it, or later
  messages would fail with it.

Nothing the user saw is deleted. The messages form a tree: each follows its `parent` (None for
a first message), and the conversation shows one path through it, from the first message to its
`leaf`. A retry asks for a new reply beside the old one (the same parent), an edit sends a new
message beside the one edited: the old turns stay as another branch, which the user can switch
back to. A message taken out of the conversation (with its replies) stays on the path, hidden,
and can be restored.

Compaction (see compaction.py): the model's summary of the older turns of the branch shown is
kept on the last message it covers. Requests then carry the summary (in the system message) in
place of the turns up to that message; the turns stay, shown folded. A branch that leaves the
path before that message does not contain it, so it sends its own turns in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chat_tui.attachments import MAX_IMAGES, content_parts, image_numbers
from chat_tui.compaction import KEEP_EXCHANGES, split_point, summary_request, with_summary
from chat_tui.reply_state import ReplyState

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chat_tui.attachments import Attachment
    from chat_tui.errors import ChatError
    from chat_tui.reply_stats import ReplyStats


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class Hidden(StrEnum):
    """Why a message is no longer shown nor sent (it stays saved)."""

    REMOVED = "removed"  # the user took it out; it can be restored

    @classmethod
    def saved(cls, value: object) -> Hidden | None:
        """As read back from the store or a file: anything unknown is shown (nothing lost)."""
        return cls(value) if isinstance(value, str) and value in cls._value2member_map_ else None


class Delivery(StrEnum):
    """Where one of the user's messages stands, as its reply left it."""

    SENT = "sent"  # answered, or carried by a later request that was
    WAITING = "waiting"  # its reply is on its way
    PENDING = "pending"  # its reply failed (network, key, server): it goes with the next request
    REFUSED = "refused"  # the server refused it for what it is: not sent again as it is


@dataclass(slots=True)
class Message:
    role: Role
    content: str
    # Only meaningful for assistant replies.
    state: ReplyState = ReplyState.COMPLETE
    id: int | None = None  # the row in the conversation store, once saved
    stats: ReplyStats | None = None  # how a reply went, once it has ended
    error: ChatError | None = None  # why a reply failed, kept with it
    hidden: Hidden | None = None
    reasoning: str = ""  # a reasoning model's thinking, shown apart and never sent back
    # Files and images the user attached (user messages only), in the order attached.
    attachments: list[Attachment] = field(default_factory=list)
    # The message this one follows in the tree (None for a first message). Not compared nor
    # shown in a repr: a long chain would recurse through every earlier message.
    parent: Message | None = field(default=None, compare=False, repr=False)
    # The summary of the branch up to and including this message, when a compaction ended its
    # summarised part here ("" otherwise): requests carry it in place of those turns.
    summary: str = ""

    def append(self, text: str) -> None:
        self.content += text

    @property
    def shown(self) -> bool:
        return self.hidden is None

    @property
    def refused(self) -> bool:
        """A reply that failed because the server refused the request for what it carried."""
        return self.role is Role.ASSISTANT and self.error is not None and self.error.refused


@dataclass(slots=True)
class Compaction:
    """What a compaction summarises: the shown `messages` (oldest first), the last of which
    keeps the summary, and the `request` that asks the model for it."""

    messages: list[Message]
    request: list[dict[str, Any]]

    @property
    def through(self) -> Message:
        return self.messages[-1]


@dataclass(slots=True)
class Conversation:
    system_prompt: str
    # Every message of every branch, in the order they were made (a parent before its children).
    messages: list[Message] = field(default_factory=list)
    id: int | None = None  # the conversation store's id, once saved
    # The last message of the branch shown; None: the last message made.
    leaf: Message | None = None

    def __post_init__(self) -> None:
        # Messages given without any parent are one linear chat (as earlier versions kept them).
        if len(self.messages) > 1 and all(m.parent is None for m in self.messages):
            for before, after in zip(self.messages, self.messages[1:], strict=False):
                after.parent = before
        if self.leaf is None and self.messages:
            self.leaf = self.messages[-1]

    def _follow(self, message: Message) -> Message:
        """Add `message` after the end of the branch shown, which it ends now."""
        message.parent = self.leaf
        self.messages.append(message)
        self.leaf = message
        return message

    def add_user(self, text: str, attachments: Sequence[Attachment] = ()) -> Message:
        """A message from the user: `text` may be empty when there are attachments."""
        return self._follow(Message(Role.USER, text, attachments=list(attachments)))

    def begin_reply(self) -> Message:
        return self._follow(Message(Role.ASSISTANT, "", ReplyState.STREAMING))

    @property
    def path(self) -> list[Message]:
        """The branch shown, from its first message to its leaf, messages taken out included."""
        path: list[Message] = []
        message = self.leaf
        while message is not None:
            path.append(message)
            message = message.parent
        path.reverse()
        return path

    @property
    def shown(self) -> list[Message]:
        """The messages on screen, in order: the branch shown, without those taken out."""
        return [m for m in self.path if m.hidden is None]

    # -- branches -------------------------------------------------------------------------

    def siblings(self, message: Message) -> list[Message]:
        """`message` and the others with the same parent (its other branches), oldest first."""
        return [m for m in self.messages if m.parent is message.parent]

    def branch_of(self, message: Message) -> tuple[int, int]:
        """Which of its siblings `message` is, from 1, and how many there are."""
        siblings = self.siblings(message)
        index = next((i for i, m in enumerate(siblings) if m is message), 0)
        return index + 1, len(siblings)

    def branch_marks(self, messages: Sequence[Message]) -> list[tuple[int, int]]:
        """`branch_of` for each of `messages`, in one pass over the conversation."""
        children: dict[int, list[Message]] = {}
        for m in self.messages:
            children.setdefault(id(m.parent), []).append(m)
        marks = []
        for message in messages:
            siblings = children.get(id(message.parent), [message])
            index = next((i for i, m in enumerate(siblings) if m is message), 0)
            marks.append((index + 1, len(siblings)))
        return marks

    def last_branching(self) -> Message | None:
        """The last shown message that has others beside it, if any."""
        shown = self.shown
        marks = self.branch_marks(shown)
        return next((m for m, (_, n) in zip(shown[::-1], marks[::-1], strict=True) if n > 1), None)

    def latest_leaf(self, message: Message) -> Message:
        """The message made last among `message` and everything that follows it."""
        inside = {id(message)}
        latest = message
        start = next((i for i, m in enumerate(self.messages) if m is message), len(self.messages))
        for later in self.messages[start + 1 :]:  # children come after their parents
            if id(later.parent) in inside:
                inside.add(id(later))
                latest = later
        return latest

    def switch_branch(self, message: Message, step: int) -> Message | None:
        """Show the sibling `step` places from `message` (-1 the previous, 1 the next), with
        the latest turns of its branch; that sibling, or None if there is none that way."""
        siblings = self.siblings(message)
        index = next((i for i, m in enumerate(siblings) if m is message), None)
        if index is None or not 0 <= index + step < len(siblings):
            return None
        chosen = siblings[index + step]
        self.leaf = self.latest_leaf(chosen)
        return chosen

    def fork(self, message: Message) -> Conversation:
        """A new conversation with copies of the shown messages up to and including `message`."""
        shown = self.shown
        end = next((i for i, m in enumerate(shown) if m is message), len(shown) - 1)
        copies = [
            Message(
                m.role,
                m.content,
                m.state,
                stats=m.stats,
                error=m.error,
                reasoning=m.reasoning,
                attachments=list(m.attachments),
                summary=m.summary,
            )
            for m in shown[: end + 1]
        ]
        return Conversation(self.system_prompt, copies)

    # -- compaction ---------------------------------------------------------------------

    def summary_point(self) -> Message | None:
        """The last message of the branch shown that a summary covers through, if any (the
        latest compaction's: it covers the earlier ones too)."""
        return next((m for m in reversed(self.path) if m.summary), None)

    def _split(self) -> tuple[list[Message], list[Message]]:
        """The shown messages a summary stands for, and those after them."""
        path = self.path
        end = next((i for i in range(len(path) - 1, -1, -1) if path[i].summary), -1)
        before = [m for m in path[: end + 1] if m.hidden is None]
        return before, [m for m in path[end + 1 :] if m.hidden is None]

    def summarised(self) -> list[Message]:
        """The shown messages the summary stands for in requests (shown folded)."""
        return self._split()[0]

    def unsummarised(self) -> list[Message]:
        """The shown messages after the summarised ones: those requests carry as they are."""
        return self._split()[1]

    def compaction(self, keep: int = KEEP_EXCHANGES) -> Compaction | None:
        """What compacting now would summarise: the turns after any earlier summary, but the
        last `keep` exchanges (with the earlier summary, which the new one replaces); None
        when that leaves nothing worth summarising."""
        recent = self.unsummarised()
        count = split_point([m.role.value for m in recent], keep)
        if count == 0:
            return None
        older = recent[:count]
        point = self.summary_point()
        sent = self._as_request(self.exchanges(older), "low", None)
        if not sent:  # only messages the server refused, which no request carries
            return None
        return Compaction(older, summary_request(sent, point.summary if point else ""))

    def compact(self, through: Message, summary: str) -> None:
        """Keep `summary` as standing for the branch up to and including `through`."""
        through.summary = summary.strip()

    def fill_messages(self) -> list[Message]:
        """What the next request carries, for the context meter: the summary (as a message
        of its own, to be counted) and the messages after it."""
        point = self.summary_point()
        recent = self.unsummarised()
        return [Message(Role.SYSTEM, point.summary), *recent] if point is not None else recent

    def exchanges(
        self, messages: Sequence[Message] | None = None
    ) -> Iterator[tuple[Message | None, list[Message]]]:
        """The shown messages (or `messages`) as (user message, its replies); None for replies
        before any."""
        user: Message | None = None
        replies: list[Message] = []
        for message in self.shown if messages is None else messages:
            if message.role is Role.USER:
                if user is not None or replies:
                    yield user, replies
                user, replies = message, []
            else:
                replies.append(message)
        if user is not None or replies:
            yield user, replies

    def deliveries(self) -> dict[int, Delivery]:
        """Where each shown user message stands, by `id()` of the message."""
        found: dict[int, Delivery] = {}
        unanswered: list[Message] = []  # pending until a later request gets an answer
        for user, replies in self.exchanges():
            if user is None:
                continue
            last = replies[-1] if replies else None
            found[id(user)] = delivery = _delivery(last)
            if delivery is Delivery.PENDING:
                unanswered.append(user)
            elif last is not None and last.content:
                for earlier in unanswered:  # this request carried them, and was answered
                    found[id(earlier)] = Delivery.SENT
                unanswered.clear()
        return found

    def request_messages(
        self, *, detail: str = "auto", max_images: int = MAX_IMAGES
    ) -> list[dict[str, Any]]:
        """The messages for the next request: the system prompt, then the history that counts
        (see the module docstring).

        A message without attachments has its text as `content`; one with attachments has
        Chat Completions content parts (see `attachments.content_parts`), images with this
        `detail`. Only the last `max_images` images go; older ones are replaced by a short
        placeholder (`images_left_out` says how many).
        """
        sent: list[dict[str, Any]] = []
        point = self.summary_point()
        system = with_summary(self.system_prompt, point.summary) if point else self.system_prompt
        if system.strip():
            sent.append({"role": Role.SYSTEM.value, "content": system})
        sent_images = set(self._sent_images(max_images))
        return sent + self._as_request(self.exchanges(self.unsummarised()), detail, sent_images)

    def _as_request(
        self,
        exchanges: Iterator[tuple[Message | None, list[Message]]],
        detail: str,
        sent_images: set[int] | None,
    ) -> list[dict[str, Any]]:
        """The request messages for `exchanges` (see request_messages); `sent_images`: the
        numbers of the images sent as they are (None: all of them)."""
        numbers: dict[int, list[int]] | None = None  # numbered only when there are any
        sent: list[dict[str, Any]] = []
        for user, replies in self._sent(exchanges):
            if user is not None:
                content: str | list[dict[str, Any]] = user.content
                if user.attachments:
                    numbers = numbers or self.image_numbers()
                    ours = numbers[id(user)]
                    images = set(ours) if sent_images is None else sent_images
                    content = content_parts(user.content, user.attachments, ours, detail, images)
                sent.append({"role": user.role.value, "content": content})
            sent.extend({"role": reply.role.value, "content": reply.content} for reply in replies)
        return sent

    @staticmethod
    def _sent(
        exchanges: Iterator[tuple[Message | None, list[Message]]],
    ) -> Iterator[tuple[Message | None, list[Message]]]:
        """Of `exchanges`, those a request carries, each with the replies it sends."""
        for user, replies in exchanges:
            if not any(reply.refused for reply in replies):
                yield user, [r for r in replies if r.state.is_final and r.content]

    def _sent_exchanges(self) -> Iterator[tuple[Message | None, list[Message]]]:
        """The exchanges the next request carries (after any summary), with their replies."""
        return self._sent(self.exchanges(self.unsummarised()))

    def image_numbers(self) -> dict[int, list[int]]:
        """Each message's image numbers by `id()` of the message, one per attachment (0 for a
        file): images are numbered 1, 2, … through the whole conversation, hidden messages
        included, so a number never changes when a message is taken out or restored."""
        groups = image_numbers(m.attachments for m in self.messages)
        return {id(m): numbers for m, numbers in zip(self.messages, groups, strict=True)}

    def chips(self, message: Message) -> list[str]:
        """What the transcript shows for `message`'s attachments, in order."""
        numbers = self.image_numbers().get(id(message), [])
        return [a.chip(n) for a, n in zip(message.attachments, numbers, strict=False)]

    def _sent_images(self, max_images: int) -> list[int]:
        """The numbers of the images the next request carries: the last `max_images` of those
        in the messages it sends."""
        if not self._has_images():
            return []
        numbers = self.image_numbers()
        carried = [
            number
            for user, _ in self._sent_exchanges()
            if user is not None
            for attachment, number in zip(user.attachments, numbers[id(user)], strict=True)
            if attachment.is_image and attachment.data
        ]
        return carried[-max_images:] if max_images > 0 else []

    def _has_images(self) -> bool:
        """Whether any message has an image: most have none, and a long conversation is
        then not walked again for them on every request (they would cost it milliseconds)."""
        return any(a.is_image for m in self.messages for a in m.attachments)

    def images_left_out(self, max_images: int = MAX_IMAGES) -> int:
        """How many images of the history the next request replaces by a placeholder, for the
        limit of images per request (the app tells the user)."""
        if not self._has_images():
            return 0
        total = sum(
            1
            for user, _ in self._sent_exchanges()
            if user is not None
            for attachment in user.attachments
            if attachment.is_image and attachment.data
        )
        return total - len(self._sent_images(max_images))

    def last_reply(self) -> Message | None:
        """The last shown message, if it is a reply."""
        shown = self.shown
        return shown[-1] if shown and shown[-1].role is Role.ASSISTANT else None

    def branch_last_reply(self) -> Message | None:
        """Step back before the last reply, if the last message is one: the next reply (asked
        for again) goes beside it, and it stays as another branch."""
        reply = self.last_reply()
        if reply is not None:
            self.leaf = reply.parent
        return reply

    def show(self, message: Message) -> None:
        """Show the branch that ends with `message`."""
        self.leaf = message

    @property
    def can_retry(self) -> bool:
        """A request can be made again: there is a user message to answer."""
        return any(m.role is Role.USER for m in self.shown)

    def exchange_of(self, message: Message) -> list[Message]:
        """The shown exchange `message` belongs to: the user message and its replies."""
        for user, replies in self.exchanges():
            group = [user, *replies] if user is not None else replies
            if any(m is message for m in group):
                return group
        return []

    def take_out(self, messages: list[Message]) -> list[Message]:
        """Hide `messages` as removed by the user: no longer sent, kept, restorable."""
        for message in messages:
            message.hidden = Hidden.REMOVED
        return messages

    def drop_oldest_exchange(self) -> list[Message]:
        """Take out the first exchange the next request would carry (after any summary), to
        shorten the history."""
        first = next(self.exchanges(self.unsummarised()), None)
        if first is None:
            return []
        user, replies = first
        return self.take_out([user, *replies] if user is not None else replies)

    def restore(self, messages: list[Message]) -> None:
        """Bring messages taken out back, in their place."""
        for message in messages:
            if message.hidden is Hidden.REMOVED:
                message.hidden = None

    def last_removed(self) -> list[Message]:
        """The last exchange taken out, in order; [] if none.

        Exchanges are taken out whole, so it is the last user message taken out and the replies
        taken out after it.
        """
        removed = [m for m in self.path if m.hidden is Hidden.REMOVED]
        starts = [i for i, m in enumerate(removed) if m.role is Role.USER]
        return removed[starts[-1] :] if starts else removed

    def rewind_to(self, message: Message) -> list[Message]:
        """Step back before `message` (to edit and resend it): the message sent next goes
        beside it, and it stays with what followed as another branch. The shown messages
        that leave the screen."""
        shown = self.shown
        index = next((i for i, m in enumerate(shown) if m is message), None)
        if index is None:
            return []
        self.leaf = message.parent
        return shown[index:]

    @property
    def tokens_used(self) -> int:
        """Tokens the server reported for this conversation's replies, prompt and completion."""
        return sum(m.stats.total_tokens for m in self.messages if m.stats is not None)

    @property
    def context_tokens(self) -> int | None:
        """The size of the last reported exchange: about what the next request will carry."""
        for message in reversed(self.shown):
            if message.stats is not None and message.stats.prompt_tokens is not None:
                return message.stats.total_tokens
        return None

    def clear(self) -> None:
        """Forget the messages; the system prompt stays, as in the seed samples."""
        self.messages.clear()
        self.leaf = None

    def __len__(self) -> int:
        """How many messages are shown (and may be sent)."""
        return len(self.shown)


def _delivery(reply: Message | None) -> Delivery:
    """Where a user message stands, as its (last) reply says."""
    if reply is None:  # never asked: a message queued when the app quit
        return Delivery.PENDING
    if reply.state is ReplyState.STREAMING:
        return Delivery.WAITING
    if reply.refused:
        return Delivery.REFUSED
    return Delivery.PENDING if reply.state is ReplyState.FAILED else Delivery.SENT
