"""Tests for the renderers: layout of each platform, hostile feed text and splitting by limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.chat.discord.render import DiscordLimits, plain_content, render_discord
from bot.chat.render_plain import render_plain
from bot.chat.sanitize import telegram_len
from bot.chat.telegram.render import plain_text_of, render_telegram
from bot.model import Article, Digest, DigestItem, Link, Reply

NOW = datetime(2024, 5, 1, 14, 5, tzinfo=UTC)


def make_item(
    title: str = "Rain in Spain",
    url: str = "https://example.org/rain",
    summary: str = "It rained mainly on the plain.",
    feed_name: str = "Example World",
    tags: tuple[str, ...] = ("WorldNews",),
    also: tuple[Link, ...] = (),
    related: tuple[Link, ...] = (),
    published: datetime = NOW,
) -> DigestItem:
    """A digest item with sensible defaults, overridden per test."""
    article = Article(
        id=1, feed_id=1, feed_name=feed_name, url=url, title=title, summary=summary,
        first_seen=published, published=published, tags=tags,
    )  # fmt: skip
    return DigestItem(article, also=also, related=related)


def make_digest(*items: DigestItem, more: int = 0, title: str = "Morning digest") -> Digest:
    """A digest created at NOW holding the given items."""
    return Digest(channel_id="console", title=title, created=NOW, items=items, more=more)


FULL_ITEM = make_item(
    also=(
        Link("Rain", "https://reuters.example/rain", "Reuters"),
        Link("Rain", "javascript:alert(1)", "BBC"),
    ),
    related=(Link("Drought ends", "https://example.org/drought", "Example World"),),
)


def test_render_plain_lays_out_a_digest() -> None:
    """Console text: title, numbered headline with source and time, details, URL, '+N more'."""
    expected = "\n".join(
        [
            "Morning digest",
            "",
            "1. Rain in Spain — Example World, 14:05 UTC",
            "   It rained mainly on the plain.",
            "   #WorldNews",
            "   also: Reuters, BBC",
            "   related: Drought ends (Example World) https://example.org/drought",
            "   https://example.org/rain",
            "",
            "+2 more stories",
        ]
    )
    assert render_plain(make_digest(FULL_ITEM, more=2)) == expected


def test_render_plain_shows_the_date_of_an_older_story() -> None:
    """A story from another day than the digest shows its date as well as the time."""
    item = make_item(published=datetime(2024, 4, 30, 9, 0, tzinfo=UTC))
    assert "2024-04-30 09:00 UTC" in render_plain(make_digest(item))


def test_render_plain_renders_a_reply_text_first_without_title() -> None:
    """A reply shows its text lines, then its stories, and no digest title."""
    out = render_plain(Reply(text="Latest:\nfrom all feeds", items=(make_item(),)))
    assert out.startswith("Latest:\nfrom all feeds\n\n1. Rain in Spain")


@pytest.mark.parametrize(
    "hostile",
    ["\x1b[2J\x1b[Hwiped", "\x1b]0;owned\x07title", "bell\x07\x07", "csi\x9b2J", "rtl\u202eevil"],
)
def test_render_plain_output_has_no_escape_or_control_characters(hostile: str) -> None:
    """Nothing from a feed can move the cursor, set the title or reorder text in a terminal."""
    out = render_plain(make_digest(make_item(title=hostile, summary=hostile, feed_name=hostile)))
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)


def test_render_plain_omits_an_unsafe_url() -> None:
    """A javascript: lead URL is not printed."""
    out = render_plain(make_digest(make_item(url="javascript:alert(1)")))
    assert "javascript" not in out


def test_render_plain_cuts_a_huge_title() -> None:
    """A 10k-character title is cut with an ellipsis, not printed whole."""
    out = render_plain(make_digest(make_item(title="word " * 2000)))
    assert len(out) < 1000
    assert "…" in out


def test_render_telegram_lays_out_an_item() -> None:
    """Bold linked title, italic source and time, summary, hashtags, also and related links."""
    [message] = render_telegram(make_digest(FULL_ITEM, more=1))
    assert message == "\n".join(
        [
            "<b>Morning digest</b>",
            "",
            '<b>1. <a href="https://example.org/rain">Rain in Spain</a></b>',
            "<i>Example World · 14:05 UTC</i>",
            "It rained mainly on the plain.",
            "#WorldNews",
            'also: <a href="https://reuters.example/rain">Reuters</a>, BBC',
            '↳ <a href="https://example.org/drought">Drought ends</a> (Example World)',
            "",
            "<i>+1 more story</i>",
        ]
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("<b>bold</b> & co", "&lt;b&gt;bold&lt;/b&gt; &amp; co"),
        ('<a href="javascript:x">x</a>', "&lt;a href=&quot;javascript:x&quot;&gt;x&lt;/a&gt;"),
        ("abc\u202edef", "abcdef"),
    ],
)
def test_render_telegram_escapes_titles(title: str, expected: str) -> None:
    """Feed HTML in a title is shown as text, and bidi overrides are removed."""
    [message] = render_telegram(Reply(items=(make_item(title=title),)))
    assert f">{expected}</a></b>" in message


def test_render_telegram_shows_an_unsafe_lead_url_as_plain_title() -> None:
    """A javascript: lead URL gives a title without a link."""
    [message] = render_telegram(Reply(items=(make_item(url="javascript:alert(1)"),)))
    assert message.startswith("<b>1. Rain in Spain</b>")
    assert "href" not in message


def test_render_telegram_splits_between_items() -> None:
    """Many items over the limit go to several messages, each item whole in one of them."""
    items = [make_item(title=f"Story {n}", summary="words " * 50) for n in range(30)]
    messages = render_telegram(make_digest(*items), limit=1000)
    assert len(messages) > 1
    assert all(telegram_len(m) <= 1000 for m in messages)
    assert sum(m.count("<b>") for m in messages) == 31  # title + one headline per item
    assert all(m.startswith("<b>") for m in messages)


def test_render_telegram_cuts_the_summary_of_an_oversized_item_first() -> None:
    """An item alone over the limit loses summary text before its title."""
    [message] = render_telegram(Reply(items=(make_item(summary="word " * 2000),)), limit=500)
    assert telegram_len(message) <= 500
    assert ">Rain in Spain</a>" in message
    assert "word…" in message


def test_render_telegram_cuts_the_title_when_the_summary_is_not_enough() -> None:
    """An item whose title alone is over the limit gets a shortened title."""
    messages = render_telegram(Reply(items=(make_item(title="title " * 2000),)), limit=300)
    assert len(messages) == 1
    assert telegram_len(messages[0]) <= 300
    assert "…</a></b>" in messages[0]


def test_render_telegram_counts_emoji_as_two_units() -> None:
    """Astral characters count two UTF-16 units, so fewer of them fit in a message."""
    [message] = render_telegram(Reply(items=(make_item(summary="😀" * 3000),)), limit=4096)
    assert telegram_len(message) <= 4096
    assert message.count("😀") < 2048


def test_render_telegram_splits_long_reply_text_at_lines() -> None:
    """A reply text over the limit is split between lines."""
    text = "\n".join(f"feed number {n}" for n in range(500))
    messages = render_telegram(Reply(text=text), limit=1000)
    assert len(messages) > 1
    assert "\n".join(messages).split("\n") == text.split("\n")


def test_render_discord_makes_one_embed_per_item() -> None:
    """Each story is an embed: escaped title linked to the story, source footer, timestamp."""
    [message] = render_discord(make_digest(FULL_ITEM))
    [embed] = message.embeds
    assert (embed.title, embed.url, embed.footer, embed.timestamp) == (
        "Rain in Spain",
        "https://example.org/rain",
        "Example World",
        NOW,
    )


def test_render_discord_describes_an_item_with_masked_links() -> None:
    """Description: summary, hashtags, 'also:' with linked outlets, related lines."""
    [message] = render_discord(make_digest(FULL_ITEM))
    assert message.embeds[0].description == "\n".join(
        [
            "It rained mainly on the plain.",
            "",
            "\\#WorldNews",
            "also: [Reuters](https://reuters.example/rain), BBC",
            "• [Drought ends](https://example.org/drought) — Example World",
        ]
    )


def test_render_discord_puts_the_digest_title_and_more_in_content() -> None:
    """The digest title is bold content of the first message; '+N more' ends the last."""
    [message] = render_discord(make_digest(make_item(), more=4))
    assert message.content == "**Morning digest**\n+4 more stories"


def test_render_discord_splits_at_ten_embeds() -> None:
    """25 stories become messages of 10, 10 and 5 embeds; only the first has the title."""
    messages = render_discord(make_digest(*[make_item(title=f"S{n}") for n in range(25)]))
    assert [len(m.embeds) for m in messages] == [10, 10, 5]
    assert [m.content for m in messages] == ["**Morning digest**", "", ""]


def test_render_discord_splits_by_total_embed_size() -> None:
    """Long stories are spread so each message's embeds total at most 6000 characters."""
    items = [make_item(title=f"S{n}", summary="word " * 700) for n in range(6)]
    messages = render_discord(make_digest(*items))
    assert len(messages) > 1
    assert all(sum(e.size for e in m.embeds) <= 6000 for m in messages)


def test_render_discord_honours_custom_limits() -> None:
    """Limits are parameters: two embeds per message gives three messages for five stories."""
    messages = render_discord(
        make_digest(*[make_item() for _ in range(5)]), DiscordLimits(embeds_per_message=2)
    )
    assert [len(m.embeds) for m in messages] == [2, 2, 1]


@pytest.mark.parametrize(
    "hostile",
    [
        "@everyone free nitro",
        "@here look",
        "<@&123456789012345678> ping role",
        "<@123456789012345678> ping user",
        "join discord.gg/abcdef",
    ],
)
def test_render_discord_never_renders_a_live_mention_or_invite(hostile: str) -> None:
    """Mass, role and user mentions and invites from a feed come out inert everywhere."""
    digest = make_digest(make_item(title=hostile, summary=hostile, feed_name=hostile))
    for message in render_discord(digest):
        for text in [message.content] + [
            part for e in message.embeds for part in (e.title, e.description, e.footer)
        ]:
            assert not re.search(r"@(everyone|here)|<[@#]|discord\.gg", text)


def test_render_discord_escapes_a_hostile_masked_link() -> None:
    """'[click](javascript:...)' in a summary shows as text and never forms a link."""
    [message] = render_discord(make_digest(make_item(summary="[click](javascript:alert(1))")))
    assert message.embeds[0].description.startswith("\\[click\\]\\(javascript:alert\\(1\\)\\)")


def test_render_discord_leaves_an_unsafe_lead_url_unlinked() -> None:
    """An embed for a story with a data: URL has no url."""
    [message] = render_discord(make_digest(make_item(url="data:text/html,hi")))
    assert message.embeds[0].url is None


def test_render_discord_cuts_a_huge_title_to_the_embed_limit() -> None:
    """A 10k-character title fits the 256-character embed title."""
    [message] = render_discord(make_digest(make_item(title="x" * 10_000)))
    assert len(message.embeds[0].title) <= 256


def test_render_discord_splits_long_reply_text() -> None:
    """Reply text over 2000 characters is sent as several text messages."""
    text = "\n".join(f"line {n}" for n in range(600))
    messages = render_discord(Reply(text=text))
    assert len(messages) > 1
    assert all(len(m.content) <= 2000 and not m.embeds for m in messages)


def zoned_digest(timezone: str, *items: DigestItem) -> Digest:
    """A digest created at NOW for a channel in `timezone`."""
    return Digest(channel_id="console", title="D", created=NOW, items=items, timezone=timezone)


LATE_UTC = make_item(published=datetime(2024, 4, 30, 23, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("timezone", "now_text", "late_text"),
    [
        ("Europe/Berlin", "16:05 CEST", "01:30 CEST"),
        ("UTC", "14:05 UTC", "2024-04-30 23:30 UTC"),
    ],
)
def test_plain_and_telegram_show_times_in_the_channel_timezone(
    timezone: str, now_text: str, late_text: str
) -> None:
    """Story times are local to the channel (Berlin's day starts earlier than UTC's)."""
    digest = zoned_digest(timezone, make_item(), LATE_UTC)
    plain = render_plain(digest)
    [html] = render_telegram(digest)
    for text in (plain, html):
        assert f"Example World, {now_text}" in text.replace(" · ", ", ")
        assert f"Example World, {late_text}" in text.replace(" · ", ", ")


@pytest.mark.parametrize(("timezone", "late_text"), [
    ("Europe/Berlin", "2024-05-01 01:30 CEST"),
    ("UTC", "2024-04-30 23:30 UTC"),
])
def test_plain_and_telegram_show_reply_times_in_the_reply_timezone(
    timezone: str, late_text: str
) -> None:
    """A command reply's story times are local to the asking channel, dated in full."""
    reply = Reply(text="Latest stories", items=(LATE_UTC,), timezone=timezone)
    [html] = render_telegram(reply)
    for text in (render_plain(reply), html):
        assert f"Example World, {late_text}" in text.replace(" · ", ", ")


def test_discord_embeds_carry_the_instant_for_each_reader_zone() -> None:
    """Discord shows an embed's timestamp in each reader's own zone: it is the aware instant."""
    [message] = render_discord(zoned_digest("Europe/Berlin", LATE_UTC))
    assert message.embeds[0].timestamp == datetime(2024, 4, 30, 23, 30, tzinfo=UTC)


def test_an_unknown_timezone_falls_back_to_utc() -> None:
    """A zone this system lacks never breaks a digest: its times are shown in UTC."""
    assert "14:05 UTC" in render_plain(zoned_digest("Mars/Olympus", make_item()))


def feeds_digest(more_from: tuple[tuple[str, int], ...]) -> Digest:
    """A one-story digest whose left-out stories came from `more_from`."""
    more = sum(count for _, count in more_from)
    return Digest(channel_id="console", title="D", created=NOW, items=(make_item(),),
                  more=more, more_from=more_from)


def test_more_line_names_the_feeds_on_every_platform() -> None:
    """'+12 more: 9 from Blog A, 3 from Blog B' ends the digest on each platform."""
    digest = feeds_digest((("Blog A", 9), ("Blog B", 3)))
    line = "+12 more: 9 from Blog A, 3 from Blog B"
    assert render_plain(digest).endswith(line)
    assert render_telegram(digest)[-1].endswith(f"<i>{line}</i>")
    assert render_discord(digest)[-1].content.endswith(line)


def test_more_line_counts_the_smaller_feeds_together() -> None:
    """After three feeds the rest are counted together, so the line stays short."""
    digest = feeds_digest((("A", 9), ("B", 5), ("C", 3), ("D", 2), ("E", 1), ("F", 1)))
    assert render_plain(digest).endswith("+21 more: 9 from A, 5 from B, 3 from C, "
                                         "4 from 3 other feeds")


def test_more_line_with_hostile_long_feed_names_fits_every_limit() -> None:
    """Feed names on the more line are cleaned, shortened and escaped within the limits."""
    name = "@everyone <b>*Blog*</b> " + "x" * 5000
    digest = feeds_digest(((name, 3), ("[B](javascript:x)", 2)))
    [plain] = [render_plain(digest)]
    assert len(plain.splitlines()[-1]) < 150
    for html in render_telegram(digest, limit=200):
        assert telegram_len(html) <= 200
        assert "<b>*Blog" not in html
    for message in render_discord(digest, DiscordLimits(content=120)):
        assert len(message.content) <= 120
        assert "@everyone" not in message.content


def test_telegram_plain_text_drops_markup_and_writes_links_out() -> None:
    """The plain-text variant of a Telegram message has no tags or entities, writes each
    link after its text, keeps mentions defused, and leaves links out past the limit."""
    digest = make_digest(make_item(title="Tariffs <cut> & @pm", url="https://x.example/1"))
    [html] = render_telegram(digest)
    text = plain_text_of(html)
    assert "1. Tariffs <cut> & @\u200bpm (https://x.example/1)" in text
    assert "<b>" not in text and "&amp;" not in text
    assert "https://" not in plain_text_of(html, limit=telegram_len(html))


def test_discord_plain_content_has_titles_and_links_within_the_limit() -> None:
    """The plain variant of a Discord message is content alone: every title and link, the
    summaries only while they fit, never past the limit."""
    items = [make_item(title=f"Story {n}", url=f"https://x.example/{n}", summary="Words " * 60)
             for n in range(10)]
    [message] = render_discord(make_digest(*items))
    text = plain_content(message)
    assert all(f"Story {n}\n<https://x.example/{n}>" in text for n in range(10))
    assert len(text) <= DiscordLimits().content and "Words" not in text
    assert "Words" in plain_content(message, limit=100_000)
