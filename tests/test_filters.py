"""Tests for the topic filter language: parsing, matching, errors and canonical form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.filters.parse import (
    FIELDS,
    And,
    FilterError,
    Not,
    Or,
    Term,
    parse_filter,
    subject_of,
)
from bot.model import Article


def make_article(**fields: Any) -> Article:
    """A small article; keyword arguments override its fields."""
    base: dict[str, Any] = {
        "id": 1,
        "feed_id": 7,
        "feed_name": "Example World",
        "url": "https://www.example.org/world/1",
        "title": "",
        "summary": "",
        "first_seen": datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
    }
    return Article(**(base | fields))


MATCHES = [
    ("title:japan", {"title": "Japan's PM visits Seoul"}, True),
    ("title:japan", {"title": "JAPAN wins"}, True),
    ("title:japan", {"title": "Japanese cuisine"}, False),
    ("title:japan", {"summary": "Japan"}, False),
    ("japan", {"summary": "Talks in Japan."}, True),
    ("text:japan", {"title": "Japan"}, True),
    ('"prime minister"', {"summary": "the prime\n   minister said"}, True),
    ('"prime minister"', {"title": "prime", "summary": "minister"}, False),
    ('title:"prime minister"', {"title": "Prime Ministers meet"}, False),
    ("tag:worldnews", {"tags": ("World News",)}, True),
    ('tag:"world news"', {"tags": ("WorldNews",)}, True),
    ("tag:#WorldNews", {"tags": ("world-news",)}, True),
    ("tag:politics", {"tags": ("WorldNews",)}, False),
    ("tag:/^world/", {"tags": ("Sport", "WorldNews")}, True),
    ("feed:tabloid", {"feed_name": "The Tabloid Daily"}, True),
    ("feed:tab", {"feed_name": "The Tabloid Daily"}, False),
    ('feed:"tabloid daily"', {"feed_name": "The Tabloid Daily"}, True),
    ("feed:7", {"feed_id": 7}, True),
    ("feed:8", {"feed_id": 7}, False),
    ("author:smith", {"author": "Jane Smith"}, True),
    ("author:smith", {"author": "Jane Smithson"}, False),
    ("domain:example.org", {"url": "https://example.org/a"}, True),
    ("domain:example.org", {"url": "https://www.example.org/a"}, True),
    ("domain:example.org", {"url": "http://news.EXAMPLE.org:8080/a"}, True),
    ("domain:example.org", {"url": "https://badexample.org/a"}, False),
    ("domain:example.org", {"url": "https://example.org.evil.com/a"}, False),
    ("domain:news.example.org", {"url": "https://example.org/a"}, False),
    ("lang:en", {"lang": "en-GB"}, True),
    ("lang:en", {"lang": "en"}, True),
    ("lang:en", {"lang": "eng"}, False),
    ("lang:en-gb", {"lang": "en_GB"}, True),
    ("/japan|korea/", {"summary": "South KOREA talks"}, True),
    ("/japan|korea/", {"summary": "China talks"}, False),
    ("title:/^breaking/", {"title": "Breaking: flood"}, True),
    ("title:/^breaking/", {"summary": "Breaking: flood"}, False),
    ("japan korea", {"title": "Japan and Korea"}, True),
    ("japan korea", {"title": "Japan alone"}, False),
    ("japan AND NOT korea", {"title": "Japan alone"}, True),
    ("not japan", {"title": "Korea"}, True),
    ("a or b and c", {"title": "a"}, True),
    ("(a or b) and c", {"title": "a"}, False),
    ("not a or b", {"title": "a b"}, True),
    ("not (a or b)", {"title": "a"}, False),
    (
        'tag:politics and not (title:"opinion" or feed:tabloid) and /japan|korea/',
        {"title": "Japan votes", "tags": ("Politics",)},
        True,
    ),
    (
        'tag:politics and not (title:"opinion" or feed:tabloid) and /japan|korea/',
        {"title": "Opinion: Japan votes", "tags": ("Politics",)},
        False,
    ),
]


@pytest.mark.parametrize(("text", "fields", "expected"), MATCHES)
def test_filter_matches_articles(text: str, fields: dict[str, Any], expected: bool) -> None:
    """Each expression passes exactly the articles its words, fields and operators select."""
    assert parse_filter(text).matches(make_article(**fields)) is expected


@pytest.mark.parametrize(("text", "fields", "expected"), MATCHES)
def test_matches_accepts_a_prebuilt_subject(
    text: str, fields: dict[str, Any], expected: bool
) -> None:
    """Matching a FilterSubject built once gives the same answer as matching the article."""
    assert parse_filter(text).matches(subject_of(make_article(**fields))) is expected


ERRORS = [
    ("titel:x", "filter: unknown field 'titel' at column 1 (fields: " + ", ".join(FIELDS) + ")", 1),
    ("(tag:politics or title:japan", "filter: expected ')' at column 29", 29),
    ('a and title:"abc', "filter: unterminated quote at column 13", 13),
    ("not or b", "filter: unexpected 'or' at column 5", 5),
    ("a and and b", "filter: unexpected 'and' at column 7", 7),
    ("a)", "filter: unexpected ')' at column 2", 2),
    ("()", "filter: unexpected ')' at column 2", 2),
    ("", "filter: empty filter", 1),
    ("   ", "filter: empty filter", 1),
    ("a and", "filter: expected a term after 'and' at column 6", 6),
    ("not", "filter: expected a term after 'not' at column 4", 4),
    ("title: x", "filter: expected a word, phrase or /regex/ after 'title:' at column 7", 7),
    ("/abc", "filter: unterminated regex at column 1", 1),
    ("//", "filter: empty regex at column 1", 1),
    ("/a/i", "filter: regex flags are not supported (matching ignores case) at column 4", 4),
    ('tag:"#"', "filter: tag '#' has no letters or digits at column 5", 5),
    ('title:""', "filter: empty phrase at column 7", 7),
    ('domain:"a b"', "filter: 'a b' is not a domain name (like example.org) at column 8", 8),
    ("lang:en!", "filter: 'en!' is not a language code (like en or en-GB) at column 6", 6),
    ("x" * 501, "filter: too long (501 characters, at most 500)", 501),
    (" or ".join(["a"] * 31), "filter: too many terms (at most 30) at column 151", 151),
    ("(" * 11 + "a" + ")" * 11, "filter: nesting deeper than 10 parentheses at column 11", 11),
    (
        "title:/" + "a" * 201 + "/",
        "filter: regex too long (201 characters, at most 200) at column 7",
        7,
    ),
]


@pytest.mark.parametrize(("text", "message", "column"), ERRORS)
def test_invalid_filter_names_problem_and_column(text: str, message: str, column: int) -> None:
    """Invalid filters raise FilterError saying what was expected, at which 1-based column."""
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert (str(caught.value), caught.value.column) == (message, column)


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        (r"/(a)\1/", 1, "invalid escape sequence"),
        ("a or title:/(?=x)y/", 12, "invalid perl operator"),
        ("/(?<!x)y/", 1, "invalid perl operator"),
    ],
)
def test_regex_re2_refuses_is_an_error_at_its_column(text: str, column: int, reason: str) -> None:
    """Backreferences and lookaround are refused at parse time, naming the regex's column."""
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert caught.value.column == column
    assert str(caught.value).startswith(f"filter: invalid regex at column {column}: {reason}")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("/(ab/", "(an unbalanced '(': close it, or write \\( for a literal one)"),
        ("/ab)/", "(a ')' with no '(': write \\) for a literal one)"),
        ("/[ab/", "(an unclosed '[': close it, or write \\[ for a literal one)"),
        (r"/(a)\1/", "(RE2 has no backreferences)"),
        ("/(?<=a)b/", "(RE2 has no lookbehind)"),
        ("/(?!a)b/", "(RE2 has no lookahead)"),
        ("/*a/", "(*, + and ? repeat what comes before them: write \\* for a literal one)"),
        ("/a{2,1}/", "invalid repetition size: {2,1}"),
        (r"/a\q/", "invalid escape sequence: \\q"),
    ],
)
def test_regex_error_hint_matches_the_error(text: str, hint: str) -> None:
    """Each refused regex ends with a hint about its own mistake, or none when none fits."""
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert str(caught.value).endswith(hint)


def test_filter_error_is_a_value_error() -> None:
    """FilterError is a ValueError, so callers handling bad input catch it."""
    assert issubclass(FilterError, ValueError)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("japan", Term("text", "japan")),
        ("title:Japan", Term("title", "Japan")),
        ('TITLE:"prime minister"', Term("title", "prime minister")),
        (r'"say \"hi\" \\ now"', Term("text", 'say "hi" \\ now')),
        ("/a\\/b/", Term("text", "a\\/b", regex=True)),
        ("a b or c", Or((And((Term("text", "a"), Term("text", "b"))), Term("text", "c")))),
        ("not not a", Not(Not(Term("text", "a")))),
        ("(a and b) and c", And((And((Term("text", "a"), Term("text", "b"))), Term("text", "c")))),
    ],
)
def test_parse_builds_the_expected_tree(text: str, tree: object) -> None:
    """Fields, quotes, escapes, implicit `and` and precedence give the expected tree."""
    assert parse_filter(text) == tree


@pytest.mark.parametrize(
    "spelling", ["tag:worldnews", 'tag:"world news"', "tag:#WorldNews", "tag:World-News"]
)
def test_tag_spellings_parse_to_one_filter(spelling: str) -> None:
    """Every spelling of a tag parses to the same filter, printed by its key."""
    assert str(parse_filter(spelling)) == "tag:worldnews"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            '  tag:politics AND NOT (title:"opinion" OR feed:tabloid) /japan|korea/ ',
            ("tag:politics and not (title:opinion or feed:tabloid) and /japan|korea/"),
        ),
        ('text:"and"', '"and"'),
        ('"10:30" domain:WWW.Example.org.', '"10:30" and domain:www.example.org'),
        ("a or (b or c)", "a or (b or c)"),
        ("lang:EN_gb", "lang:en-gb"),
    ],
)
def test_str_is_the_canonical_form(text: str, canonical: str) -> None:
    """Printing a filter gives its canonical form: lower-case operators, quotes only if needed."""
    assert str(parse_filter(text)) == canonical


def test_keywords_can_be_searched_when_quoted() -> None:
    """A quoted keyword is a word to search for, not an operator."""
    assert parse_filter('"not"').matches(make_article(title="Not guilty"))


def test_and_needs_two_operands() -> None:
    """Building an And of one operand is refused, keeping every tree printable."""
    with pytest.raises(ValueError, match="at least two"):
        And((Term("text", "a"),))
