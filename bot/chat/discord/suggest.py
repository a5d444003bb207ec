"""Autocomplete for slash command options: feed names, tags and time zones."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable

import discord
from discord import app_commands

from bot.chat.commands import Commands

log = logging.getLogger(__name__)
Interaction = discord.Interaction[discord.Client]
Choices = list[app_commands.Choice[str]]
MAX_CHOICES = 25  # Discord shows at most 25
CHOICE_LENGTH = 100  # a choice's name and value are at most 100 characters


def matching(names: Iterable[str], current: str) -> Choices:
    """Up to 25 choices: names starting with `current` first, then names containing it."""
    wanted = current.casefold().strip()
    unique = [n for n in dict.fromkeys(names) if n and len(n) <= CHOICE_LENGTH]
    starts = [n for n in unique if n.casefold().startswith(wanted)]
    first = set(starts)
    contains = [n for n in unique if wanted in n.casefold() and n not in first]
    return [app_commands.Choice(name=n, value=n) for n in (starts + contains)[:MAX_CHOICES]]


class Suggestions:
    """Autocomplete callbacks; a failure suggests nothing rather than erroring the user."""

    def __init__(self, commands: Commands) -> None:
        self._commands = commands
        self._zones = sorted(zoneinfo.available_timezones())

    async def feeds(self, interaction: Interaction, current: str) -> Choices:
        """Names of the feeds the bot polls."""
        try:
            return matching(await self._commands.feed_names(), current)
        except Exception:
            log.exception("feed name suggestions failed")
            return []

    async def tags(self, interaction: Interaction, current: str) -> Choices:
        """Tags of recent stories, most used first."""
        try:
            return matching(await self._commands.tag_names(), current.lstrip("#"))
        except Exception:
            log.exception("tag suggestions failed")
            return []

    async def timezones(self, interaction: Interaction, current: str) -> Choices:
        """IANA time zone names starting with what was typed (then containing it)."""
        return matching(self._zones, current)
