"""Terminal safety: untrusted text shown escaped, so it can't retitle, clear or reorder a screen.

Every string that reaches a terminal or a log goes through `escape_terminal` (or, inside JSON,
`escape_json`): C0 and C1 control characters, DEL and the bidi embedding, override and isolate
characters are written as visible escapes (`\\x1b`, `\\u202e`) rather than dropped, so the
operator sees that something odd came in. An escape sequence (CSI, OSC, DCS...) is inert once
its introducer is escaped.
"""

from __future__ import annotations

import functools
import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ones;
# and their 8-bit forms (CSI U+009B, OSC U+009D). Chat text drops them whole (strip_ansi).
ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SHORT = {"\n": "\\n", "\r": "\\r"}


def _unsafe() -> list[str]:
    """Every character a terminal may act on: C0 but tab, DEL, C1, bidi controls."""
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if c != 0x09]
    return controls + list(BIDI_CONTROLS)


def _shown(ch: str) -> str:
    """The visible escape of one character: \\n, \\r, \\x1b or \\u202e."""
    code = ord(ch)
    return _SHORT.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


@functools.cache
def _terminal_table(keep_newlines: bool) -> dict[int, str]:
    """str.translate table of the characters escape_terminal rewrites (built once)."""
    return {ord(ch): _shown(ch) for ch in _unsafe() if not (keep_newlines and ch == "\n")}


@functools.cache
def _json_table() -> dict[int, str]:
    """str.translate table for JSON text: what json.dumps leaves raw, as \\uXXXX escapes."""
    return {ord(ch): f"\\u{ord(ch):04x}" for ch in _unsafe() if ord(ch) >= 0x7F}


def escape_terminal(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control, DEL and bidi control character shown as a visible escape.

    Newlines are escaped too (one value stays one line) unless keep_newlines; tabs are kept.
    """
    return text.translate(_terminal_table(keep_newlines))


def escape_json(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with DEL, C1 and bidi controls
    written as \\uXXXX escapes; json.dumps already escapes C0. The JSON value is unchanged."""
    return text.translate(_json_table())
