"""Replies with "More" and "Related" buttons, and each press run as the presser's own lookup."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message

from bot.chat.commands import Commands
from bot.chat.request import Caller, UserError
from bot.chat.telegram.access import Access, message_target
from bot.chat.telegram.lookups import RELATED, Lookup, Lookups, keyboard, without_button
from bot.chat.telegram.render import render_telegram
from bot.chat.telegram.send import Poster, Target
from bot.model import Reply

log = logging.getLogger(__name__)
EXPIRED = "This button has expired; send the command again."
PRESSED = "Someone pressed this button already."
NO_MORE = "No more stories."
APOLOGY = "Sorry, something went wrong; the error has been logged."
Page = tuple[Reply, Lookup | None, int]  # what to post, its own lookup, its first number


class Buttons:
    """Posts replies (lookups with their buttons) and answers button presses."""

    def __init__(self, commands: Commands, access: Access, poster: Poster,
                 lookups: Lookups | None = None) -> None:
        self._commands = commands
        self._access = access
        self._poster = poster
        self._lookups = lookups or Lookups()

    async def post(self, target: Target, reply_to: int, reply: Reply,
                   lookup: Lookup | None = None, first: int = 1) -> None:
        """Send the reply (in as many messages as it needs), the buttons under the last one."""
        markup = keyboard(self._lookups.remember(lookup), lookup) if lookup else None
        pages = render_telegram(reply, first=first)
        for index, html in enumerate(pages):
            await self._poster.post(target, html, reply_to if index == 0 else None,
                                    markup if index == len(pages) - 1 else None)
        if reply.file is not None:
            await self._poster.upload(target, reply.file.name, reply.file.data, reply_to)

    async def press(self, query: CallbackQuery) -> None:
        """Run the pressed button's lookup for whoever pressed it, and always answer the press."""
        message = query.message
        found = (self._lookups.find(query.data or "", message.chat.id)
                 if isinstance(message, Message) else None)  # else older than 48 h
        if found is None or not isinstance(message, Message):
            await query.answer(EXPIRED)
            return
        action, key, lookup = found
        if not self._lookups.claim(key, action):
            await query.answer(PRESSED)
            return
        try:
            caller = await self._access.presser(message, query.from_user.id)
            reply, following, first = await self._run(caller, action, lookup)
        except Exception as error:
            self._lookups.release(key, action)
            if not isinstance(error, UserError):
                log.exception("telegram: the %s button in chat %s failed", action, message.chat.id)
            await query.answer(str(error) if isinstance(error, UserError) else APOLOGY)
            return
        await query.answer()
        await self.post(message_target(message), message.message_id, reply, following, first)
        remaining = without_button(message.reply_markup, query.data or "")
        await self._poster.set_keyboard(message.chat.id, message.message_id, remaining)

    async def _run(self, caller: Caller, action: str, lookup: Lookup) -> Page:
        """The lookup's next page, or the stories related to its lead story."""
        if action == RELATED:
            return await self._commands.run(caller, "related", lookup.first_url), None, 1
        name, args = lookup.more_command()
        found = lookup.next_page(await self._commands.run(caller, name, args))
        if found is None:
            raise UserError(NO_MORE)
        page, following = found
        return page, following, lookup.shown + 1
