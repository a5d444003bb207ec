"""Feed bytes to entries: every format, identity of entries, dates, hostile documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.feeds.canonical import canonical_url
from bot.feeds.parse import ParseError, parse_feed
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


def _json_feed(items: list[object]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J",
                       "items": items}).encode()


GOOD = [{"id": f"g{i}", "url": f"https://j.example/{i}", "title": f"Good {i}",
         "date_published": "2026-11-24T10:00:00Z"} for i in range(2)]


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                  "2026-13-45T99:00:00Z", "not a date"])
def test_bad_json_date_becomes_no_date(date: str) -> None:
    """One item's unreadable date (one that overflows in UTC too) costs only that date."""
    bad = {"id": "b", "url": "https://j.example/b", "title": "Bad date", "date_published": date}
    feed = parse_feed(_json_feed([GOOD[0], bad, GOOD[1]]), "https://j.example/feed", now=NOW)
    assert [(e.title, e.published is None) for e in feed.entries] == [
        ("Good 0", False), ("Bad date", True), ("Good 1", False)]


def test_unreadable_json_items_cost_only_themselves() -> None:
    """Items that are not objects or hold impossible values are skipped with a reason each;
    their siblings are kept."""
    bad = [{"id": "t", "title": "Tags are a number", "tags": 5}, "a string", 42]
    feed = parse_feed(_json_feed([GOOD[0], *bad, GOOD[1]]), "https://j.example/feed", now=NOW)
    assert [e.title for e in feed.entries] == ["Good 0", "Good 1"]
    assert [reason.split(":")[0] for reason in feed.skipped] == [
        "item 2 skipped", "item 3 skipped", "item 4 skipped"]


RSS_DATES = ["Mon, 01 Jan 0001 00:00:00 +0100", "Fri, 31 Dec 9999 23:59:59 -0100",
             "Tue, 45 Foo 2026 99:99:99 GMT"]
ATOM_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-45T99:00:00Z"]


@pytest.mark.parametrize("date", RSS_DATES)
def test_bad_rss_date_becomes_no_date(date: str) -> None:
    """In RSS, one item's absurd date costs that date only, never the item or its siblings."""
    items = "".join(f"<item><title>{t}</title><link>https://r.example/{i}</link>"
                    f"<pubDate>{d}</pubDate></item>" for i, (t, d) in enumerate(
                        [("Good", "Tue, 24 Nov 2026 10:00:00 GMT"), ("Bad", date)]))
    body = f'<rss version="2.0"><channel><title>R</title>{items}</channel></rss>'.encode()
    feed = parse_feed(body, "https://r.example/feed", now=NOW)
    assert [(e.title, e.published is None) for e in feed.entries] == [
        ("Good", False), ("Bad", True)]


@pytest.mark.parametrize("date", ATOM_DATES)
def test_bad_atom_date_becomes_no_date(date: str) -> None:
    """In Atom, one entry's absurd date costs that date only."""
    entries = "".join(f"<entry><title>{t}</title><id>urn:{t}</id>"
                      f"<link href='https://a.example/{t}'/><updated>{d}</updated></entry>"
                      for t, d in [("Good", "2026-11-24T10:00:00Z"), ("Bad", date)])
    body = (f'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>{entries}'
            "</feed>").encode()
    feed = parse_feed(body, "https://a.example/feed", now=NOW)
    assert [(e.title, e.published is None) for e in feed.entries] == [
        ("Good", False), ("Bad", True)]


@pytest.mark.parametrize("titles", [["Live: storm"] * 3, ["Update 1", "Update 2", "Update 3"]])
def test_items_sharing_guid_and_link_are_told_apart_by_content(titles: list[str]) -> None:
    """Live-blog updates sharing one guid and one link are three entries, keyed by content;
    the same document read again gives the same keys."""
    items = "".join(f"<item><title>{t}</title><link>https://l.example/live</link>"
                    f"<guid isPermaLink='false'>live</guid><description>Update {i}"
                    "</description></item>" for i, t in enumerate(titles))
    body = f'<rss version="2.0"><channel><title>L</title>{items}</channel></rss>'.encode()
    first = parse_feed(body, "https://l.example/feed", now=NOW)
    again = parse_feed(body, "https://l.example/feed", now=NOW)
    keys = [e.dedup_key for e in first.entries]
    assert len(set(keys)) == 3 and keys == [e.dedup_key for e in again.entries]
    prefix = "content:" if len(set(titles)) == 1 else "hash:"
    assert all(key.startswith(prefix) for key in keys)
