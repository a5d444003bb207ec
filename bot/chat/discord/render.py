"""Render a digest or reply as Discord messages, one embed per story, within Discord's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.chat.render import (
    DEFAULT_CAPS,
    Caps,
    ItemView,
    LinkView,
    View,
    fit_item,
    more_text,
    pack,
    text_lines,
)
from bot.chat.render import view_of as _view_of
from bot.chat.sanitize import (
    defuse_discord_mentions,
    discord_link_target,
    escape_discord,
    fit_escaped,
    truncate,
)
from bot.model import Digest, Reply


@dataclass(frozen=True, slots=True)
class DiscordLimits:
    """Discord's limits in code points (embeds_per_message must be at least 1)."""

    content: int = 2000
    embeds_per_message: int = 10
    embed_title: int = 256
    embed_description: int = 4096
    embed_total: int = 6000  # title + description + footer (+ fields, author) of all embeds
    field_value: int = 1024
    footer: int = 2048


@dataclass(frozen=True, slots=True)
class Embed:
    """A rich embed as plain data; the adapter turns it into a library object."""

    title: str
    url: str | None
    description: str
    footer: str
    timestamp: datetime | None
    color: int | None = None

    @property
    def size(self) -> int:
        """The characters Discord counts towards a message's embed total."""
        return len(self.title) + len(self.description) + len(self.footer)


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One message to send: escaped Markdown content and up to N embeds."""

    content: str
    embeds: tuple[Embed, ...] = ()


def _masked(link: LinkView) -> str:
    """[escaped text](checked url) when the link is safe, else the escaped text alone."""
    text = escape_discord(link.text)
    return f"[{text}]({discord_link_target(link.url)})" if link.url and text else text


def _related_line(link: LinkView) -> str:
    """'• [Title](url) — Source' for one related story."""
    source = f" — {escape_discord(link.source)}" if link.source else ""
    return f"• {_masked(link)}{source}"


def item_description(item: ItemView) -> str:
    """Summary, then hashtags, other outlets and related stories, as escaped Markdown."""
    links: list[str] = []
    if item.hashtags:
        links.append(escape_discord(" ".join(item.hashtags)))
    if item.also:
        links.append("also: " + ", ".join(_masked(link) for link in item.also))
    links += [_related_line(link) for link in item.related]
    parts = [escape_discord(item.summary)] if item.summary else []
    if links:
        parts.append("\n".join(links))
    return "\n\n".join(parts)


def _embed(item: ItemView, limits: DiscordLimits) -> Embed:
    """The item's embed with title and footer cut to their own limits (footers show no Markdown)."""
    return Embed(
        title=fit_escaped(item.title, min(limits.embed_title, limits.embed_total), escape_discord),
        url=item.url,
        description=item_description(item),
        footer=fit_escaped(item.source, limits.footer, defuse_discord_mentions),
        timestamp=item.when,
    )


def _excess(item: ItemView, limits: DiscordLimits) -> int:
    """How far the item's embed is over the description or the total limit."""
    embed = _embed(item, limits)
    return max(len(embed.description) - limits.embed_description, embed.size - limits.embed_total)


def fit_embed(item: ItemView, limits: DiscordLimits) -> Embed:
    """The item's embed within every limit: summary cut first, then title, links, tags, source."""
    fitted = fit_item(item, lambda i: _excess(i, limits), len)
    embed = _embed(fitted, limits)
    if _excess(fitted, limits) <= 0:
        return embed
    footer = fit_escaped(
        fitted.source, max(0, limits.embed_total - len(embed.title)), defuse_discord_mentions
    )
    return Embed(embed.title, embed.url, "", footer, embed.timestamp)


def group_embeds(embeds: list[Embed], limits: DiscordLimits) -> list[tuple[Embed, ...]]:
    """Consecutive embeds grouped per message: at most N each, their total size within limit."""
    groups: list[tuple[Embed, ...]] = []
    current: list[Embed] = []
    size = 0
    for embed in embeds:
        full = len(current) >= limits.embeds_per_message
        if current and (full or size + embed.size > limits.embed_total):
            groups.append(tuple(current))
            current, size = [], 0
        current.append(embed)
        size += embed.size
    if current:
        groups.append(tuple(current))
    return groups


def _contents(view: View, limits: DiscordLimits) -> list[str]:
    """The text parts in order (bold title or reply text), each within the content limit."""
    chunks: list[str] = []
    if view.title:
        chunks.append(f"**{fit_escaped(view.title, limits.content - 4, escape_discord)}**")
    if view.text:
        lines = text_lines(view.text, limits.content, escape_discord, len)
        chunks += pack(lines, limits.content, len, "\n")
    return [c for c in chunks if c.strip("*\n ")]


def _with_more(messages: list[DiscordMessage], more: str, limit: int) -> list[DiscordMessage]:
    """Append '+N more stories' to the last message's content, or send it on its own."""
    if not more:
        return messages
    if messages and len(messages[-1].content) + 1 + len(more) <= limit:
        last = messages[-1]
        content = f"{last.content}\n{more}" if last.content else more
        return [*messages[:-1], DiscordMessage(content, last.embeds)]
    return [*messages, DiscordMessage(more)]


def render_view_discord(
    view: View, limits: DiscordLimits = DiscordLimits()
) -> list[DiscordMessage]:
    """Messages: text first, the first embed group with the last text part, then more groups."""
    messages = [DiscordMessage(content) for content in _contents(view, limits)]
    for group in group_embeds([fit_embed(item, limits) for item in view.items], limits):
        if messages and not messages[-1].embeds:
            messages[-1] = DiscordMessage(messages[-1].content, group)
        else:
            messages.append(DiscordMessage("", group))
    more_line = more_text(view.more, view.more_from)
    more = fit_escaped(more_line, limits.content, escape_discord) if view.more else ""
    return _with_more(messages, more, limits.content)


def render_discord(
    subject: Digest | Reply, limits: DiscordLimits = DiscordLimits(), caps: Caps = DEFAULT_CAPS
) -> list[DiscordMessage]:
    """A digest or reply as Discord messages with one embed per story."""
    return render_view_discord(_view_of(subject, caps), limits)


def item_indices(messages: list[DiscordMessage]) -> list[tuple[int, ...]]:
    """Which digest items each rendered message carries (one embed per item, in order)."""
    groups: list[tuple[int, ...]] = []
    start = 0
    for message in messages:
        groups.append(tuple(range(start, start + len(message.embeds))))
        start += len(message.embeds)
    return groups


def _plain_embed(embed: Embed, with_description: bool) -> str:
    """An embed as lines of content: title, link (no preview), and the description if asked."""
    lines = [embed.title, f"<{embed.url}>" if embed.url else ""]
    if with_description:
        lines.append(embed.description)
    return "\n".join(line for line in lines if line)


def plain_content(message: DiscordMessage, limit: int = DiscordLimits().content) -> str:
    """The message as content alone, no embeds, for when Discord refuses it as rendered:
    titles and links always, summaries while they fit within limit. The text stays escaped."""
    for with_description in (True, False):
        blocks = [message.content, *(_plain_embed(e, with_description) for e in message.embeds)]
        text = "\n\n".join(block for block in blocks if block)
        if len(text) <= limit:
            return text
    return truncate(text, limit)
