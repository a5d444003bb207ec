"""Render a digest or reply as plain terminal text: no escapes, no control characters."""

from __future__ import annotations

import textwrap

from bot.chat.render import Caps, ItemView, LinkView, View, more_text, view_of
from bot.model import Digest, Reply

INDENT = "   "
PLAIN_CAPS = Caps(title=300, summary=1000)


def _wrap(text: str, width: int, first: str = INDENT, rest: str = INDENT) -> list[str]:
    """Wrap text to width with the given indents (at least one line when text is not empty)."""
    return textwrap.wrap(
        text, width=max(width, len(first) + 10), initial_indent=first, subsequent_indent=rest
    )


def _link_line(link: LinkView) -> str:
    """'Title (Source) https://...' for a related story; the URL only when it is safe."""
    source = f" ({link.source})" if link.source else ""
    url = f" {link.url}" if link.url else ""
    return f"{link.text}{source}{url}"


def render_item_plain(item: ItemView, width: int) -> list[str]:
    """The lines of one story: headline, summary, tags, other outlets, related, URL."""
    meta = ", ".join(x for x in (item.source, item.when_text) if x)
    lines = _wrap(f"{item.number}. {item.title} — {meta}", width, first="", rest=INDENT)
    if item.summary:
        lines += _wrap(item.summary, width)
    if item.hashtags:
        lines += _wrap(" ".join(item.hashtags), width)
    if item.also:
        lines += _wrap("also: " + ", ".join(link.text for link in item.also), width)
    for link in item.related:
        lines += _wrap("related: " + _link_line(link), width, rest=INDENT * 2)
    if item.url:
        lines.append(INDENT + item.url)
    return lines


def render_view_plain(view: View, width: int) -> str:
    """Title (or reply text), the stories separated by blank lines, then '+N more stories'."""
    blocks: list[list[str]] = []
    if view.title:
        blocks.append([view.title])
    if view.text:
        blocks.append(view.text.split("\n"))
    blocks += [render_item_plain(item, width) for item in view.items]
    if view.more > 0:
        blocks.append([more_text(view.more, view.more_from)])
    return "\n\n".join("\n".join(block) for block in blocks)


def render_plain(subject: Digest | Reply, width: int = 100, caps: Caps = PLAIN_CAPS) -> str:
    """A digest or reply as console text, wrapped to width."""
    return render_view_plain(view_of(subject, caps), width)
