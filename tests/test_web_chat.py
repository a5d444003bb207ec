"""Publishing from chat, end to end: `newsbot run` with its web server against the fake
Discord and the fake Telegram; the link a moderator gets serves the page, and stops at once
when the moderator takes it down."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.discord_permissions import MANAGE_GUILD
from tests.fakes.discord_records import EPHEMERAL, LOADING, StoredMessage
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_world import Guild, Member
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_world import FakeChat, FakeUser
from tests.runs import newsbot_run
from tests.test_web_setup import free_port

pytestmark = pytest.mark.slow  # `newsbot run` against the fakes

LINK = re.compile(r"http://127\.0\.0\.1:\d+/c/[A-Za-z0-9_-]+/")
STARTUP_S = 30.0


async def status_of(url: str) -> int:
    """The HTTP status a GET of the page gets."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


def web_config(platform: str, channel_id: str) -> str:
    """The web server on a free loopback port, one platform and one channel, no feeds."""
    return (f'[bot]\ndatabase = "bot.db"\n[web]\nlisten = "127.0.0.1:{free_port()}"\n'
            f'{platform}[[channels]]\nid = "{channel_id}"\n')


async def slash(fake: FakeDiscord, guild: Guild, channel_id: int, user: Member,
                action: str) -> StoredMessage:
    """`/publish <action>` in the channel; the bot's filled-in answer."""
    sent = await fake.invoke_slash(guild.id, channel_id, user.user.id, "publish", None,
                                   subcommand=(action,), check_permissions=False)
    await sent.wait_response()

    def answers() -> list[StoredMessage]:
        return [m for m in fake.messages if m.interaction_id == sent.id and not m.deleted
                and not m.flags & LOADING]

    await fake.wait_for(lambda: bool(answers()), seconds=10)
    return answers()[0]


async def test_publish_from_discord(write_config: Callable[[str], Path], tmp_path: Path) -> None:
    """A moderator's /publish on answers (only to them) a link that serves the channel's
    page; a member is refused; /publish off makes the link 404 at once."""
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Newsroom")
        news = fake.add_channel(guild.id, "news")
        moderator = fake.add_member(guild.id, "mod", permissions=MANAGE_GUILD)
        reader = fake.add_member(guild.id, "reader")
        config = write_config(web_config(
            f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n',
            f"discord:{news.id}"))
        async with newsbot_run(config, tmp_path / "stderr.log", {"DISCORD_TOKEN": fake.token}):
            await fake.wait_for(lambda: any(c["name"] == "publish" for c in fake.commands()),
                                seconds=STARTUP_S)
            await fake.wait_for_gateway(identifies=1, seconds=STARTUP_S)
            refused = await slash(fake, guild, news.id, reader, "on")
            assert "moderators only" in refused.content
            answer = await slash(fake, guild, news.id, moderator, "on")
            assert answer.flags & EPHEMERAL
            link = LINK.search(answer.content)
            assert link, answer.content
            assert await status_of(link.group(0)) == 200
            off = await slash(fake, guild, news.id, moderator, "off")
            assert "gone from the web" in off.content
            assert await status_of(link.group(0)) == 404


async def ask(fake: FakeTelegram, chat: FakeChat, user: FakeUser, command: str) -> str:
    """Send a command in the chat; the text of the bot's reply."""
    before = len(fake.sent_to(chat.id))
    fake.send_command(chat.id, user.id, command)
    replies = await fake.wait_sent(before + 1, chat_id=chat.id, within=STARTUP_S)
    return replies[before].text


async def test_publish_from_telegram(write_config: Callable[[str], Path],
                                     tmp_path: Path) -> None:
    """A group admin's /publish on answers a link that serves the page; /publish new moves
    it (the old link 404s); a member is refused."""
    async with FakeTelegram() as fake:
        group = fake.add_supergroup("Newsroom")
        admin, reader = fake.add_user("Ann"), fake.add_user("Rob")
        fake.set_member(group, admin, "administrator")
        config = write_config(web_config(
            f'[telegram]\napi_base_url = "{fake.base_url}"\n', f"telegram:{group.id}"))
        async with newsbot_run(config, tmp_path / "stderr.log", {"TELEGRAM_TOKEN": fake.token}):
            assert "moderators only" in await ask(fake, group, reader, "/publish on")
            first = LINK.search(await ask(fake, group, admin, "/publish on"))
            assert first and await status_of(first.group(0)) == 200
            moved = LINK.search(await ask(fake, group, admin, "/publish new"))
            assert moved and moved.group(0) != first.group(0)
            assert await status_of(first.group(0)) == 404
            assert await status_of(moved.group(0)) == 200
