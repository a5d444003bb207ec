"""The topic filter language: parse a channel's filter text into a Filter, with column errors.

Grammar (precedence not > and > or; two terms side by side mean `and`, as in search engines):

    filter  := or_expr
    or_expr := and_expr ("or" and_expr)*
    and_expr:= not_expr (["and"] not_expr)*
    not_expr:= "not"* primary
    primary := "(" or_expr ")" | [field ":"] (word | "phrase" | /regex/)
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.filters.explain import Explanation, Finding, explain
from bot.filters.match import TermError
from bot.filters.subject import FilterSubject, subject_of
from bot.filters.tree import (
    FIELDS,
    FIELDS_NOTE,
    KEYWORDS,
    And,
    Filter,
    Not,
    Or,
    Term,
)

__all__ = [
    "FIELDS",
    "And",
    "Explanation",
    "Filter",
    "FilterError",
    "FilterSubject",
    "Finding",
    "Not",
    "Or",
    "Term",
    "explain",
    "parse_filter",
    "subject_of",
]

MAX_LENGTH = 500
MAX_TERMS = 30
MAX_DEPTH = 10
_STARTS_OPERAND = frozenset({"term", "(", "not"})


class FilterError(ValueError):
    """Filter text that does not parse; the message says what was expected and where."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


def _error(reason: str, column: int, note: str = "") -> FilterError:
    return FilterError(f"filter: {reason} at column {column}{note}", column)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "and", "or", "not", "term" or "end"
    column: int  # 1-based
    text: str  # as written, for messages
    term: Term | None = None


def parse_filter(text: str) -> Filter:
    """Parse a filter expression; raise FilterError naming the column of the first problem."""
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"filter: too long ({len(text)} characters, at most {MAX_LENGTH})", MAX_LENGTH + 1
        )
    if not text.strip():
        raise FilterError("filter: empty filter", 1)
    return _Parser(_tokenize(text)).parse()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    terms = 0
    i = _skip_space(text, 0)
    while i < len(text):
        if text[i] in "()":
            token, i = _Token(text[i], i + 1, text[i]), i + 1
        else:
            token, i = _read_operand(text, i)
        if token.kind == "term":
            terms += 1
            if terms > MAX_TERMS:
                raise _error(f"too many terms (at most {MAX_TERMS})", token.column)
        tokens.append(token)
        i = _skip_space(text, i)
    tokens.append(_Token("end", len(text) + 1, "end of filter"))
    return tokens


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _read_operand(text: str, start: int) -> tuple[_Token, int]:
    """A keyword or a term (with its optional `field:` prefix) starting at `start`."""
    name, i = _read_field(text, start)
    if i >= len(text) or text[i].isspace() or text[i] in "()":
        raise _error(f"expected a word, phrase or /regex/ after '{name}:'", i + 1)
    if text[i] == '"':
        value, end = _read_phrase(text, i)
    elif text[i] == "/":
        value, end = _read_regex(text, i)
    else:
        value, end = _read_word(text, i)
        if i == start and value.casefold() in KEYWORDS:
            return _Token(value.casefold(), start + 1, value), end
    term = _make_term(name.lower() if i > start else "text", value, text[i] == "/", i + 1)
    return _Token("term", start + 1, text[start:end], term), end


def _read_field(text: str, start: int) -> tuple[str, int]:
    """The `field` of a `field:` prefix and the index after the colon, or ("", start)."""
    i = start
    while i < len(text) and text[i].isascii() and text[i].isalpha():
        i += 1
    if i == start or i >= len(text) or text[i] != ":":
        return "", start
    name = text[start:i]
    if name.lower() not in FIELDS:
        raise _error(f"unknown field '{name}'", start + 1, FIELDS_NOTE)
    return name, i + 1


def _make_term(name: str, value: str, regex: bool, column: int) -> Term:
    try:
        return Term(name, value, regex)
    except TermError as exc:
        raise _error(exc.reason, column, exc.note) from None


def _read_word(text: str, start: int) -> tuple[str, int]:
    i = start
    while i < len(text) and not text[i].isspace() and text[i] not in '()"':
        i += 1
    return text[start:i], i


def _read_phrase(text: str, start: int) -> tuple[str, int]:
    """A quoted phrase: `\\"` is a quote, `\\\\` a backslash, any other backslash is kept."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            chars.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise _error("unterminated quote", start + 1)


def _read_regex(text: str, start: int) -> tuple[str, int]:
    """A /regex/: backslash escapes the next character (so `\\/` is a slash); no flags."""
    i = start + 1
    while i < len(text) and text[i] != "/":
        i += 2 if text[i] == "\\" else 1
    if i >= len(text):
        raise _error("unterminated regex", start + 1)
    end = i + 1
    if end < len(text) and text[end].isalnum():
        raise _error("regex flags are not supported (matching ignores case)", end + 1)
    return text[start + 1 : i], end


class _Parser:
    """Recursive descent over one token list (one parser per parse_filter call)."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> _Token:
        return self._tokens[self._pos]

    def _take(self) -> _Token:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def parse(self) -> Filter:
        node = self._or(0)
        token = self._peek()
        if token.kind != "end":
            raise _error(f"unexpected '{token.text}'", token.column)
        return node

    def _or(self, depth: int) -> Filter:
        operands = [self._and(depth)]
        while self._peek().kind == "or":
            self._take()
            operands.append(self._and(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and(self, depth: int) -> Filter:
        operands = [self._not(depth)]
        while self._peek().kind in _STARTS_OPERAND or self._peek().kind == "and":
            if self._peek().kind == "and":
                self._take()
            operands.append(self._not(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _not(self, depth: int) -> Filter:
        nots = 0
        while self._peek().kind == "not":
            self._take()
            nots += 1
        node = self._primary(depth)
        for _ in range(nots):
            node = Not(node)
        return node

    def _primary(self, depth: int) -> Filter:
        token = self._take()
        if token.term is not None:
            return token.term
        if token.kind == "(":
            if depth >= MAX_DEPTH:
                raise _error(f"nesting deeper than {MAX_DEPTH} parentheses", token.column)
            node = self._or(depth + 1)
            close = self._take()
            if close.kind != ")":
                raise _error("expected ')'", close.column)
            return node
        if token.kind == "end":
            after = self._tokens[self._pos - 2].text
            raise _error(f"expected a term after '{after}'", token.column)
        raise _error(f"unexpected '{token.text}'", token.column)
