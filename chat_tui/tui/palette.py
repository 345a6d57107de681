"""The command palette's chat commands (ctrl+p): the command registry, searched by name.

Titles can name a profile from the config file, so they are shown as plain text (never read as
markup) with the fuzzy match highlighted on them.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Provider
from textual.content import Content
from textual.markup import escape as escape_markup

from chat_tui.commands import every_command
from chat_tui.text import visible

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from textual.dom import DOMNode
    from textual.fuzzy import Matcher

    from chat_tui.command import Command


def highlighted(matcher: Matcher, title: str) -> Content:
    """`title` as plain text, with the letters the query matched highlighted."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ChatCommands(Provider):
    """Every registered command that can run now, on the chat screen or else on the app."""

    def _available(self) -> Iterator[tuple[Command, DOMNode]]:
        app = self.app
        chat = app.chat  # type: ignore[attr-defined]
        for command in every_command(app.config.profiles):  # type: ignore[attr-defined]
            target: DOMNode = chat if hasattr(chat, f"action_{command.action}") else app
            # "Stop reply" is offered only while a reply streams.
            if target.check_action(command.action, command.args) is False:
                continue
            yield command, target

    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        for command, target in self._available():
            title = visible(command.title)
            yield DiscoveryHit(
                Content(title),
                partial(target.run_action, command.call),
                text=title,
                help=escape_markup(visible(command.help)),  # the palette reads help as markup
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for command, target in self._available():
            title = visible(command.title)
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    highlighted(matcher, title),
                    partial(target.run_action, command.call),
                    text=title,
                    help=escape_markup(visible(command.help)),
                )
