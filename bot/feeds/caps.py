"""Caps on every field a feed gives, applied once where entries are built, before anything
else sees the text."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

TITLE = 300  # characters; longer titles are cut at a word boundary with an ellipsis
CONTENT = 100_000  # characters of HTML (a long article is ~30,000)
AUTHOR = 200
CATEGORIES = 20  # the first ones are kept
CATEGORY = 100  # characters of one category
LINK = 2048  # characters; a longer link is dropped, not cut (a cut link leads elsewhere)
GUID = 512  # characters; a longer guid is kept as its hash
LANGUAGE = 35  # the longest sensible BCP 47 tag; a longer one is dropped
ELLIPSIS = "…"


def cut_words(text: str, limit: int) -> str:
    """`text` if it fits, else cut at the last word boundary before `limit`, plus an ellipsis.

    A text without a boundary in its second half (one enormous word) is cut mid-word.
    """
    if len(text) <= limit:
        return text
    head = text[:limit - len(ELLIPSIS) + 1]
    space = head.rfind(" ")
    head = head[:space] if space > limit // 2 else head[:-1]
    return head.rstrip() + ELLIPSIS


def cap_content(html: str) -> str:
    """An entry's HTML body, at most CONTENT characters (the HTML cleaner copes with a cut)."""
    return html[:CONTENT]


def cap_link(url: str) -> str:
    """The link, or "" when it is longer than any real one."""
    return url if len(url) <= LINK else ""


def cap_guid(guid: str) -> str:
    """The guid, or a stable hash of it when it is absurdly long."""
    if len(guid) <= GUID:
        return guid
    return "sha256:" + hashlib.sha256(guid.encode("utf-8", "surrogatepass")).hexdigest()


def cap_language(lang: str) -> str:
    """The language tag, or "" when it cannot be one."""
    return lang if len(lang) <= LANGUAGE else ""


def cap_categories(terms: Iterable[str]) -> tuple[str, ...]:
    """At most CATEGORIES categories, each at most CATEGORY characters."""
    capped: list[str] = []
    for term in terms:
        if len(capped) == CATEGORIES:
            break
        capped.append(cut_words(term, CATEGORY))
    return tuple(capped)


def cap_author(author: str) -> str:
    """An author line of at most AUTHOR characters."""
    return cut_words(author, AUTHOR)
