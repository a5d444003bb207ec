"""The topic filter expression tree: its nodes, how each matches an article, its canonical text."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from bot.filters.match import Regex, TermError, compile_regex, fold, regex_search, word_finder
from bot.filters.subject import FilterSubject, subject_of
from bot.model import Article, tag_key

FIELDS = ("title", "summary", "text", "tag", "feed", "author", "domain", "lang")
KEYWORDS = frozenset({"and", "or", "not"})
_NOT_BARE = frozenset('()"\\/:')

FIELDS_NOTE = f" (fields: {', '.join(FIELDS)})"

Test = Callable[[FilterSubject], bool]


class Filter:
    """A parsed topic filter: immutable, comparable, printable in canonical form."""

    __slots__ = ()

    def matches(self, item: Article | FilterSubject) -> bool:
        """Whether the article (or its prebuilt subject) passes this filter."""
        subject = item if isinstance(item, FilterSubject) else subject_of(item)
        return self.test(subject)

    def test(self, subject: FilterSubject) -> bool:
        """Whether `subject` passes; subclasses define it."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Term(Filter):
    """One condition: a word or phrase (`value`) or a regex (`regex=True`) on one field."""

    field: str
    value: str
    regex: bool = False
    _test: Test = dataclasses.field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise TermError(f"unknown field {self.field!r}", FIELDS_NOTE)
        if not self.regex:
            object.__setattr__(self, "value", _normalize(self.field, self.value))
        object.__setattr__(self, "_test", _compile(self.field, self.value, self.regex))

    def test(self, subject: FilterSubject) -> bool:
        """Whether this one condition holds for `subject`."""
        return self._test(subject)

    def __str__(self) -> str:
        prefix = "" if self.field == "text" else f"{self.field}:"
        if self.regex:
            return f"{prefix}/{self.value}/"
        return prefix + (self.value if is_bare(self.value) else quote(self.value))


@dataclass(frozen=True, slots=True)
class Not(Filter):
    """Passes when its operand fails."""

    operand: Filter

    def test(self, subject: FilterSubject) -> bool:
        """Whether the operand fails for `subject`."""
        return not self.operand.test(subject)

    def __str__(self) -> str:
        return f"not {_wrap(self.operand, (And, Or))}"


@dataclass(frozen=True, slots=True)
class And(Filter):
    """Passes when every operand passes (two or more operands)."""

    operands: tuple[Filter, ...]

    def __post_init__(self) -> None:
        if len(self.operands) < 2:
            raise ValueError("And needs at least two operands")

    def test(self, subject: FilterSubject) -> bool:
        """Whether every operand passes for `subject`."""
        for operand in self.operands:  # noqa: SIM110 - all(genexpr) is slower on this hot path
            if not operand.test(subject):
                return False
        return True

    def __str__(self) -> str:
        return " and ".join(_wrap(op, (And, Or)) for op in self.operands)


@dataclass(frozen=True, slots=True)
class Or(Filter):
    """Passes when any operand passes (two or more operands)."""

    operands: tuple[Filter, ...]

    def __post_init__(self) -> None:
        if len(self.operands) < 2:
            raise ValueError("Or needs at least two operands")

    def test(self, subject: FilterSubject) -> bool:
        """Whether any operand passes for `subject`."""
        for operand in self.operands:  # noqa: SIM110 - any(genexpr) is slower on this hot path
            if operand.test(subject):
                return True
        return False

    def __str__(self) -> str:
        return " or ".join(_wrap(op, (Or,)) for op in self.operands)


def _wrap(node: Filter, kinds: tuple[type[Filter], ...]) -> str:
    return f"({node})" if isinstance(node, kinds) else str(node)


def is_bare(value: str) -> bool:
    """Whether `value` can be written without quotes and reads back unchanged."""
    return (
        value != ""
        and value.casefold() not in KEYWORDS
        and not any(c.isspace() or c in _NOT_BARE for c in value)
    )


def quote(value: str) -> str:
    """`value` as a quoted phrase, escaping backslashes and double quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _normalize(name: str, value: str) -> str:
    """Tags, domains and languages have one spelling; words keep the user's."""
    if name == "tag":
        key = tag_key(value)
        if not key:
            raise TermError(f"tag {value!r} has no letters or digits")
        return key
    if name == "domain":
        host = value.strip().lower().removeprefix("*.").strip(".")
        if not host or any(c.isspace() or c in "/:@?#" for c in host):
            raise TermError(f"{value!r} is not a domain name (like example.org)")
        return host
    if name == "lang":
        lang = value.strip().lower().replace("_", "-")
        if not lang or not all(c.isascii() and (c.isalnum() or c == "-") for c in lang):
            raise TermError(f"{value!r} is not a language code (like en or en-GB)")
        return lang
    if not value.strip():
        raise TermError("empty phrase")
    return value


def _compile(name: str, value: str, regex: bool) -> Test:
    if regex:
        return _regex_test(name, compile_regex(value))
    if name == "tag":
        return lambda s: value in s.tag_keys
    if name == "domain":
        return lambda s: s.host == value or s.host.endswith("." + value)
    if name == "lang":
        return lambda s: s.lang == value or s.lang.startswith(value + "-")
    return _word_test(name, fold(value))


def _word_test(name: str, needle: str) -> Test:
    check = word_finder(needle)
    if name == "text":
        return lambda s: check(s.title_folded) or check(s.summary_folded)
    if name == "feed":
        feed_id = int(needle) if needle.isascii() and needle.isdigit() else -1
        return lambda s: s.feed_id == feed_id or check(s.feed_folded)
    attr = f"{name}_folded"
    return lambda s: check(getattr(s, attr))


def regex_targets(name: str, s: FilterSubject) -> tuple[tuple[str, str], ...]:
    """The (label, text) pairs a regex on field `name` searches, in order."""
    if name == "text":
        return (("title", s.title), ("summary", s.summary))
    if name == "tag":
        return tuple(("tag", t) for t in s.tags)
    if name == "feed":
        return (("feed", s.feed_name),)
    if name == "domain":
        return (("domain", s.host),)
    return ((name, getattr(s, name)),)


def _regex_test(name: str, rx: Regex) -> Test:
    return lambda s: any(regex_search(rx, text) is not None for _, text in regex_targets(name, s))
