"""`newsbot run` end to end on Discord: a subprocess against the fake Discord and feed server."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.discord_permissions import MANAGE_GUILD
from tests.fakes.discord_records import EPHEMERAL, LOADING, StoredMessage
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_world import FORUM, Channel, Guild, Member
from tests.fakes.feed_server import FeedServer
from tests.runs import make_due, newsbot_run

pytestmark = pytest.mark.slow  # `newsbot run` against the fake Discord

ROOT = Path(__file__).parent.parent
FEEDS = ("world_news.xml", "tech_news.atom", "rss_windows1251.xml")
STARTUP_S = 30.0


@dataclass
class Running:
    """The bot process, where its stderr goes, and the fake guild it serves."""

    process: asyncio.subprocess.Process
    stderr: Path
    feed_url: str  # a feed no channel follows yet
    fake: FakeDiscord
    guild: Guild
    news: Channel
    forum: Channel
    moderator: Member
    reader: Member

    async def ask(self, user: Member, name: str, options: dict[str, object] | None = None,
                  *, sub: tuple[str, ...] = (), check: bool = True) -> StoredMessage:
        """Invoke a slash command in #news and wait for its filled-in answer."""
        sent = await self.fake.invoke_slash(self.guild.id, self.news.id, user.user.id, name,
                                            options, subcommand=sub, check_permissions=check)
        await sent.wait_response()

        def answers() -> list[StoredMessage]:
            return [m for m in self.fake.messages if m.interaction_id == sent.id
                    and not m.deleted and not m.flags & LOADING]

        await self.fake.wait_for(lambda: bool(answers()), seconds=10)
        return answers()[0]


def config_text(fake: FakeDiscord, feed_server: FeedServer, channels: list[str]) -> str:
    """Loopback feeds, the fake Discord, and channels with a digest every 30 minutes."""
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(name)}"\n' for name in FEEDS)
    rooms = "".join(f'[[channels]]\nid = "{cid}"\ndigest = "every 30m"\nmax_items = 25\n'
                    for cid in channels)
    return ('[bot]\ndatabase = "bot.db"\n[fetch]\nallow_private_addresses = true\n'
            f'timeout = "5s"\n[discord]\napi_base_url = "{fake.api_base}"\n'
            f'gateway_url = "{fake.gateway_url}"\n{feeds}{rooms}')


@pytest.fixture
async def running(feed_server: FeedServer, write_config: Callable[[str], Path],
                  tmp_path: Path) -> AsyncIterator[Running]:
    """`newsbot run` with a text channel and a forum due for their digest; a 429 is scripted."""
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Newsroom")
        news = fake.add_channel(guild.id, "news")
        forum = fake.add_channel(guild.id, "digests", FORUM)
        moderator = fake.add_member(guild.id, "mod", permissions=MANAGE_GUILD)
        reader = fake.add_member(guild.id, "reader")
        channels = [f"discord:{news.id}", f"discord:{forum.id}"]
        config = write_config(config_text(fake, feed_server, channels))
        await make_due(tmp_path / "bot.db", *channels)
        fake.fail_next("POST /channels/*/messages", 429, retry_after=0.5)
        stderr = tmp_path / "stderr.log"
        async with newsbot_run(config, stderr, {"DISCORD_TOKEN": fake.token}) as process:
            yield Running(process, stderr, feed_server.url("atom.xml"), fake, guild, news,
                          forum, moderator, reader)


def story_titles(messages: list[StoredMessage]) -> list[str]:
    """The embed titles of messages, in order."""
    return [embed["title"] for message in messages for embed in message.embeds]


async def test_newsbot_run_on_discord(running: Running) -> None:
    """Connects, syncs, posts both digests within limits despite a 429, answers lookups,
    refuses and accepts /feed add, survives a dropped gateway, and stops cleanly."""
    fake, news = running.fake, running.news
    await fake.wait_for(lambda: len(story_titles(fake.channel_messages(news.id))) == 25
                        and any(m.source == "forum_post" for m in fake.messages),
                        seconds=STARTUP_S)
    posted = fake.channel_messages(news.id)
    assert all(len(m.embeds) <= 10 and m.allowed_mentions == {"parse": []} for m in posted)
    assert len(set(story_titles(posted))) == 25
    assert {c["name"] for c in fake.commands()} >= {"search", "related", "feed", "why"}
    assert next(r.status for r in fake.requests if r.path.endswith("/messages")) == 429

    found = await running.ask(running.reader, "search", {"words": "semiconductors"})
    assert found.embeds and not found.ephemeral
    related = await running.ask(running.reader, "related", {"query": "chip tariffs"})
    assert not related.ephemeral

    refused = await running.ask(running.reader, "feed", {"url": "http://127.0.0.1/x.xml"},
                                sub=("add",), check=False)
    assert refused.flags & EPHEMERAL and "moderators only" in refused.content
    added = await running.ask(running.moderator, "feed",
                              {"url": running.feed_url, "name": "Atom"}, sub=("add",))
    assert added.content.startswith("Added"), added.content

    await fake.drop_gateway()
    await fake.wait_for_gateway(resumes=1, seconds=10)
    again = await running.ask(running.reader, "search", {"words": "floods"})
    assert again.embeds

    running.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(running.process.wait(), 15) == 0
    log = running.stderr.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log
