"""A bot core with its web server on a loopback port and a database seeded through the store:
for the web tests, browser tests and a look by hand.

    async with web_rig(tmp_path) as rig:              # server up, nothing published yet
        await seed_digest(rig.core, [Story("Title", "Summary.", "https://example.org/a")])
        link = await rig.publish("console")           # /publish on, the real command path
        # GET link -> the latest digest; rig.base_url is http://127.0.0.1:<port>

By hand (prints the console channel's link, serves until Ctrl-C):
    uv run python -m tests.web_rig [FOLDER]
"""

from __future__ import annotations

import asyncio
import re
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import Core, open_core
from bot.chat.request import Caller
from bot.config import load_config
from bot.model import Article, Digest, DigestItem, NewArticle
from bot.records import utc_now
from bot.web.links import Links
from bot.web.reader import Reader
from bot.web.server import Site, WebServer

FEEDS = ("World", "Other", "Private")  # "Private" is followed by discord:2 only
LINK = re.compile(r"https?://\S+/c/[A-Za-z0-9_-]+/")


@dataclass(frozen=True)
class Story:
    """A story to seed: what a feed item would have given after enrichment."""

    title: str
    summary: str = ""
    url: str = ""
    tags: tuple[str, ...] = ()
    feed: str = "World"
    also: tuple[Story, ...] = ()  # the same story from other outlets (their feed names)
    published: datetime | None = None


@dataclass
class WebRig:
    """The core, the running server and its address."""

    core: Core
    server: WebServer
    base_url: str

    async def command(self, channel_id: str, text: str) -> str:
        """Run a chat command as the channel's moderator; the reply's text."""
        caller = Caller(channel_id=channel_id, user_id=f"{channel_id}:mod", is_moderator=True)
        return (await self.core.commands.handle(caller, text)).text

    async def publish(self, channel_id: str = "console", action: str = "on") -> str:
        """`/publish on` (or `new`) in the channel; the page link the reply gives."""
        reply = await self.command(channel_id, f"/publish {action}")
        found = LINK.search(reply)
        assert found, reply
        return found.group(0)


def config_text(port: int) -> str:
    """Three feeds that are never polled; the console follows two, discord:2 the third."""
    feeds = "".join(f'[[feeds]]\nurl = "http://127.0.0.1:9/{name.lower()}.xml"\n'
                    f'name = "{name}"\n' for name in FEEDS)
    return (f'[bot]\ndatabase = "web.db"\n[web]\nlisten = "127.0.0.1:{port}"\n{feeds}'
            '[[channels]]\nid = "console"\nfeeds = ["World", "Other"]\n'
            '[[channels]]\nid = "discord:2"\nfeeds = ["Private"]\n')


@asynccontextmanager
async def web_rig(folder: Path) -> AsyncIterator[WebRig]:
    """A core on a fresh database in `folder` and its web server on a free loopback port."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = int(sock.getsockname()[1])
        path = folder / "config.toml"
        path.write_text(config_text(port), encoding="utf-8")
        config = load_config(path, environ={})
        assert config.model.web is not None
        async with open_core(config) as core:
            site = Site(Reader(core.store, core.digests, core.stories),
                        Links(config.model.web.base_url), core.clock)
            async with WebServer(site, sock=sock) as server:
                yield WebRig(core, server, f"http://127.0.0.1:{port}")


async def seed_stories(core: Core, stories: Sequence[Story]) -> list[Article]:
    """Store the stories (and their other outlets, as one same-story cluster each)."""
    feeds = {f.name: f.id for f in await core.store.feeds.active_feeds()}
    now = utc_now()
    leads: list[Article] = []
    for number, story in enumerate(stories):
        group = [story, *story.also]
        stored = []
        for index, member in enumerate(group):
            key = f"seed-{now.timestamp()}-{number}-{index}"
            await core.store.articles.add_articles(feeds[member.feed], [NewArticle(
                dedup_key=key, url=member.url, title=member.title, summary=member.summary,
                tags=member.tags, published=member.published or now - timedelta(minutes=number),
                lang="en")], now)
            stored += await core.store.articles.by_keys(feeds[member.feed], [key])
        if len(stored) > 1:
            await core.store.articles.set_clusters([(a.id, stored[0].id) for a in stored])
        leads.append(stored[0])
    return leads


async def seed_digest(core: Core, stories: Sequence[Story], *, channel_id: str = "console",
                      title: str = "Digest") -> int:
    """Store the stories and a digest of them for the channel, as if it had been posted;
    returns the digest's id."""
    leads = await seed_stories(core, stories)
    articles = {a.id: a for a in await core.store.articles.by_ids([a.id for a in leads])}
    items = []
    for lead in leads:
        others = await core.store.articles.story_members(articles[lead.id].cluster_id)
        items.append(DigestItem(articles[lead.id],
                                also_ids=tuple(a.id for a in others if a.id != lead.id)))
    now = utc_now()
    await core.store.channels.ensure(channel_id, now)
    return await core.store.deliveries.enqueue(
        Digest(channel_id=channel_id, title=title, created=now, items=tuple(items)), now)


SAMPLE = (
    Story("Japan and South Korea agree to cut tariffs on semiconductors",
          "The two governments will phase out duties on chips and chip-making tools over "
          "three years, officials said on Tuesday.", "https://example.org/world/chips",
          ("Japan", "SouthKorea", "Trade"),
          also=(Story("Seoul and Tokyo strike chip tariff deal", "A deal on chips.",
                      "https://example.net/chips-deal", feed="Other"),)),
    Story("Floods close schools across the region", "Heavy rain has closed more than 200 "
          "schools; roads are cut off in the north.", "https://example.org/world/floods",
          ("Floods", "Weather")),
    Story("Open-source browser engine ships a new layout model",
          "The release rewrites how pages are laid out, cutting load times by a fifth.",
          "https://example.org/tech/layout", ("Technology",), feed="Other"),
)


async def _serve(folder: Path) -> None:
    async with web_rig(folder) as rig:
        await seed_digest(rig.core, SAMPLE, title="Morning digest")
        print(f"console channel: {await rig.publish()}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as temporary, suppress(KeyboardInterrupt):
        chosen = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(temporary)
        chosen.mkdir(parents=True, exist_ok=True)
        asyncio.run(_serve(chosen))
