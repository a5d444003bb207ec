"""In-memory Discord world for the fake: users, guilds, roles, channels, members.

Everything here is plain data; the permission arithmetic lives in ``discord_permissions``
and the wire handlers in the sibling ``discord_*`` modules turn the data into JSON payloads.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord_permissions import channel_permissions

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

TEXT, ANNOUNCEMENT, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 5, 11, 12, 15
ANNOUNCEMENT_THREAD = 10
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})


class Snowflakes:
    """Generates unique, time-ordered snowflake ids like Discord's."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        """Return a fresh snowflake."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh snowflake that, as a guild id, Discord puts on this shard
        ((id >> 22) % shard_count == shard_id): the time part is moved back a few ms."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        ms -= (ms - shard_id) % shard_count
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


def iso_now() -> str:
    """Current UTC time in Discord's ISO-8601 form."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


@dataclass
class User:
    """A Discord user (the bot or a human)."""

    id: int
    username: str
    bot: bool = False

    def payload(self) -> JSON:
        """User object as sent on the wire."""
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": None if self.bot else self.username,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class Role:
    """A guild role; the @everyone role shares the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0

    def payload(self) -> JSON:
        """Role object as sent on the wire."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        """Overwrite object as sent on the wire."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    """A guild channel or thread (``parent_id`` is the thread's parent)."""

    id: int
    guild_id: int
    name: str
    type: int = TEXT
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    topic: str | None = None
    last_message_id: int | None = None
    message_count: int = 0

    @property
    def is_thread(self) -> bool:
        """Whether this channel is a thread."""
        return self.type in THREAD_TYPES

    def payload(self) -> JSON:
        """Channel object as sent on the wire."""
        data: JSON = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "flags": 0,
        }
        if self.is_thread:
            data.update(self._thread_fields())
        else:
            data["topic"] = self.topic
            data["permission_overwrites"] = [o.payload() for o in self.overwrites.values()]
        if self.type == FORUM:
            data.update(available_tags=[], default_forum_layout=0, default_sort_order=None)
        return data

    def _thread_fields(self) -> JSON:
        """Fields only threads carry."""
        return {
            "owner_id": str(self.owner_id or 0),
            "message_count": self.message_count,
            "member_count": 1,
            "total_message_sent": self.message_count,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": iso_now(),
                "locked": False,
                "create_timestamp": iso_now(),
            },
        }


@dataclass
class Member:
    """A guild member: a user plus role ids (never including @everyone)."""

    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None

    def payload(self) -> JSON:
        """Guild member object as sent on the wire."""
        return {
            "user": self.user.payload(),
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }


@dataclass
class Guild:
    """A guild with roles, channels (threads included) and members."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    def create_payload(self) -> JSON:
        """GUILD_CREATE payload: the full guild with channels, threads, roles, members."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "features": [],
            "preferred_locale": "en-US",
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels.values() if not c.is_thread],
            "threads": [c.payload() for c in self.channels.values() if c.is_thread],
            "members": [m.payload() for m in self.members.values()],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class DiscordState:
    """Everything the fake's gateway and REST halves share."""

    token: str
    bot: User
    application_id: int
    snowflakes: Snowflakes
    guilds: dict[int, Guild] = field(default_factory=dict)
    #: Privileged intents the application has switched on (GUILD_MEMBERS 1<<1,
    #: GUILD_PRESENCES 1<<8, MESSAGE_CONTENT 1<<15); others are refused with 4014.
    privileged_intents: int = 0
    application_flags: int = 0
    #: The shard count GET /gateway/bot recommends.
    recommended_shards: int = 1

    def find_channel(self, channel_id: int) -> tuple[Guild, Channel] | None:
        """The guild and channel (or thread) with this id, if any."""
        for guild in self.guilds.values():
            channel = guild.channels.get(channel_id)
            if channel is not None:
                return guild, channel
        return None

    def bot_permissions(self, guild: Guild, channel: Channel) -> int:
        """The bot's permissions in a channel."""
        return channel_permissions(guild, channel, self.bot.id)
