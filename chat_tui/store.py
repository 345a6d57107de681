"""Saved conversations: SQLite in the platform's data directory, written as the chat happens.

The database is in WAL mode, so two chat-tui processes can write at once; its schema is versioned
(`PRAGMA user_version`) and migrated step by step. No secret is ever written: a conversation keeps
its connection settings without the API key. Conversations are private all the same: the data
directory is owner-only (0700), and so are the database and its -wal and -shm files (0600).

Every SQLite failure leaves the store as a StoreError naming the file and saying what is wrong.

`Store` is synchronous; `AsyncStore` runs it on one thread of its own, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from chat_tui.attachments import IMAGE_TYPES, Attachment, Kind
from chat_tui.private_files import expand_home, private_dir, replace_private, tighten

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Sequence

DATA_DIR_VARIABLE = "CHAT_TUI_DATA_DIR"
DATABASE_NAME = "conversations.db"
ATTACHMENTS_DIR = "attachments"  # beside the database: the images of its messages
TITLE_LENGTH = 60

# Each step brings the schema from version N-1 to N. Never edit a step once released: add one.
MIGRATIONS: dict[int, str] = {
    1: """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            system_prompt TEXT NOT NULL DEFAULT '',
            profile TEXT,
            settings TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            state TEXT NOT NULL,
            created REAL NOT NULL,
            usage TEXT
        );
        CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    """,
    # Nothing a user saw is deleted: messages taken out or replaced are kept, hidden, and a
    # failed reply keeps its error (as JSON, like the usage).
    2: """
        ALTER TABLE messages ADD COLUMN hidden TEXT;
        ALTER TABLE messages ADD COLUMN error TEXT
    """,
    # A reasoning model's thinking, kept with its reply (never sent back); and what servers
    # taught about their models (a parameter a model rejects, the API it answers on, the model
    # behind a deployment), per endpoint and model, so it is not learned again each run.
    3: """
        ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
        CREATE TABLE lessons (
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            lesson TEXT NOT NULL,
            value TEXT NOT NULL,
            learned REAL NOT NULL,
            PRIMARY KEY (endpoint, model, lesson, value)
        )
    """,
    # Files and images attached to the user's messages: a file's text is kept here, an
    # image's bytes in attachments/<sha256>.<ext> beside the database (shared by every message
    # that holds the same image, deleted with the last).
    4: """
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            mime TEXT NOT NULL,
            size INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            lines INTEGER NOT NULL DEFAULT 0,
            truncated INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT NOT NULL DEFAULT '',
            width INTEGER NOT NULL DEFAULT 0,
            height INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX attachments_by_message ON attachments(message_id, position);
        CREATE INDEX attachments_by_image ON attachments(sha256)
    """,
    # Branches: each message follows its parent (NULL for a first message), and a conversation
    # shows the branch that ends with its leaf. A retry or an edit adds a branch beside the
    # old turns, which stay; the rows an earlier version kept hidden as replaced become such
    # branches (see _grow_trees, run right after this step).
    5: """
        ALTER TABLE messages ADD COLUMN parent_id INTEGER;
        ALTER TABLE conversations ADD COLUMN leaf_id INTEGER
    """,
    # Compaction: the model's summary of a branch's older turns, kept on the last message it
    # covers ('' on every other); requests carry it in place of those turns.
    6: """
        ALTER TABLE messages ADD COLUMN summary TEXT NOT NULL DEFAULT ''
    """,
}
SCHEMA_VERSION = max(MIGRATIONS)

# How earlier versions marked the turns a retry or an edit replaced (schema 2 to 4, export
# versions 2 and 3): only read, to turn them into branches.
SUPERSEDED = "superseded"


class StoreError(Exception):
    """The database cannot be used (corrupt, locked, unwritable); the message says which file.

    `reason` says what is wrong in a few words, fit for a status line; the message adds the
    file and SQLite's own words (`detail`).
    """

    def __init__(self, path: Path | None, reason: str, detail: str = "") -> None:
        where = path if path is not None else "memory"
        super().__init__(f"{where}: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason


class ConversationGone(StoreError):
    """The conversation (or message) written to is no longer in the database: it was deleted,
    from another window say, while this one still had it open."""


P = ParamSpec("P")
T = TypeVar("T")


def _reported(method: Callable[Concatenate[Store, P], T]) -> Callable[Concatenate[Store, P], T]:
    """Any SQLite failure in `method` becomes a StoreError: callers handle one kind of error,
    and a damaged page found in the middle of a query is reported like any other."""

    @functools.wraps(method)
    def checked(self: Store, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, UnicodeEncodeError) as exc:  # the latter: a lone surrogate
            raise _failure(self.path, exc) from exc

    return checked


def default_data_dir(env: dict[str, str]) -> Path:
    override = env.get(DATA_DIR_VARIABLE, "").strip()
    if override:
        return expand_home(Path(override))  # the user's choice: left as it is
    from platformdirs import user_data_path

    path = user_data_path("chat-tui", appauthor=False)
    tighten(path, 0o700)  # chat-tui's own: an earlier version left it readable to others
    return path


@dataclass(slots=True)
class StoredMessage:
    role: str
    content: str
    state: str
    id: int | None = None
    stats: dict[str, Any] | None = None  # a reply's ReplyStats, as a dict
    hidden: str | None = None  # why it is not shown: "removed" (taken out)
    error: dict[str, Any] | None = None  # why a reply failed: a ChatError, as a dict
    reasoning: str = ""  # what a reasoning model showed of its thinking
    attachments: list[Attachment] = field(default_factory=list)  # a user message's files
    # The id of the message this one follows; None for a first message. Among messages written
    # together (save_messages, import_conversation) it may be the `id` of one written before
    # it in the same call, a key of the caller's (see _insert_rows).
    parent: int | None = None
    summary: str = ""  # the summary of the branch up to this message (see Message.summary)

    @property
    def shown(self) -> bool:
        return self.hidden is None


@dataclass(slots=True)
class StoredConversation:
    id: int
    title: str
    created: float
    updated: float
    system_prompt: str = ""
    profile: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    messages: list[StoredMessage] = field(default_factory=list)
    message_count: int = 0
    leaf: int | None = None  # the id of the last message of the branch shown

    def path(self) -> list[StoredMessage]:
        """The branch shown, from its first message to its leaf (the last message made, if the
        leaf is unknown), messages taken out included."""
        by_id = {m.id: m for m in self.messages}
        message = by_id.get(self.leaf) or (self.messages[-1] if self.messages else None)
        path: list[StoredMessage] = []
        seen: set[int | None] = set()
        while message is not None and message.id not in seen:  # a loop would never end
            seen.add(message.id)
            path.append(message)
            message = by_id.get(message.parent) if message.parent is not None else None
        path.reverse()
        return path

    def shown(self) -> list[StoredMessage]:
        """The messages on screen: the branch shown, without those taken out."""
        return [m for m in self.path() if m.shown]


class Store:
    """One SQLite database of conversations. Use from a single thread."""

    def __init__(self, path: Path | None, *, timeout: float = 5.0) -> None:
        """Open (and migrate) the database at `path`; None keeps everything in memory.

        `timeout` is how long a write waits for another process's lock before failing.
        """
        self.path = path
        # Images: files beside the database; in memory, bytes by their sha256.
        self.attachments_dir = path.parent / ATTACHMENTS_DIR if path is not None else None
        self._images: dict[str, bytes] = {}
        try:
            if path is not None:
                _make_private(path)
            self._db = sqlite3.connect(
                str(path) if path is not None else ":memory:",
                timeout=timeout,
                isolation_level=None,
            )
            self._db.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise _failure(path, exc) from exc

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @_reported
    def check(self) -> None:
        """StoreError if SQLite finds damage anywhere in the file, not only in its header.

        A quick check reads every page once (milliseconds for a typical database, well under a
        second for a large one), so it runs on the store's thread, never on the UI's.
        """
        rows = self._db.execute("PRAGMA quick_check(3)").fetchall()
        found = [str(row[0]) for row in rows if row[0] != "ok"]
        if found:
            problems = "; ".join(line for text in found for line in text.splitlines()[-3:])
            raise StoreError(self.path, "the database is damaged", problems)

    def _migrate(self) -> None:
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(
                self.path, f"written by a newer chat-tui (schema {current}); please upgrade"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self._transaction():  # a step applies whole or not at all
                self._apply(version)

    def _apply(self, version: int) -> None:
        for statement in MIGRATIONS[version].split(";"):
            if statement.strip():
                self._db.execute(statement)
        if version == 5:
            _grow_trees(self._db)
        self._db.execute(f"PRAGMA user_version = {version}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    @_reported
    def close(self) -> None:
        self._db.close()

    # -- writing ---------------------------------------------------------------------------

    @_reported
    def create_conversation(
        self,
        title: str,
        system_prompt: str,
        profile: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> int:
        with self._transaction():
            return self._insert_conversation(title, system_prompt, profile, settings)

    def _insert_conversation(
        self, title: str, system_prompt: str, profile: str | None, settings: dict[str, Any] | None
    ) -> int:
        now = time.time()
        cursor = self._db.execute(
            "INSERT INTO conversations (title, created, updated, system_prompt, profile,"
            " settings) VALUES (?, ?, ?, ?, ?, ?)",
            (title, now, now, system_prompt, profile, json.dumps(settings or {})),
        )
        return int(cursor.lastrowid or 0)

    @_reported
    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        state: str,
        stats: dict[str, Any] | None = None,
        *,
        hidden: str | None = None,
        error: dict[str, Any] | None = None,
        reasoning: str = "",
        attachments: Sequence[Attachment] = (),
    ) -> int:
        """Save a message after the end of the branch shown, which it ends now; its
        attachments with it (an image's file first, so no row ever names a file that is not
        there)."""
        with self._transaction():
            row = self._db.execute(
                "SELECT COALESCE(leaf_id, (SELECT MAX(id) FROM messages WHERE conversation_id"
                " = ?)) FROM conversations WHERE id = ?",
                (conversation_id, conversation_id),
            ).fetchone()
            parent = row[0] if row is not None else None
            message = StoredMessage(
                role, content, state, -1, stats, hidden, error, reasoning, list(attachments), parent
            )
            [message_id] = self._insert_rows(conversation_id, [message], time.time(), leaf=-1)
            return message_id

    @_reported
    def save_messages(
        self,
        conversation_id: int,
        new: Sequence[StoredMessage],
        changed: Sequence[StoredMessage] = (),
        leaf: int | None = None,
    ) -> list[int]:
        """Write a conversation's new messages (in order) and its changed ones (by their ids),
        in one transaction: all of it or, should anything fail, nothing. The new messages' ids.

        A new message's `id` is the caller's key for it (a negative number, never a saved id),
        which the parents of the messages after it and `leaf` may name (see _insert_rows).
        `leaf`, when given, is the last message of the branch shown.

        One call for everything a save has to write: a long conversation saved for the first
        time (or after a failure) is one round trip and one commit, not one per message.
        """
        with self._transaction():
            for message in changed:
                self._update_row(message)
            if not new and leaf is None:
                return []
            return self._insert_rows(conversation_id, new, time.time(), leaf=leaf)

    def _insert_rows(
        self,
        conversation_id: int,
        messages: Sequence[StoredMessage],
        now: float,
        *,
        leaf: int | None = None,
        within: bool = False,
    ) -> list[int]:
        """Insert `messages` in order, and make `leaf` the end of the branch shown (if given);
        their ids.

        Each message's `id` is a key of the caller's: a parent or the leaf that names the key
        of a message inserted before it in this call gets that message's new id; any other
        parent is taken as a saved message's id, or, `within` the messages given only (an
        import), as none.
        """
        self._touch(conversation_id, now)  # first: it says whether the conversation is there
        keys: dict[int, int] = {}
        ids: list[int] = []
        for message in messages:
            parent = keys.get(message.parent) if message.parent is not None else None
            if parent is None and not within and message.parent is not None:
                parent = message.parent
            message_id = self._insert_row(conversation_id, message, now, parent)
            if message.id is not None:
                keys[message.id] = message_id
            ids.append(message_id)
        if leaf is not None and (leaf in keys or not within):
            self._db.execute(
                "UPDATE conversations SET leaf_id = ? WHERE id = ?",
                (keys.get(leaf, leaf), conversation_id),
            )
        return ids

    def _insert_row(
        self, conversation_id: int, message: StoredMessage, now: float, parent: int | None
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO messages (conversation_id, role, content, state, created, usage,"
            " hidden, error, reasoning, parent_id, summary)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                message.role,
                message.content,
                message.state,
                now,
                _json_or_null(message.stats),
                message.hidden,
                _json_or_null(message.error),
                message.reasoning,
                parent,
                message.summary,
            ),
        )
        message_id = int(cursor.lastrowid or 0)
        for position, attachment in enumerate(message.attachments):
            self._insert_attachment(message_id, position, attachment)
        return message_id

    def _insert_attachment(self, message_id: int, position: int, attachment: Attachment) -> None:
        if attachment.is_image and attachment.data:
            self._keep_image(attachment)
        self._db.execute(
            "INSERT INTO attachments (message_id, position, kind, name, mime, size, text, lines,"
            " truncated, sha256, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message_id,
                position,
                attachment.kind.value,
                attachment.name,
                attachment.mime,
                attachment.size,
                attachment.text,
                attachment.lines,
                int(attachment.truncated),
                attachment.sha256,
                attachment.width,
                attachment.height,
            ),
        )

    def image_path(self, sha256: str, mime: str) -> Path | None:
        """Where an image's bytes are kept; None in memory."""
        if self.attachments_dir is None:
            return None
        return self.attachments_dir / f"{sha256}.{IMAGE_TYPES.get(mime, 'bin')}"

    def _keep_image(self, attachment: Attachment) -> None:
        """Write an image's file, owner-only and whole, unless the same bytes are there.

        Called inside the write transaction, so a delete in another process cannot remove the
        file between its writing and the row that keeps it.
        """
        path = self.image_path(attachment.sha256, attachment.mime)
        if path is None:
            self._images[attachment.sha256] = attachment.data
            return
        try:
            if path.stat().st_size == attachment.size:
                return
        except FileNotFoundError:
            pass
        try:
            private_dir(path.parent)
            replace_private(path, attachment.data)
        except OSError as exc:
            raise StoreError(path, "an attached image cannot be saved", str(exc)) from exc

    def _load_image(self, sha256: str, mime: str, size: int) -> bytes:
        """An image's bytes; b"" if its file is missing or not what was saved."""
        path = self.image_path(sha256, mime)
        if path is None:
            return self._images.get(sha256, b"")
        try:
            data = path.read_bytes()
        except OSError:
            return b""
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            return b""
        return data

    def _forget_images(self, hashes: set[tuple[str, str]]) -> None:
        """Delete the images no message holds any longer."""
        for sha256, mime in hashes:
            still = self._db.execute(
                "SELECT 1 FROM attachments WHERE sha256 = ? LIMIT 1", (sha256,)
            ).fetchone()
            if still is not None:
                continue
            path = self.image_path(sha256, mime)
            if path is None:
                self._images.pop(sha256, None)
            else:
                # A file left behind costs space only; the conversation is gone all the same.
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)

    @_reported
    def update_message(
        self,
        message_id: int,
        content: str,
        state: str,
        stats: dict[str, Any] | None = None,
        *,
        hidden: str | None = None,
        error: dict[str, Any] | None = None,
        reasoning: str = "",
        summary: str = "",
    ) -> None:
        message = StoredMessage(
            "", content, state, message_id, stats, hidden, error, reasoning, summary=summary
        )
        with self._transaction():
            self._update_row(message)

    def _update_row(self, message: StoredMessage) -> None:
        """What can change of a saved message: its text, state, stats and marks."""
        cursor = self._db.execute(
            "UPDATE messages SET content = ?, state = ?, usage = ?, hidden = ?, error = ?,"
            " reasoning = ?, summary = ? WHERE id = ?",
            (
                message.content,
                message.state,
                _json_or_null(message.stats),
                message.hidden,
                _json_or_null(message.error),
                message.reasoning,
                message.summary,
                message.id,
            ),
        )
        if cursor.rowcount == 0:
            raise ConversationGone(self.path, "the message is no longer saved")

    @_reported
    def update_conversation(self, conversation_id: int, **fields: Any) -> None:
        allowed = {"title", "system_prompt", "profile", "settings"}
        if unknown := set(fields) - allowed:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        if "settings" in fields:
            fields["settings"] = json.dumps(fields["settings"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction():
            self._db.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*fields.values(), conversation_id),
            )
            self._touch(conversation_id, time.time())

    @_reported
    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation, with the images no other conversation holds."""
        with self._transaction():
            hashes = {
                (str(sha256), str(mime))
                for sha256, mime in self._db.execute(
                    "SELECT a.sha256, a.mime FROM attachments a JOIN messages m"
                    " ON a.message_id = m.id WHERE m.conversation_id = ? AND a.kind = 'image'",
                    (conversation_id,),
                )
            }
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            self._forget_images(hashes)

    def _touch(self, conversation_id: int, now: float) -> None:
        cursor = self._db.execute(
            "UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id)
        )
        if cursor.rowcount == 0:
            raise ConversationGone(self.path, "the conversation is no longer saved")

    # -- reading ---------------------------------------------------------------------------

    @_reported
    def list_conversations(self, search: str = "") -> list[StoredConversation]:
        """Newest first; `search` matches titles and message text (on every branch),
        case-insensitively. Each counts the messages shown."""
        query = (
            "SELECT c.id, c.title, c.created, c.updated, c.system_prompt, c.profile, c.settings,"
            f" ({_SHOWN_COUNT})"
            " FROM conversations c"
        )
        parameters: tuple[str, ...] = ()
        if search.strip():
            pattern = "%" + _escape_like(search.strip()) + "%"
            query += (
                " WHERE c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\')"
            )
            parameters = (pattern, pattern)
        query += " ORDER BY c.updated DESC, c.id DESC"
        return [_conversation(row) for row in self._db.execute(query, parameters)]

    @_reported
    def load(self, conversation_id: int) -> StoredConversation:
        row = self._db.execute(
            "SELECT id, title, created, updated, system_prompt, profile, settings, 0, leaf_id"
            " FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            raise KeyError(conversation_id)
        conversation = _conversation(row)
        rows = self._db.execute(
            "SELECT role, content, state, id, usage, hidden, error, reasoning, parent_id,"
            " summary FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        conversation.messages = [
            StoredMessage(
                role,
                content,
                state,
                message_id,
                _dict_or_none(stats),
                hidden,
                _dict_or_none(error),
                reasoning,
                parent=parent,
                summary=summary,
            )
            for (
                role,
                content,
                state,
                message_id,
                stats,
                hidden,
                error,
                reasoning,
                parent,
                summary,
            ) in rows
        ]
        attached = self._attachments_of(conversation_id)
        for message in conversation.messages:
            message.attachments = attached.get(message.id or 0, [])
        conversation.message_count = len(conversation.shown())
        return conversation

    def _attachments_of(self, conversation_id: int) -> dict[int, list[Attachment]]:
        rows = self._db.execute(
            "SELECT a.message_id, a.kind, a.name, a.mime, a.size, a.text, a.lines, a.truncated,"
            " a.sha256, a.width, a.height FROM attachments a JOIN messages m"
            " ON a.message_id = m.id WHERE m.conversation_id = ? ORDER BY a.message_id,"
            " a.position",
            (conversation_id,),
        )
        found: dict[int, list[Attachment]] = {}
        for message_id, kind, name, mime, size, text, lines, truncated, sha256, w, h in rows:
            image = kind == Kind.IMAGE.value
            found.setdefault(message_id, []).append(
                Attachment(
                    Kind.IMAGE if image else Kind.FILE,
                    name,
                    mime,
                    size,
                    text=text,
                    lines=lines,
                    truncated=bool(truncated),
                    data=self._load_image(sha256, mime, size) if image else b"",
                    sha256=sha256,
                    width=w,
                    height=h,
                )
            )
        return found

    @_reported
    def learn(self, endpoint: str, model: str, lesson: str, value: str) -> None:
        """Remember what a server taught about a model (see learned.py); a deployment serves
        one model, so a new "serves" replaces the old."""
        with self._transaction():
            if lesson == "serves":
                self._db.execute(
                    "DELETE FROM lessons WHERE endpoint = ? AND model = ? AND lesson = ?",
                    (endpoint, model, lesson),
                )
            self._db.execute(
                "INSERT OR REPLACE INTO lessons (endpoint, model, lesson, value, learned)"
                " VALUES (?, ?, ?, ?, ?)",
                (endpoint, model, lesson, value, time.time()),
            )

    @_reported
    def lessons(self) -> list[tuple[str, str, str, str]]:
        """Every lesson, as (endpoint, model, lesson, value)."""
        return [
            (str(a), str(b), str(c), str(d))
            for a, b, c, d in self._db.execute(
                "SELECT endpoint, model, lesson, value FROM lessons ORDER BY learned"
            )
        ]

    @_reported
    def recent_prompts(self, limit: int) -> list[str]:
        """The user's latest messages across all conversations, oldest first."""
        rows = self._db.execute(
            "SELECT content FROM messages WHERE role = 'user' ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [content for (content,) in reversed(rows)]

    @_reported
    def reply_usage(self, since: float) -> list[tuple[float, dict[str, Any] | None]]:
        """When each reply saved since `since` (a time.time()) was made, and its stats as
        saved (None where unreadable): every reply, those taken out or replaced too (they were
        paid for), oldest first."""
        rows = self._db.execute(
            "SELECT created, usage FROM messages WHERE role = 'assistant' AND usage IS NOT NULL"
            " AND created >= ? ORDER BY created, id",
            (since,),
        )
        return [(float(created), _dict_or_none(stats)) for created, stats in rows]

    @_reported
    def latest_id(self) -> int | None:
        row = self._db.execute(
            "SELECT id FROM conversations ORDER BY updated DESC, id DESC LIMIT 1"
        ).fetchone()
        return int(row[0]) if row else None

    @_reported
    def import_conversation(self, conversation: StoredConversation) -> int:
        """Add a copy of `conversation` (e.g. from an exported file, or a fork) as a new one,
        its branches with it: all of it, or, should anything fail half-way, nothing.

        Its messages' ids and parents are keys among themselves (see _insert_rows)."""
        with self._transaction():
            new_id = self._insert_conversation(
                conversation.title,
                conversation.system_prompt,
                conversation.profile,
                conversation.settings,
            )
            messages = conversation.messages
            leaf = conversation.leaf if conversation.leaf is not None else None
            if leaf is None and messages:
                leaf = messages[-1].id
            self._insert_rows(new_id, messages, time.time(), leaf=leaf, within=True)
        return new_id


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, so a writer waits for another process's lock instead of failing
    halfway through."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._end()  # a failed COMMIT leaves the transaction open: no later write
                raise  # could begin, and saving could never resume
        self._end()

    def _end(self) -> None:
        # SQLite has already rolled back by itself after some errors (a full disk, I/O).
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")


def _conversation(row: tuple[Any, ...]) -> StoredConversation:
    conversation_id, title, created, updated, system_prompt, profile, settings, count = row[:8]
    try:
        parsed = json.loads(settings or "{}")
    except ValueError:
        parsed = {}
    return StoredConversation(
        conversation_id,
        title,
        created,
        updated,
        system_prompt,
        profile,
        parsed if isinstance(parsed, dict) else {},
        message_count=count,
        leaf=row[8] if len(row) > 8 else None,
    )


# How many messages a conversation `c` shows: those not taken out on the branch from its leaf
# (its last message, if it has none) up to its first message.
_SHOWN_COUNT = (
    "WITH RECURSIVE path(id) AS ("
    " SELECT COALESCE(c.leaf_id, (SELECT MAX(id) FROM messages WHERE conversation_id = c.id))"
    " UNION SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id"
    " WHERE m.parent_id IS NOT NULL)"
    " SELECT COUNT(*) FROM path JOIN messages m ON m.id = path.id WHERE m.hidden IS NULL"
)


def legacy_tree(messages: Sequence[tuple[str, str | None]]) -> tuple[list[int | None], int | None]:
    """Branches for the messages of a linear chat as earlier versions kept it, given as (role,
    how hidden) in order: the index of each one's parent, and the index of the leaf.

    A message not replaced followed the path as it stood, after the replaced turns at its end
    were set aside: a reply asked for again goes beside the old reply, and an edited message
    beside the old one with its turns. A replaced reply right after a reply went beside it (a
    retry of a retry, or one that ended without text). Messages taken out stay on the path.
    """
    parents: list[int | None] = []
    path: list[int] = []  # the messages shown when each one came, by index
    leaf: int | None = None
    for index, (role, hidden) in enumerate(messages):
        replaced = hidden == SUPERSEDED
        if not replaced:
            while path and messages[path[-1]][1] == SUPERSEDED:
                path.pop()
        elif role == "assistant" and path and messages[path[-1]][0] == "assistant":
            path.pop()
        parents.append(path[-1] if path else None)
        path.append(index)
        if not replaced:
            leaf = index
    return parents, leaf if leaf is not None or not messages else len(messages) - 1


def _grow_trees(db: sqlite3.Connection) -> None:
    """Migration 5: each conversation saved before it becomes a tree (see legacy_tree); the
    turns kept hidden as replaced become branches beside what replaced them. No row is lost:
    only their parents, the leaf and the replaced mark change."""
    for (conversation_id,) in db.execute("SELECT id FROM conversations").fetchall():
        rows = db.execute(
            "SELECT id, role, hidden FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        if not rows:
            continue
        parents, leaf = legacy_tree([(role, hidden) for _, role, hidden in rows])
        db.executemany(
            "UPDATE messages SET parent_id = ?, hidden = NULLIF(hidden, ?) WHERE id = ?",
            [
                (rows[parent][0] if parent is not None else None, SUPERSEDED, row[0])
                for row, parent in zip(rows, parents, strict=True)
            ],
        )
        db.execute(
            "UPDATE conversations SET leaf_id = ? WHERE id = ?",
            (rows[leaf][0] if leaf is not None else None, conversation_id),
        )


def _json_or_null(data: dict[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data)


def _dict_or_none(text: str | None) -> dict[str, Any] | None:
    # The column was unused before stats were kept; anything unreadable is simply no stats.
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _make_private(path: Path) -> None:
    """The database with its -wal and -shm files owner-only (0600), those an earlier version left
    readable to others too, in a directory created owner-only where it is missing.

    A directory that exists is the user's (--data-dir) or tightened by `private_data_dir`.
    """
    private_dir(path.parent)
    # Created owner-only before SQLite opens it: SQLite gives the -wal and -shm files it
    # creates the database's mode.
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        tighten(file, 0o600)


def _failure(path: Path | None, exc: BaseException) -> StoreError:
    text = str(exc)
    if "file is not a database" in text or "malformed" in text:
        return StoreError(path, "the database is damaged", text)
    if "locked" in text or "busy" in text:
        return StoreError(path, "the database is locked by another program", text)
    if "readonly" in text or "read-only" in text:
        return StoreError(path, "the database cannot be written", text)
    if isinstance(exc, UnicodeEncodeError):
        return StoreError(path, "text that is not valid Unicode cannot be saved", text)
    return StoreError(path, text)


def title_for(prompt: str) -> str:
    """A conversation's title: the first line of its first prompt, shortened."""
    line = next((part.strip() for part in prompt.splitlines() if part.strip()), "New chat")
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


def _on_store_thread(
    method: Callable[Concatenate[Store, P], T],
) -> Callable[Concatenate[AsyncStore, P], Coroutine[Any, Any, T]]:
    """`Store.method`, awaited from the event loop and run on the store's thread."""

    @functools.wraps(method)
    async def run(self: AsyncStore, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(lambda: method(self.store, *args, **kwargs))

    return run


class AsyncStore:
    """A Store driven from the event loop: every call runs on the store's own thread.

    Its methods are the Store's, awaited: `await store.load(3)`.
    """

    create_conversation = _on_store_thread(Store.create_conversation)
    add_message = _on_store_thread(Store.add_message)
    update_message = _on_store_thread(Store.update_message)
    save_messages = _on_store_thread(Store.save_messages)
    update_conversation = _on_store_thread(Store.update_conversation)
    delete_conversation = _on_store_thread(Store.delete_conversation)
    list_conversations = _on_store_thread(Store.list_conversations)
    load = _on_store_thread(Store.load)
    recent_prompts = _on_store_thread(Store.recent_prompts)
    learn = _on_store_thread(Store.learn)
    lessons = _on_store_thread(Store.lessons)
    latest_id = _on_store_thread(Store.latest_id)
    reply_usage = _on_store_thread(Store.reply_usage)
    import_conversation = _on_store_thread(Store.import_conversation)

    def __init__(self, store_factory: Callable[[], Store]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-tui-store")
        self._store: Store | None = None
        self._factory = store_factory

    async def open(self) -> Store:
        """Open and check the database on the store's thread; StoreError if it cannot be used.

        Until both are done the store is not open: nothing is written into a damaged file.
        """
        self._store = await self._run(self._open_checked)
        return self._store

    def _open_checked(self) -> Store:
        store = self._factory()
        try:
            store.check()
        except StoreError:
            store.close()
            raise
        return store

    async def _run(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work)

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> Store:
        assert self._store is not None, "open() first"
        return self._store

    @property
    def path(self) -> Path | None:
        """The database file; None in memory (or not open yet)."""
        return self._store.path if self._store is not None else None

    async def close(self) -> None:
        if self._store is not None:
            with contextlib.suppress(StoreError):  # quitting: nothing is left to tell
                await self._run(self._store.close)
        self._executor.shutdown(wait=False)
