"""Files in the fake: documents users send, getFile, downloads and the bot's sendDocument."""

from __future__ import annotations

import time

from aiohttp import web

from tests.fakes.telegram_state import (
    FakeState,
    Params,
    SentDocument,
    StoredFile,
    bad_request,
)
from tests.fakes.telegram_validation import message_thread, reply_target, writable_chat
from tests.fakes.telegram_world import JSON, FakeChat

MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit


def store_file(state: FakeState, filename: str, data: bytes) -> StoredFile:
    """Keep a user's file so getFile and the download route can serve it."""
    number = len(state.files) + 1
    stored = StoredFile(f"BQACAgIAAxkBAAI{number:06d}", f"AgAD{number:06d}",
                        f"documents/file_{number}_{filename}", data)
    state.files[stored.file_id] = stored
    return stored


def document_json(stored: StoredFile, filename: str, mime_type: str) -> JSON:
    """The Document object of a message carrying this file."""
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_name": filename, "mime_type": mime_type, "file_size": len(stored.data)}


def with_caption(message: JSON) -> JSON:
    """A user's text message turned into a media message's caption (entities included)."""
    caption = {"caption": message.pop("text")}
    if "entities" in message:
        caption["caption_entities"] = message.pop("entities")
    return message | caption


async def get_file(state: FakeState, params: Params) -> JSON:
    """getFile: the file's path for the download route; 400 for unknown or too large."""
    stored = state.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data), "file_path": stored.file_path}


def download(state: FakeState, file_path: str) -> web.Response:
    """GET /file/bot<token>/<file_path>: the file's bytes (recorded), else 404."""
    for stored in state.files.values():
        if stored.file_path == file_path:
            state.downloads.append(file_path)
            return web.Response(body=stored.data, content_type="application/octet-stream")
    return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                             status=404)


async def send_document(state: FakeState, params: Params) -> JSON:
    """sendDocument with a multipart upload: record the file's name and bytes."""
    chat = writable_chat(state, params)
    upload = params.raw.get("document")
    if not isinstance(upload, web.FileField):
        raise bad_request("there is no document in the request")
    target = reply_target(chat, params)
    record = SentDocument(chat.id, chat.new_message_id(), upload.filename, upload.file.read(),
                          params.text("caption") or "", message_thread(chat, params),
                          target["message_id"] if target else None)
    stored = store_file(state, record.filename, record.data)
    message = _document_message(state, chat, record, stored)
    chat.messages[record.message_id] = message
    state.documents.append(record)
    state.signal.fire()
    return message


def _document_message(state: FakeState, chat: FakeChat, record: SentDocument,
                      stored: StoredFile) -> JSON:
    message: JSON = {"message_id": record.message_id, "date": int(time.time()),
                     "chat": chat.to_json(),
                     "document": document_json(stored, record.filename, "application/xml")}
    if chat.type == "channel":
        message["sender_chat"] = chat.to_json()
    else:
        message["from"] = state.world.bot.to_json()
    if record.caption:
        message["caption"] = record.caption
    if record.thread_id is not None:
        message |= {"message_thread_id": record.thread_id, "is_topic_message": chat.is_forum}
    return message
