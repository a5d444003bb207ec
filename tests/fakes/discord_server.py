"""FakeDiscord: a loopback Discord (REST + gateway) that the real discord.py talks to.

Typical use::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("News")
        news = fake.add_channel(guild.id, "news")
        discord.http.Route.BASE = fake.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        ...  # run a discord.Client with token fake.token
        assert fake.channel_messages(news.id)[0].embeds[0]["title"] == "..."

See ``tests/test_fake_discord.py`` for complete, working examples. Builders live in
``discord_builders``, slash commands in ``discord_slash``, REST in ``discord_rest*`` and the
gateway in ``discord_gateway``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes import discord_rest_apps, discord_rest_guilds, discord_rest_messages
from tests.fakes.discord_builders import WorldBuilders
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_records import (
    InteractionCallback,
    RequestRecord,
    ScriptedFailure,
    StoredMessage,
)
from tests.fakes.discord_rest import API_PREFIX, RestCore, json_response
from tests.fakes.discord_slash import SlashCommands
from tests.fakes.discord_validation import Refusal
from tests.fakes.discord_world import JSON, DiscordState, Snowflakes, User


class FakeDiscord(WorldBuilders, SlashCommands):
    """An in-memory Discord on 127.0.0.1:<ephemeral port>; use as ``async with``.

    World builders come from :class:`WorldBuilders`, slash commands from :class:`SlashCommands`.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "newsbot",
        heartbeat_interval_ms: int = 41_250,
        privileged_intents: int = 0,
        recommended_shards: int = 1,
    ) -> None:
        snowflakes = Snowflakes()
        bot = User(snowflakes.next(), bot_name, bot=True)
        self.state = DiscordState(
            token,
            bot,
            bot.id,
            snowflakes,
            privileged_intents=privileged_intents,
            recommended_shards=recommended_shards,
        )
        self.changed = asyncio.Condition()
        self.gateway = FakeGateway(self.state, self.changed, heartbeat_interval_ms)
        self.rest = RestCore(self.state, self.gateway, self.changed)
        discord_rest_guilds.register(self.rest)
        discord_rest_messages.register(self.rest)
        discord_rest_apps.register(self.rest)
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: Files users attached to slash commands: id -> (attachment object, bytes).
        self.attachments: dict[int, tuple[JSON, bytes]] = {}
        #: Ids of the attachments the bot downloaded, in order.
        self.downloads: list[int] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Start serving on 127.0.0.1 with an ephemeral port."""
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest.handle)
        app.router.add_get("/attachments/{id}/{filename}", self._attachment)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.gateway.url = self.gateway_url
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close sockets and stop the server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _attachment(self, request: web.Request) -> web.Response:
        """The CDN: the bytes of a file a user attached to a slash command."""
        found = self.attachments.get(int(request.match_info["id"]))
        if found is None or found[0]["filename"] != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(int(found[0]["id"]))
        return web.Response(body=found[1], content_type=str(found[0]["content_type"]))

    async def _unknown(self, request: web.Request) -> web.Response:
        """Anything outside ``/api/v10`` and ``/gateway``: recorded 404."""
        self.rest.unknown_routes.append(f"{request.method} {request.path}")
        return json_response(404, {"message": "404: Not Found", "code": 0})

    @property
    def token(self) -> str:
        """The bot token the fake accepts."""
        return self.state.token

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (wrap in ``yarl.URL``)."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def bot(self) -> User:
        """The bot user (its id is also the application id)."""
        return self.state.bot

    @property
    def application_id(self) -> int:
        """The application id."""
        return self.state.application_id

    # -- scripting --------------------------------------------------------------------------

    def fail_next(
        self,
        route_pattern: str,
        status: int = 429,
        *,
        retry_after: float = 0.2,
        times: int = 1,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (429 or 5xx).

        ``route_pattern`` is an fnmatch pattern over ``"METHOD /path"`` or just ``"/path"``
        relative to /api/v10, e.g. ``"POST /channels/*/messages"``.
        """
        self.rest.failures.append(
            ScriptedFailure(route_pattern, status, retry_after, times, is_global)
        )

    def refuse_messages_containing(self, marker: str, *, plain_too: bool = False) -> None:
        """Refuse with 400/50035 Invalid Form Body, however often they are tried, messages
        (and forum posts) whose content or embeds hold ``marker``: only those with embeds,
        or content-only ones too with ``plain_too``."""
        self.rest.refusals.append(Refusal(marker, plain_too))

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the gateway socket(s) with a resumable code; clients RESUME."""
        await self.gateway.drop(code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connected client."""
        await self.gateway.send_op(7)

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` sessions are forgotten."""
        if not resumable:
            for session in self.gateway.sessions.values():
                session.alive = False
        await self.gateway.send_op(9, resumable)

    async def wait_for(self, predicate: Callable[[], bool], *, seconds: float = 30.0) -> None:
        """Wait until ``predicate()`` holds; re-checked after every REST request,
        IDENTIFY and RESUME. Raises TimeoutError after ``seconds``."""
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(predicate)

    async def wait_for_gateway(
        self, *, identifies: int = 0, resumes: int = 0, seconds: float = 30.0
    ) -> None:
        """Wait until at least this many IDENTIFYs and RESUMEs have been accepted."""
        gw = self.gateway
        await self.wait_for(
            lambda: gw.identifies >= identifies and gw.resumes >= resumes, seconds=seconds
        )

    async def dispatch(self, event: str, data: Any, *, intent: int = 0) -> int:
        """Send any gateway event to live sessions having ``intent``; returns the count."""
        return await self.gateway.dispatch(event, data, intent=intent)

    # -- records ----------------------------------------------------------------------------

    @property
    def messages(self) -> list[StoredMessage]:
        """Every message the bot created, in order (deleted ones flagged, not removed)."""
        return self.rest.messages

    def channel_messages(self, channel_id: int) -> list[StoredMessage]:
        """Live messages in one channel (or thread)."""
        return [m for m in self.rest.messages if m.channel_id == channel_id and not m.deleted]

    @property
    def interaction_responses(self) -> list[InteractionCallback]:
        """Every accepted interaction callback, in order."""
        return self.rest.callbacks

    @property
    def followups(self) -> list[StoredMessage]:
        """Follow-up messages (and deferred originals filled by the first follow-up)."""
        return [
            m
            for m in self.rest.messages
            if m.interaction_id is not None and (m.source == "followup" or m.edits)
        ]

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands the bot synced globally (None) or to a guild."""
        return self.rest.commands.get(guild_id, [])

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request, in order."""
        return self.rest.requests

    @property
    def unknown_routes(self) -> list[str]:
        """``"METHOD /path"`` of every request no route matched."""
        return self.rest.unknown_routes

    @property
    def identifies(self) -> int:
        """How many IDENTIFYs were accepted."""
        return self.gateway.identifies

    @property
    def resumes(self) -> int:
        """How many RESUMEs were accepted."""
        return self.gateway.resumes
