"""The story this bot is built for, end to end on Discord and Telegram: a publisher-tagged
politics story, the same event from a second outlet in other words, and four related
stories (tests/fixtures/seed/)."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_server import FakeTelegram
from tests.runs import make_due, newsbot_run

pytestmark = pytest.mark.slow  # a story evaluation: `newsbot run` against both fakes

FEEDS = ("seed/pacific_times.xml", "seed/global_dispatch.xml", "seed/tokyo_wire.xml")
STARTUP_S = 60.0
RELATED = ("Albanese also to miss NATO summit",
           "South Korea's Lee Jae-myung will not travel",
           "Washington presses Tokyo to lift defence spending",
           "Japanese car exports slump as US tariffs bite")
TAKES = ("Japan's Ishiba to skip NATO summit", "Ishiba stays home from NATO gathering")


def _config(feed_server: FeedServer, telegram: FakeTelegram, discord: FakeDiscord,
            channels: list[str]) -> str:
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(name)}"\n' for name in FEEDS)
    rooms = "".join(f'[[channels]]\nid = "{cid}"\ndigest = "every 30m"\nmax_items = 20\n'
                    for cid in channels)
    return ('[bot]\ndatabase = "bot.db"\n[fetch]\nallow_private_addresses = true\n'
            f'timeout = "5s"\n[telegram]\napi_base_url = "{telegram.base_url}"\n'
            f'[discord]\napi_base_url = "{discord.api_base}"\n'
            f'gateway_url = "{discord.gateway_url}"\n{feeds}{rooms}')


def _related_found(text: str) -> int:
    """How many of the four related stories a reply's first three stories include."""
    firsts = re.split(r"(?m)^(?:\*\*)?4\. ", text)[0]
    return sum(1 for title in RELATED if title in firsts)


async def test_seed_story_on_discord_and_telegram(
        feed_server: FeedServer, write_config: Callable[[str], Path], tmp_path: Path) -> None:
    """One digest item for both outlets' takes (with "also"), the publisher's #Politics
    #WorldNews, and /related naming at least two of the four related stories in its top
    three, on Telegram and on Discord."""
    async with FakeTelegram() as telegram, FakeDiscord() as discord:
        group = telegram.add_supergroup("Newsroom")
        reader = telegram.add_user("Rob")
        guild = discord.add_guild("Newsroom")
        news = discord.add_channel(guild.id, "news")
        member = discord.add_member(guild.id, "reader")
        channels = [f"telegram:{group.id}", f"discord:{news.id}"]
        config = write_config(_config(feed_server, telegram, discord, channels))
        await make_due(tmp_path / "bot.db", *channels)
        tokens = {"TELEGRAM_TOKEN": telegram.token, "DISCORD_TOKEN": discord.token}
        stderr = tmp_path / "stderr.log"
        async with newsbot_run(config, stderr, tokens) as process:
            try:
                await telegram.wait_for(lambda: any(
                    "Ishiba" in m.text for m in telegram.sent_to(group.id)), STARTUP_S)
                digest = "\n".join(m.text for m in telegram.sent_to(group.id))
                items = re.split(r"(?m)^(?=\d+\. )", digest)
                ishiba = [item for item in items if item.startswith(tuple(
                    f"{n}. {take}" for n in range(1, 21) for take in TAKES))]
                assert len(ishiba) == 1, digest
                assert "also:" in ishiba[0] and "#Politics #WorldNews" in ishiba[0], ishiba

                before = len(telegram.sent_to(group.id))
                telegram.send_command(group.id, reader.id,
                                      "/related Ishiba NATO summit Japan tariffs")
                replies = await telegram.wait_sent(before + 1, chat_id=group.id)
                assert _related_found(replies[before].text) >= 2, replies[before].text

                await discord.wait_for(lambda: any(
                    "Ishiba" in e["title"] for m in discord.channel_messages(news.id)
                    for e in m.embeds), seconds=STARTUP_S)
                titles = [e["title"] for m in discord.channel_messages(news.id)
                          for e in m.embeds]
                assert sum(1 for t in titles if any(take in t for take in TAKES)) == 1
                sent = await discord.invoke_slash(guild.id, news.id, member.user.id,
                                                  "related",
                                                  {"query": "Ishiba NATO summit Japan tariffs"})
                await sent.wait_response()
                await discord.wait_for(lambda: any(
                    m.interaction_id == sent.id and m.embeds for m in discord.messages),
                    seconds=10)
                answer = next(m for m in discord.messages
                              if m.interaction_id == sent.id and m.embeds)
                top = [e["title"] for e in answer.embeds][:3]
                assert sum(1 for t in top if any(r in t for r in RELATED)) >= 2, top
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0
    assert "Traceback" not in stderr.read_text(encoding="utf-8", errors="replace")
