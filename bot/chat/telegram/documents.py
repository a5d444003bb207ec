"""OPML files on Telegram: a document captioned `/feed import` is read as the command's file."""

from __future__ import annotations

import re

from telegram import Bot, Document
from telegram.error import TelegramError

from bot.chat.feed_transfer import MAX_ATTACHMENT_BYTES, file_too_large
from bot.chat.request import Caller, UserError
from bot.model import Attachment

# `/feed import`, `/feed@bot import`, or from a private chat `/feed @channel import`.
IMPORT_CAPTION = re.compile(r"/feed(?:@(\w+))?\s+(?:\S+\s+)?import\b", re.IGNORECASE)


def is_import_caption(caption: str | None, username: str) -> bool:
    """Whether a caption asks this bot (not another one named in it) to import the file."""
    match = IMPORT_CAPTION.match((caption or "").strip())
    if match is None:
        return False
    named = match.group(1)
    return named is None or named.casefold() == username.casefold()


async def read_document(bot: Bot, caller: Caller, document: Document) -> Attachment | None:
    """The document's bytes for a moderator (None for anyone else: commands refuses them).

    The announced size is checked before anything is downloaded.
    """
    if not caller.is_moderator:
        return None
    name = document.file_name or "file.opml"
    if document.file_size is not None and document.file_size > MAX_ATTACHMENT_BYTES:
        raise UserError(file_too_large(name, document.file_size))
    try:
        file = await bot.get_file(document.file_id)
        if file.file_size is not None and file.file_size > MAX_ATTACHMENT_BYTES:
            raise UserError(file_too_large(name, file.file_size))
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        raise UserError(f"Can't download {name} from Telegram: {error.message}.") from None
    return Attachment(name, data)
