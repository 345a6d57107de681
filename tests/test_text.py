"""The one sanitizer, per destination: the screen and terminal, and the clipboard."""

from __future__ import annotations

import pytest

from chat_tui.text import for_clipboard, one_line, visible

OSC52 = "\x1b]52;c;SE9TVElMRQ==\x07"
TITLE = "\x1b]0;PWNED\x1b\\"
PASTE_END = "\x1b[201~rm -rf ~\n"
C1 = "\x9b31m"  # CSI as one C1 byte


def test_escapes_become_control_pictures_on_screen() -> None:
    assert visible(OSC52) == "␛]52;c;SE9TVElMRQ==␇"
    assert visible(TITLE) == "␛]0;PWNED␛\\"
    assert visible(C1) == "\ufffd31m"
    assert visible("a\x7fb\x00c") == "a␡b␀c"


def test_newlines_and_tabs_stay_and_windows_line_endings_fold() -> None:
    assert visible("one\r\ntwo\tthree\n") == "one\ntwo\tthree\n"


@pytest.mark.parametrize("code", [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
def test_bidi_controls_are_named_on_screen(code: int) -> None:
    assert visible(f"a{chr(code)}b") == f"a‹U+{code:04X}›b"


def test_right_to_left_marks_and_scripts_are_left_alone() -> None:
    text = "שלום \u200f مرحبا \u200e ok"
    assert visible(text) == text
    assert for_clipboard(text) == text


def test_the_clipboard_gets_no_control_characters() -> None:
    assert for_clipboard(f"ls{PASTE_END}") == "ls[201~rm -rf ~\n"
    assert for_clipboard(OSC52 + TITLE + C1) == "]52;c;SE9TVElMRQ==]0;PWNED\\31m"
    assert for_clipboard("evil\u202etxt.exe\r\n\tok") == "eviltxt.exe\n\tok"


def test_one_line_keeps_a_value_on_its_line() -> None:
    value = f"gpt{OSC52}{TITLE}\x1b[2A\r\nendpoint = x\t[bold]y[/bold]\u202e"
    shown = one_line(value)
    assert shown == "gpt␛]52;c;SE9TVElMRQ==␇␛]0;PWNED␛\\␛[2A␊endpoint = x␉[bold]y[/bold]‹U+202E›"
    assert one_line(shown) == shown
