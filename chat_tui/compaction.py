"""Compaction: the older part of a conversation summarised by the model, the summary sent in
its place.

The summary goes into the one system (or developer) message as a delimited section after the
system prompt, never as a second system message: servers and models differ on several, and the
system prompt must stay the user's own. The turns it stands for stay saved and shown (folded);
only the requests change. No Textual and no SDK here: the requests are plain message lists,
sent by the app's and the console's client.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from chat_tui.events import TextDelta
from chat_tui.reply_state import ReplyState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from chat_tui.events import StreamEvent
    from chat_tui.reply_outcome import ReplyOutcome

# The latest exchanges stay as they are: the model needs them word for word to go on.
KEEP_EXCHANGES = 2
SUMMARY_WORDS = 400
OPEN = "<summary-of-earlier-turns>"
CLOSE = "</summary-of-earlier-turns>"
INSTRUCTION = (
    "You summarise a conversation between a user and an AI assistant so that the assistant can "
    "continue it without the original turns. Keep every fact, decision, name, number, file "
    "name, code identifier and open question, and what the user prefers or asked to avoid; "
    "drop greetings and repetition. Write terse notes in the conversation's language, at most "
    f"{SUMMARY_WORDS} words, and nothing else."
)
ASK = "Summarise the conversation above, as instructed."
EARLIER = "A summary of the turns before these:"


def split_point(roles: Sequence[str], keep: int = KEEP_EXCHANGES) -> int:
    """How many of the messages (by `roles`, oldest first, no system message) to summarise:
    all but the last `keep` exchanges, an exchange starting at a user message. 0: too short to
    be worth it."""
    starts = [i for i, role in enumerate(roles) if role == "user"]
    if len(starts) <= keep:
        return 0
    return starts[-keep]


def as_text(message: dict[str, Any]) -> str:
    """A request message as plain text for the summariser: text parts as they are, an image
    as a mark (the summary is text; the model saw the image when it answered)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") in ("text", "input_text", "output_text"):
            parts.append(str(part.get("text", "")))
        else:
            parts.append("[an image]")
    return "\n".join(parts)


def summary_request(messages: Sequence[dict[str, Any]], earlier: str = "") -> list[dict[str, Any]]:
    """The request that asks for the summary of `messages` (no system message among them).

    `earlier`: the summary of the turns before them, from an earlier compaction: the new
    summary stands for those turns too, since it replaces that one."""
    transcript = "\n\n".join(
        f"{'User' if m.get('role') == 'user' else 'Assistant'}: {as_text(m)}" for m in messages
    )
    if earlier.strip():
        transcript = f"{EARLIER}\n{OPEN}\n{earlier.strip()}\n{CLOSE}\n\n{transcript}"
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"{transcript}\n\n{ASK}"},
    ]


def with_summary(system_prompt: str, summary: str) -> str:
    """The system prompt with the summary after it, delimited so the model reads it as notes
    on what came before, not as instructions."""
    section = f"{OPEN}\n{summary.strip()}\n{CLOSE}"
    lead = "Earlier turns of this conversation were summarised:"
    return f"{system_prompt.rstrip()}\n\n{lead}\n{section}" if system_prompt else section


def not_kept(outcome: ReplyOutcome, summary: str) -> str:
    """Why the summary's request brought nothing to keep, in a sentence ("" when it did: a
    complete, non-empty summary). Anything else leaves the conversation as it was."""
    state = outcome.state
    if state is ReplyState.COMPLETE and summary.strip():
        return ""
    if state is ReplyState.STOPPED:
        return "Compaction stopped: nothing changed."
    error = outcome.error
    why = f"{error.title}. {error.detail}".strip() if error else f"{state.ending}."
    if state is ReplyState.COMPLETE:
        why = "the model sent an empty summary."
    return f"Compaction failed: {why} Nothing changed."


def too_short(keep: int = KEEP_EXCHANGES) -> str:
    return (
        f"Too short to compact: the last {keep} exchanges always go as they are, and there is "
        "nothing before them to summarise."
    )


async def read_summary(stream: AsyncIterator[StreamEvent], outcome: ReplyOutcome) -> str:
    """The summary's text from its request's `stream` (a client's), which `outcome` watches
    to say how it ended."""
    text: list[str] = []
    async with aclosing(stream) as events:
        async for event in events:
            outcome.observe(event)
            if isinstance(event, TextDelta):
                text.append(event.text)
    return "".join(text)
