"""`newsbot run` end to end on Telegram (and with Discord too), as a subprocess against fakes."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_world import FakeChat, FakeUser
from tests.runs import make_due, newsbot_run

pytestmark = pytest.mark.slow  # `newsbot run` against the fake Telegram

ROOT = Path(__file__).parent.parent
FEEDS = ["world_news.xml", "tech_news.atom", "atom.xml"]
STARTUP_S = 30.0


@dataclass
class Running:
    """The bot process, where its stderr goes, and the fake world it talks to."""

    process: asyncio.subprocess.Process
    stderr: Path
    feed_url: str  # a feed no channel follows yet
    fake: FakeTelegram
    group: FakeChat
    forum: FakeChat
    topic: int
    admin: FakeUser
    reader: FakeUser


def stories_in(fake: FakeTelegram, chat_id: int, thread_id: int | None = None) -> list[int]:
    """The story numbers heading the lines of what was posted to a chat, in order."""
    text = "\n".join(m.text for m in fake.sent_to(chat_id, thread_id))
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, re.MULTILINE)]


def config_text(fake: FakeTelegram, feed_server: FeedServer, channels: list[str]) -> str:
    """Three loopback feeds, the fake Bot API, and channels with a digest every 30 minutes."""
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(name)}"\n' for name in FEEDS)
    rooms = "".join(f'[[channels]]\nid = "{cid}"\ndigest = "every 30m"\nmax_items = 25\n'
                    for cid in channels)
    return ('[bot]\ndatabase = "bot.db"\n[fetch]\nallow_private_addresses = true\n'
            f'timeout = "5s"\n[telegram]\napi_base_url = "{fake.base_url}"\n{feeds}{rooms}')


@pytest.fixture
async def running(feed_server: FeedServer, write_config: Callable[[str], Path],
                  tmp_path: Path) -> AsyncIterator[Running]:
    """`newsbot run` with a group and a forum topic due for their digest; a 429 is scripted."""
    async with FakeTelegram() as fake:
        group = fake.add_supergroup("Newsroom")
        forum = fake.add_supergroup("Desk", is_forum=True)
        topic = fake.add_topic(forum, "World")
        admin, reader = fake.add_user("Ann"), fake.add_user("Rob")
        fake.set_member(group, admin, "administrator")
        channels = [f"telegram:{group.id}", f"telegram:{forum.id}/{topic}"]
        config = write_config(config_text(fake, feed_server, channels))
        await make_due(tmp_path / "bot.db", *channels)
        fake.fail_next("sendMessage", retry_after=1)  # the first digest message meets a 429
        stderr = tmp_path / "stderr.log"
        async with newsbot_run(config, stderr, {"TELEGRAM_TOKEN": fake.token}) as process:
            yield Running(process, stderr, feed_server.url("rss091.xml"), fake, group, forum,
                          topic, admin, reader)


async def ask(bot: Running, chat: FakeChat, user: FakeUser, command: str) -> str:
    """Send a command in a chat and return the text of the bot's reply."""
    before = len(bot.fake.sent_to(chat.id))
    bot.fake.send_command(chat.id, user.id, command)
    replies = await bot.fake.wait_sent(before + 1, chat_id=chat.id, within=30)
    return replies[before].text


async def test_run_posts_digests_answers_commands_and_stops(running: Running) -> None:
    """Digests reach the group and the topic despite a 429; commands work; SIGTERM exits 0."""
    fake = running.fake
    group, topic = running.group.id, (running.forum.id, running.topic)
    await fake.wait_for(lambda: len(stories_in(fake, group)) >= 25, STARTUP_S)
    await fake.wait_for(lambda: len(stories_in(fake, *topic)) >= 25, STARTUP_S)
    assert stories_in(fake, group) == stories_in(fake, *topic) == list(range(1, 26))
    assert fake.sent_to(group)[0].text.startswith("News digest")
    assert fake.calls("sendMessage")[0].status == 429

    found = await ask(running, running.group, running.reader, "/search semiconductors")
    assert "Japan and South Korea agree to cut tariffs" in found
    related = await ask(running, running.group, running.reader, "/related chip tariffs")
    assert related.startswith("Related")
    add = f"/feed add {running.feed_url}"
    refused = await ask(running, running.group, running.reader, add)
    assert refused == "/feed is for moderators only."
    added = await ask(running, running.group, running.admin, add)
    assert added.startswith("Added “")

    running.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(running.process.wait(), 20) == 0
    errors = running.stderr.read_text()
    assert "Traceback" not in errors
    assert fake.token.split(":")[1] not in errors


async def test_run_with_discord_and_telegram_at_once(
        feed_server: FeedServer, write_config: Callable[[str], Path], tmp_path: Path) -> None:
    """One process, one database: digests reach Discord and Telegram, both answer commands."""
    async with FakeTelegram() as telegram, FakeDiscord() as discord:
        group = telegram.add_supergroup("Newsroom")
        reader = telegram.add_user("Rob")
        guild = discord.add_guild("Newsroom")
        news = discord.add_channel(guild.id, "news")
        member = discord.add_member(guild.id, "reader")
        channels = [f"telegram:{group.id}", f"discord:{news.id}"]
        config = write_config(config_text(telegram, feed_server, channels)
                              + f'[discord]\napi_base_url = "{discord.api_base}"\n'
                              f'gateway_url = "{discord.gateway_url}"\n')
        await make_due(tmp_path / "bot.db", *channels)
        tokens = {"TELEGRAM_TOKEN": telegram.token, "DISCORD_TOKEN": discord.token}
        stderr = tmp_path / "stderr.log"
        async with newsbot_run(config, stderr, tokens) as process:
            try:
                await telegram.wait_for(lambda: len(stories_in(telegram, group.id)) >= 25,
                                        STARTUP_S)
                await discord.wait_for(lambda: sum(len(m.embeds) for m in
                                                   discord.channel_messages(news.id)) >= 25,
                                       seconds=STARTUP_S)
                before = len(telegram.sent_to(group.id))
                telegram.send_command(group.id, reader.id, "/search semiconductors")
                replies = await telegram.wait_sent(before + 1, chat_id=group.id)
                assert "Japan and South Korea" in replies[before].text
                sent = await discord.invoke_slash(guild.id, news.id, member.user.id, "search",
                                                  {"words": "floods"})
                await sent.wait_response()
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0
    assert "Traceback" not in stderr.read_text(encoding="utf-8", errors="replace")
