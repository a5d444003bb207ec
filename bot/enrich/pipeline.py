"""One entry -> a stored article: clean text, language, summary, tags, story anchors, vector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache

from bot.enrich import vectors
from bot.enrich.anchors import TEXT_CHARS, encode, plain_words, story_anchors
from bot.enrich.language import Language, detect_language, detector_ready, language
from bot.enrich.names import Name, lowercase_words, settled, story_names, surely_named
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
    """Enrich a feed's new entries, their vectors in one batch (runs in a worker).

    The entries are read together: a name one of them writes mid-sentence ("...after the
    storm, Sri Lanka is doing better") is a name where another only starts a headline with
    it ("Sri Lanka's mass graves need proper investigation"), and both are tagged #SriLanka."""
    bodies = [entry_body(entry) for entry in entries]
    read = [_read(entry, text[:SOURCE_CHARS]) for entry, text in bodies]
    elsewhere = surely_named(r.names for r in read)
    lowercase = cache(lambda: lowercase_words(part for r in read for part in (r.title, r.text)))
    articles = [_enrich(r, settled(r.names, elsewhere, lowercase), feed_tags, aliases)
                for r in read]
    found = vectors.embed([vector_text(a.title, r.text)
                           for a, r in zip(articles, read, strict=True)])
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


@dataclass(frozen=True, slots=True)
class _Read:
    """An entry with its clean headline and text, language and names."""

    entry: Entry
    title: str
    text: str
    lang: str
    words: Language
    names: list[Name]


def _read(entry: Entry, text: str) -> _Read:
    title = " ".join(html_to_text(entry.title).split())
    lang = detect_language(title, text, entry.lang)
    words = language(lang)
    return _Read(entry, title, text, lang, words, story_names(title, text[:TEXT_CHARS], words))


def _enrich(read: _Read, names: Sequence[Name], feed_tags: Sequence[str],
            aliases: Mapping[str, str]) -> NewArticle:
    """Summary, tags, language and anchors of one entry; deterministic."""
    entry, title, text, words = read.entry, read.title, read.text, read.words
    return NewArticle(
        dedup_key=entry.dedup_key, url=entry.url, title=title or "(untitled)",
        summary=summarize(text, title=title, lang=words),
        author=entry.author, categories=entry.categories,
        tags=extract_tags(title, text, entry.categories, feed_tags, aliases, lang=words,
                          names=names),
        lang=read.lang, published=entry.published,
        anchors=encode((*story_anchors(title, text, words, names),
                        *plain_words(title, text, words))))
