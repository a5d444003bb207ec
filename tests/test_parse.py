"""Feed bytes to entries: every format, identity of entries, dates, hostile documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import ParseError, canonical_url, parse_feed
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _parse(name: str, url: str = "https://feeds.example.org/feed") -> list[str]:
    feed = parse_feed((FIXTURES / name).read_bytes(), url, now=NOW)
    return [entry.title for entry in feed.entries]


@pytest.mark.parametrize(("name", "count"), [
    ("rss091.xml", 1), ("rdf_iso8859.xml", 1), ("rss20_bbc.xml", 1), ("atom.xml", 1),
    ("jsonfeed.json", 3), ("rss_windows1251.xml", 14), ("utf16.xml", 1),
    ("world_news.xml", 4), ("tech_news.atom", 2),
])
def test_every_format_parses(name: str, count: int) -> None:
    """RSS 0.91, 1.0/RDF, 2.0, Atom, JSON Feed and legacy encodings all give entries."""
    feed = parse_feed((FIXTURES / name).read_bytes(), "https://feeds.example.org/x", now=NOW)
    assert len(feed.entries) >= count
    assert all(entry.title or entry.url for entry in feed.entries)


def test_legacy_encoding_is_decoded() -> None:
    """A windows-1251 feed comes out as proper Cyrillic text."""
    titles = _parse("rss_windows1251.xml")
    assert any("\u0400" <= ch <= "\u04ff" for ch in "".join(titles))


def test_malformed_feed_is_a_parse_error() -> None:
    """A truncated document is a ParseError with a reason, not an exception of feedparser."""
    with pytest.raises(ParseError, match="not a feed"):
        parse_feed((FIXTURES / "malformed.xml").read_bytes(), "https://x.example/", now=NOW)


@pytest.mark.parametrize("body", [b"", b"<html><body>hello</body></html>", b"\x00\xff" * 50,
                                  b'{"version": "nope"}', b"{not json"])
def test_non_feeds_are_parse_errors(body: bytes) -> None:
    """Empty bodies, HTML pages, binary junk and foreign JSON are refused with a reason."""
    with pytest.raises(ParseError):
        parse_feed(body, "https://x.example/", now=NOW)


def test_duplicate_guids_fall_back_to_links() -> None:
    """Guids repeated inside one document are not identities: the links are used."""
    feed = parse_feed((FIXTURES / "duplicate_guids.xml").read_bytes(), "https://d.example/",
                      now=NOW)
    assert [e.dedup_key for e in feed.entries] == [
        "url:https://dup.example.net/a", "url:https://dup.example.net/b",
        "id:https://d.example/unique-3"]


def test_no_guids_use_canonical_links_then_content_hash() -> None:
    """Without guids: the link without tracking parameters, else a hash of the content."""
    feed = parse_feed((FIXTURES / "no_guids.xml").read_bytes(), "https://n.example/", now=NOW)
    keys = [e.dedup_key for e in feed.entries]
    assert keys[0] == "url:https://noguid.example.net/story"
    assert keys[1].startswith("hash:") and keys[2].startswith("hash:") and keys[1] != keys[2]


def test_relative_links_are_made_absolute() -> None:
    """An Atom entry's relative link is resolved against the feed."""
    feed = parse_feed((FIXTURES / "tech_news.atom").read_bytes(),
                      "https://tech.example.com/feed.atom", now=NOW)
    assert feed.entries[0].url == "https://tech.example.com/2026/11/24/chip-tariff-deal"


def test_declared_entities_still_parse() -> None:
    """A feed declaring &nbsp; in its DOCTYPE still parses."""
    assert len(_parse("world_news.xml")) == 4


def test_entity_expansion_bomb_is_neutralized() -> None:
    """Nested entity declarations (billion laughs) are never expanded."""
    levels = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{"&a" + str(i - 1) + ";" * 1}' * 1 + f'{("&a" + str(i - 1) + ";") * 9}">'
        for i in range(1, 10)]
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(levels)}]><rss version="2.0">'
            "<channel><title>t</title><item><title>&a9;</title><link>https://x.example/1</link>"
            "</item></channel></rss>").encode()
    try:
        feed = parse_feed(body, "https://x.example/", now=NOW)
    except ParseError:
        return
    assert all(len(e.title) < 10_000 for e in feed.entries)


@pytest.mark.parametrize(("date", "expected"), [
    ("Tue, 24 Nov 2026 07:15:00 GMT", datetime(2026, 11, 24, 7, 15, tzinfo=UTC)),
    ("Tue, 24 Nov 2026 07:15:00 +0530", datetime(2026, 11, 24, 1, 45, tzinfo=UTC)),
    ("not a date", None),
    ("Thu, 01 Jan 1970 00:00:00 GMT", None),
    ("Fri, 31 Dec 9999 23:59:59 GMT", None),
    ("Wed, 24 Nov 2027 07:15:00 GMT", None),
])
def test_dates_are_utc_and_sane(date: str, expected: datetime | None) -> None:
    """Odd offsets become UTC; missing, epoch-0 and far-future dates count as missing."""
    body = (f'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
            f"<link>https://x.example/1</link><pubDate>{date}</pubDate></item>"
            "</channel></rss>").encode()
    assert parse_feed(body, "https://x.example/", now=NOW).entries[0].published == expected


def test_only_the_newest_entries_are_kept() -> None:
    """At most max_entries entries, the newest by date, in document order."""
    items = "".join(f"<item><title>n{i}</title><link>https://x.example/{i}</link>"
                    f"<pubDate>Tue, 24 Nov 2026 {i % 24:02d}:00:00 GMT</pubDate></item>"
                    for i in range(30))
    body = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    feed = parse_feed(body, "https://x.example/", now=NOW, max_entries=5)
    assert [e.title for e in feed.entries] == ["n19", "n20", "n21", "n22", "n23"]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://Example.org/a?utm_source=x&id=3#top", "https://example.org/a?id=3"),
    ("http://example.org:80/a?fbclid=1&gclid=2", "http://example.org/a"),
    ("https://example.org", "https://example.org/"),
    ("javascript:alert(1)", ""),
    ("", ""),
])
def test_canonical_url_drops_tracking(url: str, expected: str) -> None:
    """Canonical URLs drop fragments, default ports and tracking parameters."""
    assert canonical_url(url) == expected


def test_json_feed_fields() -> None:
    """JSON Feed items give title, absolute url, html content, tags and dates."""
    feed = parse_feed((FIXTURES / "jsonfeed.json").read_bytes(), "https://j.example/feed.json",
                      now=NOW)
    entry = feed.entries[0]
    assert entry.title and entry.url.startswith("https://")
    assert entry.dedup_key in (f"id:{entry.url}", f"url:{entry.url}")
