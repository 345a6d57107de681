"""A command the user can give: declared once, without Textual, where its behaviour lives.

The palette, the help screen and the key map's words all come from these; the shell runs a
command as the action `action` with `args` (`export('md')`), and the key map only adds keys.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    action: str  # the shell runs action_<action>
    title: str  # in the palette
    label: str  # a word or two, in the footer
    help: str  # one sentence: the palette's help, a key's tooltip, the help screen's line
    args: tuple[str | bool, ...] = ()

    @property
    def call(self) -> str:
        """The action with its arguments, as Textual parses actions: `export('md')`."""
        if not self.args:
            return self.action
        return f"{self.action}({', '.join(repr(arg) for arg in self.args)})"
