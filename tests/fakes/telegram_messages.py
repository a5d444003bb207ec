"""Message handlers of the fake: sendMessage, edits, deleteMessage, callbacks.

Validation follows the real server: chat reachability (403s), forum threads, reply targets,
inline keyboards, parse_mode (HTML fully parsed) and the 4096 UTF-16 code unit limit.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from tests.fakes.telegram_entities import trim, utf16_len
from tests.fakes.telegram_html import EntityParseError, parse_html
from tests.fakes.telegram_state import (
    ApiError,
    CallbackAnswer,
    FakeState,
    Params,
    SentMessage,
    bad_request,
)
from tests.fakes.telegram_world import JSON, FakeChat

MAX_TEXT = 4096
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


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


def _thread(chat: FakeChat, params: Params) -> int | None:
    """Validate ``message_thread_id``: must be a topic of a forum (ignored in other chats)."""
    thread_id = params.integer("message_thread_id")
    if thread_id is None or chat.type not in ("supergroup",):
        return None
    known = chat.topics if chat.is_forum else chat.messages
    if thread_id not in known:
        raise bad_request("message thread not found")
    return thread_id


def _reply_target(chat: FakeChat, params: Params) -> JSON | None:
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


def _reply_markup(params: Params) -> JSON | None:
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


def _link_preview_disabled(params: Params) -> bool:
    options = params.decoded("link_preview_options", "link preview options") or {}
    return bool(options.get("is_disabled")) or params.flag("disable_web_page_preview")


def _message_json(state: FakeState, chat: FakeChat, record: SentMessage) -> JSON:
    """The Message object the server returns (and stores) for a bot message."""
    message: JSON = {"message_id": record.message_id, "date": int(time.time())}
    if chat.type == "channel":
        message["sender_chat"] = chat.to_json()
    else:
        message["from"] = state.world.bot.to_json()
    message |= {"chat": chat.to_json(), "text": record.text}
    if record.entities:
        message["entities"] = record.entities
    if record.thread_id is not None:
        message |= {"message_thread_id": record.thread_id, "is_topic_message": chat.is_forum}
    reply_to = record.reply_to_message_id or record.thread_id
    if reply_to is not None and reply_to in chat.messages:
        message["reply_to_message"] = _without_reply(chat.messages[reply_to])
    if record.reply_markup and "inline_keyboard" in record.reply_markup:
        message["reply_markup"] = {"inline_keyboard": record.reply_markup["inline_keyboard"]}
    return message


def _without_reply(message: JSON) -> JSON:
    return {k: v for k, v in message.items() if k != "reply_to_message"}


async def send_message(state: FakeState, params: Params) -> JSON:
    """sendMessage: validate everything, record the message, return the Message."""
    chat = writable_chat(state, params)
    thread_id = _thread(chat, params)
    target = _reply_target(chat, params)
    markup = _reply_markup(params)
    text, entities, mode = parse_text(params)
    record = SentMessage(
        chat_id=chat.id,
        message_id=chat.new_message_id(),
        text=text,
        raw_text=params.text("text") or "",
        parse_mode=mode,
        entities=entities,
        thread_id=thread_id,
        link_preview_disabled=_link_preview_disabled(params),
        reply_markup=markup,
        reply_to_message_id=target["message_id"] if target else None,
        disable_notification=params.flag("disable_notification"),
    )
    message = _message_json(state, chat, record)
    chat.messages[record.message_id] = message
    state.sent.append(record)
    state.signal.fire()
    return message


def _find_record(state: FakeState, chat_id: int, message_id: int) -> SentMessage | None:
    for record in reversed(state.sent):
        if (record.chat_id, record.message_id) == (chat_id, message_id):
            return record
    return None


def _editable(state: FakeState, params: Params) -> tuple[FakeChat, SentMessage]:
    """The chat and the bot message an edit names (inline_message_id is not supported)."""
    if params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = writable_chat(state, params)
    message_id = params.integer("message_id")
    if message_id is None or message_id not in chat.messages:
        raise bad_request("message to edit not found")
    record = _find_record(state, chat.id, message_id)
    if record is None:
        raise bad_request("message can't be edited")
    return chat, record


def _store_edit(state: FakeState, chat: FakeChat, record: SentMessage, edited: SentMessage
                ) -> JSON:
    """Record an accepted edit and return the Message as it now is."""
    state.sent[state.sent.index(record)] = edited
    state.edits.append(edited)
    message = _message_json(state, chat, edited) | {"edit_date": int(time.time())}
    chat.messages[edited.message_id] = message
    state.signal.fire()
    return message


async def edit_message_text(state: FakeState, params: Params) -> JSON:
    """editMessageText for chat messages."""
    chat, record = _editable(state, params)
    markup = _reply_markup(params)
    text, entities, mode = parse_text(params)
    if (text, entities, markup) == (record.text, record.entities, record.reply_markup):
        raise bad_request(NOT_MODIFIED)
    edited = dataclasses.replace(
        record,
        text=text,
        raw_text=params.text("text") or "",
        parse_mode=mode,
        entities=entities,
        reply_markup=markup,
        link_preview_disabled=_link_preview_disabled(params),
    )
    return _store_edit(state, chat, record, edited)


async def edit_message_reply_markup(state: FakeState, params: Params) -> JSON:
    """editMessageReplyMarkup: a new inline keyboard, or none when reply_markup is absent."""
    chat, record = _editable(state, params)
    markup = _reply_markup(params)
    if markup == record.reply_markup:
        raise bad_request(NOT_MODIFIED)
    return _store_edit(state, chat, record, dataclasses.replace(record, reply_markup=markup))


async def delete_message(state: FakeState, params: Params) -> bool:
    """deleteMessage: the message must exist in that chat."""
    chat = writable_chat(state, params)
    message_id = params.integer("message_id")
    if message_id is None or chat.messages.pop(message_id, None) is None:
        raise bad_request("message to delete not found")
    state.deleted.append((chat.id, message_id))
    state.signal.fire()
    return True


async def send_chat_action(state: FakeState, params: Params) -> bool:
    """sendChatAction: same reachability checks as sending, plus a known action."""
    writable_chat(state, params)
    if params.text("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def answer_callback_query(state: FakeState, params: Params) -> bool:
    """answerCallbackQuery: only once per injected query, within the timeout."""
    query_id = params.text("callback_query_id") or ""
    issued = state.queries.get(query_id)
    expired = issued is None or time.monotonic() - issued.issued_at > state.callback_timeout
    if issued is None or issued.answered or expired:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    issued.answered = True
    answer = CallbackAnswer(
        query_id,
        params.text("text"),
        params.flag("show_alert"),
        params.text("url"),
        params.integer("cache_time"),
    )
    state.callback_answers.append(answer)
    state.signal.fire()
    return True
