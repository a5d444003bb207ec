"""Message handlers of the fake: sendMessage, edits, deleteMessage, callbacks.

What the bot sends is checked as the real server does by :mod:`telegram_validation`.
"""

from __future__ import annotations

import dataclasses
import time

from tests.fakes.telegram_state import CallbackAnswer, FakeState, Params, SentMessage, bad_request
from tests.fakes.telegram_validation import (
    link_preview_disabled,
    message_thread,
    parse_text,
    reply_markup,
    reply_target,
    writable_chat,
)
from tests.fakes.telegram_world import JSON, FakeChat

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
    thread_id = message_thread(chat, params)
    target = reply_target(chat, params)
    markup = reply_markup(params)
    text, entities, mode = parse_text(params)
    record = SentMessage(
        chat_id=chat.id,
        message_id=chat.new_message_id(),
        text=text,
        raw_text=params.text("text") or "",
        parse_mode=mode,
        entities=entities,
        thread_id=thread_id,
        link_preview_disabled=link_preview_disabled(params),
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
    markup = reply_markup(params)
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
        link_preview_disabled=link_preview_disabled(params),
    )
    return _store_edit(state, chat, record, edited)


async def edit_message_reply_markup(state: FakeState, params: Params) -> JSON:
    """editMessageReplyMarkup: a new inline keyboard, or none when reply_markup is absent."""
    chat, record = _editable(state, params)
    markup = reply_markup(params)
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
