"""REST handlers for reads: the bot user, gateway discovery, application, channels, guilds."""

from __future__ import annotations

from tests.fakes.discord_rest import Call, Reply, RestCore
from tests.fakes.discord_rest_messages import require_view
from tests.fakes.discord_validation import ApiError
from tests.fakes.discord_world import JSON


async def get_me(core: RestCore, call: Call) -> Reply:
    """GET /users/@me."""
    return Reply(body=core.state.bot.payload())


async def get_gateway(core: RestCore, call: Call) -> Reply:
    """GET /gateway and /gateway/bot."""
    body: JSON = {"url": core.gateway.url}
    if call.path.endswith("/bot"):
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        body |= {"shards": core.state.recommended_shards, "session_start_limit": limit}
    return Reply(body=body)


async def get_application(core: RestCore, call: Call) -> Reply:
    """GET /oauth2/applications/@me (and /applications/@me)."""
    state = core.state
    return Reply(
        body={
            "id": str(state.application_id),
            "name": state.bot.username,
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": state.application_flags,
            "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
            "team": None,
            "bot": state.bot.payload(),
            "summary": "",
            "rpc_origins": [],
        }
    )


async def get_channel(core: RestCore, call: Call) -> Reply:
    """GET /channels/{channel_id}."""
    guild, channel = core.channel(call.snowflake("channel_id"))
    require_view(core, guild, channel)
    return Reply(body=channel.payload())


async def get_guild(core: RestCore, call: Call) -> Reply:
    """GET /guilds/{guild_id}."""
    data = core.guild(call.snowflake("guild_id")).create_payload()
    for key in ("channels", "threads", "members", "voice_states", "presences"):
        data.pop(key)
    return Reply(body=data)


async def get_guild_channels(core: RestCore, call: Call) -> Reply:
    """GET /guilds/{guild_id}/channels (threads are not included, as on Discord)."""
    guild = core.guild(call.snowflake("guild_id"))
    return Reply(body=[c.payload() for c in guild.channels.values() if not c.is_thread])


async def get_guild_roles(core: RestCore, call: Call) -> Reply:
    """GET /guilds/{guild_id}/roles."""
    guild = core.guild(call.snowflake("guild_id"))
    return Reply(body=[r.payload() for r in guild.roles.values()])


async def get_member(core: RestCore, call: Call) -> Reply:
    """GET /guilds/{guild_id}/members/{user_id}."""
    guild = core.guild(call.snowflake("guild_id"))
    member = guild.members.get(call.snowflake("user_id"))
    if member is None:
        raise ApiError(404, 10007, "Unknown Member")
    return Reply(body=member.payload())


def register(core: RestCore) -> None:
    """Add this module's routes to the core's router."""
    add = core.router.add
    add("GET", "/users/@me", get_me)
    add("GET", "/gateway", get_gateway)
    add("GET", "/gateway/bot", get_gateway)
    add("GET", "/oauth2/applications/@me", get_application)
    add("GET", "/applications/@me", get_application)
    add("GET", "/channels/{channel_id}", get_channel)
    add("GET", "/guilds/{guild_id}", get_guild)
    add("GET", "/guilds/{guild_id}/channels", get_guild_channels)
    add("GET", "/guilds/{guild_id}/roles", get_guild_roles)
    add("GET", "/guilds/{guild_id}/members/{user_id}", get_member)
