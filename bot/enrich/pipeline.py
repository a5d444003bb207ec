"""One entry -> a stored article: clean text, summary, tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.enrich.summary import summarize
from bot.enrich.tags import extract_tags
from bot.enrich.text import html_to_text
from bot.model import Entry, NewArticle

SOURCE_CHARS = 3000  # a summary and tags come from the top of a story; the rest only costs


def enrich_entry(entry: Entry, feed_tags: Sequence[str],
                 aliases: Mapping[str, str]) -> NewArticle:
    """Summary and tags for one entry; deterministic for the same input."""
    text = html_to_text(entry.content_html)[:SOURCE_CHARS]
    title = " ".join(html_to_text(entry.title).split())
    return NewArticle(
        dedup_key=entry.dedup_key, url=entry.url, title=title or "(untitled)",
        summary=summarize(text, title=title),
        author=entry.author, categories=entry.categories,
        tags=extract_tags(title, text, entry.categories, feed_tags, aliases),
        lang=entry.lang, published=entry.published)


def enrich_entries(entries: Sequence[Entry], feed_tags: Sequence[str],
                   aliases: Mapping[str, str]) -> list[NewArticle]:
    """Enrich a feed's new entries (runs in a worker process)."""
    return [enrich_entry(entry, feed_tags, aliases) for entry in entries]
