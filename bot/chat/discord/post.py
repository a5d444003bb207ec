"""Post rendered digests into Discord channels, threads and forums, each message exactly once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import discord

from bot.chat.discord.render import DiscordMessage, Embed, item_indices, render_discord
from bot.model import Digest
from bot.ports import ChannelGone, SentCallback

NO_MENTIONS = discord.AllowedMentions.none()
NONCE_LENGTH = 25  # Discord's limit for a message nonce
THREAD_NAME_LENGTH = 100
Postable = discord.abc.Messageable | discord.ForumChannel


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


async def _post_messages(target: discord.abc.Messageable, digest: Digest,
                         messages: Sequence[DiscordMessage], groups: Sequence[tuple[int, ...]],
                         sent: SentCallback, offset: int) -> None:
    for position, (message, indices) in enumerate(zip(messages, groups, strict=True), offset):
        posted = await target.send(**message_fields(message),
                                   nonce=digest_nonce(digest, indices, position))
        if indices:
            await sent(indices, str(posted.id))


async def _post_forum(forum: discord.ForumChannel, digest: Digest,
                      messages: Sequence[DiscordMessage], groups: Sequence[tuple[int, ...]],
                      sent: SentCallback) -> None:
    """One forum post per digest, titled with the digest title; further messages inside it."""
    name = (digest.title or f"Digest {digest.created:%Y-%m-%d}")[:THREAD_NAME_LENGTH]
    created = await forum.create_thread(name=name, **message_fields(messages[0]))
    if groups[0]:
        await sent(groups[0], str(created.message.id))
    await _post_messages(created.thread, digest, messages[1:], groups[1:], sent, 1)
