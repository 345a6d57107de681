"""The one sanitizer: untrusted text made safe for each place it goes.

Text from a server, a file, the environment, the config or the user may hold escape sequences
(which would move the cursor, set the window title or write the clipboard if written through)
and bidi controls (which can make text read differently from what it is). Each destination has
one function here:

- `visible()`: the screen, a toast, a title, the palette, a field's value, stdout or stderr on a
  terminal, a Markdown export. Control characters become visible symbols (ESC -> ␛), and bidi
  embedding, override and isolate controls become `‹U+202E›`. The ordinary right-to-left marks
  (U+200E, U+200F) stay: they disguise nothing.
- `one_line()`: the same, for a value printed as `name = value` (--print-config): newlines and
  tabs become visible too, so a value cannot begin a line that looks like another setting.
- `for_clipboard()`: text put on the clipboard or in the clipboard file, which is pasted into
  shells and editors: the same characters are removed (carriage returns too), newlines and
  tabs stay.

JSON exports keep text exact (JSON escapes it), and `chat-tui ask` into a pipe passes the
model's text through unchanged, as documented.
"""

from __future__ import annotations

# Bidi embedding, override and isolate controls: LRE RLE PDF LRO RLO, LRI RLI FSI PDI.
_BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))

# C0 controls (but tab and newline), DEL and C1 controls would move the cursor, change colours or
# reset the terminal if written through; show each as a visible symbol instead.
_CONTROL_PICTURES: dict[int, int | str | None] = {
    code: 0x2400 + code for code in range(0x20) if chr(code) not in "\t\n\r"
}
# A carriage return is almost always half of a Windows line ending; dropping it keeps the text.
_CONTROL_PICTURES[0x0D] = None
_CONTROL_PICTURES[0x7F] = 0x2421  # ␡
_CONTROL_PICTURES.update({code: 0xFFFD for code in range(0x80, 0xA0)})
_CONTROL_PICTURES.update({code: f"‹U+{code:04X}›" for code in _BIDI_CONTROLS})

# The same characters, removed: what a paste into a shell must never carry (ESC[201~ ends a
# bracketed paste early and runs what follows).
_CLIPBOARD_REMOVED: dict[int, None] = dict.fromkeys(_CONTROL_PICTURES, None)


def visible(text: str) -> str:
    """`text` with control characters replaced by their Unicode control pictures (ESC -> ␛)."""
    return text.translate(_CONTROL_PICTURES)


def for_clipboard(text: str) -> str:
    """`text` without control or bidi control characters (newlines and tabs stay)."""
    return text.translate(_CLIPBOARD_REMOVED)


# What `visible()` keeps but a one-line value must not carry: ␊ and ␉.
_LINE_BREAKS = {0x0A: 0x240A, 0x09: 0x2409}


def one_line(text: str) -> str:
    """`visible(text)` on one line: newlines and tabs shown as ␊ and ␉."""
    return visible(text).translate(_LINE_BREAKS)
