"""Domain objects shared by every step of the pipeline: frozen, typed, no I/O."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Fairness = Literal["round-robin", "none"]  # how a digest shares its places among feeds
NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)  # what separates the words of a tag
# The dedup key prefix of items only their content tells apart: several items of one
# document share guid, link and title (a live blog's updates).
CONTENT_KEY = "content:"
CONSOLE_CHANNEL = "console"  # the terminal's channel (bot/chat/console_adapter.py)


@functools.lru_cache(maxsize=1 << 14)  # the same few thousand tags, compared again and again
def tag_key(tag: str) -> str:
    """The identity of a tag: `World News`, `world-news` and `#WorldNews` are one key."""
    return NON_ALNUM.sub("", tag).casefold()


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed document, normalized at the parse edge, not yet stored."""

    dedup_key: str
    url: str  # canonical link ("" when the entry has none)
    title: str
    content_html: str  # the richest body the feed gives (content, else description)
    author: str = ""
    categories: tuple[str, ...] = ()
    published: datetime | None = None  # aware UTC, None when missing or absurd
    lang: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document says about itself and its entries."""

    title: str
    link: str
    entries: tuple[Entry, ...]
    lang: str = ""
    skipped: tuple[str, ...] = ()  # one line per item that could not be read, saying why


@dataclass(frozen=True, slots=True)
class Article:
    """A stored, enriched story as commands, filters, digests and renderers see it."""

    id: int
    feed_id: int
    feed_name: str
    url: str
    title: str
    summary: str  # plain text, at most ~300 characters; "" for title-only feeds
    first_seen: datetime  # aware UTC
    published: datetime | None = None  # aware UTC
    author: str = ""
    tags: tuple[str, ...] = ()  # display form without '#', e.g. "WorldNews"
    lang: str = ""
    cluster_id: int = 0

    @property
    def when(self) -> datetime:
        """The time used for ordering: the published date, else first seen."""
        return self.published or self.first_seen


@dataclass(frozen=True, slots=True)
class Link:
    """A titled http(s) link, e.g. another outlet's take on the same story."""

    title: str
    url: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story in a digest: the lead article, other outlets, related stories."""

    article: Article
    also: tuple[Link, ...] = ()  # same story, other outlets
    related: tuple[Link, ...] = ()
    also_ids: tuple[int, ...] = ()  # the articles behind `also`, marked delivered with the lead


@dataclass(frozen=True, slots=True)
class Digest:
    """A titled, ordered list of stories for one channel (or one command reply)."""

    channel_id: str
    title: str
    created: datetime
    items: tuple[DigestItem, ...] = ()
    more: int = 0  # stories left out by max_items or fairness ("+N more")
    more_from: tuple[tuple[str, int], ...] = ()  # those stories per feed name, most first
    timezone: str = "UTC"  # the channel's zone: story times are shown in it


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a command or a reply (an OPML list), whatever the platform."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """What a chat command answers: text lines and/or stories, rendered per platform."""

    text: str = ""
    items: tuple[DigestItem, ...] = ()
    ephemeral: bool = False
    file: Attachment | None = None
    timezone: str = "UTC"  # the asking channel's zone: story times are shown in it


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed with its fetch state, as stored."""

    id: int
    url: str
    name: str
    tags: tuple[str, ...] = ()
    interval_s: int = 900
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    failed_body_hash: str = ""  # the body that failed to parse at the last poll, if it did
    failures: int = 0
    last_error: str = ""
    last_polled: datetime | None = None
    next_poll: datetime | None = None
    disabled: bool = False
    full_text: bool = False
    origin: str = "config"  # "config", or the id of the channel that added it from chat


@dataclass(frozen=True, slots=True)
class UnchangedPoll:
    """A poll that found a feed unchanged (304, or the same body): the state it leaves."""

    feed_id: int
    etag: str
    last_modified: str
    polled: datetime
    next_poll: datetime


@dataclass(frozen=True, slots=True)
class Channel:
    """A place digests go to, with what it follows and when."""

    id: str  # "console", "discord:<id>", "telegram:<chat>" or "telegram:<chat>/<topic>"
    feeds: tuple[str, ...] = ("*",)  # feed names or URLs; "*" = every feed
    filter: str = ""
    digest: str = "daily 08:00"
    timezone: str = "UTC"
    max_items: int = 10
    fairness: Fairness = "round-robin"  # "none": one prolific feed may fill the digest
    breaking: str = ""  # a filter: matching stories are posted as they arrive, not in digests
    post_empty: bool = False  # post "nothing new" when a digest would be empty


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as configured (file or chat), before it has any fetch state."""

    url: str
    name: str = ""
    tags: tuple[str, ...] = ()
    interval_s: int = 900
    full_text: bool = False


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An enriched entry ready to be stored (summary and tags computed)."""

    dedup_key: str
    url: str
    title: str
    summary: str
    author: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = ""
    published: datetime | None = None
    anchors: str = ""  # names, figures and rare words with weights (bot.enrich.anchors)
    vector: bytes = b""  # the story's meaning, packed (bot.enrich.vectors); b"" if unknown


@dataclass(frozen=True, slots=True)
class StoryPoint:
    """What same-story and related matching know of a stored article."""

    id: int
    feed_id: int
    cluster_id: int
    when: datetime  # published, else first seen; aware UTC
    seen: datetime  # first seen; aware UTC
    anchors: str
    vector: bytes


@dataclass(frozen=True, slots=True)
class Claimant:
    """This process as it claims work (due feeds, outbox digests) in a database other
    processes may share: its holder id, and how long a claim lasts unless renewed (a claim of
    a process that died is taken over once it runs out)."""

    holder: str = "this process"
    lease: timedelta = timedelta(seconds=30)
