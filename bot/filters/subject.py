"""The view of one article that filter terms match: normalized fields, each computed once."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.filters.match import fold
from bot.model import Article, tag_key


class FilterSubject:
    """An article's fields as filter terms see them (casefolded words, tag keys, host, lang).

    Each normalized field is computed on first use and then kept, so a subject built once per
    article serves every term of every channel's filter, and a filter that fails on its first
    term never pays for the rest. The article is immutable, so the view is too.
    """

    __slots__ = ("_author", "_feed", "_host", "_lang", "_summary", "_tag_keys", "_title", "article")

    def __init__(self, article: Article) -> None:
        self.article = article
        self._title: str | None = None
        self._summary: str | None = None
        self._author: str | None = None
        self._feed: str | None = None
        self._tag_keys: frozenset[str] | None = None
        self._host: str | None = None
        self._lang: str | None = None

    def __repr__(self) -> str:
        return f"FilterSubject(article id {self.article.id})"

    @property
    def title(self) -> str:
        """The title as written (what regexes search)."""
        return self.article.title

    @property
    def summary(self) -> str:
        """The summary as written."""
        return self.article.summary

    @property
    def author(self) -> str:
        """The author as written."""
        return self.article.author

    @property
    def feed_name(self) -> str:
        """The feed's name as written."""
        return self.article.feed_name

    @property
    def feed_id(self) -> int:
        """The feed's id."""
        return self.article.feed_id

    @property
    def tags(self) -> tuple[str, ...]:
        """The tags in display form."""
        return self.article.tags

    @property
    def title_folded(self) -> str:
        """The title casefolded, whitespace collapsed."""
        if self._title is None:
            self._title = fold(self.article.title)
        return self._title

    @property
    def summary_folded(self) -> str:
        """The summary casefolded, whitespace collapsed."""
        if self._summary is None:
            self._summary = fold(self.article.summary)
        return self._summary

    @property
    def author_folded(self) -> str:
        """The author casefolded, whitespace collapsed."""
        if self._author is None:
            self._author = fold(self.article.author)
        return self._author

    @property
    def feed_folded(self) -> str:
        """The feed's name casefolded, whitespace collapsed."""
        if self._feed is None:
            self._feed = fold(self.article.feed_name)
        return self._feed

    @property
    def tag_keys(self) -> frozenset[str]:
        """The tags' identities (`tag_key`)."""
        if self._tag_keys is None:
            self._tag_keys = frozenset(tag_key(t) for t in self.article.tags)
        return self._tag_keys

    @property
    def host(self) -> str:
        """The URL's host, lowercase, without a trailing dot; "" when there is none."""
        if self._host is None:
            self._host = _host_of(self.article.url)
        return self._host

    @property
    def lang(self) -> str:
        """The language code, lowercase, with "-" between its parts."""
        if self._lang is None:
            self._lang = self.article.lang.strip().lower().replace("_", "-")
        return self._lang


def subject_of(article: Article) -> FilterSubject:
    """The filter view of `article`; build it once and pass it to many filters."""
    return FilterSubject(article)


def _host_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".")
