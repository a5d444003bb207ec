"""/feed add and OPML import from chat: dead links, bad input, credentials, ports, limits."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.moderation import Moderation
from bot.chat.request import Caller, UserError
from bot.chat.telegram.adapter import TelegramAdapter
from bot.config import load_config
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import address_check
from bot.model import Attachment
from bot.records import utc_now
from tests.fakes.feed_server import FeedServer
from tests.fakes.raw_http import RawServer
from tests.fakes.telegram_server import FakeTelegram
from tests.test_hostile_fetch import NamesResolver
from tests.test_opml import opml
from tests.test_telegram_adapter import FAST, QUICK_POLL, World, ask, config_text

MODERATOR = Caller(channel_id="discord:1", user_id="discord:8", is_moderator=True)
OTHER_MODERATOR = Caller(channel_id="discord:1", user_id="discord:9", is_moderator=True)
NO_ANSWER = "could not fetch a feed from {}; check the link, or try again later"
CREDENTIALS = ("links with a user name or password are refused (credentials in links leak "
               "into logs and chat)")
METADATA = ("{} is a cloud metadata address; only [fetch] allow_metadata_addresses = true in "
            "the bot's config allows it")

Configure = Callable[[str], AbstractAsyncContextManager[Core]]


@pytest.fixture
def configured(write_config: Callable[[str], Path]) -> Configure:
    """Opens the real core on a fresh database with these extra [fetch] keys (private
    addresses allowed, so loopback servers on random ports stand in for the internet)."""

    @asynccontextmanager
    async def open_with(fetch: str = "") -> AsyncIterator[Core]:
        path = write_config(f"[fetch]\nallow_private_addresses = true\n{fetch}\n"
                            '[[channels]]\nid = "discord:1"\nfeeds = []\n')
        async with open_core(load_config(path, environ={})) as core:
            yield core

    return open_with


@pytest.fixture
async def core(configured: Configure) -> AsyncIterator[Core]:
    """The real core with the default limits."""
    async with configured("") as opened:
        yield opened


def closed_port() -> int:
    """A loopback port nothing listens on: bound, noted, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def add(core: Core, url: str, caller: Caller = MODERATOR) -> str:
    """The reply text of `/feed add <url>`."""
    return (await core.commands.handle(caller, f"/feed add {url}")).text


async def test_feed_add_refuses_a_link_that_answers_404(core: Core,
                                                        feed_server: FeedServer) -> None:
    """A link that answers 404 is refused with the status; nothing is added or followed."""
    url = feed_server.url("missing.xml")
    assert await add(core, url) == f"Can't add that feed: {url} answered HTTP 404 Not Found."
    assert await core.store.feeds.active_feeds() == []
    assert (await core.digests.channel("discord:1")).feeds == ()


async def test_feed_add_refuses_a_closed_port(core: Core) -> None:
    """A link to a closed port is refused in one sentence without the OS error."""
    url = f"http://127.0.0.1:{closed_port()}/feed.xml"
    assert await add(core, url) == f"Can't add that feed: {NO_ANSWER.format(url)}."
    assert await core.store.feeds.active_feeds() == []


@pytest.mark.slow
async def test_feed_add_refuses_a_feed_that_does_not_parse(core: Core,
                                                           feed_server: FeedServer) -> None:
    """A link served as a feed whose document can't be read is refused with the parser's
    reason; nothing is added."""
    feed_server.bodies["broken.json"] = b'{"version": "1.0", "items": "none"}'
    url = feed_server.url("broken.json")
    assert await add(core, url) == (
        f"Can't add that feed: {url} is not a feed newsbot can read: JSON, but not a JSON "
        "Feed (no jsonfeed.org version or no items).")
    assert await core.store.feeds.active_feeds() == []


async def test_an_open_port_that_is_not_http_reads_like_a_closed_one(core: Core) -> None:
    """A service that is not HTTP (a Redis-like greeting) and a closed port get the same
    reply, but for the link: chat can't tell an open port from a closed one."""
    async with RawServer([(0, b"-ERR unknown command 'GET'\r\n\r\n")]) as redis:
        open_url = redis.url("feed.xml")
        open_reply = await add(core, open_url)
    closed_url = f"http://127.0.0.1:{closed_port()}/feed.xml"
    closed_reply = await add(core, closed_url)
    assert open_reply.replace(open_url, "<url>") == closed_reply.replace(closed_url, "<url>")
    assert redis.requests == 1


@pytest.mark.slow
async def test_a_stored_feed_that_is_down_now_stays(core: Core) -> None:
    """/feed add of a feed that answered once and is down now keeps it, for backoff."""
    with FeedServer(Path(__file__).parent / "fixtures") as server:
        url = server.url("world_news.xml")
        assert (await add(core, url)).startswith("Added “")
    reply = await add(core, url)
    assert reply == (f"This channel follows {url}; it gave no answer just now. It will be "
                     "retried with backoff.")
    assert [f.url for f in await core.store.feeds.active_feeds()] == [url]
    assert (await core.digests.channel("discord:1")).feeds == (url,)


@pytest.mark.parametrize(("arg", "reason"), [
    ("not a url", "not a web address: not; give a link like https://example.org/feed.xml"),
    ("example.org/feed.xml",
     "not a web address: example.org/feed.xml; give a link like https://example.org/feed.xml"),
    ("ftp://files.example/feed", "only http and https links are allowed, not ftp:"),
    ("http://example.org:99999/feed",
     "http://example.org:99999/feed has no valid port; give a link like "
     "https://example.org/feed.xml"),
])
async def test_feed_add_of_what_is_not_a_link_says_what_to_give(core: Core, arg: str,
                                                                reason: str) -> None:
    """Words, a link without a scheme, another scheme or a bad port: a sentence saying what
    a link looks like."""
    assert await add(core, arg) == f"Can't add that feed: {reason}."


async def test_feed_add_refuses_credentials_in_the_link(core: Core,
                                                        feed_server: FeedServer) -> None:
    """user:password@ in a link is refused with the reason, never stripped and fetched."""
    url = feed_server.url("world_news.xml").replace("http://", "http://user:pw@")
    assert await add(core, url) == f"Can't add that feed: {CREDENTIALS}."
    assert feed_server.requests["world_news.xml"] == 0
    assert await core.store.feeds.active_feeds() == []


async def import_file(core: Core, data: bytes, caller: Caller = MODERATOR) -> str:
    """The reply text of `/feed import` with this OPML file attached."""
    reply = await core.commands.handle(caller, "/feed import",
                                       Attachment("subs.opml", data))
    return reply.text


async def test_import_applies_the_same_checks_as_feed_add(core: Core,
                                                          feed_server: FeedServer) -> None:
    """An imported list is checked feed by feed like /feed add: a live feed is added; a 404,
    a closed port, a web page and a link with credentials are refused, each with its reason."""
    live, dead = feed_server.url("world_news.xml"), feed_server.url("missing.xml")
    closed = f"http://127.0.0.1:{closed_port()}/rss"
    secret = feed_server.url("atom.xml").replace("http://", "http://me:pw@")
    feed_server.bodies["page.html"] = b"<html><body>hello</body></html>"
    page = feed_server.url("page.html")
    text = await import_file(core, opml(*(f'<outline text="x" xmlUrl="{u}"/>'
                                          for u in (live, dead, closed, secret, page))))
    assert text.splitlines() == [
        "Imported 1 feeds; 0 were already there, 4 refused.",
        f"• refused {dead}: {dead} answered HTTP 404 Not Found",
        f"• refused {closed}: {NO_ANSWER.format(closed)}",
        f"• refused {secret}: {CREDENTIALS}",
        f"• refused {page}: it is a web page, not a feed",
    ]
    assert [f.url for f in await core.store.feeds.active_feeds()] == [live]
    assert feed_server.requests["atom.xml"] == 0


async def test_feed_add_is_limited_per_user_and_per_chat(
        configured: Configure, feed_server: FeedServer) -> None:
    """A user's third feed in an hour is refused before any request, and so is the chat's
    fourth by anyone; the reply says when to come back."""
    async with configured("feed_adds_per_user = 2\nfeed_adds_per_chat = 3\n") as core:
        first = [await add(core, feed_server.url(n)) for n in ("a.xml", "b.xml", "c.xml")]
        second = [await add(core, feed_server.url(n), OTHER_MODERATOR)
                  for n in ("d.xml", "e.xml")]
    assert first[2] == "Slow down: you may try 2 feeds an hour; try again in 60 min."
    assert second[1] == "Slow down: this chat may try 3 feeds an hour; try again in 60 min."
    assert sum(feed_server.requests.values()) == 3


async def test_private_chats_share_a_daily_budget(
        configured: Configure, feed_server: FeedServer) -> None:
    """Strangers in private chats (each a moderator of their own) share one daily budget;
    a group's moderator is not held by it."""
    strangers = [Caller(f"telegram:{n}", f"telegram:{n}", True, is_private=True)
                 for n in (11, 12, 13)]
    async with configured("private_feed_adds_per_day = 2\n") as core:
        replies = [await add(core, feed_server.url(f"{n}.xml"), caller)
                   for n, caller in enumerate(strangers)]
        group = await add(core, feed_server.url("group.xml"))
    assert replies[2] == ("Slow down: private chats together may try 2 feeds a day; try "
                          "again in 24 h.")
    assert group.startswith("Can't add that feed:") and "answered HTTP 404" in group


async def test_import_stops_at_the_limit(configured: Configure,
                                         feed_server: FeedServer) -> None:
    """An import counts every feed it tries: past the limit it stops and says how many
    feeds were not tried."""
    urls = [feed_server.url(n) for n in ("world_news.xml", "atom.xml", "tech_news.atom")]
    async with configured("feed_adds_per_user = 2\n") as core:
        text = await import_file(core, opml(*(f'<outline text="x" xmlUrl="{u}"/>'
                                              for u in urls)))
        active = await core.store.feeds.active_feeds()
    assert text.splitlines() == [
        "Imported 2 feeds; 0 were already there, 0 refused.",
        "Stopped with 1 feeds not tried: Slow down: you may try 2 feeds an hour; try again "
        "in 60 min."]
    assert len(active) == 2 and feed_server.requests["tech_news.atom"] == 0


async def test_feed_add_refuses_ports_other_than_80_and_443(
        write_config: Callable[[str], Path]) -> None:
    """On a public address only ports 80 and 443 are fetched; the refusal names the key
    that allows more, and comes before any connection."""
    path = write_config('[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        reply = await add(core, "http://8.8.8.8:6379/")
    assert reply == ("Can't add that feed: port 6379 is not allowed (only 80, 443; the bot's "
                     "operator can allow more with [fetch] allowed_ports).")


async def test_feed_add_refuses_metadata_addresses_with_private_ones_allowed(
        core: Core) -> None:
    """allow_private_addresses does not open cloud metadata addresses, literal or mapped."""
    for host in ("169.254.169.254", "[::ffff:169.254.169.254]", "[fd00:ec2::254]"):
        reply = await add(core, f"http://{host}/latest/meta-data/")
        assert reply == f"Can't add that feed: {METADATA.format(host.strip('[]'))}.", reply


async def test_feed_add_refuses_a_name_of_a_metadata_address(core: Core) -> None:
    """metadata.google.internal resolves to 169.254.169.254: refused with the metadata switch
    named, even with private addresses allowed, and nothing connects."""
    names = {"metadata.google.internal": ["169.254.169.254"]}
    check = address_check(allow_private=True, allow_metadata=False)
    async with Fetcher(FetchLimits(timeout_s=3), check, NamesResolver(names)) as fetcher:
        moderation = Moderation(core.store, core.digests, core.poller, check,
                                lambda: datetime.now(UTC), 900, fetcher)
        with pytest.raises(UserError) as refusal:
            await moderation.feed(MODERATOR, "add http://metadata.google.internal/computeMetadata/")
    assert str(refusal.value) == (
        f"Can't add that feed: {METADATA.format('metadata.google.internal')}.")


@pytest.mark.slow
async def test_telegram_private_chats_share_the_budget(
        write_config: Callable[[str], Path], feed_server: FeedServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Over real Telegram updates: two strangers in their private chats use up the shared
    budget, while the administrator of a group still adds feeds there."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's int periods warn; warnings are errors
    async with FakeTelegram() as fake:
        world = World(fake, fake.add_supergroup("Newsroom"), fake.add_supergroup("Desk"), 0,
                      fake.add_user("Ann"), fake.add_user("Rob"))
        fake.set_member(world.group, world.admin, "administrator")
        eve, mallory = fake.add_user("Eve"), fake.add_user("Mallory")
        path = write_config(config_text(fake, "[[channels]]\n"
                                              f'id = "telegram:{world.group.id}"\nfeeds = []\n')
                            .replace("[telegram]", "private_feed_adds_per_day = 1\n[telegram]"))
        config = load_config(path, {"TELEGRAM_TOKEN": fake.token})
        assert config.model.telegram is not None
        async with open_core(config) as core, TelegramAdapter(
                config.model.telegram, fake.token, core.commands, utc_now,
                leases=core.store.leases, limits=FAST, poll_timeout=QUICK_POLL):
            first = await ask(world, fake.add_private_chat(eve), eve,
                              f"/feed add {feed_server.url('eve.xml')}")
            second = await ask(world, fake.add_private_chat(mallory), mallory,
                               f"/feed add {feed_server.url('mallory.xml')}")
            group = await ask(world, world.group, world.admin,
                              f"/feed add {feed_server.url('group.xml')}")
    assert "answered HTTP 404" in first and "answered HTTP 404" in group
    assert second == ("Slow down: private chats together may try 1 feeds a day; try again "
                      "in 24 h.")
    assert feed_server.requests["mallory.xml"] == 0
