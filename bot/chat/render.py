"""What a digest or reply shows, platform-neutral: cleaned text, checked links, fitting, packing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.chat.sanitize import Measure, clean_text, fit_escaped, safe_url, truncate
from bot.digest.local_time import DATE_TIME, TIME, to_local
from bot.enrich.tags import hashtag
from bot.model import Digest, DigestItem, Link, Reply


@dataclass(frozen=True, slots=True)
class LinkView:
    """A cleaned link: its text, and its URL only when safe_url accepted it."""

    text: str
    url: str | None
    source: str = ""


@dataclass(frozen=True, slots=True)
class ItemView:
    """One story with every string cleaned and every URL checked, ready for a renderer."""

    number: int
    title: str
    url: str | None
    source: str
    when: datetime
    when_text: str
    summary: str
    hashtags: tuple[str, ...] = ()
    also: tuple[LinkView, ...] = ()
    related: tuple[LinkView, ...] = ()


@dataclass(frozen=True, slots=True)
class View:
    """A whole digest (with title) or reply (with text), cleaned; `more` stories left out,
    `more_from` the feeds they came from (cleaned names, most first)."""

    title: str
    text: str
    items: tuple[ItemView, ...]
    more: int = 0
    more_from: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Caps:
    """Sanity caps on feed text before any platform limit applies (keeps rendering bounded)."""

    title: int = 1000
    summary: int = 2000
    link_text: int = 300
    links: int = 10
    tags: int = 10
    text: int = 100_000
    more_source: int = 40  # a feed's name on the "+N more" line


DEFAULT_CAPS = Caps()


MORE_FEEDS = 3  # feeds named on the "+N more" line; any others are counted together


def format_when(when: datetime, reference: datetime | None = None, timezone: str = "UTC") -> str:
    """'14:05 UTC' on the reference's day, else '2024-05-01 14:05 UTC', in `timezone`
    ('15:05 CET' in Europe/Berlin); naive times are taken as UTC."""
    local = to_local(when, timezone)
    if reference is not None and to_local(reference, timezone).date() == local.date():
        return local.strftime(TIME)
    return local.strftime(DATE_TIME)


def more_text(more: int, sources: Sequence[tuple[str, int]] = ()) -> str:
    """'+1 more story' / '+N more stories', or with the feeds they came from, most first:
    '+12 more: 9 from Blog A, 3 from Blog B' (after three feeds, '5 from 4 other feeds')."""
    if not sources or sum(count for _, count in sources) != more:
        return f"+{more} more {'story' if more == 1 else 'stories'}"
    named = sources if len(sources) <= MORE_FEEDS + 1 else sources[:MORE_FEEDS]
    parts = [f"{count} from {name}" for name, count in named]
    rest = sources[len(named):]
    if rest:
        parts.append(f"{sum(count for _, count in rest)} from {len(rest)} other feeds")
    return f"+{more} more: {', '.join(parts)}"


def _link_view(link: Link, text: str, caps: Caps) -> LinkView:
    """A Link with cleaned text and source and a checked URL."""
    return LinkView(
        text=clean_text(text, caps.link_text) or "link",
        url=safe_url(link.url),
        source=clean_text(link.source, caps.link_text),
    )


def view_item(item: DigestItem, number: int, reference: datetime | None, caps: Caps,
              timezone: str = "UTC") -> ItemView:
    """Clean and check one DigestItem; its time is shown in `timezone`."""
    article = item.article
    tags = dict.fromkeys(
        t for t in (hashtag(clean_text(tag)) for tag in article.tags[: caps.tags]) if t)
    title = clean_text(article.title, caps.title) or clean_text(article.url, caps.title)
    return ItemView(
        number=number,
        title=title or "(untitled)",
        url=safe_url(article.url),
        source=clean_text(article.feed_name, caps.link_text),
        when=article.when,
        when_text=format_when(article.when, reference, timezone),
        summary=clean_text(article.summary, caps.summary),
        hashtags=tuple(tags),
        also=tuple(_link_view(x, x.source or x.title, caps) for x in item.also[: caps.links]),
        related=tuple(_link_view(x, x.title, caps) for x in item.related[: caps.links]),
    )


def view_of(subject: Digest | Reply, caps: Caps = DEFAULT_CAPS) -> View:
    """The cleaned view of a digest (title, items, more) or a reply (text, items); story times
    are shown in the digest's or reply's timezone."""
    if isinstance(subject, Digest):
        items = tuple(view_item(item, n, subject.created, caps, subject.timezone)
                      for n, item in enumerate(subject.items, 1))
        more_from = tuple((clean_text(name, caps.more_source) or "an untitled feed", count)
                          for name, count in subject.more_from)
        return View(clean_text(subject.title, caps.title), "", items, max(subject.more, 0),
                    more_from)
    items = tuple(view_item(item, n, None, caps, subject.timezone)
                  for n, item in enumerate(subject.items, 1))
    return View("", clean_text(subject.text, caps.text, keep_newlines=True), items)


Excess = Callable[[ItemView], int]
Shrink = Callable[[ItemView, Excess, Measure], ItemView]


def _cut(get: Callable[[ItemView], str], put: Callable[[ItemView, str], ItemView]) -> Shrink:
    """A shrink step that shortens one text field for as long as that reduces the excess."""

    def step(item: ItemView, excess: Excess, measure: Measure) -> ItemView:
        over = excess(item)
        while over > 0 and (text := get(item)):
            shorter = put(item, truncate(text, measure(text) - over, measure))
            shorter_over = excess(shorter)
            if shorter_over >= over:
                break
            item, over = shorter, shorter_over
        return item

    return step


SHRINK_ORDER: tuple[Shrink, ...] = (
    _cut(lambda i: i.summary, lambda i, s: replace(i, summary=s)),
    _cut(lambda i: i.title, lambda i, s: replace(i, title=s)),
    lambda i, _e, _m: replace(i, related=()),
    lambda i, _e, _m: replace(i, also=()),
    lambda i, _e, _m: replace(i, hashtags=()),
    _cut(lambda i: i.source, lambda i, s: replace(i, source=s)),
)


def fit_item(item: ItemView, excess: Excess, measure: Measure) -> ItemView:
    """Shorten an item until excess(item) <= 0: summary first, then title, links, tags, source.

    The result may still be over when even the bare item does not fit; callers check.
    """
    for shrink in SHRINK_ORDER:
        if excess(item) <= 0:
            break
        item = shrink(item, excess, measure)
    return item


def pack(blocks: Iterable[str], limit: int, measure: Measure, sep: str) -> list[str]:
    """Join blocks greedily into as few chunks as possible, each within limit (blocks fit alone)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    sep_size = measure(sep)
    for block in blocks:
        block_size = measure(block)
        if current and size + sep_size + block_size > limit:
            chunks.append(sep.join(current))
            current, size = [], 0
        size += block_size + (sep_size if current else 0)
        current.append(block)
    if current:
        chunks.append(sep.join(current))
    return chunks


def text_lines(text: str, limit: int, escape: Callable[[str], str], measure: Measure) -> list[str]:
    """Reply text as escaped lines, each cut to fit within limit on its own."""
    return [fit_escaped(line, limit, escape, measure) for line in text.split("\n")]
