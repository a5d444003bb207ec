"""The slash commands: each turns its options into the text the console would take."""

from __future__ import annotations

from typing import Protocol

import discord
from discord import app_commands

from bot.chat.discord.suggest import Suggestions

Interaction = discord.Interaction[discord.Client]


class Handle(Protocol):
    """Runs `/name rest` for an interaction, with the file attached to it if any."""

    async def __call__(self, interaction: Interaction, name: str, rest: str,
                       file: discord.Attachment | None = None) -> None:
        """Answer the interaction."""


Tree = app_commands.CommandTree[discord.Client]
MODERATORS = discord.Permissions(manage_guild=True)


def add_commands(tree: Tree, handle: Handle, suggest: Suggestions) -> None:
    """Every command, for everyone and for moderators, on the tree."""
    add_lookups(tree, handle, suggest)
    add_feed_group(tree, handle, suggest)
    add_filter_group(tree, handle)
    add_schedule_group(tree, handle, suggest)
    add_subscriptions(tree, handle, suggest)
    add_publish_group(tree, handle)


def add_lookups(tree: Tree, handle: Handle, suggest: Suggestions) -> None:
    """Commands anyone may run."""

    @tree.command(name="latest", description="The newest stories, optionally with one tag")
    @app_commands.describe(tag="Only stories with this tag", count="How many stories (1-20)")
    async def latest(interaction: Interaction, tag: str = "",
                     count: app_commands.Range[int, 1, 20] = 5) -> None:
        await handle(interaction, "latest", f"{tag.lstrip('#')} {count}".strip())

    latest.autocomplete("tag")(suggest.tags)

    @tree.command(name="search", description="Stories matching every word")
    @app_commands.describe(words="What to look for, e.g. japan tariffs")
    async def search(interaction: Interaction, words: str) -> None:
        await handle(interaction, "search", words)

    @tree.command(name="related", description="Stories related to a link or some words")
    @app_commands.describe(query="A story's URL, or a few words")
    async def related(interaction: Interaction, query: str) -> None:
        await handle(interaction, "related", query)

    @tree.command(name="why", description="Why a story was (or wasn't) in this channel's digest")
    @app_commands.describe(url="The story's URL")
    async def why(interaction: Interaction, url: str) -> None:
        await handle(interaction, "why", url)

    @tree.command(name="digest", description="This channel's digest, now")
    async def digest(interaction: Interaction) -> None:
        await handle(interaction, "digest", "")

    @tree.command(name="status", description="Feeds, failures and the next digest")
    async def status(interaction: Interaction) -> None:
        await handle(interaction, "status", "")

    @tree.command(name="help", description="What newsbot can do")
    async def help_(interaction: Interaction) -> None:
        await handle(interaction, "help", "")


def _group(name: str, description: str) -> app_commands.Group:
    """A moderator group: hidden from members without Manage Server (admins may override)."""
    return app_commands.Group(name=name, description=description,
                              default_permissions=MODERATORS)


def add_feed_group(tree: Tree, handle: Handle, suggest: Suggestions) -> None:
    """`/feed add|remove|list|import|export` for moderators."""
    feed = _group("feed", "Feeds this channel follows (moderators)")

    @feed.command(name="add", description="Follow a new feed in this channel")
    @app_commands.describe(url="The feed's http(s) URL", name="A short name (optional)")
    async def add(interaction: Interaction, url: str, name: str = "") -> None:
        await handle(interaction, "feed", f"add {url} {name}".strip())

    @feed.command(name="remove", description="Stop following a feed in this channel")
    @app_commands.describe(feed="The feed's name or URL")
    async def remove(interaction: Interaction, feed: str) -> None:
        await handle(interaction, "feed", f"remove {feed}")

    @feed.command(name="list", description="The feeds this channel follows and their state")
    async def list_(interaction: Interaction) -> None:
        await handle(interaction, "feed", "list")

    add_transfer_commands(feed, handle)
    remove.autocomplete("feed")(suggest.feeds)
    tree.add_command(feed)


def add_transfer_commands(feed: app_commands.Group, handle: Handle) -> None:
    """`/feed import` (an attached OPML file or a link to one) and `/feed export`."""

    @feed.command(name="import", description="Follow every feed of an OPML file")
    @app_commands.describe(file="The OPML file (up to 1 MiB)", url="Or a link to one")
    async def import_(interaction: Interaction, file: discord.Attachment | None = None,
                      url: str = "") -> None:
        await handle(interaction, "feed", f"import {url}".strip(), file)

    @feed.command(name="export", description="This channel's feeds as an OPML file")
    async def export(interaction: Interaction) -> None:
        await handle(interaction, "feed", "export")


def add_filter_group(tree: Tree, handle: Handle) -> None:
    """`/filter set|show|clear|test` for moderators."""
    group = _group("filter", "This channel's topic filter (moderators)")

    @group.command(name="set", description="Only stories matching the expression")
    @app_commands.describe(expression='e.g. tag:politics and not title:"opinion"')
    async def set_(interaction: Interaction, expression: str) -> None:
        await handle(interaction, "filter", f"set {expression}")

    @group.command(name="test", description="Which recent stories an expression lets through")
    @app_commands.describe(expression='e.g. tag:politics and not title:"opinion"')
    async def test(interaction: Interaction, expression: str) -> None:
        await handle(interaction, "filter", f"test {expression}")

    @group.command(name="show", description="The current filter")
    async def show(interaction: Interaction) -> None:
        await handle(interaction, "filter", "show")

    @group.command(name="clear", description="Remove the filter")
    async def clear(interaction: Interaction) -> None:
        await handle(interaction, "filter", "clear")

    tree.add_command(group)


def add_schedule_group(tree: Tree, handle: Handle, suggest: Suggestions) -> None:
    """`/schedule set|show` for moderators."""
    group = _group("schedule", "When this channel's digest is posted (moderators)")

    @group.command(name="set", description="When to post the digest")
    @app_commands.describe(when="e.g. daily 08:00, weekdays 07:30, every 6h",
                           timezone="e.g. Europe/Berlin (optional)")
    async def set_(interaction: Interaction, when: str, timezone: str = "") -> None:
        await handle(interaction, "schedule", f"set {when} {timezone}".strip())

    @group.command(name="show", description="The schedule and the next digest")
    async def show(interaction: Interaction) -> None:
        await handle(interaction, "schedule", "show")

    set_.autocomplete("timezone")(suggest.timezones)
    tree.add_command(group)


def add_subscriptions(tree: Tree, handle: Handle, suggest: Suggestions) -> None:
    """`/subscribe` and `/unsubscribe` for moderators."""

    @tree.command(name="subscribe", description="Follow a feed the bot already polls")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(feed="The feed's name or URL")
    async def subscribe(interaction: Interaction, feed: str) -> None:
        await handle(interaction, "subscribe", feed)

    @tree.command(name="unsubscribe", description="Stop following a feed")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(feed="The feed's name or URL")
    async def unsubscribe(interaction: Interaction, feed: str) -> None:
        await handle(interaction, "unsubscribe", feed)

    subscribe.autocomplete("feed")(suggest.feeds)
    unsubscribe.autocomplete("feed")(suggest.feeds)


def add_publish_group(tree: Tree, handle: Handle) -> None:
    """`/publish on|off|new|show` for moderators: this channel's digests on the web."""
    group = _group("publish", "This channel's digests on the web (moderators)")

    @group.command(name="on", description="Publish at a secret link anyone with it can read")
    async def on(interaction: Interaction) -> None:
        await handle(interaction, "publish", "on")

    @group.command(name="off", description="Take the page and feeds down at once")
    async def off(interaction: Interaction) -> None:
        await handle(interaction, "publish", "off")

    @group.command(name="new", description="Move to a new link; the old one stops working")
    async def new(interaction: Interaction) -> None:
        await handle(interaction, "publish", "new")

    @group.command(name="show", description="Where this channel's page is, if published")
    async def show(interaction: Interaction) -> None:
        await handle(interaction, "publish", "show")

    tree.add_command(group)
