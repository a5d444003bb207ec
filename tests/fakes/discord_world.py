"""In-memory Discord world for the fake: users, guilds, roles, channels, permissions.

Everything here is plain data plus the permission arithmetic Discord documents
(https://discord.com/developers/docs/topics/permissions); the wire handlers in the
sibling ``discord_*`` modules turn it into JSON payloads.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (subset newsbot cares about; any int works in the builders).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

#: What @everyone gets in a fresh guild (close to Discord's default role).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
#: Permissions that only make sense when the member can send messages.
_NEEDS_SEND = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS

TEXT, ANNOUNCEMENT, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 5, 11, 12, 15
ANNOUNCEMENT_THREAD = 10
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})
ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1


class Snowflakes:
    """Generates unique, time-ordered snowflake ids like Discord's."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        """Return a fresh snowflake."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
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


def base_permissions(guild: Guild, user_id: int) -> int:
    """Guild-level permissions: @everyone plus the member's roles, admin/owner = all."""
    if user_id == guild.owner_id:
        return ALL_PERMISSIONS
    member = guild.members.get(user_id)
    if member is None:
        return 0
    perms = guild.roles[guild.id].permissions
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms


def _apply_overwrites(guild: Guild, channel: Channel, member: Member, perms: int) -> int:
    """Apply @everyone, role and member overwrites in Discord's order."""
    everyone = channel.overwrites.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.roles:
        ow = channel.overwrites.get(role_id)
        if ow is not None and ow.type == ROLE_OVERWRITE:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = channel.overwrites.get(member.user.id)
    if own is not None and own.type == MEMBER_OVERWRITE:
        perms = (perms & ~own.deny) | own.allow
    return perms


def channel_permissions(guild: Guild, channel: Channel, user_id: int) -> int:
    """A member's permissions in a channel; threads use their parent's overwrites."""
    send_bit = send_permission(channel)
    if channel.is_thread and channel.parent_id is not None:
        channel = guild.channels[channel.parent_id]
    perms = base_permissions(guild, user_id)
    if perms == ALL_PERMISSIONS:
        return perms
    member = guild.members.get(user_id)
    if member is None:
        return 0
    perms = _apply_overwrites(guild, channel, member, perms)
    if not perms & VIEW_CHANNEL:
        return 0
    if not perms & send_bit:
        perms &= ~_NEEDS_SEND
    return perms


def send_permission(channel: Channel) -> int:
    """The bit needed to post in ``channel`` (threads have their own)."""
    return SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES


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
