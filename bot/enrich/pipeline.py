"""One entry -> a stored article: clean text, language, summary, tags, story anchors, vector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.enrich import vectors
from bot.enrich.anchors import TEXT_CHARS, encode, plain_words, story_anchors
from bot.enrich.language import detect_language, detector_ready, language
from bot.enrich.names import story_names
from bot.enrich.summary import summarize
from bot.enrich.tags import extract_tags
from bot.enrich.text import html_to_text, split_tag_line
from bot.model import Entry, NewArticle, tag_key

SOURCE_CHARS = 3000  # a summary and tags come from the top of a story; the rest only costs
VECTOR_CHARS = 600  # the story's meaning: its headline and first paragraph or two


def load_models() -> None:
    """Load the embedding and language models and English word data now, not at the first
    story (a process about to fork its workers calls this once; they share the result)."""
    vectors.is_available()
    detector_ready()
    language("en")


def enrich_entries(entries: Sequence[Entry], feed_tags: Sequence[str],
                   aliases: Mapping[str, str]) -> list[NewArticle]:
    """Enrich a feed's new entries, their vectors in one batch (runs in a worker)."""
    bodies = [entry_body(entry) for entry in entries]
    texts = [text[:SOURCE_CHARS] for _, text in bodies]
    articles = [_enrich(entry, text, feed_tags, aliases)
                for (entry, _), text in zip(bodies, texts, strict=True)]
    found = vectors.embed([vector_text(a.title, text)
                           for a, text in zip(articles, texts, strict=True)])
    if found is None:
        return articles
    return [replace(a, vector=vectors.pack(v)) for a, v in zip(articles, found, strict=True)]


def entry_body(entry: Entry) -> tuple[Entry, str]:
    """The entry's clean text; a closing "Tags: a · b" line leaves it for the categories."""
    text, tags = split_tag_line(html_to_text(entry.content_html))
    if not tags:
        return entry, text
    known = {tag_key(c) for c in entry.categories}
    extra = tuple(dict.fromkeys(t for t in tags if tag_key(t) not in known))
    return replace(entry, categories=entry.categories + extra), text


def vector_text(title: str, text: str) -> str:
    """What a story's vector is computed from: its headline and first paragraph or two."""
    return f"{title}. {text[:VECTOR_CHARS]}"


def _enrich(entry: Entry, text: str, feed_tags: Sequence[str],
            aliases: Mapping[str, str]) -> NewArticle:
    """Summary, tags, language and anchors of one entry; deterministic."""
    title = " ".join(html_to_text(entry.title).split())
    lang = detect_language(title, text, entry.lang)
    words = language(lang)
    names = story_names(title, text[:TEXT_CHARS], words)
    return NewArticle(
        dedup_key=entry.dedup_key, url=entry.url, title=title or "(untitled)",
        summary=summarize(text, title=title, lang=words),
        author=entry.author, categories=entry.categories,
        tags=extract_tags(title, text, entry.categories, feed_tags, aliases, lang=words,
                          names=names),
        lang=lang, published=entry.published,
        anchors=encode((*story_anchors(title, text, words, names),
                        *plain_words(title, text, words))))
