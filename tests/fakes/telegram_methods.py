"""Bot API method handlers of the fake: chats, members, commands, updates.

Message sending and editing live in :mod:`tests.fakes.telegram_messages`, webhooks in
:mod:`tests.fakes.telegram_webhook`. Every handler takes
the shared state and the request parameters and returns the ``result`` value, or raises
:class:`ApiError` with the wording the real server uses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.fakes.telegram_files import get_file, send_document
from tests.fakes.telegram_messages import (
    answer_callback_query,
    delete_message,
    edit_message_reply_markup,
    edit_message_text,
    send_chat_action,
    send_message,
)
from tests.fakes.telegram_state import (
    CONFLICT,
    ApiError,
    FakeState,
    IssuedQuery,
    Params,
    bad_request,
)
from tests.fakes.telegram_validation import require_chat
from tests.fakes.telegram_webhook import (
    WEBHOOK_CONFLICT,
    delete_webhook,
    get_webhook_info,
    set_webhook,
)
from tests.fakes.telegram_world import JSON, FakeChat

Handler = Callable[[FakeState, Params], Awaitable[Any]]
COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
LANGUAGE_RE = re.compile(r"(|[a-z]{2})")
SCOPES_WITH_CHAT = ("chat", "chat_administrators", "chat_member")
GLOBAL_SCOPES = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")


async def get_me(state: FakeState, params: Params) -> JSON:
    """getMe: the bot user with its capabilities."""
    return state.world.bot.to_json() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(state: FakeState, params: Params) -> list[JSON]:
    """getUpdates: confirm by offset, filter future updates, long-poll up to ``timeout``."""
    if state.webhook is not None:
        raise ApiError(409, WEBHOOK_CONFLICT)
    queue = state.updates
    queue.poll_generation += 1
    generation = queue.poll_generation
    state.signal.fire()  # a waiting older getUpdates call is terminated with 409
    allowed = params.decoded("allowed_updates")
    if allowed is not None:
        queue.allowed = frozenset(allowed)
    queue.confirm(params.integer("offset") or 0)
    state.signal.fire()
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = max(params.integer("timeout") or 0, 0)

    def ready() -> bool:
        return bool(queue.pending) or state.closing or queue.poll_generation != generation

    await state.signal.wait_until(ready, timeout)
    if queue.poll_generation != generation:
        raise ApiError(409, CONFLICT)
    batch = queue.pending[:limit]
    queue.delivered.extend(u for u in batch if u not in queue.delivered)
    return batch


def _scope_key(state: FakeState, params: Params) -> tuple[tuple[Any, ...], str]:
    """Normalise ``scope`` and ``language_code`` into the key commands are stored under."""
    language = params.text("language_code") or ""
    if not LANGUAGE_RE.fullmatch(language):
        raise bad_request("invalid language code specified")
    scope = params.decoded("scope", "BotCommandScope") or {"type": "default"}
    kind = scope.get("type")
    if kind in GLOBAL_SCOPES:
        return (kind,), language
    if kind not in SCOPES_WITH_CHAT:
        raise bad_request("unsupported bot command scope type")
    chat = state.world.find_chat(scope.get("chat_id", ""))
    if chat is None:
        raise bad_request("chat not found")
    if kind != "chat_member":
        return (kind, chat.id), language
    user_id = scope.get("user_id")
    if user_id not in state.world.users:
        raise bad_request("user not found")
    return (kind, chat.id, int(user_id)), language


def _validate_commands(commands: Any) -> list[JSON]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


async def set_my_commands(state: FakeState, params: Params) -> bool:
    """setMyCommands: store the list per (scope, language_code); empty list deletes."""
    commands = _validate_commands(params.decoded("commands"))
    key = _scope_key(state, params)
    if commands:
        state.commands[key] = commands
    else:
        state.commands.pop(key, None)
    state.signal.fire()
    return True


async def get_my_commands(state: FakeState, params: Params) -> list[JSON]:
    """getMyCommands: exactly the list stored for that scope and language (no fallback)."""
    return state.commands.get(_scope_key(state, params), [])


async def delete_my_commands(state: FakeState, params: Params) -> bool:
    """deleteMyCommands: forget the list of that scope and language."""
    state.commands.pop(_scope_key(state, params), None)
    state.signal.fire()
    return True


def _readable_chat(state: FakeState, params: Params) -> FakeChat:
    chat = require_chat(state, params)
    if chat.type != "private" and chat.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
    return chat


async def get_chat(state: FakeState, params: Params) -> JSON:
    """getChat: ChatFullInfo."""
    return _readable_chat(state, params).full_info()


async def get_chat_member(state: FakeState, params: Params) -> JSON:
    """getChatMember: the user's status (``left`` for a known user who isn't in the chat)."""
    chat = _readable_chat(state, params)
    user_id = params.integer("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    member = state.world.member(chat, user_id)
    if member is None:
        raise bad_request("user not found")
    return member.to_json()


async def get_chat_administrators(state: FakeState, params: Params) -> list[JSON]:
    """getChatAdministrators: creator and administrators, anonymous ones included."""
    chat = _readable_chat(state, params)
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [m.to_json() for m in chat.members.values() if m.is_admin]


async def get_chat_member_count(state: FakeState, params: Params) -> int:
    """getChatMemberCount: members that are in the chat."""
    chat = _readable_chat(state, params)
    present = ("creator", "administrator", "member", "restricted")
    return sum(m.status in present for m in chat.members.values())


async def close_or_log_out(state: FakeState, params: Params) -> bool:
    """close / logOut: accepted and recorded, nothing else."""
    return True


HANDLERS: dict[str, Handler] = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendmessage": send_message,
    "senddocument": send_document,
    "getfile": get_file,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "sendchataction": send_chat_action,
    "answercallbackquery": answer_callback_query,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchatmembercount": get_chat_member_count,
    "close": close_or_log_out,
    "logout": close_or_log_out,
}


def visible_commands(
    state: FakeState, chat_id: int, user_id: int, language_code: str = ""
) -> list[JSON]:
    """The command menu ``user_id`` sees in ``chat_id``: Telegram's documented resolution order."""
    chat = state.world.chats[chat_id]
    member = state.world.member(chat, user_id)
    is_admin = member is not None and member.is_admin
    if chat.type == "private":
        scopes: list[tuple[Any, ...]] = [("chat", chat_id), ("all_private_chats",)]
    else:
        scopes = [("chat_member", chat_id, user_id)]
        scopes += [("chat_administrators", chat_id)] if is_admin else []
        scopes += [("chat", chat_id)]
        scopes += [("all_chat_administrators",)] if is_admin else []
        scopes += [("all_group_chats",)]
    for scope in [*scopes, ("default",)]:
        for language in (language_code, "") if language_code else ("",):
            if (scope, language) in state.commands:
                return state.commands[(scope, language)]
    return []


def issue_query(state: FakeState, query_id: str, user_id: int) -> None:
    """Remember an injected callback query so answerCallbackQuery can be checked."""
    state.queries[query_id] = IssuedQuery(state.world.users[user_id], time.monotonic())
