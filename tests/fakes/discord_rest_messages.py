"""REST handlers for what the bot posts: messages and threads (forum posts included)."""

from __future__ import annotations

from tests.fakes.discord_gateway import INTENT_GUILD_MESSAGES, INTENT_GUILDS
from tests.fakes.discord_permissions import (
    ATTACH_FILES,
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    READ_MESSAGE_HISTORY,
    VIEW_CHANNEL,
    send_permission,
)
from tests.fakes.discord_records import CROSSPOSTED, StoredMessage
from tests.fakes.discord_rest import Call, Reply, RestCore
from tests.fakes.discord_validation import ApiError, FormErrors, check_message
from tests.fakes.discord_world import ANNOUNCEMENT, FORUM, JSON, PUBLIC_THREAD, TEXT, Channel, Guild

_POSTABLE = frozenset({TEXT, 2, ANNOUNCEMENT, 10, PUBLIC_THREAD, 12, 13})
_FORUMS = frozenset({FORUM, 16})
#: CREATE_PRIVATE_THREADS
_PRIVATE_THREADS = 1 << 36


def require_view(core: RestCore, guild: Guild, channel: Channel) -> int:
    """The bot's permissions in ``channel``; 403 Missing Access if it cannot see it."""
    perms = core.state.bot_permissions(guild, channel)
    if not perms & VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
    return perms


def require_send(core: RestCore, guild: Guild, channel: Channel, body: JSON, files: int) -> None:
    """VIEW_CHANNEL, the channel's send bit, EMBED_LINKS for embeds, ATTACH_FILES for files."""
    perms = require_view(core, guild, channel)
    needed = send_permission(channel)
    if body.get("embeds"):
        needed |= EMBED_LINKS
    if files:
        needed |= ATTACH_FILES
    if perms & needed != needed:
        raise ApiError(403, 50013, "Missing Permissions")


def new_message(
    core: RestCore, guild: Guild | None, channel_id: int, body: JSON, source: str
) -> StoredMessage:
    """Create and remember a message authored by the bot."""
    msg = StoredMessage(
        id=core.state.snowflakes.next(),
        channel_id=channel_id,
        guild_id=None if guild is None else guild.id,
        author=core.state.bot.payload(),
        content=body.get("content") or "",
        embeds=list(body.get("embeds") or []),
        allowed_mentions=body.get("allowed_mentions"),
        nonce=body.get("nonce"),
        flags=int(body.get("flags") or 0),
        source=source,
        components=list(body.get("components") or []),
    )
    core.messages.append(msg)
    return msg


def attach_files(core: RestCore, msg: StoredMessage, files: list[JSON]) -> None:
    """Give a message the attachment objects and the bytes of its uploaded files."""
    msg.attachments += _attachments(core, files)
    msg.uploads += [(f["filename"], f["data"]) for f in files]


def _attachments(core: RestCore, files: list[JSON]) -> list[JSON]:
    """Attachment objects for uploaded files."""
    out = []
    for f in files:
        snowflake = core.state.snowflakes.next()
        url = f"https://cdn.example.invalid/attachments/{snowflake}/{f['filename']}"
        out.append(
            {
                "id": str(snowflake),
                "filename": f["filename"],
                "size": f["size"],
                "url": url,
                "proxy_url": url,
            }
        )
    return out


def check_refusals(core: RestCore, body: JSON) -> None:
    """Answer 400/50035 when the test scripted a refusal of this message's text."""
    for refusal in core.refusals:
        refusal.check(body)


def _duplicate_nonce(core: RestCore, channel_id: int, body: JSON) -> StoredMessage | None:
    """With ``enforce_nonce``, the earlier message that used the same nonce."""
    nonce = body.get("nonce")
    if nonce is None or not body.get("enforce_nonce"):
        return None
    for msg in core.messages:
        if msg.channel_id == channel_id and msg.nonce == nonce and msg.source == "channel":
            return msg
    return None


async def _announce(core: RestCore, channel: Channel, msg: StoredMessage) -> None:
    """Bookkeeping plus MESSAGE_CREATE for sessions with the GUILD_MESSAGES intent."""
    channel.last_message_id = msg.id
    channel.message_count += 1
    await core.gateway.dispatch("MESSAGE_CREATE", msg.payload(), intent=INTENT_GUILD_MESSAGES)


async def post_message(core: RestCore, call: Call) -> Reply:
    """POST /channels/{channel_id}/messages."""
    guild, channel = core.channel(call.snowflake("channel_id"))
    body = call.json_body()
    if channel.type not in _POSTABLE:
        raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
    require_send(core, guild, channel, body, len(call.files))
    check_message(body | ({"attachments": call.files} if call.files else {}))
    check_refusals(core, body)
    earlier = _duplicate_nonce(core, channel.id, body)
    if earlier is not None:
        return Reply(body=earlier.payload())
    msg = new_message(core, guild, channel.id, body, "channel")
    attach_files(core, msg, call.files)
    await _announce(core, channel, msg)
    return Reply(body=msg.payload())


def _own_message(core: RestCore, call: Call) -> tuple[Guild, Channel, StoredMessage]:
    """Channel and message from the path; the bot must be able to see the channel."""
    guild, channel = core.channel(call.snowflake("channel_id"))
    require_view(core, guild, channel)
    return guild, channel, core.message(call.snowflake("message_id"), channel.id)


async def get_message(core: RestCore, call: Call) -> Reply:
    """GET /channels/{channel_id}/messages/{message_id} (needs READ_MESSAGE_HISTORY)."""
    guild, channel, msg = _own_message(core, call)
    if not core.state.bot_permissions(guild, channel) & READ_MESSAGE_HISTORY:
        raise ApiError(403, 50013, "Missing Permissions")
    return Reply(body=msg.payload())


async def patch_message(core: RestCore, call: Call) -> Reply:
    """PATCH /channels/{channel_id}/messages/{message_id}."""
    _, _, msg = _own_message(core, call)
    body = call.json_body()
    check_message(body, partial=True)
    msg.apply_edit(body)
    await core.gateway.dispatch("MESSAGE_UPDATE", msg.payload(), intent=INTENT_GUILD_MESSAGES)
    return Reply(body=msg.payload())


async def delete_message(core: RestCore, call: Call) -> Reply:
    """DELETE /channels/{channel_id}/messages/{message_id}."""
    guild, channel, msg = _own_message(core, call)
    msg.deleted = True
    event = {"id": str(msg.id), "channel_id": str(channel.id), "guild_id": str(guild.id)}
    await core.gateway.dispatch("MESSAGE_DELETE", event, intent=INTENT_GUILD_MESSAGES)
    return Reply(204)


async def crosspost(core: RestCore, call: Call) -> Reply:
    """POST /channels/{channel_id}/messages/{message_id}/crosspost (announcement channels)."""
    guild, channel, msg = _own_message(core, call)
    if channel.type != ANNOUNCEMENT:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    if msg.flags & CROSSPOSTED:
        raise ApiError(400, 40033, "This message has already been crossposted.")
    require_send(core, guild, channel, {}, 0)
    msg.flags |= CROSSPOSTED
    return Reply(body=msg.payload())


def _thread_name(body: JSON) -> str:
    """The new thread's name (400 if missing or over 100 characters)."""
    name = body.get("name")
    errors = FormErrors()
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        errors.add(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    errors.raise_if_any()
    assert isinstance(name, str)
    return name


def _new_thread(core: RestCore, guild: Guild, parent: Channel, name: str, ttype: int) -> Channel:
    """Create a thread under ``parent`` owned by the bot."""
    thread = Channel(
        core.state.snowflakes.next(),
        guild.id,
        name,
        ttype,
        parent_id=parent.id,
        owner_id=core.state.bot.id,
    )
    guild.channels[thread.id] = thread
    return thread


async def post_thread(core: RestCore, call: Call) -> Reply:
    """POST /channels/{channel_id}/threads: a forum post, or a thread without a message."""
    guild, parent = core.channel(call.snowflake("channel_id"))
    body = call.json_body()
    name = _thread_name(body)
    if parent.type in _FORUMS:
        return await _forum_post(core, guild, parent, name, body, call)
    if parent.type not in (TEXT, ANNOUNCEMENT):
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    ttype = int(body.get("type") or 12)
    needed = CREATE_PUBLIC_THREADS if ttype != 12 else _PRIVATE_THREADS
    if not require_view(core, guild, parent) & needed:
        raise ApiError(403, 50013, "Missing Permissions")
    thread = _new_thread(core, guild, parent, name, ttype)
    await core.gateway.dispatch(
        "THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=INTENT_GUILDS
    )
    return Reply(201, thread.payload())


async def _forum_post(
    core: RestCore, guild: Guild, forum: Channel, name: str, body: JSON, call: Call
) -> Reply:
    """A forum thread whose starter message shares the thread's id, as on Discord."""
    first = body.get("message")
    if not isinstance(first, dict):
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "message": {
                    "_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]
                }
            },
        )
    require_send(core, guild, forum, first, len(call.files))
    check_message(first | ({"attachments": call.files} if call.files else {}))
    check_refusals(core, first)
    thread = _new_thread(core, guild, forum, name, PUBLIC_THREAD)
    msg = new_message(core, guild, thread.id, first, "forum_post")
    msg.id = thread.id
    attach_files(core, msg, call.files)
    await core.gateway.dispatch(
        "THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=INTENT_GUILDS
    )
    await _announce(core, thread, msg)
    return Reply(201, thread.payload() | {"message": msg.payload()})


def register(core: RestCore) -> None:
    """Add this module's routes to the core's router."""
    add = core.router.add
    add("POST", "/channels/{channel_id}/messages", post_message)
    add("GET", "/channels/{channel_id}/messages/{message_id}", get_message)
    add("PATCH", "/channels/{channel_id}/messages/{message_id}", patch_message)
    add("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message)
    add("POST", "/channels/{channel_id}/messages/{message_id}/crosspost", crosspost)
    add("POST", "/channels/{channel_id}/threads", post_thread)
