"""Property tests: for any digest, every renderer stays within limits and emits only safe text."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.discord.render import DiscordLimits, DiscordMessage, render_discord
from bot.chat.render_plain import render_plain
from bot.chat.sanitize import telegram_len
from bot.chat.telegram.render import ALLOWED_TAGS, render_telegram
from bot.model import Article, Digest, DigestItem, Link, Reply

pytestmark = pytest.mark.slow  # Hypothesis renders hundreds of digests per test

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
HOSTILE = [
    "@everyone", "@here", "<@123>", "<@&1>", "<#1>", "</x:1>", "<t:1:R>", "<:e:1>",
    "discord.gg/x", "[a](javascript:alert(1))", "<b>", "</a>", "&amp;", "\u202e", "\u2066",
    "\x1b[2J", "\x1b]0;t\x07", "\x00", "\x85", "😀", "👨‍👩‍👧", "e\u0301", "**", "||", "`", "\\",
    "\n", "# ", "> ", "- ", "1. ", "https://e.org/a_b", "\u200b", "\ufeff", "𝕏",
]  # fmt: skip
URLS = [
    "https://example.org/a", "http://example.org/b?x=1&y=<2>", "javascript:alert(1)",
    "data:text/html,x", "//evil.org/x", "https://u:p@e.org/", "tg://resolve", "", "/rel",
    "https://e.org/(x)", "https://bücher.de/", "file:///etc/passwd",
]  # fmt: skip
BIDI_OR_CONTROL = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
PING = re.compile(r"@(everyone|here)|<[@#/:]|<a:|<t:", re.IGNORECASE)

fragments = st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE))
texts = st.builds(
    lambda parts, n: "".join(parts) * n,
    st.lists(fragments, max_size=6),
    st.sampled_from([1, 1, 1, 2, 10, 200]),
)
urls = st.one_of(st.sampled_from(URLS), st.builds(lambda s: "https://e.org/" + s, st.text()))
links = st.builds(Link, title=texts, url=urls, source=texts)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
articles = st.builds(
    Article,
    id=st.just(1), feed_id=st.just(1), feed_name=texts, url=urls, title=texts, summary=texts,
    first_seen=times, published=st.none() | times, tags=st.lists(texts, max_size=5).map(tuple),
)  # fmt: skip
items = st.builds(
    DigestItem,
    article=articles,
    also=st.lists(links, max_size=4).map(tuple),
    related=st.lists(links, max_size=3).map(tuple),
)
digests = st.builds(
    Digest,
    channel_id=st.just("discord:1"),
    title=texts,
    created=times,
    items=st.lists(items, max_size=60).map(tuple),
    more=st.integers(0, 100),
)

replies = st.builds(
    Reply, text=texts, items=st.lists(items, max_size=12).map(tuple), ephemeral=st.booleans()
)


class TagChecker(HTMLParser):
    """Records tag balance problems, unknown tags and every href in Telegram HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Push the tag; note unknown tags and collect hrefs."""
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag {tag}")
        self.hrefs += [value or "" for name, value in attrs if name == "href"]
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Pop the matching tag or note the imbalance."""
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced {tag}")


def check_html(message: str) -> TagChecker:
    """Parse one message and return the checker, with unclosed tags noted."""
    checker = TagChecker()
    checker.feed(message)
    checker.close()
    checker.problems += [f"unclosed {tag}" for tag in checker.stack]
    return checker


def discord_texts(messages: list[DiscordMessage]) -> list[str]:
    """Every string a Discord rendering would send."""
    parts = [m.content for m in messages]
    for message in messages:
        parts += [p for e in message.embeds for p in (e.title, e.description, e.footer)]
    return parts


def masked_link_targets(markdown: str) -> list[str]:
    """Targets of masked links [text](target) that Discord would render (escapes skipped)."""
    targets: list[str] = []
    i = 0
    while i < len(markdown):
        if markdown[i] == "\\":
            i += 2
            continue
        if markdown.startswith("](", i):
            end = markdown.find(")", i + 2)
            targets.append(markdown[i + 2 : end if end >= 0 else len(markdown)])
        i += 1
    return targets


@PROPERTY_SETTINGS
@given(digests, st.integers(200, 4096))
def test_telegram_messages_stay_within_limit(digest: Digest, limit: int) -> None:
    """Each Telegram message's counted length is within the limit, and none is empty."""
    for message in render_telegram(digest, limit):
        assert 0 < telegram_len(message) <= limit


@PROPERTY_SETTINGS
@given(digests)
def test_telegram_html_is_balanced_and_uses_allowed_tags(digest: Digest) -> None:
    """Every message parses to balanced tags from Telegram's list, with http(s) hrefs only."""
    for message in render_telegram(digest, 1000):
        checker = check_html(message)
        assert checker.problems == []
        assert all(re.match(r"https?://[^\s\"<>]+$", href) for href in checker.hrefs)


@PROPERTY_SETTINGS
@given(digests)
def test_telegram_output_has_no_controls_bidi_or_mass_mentions(digest: Digest) -> None:
    """No control or bidi character and no @everyone/@here survives into Telegram text."""
    for message in render_telegram(digest):
        assert not BIDI_OR_CONTROL.search(message)
        assert not re.search(r"@(everyone|here)", message, re.IGNORECASE)


@PROPERTY_SETTINGS
@given(
    digests,
    st.builds(
        DiscordLimits,
        content=st.integers(100, 2000),
        embeds_per_message=st.integers(1, 10),
        embed_title=st.integers(20, 256),
        embed_description=st.integers(200, 4096),
        embed_total=st.integers(600, 6000),
        footer=st.integers(20, 2048),
    ),
)
def test_discord_messages_stay_within_every_limit(digest: Digest, limits: DiscordLimits) -> None:
    """Content, embed count, each embed string and each message's embed total fit the limits."""
    for message in render_discord(digest, limits):
        assert len(message.content) <= limits.content
        assert len(message.embeds) <= limits.embeds_per_message
        assert sum(e.size for e in message.embeds) <= limits.embed_total
        for embed in message.embeds:
            assert len(embed.title) <= limits.embed_title
            assert len(embed.description) <= limits.embed_description
            assert len(embed.footer) <= limits.footer


@PROPERTY_SETTINGS
@given(digests)
def test_discord_output_has_no_pings_controls_or_bidi(digest: Digest) -> None:
    """No live mention syntax, control or bidi character appears in any Discord string."""
    for text in discord_texts(render_discord(digest)):
        assert not PING.search(text)
        assert not BIDI_OR_CONTROL.search(text)


@PROPERTY_SETTINGS
@given(digests)
def test_discord_links_are_only_checked_http_urls(digest: Digest) -> None:
    """Embed URLs and masked link targets are all http(s) URLs without spaces or parentheses."""
    for message in render_discord(digest):
        for embed in message.embeds:
            assert embed.url is None or re.match(r"https?://\S+$", embed.url)
            for target in masked_link_targets(embed.description):
                assert re.match(r"https?://[^\s()]+$", target)
        assert masked_link_targets(message.content) == []


@PROPERTY_SETTINGS
@given(digests)
def test_discord_keeps_every_story(digest: Digest) -> None:
    """Splitting never loses a story: one embed per item across all messages."""
    messages = render_discord(digest)
    assert sum(len(m.embeds) for m in messages) == len(digest.items)


@PROPERTY_SETTINGS
@given(digests, st.integers(20, 200))
def test_plain_output_has_no_controls_or_bidi(digest: Digest, width: int) -> None:
    """Console text carries no escape, control or bidi character from any feed."""
    text = render_plain(digest, width)
    assert not BIDI_OR_CONTROL.search(text)
    assert all(unicodedata.category(ch) != "Cs" for ch in text)


@PROPERTY_SETTINGS
@given(replies, st.integers(200, 4096))
def test_replies_stay_within_limits_on_both_platforms(reply: Reply, limit: int) -> None:
    """A reply's text and stories fit Telegram's and Discord's limits like a digest does."""
    assert all(telegram_len(m) <= limit for m in render_telegram(reply, limit))
    limits = DiscordLimits(content=limit // 2)
    for message in render_discord(reply, limits):
        assert len(message.content) <= limits.content
        assert sum(e.size for e in message.embeds) <= limits.embed_total
