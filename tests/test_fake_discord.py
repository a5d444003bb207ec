"""The loopback Discord fake, proven with the real discord.py client."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest
import yarl

with warnings.catch_warnings():
    # discord.py imports audioop, deprecated since 3.11; pytest turns warnings into errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord
    from discord import app_commands

from tests.fakes.discord_permissions import EMBED_LINKS, MANAGE_GUILD, SEND_MESSAGES, VIEW_CHANNEL
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_world import FORUM, Channel, Guild, Member

pytestmark = pytest.mark.slow  # drives the fake Discord end to end with discord.py


class FakeClient(discord.Client):
    """A discord.Client with a command tree and an awaitable ready flag."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()

    async def on_ready(self) -> None:
        """Flag readiness for the test."""
        self.ready.set()

    async def on_resumed(self) -> None:
        """Flag a successful RESUME for the test."""
        self.resumed.set()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip discord.py's 5 s pause before a re-IDENTIFY (a documented public hook)."""


@dataclass
class World:
    """A guild with a text, announcement and forum channel and two humans."""

    fake: FakeDiscord
    guild: Guild
    news: Channel
    forum: Channel
    moderator: Member
    reader: Member


@pytest.fixture
def knobs() -> Iterator[None]:
    """Restore discord.py's two endpoint knobs after each test."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest.fixture
async def world(knobs: None) -> AsyncIterator[World]:
    """A running fake with a small guild; discord.py is pointed at it."""
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Newsroom")
        news = fake.add_channel(guild.id, "news")
        fake.add_channel(guild.id, "announcements", 5)
        forum = fake.add_channel(guild.id, "digests", FORUM)
        moderator = fake.add_member(guild.id, "mod", permissions=MANAGE_GUILD)
        reader = fake.add_member(guild.id, "reader")
        discord.http.Route.BASE = fake.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        yield World(fake, guild, news, forum, moderator, reader)


@pytest.fixture
async def client(world: World) -> AsyncIterator[FakeClient]:
    """A connected FakeClient (on_ready seen); closed afterwards."""
    bot = FakeClient()
    register_commands(bot.tree)
    task = asyncio.create_task(bot.start(world.fake.token))
    try:
        async with asyncio.timeout(5):
            await bot.ready.wait()
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)


def register_commands(tree: app_commands.CommandTree[FakeClient]) -> None:
    """Commands used by the interaction tests."""

    @tree.command(name="hello", description="Say hi privately")
    async def hello(interaction: discord.Interaction[FakeClient]) -> None:
        await interaction.response.send_message("hi", ephemeral=True)

    @tree.command(name="slow", description="Defer, then answer")
    async def slow(interaction: discord.Interaction[FakeClient]) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done")
        await interaction.followup.send("and more")

    @tree.command(name="feed", description="Show a feed")
    @app_commands.default_permissions(manage_guild=True)
    async def feed(interaction: discord.Interaction[FakeClient], name: str) -> None:
        await interaction.response.send_message(f"feed {name}")

    @feed.autocomplete("name")
    async def feed_names(
        interaction: discord.Interaction[FakeClient], current: str
    ) -> list[app_commands.Choice[str]]:
        names = ["world", "tech", "science"]
        return [app_commands.Choice(name=n, value=n) for n in names if current in n]


async def test_ready_sees_guild_and_channels(world: World, client: FakeClient) -> None:
    """Login + connect reach on_ready with the guild, its channels and the bot user."""
    guild = client.get_guild(world.guild.id)
    assert guild is not None
    assert {c.name for c in guild.channels} == {"news", "announcements", "digests"}
    assert isinstance(guild.get_channel(world.forum.id), discord.ForumChannel)
    assert client.user is not None
    assert client.user.id == world.fake.bot.id
    assert client.application_id == world.fake.application_id
    assert world.fake.identifies == 1
    assert world.fake.unknown_routes == []


async def test_send_embed_is_recorded(world: World, client: FakeClient) -> None:
    """channel.send(embed=...) lands in the record with its allowed_mentions."""
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(title="Top story", description="Something happened")
    sent = await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
    [stored] = world.fake.channel_messages(world.news.id)
    assert stored.id == sent.id
    assert stored.embeds[0]["title"] == "Top story"
    assert stored.allowed_mentions == {"parse": []}
    assert sent.embeds[0].description == "Something happened"


async def test_overlong_embed_is_rejected(world: World, client: FakeClient) -> None:
    """An embed description over 4096 characters gets HTTPException 50035."""
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(description="x" * 4097))
    assert caught.value.code == 50035
    assert caught.value.status == 400
    assert world.fake.messages == []


async def test_embed_total_and_content_limits(world: World, client: FakeClient) -> None:
    """Six thousand characters across embeds, and content over 2000, are refused."""
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    embeds = [discord.Embed(description="y" * 4000), discord.Embed(description="z" * 2001)]
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embeds=embeds)
    assert caught.value.code == 50035
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("a" * 2001)
    assert caught.value.code == 50035
    assert world.fake.messages == []


async def test_rate_limit_is_waited_out(world: World, client: FakeClient,
                                        caplog: pytest.LogCaptureFixture) -> None:
    """A 429 on send carries Discord's retry_after, which discord.py reads and waits out
    before its one retry: the message is sent exactly once."""
    world.fake.fail_next("POST /channels/*/messages", 429, retry_after=0.2)
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    with caplog.at_level(logging.DEBUG, logger="discord.http"):
        await channel.send("after the wait")
    said = [r.getMessage() for r in caplog.records if r.name == "discord.http"]
    waited = [i for i, m in enumerate(said) if m.endswith("responded with 429. Retrying in "
                                                         "0.20 seconds.")]
    done = [i for i, m in enumerate(said) if m.startswith("Done sleeping for the rate limit")]
    assert len(waited) == 1 and len(done) == 1 and waited[0] < done[0]
    assert [m.content for m in world.fake.messages] == ["after the wait"]
    posts = [r.status for r in world.fake.requests if r.method == "POST"]
    assert posts == [429, 200]


async def test_scripted_server_error(world: World, client: FakeClient) -> None:
    """A scripted 503 surfaces as DiscordServerError; the next request succeeds."""
    world.fake.fail_next("/channels/*/messages", 503)
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("first try")
    await channel.send("second try")
    assert [m.content for m in world.fake.messages] == ["second try"]


async def test_missing_permissions_and_unknown_channel(world: World, client: FakeClient) -> None:
    """Overwrites that deny the bot give 403 50013/50001; an unknown channel gives 404 10003."""
    fake = world.fake
    fake.set_overwrite(world.news.id, fake.bot.id, deny=EMBED_LINKS, member=True)
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("plain text is fine")
    with pytest.raises(discord.Forbidden) as caught:
        await channel.send(embed=discord.Embed(title="no embeds here"))
    assert caught.value.code == 50013
    fake.set_overwrite(world.news.id, world.guild.id, deny=VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as caught:
        await channel.send("cannot see it")
    assert caught.value.code == 50001
    with pytest.raises(discord.NotFound) as missing:
        await client.http.send_message(1234, params=discord.http.handle_message_parameters("x"))
    assert missing.value.code == 10003
    assert [m.content for m in fake.messages] == ["plain text is fine"]


async def test_enforced_nonce_returns_original(world: World, client: FakeClient) -> None:
    """A repeated nonce with enforce_nonce returns the first message instead of a new one."""
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("digest 1", nonce="digest-42")
    again = await channel.send("digest 1", nonce="digest-42")
    assert again.id == first.id
    assert len(world.fake.messages) == 1
    assert world.fake.messages[0].nonce == "digest-42"


async def test_drop_gateway_resumes(world: World, client: FakeClient) -> None:
    """After drop_gateway() the client RESUMEs and keeps sending and receiving."""
    await world.fake.drop_gateway()
    async with asyncio.timeout(5):
        await client.resumed.wait()
    assert world.fake.resumes == 1
    assert world.fake.identifies == 1
    channel = client.get_channel(world.news.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("still here")
    assert world.fake.messages[-1].content == "still here"


async def test_invalid_session_reidentifies(world: World, client: FakeClient) -> None:
    """A non-resumable INVALID_SESSION makes the client IDENTIFY again."""
    client.ready.clear()
    await world.fake.invalidate_session(resumable=False)
    await world.fake.wait_for_gateway(identifies=2)
    async with asyncio.timeout(5):
        await client.ready.wait()
    assert client.get_guild(world.guild.id) is not None


async def test_sync_and_ephemeral_slash_reply(world: World, client: FakeClient) -> None:
    """Synced commands are recorded; /hello reaches its callback and answers ephemerally."""
    synced = await client.tree.sync()
    assert {c.name for c in synced} == {"hello", "slow", "feed"}
    assert {c["name"] for c in world.fake.commands()} == {"hello", "slow", "feed"}
    sent = await world.fake.invoke_slash(
        world.guild.id, world.news.id, world.reader.user.id, "hello"
    )
    callback = await sent.wait_response()
    assert callback.type == 4
    assert callback.content == "hi"
    assert callback.flags == 64
    assert world.fake.interaction_responses == [callback]


async def test_defer_then_followups(world: World, client: FakeClient) -> None:
    """A deferred response is filled by the first follow-up; the second is a new message."""
    await client.tree.sync()
    sent = await world.fake.invoke_slash(
        world.guild.id, world.news.id, world.reader.user.id, "slow"
    )
    assert (await sent.wait_response()).type == 5
    await world.fake.wait_for(lambda: len(world.fake.followups) >= 2)
    original, extra = world.fake.followups
    assert original.id == sent.original_message_id
    assert (original.content, extra.content) == ("done", "and more")


async def test_guild_sync_autocomplete_and_permissions(world: World, client: FakeClient) -> None:
    """Guild-synced /feed autocompletes for a moderator and is hidden from a reader."""
    guild = discord.Object(world.guild.id)
    client.tree.copy_global_to(guild=guild)
    await client.tree.sync(guild=guild)
    fake, gid, cid = world.fake, world.guild.id, world.news.id
    assert fake.commands(gid)[0]["guild_id"] == str(gid)
    choices = await fake.autocomplete(
        gid, cid, world.moderator.user.id, "feed", {"name": "e"}, "name"
    )
    assert [c["value"] for c in choices] == ["world", "tech", "science"][1:]
    with pytest.raises(PermissionError):
        await fake.invoke_slash(gid, cid, world.reader.user.id, "feed", {"name": "tech"})
    sent = await fake.invoke_slash(gid, cid, world.moderator.user.id, "feed", {"name": "tech"})
    assert (await sent.wait_response()).content == "feed tech"


async def test_forum_post(world: World, client: FakeClient) -> None:
    """Creating a forum post makes a thread whose first message is recorded."""
    forum = client.get_channel(world.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    created = await forum.create_thread(name="Morning digest", embed=discord.Embed(title="Today"))
    [stored] = world.fake.channel_messages(created.thread.id)
    assert stored.source == "forum_post"
    assert stored.embeds[0]["title"] == "Today"
    assert created.message.id == created.thread.id


def test_permission_computation() -> None:
    """Roles, administrator and overwrites combine in Discord's order."""
    fake = FakeDiscord()
    guild = fake.add_guild()
    channel = fake.add_channel(guild.id, "mods-only")
    mod = fake.add_member(guild.id, "mod", permissions=MANAGE_GUILD)
    reader = fake.add_member(guild.id, "reader")
    assert fake.permissions(guild.id, mod.user.id, channel.id) & MANAGE_GUILD
    assert not fake.permissions(guild.id, reader.user.id, channel.id) & MANAGE_GUILD
    fake.set_overwrite(channel.id, guild.id, deny=SEND_MESSAGES)
    assert not fake.permissions(guild.id, reader.user.id, channel.id) & (
        SEND_MESSAGES | EMBED_LINKS
    )
    fake.set_overwrite(channel.id, mod.roles[0], allow=SEND_MESSAGES)
    assert fake.permissions(guild.id, mod.user.id, channel.id) & SEND_MESSAGES
    fake.set_overwrite(channel.id, mod.user.id, deny=VIEW_CHANNEL, member=True)
    assert fake.permissions(guild.id, mod.user.id, channel.id) == 0


async def test_wire_details(world: World) -> None:
    """JSON is served as exactly application/json; bad tokens and unknown routes are caught."""
    fake = world.fake
    auth = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.api_base}/users/@me", headers=auth) as resp:
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["id"] == str(fake.bot.id)
        async with http.get(
            f"{fake.api_base}/users/@me", headers={"Authorization": "Bot nope"}
        ) as resp:
            assert resp.status == 401
        async with http.get(f"{fake.api_base}/no/such/route", headers=auth) as resp:
            assert resp.status == 404
            assert await resp.json() == {"message": "404: Not Found", "code": 0}
    assert fake.unknown_routes == ["GET /no/such/route"]
    stranger = FakeClient()
    with pytest.raises(discord.LoginFailure):
        await stranger.login("wrong-token")
    await stranger.close()
