"""Post rendered digests into Discord channels, threads and forums, each message exactly once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import discord

from bot.chat.discord.render import (
    DiscordMessage,
    Embed,
    item_indices,
    plain_content,
    render_discord,
)
from bot.model import Digest
from bot.ports import ChannelGone, MessageRefused, SentCallback

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
NONCE_LENGTH = 25  # Discord's limit for a message nonce
THREAD_NAME_LENGTH = 100
Postable = discord.abc.Messageable | discord.ForumChannel
T = TypeVar("T")


def to_embed(embed: Embed) -> discord.Embed:
    """A discord.Embed from the renderer's plain data."""
    made = discord.Embed(title=embed.title or None, url=embed.url,
                         description=embed.description or None, timestamp=embed.timestamp,
                         colour=embed.color)
    if embed.footer:
        made.set_footer(text=embed.footer)
    return made


def message_fields(message: DiscordMessage) -> dict[str, Any]:
    """Keyword arguments shared by send, followup.send and create_thread."""
    return {"content": message.content or None,
            "embeds": [to_embed(e) for e in message.embeds],
            "allowed_mentions": NO_MENTIONS}


def plain_fields(message: DiscordMessage) -> dict[str, Any]:
    """Keyword arguments for the message as plain content, without embeds."""
    return {"content": plain_content(message), "embeds": [], "allowed_mentions": NO_MENTIONS}


def is_refusal(error: discord.HTTPException) -> bool:
    """Whether Discord refuses the message for good: a 4xx that is neither a lost channel
    (403, 404) nor a rate limit (429), such as 50035 Invalid Form Body."""
    return (400 <= error.status < 500 and error.status != 429
            and not isinstance(error, discord.Forbidden | discord.NotFound))


def refusal_text(error: discord.HTTPException) -> str:
    """Discord's reason in one line: "Discord: 400 Invalid Form Body In embeds.0...."."""
    return " ".join(f"Discord: {error.status} {error.text}".split())


def digest_nonce(digest: Digest, indices: Sequence[int], position: int) -> str:
    """A nonce fixed by the digest and the stories in the message, so a retry repeats it."""
    ids = ",".join(str(digest.items[i].article.id) for i in indices) or f"#{position}"
    seed = f"{digest.channel_id}|{digest.created.isoformat()}|{ids}"
    return hashlib.sha256(seed.encode()).hexdigest()[:NONCE_LENGTH]


async def post_digest(target: Postable, digest: Digest, sent: SentCallback) -> None:
    """Render and post; mark the stories of each message sent right after it is posted."""
    messages = render_discord(digest)
    groups = item_indices(messages)
    try:
        if isinstance(target, discord.ForumChannel):
            await _post_forum(target, digest, messages, groups, sent)
        else:
            await _post_messages(target, digest, messages, groups, sent, 0)
    except (discord.Forbidden, discord.NotFound) as error:
        raise ChannelGone(f"Discord refused the post ({error.status}: {error.text})") from error
    except discord.HTTPException as error:
        if not is_refusal(error):
            raise
        raise MessageRefused(refusal_text(error)) from error


async def _post_or_plain(post: Callable[..., Awaitable[T]], message: DiscordMessage) -> T:
    """Post the rendered message; when Discord refuses it for good, once more as plain
    content, so readers still get the stories."""
    try:
        return await post(**message_fields(message))
    except discord.HTTPException as error:
        if not is_refusal(error):
            raise
        log.warning("discord: a digest message was refused (%s); sending it as plain text",
                    refusal_text(error))
    return await post(**plain_fields(message))


async def _post_messages(target: discord.abc.Messageable, digest: Digest,
                         messages: Sequence[DiscordMessage], groups: Sequence[tuple[int, ...]],
                         sent: SentCallback, offset: int) -> None:
    for position, (message, indices) in enumerate(zip(messages, groups, strict=True), offset):
        nonce = digest_nonce(digest, indices, position)
        posted = await _post_or_plain(partial(target.send, nonce=nonce), message)
        if indices:
            await sent(indices, str(posted.id))


async def _post_forum(forum: discord.ForumChannel, digest: Digest,
                      messages: Sequence[DiscordMessage], groups: Sequence[tuple[int, ...]],
                      sent: SentCallback) -> None:
    """One forum post per digest, titled with the digest title; further messages inside it."""
    name = (digest.title or f"Digest {digest.created:%Y-%m-%d}")[:THREAD_NAME_LENGTH]
    created = await _post_or_plain(partial(forum.create_thread, name=name), messages[0])
    if groups[0]:
        await sent(groups[0], str(created.message.id))
    await _post_messages(created.thread, digest, messages[1:], groups[1:], sent, 1)
