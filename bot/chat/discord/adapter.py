"""Discord: connect with discord.py, answer slash commands, post digests into channels.

One process runs some or all of the bot's gateway shards: it answers the slash commands of
the servers on its shards (Discord sends each interaction over its server's shard) and posts
the digests of their channels; the process running shard 0 syncs the commands.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any, Self

import discord
import yarl
from discord import app_commands

from bot.chat.adapter import PlatformError
from bot.chat.commands import Commands
from bot.chat.discord.answer import DEFER_AFTER_S, Answerer
from bot.chat.discord.commands import add_commands
from bot.chat.discord.post import NO_MENTIONS, Postable, post_digest
from bot.chat.discord.suggest import Suggestions
from bot.config import DiscordSection
from bot.model import Digest
from bot.ports import ChannelGone, Clock, SentCallback

log = logging.getLogger(__name__)
PREFIX = "discord:"
READY_TIMEOUT_S = 30.0
IDENTIFY_PAUSE_S = 5.0  # discord.py waits this long before identifying each further shard
CLOSE_TIMEOUT_S = 10.0
GUILD_READY_TIMEOUT_S = 2.0  # discord.py's default wait for the guilds streamed after READY


class NewsClient(discord.AutoShardedClient):
    """A sharded discord.Client with the command tree, synced once after login by the
    process running shard 0."""

    def __init__(self, answerer: Answerer, suggest: Suggestions, settings: DiscordSection,
                 guild_ready_timeout: float) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        ids = settings.shard_ids
        shards: dict[str, Any] = {} if ids is None else {"shard_ids": list(ids)}
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS,
                         guild_ready_timeout=guild_ready_timeout,
                         shard_count=settings.shard_count, **shards)
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self)
        add_commands(self.tree, answerer.answer, suggest)
        self.synced = 0
        self.ready = asyncio.Event()

    def runs_shard(self, shard_id: int) -> bool:
        """Whether this process runs that shard."""
        return self.shard_ids is None or shard_id in self.shard_ids

    async def setup_hook(self) -> None:
        """Before the gateway connects: take Discord's recommended shard count when none is
        configured (the shards then connect through the configured gateway_url), and sync
        the slash commands when this process runs shard 0."""
        if self.shard_count is None:
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        if not self.runs_shard(0):
            log.info("discord: slash commands are synced by the process running shard 0")
            return
        self.synced = len(await self.tree.sync())
        log.info("discord: %d slash commands synced", self.synced)

    async def on_ready(self) -> None:
        """Flag the first READY (and each one after a fresh IDENTIFY)."""
        self.ready.set()

    async def on_resumed(self) -> None:
        """Log a resumed gateway session."""
        log.info("discord: gateway session resumed")


class DiscordAdapter:
    """The Discord side of the bot: a Sender for `discord:` channels and a command handler."""

    def __init__(self, settings: DiscordSection, token: str, commands: Commands,
                 clock: Clock, *,
                 defer_after_s: float = DEFER_AFTER_S,
                 guild_ready_timeout: float = GUILD_READY_TIMEOUT_S) -> None:
        self._settings = settings
        self._token = token
        self._client = NewsClient(Answerer(commands, defer_after_s), Suggestions(commands),
                                  settings, guild_ready_timeout)
        self._shards: dict[int, int] = {}  # channel id -> shard, for channels not in the cache
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._endpoints = (discord.http.Route.BASE,
                           discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)

    async def __aenter__(self) -> Self:
        """Point discord.py at the configured endpoints, log in, sync commands, connect."""
        discord.http.Route.BASE = self._settings.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._settings.gateway_url)
        self._task = asyncio.create_task(self._client.start(self._token), name="discord")
        self._task.add_done_callback(_log_end)
        try:
            await self._wait_ready()
        except BaseException:
            await self._close()
            raise
        log.info("discord: connected as %s (shards %s of %s)", self._client.user,
                 _shard_list(self._client), self._client.shard_count)
        return self

    async def _wait_ready(self) -> None:
        assert self._task is not None
        ready = asyncio.create_task(self._client.ready.wait())
        done: set[asyncio.Task[None] | asyncio.Task[bool]] = set()
        waited = 0.0
        try:
            while not done and (left := self._ready_within() - waited) > 0:
                done, _ = await asyncio.wait({self._task, ready}, timeout=left,
                                             return_when=asyncio.FIRST_COMPLETED)
                waited += left
        finally:
            ready.cancel()
        if self._task in done:
            raise PlatformError(f"discord: login failed: {_reason(self._task)}")
        if not done:
            raise PlatformError(f"discord: not ready after {waited:.0f} s "
                                f"({self._settings.gateway_url})")

    def _ready_within(self) -> float:
        """READY_TIMEOUT_S, plus discord.py's pause before identifying each further shard of
        this process (how many is known once logged in)."""
        ids = self._client.shard_ids
        count = len(ids) if ids is not None else self._client.shard_count or 1
        return READY_TIMEOUT_S + IDENTIFY_PAUSE_S * (count - 1)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        """Disconnect and give discord.py its default endpoints back."""
        await self._close()

    async def _close(self) -> None:
        await self._client.close()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=CLOSE_TIMEOUT_S)
            self._task.cancel()  # a no-op once it has ended, as it should have by now
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
            self._endpoints)

    def handles(self, channel_id: str) -> bool:
        """`discord:<id>` channels are ours."""
        return channel_id.startswith(PREFIX) and channel_id[len(PREFIX):].isdigit()

    async def owns(self, channel_id: str) -> bool:
        """Whether this process runs the shard of the channel's server; channels outside any
        server (DMs) and channels Discord no longer shows the bot belong to shard 0."""
        shard = await self._shard_of(int(channel_id[len(PREFIX):]))
        return shard is not None and self._client.runs_shard(shard)

    async def _shard_of(self, snowflake: int) -> int | None:
        """The shard of the channel's server, from the cache, else asked once over REST
        (a channel never moves to another server); None when Discord can't say now."""
        channel = self._client.get_channel(snowflake)
        if channel is None and snowflake in self._shards:
            return self._shards[snowflake]
        if channel is None:
            try:
                channel = await self._client.fetch_channel(snowflake)
            except (discord.Forbidden, discord.NotFound):
                return 0  # gone: the process running shard 0 pauses it
            except discord.HTTPException as error:
                log.warning("discord: can't tell whose channel %d is now: %s", snowflake, error)
                return None
            self._shards[snowflake] = _shard_of_channel(channel)
            return self._shards[snowflake]
        return _shard_of_channel(channel)

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Post the digest; ChannelGone when Discord says the channel is gone or forbidden,
        after telling the server's moderators in a channel where the bot still can post."""
        try:
            await post_digest(await self._target(channel_id), digest, sent)
        except ChannelGone as gone:
            await self._tell_moderators(int(channel_id[len(PREFIX):]), str(gone))
            raise

    async def _tell_moderators(self, snowflake: int, reason: str) -> None:
        """One notice in the server's system channel, else its first channel open to us."""
        channel = self._client.get_channel(snowflake)
        guild = getattr(channel, "guild", None)
        if not isinstance(guild, discord.Guild):
            return  # the channel is deleted and forgotten: there is no server to tell
        text = (f"I can no longer post news digests in <#{snowflake}>: {reason}. A moderator "
                "can give me View Channel, Send Messages and Embed Links there, then run "
                "/subscribe in it to resume.")
        for candidate in [guild.system_channel, *guild.text_channels]:
            if candidate is None or candidate.id == snowflake:
                continue
            allowed = candidate.permissions_for(guild.me)
            if allowed.view_channel and allowed.send_messages:
                try:
                    await candidate.send(text, allowed_mentions=NO_MENTIONS)
                    return
                except discord.HTTPException:
                    continue

    async def _target(self, channel_id: str) -> Postable:
        snowflake = int(channel_id[len(PREFIX):])
        channel = self._client.get_channel(snowflake)
        if channel is None:
            try:
                channel = await self._client.fetch_channel(snowflake)
            except (discord.Forbidden, discord.NotFound) as error:
                raise ChannelGone(f"Discord channel unavailable ({error.status}: "
                                  f"{error.text})") from error
        if not isinstance(channel, discord.abc.Messageable | discord.ForumChannel):
            raise ChannelGone(f"{channel_id} is not a channel digests can be posted in")
        return channel


def _shard_of_channel(channel: object) -> int:
    """The shard of the server a channel belongs to; 0 outside any server (DMs)."""
    guild = getattr(channel, "guild", None)
    return guild.shard_id if isinstance(guild, discord.Guild) else 0


def _shard_list(client: NewsClient) -> str:
    """The shards a client runs, for the log: "0, 1"."""
    return ", ".join(map(str, sorted(client.shards)))


def _reason(task: asyncio.Task[None]) -> str:
    """Why the client's task ended before it was ready, in one line."""
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    if error is None:
        return "the connection closed"
    return str(error) or type(error).__name__


def _log_end(task: asyncio.Task[None]) -> None:
    """Log the client's end when it was not asked to stop (e.g. the token was revoked)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the connection ended: %s", _reason(task))
