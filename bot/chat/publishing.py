"""`/publish on|off|new`: a moderator puts the channel's digests on the web, takes them down
or moves them to a new secret address."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from bot.chat.request import Caller, UserError
from bot.model import Reply
from bot.ports import Clock
from bot.store.channels import ChannelStore

TOKEN_BYTES = 24  # 192 random bits in each page's address: unguessable, not enumerable
USAGE = "Usage: /publish on | off | new (without a word: where this channel's page is)"
PageLink = Callable[[str], str]  # a page token -> the full link to the channel's page


def new_page_token() -> str:
    """A fresh secret for a page's address (URL-safe base64, 32 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class Publishing:
    """A channel's web page: published under a secret token, taken down, or moved."""

    def __init__(self, channels: ChannelStore, clock: Clock,
                 page_link: PageLink | None) -> None:
        self._channels = channels
        self._clock = clock
        self._page_link = page_link  # None: the bot has no web server

    async def publish(self, caller: Caller, rest: str) -> Reply:
        """`/publish` shows the page; `on` publishes (or shows), `off` takes it down at once,
        `new` moves it to a new address (the old one stops working)."""
        action = rest.strip().lower()
        if action not in ("", "show", "on", "off", "new"):
            raise UserError(USAGE)
        channel_id = caller.channel_id
        token = await self._channels.page_token(channel_id)
        if action == "off":
            if token is None:
                return Reply(text="This channel is not on the web.")
            await self._channels.set_page_token(channel_id, None, self._clock())
            return Reply(text="This channel's page and feeds are gone from the web.")
        link = self._linker()
        if action in ("", "show"):
            if token is None:
                return Reply(text="This channel is not on the web. /publish on puts its "
                             "digests there, readable by anyone with the link.")
            return Reply(text=f"This channel's digests are on the web: {link(token)}",
                         ephemeral=True)
        if action == "on" and token is not None:
            return Reply(text=f"This channel is already on the web: {link(token)}",
                         ephemeral=True)
        token = new_page_token()
        await self._channels.set_page_token(channel_id, token, self._clock())
        moved = " The old address no longer works." if action == "new" else ""
        return Reply(text=f"This channel's digests are on the web: {link(token)} — anyone "
                     f"with the link can read them; /publish new changes it, /publish off "
                     f"takes it down.{moved}", ephemeral=True)

    def _linker(self) -> PageLink:
        if self._page_link is None:
            raise UserError("This bot has no web server: its operator turns it on with a "
                            "[web] section in the config file.")
        return self._page_link
