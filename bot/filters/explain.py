"""Why a filter passed or failed an article, in words: the deciding terms and what they saw."""

from __future__ import annotations

from dataclasses import dataclass

from bot.filters.match import compile_regex, fold, regex_search, word_finder
from bot.filters.subject import FilterSubject, subject_of
from bot.filters.tree import (
    And,
    Filter,
    Not,
    Or,
    Term,
    regex_targets,
)
from bot.model import Article, tag_key

_WORD_FIELDS = {"title": "title", "summary": "summary", "author": "author", "feed": "feed name"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One deciding term, whether it sits under an odd number of `not`s, and what it saw."""

    term: Term
    negated: bool
    detail: str

    def __str__(self) -> str:
        return f"{'not ' if self.negated else ''}{self.term} ({self.detail})"


@dataclass(frozen=True, slots=True)
class Explanation:
    """A filter's verdict on one article and the terms that decided it."""

    passed: bool
    deciding: tuple[Finding, ...]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"{verdict}: {'; '.join(str(f) for f in self.deciding)}"


def explain(f: Filter, item: Article | FilterSubject) -> Explanation:
    """Evaluate `f` like `matches` does, keeping the terms that decided the outcome."""
    subject = item if isinstance(item, FilterSubject) else subject_of(item)
    passed, deciding = _explain(f, subject, negated=False)
    return Explanation(passed, tuple(deciding))


def _explain(node: Filter, s: FilterSubject, negated: bool) -> tuple[bool, list[Finding]]:
    """A failing operand decides an `and`, a passing one an `or`; else all of them do."""
    if isinstance(node, Term):
        return node.test(s), [Finding(node, negated, describe(node, s))]
    if isinstance(node, Not):
        passed, deciding = _explain(node.operand, s, not negated)
        return not passed, deciding
    if not isinstance(node, And | Or):
        raise TypeError(f"not a filter node: {node!r}")
    decisive = isinstance(node, Or)
    found: list[Finding] = []
    for operand in node.operands:
        passed, deciding = _explain(operand, s, negated)
        if passed == decisive:
            return passed, deciding
        found.extend(deciding)
    return not decisive, found


def describe(term: Term, s: FilterSubject) -> str:
    """What `term`'s field holds in `s`, as far as it matters to the term."""
    if term.regex:
        return _describe_regex(term, s)
    if term.field == "tag":
        return _describe_tag(term.value, s)
    if term.field == "domain":
        return f"domain is {s.host or 'unknown'}"
    if term.field == "lang":
        return f"language is {s.lang or 'unknown'}"
    phrase = f'"{term.value}"'
    if term.field == "feed":
        return f'feed is "{s.feed_name}", id {s.feed_id}'
    found = word_finder(fold(term.value))
    if term.field == "text":
        places = [name for name in ("title", "summary") if found(getattr(s, f"{name}_folded"))]
        if places:
            return f"{' and '.join(places)} contains {phrase}"
        return f"neither title nor summary contains {phrase}"
    label = _WORD_FIELDS[term.field]
    verb = "contains" if found(getattr(s, f"{term.field}_folded")) else "does not contain"
    return f"{label} {verb} {phrase}"


def _describe_tag(key: str, s: FilterSubject) -> str:
    for tag in s.tags:
        if tag_key(tag) == key:
            return f"tagged #{tag}"
    if not s.tags:
        return "no tags"
    return "tags are " + ", ".join(f"#{t}" for t in s.tags)


def _describe_regex(term: Term, s: FilterSubject) -> str:
    rx = compile_regex(term.value)
    targets = regex_targets(term.field, s)
    for label, text in targets:
        hit = regex_search(rx, text)
        if hit is not None:
            return f'{label} matches at "{hit}"'
    if term.field == "text":
        return "no match in title or summary"
    return f"no match in {term.field}" if targets else f"no {term.field}s"
