"""Hostile XML: entity bombs in every disguise, XXE, deep nesting, fuzzed feeds, a parser
process that dies."""

from __future__ import annotations

import codecs
import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.enrich.stories import Stories
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import allow_any_address
from bot.feeds.parse import ParseError, parse_feed
from bot.feeds.poll import Poller, PollSettings
from bot.feeds.worker import ParseWorker
from bot.feeds.xml_guard import strip_entity_declarations, strip_prolog
from bot.model import Article, FeedSpec, ParsedFeed
from bot.store.store import open_store
from tests.conftest import FIXTURES
from tests.fakes.feed_server import FeedServer
from tests.fakes.raw_http import RawServer, response

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BIG = "x" * 10_000
REFS = "&a;" * 2_000  # expanded: 20 million characters
ITEM = ('<rss version="2.0"><channel><title>t</title><item><title>{refs}</title>'
        "<link>https://x.example/1</link></item></channel></rss>")
LAUGHS = '<!ENTITY a0 "lol">' + "".join(
    f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))

BOMBS = {
    "quadratic blowup in the subset":
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{BIG}">]>' + ITEM.format(refs=REFS),
    "billion laughs": f"<?xml version='1.0'?><!DOCTYPE rss [{LAUGHS}]>"
                      + ITEM.format(refs="&a9;" * 3),
    "entity outside a subset, after an external DOCTYPE":
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "rss.dtd">\n<!ENTITY a "{BIG}">\n'
        + ITEM.format(refs=REFS),
    "entity without any DOCTYPE":
        f'<?xml version="1.0"?>\n<!ENTITY a "{BIG}">\n' + ITEM.format(refs=REFS),
    "]> hidden in a quoted value":
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY z "]>"><!ENTITY a "{BIG}">]>'
        + ITEM.format(refs=REFS),
    "]> hidden in a comment of the subset":
        f'<?xml version="1.0"?><!DOCTYPE rss [<!-- ]> --><!ENTITY a "{BIG}">]>'
        + ITEM.format(refs=REFS),
    "lower-case doctype": f'<!doctype rss [<!ENTITY a "{BIG}">]>' + ITEM.format(refs=REFS),
    "junk before the prolog":
        f'junk\n<!DOCTYPE rss [\n<!ENTITY a "{BIG}">\n]>\n' + ITEM.format(refs=REFS),
}


# An expanded bomb would take minutes and gigabytes; the thread method also ends C code.
PARSE_TIMEOUT = pytest.mark.timeout(30, method="thread")


def _titles_within(body: bytes, content_type: str = "") -> None:
    """Parsing ends (a feed or a ParseError), and no title has grown from an expanded entity."""
    try:
        feed = parse_feed(body, "https://x.example/", now=NOW, content_type=content_type)
    except ParseError:
        feed = ParsedFeed(title="", link="", lang="", entries=())
    assert all(len(entry.title) < 10_000 for entry in feed.entries)


@PARSE_TIMEOUT
@pytest.mark.parametrize("name", list(BOMBS))
def test_entity_bombs_never_expand(name: str) -> None:
    """Declared entities in any disguise are dropped before expat or the loose parser sees them."""
    _titles_within(BOMBS[name].encode())


@PARSE_TIMEOUT
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_entity_bombs_in_wide_encodings_never_expand(codec: str) -> None:
    """A bomb in UTF-16 or UTF-32 (with its byte-order mark) is neutralized too."""
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE}[codec]
    text = BOMBS["entity outside a subset, after an external DOCTYPE"]
    _titles_within(bom + text.replace('"1.0"?>', f'"1.0" encoding="{codec[:6]}"?>', 1)
                   .encode(codec))


@PARSE_TIMEOUT
def test_bomb_smuggled_through_a_declared_charset_is_refused() -> None:
    """A bomb spelled in UTF-7 and declared by the HTTP charset never expands."""
    body = BOMBS["entity without any DOCTYPE"].replace("<!ENTITY", "+ADw-!ENTITY").encode()
    _titles_within(body, content_type="application/xml; charset=utf-7")


def test_declared_html_entities_still_parse() -> None:
    """A feed that declares &nbsp; and &mdash; in its DOCTYPE and uses them still reads well."""
    feed = parse_feed((FIXTURES / "declared_entities.xml").read_bytes(),
                      "https://entities.example.org/feed", now=NOW)
    assert feed.title == "Declared\xa0Entities Weekly"
    assert [e.title for e in feed.entries] == ["Rates\xa0rise — again", "Second — story"]
    assert feed.entries[0].content_html == "Central banks moved\xa0again & markets shrugged."


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")
                                        if b"<!DOCTYPE" not in p.read_bytes()))
def test_documents_without_declarations_are_left_byte_for_byte(name: str) -> None:
    """Only declarations are cut: a feed without any comes out unchanged."""
    body = (FIXTURES / name).read_bytes()
    assert strip_entity_declarations(body) == body


def test_strip_prolog_keeps_the_xml_declaration_comments_and_root() -> None:
    """The XML declaration, comments and PIs stay; DOCTYPE and ENTITY go."""
    text = ('<?xml version="1.0"?>\n<!-- hi -->\n<!DOCTYPE x [<!ENTITY a "b>c">]>\n'
            "<?pi x?><x>&a;</x>")
    assert strip_prolog(text) == '<?xml version="1.0"?>\n<!-- hi -->\n\n<?pi x?><x>&a;</x>'


@pytest.mark.slow
async def test_parser_process_that_dies_is_replaced() -> None:
    """A task that kills its own worker process is a parse failure; the next parse works."""
    async with ParseWorker(deadline_s=10) as worker:
        with pytest.raises(ParseError, match="died"):
            await worker.run(os._exit, (9,))
        feed = await worker.parse((FIXTURES / "atom.xml").read_bytes(), "https://x.example/",
                                  now=NOW)
    assert feed.entries


HOSTILE_SNIPPETS = [
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>', b"&a;" * 50, b'<!ENTITY b "&a;&a;&a;">',
    b"]]>", b"<![CDATA[", b"\x00", b"&#0;", b"&#xD800;", b"&#x110000;", b"<?xml?>",
    b'<?xml version="1.0" encoding="utf-7"?>', b"+ADw-!ENTITY", b"\xff\xfe", b"\xef\xbb\xbf",
    b"<item>", b"</channel>", b"<entry><link href='//x'/></entry>", b"<pubDate>9999</pubDate>",
    b"<!--", b"<", b"&", b"\r\n",
]
SEEDS = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".xml", ".atom", ".json"))


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    """A real fixture feed, truncated, with bytes flipped and hostile snippets inserted."""
    body = bytearray(draw(st.sampled_from(SEEDS)).read_bytes())
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["cut", "flip", "insert"]))
        if kind == "cut":
            del body[at:]
        elif kind == "flip" and at < len(body):
            body[at] ^= draw(st.integers(1, 255))
        else:
            body[at:at] = draw(st.sampled_from(HOSTILE_SNIPPETS))
    return bytes(body)


@pytest.mark.slow
@PARSE_TIMEOUT
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_feeds())
def test_any_bytes_give_a_feed_or_a_parse_error(body: bytes) -> None:
    """Fuzzed real feeds come back as a ParsedFeed or a ParseError, never another exception."""
    try:
        feed = parse_feed(body, "https://fuzz.example/feed", now=NOW)
    except ParseError:
        return
    assert isinstance(feed, ParsedFeed)
    assert all(len(entry.title) < 100_000 for entry in feed.entries)


@pytest.mark.slow
@PARSE_TIMEOUT
@settings(max_examples=60)
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_feed_or_a_parse_error(body: bytes) -> None:
    """Arbitrary bytes never escape the parser as anything but a ParseError."""
    with contextlib.suppress(ParseError):
        parse_feed(body, "https://fuzz.example/feed", now=NOW)


async def _poll_once(tmp_path: Path, feed_server: FeedServer, body: bytes) -> list[Article]:
    """Serve `body` on loopback, poll it once with the real poller, return what was stored."""
    feed_server.bodies["xxe.xml"] = body
    url = feed_server.url("xxe.xml")
    async with open_store(tmp_path / "news.db") as store, \
            Fetcher(FetchLimits(timeout_s=5), allow_any_address) as fetcher, \
            ParseWorker() as worker:
        poller = Poller(store, fetcher, worker, Stories(store.articles, lambda: NOW),
                        lambda: NOW, PollSettings())
        await store.feeds.sync_config_feeds([FeedSpec(url=url)])
        feed = await store.feeds.feed_by_url(url)
        assert feed is not None
        outcome = await poller.poll_feed(feed)
        assert outcome.error == ""
        return await store.articles.latest(limit=10)


def _fields(article: Article) -> str:
    return " ".join([article.title, article.summary, article.url, article.author,
                     *article.tags])


@pytest.mark.slow
async def test_external_entity_never_reads_a_local_file(tmp_path: Path,
                                                        feed_server: FeedServer) -> None:
    """XXE: an entity naming a local file never brings its content into any stored field."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETCANARY")
    body = (f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>Leak &leak; here</title>'
            "<link>https://x.example/1</link><description>Body &leak; text</description>"
            "<author>&leak;</author><category>&leak;</category></item></channel></rss>")
    stored = await _poll_once(tmp_path, feed_server, body.encode())
    assert len(stored) == 1
    assert "TOPSECRETCANARY" not in _fields(stored[0])


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE rss SYSTEM "{canary}">',
    '<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{canary}"> %remote;]>',
    '<!DOCTYPE rss [<!ENTITY remote SYSTEM "{canary}">]>',
])
@pytest.mark.slow
async def test_external_dtd_or_entity_is_never_fetched(tmp_path: Path, feed_server: FeedServer,
                                                       prolog: str) -> None:
    """An external DTD, parameter entity or entity URL: the loopback canary gets no request,
    and the feed's item is still stored."""
    async with RawServer([(0, response(b'<!ENTITY remote "CANARYTEXT">'))]) as canary:
        head = prolog.format(canary=canary.url("evil.dtd"))
        body = (f'<?xml version="1.0"?>\n{head}<rss version="2.0"><channel><title>t</title>'
                "<item><title>Story &remote;</title><link>https://x.example/2</link>"
                "</item></channel></rss>")
        stored = await _poll_once(tmp_path, feed_server, body.encode())
    assert canary.connections == 0
    assert len(stored) == 1 and "CANARYTEXT" not in _fields(stored[0])


DEEP = 100_000


@pytest.mark.parametrize("body", [
    b'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
    + b"<a>" * DEEP + b"</a>" * DEEP + b"</item></channel></rss>",
    b'<rss version="2.0"><channel><title>t</title>' + b"<a>" * DEEP + b"</a>" * DEEP
    + b"</channel></rss>",
    b'<feed xmlns="http://www.w3.org/2005/Atom">' + b"<entry>" * DEEP,
], ids=["in an item", "in the channel", "unclosed"])
def test_deeply_nested_elements_are_a_clear_feed_error(body: bytes) -> None:
    """100,000 nested elements: a one-line ParseError, no RecursionError, no crash."""
    with pytest.raises(ParseError, match=r"^not a feed: ") as caught:
        parse_feed(body, "https://x.example/", now=NOW)
    assert "\n" not in str(caught.value) and "Recursion" not in str(caught.value)


def test_deeply_nested_json_is_a_clear_feed_error() -> None:
    """A JSON Feed nesting 100,000 arrays is "nested too deeply", not a RecursionError."""
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * DEEP
    with pytest.raises(ParseError, match=r"^not valid JSON: nested too deeply$"):
        parse_feed(body, "https://x.example/", now=NOW)
