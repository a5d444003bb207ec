"""The interfaces between the core and its edges: a clock, and a chat platform that posts
digests to the channels it owns. Defined here, apart from any implementation, so that
adapters, metrics and tests import them without pulling in the digest service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from bot.model import Digest

Clock = Callable[[], datetime]  # now, timezone-aware; the composition root passes one in
SentCallback = Callable[[Sequence[int], str], Awaitable[None]]


class ChannelGone(Exception):
    """The platform says the bot can no longer post there (deleted, blocked, no rights)."""


class MessageRefused(Exception):
    """The platform refuses a digest message for good (a 4xx other than 429 that retrying
    won't change), even as plain text; the text is the platform's reason in one line."""


class Sender(Protocol):
    """A chat platform that can post digests (console, Discord, Telegram)."""

    def handles(self, channel_id: str) -> bool:
        """Whether channel ids of this form belong to this platform."""

    async def owns(self, channel_id: str) -> bool:
        """Whether this process posts to this channel (one of `handles`'). Where several
        processes share one database, each channel is owned by exactly one of them (Discord:
        the process running the shard of the channel's server); one process owns them all."""

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Post a digest; call `sent(item_indices, message_id)` after each message.

        ChannelGone when the bot can't post there any more; MessageRefused when a message is
        refused for good, also as plain text; any other error is worth another round.
        """
