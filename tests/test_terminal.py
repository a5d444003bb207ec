"""Terminal safety: control, DEL and bidi characters come out as visible escapes."""

from __future__ import annotations

import json

import pytest

from bot.terminal import escape_json, escape_terminal


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"),  # OSC: retitle the window
    ("\x1b[2Jcleared", "\\x1b[2Jcleared"),  # CSI: clear the screen
    ("\x9b31mred", "\\x9b31mred"),  # 8-bit CSI
    ("del\x7f", "del\\x7f"),
    ("nul\x00", "nul\\x00"),
    ("over\rwrite", "over\\rwrite"),
    ("exe.\u202etxt", "exe.\\u202etxt"),  # right-to-left override
    ("a\u2066b\u2069", "a\\u2066b\\u2069"),  # isolates
])
def test_escape_terminal_shows_controls(raw: str, shown: str) -> None:
    """Each control, DEL or bidi character is written as a visible escape, not dropped."""
    assert escape_terminal(raw) == shown


@pytest.mark.parametrize("text", [
    "plain ASCII\tand a tab", "Tiếng Việt", "हिन्दी", "שָׁלוֹם", "العربية", "emoji 👍🏽", "C:\\path",
])
def test_escape_terminal_keeps_ordinary_text(text: str) -> None:
    """Printable text of any script, tabs and backslashes are left as they are."""
    assert escape_terminal(text) == text


def test_newlines_are_escaped_unless_kept() -> None:
    """A value stays one line by default; multi-line output may keep its newlines."""
    assert escape_terminal("a\nb") == "a\\nb"
    assert escape_terminal("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"


def test_escape_json_keeps_the_value() -> None:
    """JSON text loses its raw DEL, C1 and bidi characters but decodes to the same value."""
    value = {"title": "x\x1b[2J\x7f\x9b\u202e\u2069 ok é"}
    text = escape_json(json.dumps(value, ensure_ascii=False))
    assert not any(ch in text for ch in "\x1b\x7f\x9b\u202e\u2069")
    assert "é" in text
    assert json.loads(text) == value
