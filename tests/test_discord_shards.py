"""Discord sharding across processes, against the loopback fake: two adapters configured with
one shard each (as two `newsbot run` processes would be), and automatic sharding in one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.discord.adapter import DiscordAdapter
from bot.config import load_config
from bot.records import utc_now
from tests.fakes.discord_gateway import GatewaySession
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_world import Channel, Guild, Member

pytestmark = pytest.mark.slow  # drives the fake Discord end to end

Write = Callable[..., Path]  # write_config(text, name="config.toml")


@dataclass
class Server:
    """A guild of the fake with one text channel and one reader."""

    guild: Guild
    news: Channel
    reader: Member

    @property
    def channel_id(self) -> str:
        """The news channel's newsbot id."""
        return f"discord:{self.news.id}"


def add_server(fake: FakeDiscord, name: str, shard: tuple[int, int]) -> Server:
    """A guild that Discord routes to `shard` = (id, count)."""
    guild = fake.add_guild(name, shard=shard)
    return Server(guild, fake.add_channel(guild.id, "news"), fake.add_member(guild.id, "reader"))


def discord_section(fake: FakeDiscord, sharding: str = "") -> str:
    """A [discord] section reaching the fake, with optional shard keys."""
    return (f'[discord]\napi_base_url = "{fake.api_base}"\n'
            f'gateway_url = "{fake.gateway_url}"\n{sharding}')


async def connect(stack: AsyncExitStack, fake: FakeDiscord, write: Write, name: str,
                  sharding: str = "") -> DiscordAdapter:
    """A core and a connected adapter on one database, as one `newsbot run` process has."""
    config = load_config(write(discord_section(fake, sharding), name), {})
    assert config.model.discord is not None
    core: Core = await stack.enter_async_context(open_core(config))
    return await stack.enter_async_context(DiscordAdapter(
        config.model.discord, fake.token, core.commands, utc_now, guild_ready_timeout=0.05))


def session_of(fake: FakeDiscord, shard: tuple[int, int]) -> GatewaySession:
    """The one gateway session that identified as this shard."""
    [session] = [s for s in fake.gateway.sessions.values() if s.shard == shard]
    return session


def guilds_created(session: GatewaySession) -> set[int]:
    """The guild ids a session was sent GUILD_CREATE for."""
    return {int(f["d"]["id"]) for f in session.log if f["t"] == "GUILD_CREATE"}


def received(session: GatewaySession, event: str) -> int:
    """How many dispatches of this event a session was sent."""
    return sum(1 for f in session.log if f["t"] == event)


@dataclass
class TwoProcesses:
    """Two adapters running shard 0 and shard 1 of two, and a server on each shard."""

    fake: FakeDiscord
    first: DiscordAdapter
    second: DiscordAdapter
    zero: Server
    one: Server


@pytest.fixture
async def two(write_config: Write) -> AsyncIterator[TwoProcesses]:
    """A fake with a server on each of two shards; two processes, one shard each."""
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        zero, one = add_server(fake, "Zero", (0, 2)), add_server(fake, "One", (1, 2))
        first = await connect(stack, fake, write_config, "first.toml",
                              'shards = "0"\nshard_count = 2\n')
        second = await connect(stack, fake, write_config, "second.toml",
                               'shards = "1"\nshard_count = 2\n')
        yield TwoProcesses(fake, first, second, zero, one)


async def test_each_process_is_sent_only_its_shards_servers(two: TwoProcesses) -> None:
    """Each process identifies as its own shard and gets only that shard's servers."""
    assert two.fake.identifies == 2
    assert guilds_created(session_of(two.fake, (0, 2))) == {two.zero.guild.id}
    assert guilds_created(session_of(two.fake, (1, 2))) == {two.one.guild.id}


async def test_only_the_process_running_shard_zero_syncs_commands(two: TwoProcesses) -> None:
    """The slash commands are registered once, not once per process."""
    syncs = [r for r in two.fake.requests
             if r.method == "PUT" and r.path.endswith(f"/applications/{two.fake.application_id}"
                                                      "/commands")]
    assert len(syncs) == 1
    assert {c["name"] for c in two.fake.commands()} >= {"help", "latest", "feed"}


async def test_slash_command_is_answered_by_the_process_of_its_servers_shard(
        two: TwoProcesses) -> None:
    """A command in a server of shard 1 reaches only the shard-1 process, which answers it
    although it never synced the commands itself."""
    sent = await two.fake.invoke_slash(two.one.guild.id, two.one.news.id,
                                       two.one.reader.user.id, "help")
    answer = await sent.wait_response()
    assert "latest" in str(answer.data)
    assert received(session_of(two.fake, (1, 2)), "INTERACTION_CREATE") == 1
    assert received(session_of(two.fake, (0, 2)), "INTERACTION_CREATE") == 0


async def test_each_channel_is_owned_by_the_process_of_its_servers_shard(
        two: TwoProcesses) -> None:
    """`owns` is true in exactly one process: the one running the channel's server's shard,
    also for a channel it never saw on its gateway."""
    assert await two.first.owns(two.zero.channel_id)
    assert not await two.first.owns(two.one.channel_id)
    assert await two.second.owns(two.one.channel_id)
    assert not await two.second.owns(two.zero.channel_id)


async def test_unknown_channel_belongs_to_shard_zero(two: TwoProcesses) -> None:
    """A channel Discord doesn't show the bot (deleted, no access) is the shard-0
    process's, so exactly one process tries it and pauses it."""
    assert await two.first.owns("discord:1234567890123")
    assert not await two.second.owns("discord:1234567890123")


async def test_digest_goes_out_from_the_owning_process_only(
        two: TwoProcesses, write_config: Write) -> None:
    """Each process's digest service posts the channel of its own shard's server and leaves
    the other's alone."""
    async with AsyncExitStack() as stack:
        for adapter, name in ((two.first, "a.toml"), (two.second, "b.toml")):
            channels = "".join(f'[[channels]]\nid = "{server.channel_id}"\npost_empty = true\n'
                               for server in (two.zero, two.one))
            config = load_config(write_config(discord_section(two.fake) + channels, name), {})
            core = await stack.enter_async_context(open_core(config))
            core.digests.add_sender(adapter)
            await core.digests.post_now(two.zero.channel_id)
            await core.digests.post_now(two.one.channel_id)
    assert len(two.fake.channel_messages(two.zero.news.id)) == 1
    assert len(two.fake.channel_messages(two.one.news.id)) == 1


async def test_without_shard_keys_one_process_runs_every_recommended_shard(
        write_config: Write) -> None:
    """With neither shards nor shard_count, the adapter runs the shard count Discord
    recommends, all in this process, and owns every server's channels."""
    async with FakeDiscord(recommended_shards=2) as fake, AsyncExitStack() as stack:
        zero, one = add_server(fake, "Zero", (0, 2)), add_server(fake, "One", (1, 2))
        adapter = await connect(stack, fake, write_config, "config.toml")
        assert guilds_created(session_of(fake, (0, 2))) == {zero.guild.id}
        assert guilds_created(session_of(fake, (1, 2))) == {one.guild.id}
        assert await adapter.owns(zero.channel_id) and await adapter.owns(one.channel_id)
        sent = await fake.invoke_slash(one.guild.id, one.news.id, one.reader.user.id, "help")
        assert "latest" in str((await sent.wait_response()).data)
