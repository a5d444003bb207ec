"""Build INTERACTION_CREATE payloads like Discord's from the commands the bot synced.

Option types, required options, choices and sub-command paths are checked against
the synced definitions, the way the Discord client would refuse a malformed invocation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.discord_permissions import channel_permissions
from tests.fakes.discord_world import JSON, DiscordState, Guild, Member

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
ATTACHMENT = 11  # the value is an attachment id, described in data.resolved.attachments
_SNOWFLAKE_TYPES = frozenset({USER, CHANNEL, ROLE, MENTIONABLE})
APPLICATION_COMMAND, AUTOCOMPLETE = 2, 4


class InvocationError(ValueError):
    """The test asked for an invocation Discord's client could not produce."""


def _find(options: Sequence[JSON], name: str, types: frozenset[int]) -> JSON:
    """The option definition called ``name`` of one of ``types``."""
    for opt in options:
        if opt.get("name") == name and opt.get("type") in types:
            return opt
    raise InvocationError(f"no option {name!r} of type {sorted(types)} in synced command")


def _coerce(defn: JSON, value: object, focused: bool) -> object:
    """Check ``value`` against the option type (and choices); return its wire form."""
    otype = int(defn["type"])
    if focused:
        return str(value)
    ok = {
        STRING: isinstance(value, str),
        INTEGER: isinstance(value, int) and not isinstance(value, bool),
        BOOLEAN: isinstance(value, bool),
        NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
    }.get(otype, isinstance(value, int | str))
    if not ok:
        raise InvocationError(f"option {defn['name']!r} (type {otype}) cannot take {value!r}")
    choices = [c.get("value") for c in defn.get("choices") or []]
    if choices and value not in choices:
        raise InvocationError(f"option {defn['name']!r} must be one of {choices!r}")
    return str(value) if otype in _SNOWFLAKE_TYPES else value


def _leaf_options(
    defs: Sequence[JSON], values: Mapping[str, object], focused: str | None, autocomplete: bool
) -> list[JSON]:
    """Wire options for the leaf command, checking required ones for real invocations."""
    out: list[JSON] = []
    for name, value in values.items():
        defn = _find(
            defs, name, frozenset({STRING, INTEGER, BOOLEAN, NUMBER, ATTACHMENT} | _SNOWFLAKE_TYPES)
        )
        opt: JSON = {
            "name": name,
            "type": defn["type"],
            "value": _coerce(defn, value, name == focused),
        }
        if name == focused:
            if not defn.get("autocomplete"):
                raise InvocationError(f"option {name!r} was not synced with autocomplete=True")
            opt["focused"] = True
        out.append(opt)
    if not autocomplete:
        missing = [d["name"] for d in defs if d.get("required") and d["name"] not in values]
        if missing:
            raise InvocationError(f"required options missing: {missing}")
    return out


def build_options(
    command: JSON,
    path: Sequence[str],
    values: Mapping[str, object],
    *,
    focused: str | None = None,
) -> list[JSON]:
    """The ``data.options`` tree for ``/command [group] [sub] values...``."""
    defs: Sequence[JSON] = command.get("options") or []
    chain: list[JSON] = []
    for i, name in enumerate(path):
        types = frozenset({SUB_COMMAND}) if i == len(path) - 1 else frozenset({SUB_COMMAND_GROUP})
        defn = _find(defs, name, types)
        chain.append({"name": name, "type": defn["type"]})
        defs = defn.get("options") or []
    if any(d.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for d in defs):
        raise InvocationError(f"/{command['name']} needs a sub-command path")
    options = _leaf_options(defs, values, focused, autocomplete=focused is not None)
    for link in reversed(chain):
        link["options"] = options
        options = [link]
    return options


def _iter_leaf(options: Sequence[JSON]) -> list[JSON]:
    """Leaf (value-carrying) options of a built tree."""
    for opt in options:
        if opt["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            return _iter_leaf(opt.get("options") or [])
    return list(options)


def resolved(state: DiscordState, guild: Guild, options: Sequence[JSON]) -> JSON:
    """``data.resolved`` for user, channel, role and mentionable options."""
    out: dict[str, dict[str, JSON]] = {}
    for opt in _iter_leaf(options):
        if opt["type"] not in _SNOWFLAKE_TYPES or opt.get("focused"):
            continue
        key = int(opt["value"])
        if key in guild.members:
            member = guild.members[key]
            out.setdefault("users", {})[str(key)] = member.user.payload()
            data = member.payload()
            data.pop("user")
            out.setdefault("members", {})[str(key)] = data
        elif key in guild.channels:
            channel = guild.channels[key]
            data = channel.payload()
            data["permissions"] = str(channel_permissions(guild, channel, state.bot.id))
            out.setdefault("channels", {})[str(key)] = data
        elif key in guild.roles:
            out.setdefault("roles", {})[str(key)] = guild.roles[key].payload()
        else:
            raise InvocationError(f"option {opt['name']!r}: no user, channel or role {key}")
    return out


def member_payload(guild: Guild, channel_id: int, member: Member) -> JSON:
    """Interaction ``member``: the guild member plus computed channel permissions."""
    data = member.payload()
    data["permissions"] = str(
        channel_permissions(guild, guild.channels[channel_id], member.user.id)
    )
    return data


def interaction_payload(
    state: DiscordState,
    guild: Guild,
    channel_id: int,
    member: Member,
    command: JSON,
    options: list[JSON],
    *,
    ids: tuple[int, str, int],
    locale: str = "en-US",
    attachments: JSON | None = None,
) -> JSON:
    """A guild INTERACTION_CREATE payload; ``ids`` = (interaction id, token, type);
    ``attachments`` (id -> attachment object) go into ``data.resolved.attachments``."""
    interaction_id, token, itype = ids
    channel = guild.channels[channel_id]
    data: JSON = {"id": command["id"], "name": command["name"], "type": command.get("type", 1)}
    if options:
        data["options"] = options
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    res = resolved(state, guild, options) | ({"attachments": attachments} if attachments else {})
    if res:
        data["resolved"] = res
    channel_data = channel.payload()
    channel_data["permissions"] = str(channel_permissions(guild, channel, member.user.id))
    return _envelope(
        state, guild, channel_data, member_payload(guild, channel_id, member), data
    ) | {
        "id": str(interaction_id),
        "type": itype,
        "token": token,
        "locale": locale,
    }


def _envelope(state: DiscordState, guild: Guild, channel: JSON, member: JSON, data: JSON) -> JSON:
    """Fields every guild interaction carries."""
    app_perms = channel_permissions(guild, guild.channels[int(channel["id"])], state.bot.id)
    envelope: dict[str, Any] = {
        "application_id": str(state.application_id),
        "data": data,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "guild_locale": "en-US",
        "channel_id": channel["id"],
        "channel": channel,
        "member": member,
        "app_permissions": str(app_perms),
        "version": 1,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    return envelope
