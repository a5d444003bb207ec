"""World builders for FakeDiscord: guilds, roles, channels, threads, members, overwrites.

Tests shape the world before (or while) the bot is connected; :class:`WorldBuilders` is mixed
into :class:`tests.fakes.discord_server.FakeDiscord`, which provides the state and gateway.
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_permissions import (
    DEFAULT_EVERYONE,
    MEMBER_OVERWRITE,
    ROLE_OVERWRITE,
    channel_permissions,
)
from tests.fakes.discord_world import (
    TEXT,
    Channel,
    DiscordState,
    Guild,
    Member,
    Overwrite,
    Role,
    User,
)


class WorldBuilders:
    """Builders that add to the fake's world and announce changes to connected clients."""

    state: DiscordState
    gateway: FakeGateway

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        bot_permissions: int | None = None,
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A guild with @everyone (default permissions), an owner and the bot as member.

        ``bot_permissions`` adds a role for the bot granting exactly those extra bits;
        ``shard`` = (shard id, shard count) picks an id that Discord routes to that shard.
        """
        owner = User(self.state.snowflakes.next(), f"{name}-owner".replace(" ", "_"))
        snowflakes = self.state.snowflakes
        guild_id = snowflakes.next() if shard is None else snowflakes.on_shard(*shard)
        guild = Guild(guild_id, name, owner.id)
        guild.roles[guild.id] = Role(guild.id, "@everyone", DEFAULT_EVERYONE)
        guild.members[owner.id] = Member(owner)
        guild.members[self.state.bot.id] = Member(self.state.bot)
        self.state.guilds[guild.id] = guild
        if bot_permissions is not None:
            role = self.add_role(guild.id, self.state.bot.username, bot_permissions)
            guild.members[self.state.bot.id].roles.append(role.id)
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
        owner = self.state.bot.id if parent_id is not None else None
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
