"""Render a digest or reply as Telegram HTML messages, each within Telegram's length limit."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

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
    view_of,
)
from bot.chat.sanitize import (
    defuse_telegram_mentions,
    escape_telegram_html,
    fit_escaped,
    telegram_len,
    utf16_len,
)
from bot.model import Digest, Reply

TELEGRAM_LIMIT = 4096
BLOCK_SEPARATOR = "\n\n"
_TAG = re.compile(r"<[^>]*>")
_ANCHOR = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}
)


def escape(text: str) -> str:
    """Feed text made inert for Telegram HTML: entities escaped, @mentions defused."""
    return defuse_telegram_mentions(escape_telegram_html(text))


def _anchor(text: str, url: str | None) -> str:
    """<a href> around escaped text when the URL is safe, else the escaped text alone."""
    if url is None or not text:
        return escape(text)
    return f'<a href="{escape_telegram_html(url)}">{escape(text)}</a>'


def _related_line(link: LinkView) -> str:
    """'↳ <a>Title</a> (Source)' for one related story."""
    source = f" ({escape(link.source)})" if link.source else ""
    return f"↳ {_anchor(link.text, link.url)}{source}"


def render_item_html(item: ItemView) -> str:
    """One story: bold linked title, source and time, summary, hashtags, also, related."""
    meta = " · ".join(escape(x) for x in (item.source, item.when_text) if x)
    lines = [f"<b>{item.number}. {_anchor(item.title, item.url)}</b>", f"<i>{meta}</i>"]
    if item.summary:
        lines.append(escape(item.summary))
    if item.hashtags:
        lines.append(escape(" ".join(item.hashtags)))
    if item.also:
        lines.append("also: " + ", ".join(_anchor(x.text, x.url) for x in item.also))
    lines += [_related_line(link) for link in item.related]
    return "\n".join(lines)


def fit_item_html(item: ItemView, limit: int) -> str:
    """The story's HTML within limit: shortened (summary first, then title) when too long."""
    fitted = fit_item(item, lambda i: telegram_len(render_item_html(i)) - limit, utf16_len)
    html = render_item_html(fitted)
    if telegram_len(html) <= limit:
        return html
    bare = replace(fitted, url=None, when_text="", source="")
    return fit_escaped(f"{bare.number}. {bare.title}", limit, escape, utf16_len)


Block = tuple[str, int | None]  # HTML, and the index of the digest item it shows (if any)


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """One HTML message and the indices of the digest items it carries."""

    html: str
    items: tuple[int, ...] = ()


def _blocks(view: View, limit: int) -> list[Block]:
    """Every block of the rendering in order, each fitting within limit on its own."""
    blocks: list[Block] = []
    if view.title:
        title = fit_escaped(view.title, limit - telegram_len("<b></b>"), escape, utf16_len)
        blocks.append((f"<b>{title}</b>", None))
    if view.text:
        lines = pack(text_lines(view.text, limit, escape, utf16_len), limit, telegram_len, "\n")
        blocks += [(line, None) for line in lines]
    blocks += [(fit_item_html(item, limit), index) for index, item in enumerate(view.items)]
    if view.more > 0:
        more = fit_escaped(more_text(view.more, view.more_from), limit - telegram_len("<i></i>"),
                           escape, utf16_len)
        blocks.append((f"<i>{more}</i>", None))
    return [b for b in blocks if _TAG.sub("", b[0]).strip()]


def _pack_blocks(blocks: list[Block], limit: int) -> list[TelegramMessage]:
    """Join blocks greedily into as few messages as possible, each within limit."""
    messages: list[TelegramMessage] = []
    current: list[Block] = []
    size = 0
    sep_size = telegram_len(BLOCK_SEPARATOR)
    for block in blocks:
        block_size = telegram_len(block[0])
        if current and size + sep_size + block_size > limit:
            messages.append(_message(current))
            current, size = [], 0
        size += block_size + (sep_size if current else 0)
        current.append(block)
    if current:
        messages.append(_message(current))
    return messages


def _message(blocks: list[Block]) -> TelegramMessage:
    html = BLOCK_SEPARATOR.join(text for text, _ in blocks)
    return TelegramMessage(html, tuple(index for _, index in blocks if index is not None))


def plain_text_of(message_html: str, limit: int = TELEGRAM_LIMIT) -> str:
    """The message without markup, for when Telegram refuses its HTML: each link is written
    out after its text while the whole stays within limit (else the links are left out)."""
    linked = html.unescape(_TAG.sub("", _ANCHOR.sub(r"\2 (\1)", message_html)))
    if utf16_len(linked) <= limit:
        return linked
    return html.unescape(_TAG.sub("", message_html))


def render_view_messages(view: View, limit: int = TELEGRAM_LIMIT) -> list[TelegramMessage]:
    """HTML messages with the items each carries, split only between blocks, within limit."""
    return _pack_blocks(_blocks(view, limit), limit)


def render_view_telegram(view: View, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """HTML messages, split only between blocks, each within limit."""
    return [message.html for message in render_view_messages(view, limit)]


def render_telegram_messages(
    subject: Digest | Reply, limit: int = TELEGRAM_LIMIT, caps: Caps = DEFAULT_CAPS
) -> list[TelegramMessage]:
    """A digest or reply as Telegram HTML messages, each with the digest items it carries."""
    return render_view_messages(view_of(subject, caps), limit)


def render_telegram(
    subject: Digest | Reply, limit: int = TELEGRAM_LIMIT, caps: Caps = DEFAULT_CAPS, *,
    first: int = 1
) -> list[str]:
    """A digest or reply as Telegram HTML parse-mode messages, each within limit.

    Stories are numbered from `first` (a later page of a lookup goes on counting).
    """
    view = view_of(subject, caps)
    items = tuple(replace(item, number=item.number + first - 1) for item in view.items)
    return render_view_telegram(replace(view, items=items), limit)
