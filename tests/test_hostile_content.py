"""Hostile links and lengths in feed items: dropped or cut, the story's text always kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.chat.discord.render import render_discord
from bot.chat.render_plain import render_plain
from bot.chat.telegram.render import render_telegram
from bot.feeds.parse import parse_feed
from bot.model import Article, Digest, DigestItem

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOSTILE_LINKS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                 "file:///etc/passwd", "tg://resolve?domain=evil", "//evil.example/x",
                 "vbscript:msgbox(1)", " JaVaScRiPt:alert(1)"]


def _digest(url: str, title: str = "Harmless title") -> Digest:
    article = Article(id=1, feed_id=1, feed_name="Feed", url=url, title=title,
                      summary="Some text.", first_seen=NOW)
    return Digest(channel_id="discord:1", title="News", created=NOW,
                  items=(DigestItem(article),))


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_hostile_item_links_are_dropped_and_the_title_stays(link: str) -> None:
    """An item whose link is not http(s) keeps its title, and no platform shows the link."""
    digest = _digest(link)
    plain = render_plain(digest)
    telegram = "".join(render_telegram(digest))
    discord = render_discord(digest)
    assert "Harmless title" in plain and "Harmless title" in telegram
    assert discord[0].embeds[0].title.startswith("Harmless title")
    assert discord[0].embeds[0].url is None
    for text in (plain, telegram, repr(discord)):
        assert "evil" not in text and "passwd" not in text and "alert" not in text


@pytest.mark.parametrize("link", [x for x in HOSTILE_LINKS if not x.startswith("//")])
def test_hostile_links_in_a_feed_become_no_link(link: str) -> None:
    """Read from a feed, a non-http(s) link gives an entry without URL but with its title."""
    body = (f'<rss version="2.0"><channel><title>t</title><item><title>Kept</title>'
            f"<link><![CDATA[{link}]]></link></item></channel></rss>").encode()
    [entry] = parse_feed(body, "https://feeds.example.org/rss", now=NOW).entries
    assert (entry.title, entry.url) == ("Kept", "")


@pytest.mark.parametrize(("link", "expected"), [
    ("/world/1", "https://feeds.example.org/world/1"),
    ("story.html", "https://feeds.example.org/news/story.html"),
    ("//cdn.example.net/a", "https://cdn.example.net/a"),
])
def test_links_are_made_absolute_against_the_feed_url(link: str, expected: str) -> None:
    """Relative and protocol-relative item links resolve against the feed's own URL."""
    body = (f'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
            f"<link>{link}</link></item></channel></rss>").encode()
    [entry] = parse_feed(body, "https://feeds.example.org/news/rss", now=NOW).entries
    assert entry.url == expected


def test_very_long_titles_and_urls_are_cut_safely() -> None:
    """A 100 000-character title is cut on every platform; a 5 000-character URL is dropped."""
    digest = _digest("https://long.example/" + "a" * 5000, title="word " * 20_000)
    plain = render_plain(digest)
    telegram = render_telegram(digest)
    discord = render_discord(digest)
    assert len(plain) < 2000 and "a" * 5000 not in plain
    assert all(len(message) <= 4096 for message in telegram)
    embed = discord[0].embeds[0]
    assert len(embed.title) <= 256 and embed.url is None
    assert embed.title.endswith("…")
