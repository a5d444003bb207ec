"""Matching primitives for filter terms: whole words in folded text, and RE2-only regexes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

import re2

MAX_REGEX = 200


class _Match(Protocol):
    def group(self) -> bytes: ...


class Regex(Protocol):
    """A compiled RE2 pattern (the part of its API filters use)."""

    def search(self, text: bytes) -> _Match | None: ...


class TermError(ValueError):
    """A term that cannot be built: `reason`, then (after the parser's column) `note`."""

    def __init__(self, reason: str, note: str = "") -> None:
        super().__init__(reason + note)
        self.reason = reason
        self.note = note


def fold(text: str) -> str:
    """Casefold `text` and collapse every run of whitespace to one space."""
    folded = text.casefold()
    if folded.isprintable() and "  " not in folded:
        return folded  # only single ASCII spaces: nothing to collapse (the common case)
    return " ".join(folded.split())


def word_finder(needle: str) -> Callable[[str], bool]:
    """A test for `needle` in folded text, not inside a longer word at its word-like edges."""
    left, right, size = _is_word(needle[0]), _is_word(needle[-1]), len(needle)

    def found(hay: str) -> bool:
        start = hay.find(needle)
        while start >= 0:
            end = start + size
            if (not left or start == 0 or not _is_word(hay[start - 1])) and (
                not right or end == len(hay) or not _is_word(hay[end])
            ):
                return True
            start = hay.find(needle, start + 1)
        return False

    return found


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def compile_regex(pattern: str) -> Regex:
    """Compile a user's pattern with RE2 (linear time, case-insensitive) or raise TermError."""
    if not pattern:
        raise TermError("empty regex")
    if _has_open_slash(pattern):
        raise TermError("regex has an unescaped '/' (write it as \\/)")
    if len(pattern) > MAX_REGEX:
        raise TermError(f"regex too long ({len(pattern)} characters, at most {MAX_REGEX})")
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.never_capture = True
    try:
        compiled: Regex = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args else "refused"
        raise TermError("invalid regex", f": {reason}{_regex_hint(reason)}") from None
    except UnicodeEncodeError:
        raise TermError("invalid character in regex") from None
    return compiled


# What RE2's message means for someone who wrote the pattern: (message pattern, hint).
_REGEX_HINTS = tuple((re.compile(pattern), hint) for pattern, hint in (
    (r"missing \)", "an unbalanced '(': close it, or write \\( for a literal one"),
    (r"unexpected \)", "a ')' with no '(': write \\) for a literal one"),
    (r"missing \]", "an unclosed '[': close it, or write \\[ for a literal one"),
    (r"invalid escape sequence: \\[1-9]", "RE2 has no backreferences"),
    (r"invalid perl operator: \(\?<[=!]", "RE2 has no lookbehind"),
    (r"invalid perl operator: \(\?[=!]", "RE2 has no lookahead"),
    (r"no argument for repetition", "*, + and ? repeat what comes before them: "
                                    "write \\* for a literal one"),
))


def _regex_hint(reason: str) -> str:
    """A hint for RE2's error `reason` (" (...)"), or "" when the reason says it all."""
    for pattern, hint in _REGEX_HINTS:
        if pattern.match(reason):
            return f" ({hint})"
    return ""


def _has_open_slash(pattern: str) -> bool:
    escaped = False
    for char in pattern:
        if char == "/" and not escaped:
            return True
        escaped = char == "\\" and not escaped
    return False


def regex_search(rx: Regex, text: str) -> str | None:
    """The first match of compiled `rx` in `text`, or None."""
    found = rx.search(text.encode("utf-8", "replace"))
    return None if found is None else found.group().decode("utf-8", "replace")
