"""Tests for explaining a filter's verdict on an article in words."""

from __future__ import annotations

from typing import Any

import pytest

from bot.filters.parse import explain, parse_filter, subject_of
from tests.test_filters import MATCHES, make_article

POLICY = 'tag:politics and not (title:"opinion" or feed:tabloid)'


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        (
            POLICY,
            {"title": "Opinion: vote", "tags": ("Politics",)},
            'failed: not title:opinion (title contains "opinion")',
        ),
        (POLICY, {"title": "Vote", "tags": ("Sport",)}, "failed: tag:politics (tags are #Sport)"),
        ("tag:politics", {"tags": ("Politics",)}, "passed: tag:politics (tagged #Politics)"),
        ("tag:politics", {}, "failed: tag:politics (no tags)"),
        (
            "japan or korea",
            {"title": "China"},
            'failed: japan (neither title nor summary contains "japan"); '
            'korea (neither title nor summary contains "korea")',
        ),
        ("japan or korea", {"summary": "Korea talks"}, 'passed: korea (summary contains "korea")'),
        ("a and b", {"title": "a b"}, 'passed: a (title contains "a"); b (title contains "b")'),
        (
            "not feed:tabloid",
            {"feed_name": "Tabloid", "feed_id": 4},
            'failed: not feed:tabloid (feed is "Tabloid", id 4)',
        ),
        (
            "domain:example.org",
            {"url": "https://bad.net/"},
            "failed: domain:example.org (domain is bad.net)",
        ),
        ("lang:de", {"lang": "en-GB"}, "failed: lang:de (language is en-gb)"),
        ("/jap(an)?/", {"title": "JAPAN votes"}, 'passed: /jap(an)?/ (title matches at "JAPAN")'),
        ("author:/x/", {"author": "Ann"}, "failed: author:/x/ (no match in author)"),
        ("tag:/x/", {}, "failed: tag:/x/ (no tags)"),
    ],
)
def test_explanation_names_the_deciding_terms(
    text: str, fields: dict[str, Any], expected: str
) -> None:
    """The explanation gives the verdict and the terms that decided it, with what they saw."""
    assert str(explain(parse_filter(text), make_article(**fields))) == expected


@pytest.mark.parametrize(("text", "fields", "expected"), MATCHES)
def test_explanation_verdict_agrees_with_matches(
    text: str, fields: dict[str, Any], expected: bool
) -> None:
    """explain() passes exactly the articles matches() passes."""
    assert explain(parse_filter(text), subject_of(make_article(**fields))).passed is expected
