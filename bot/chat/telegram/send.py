"""Posting to Telegram: HTML messages within flood limits, 429s waited out (within bounds),
lost chats named."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.chat.telegram.flood import (
    TELEGRAM_FLOOD_RETRIES,
    FloodGate,
    FloodLimited,
    FloodRetries,
)

log = logging.getLogger(__name__)
PREFIX = "telegram:"
_CHANNEL_ID = re.compile(r"telegram:(-?\d{1,20})(?:/(\d{1,20}))?")
# BadRequest texts meaning the bot can't post there any more (the rest are bugs or glitches).
_GONE = ("chat not found", "message thread not found", "topic_deleted", "topic_closed",
         "need administrator rights", "not enough rights", "chat_write_forbidden",
         "have no rights to send", "group chat was deactivated")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True, slots=True)
class Target:
    """A chat, or one forum topic of it."""

    chat_id: int
    thread_id: int | None = None

    @property
    def channel_id(self) -> str:
        """`telegram:<chat>` or `telegram:<chat>/<topic>`."""
        topic = f"/{self.thread_id}" if self.thread_id is not None else ""
        return f"{PREFIX}{self.chat_id}{topic}"


def parse_target(channel_id: str) -> Target | None:
    """The chat and topic of a `telegram:...` channel id, None for other platforms."""
    match = _CHANNEL_ID.fullmatch(channel_id)
    if match is None:
        return None
    topic = match.group(2)
    return Target(int(match.group(1)), int(topic) if topic else None)


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait (an int or a timedelta, by PTB_TIMEDELTA)."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def gone_reason(error: TelegramError) -> str | None:
    """Why the bot can no longer post to a chat, or None when the error is something else."""
    if isinstance(error, Forbidden):
        return f"Telegram: {error.message}"
    if isinstance(error, ChatMigrated):
        return (f"Telegram: the group became a supergroup; its id is now "
                f"telegram:{error.new_chat_id}")
    if isinstance(error, BadRequest) and any(p in error.message.lower() for p in _GONE):
        return f"Telegram: {error.message}"
    return None


def refusal_reason(error: TelegramError) -> str | None:
    """Why Telegram refuses a message for good (a 400 that is not a lost chat), or None when
    the error is worth another try (network, 5xx, flood control) or means the chat is gone."""
    if isinstance(error, BadRequest) and gone_reason(error) is None:
        return f"Telegram: {error.message}"
    return None


def gave_up(target: Target, attempts: int, waited: float, asked: float) -> FloodLimited:
    """The error for a message flood control held up past the bounds."""
    return FloodLimited(f"telegram: flood control in {target.channel_id} after {attempts} "
                        f"tries and {waited:.0f} s waited (Telegram asks for {asked:.0f} s "
                        "more); the message was not sent")


class Poster:
    """Sends HTML messages in turn; a flood-control answer is waited out and sent again, up to
    the bounds of FloodRetries, past which the send fails with FloodLimited."""

    def __init__(self, bot: Bot, gate: FloodGate,
                 retries: FloodRetries = TELEGRAM_FLOOD_RETRIES) -> None:
        self._bot = bot
        self._gate = gate
        self._retries = retries

    async def post(self, target: Target, html: str, reply_to: int | None = None,
                   keyboard: InlineKeyboardMarkup | None = None) -> int:
        """Send one HTML message (previews off, into the topic); returns its message id."""
        reply = (None if reply_to is None
                 else ReplyParameters(reply_to, allow_sending_without_reply=True))
        return await self._send(target, lambda: self._bot.send_message(
            target.chat_id, html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
            message_thread_id=target.thread_id, reply_parameters=reply, reply_markup=keyboard))

    async def post_plain(self, target: Target, text: str) -> int:
        """Send one message as plain text (no parse mode, previews off); its message id."""
        return await self._send(target, lambda: self._bot.send_message(
            target.chat_id, text, link_preview_options=NO_PREVIEW,
            message_thread_id=target.thread_id))

    async def upload(self, target: Target, name: str, data: bytes,
                     reply_to: int | None = None) -> int:
        """Send one file as a document (into the topic); returns its message id."""
        reply = (None if reply_to is None
                 else ReplyParameters(reply_to, allow_sending_without_reply=True))
        return await self._send(target, lambda: self._bot.send_document(
            target.chat_id, InputFile(data, filename=name), message_thread_id=target.thread_id,
            reply_parameters=reply))

    async def _send(self, target: Target, call: Callable[[], Awaitable[Message]]) -> int:
        """Make the call in turn, waiting out 429s; FloodLimited once the bounds are reached."""
        waited = 0.0
        for attempt in range(1, self._retries.attempts + 1):
            await self._gate.wait_turn(target.chat_id)
            try:
                message = await call()
            except RetryAfter as error:
                wait = retry_seconds(error)
                if attempt == self._retries.attempts or waited + wait > self._retries.max_wait_s:
                    raise gave_up(target, attempt, waited, wait) from error
                log.warning("telegram: flood control in %s: waiting %.0f s", target.channel_id,
                            wait)
                await asyncio.sleep(wait)
                waited += wait
            else:
                return message.message_id
        raise AssertionError("unreachable: FloodRetries has at least one attempt")

    async def set_keyboard(self, chat_id: int, message_id: int,
                           keyboard: InlineKeyboardMarkup | None) -> None:
        """Change (or, with None, remove) the buttons under a message; a failure is only logged."""
        try:
            await self._gate.wait_turn(chat_id)
            await self._bot.edit_message_reply_markup(chat_id, message_id, reply_markup=keyboard)
        except TelegramError as error:  # the buttons stay; pressing one again is harmless
            log.warning("telegram: can't change the buttons of %s in %s: %s", message_id,
                        chat_id, error)
