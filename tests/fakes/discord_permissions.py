"""Discord's permission bits and arithmetic, as the fake applies them.

The computation follows https://discord.com/developers/docs/topics/permissions:
@everyone plus the member's roles, then @everyone, role and member channel overwrites;
threads use their parent channel's overwrites but their own send bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.discord_world import Channel, Guild, Member

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

ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1


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

