"""FakeDiscord: a loopback Discord (REST + gateway) that the real discord.py talks to.

Typical use::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("News")
        news = fake.add_channel(guild.id, "news")
        discord.http.Route.BASE = fake.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        ...  # run a discord.Client with token fake.token
        assert fake.channel_messages(news.id)[0].embeds[0]["title"] == "..."

See ``tests/test_fake_discord.py`` for complete, working examples.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes import discord_rest_apps, discord_rest_guilds, discord_rest_messages
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    InvocationError,
    build_options,
    interaction_payload,
)
from tests.fakes.discord_permissions import (
    DEFAULT_EVERYONE,
    MEMBER_OVERWRITE,
    ROLE_OVERWRITE,
    channel_permissions,
)
from tests.fakes.discord_records import (
    InteractionCallback,
    RequestRecord,
    ScriptedFailure,
    SentInteraction,
    StoredMessage,
    Upload,
)
from tests.fakes.discord_rest import API_PREFIX, RestCore, json_response
from tests.fakes.discord_world import (
    JSON,
    TEXT,
    Channel,
    DiscordState,
    Guild,
    Member,
    Overwrite,
    Role,
    Snowflakes,
    User,
)

__all__ = ["FakeDiscord", "InvocationError", "Upload"]


class FakeDiscord:
    """An in-memory Discord on 127.0.0.1:<ephemeral port>; use as ``async with``."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "newsbot",
        heartbeat_interval_ms: int = 41_250,
        privileged_intents: int = 0,
    ) -> None:
        snowflakes = Snowflakes()
        bot = User(snowflakes.next(), bot_name, bot=True)
        self.state = DiscordState(
            token, bot, bot.id, snowflakes, privileged_intents=privileged_intents
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

    def _upload(self, upload: Upload) -> JSON:
        """Store an attached file for the CDN; its attachment object."""
        snowflake = self.state.snowflakes.next()
        url = f"http://127.0.0.1:{self.port}/attachments/{snowflake}/{upload.filename}"
        data: JSON = {"id": str(snowflake), "filename": upload.filename,
                      "size": len(upload.data), "url": url, "proxy_url": url,
                      "content_type": upload.content_type, "ephemeral": True}
        self.attachments[snowflake] = (data, upload.data)
        return data

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

    # -- world builders ---------------------------------------------------------------------

    def add_guild(self, name: str = "Test Guild", *, bot_permissions: int | None = None) -> Guild:
        """A guild with @everyone (default permissions), an owner and the bot as member.

        ``bot_permissions`` adds a role for the bot granting exactly those extra bits.
        """
        owner = User(self.state.snowflakes.next(), f"{name}-owner".replace(" ", "_"))
        guild = Guild(self.state.snowflakes.next(), name, owner.id)
        guild.roles[guild.id] = Role(guild.id, "@everyone", DEFAULT_EVERYONE)
        guild.members[owner.id] = Member(owner)
        guild.members[self.bot.id] = Member(self.bot)
        self.state.guilds[guild.id] = guild
        if bot_permissions is not None:
            role = self.add_role(guild.id, self.bot.username, bot_permissions)
            guild.members[self.bot.id].roles.append(role.id)
        return guild

    def add_role(self, guild_id: int, name: str, permissions: int) -> Role:
        """A role with a permissions bitfield."""
        guild = self.state.guilds[guild_id]
        role = Role(self.state.snowflakes.next(), name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str,
        type: int = TEXT,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
    ) -> Channel:
        """A channel (0 text, 5 announcement, 15 forum) or, with ``parent_id``, a thread (11)."""
        guild = self.state.guilds[guild_id]
        position = sum(1 for c in guild.channels.values() if not c.is_thread)
        owner = self.bot.id if parent_id is not None else None
        channel = Channel(
            self.state.snowflakes.next(),
            guild_id,
            name,
            type,
            position,
            parent_id,
            owner,
            topic=topic,
        )
        guild.channels[channel.id] = channel
        return channel

    def add_thread(self, parent_id: int, name: str, type: int = 11) -> Channel:
        """A public thread (type 11) under a text or forum channel."""
        found = self.state.find_channel(parent_id)
        assert found is not None, f"no channel {parent_id}"
        return self.add_channel(found[0].id, name, type, parent_id=parent_id)

    def add_member(
        self,
        guild_id: int,
        username: str,
        *,
        roles: Sequence[int] = (),
        permissions: int | None = None,
    ) -> Member:
        """A human member; ``permissions`` creates a personal role with those bits."""
        guild = self.state.guilds[guild_id]
        member = Member(User(self.state.snowflakes.next(), username), list(roles))
        guild.members[member.user.id] = member
        if permissions is not None:
            member.roles.append(self.add_role(guild_id, f"{username}-role", permissions).id)
        return member

    def set_overwrite(
        self,
        channel_id: int,
        target_id: int,
        *,
        allow: int = 0,
        deny: int = 0,
        member: bool = False,
    ) -> Overwrite:
        """Set a channel overwrite for a role (the guild id = @everyone) or a member."""
        found = self.state.find_channel(channel_id)
        assert found is not None, f"no channel {channel_id}"
        kind = MEMBER_OVERWRITE if member else ROLE_OVERWRITE
        overwrite = Overwrite(target_id, kind, allow, deny)
        found[1].overwrites[target_id] = overwrite
        return overwrite

    def permissions(self, guild_id: int, user_id: int, channel_id: int) -> int:
        """A member's permissions in a channel, computed as Discord does."""
        guild = self.state.guilds[guild_id]
        return channel_permissions(guild, guild.channels[channel_id], user_id)

    async def announce_channel(self, channel_id: int, event: str = "CHANNEL_UPDATE") -> None:
        """Tell connected clients about a channel changed after connect (CHANNEL_CREATE/UPDATE)."""
        found = self.state.find_channel(channel_id)
        assert found is not None, f"no channel {channel_id}"
        await self.gateway.dispatch(event, found[1].payload())

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

    async def wait_for(self, predicate: Callable[[], bool], *, seconds: float = 5.0) -> None:
        """Wait until ``predicate()`` holds; re-checked after every REST request,
        IDENTIFY and RESUME. Raises TimeoutError after ``seconds``."""
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(predicate)

    async def wait_for_gateway(
        self, *, identifies: int = 0, resumes: int = 0, seconds: float = 5.0
    ) -> None:
        """Wait until at least this many IDENTIFYs and RESUMEs have been accepted."""
        gw = self.gateway
        await self.wait_for(
            lambda: gw.identifies >= identifies and gw.resumes >= resumes, seconds=seconds
        )

    async def dispatch(self, event: str, data: Any, *, intent: int = 0) -> int:
        """Send any gateway event to live sessions having ``intent``; returns the count."""
        return await self.gateway.dispatch(event, data, intent=intent)

    # -- interactions -----------------------------------------------------------------------

    def synced_command(self, name: str, guild_id: int | None = None, type: int = 1) -> JSON:
        """A synced command: the guild's own first, then global (LookupError if none)."""
        scopes = (guild_id, None) if guild_id is not None else (None,)
        for scope in scopes:
            for cmd in self.rest.commands.get(scope, []):
                if cmd["name"] == name and cmd["type"] == type:
                    return cmd
        raise LookupError(f"/{name} was never synced (guild {guild_id} or global)")

    async def invoke_slash(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, object] | None = None,
        *,
        subcommand: Sequence[str] = (),
        locale: str = "en-US",
        check_permissions: bool = True,
    ) -> SentInteraction:
        """Dispatch a slash command (type 2) as ``user_id`` in a guild channel.

        ``subcommand`` is the path below ``name`` (``("add",)`` or ``("group", "add")``).
        Options are checked against what the bot synced (types, required, choices); with
        ``check_permissions`` a user lacking the command's ``default_member_permissions``
        is refused (PermissionError) like Discord's client hides the command.
        An :class:`Upload` value attaches a file: the option carries its id, the payload's
        ``data.resolved.attachments`` describes it and the fake serves it at its ``url``.
        Await ``.wait_response()`` on the result for the bot's callback.
        """
        cmd = self.synced_command(name, guild_id)
        values = dict(options or {})
        uploads = {
            key: self._upload(value) for key, value in values.items() if isinstance(value, Upload)
        }
        values |= {key: data["id"] for key, data in uploads.items()}
        built = build_options(cmd, subcommand, values)
        return await self._send_interaction(
            guild_id,
            channel_id,
            user_id,
            cmd,
            built,
            APPLICATION_COMMAND,
            locale,
            check_permissions,
            {data["id"]: data for data in uploads.values()},
        )

    async def autocomplete(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, object],
        focused: str,
        *,
        subcommand: Sequence[str] = (),
        seconds: float = 3.0,
    ) -> list[JSON]:
        """Dispatch an autocomplete interaction (type 4) and return the bot's choices."""
        cmd = self.synced_command(name, guild_id)
        built = build_options(cmd, subcommand, options, focused=focused)
        sent = await self._send_interaction(
            guild_id, channel_id, user_id, cmd, built, AUTOCOMPLETE, "en-US", True
        )
        return (await sent.wait_response(seconds)).choices

    async def _send_interaction(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        cmd: JSON,
        options: list[JSON],
        itype: int,
        locale: str,
        check_permissions: bool,
        attachments: JSON | None = None,
    ) -> SentInteraction:
        """Build the payload, remember the interaction and dispatch INTERACTION_CREATE."""
        guild = self.state.guilds[guild_id]
        member = guild.members.get(user_id)
        if member is None or channel_id not in guild.channels:
            raise InvocationError(f"user {user_id} / channel {channel_id} not in guild {guild_id}")
        required = int(cmd.get("default_member_permissions") or 0)
        if (
            check_permissions
            and self.permissions(guild_id, user_id, channel_id) & required != required
        ):
            raise PermissionError(f"{member.user.username} cannot see /{cmd['name']}")
        interaction_id = self.state.snowflakes.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload = interaction_payload(
            self.state,
            guild,
            channel_id,
            member,
            cmd,
            options,
            ids=(interaction_id, token, itype),
            locale=locale,
            attachments=attachments,
        )
        sent = SentInteraction(interaction_id, token, itype, payload, guild_id, channel_id)
        self.rest.interactions[interaction_id] = sent
        if not await self.gateway.dispatch("INTERACTION_CREATE", payload):
            raise InvocationError("no gateway session to deliver the interaction to")
        return sent

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
