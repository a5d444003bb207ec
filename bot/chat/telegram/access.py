"""Who asked on Telegram and where: chat admins (cached), anonymous admins, named targets."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, ChatMember, Message
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.chat.commands import split_command
from bot.chat.request import Caller, UserError
from bot.chat.telegram.send import PREFIX, Target
from bot.ports import Clock

log = logging.getLogger(__name__)
ADMIN_CACHE_FOR = timedelta(minutes=5)
MAX_CACHED = 10_000
ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
MEMBER_STATUSES = ADMIN_STATUSES | {ChatMemberStatus.MEMBER}
# A chat named from a private chat: @username, or a numeric id with an optional topic.
_NAMED_TARGET = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-\d{1,20}(?:/\d{1,20})?")


@dataclass(frozen=True, slots=True)
class Standing:
    """Whether a user is in a chat, and whether they administer it."""

    is_member: bool
    is_admin: bool


UNKNOWN = Standing(is_member=False, is_admin=False)


def standing_of(member: ChatMember) -> Standing:
    """A member's standing: creator and administrators administer; restricted ones may be in."""
    is_member = member.status in MEMBER_STATUSES or bool(getattr(member, "is_member", False))
    return Standing(is_member, member.status in ADMIN_STATUSES)


class Admins:
    """A user's standing in a chat (getChatMember), remembered for a few minutes."""

    def __init__(self, bot: Bot, clock: Clock) -> None:
        self._bot = bot
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[Standing, datetime]] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """True for the chat's creator and administrators; False when Telegram can't tell."""
        return (await self.standing(chat_id, user_id)).is_admin

    async def standing(self, chat_id: int, user_id: int) -> Standing:
        """Whether the user is in the chat and administers it; neither when Telegram can't tell."""
        now = self._clock()
        known = self._known.get((chat_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except TelegramError as error:
            log.warning("telegram: can't check %s in chat %s: %s", user_id, chat_id, error)
            return UNKNOWN
        answer = standing_of(member)
        if len(self._known) >= MAX_CACHED:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
        self._known[(chat_id, user_id)] = (answer, now + ADMIN_CACHE_FOR)
        return answer


def message_target(message: Message) -> Target:
    """The chat a message was written in, and its forum topic when it has one."""
    thread = message.message_thread_id if message.is_topic_message else None
    return Target(message.chat.id, thread)


def sender_id(message: Message) -> str:
    """`telegram:<user id>`, or the chat posted as (anonymous admins, channels)."""
    if message.sender_chat is not None:
        return f"{PREFIX}{message.sender_chat.id}"
    user = message.from_user
    return f"{PREFIX}{user.id if user else message.chat.id}"


class Access:
    """Turns a command message into the Caller and command line the commands module runs."""

    def __init__(self, bot: Bot, admins: Admins, targeted: Collection[str]) -> None:
        self._bot = bot
        self._admins = admins
        self._targeted = frozenset(targeted)

    async def caller(self, message: Message) -> tuple[Caller, str]:
        """Who asked, for which channel, and the command line to run there.

        In a private chat the user moderates that chat, and may name a group or channel
        they administer as the first argument: `/feed @mychannel add <url>`.
        """
        text = message.text or message.caption or ""  # a document's caption is its command
        if message.chat.type == ChatType.PRIVATE:
            return await self._private(message, text)
        caller = Caller(message_target(message).channel_id, sender_id(message),
                        await self._is_moderator(message))
        return caller, text

    async def presser(self, message: Message, user_id: int) -> Caller:
        """Who pressed a button under a bot message: a member of that chat, or UserError.

        Asked again on every press (through the few-minute cache): the button runs with the
        presser's standing, never with that of whoever sent the command it answers.
        """
        here = message_target(message).channel_id
        if message.chat.type == ChatType.PRIVATE:
            return Caller(here, f"{PREFIX}{user_id}", True, is_private=True)
        standing = await self._admins.standing(message.chat.id, user_id)
        if not standing.is_member:
            raise UserError("Only members of this chat can use its buttons.")
        return Caller(here, f"{PREFIX}{user_id}", standing.is_admin)

    async def _is_moderator(self, message: Message) -> bool:
        if message.sender_chat is not None:  # an anonymous admin posts as the group itself
            return message.sender_chat.id == message.chat.id
        user = message.from_user
        return user is not None and await self._admins.is_admin(message.chat.id, user.id)

    async def _private(self, message: Message, text: str) -> tuple[Caller, str]:
        user_id = message.from_user.id if message.from_user else message.chat.id
        here = Caller(message_target(message).channel_id, f"{PREFIX}{user_id}", True,
                      is_private=True)
        name, rest = split_command(text)
        first, _, remainder = rest.partition(" ")
        if name not in self._targeted or not _NAMED_TARGET.fullmatch(first):
            return here, text
        target = await self._named_target(first, user_id)
        caller = Caller(target.channel_id, here.user_id, True)
        return caller, f"/{name} {remainder.strip()}".strip()

    async def _named_target(self, ref: str, user_id: int) -> Target:
        chat_ref, _, topic = ref.partition("/")
        try:
            chat = await self._bot.get_chat(chat_ref if chat_ref.startswith("@") else int(chat_ref))
        except (BadRequest, Forbidden):
            raise UserError(f"I can't see {chat_ref}: add me to it (in a channel, as an "
                            "administrator), then try again.") from None
        if chat.type == ChatType.PRIVATE:
            raise UserError(f"{chat_ref} is a private chat; name a group or a channel.")
        if not await self._admins.is_admin(chat.id, user_id):
            raise UserError(f"Only administrators of {chat_ref} can change its news.")
        return Target(chat.id, int(topic) if topic else None)
