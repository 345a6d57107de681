"""Making untrusted text safe to put on screen, literally."""

from __future__ import annotations

# C0 controls (but tab and newline), DEL and C1 controls would move the cursor, change colours or
# reset the terminal if written through; show each as a visible symbol instead.
_CONTROL_PICTURES: dict[int, int | None] = {
    code: 0x2400 + code for code in range(0x20) if chr(code) not in "\t\n\r"
}
# A carriage return is almost always half of a Windows line ending; dropping it keeps the text.
_CONTROL_PICTURES[0x0D] = None
_CONTROL_PICTURES[0x7F] = 0x2421  # ␡
_CONTROL_PICTURES.update({code: 0xFFFD for code in range(0x80, 0xA0)})


def visible(text: str) -> str:
    """`text` with control characters replaced by their Unicode control pictures (ESC -> ␛)."""
    return text.translate(_CONTROL_PICTURES)
