"""REST handlers for application commands, interaction callbacks and webhook follow-ups."""

from __future__ import annotations

import time

from tests.fakes.discord_gateway import INTENT_GUILD_MESSAGES
from tests.fakes.discord_records import (
    EPHEMERAL,
    LOADING,
    InteractionCallback,
    SentInteraction,
    StoredMessage,
)
from tests.fakes.discord_rest import Call, Reply, RestCore
from tests.fakes.discord_rest_messages import attach_files, new_message
from tests.fakes.discord_validation import (
    ApiError,
    FormErrors,
    check_choices,
    check_commands,
    check_message,
)
from tests.fakes.discord_world import JSON

#: Callback types allowed per interaction type (2 command, 3 component, 4 autocomplete, 5 modal).
_ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
_FOLLOWUP_TTL = 15 * 60
_MESSAGE_FLAGS = (
    EPHEMERAL | (1 << 2) | (1 << 12)
)  # ephemeral, suppress embeds, suppress notifications


def _scope(core: RestCore, call: Call) -> int | None:
    """Check the application id; return the guild id of a guild route (None = global)."""
    if call.snowflake("application_id") != core.state.application_id:
        raise ApiError(404, 10002, "Unknown Application")
    if "guild_id" not in call.args:
        return None
    return core.guild(call.snowflake("guild_id")).id


def _stored_command(core: RestCore, scope: int | None, cmd: JSON) -> JSON:
    """The command as Discord stores it; an existing (type, name) keeps its id."""
    ctype = int(cmd.get("type", 1))
    previous = next(
        (
            c
            for c in core.commands.get(scope, [])
            if c["type"] == ctype and c["name"] == cmd.get("name")
        ),
        None,
    )
    out: JSON = {
        "id": previous["id"] if previous else str(core.state.snowflakes.next()),
        "application_id": str(core.state.application_id),
        "version": str(core.state.snowflakes.next()),
        "type": ctype,
        "name": cmd.get("name"),
        "description": cmd.get("description", ""),
        "options": list(cmd.get("options") or []),
        "default_member_permissions": cmd.get("default_member_permissions"),
        "nsfw": bool(cmd.get("nsfw", False)),
        "contexts": cmd.get("contexts"),
        "integration_types": cmd.get("integration_types") or [0],
    }
    if scope is not None:
        out["guild_id"] = str(scope)
    return out


async def get_commands(core: RestCore, call: Call) -> Reply:
    """GET /applications/{app}/commands and the guild variant."""
    return Reply(body=core.commands.get(_scope(core, call), []))


async def put_commands(core: RestCore, call: Call) -> Reply:
    """PUT (bulk overwrite) of global or guild commands."""
    scope = _scope(core, call)
    if not isinstance(call.body, list):
        raise ApiError(400, 50109, "The request body contains invalid JSON.")
    check_commands(call.body)
    core.commands[scope] = [_stored_command(core, scope, c) for c in call.body]
    core.sync_count += 1
    return Reply(body=core.commands[scope])


async def post_command(core: RestCore, call: Call) -> Reply:
    """POST one command (create or replace by name)."""
    scope = _scope(core, call)
    body = call.json_body()
    check_commands([body])
    stored = _stored_command(core, scope, body)
    existing = [c for c in core.commands.get(scope, []) if c["id"] != stored["id"]]
    core.commands[scope] = [*existing, stored]
    return Reply(201, stored)


def _command(core: RestCore, call: Call) -> tuple[int | None, JSON]:
    """The command addressed by ``command_id`` (404 10063 Unknown application command)."""
    scope = _scope(core, call)
    for cmd in core.commands.get(scope, []):
        if cmd["id"] == call.args["command_id"]:
            return scope, cmd
    raise ApiError(404, 10063, "Unknown application command")


async def get_command(core: RestCore, call: Call) -> Reply:
    """GET one command."""
    return Reply(body=_command(core, call)[1])


async def delete_command(core: RestCore, call: Call) -> Reply:
    """DELETE one command."""
    scope, cmd = _command(core, call)
    core.commands[scope] = [c for c in core.commands[scope] if c is not cmd]
    return Reply(204)


def _interaction(core: RestCore, call: Call) -> SentInteraction:
    """The interaction a callback addresses (404 10062 if unknown, wrong token or expired)."""
    sent = core.interactions.get(call.snowflake("interaction_id"))
    if sent is None or sent.token != call.args["token"]:
        raise ApiError(404, 10062, "Unknown interaction")
    if sent.callback is not None:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if time.monotonic() - sent.created > core.interaction_ack_timeout:
        raise ApiError(404, 10062, "Unknown interaction")
    return sent


async def _respond_message(
    core: RestCore, sent: SentInteraction, rtype: int, data: JSON, files: list[JSON]
) -> StoredMessage:
    """The original response message for callback types 4 and 5."""
    guild = None if sent.guild_id is None else core.state.guilds.get(sent.guild_id)
    flags = int(data.get("flags") or 0) & _MESSAGE_FLAGS
    if rtype == 5:
        data = {"content": "", "flags": flags | LOADING}
    else:
        check_message(data | {"flags": flags})
        data = data | {"flags": flags}
    msg = new_message(core, guild, sent.channel_id, data, "interaction")
    msg.interaction_id = sent.id
    attach_files(core, msg, files)
    sent.original_message_id = msg.id
    if rtype == 4 and not flags & EPHEMERAL:
        await core.gateway.dispatch("MESSAGE_CREATE", msg.payload(), intent=INTENT_GUILD_MESSAGES)
    return msg


def _check_callback_type(sent: SentInteraction, rtype: object) -> int:
    """The callback type, if allowed for this kind of interaction."""
    if not isinstance(rtype, int) or rtype not in _ALLOWED_CALLBACKS.get(sent.type, set()):
        errors = FormErrors()
        errors.add(
            ("type",), "INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is invalid"
        )
        errors.raise_if_any()
    assert isinstance(rtype, int)
    return rtype


async def post_callback(core: RestCore, call: Call) -> Reply:
    """POST /interactions/{id}/{token}/callback (types 4, 5, 6, 7, 8, 9)."""
    sent = _interaction(core, call)
    body = call.json_body()
    rtype = _check_callback_type(sent, body.get("type"))
    data = body.get("data") or {}
    msg = None
    if rtype in (4, 5):
        msg = await _respond_message(core, sent, rtype, data, call.files)
    elif rtype == 8:
        check_choices(list(data.get("choices") or []))
    callback = InteractionCallback(sent.id, sent.token, rtype, data)
    core.callbacks.append(callback)
    sent.acknowledge(callback)
    if call.query.get("with_response") not in ("1", "true", "True"):
        return Reply(204)
    return Reply(body=_callback_response(sent, rtype, msg))


def _callback_response(sent: SentInteraction, rtype: int, msg: StoredMessage | None) -> JSON:
    """The ``with_response`` body (InteractionCallbackResponse)."""
    info: JSON = {"id": str(sent.id), "type": sent.type}
    resource: JSON = {"type": rtype}
    if msg is not None:
        info |= {
            "response_message_id": str(msg.id),
            "response_message_loading": rtype == 5,
            "response_message_ephemeral": msg.ephemeral,
        }
        resource["message"] = msg.payload()
    return {"interaction": info, "resource": resource}


def _webhook_interaction(core: RestCore, call: Call) -> SentInteraction:
    """The acknowledged, unexpired interaction behind ``/webhooks/{app}/{token}``."""
    if call.snowflake("application_id") != core.state.application_id:
        raise ApiError(404, 10015, "Unknown Webhook")
    for sent in core.interactions.values():
        if sent.token == call.args["token"]:
            if sent.callback is None or time.monotonic() - sent.created > _FOLLOWUP_TTL:
                break
            return sent
    raise ApiError(404, 10015, "Unknown Webhook")


async def post_followup(core: RestCore, call: Call) -> Reply:
    """POST /webhooks/{app}/{token}: after a defer the first one fills the original."""
    sent = _webhook_interaction(core, call)
    body = call.json_body()
    check_message(body)
    original = None if sent.original_message_id is None else core.message(sent.original_message_id)
    if original is not None and original.flags & LOADING and not original.deleted:
        original.apply_edit(body)
        msg = original
        attach_files(core, msg, call.files)
    else:
        guild = None if sent.guild_id is None else core.state.guilds.get(sent.guild_id)
        flags = int(body.get("flags") or 0) & _MESSAGE_FLAGS
        msg = new_message(core, guild, sent.channel_id, body | {"flags": flags}, "followup")
        msg.interaction_id = sent.id
        attach_files(core, msg, call.files)
    if call.query.get("wait") in ("1", "true", "True"):
        return Reply(body=msg.payload())
    return Reply(204)


def _webhook_message(core: RestCore, call: Call) -> StoredMessage:
    """``@original`` or a follow-up id belonging to this interaction."""
    sent = _webhook_interaction(core, call)
    ref = call.args["message_id"]
    message_id = (
        sent.original_message_id if ref == "@original" else int(ref) if ref.isdigit() else None
    )
    if message_id is None:
        raise ApiError(404, 10008, "Unknown Message")
    msg = core.message(message_id)
    if msg.interaction_id != sent.id:
        raise ApiError(404, 10008, "Unknown Message")
    return msg


async def get_webhook_message(core: RestCore, call: Call) -> Reply:
    """GET /webhooks/{app}/{token}/messages/{id|@original}."""
    return Reply(body=_webhook_message(core, call).payload())


async def patch_webhook_message(core: RestCore, call: Call) -> Reply:
    """PATCH /webhooks/{app}/{token}/messages/{id|@original}."""
    msg = _webhook_message(core, call)
    body = call.json_body()
    check_message(body, partial=True)
    msg.apply_edit(body)
    return Reply(body=msg.payload())


async def delete_webhook_message(core: RestCore, call: Call) -> Reply:
    """DELETE /webhooks/{app}/{token}/messages/{id|@original}."""
    _webhook_message(core, call).deleted = True
    return Reply(204)


def register(core: RestCore) -> None:
    """Add this module's routes to the core's router."""
    add = core.router.add
    for base in (
        "/applications/{application_id}",
        "/applications/{application_id}/guilds/{guild_id}",
    ):
        add("GET", f"{base}/commands", get_commands)
        add("PUT", f"{base}/commands", put_commands)
        add("POST", f"{base}/commands", post_command)
        add("GET", f"{base}/commands/{{command_id}}", get_command)
        add("DELETE", f"{base}/commands/{{command_id}}", delete_command)
    add("POST", "/interactions/{interaction_id}/{token}/callback", post_callback)
    hook = "/webhooks/{application_id}/{token}"
    add("POST", hook, post_followup)
    add("GET", f"{hook}/messages/{{message_id}}", get_webhook_message)
    add("PATCH", f"{hook}/messages/{{message_id}}", patch_webhook_message)
    add("DELETE", f"{hook}/messages/{{message_id}}", delete_webhook_message)
