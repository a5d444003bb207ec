"""Slash commands and autocomplete for FakeDiscord, played as a guild member would.

:class:`SlashCommands` is mixed into :class:`tests.fakes.discord_server.FakeDiscord`: it looks
up what the bot synced, builds the INTERACTION_CREATE payload (files a user attaches are served
by the fake's CDN) and dispatches it over the gateway.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    InvocationError,
    build_options,
    interaction_payload,
)
from tests.fakes.discord_permissions import channel_permissions
from tests.fakes.discord_records import SentInteraction, Upload
from tests.fakes.discord_rest import RestCore
from tests.fakes.discord_world import JSON, DiscordState


class SlashCommands:
    """Invoke the bot's synced commands as a user; the bot answers over REST."""

    state: DiscordState
    gateway: FakeGateway
    rest: RestCore
    port: int
    attachments: dict[int, tuple[JSON, bytes]]

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
        if check_permissions and (
            channel_permissions(guild, guild.channels[channel_id], user_id) & required != required
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

    def _upload(self, upload: Upload) -> JSON:
        """Store an attached file for the CDN; its attachment object."""
        snowflake = self.state.snowflakes.next()
        url = f"http://127.0.0.1:{self.port}/attachments/{snowflake}/{upload.filename}"
        data: JSON = {"id": str(snowflake), "filename": upload.filename,
                      "size": len(upload.data), "url": url, "proxy_url": url,
                      "content_type": upload.content_type, "ephemeral": True}
        self.attachments[snowflake] = (data, upload.data)
        return data
