"""Property tests for the topic filter language: round trips, total parsing, bounded regexes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.filters.parse import (
    And,
    Filter,
    FilterError,
    Not,
    Or,
    Term,
    parse_filter,
)
from bot.model import Article, tag_key

_WORDS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip)
_REGEXES = st.sampled_from(["japan|korea", "^breaking", r"\d+", r"a\/b", "(?:x|y)z", "[a-z]+$"])

terms = st.one_of(
    st.builds(Term, st.sampled_from(["title", "summary", "text", "author", "feed"]), _WORDS),
    st.builds(Term, st.just("tag"), _WORDS.filter(lambda v: tag_key(v) != "")),
    st.builds(
        Term, st.just("domain"), st.from_regex(r"[a-z0-9-]{1,8}(\.[a-z]{2,5}){0,2}", fullmatch=True)
    ),
    st.builds(Term, st.just("lang"), st.from_regex(r"[a-z]{2,3}(-[a-z0-9]{1,4})?", fullmatch=True)),
    st.builds(Term, st.sampled_from(["text", "title", "tag", "domain"]), _REGEXES, st.just(True)),
)


def _compound(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    operands = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), operands.map(And), operands.map(Or))


filters = st.recursive(terms, _compound, max_leaves=8)

_FRAGMENTS = st.sampled_from(
    [
        " ",
        "a",
        "Japan",
        "and",
        "or",
        "not",
        "(",
        ")",
        '"',
        "\\",
        "/",
        ":",
        "title:",
        "tag:",
        "domain:",
        "lang:",
        "feed:",
        "titel:",
        '"x y"',
        "/a+/",
        r"/(a)\1/",
        "(?=",
        "#",
        "é",
        "\n",
    ]
)
_TEXTS = st.one_of(st.text(max_size=600), st.lists(_FRAGMENTS, max_size=80).map("".join))


@given(filters)
def test_canonical_form_reparses_to_an_equal_filter(tree: Filter) -> None:
    """Any filter tree prints to text that parses back to an equal tree."""
    text = str(tree)
    assume(len(text) <= 500)
    assert parse_filter(text) == tree


def _outcome(text: str) -> Filter | FilterError:
    try:
        return parse_filter(text)
    except FilterError as exc:
        return exc


@given(_TEXTS)
def test_parse_returns_a_filter_or_raises_filter_error(text: str) -> None:
    """Arbitrary text parses to a Filter or raises FilterError (with a column in range), never
    another exception."""
    outcome = _outcome(text)
    if isinstance(outcome, FilterError):
        assert 1 <= outcome.column <= len(text) + 1
    else:
        assert isinstance(outcome, Filter)


@given(_TEXTS)
def test_parsed_filters_print_to_their_own_canonical_form(text: str) -> None:
    """Whatever parses, prints to a form that parses to an equal filter (when within limits)."""
    try:
        tree = parse_filter(text)
    except FilterError:
        return
    canonical = str(tree)
    assume(len(canonical) <= 500)
    assert parse_filter(canonical) == tree


@pytest.mark.timeout(30, method="thread")  # a backtracking engine would never return
def test_catastrophic_regex_runs_in_bounded_time() -> None:
    """Patterns that backtrack exponentially elsewhere answer on RE2: no match on the
    50,000-character input built to trigger it, a match where both patterns hold."""
    flt = parse_filter("/(a+)+$/ and title:/(x+x+)+y/")
    article = Article(
        id=1,
        feed_id=1,
        feed_name="f",
        url="https://example.org/",
        title="x" * 50_000,
        summary="a" * 50_000 + "!",
        first_seen=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert not flt.matches(article)
    assert flt.matches(replace(article, title="x" * 50_000 + "y", summary="a" * 50_000))
