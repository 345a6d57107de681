"""The fenced and indented code blocks of a reply, for copying one of them."""

from __future__ import annotations

from dataclasses import dataclass

from chat_tui.markdown_render import PARSER


@dataclass(frozen=True, slots=True)
class CodeBlock:
    language: str
    code: str

    @property
    def label(self) -> str:
        """e.g. `python · 12 lines · def main() -> None:`, for choosing one of several."""
        lines = self.code.splitlines()
        first = next((line.strip() for line in lines if line.strip()), "")
        count = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
        return " · ".join(part for part in (self.language, count, first) if part)


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Code blocks in order, including one still open at the end of a streaming reply."""
    return [
        CodeBlock(token.info.strip().split(" ")[0] if token.info else "", token.content)
        for token in PARSER.parse(markdown)
        if token.type in ("fence", "code_block")
    ]
