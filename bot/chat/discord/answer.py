"""Answer one slash command: who asked, run it, reply (deferring when it takes a while)."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import discord

from bot.chat.commands import Commands
from bot.chat.discord.post import message_fields
from bot.chat.discord.render import DiscordMessage, render_discord
from bot.chat.feed_transfer import MAX_ATTACHMENT_BYTES, file_too_large
from bot.chat.request import Caller
from bot.model import Attachment, Reply

log = logging.getLogger(__name__)
Interaction = discord.Interaction[discord.Client]
DEFER_AFTER_S = 0.5  # well inside Discord's 3 s window for the first response
APOLOGY = Reply(text="Sorry, something went wrong; the error has been logged.", ephemeral=True)


def caller_of(interaction: Interaction) -> Caller:
    """The platform-neutral Caller: thread or channel id, user id, moderator at run time."""
    perms = interaction.permissions
    private = interaction.guild_id is None  # by id: a server missing from the cache is no DM
    is_moderator = private or perms.manage_guild or perms.manage_channels
    return Caller(channel_id=f"discord:{interaction.channel_id}",
                  user_id=f"discord:{interaction.user.id}", is_moderator=is_moderator,
                  is_private=private)


def missing_permissions(interaction: Interaction) -> list[str]:
    """What the bot lacks to post digests where this command was run."""
    if interaction.guild_id is None:
        return []
    perms = interaction.app_permissions
    wanted = [("View Channel", perms.view_channel), _send_permission(interaction),
              ("Embed Links", perms.embed_links)]
    return [name for name, granted in wanted if not granted]


def _send_permission(interaction: Interaction) -> tuple[str, bool]:
    """The permission that lets the bot post in this kind of channel, and whether it has it."""
    perms = interaction.app_permissions
    if isinstance(interaction.channel, discord.Thread):
        return "Send Messages in Threads", perms.send_messages_in_threads
    if isinstance(interaction.channel, discord.ForumChannel):
        return "Create Posts", perms.send_messages
    return "Send Messages", perms.send_messages


def subscribes(name: str, rest: str) -> bool:
    """Whether the command makes this channel receive digests."""
    return name == "subscribe" or (name == "feed" and rest.split(" ", 1)[0] == "add")


class Answerer:
    """Runs slash commands through Commands and answers within Discord's deadlines."""

    def __init__(self, commands: Commands, defer_after_s: float = DEFER_AFTER_S) -> None:
        self._commands = commands
        self._defer_after_s = defer_after_s

    async def answer(self, interaction: Interaction, name: str, rest: str,
                     file: discord.Attachment | None = None) -> None:
        """Run `/name rest` (with its attached file) for the interaction's user and post
        the reply; never raises."""
        try:
            await self._answer(interaction, name, rest, file)
        except Exception:
            log.exception("answering /%s %s failed", name, rest)
            await self._apologize(interaction)

    async def _answer(self, interaction: Interaction, name: str, rest: str,
                      file: discord.Attachment | None) -> None:
        task = asyncio.create_task(
            self._run(caller_of(interaction), interaction, name, rest, file))
        done, _ = await asyncio.wait({task}, timeout=self._defer_after_s)
        if done:
            await respond(interaction, task.result())
            return
        deferred_ephemeral = name == "digest"
        await interaction.response.defer(thinking=True, ephemeral=deferred_ephemeral)
        await follow_up(interaction, await task, deferred_ephemeral)

    async def _run(self, caller: Caller, interaction: Interaction, name: str,
                   rest: str, file: discord.Attachment | None) -> Reply:
        if caller.is_moderator and subscribes(name, rest):
            missing = missing_permissions(interaction)
            if missing:
                return Reply(text="I can't post digests here yet: I need "
                                  f"{', '.join(missing)} in this channel. Ask a server admin "
                                  "to grant them, then try again.", ephemeral=True)
        attachment = None
        if file is not None and caller.is_moderator:  # nobody else's upload is downloaded
            if file.size > MAX_ATTACHMENT_BYTES:
                return Reply(text=file_too_large(file.filename, file.size), ephemeral=True)
            attachment = Attachment(file.filename, await file.read())
        return await self._commands.handle(caller, f"/{name} {rest}".strip(), attachment)

    async def _apologize(self, interaction: Interaction) -> None:
        try:
            if interaction.response.is_done():
                await follow_up(interaction, APOLOGY, deferred_ephemeral=True)
            else:
                await respond(interaction, APOLOGY)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure", exc_info=True)


def _messages(reply: Reply) -> list[DiscordMessage]:
    return render_discord(reply) or [DiscordMessage("Done.")]


def _upload(reply: Reply) -> dict[str, Any]:
    """The `file=` argument carrying the reply's file, if it has one (a fresh stream)."""
    if reply.file is None:
        return {}
    return {"file": discord.File(io.BytesIO(reply.file.data), filename=reply.file.name)}


async def respond(interaction: Interaction, reply: Reply) -> None:
    """Answer directly: the first message (with the file) as the response, the rest as
    follow-ups."""
    first, *others = _messages(reply)
    await interaction.response.send_message(**message_fields(first), ephemeral=reply.ephemeral,
                                            **_upload(reply))
    for message in others:
        await interaction.followup.send(**message_fields(message), ephemeral=reply.ephemeral)


async def follow_up(interaction: Interaction, reply: Reply, deferred_ephemeral: bool) -> None:
    """Answer after a defer; a private answer to a public 'thinking…' replaces it."""
    if reply.ephemeral and not deferred_ephemeral:
        await interaction.delete_original_response()
    upload = _upload(reply)
    for message in _messages(reply):
        await interaction.followup.send(**message_fields(message), ephemeral=reply.ephemeral,
                                        **upload)
        upload = {}
