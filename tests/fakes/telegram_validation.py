"""Checks the fake Bot API applies to what the bot sends, with the real server's answers.

Chat reachability (403s), forum threads, reply targets, inline keyboards, parse_mode (HTML
fully parsed) and the 4096 UTF-16 code unit limit; shared by text messages and documents.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram_entities import trim, utf16_len
from tests.fakes.telegram_html import EntityParseError, parse_html
from tests.fakes.telegram_state import ApiError, FakeState, Params, bad_request
from tests.fakes.telegram_world import JSON, FakeChat

MAX_TEXT = 4096
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip


def require_chat(state: FakeState, params: Params) -> FakeChat:
    """The chat named by ``chat_id``; 400 if missing or unknown."""
    ref = params.text("chat_id")
    if not ref:
        raise bad_request("chat_id is empty")
    chat = state.world.find_chat(ref)
    if chat is None:
        raise bad_request("chat not found")
    return chat


def writable_chat(state: FakeState, params: Params) -> FakeChat:
    """The chat, if the bot may post there; otherwise Telegram's 403 for the situation."""
    chat = require_chat(state, params)
    if chat.type == "private":
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat
    if chat.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
    if chat.bot_status == "left":
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    if chat.type == "channel" and chat.bot_status not in ("creator", "administrator"):
        raise bad_request("need administrator rights in the channel chat")
    member = chat.members.get(state.world.bot.id)
    if member and member.status == "restricted" and not member.rights.get("can_send_messages"):
        raise bad_request("not enough rights to send text messages to the chat")
    return chat


def message_thread(chat: FakeChat, params: Params) -> int | None:
    """Validate ``message_thread_id``: must be a topic of a forum (ignored in other chats)."""
    thread_id = params.integer("message_thread_id")
    if thread_id is None or chat.type not in ("supergroup",):
        return None
    known = chat.topics if chat.is_forum else chat.messages
    if thread_id not in known:
        raise bad_request("message thread not found")
    return thread_id


def reply_target(chat: FakeChat, params: Params) -> JSON | None:
    """The message replied to (reply_parameters or legacy reply_to_message_id)."""
    reply = params.decoded("reply_parameters", "reply parameters") or {}
    message_id = reply.get("message_id", params.integer("reply_to_message_id"))
    if message_id is None:
        return None
    allow_missing = reply.get("allow_sending_without_reply") or params.flag(
        "allow_sending_without_reply"
    )
    target = chat.messages.get(int(message_id))
    if target is None and not allow_missing:
        raise bad_request("message to be replied not found")
    return target


def _check_button(button: Any) -> None:
    """One inline keyboard button: a text, exactly the actions Telegram knows, valid data."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [key for key in BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def reply_markup(params: Params) -> JSON | None:
    """Decode and validate ``reply_markup``; inline keyboards are checked button by button."""
    markup = params.decoded("reply_markup", "reply keyboard markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def parse_text(params: Params, field: str = "text") -> tuple[str, list[JSON], str | None]:
    """Apply parse_mode; return plain text, entities and the parse mode used."""
    raw = params.text(field) or ""
    if not raw:
        raise bad_request("message text is empty")
    mode = params.text("parse_mode") or None
    if mode is None or mode.lower() in ("markdown", "markdownv2"):
        # Markdown is not validated by the fake; the text is taken as is.
        entities = params.decoded("entities") or []
        text = raw
    elif mode.lower() == "html":
        try:
            text, parsed = trim(*parse_html(raw))
        except EntityParseError as err:
            raise bad_request(f"can't parse entities: {err}") from None
        entities = [e.to_json() for e in parsed]
    else:
        raise bad_request("unsupported parse_mode")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities, mode


def link_preview_disabled(params: Params) -> bool:
    """Link previews are off: ``link_preview_options.is_disabled`` or the legacy flag."""
    options = params.decoded("link_preview_options", "link preview options") or {}
    return bool(options.get("is_disabled")) or params.flag("disable_web_page_preview")
