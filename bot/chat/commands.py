"""Chat commands, the same on every platform: text in, Reply out."""

from __future__ import annotations

import difflib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.chat.publishing import PageLink, Publishing
from bot.chat.request import Caller, UserError
from bot.digest.compose import one_per_story
from bot.digest.local_time import TIME, format_local
from bot.digest.service import DigestService
from bot.digest.why import Why
from bot.enrich.stories import Stories
from bot.feeds.canonical import canonical_url
from bot.health import bot_lines, collect_status
from bot.logs import log_context
from bot.model import Article, Attachment, DigestItem, Reply
from bot.ports import Clock
from bot.ratelimit import RateLimiter
from bot.store.store import Store

if TYPE_CHECKING:  # the bot passes both; the CLI's lookups start without them
    from bot.chat.moderation import Moderation
    from bot.metrics import Metrics

log = logging.getLogger(__name__)
MAX_COUNT = 20
SEARCH_RESULTS = 5
_TAKES = 4  # articles looked up per result wanted: several may be takes on one story
LOOKUPS = frozenset({"latest", "search", "related", "digest", "status"})
LOOKUPS_PER_MINUTE = 6
# Moderator commands per user and minute: in a private chat everyone moderates their own
# digest, so these are open to anyone there.
MODERATION_PER_MINUTE = 30
TAG_SAMPLE = 500  # recent stories whose tags are offered for autocomplete

HELP = """newsbot commands
  /latest [tag] [count]   the newest stories, optionally with one tag
  /search <words>         stories matching every word
  /related <link|words>   stories related to a story or to some words
  /why <link>             why a story was or wasn't in this channel's digest
  /digest                 this channel's digest, now
  /status                 feeds, failures and the next digest
  /help                   this text
for moderators
  /feed list | add <url> [name] | remove <name or url>
  /feed import <OPML url or attached file> | export
  /filter show | set <expression> | clear | test <expression>
  /schedule show | set <when> [timezone]     e.g. daily 08:00, weekdays 07:30, every 6h
  /subscribe <feed>   /unsubscribe <feed>
  /publish on | off | new   this channel's digests on the web (anyone with the link reads)"""


Handler = Callable[[Caller, str], Awaitable[Reply]]


class Commands:
    """Parses a command line and runs it against the store.

    Without `moderation` only the public commands exist (the CLI's lookups); without
    `metrics` no timings are recorded."""

    def __init__(self, store: Store, digests: DigestService, moderation: Moderation | None,
                 stories: Stories, clock: Clock, limiter: RateLimiter | None = None,
                 metrics: Metrics | None = None, page_link: PageLink | None = None) -> None:
        self._metrics = metrics
        self._limiter = limiter or RateLimiter(LOOKUPS_PER_MINUTE, timedelta(minutes=1), clock)
        self._moderation_limiter = RateLimiter(MODERATION_PER_MINUTE, timedelta(minutes=1),
                                               clock)
        self._stories = stories
        self._why = Why(store, digests, clock)
        self._store = store
        self._digests = digests
        self._moderation = moderation
        self._clock = clock
        self._public: dict[str, Handler] = {
            "help": self._help, "start": self._help, "latest": self._latest,
            "search": self._search, "related": self._related, "why": self._explain,
            "digest": self._digest, "status": self._status}
        self._moderated: dict[str, Handler] = {} if moderation is None else {
            "feed": moderation.feed, "filter": moderation.filter,
            "schedule": moderation.schedule, "subscribe": moderation.subscribe,
            "unsubscribe": moderation.unsubscribe,
            "publish": Publishing(store.channels, clock, page_link).publish}

    @property
    def public_names(self) -> list[str]:
        """Commands anyone may run."""
        return [name for name in self._public if name != "start"]

    @property
    def moderator_names(self) -> list[str]:
        """Commands only moderators may run."""
        return list(self._moderated)

    async def handle(self, caller: Caller, text: str,
                     attachment: Attachment | None = None) -> Reply:
        """Run one command line such as `/search japan tariffs`, with the file sent along if
        any (only `/feed import` reads it); never raises."""
        started, name = time.perf_counter(), "?"
        with log_context(channel_id=caller.channel_id):
            try:
                name, rest = split_command(text)
                return await self.run(caller, name, rest, attachment)
            except UserError as error:
                return Reply(text=str(error), ephemeral=True)
            except Exception:
                log.exception("command %r in %s failed", text, caller.channel_id)
                return Reply(text="Sorry, something went wrong; the error has been logged.",
                             ephemeral=True)
            finally:
                if self._metrics is not None:
                    known = name in self._public or name in self._moderated
                    self._metrics.command_seconds.labels(name if known else "unknown").observe(
                        time.perf_counter() - started)

    async def run(self, caller: Caller, name: str, rest: str,
                  attachment: Attachment | None = None) -> Reply:
        """Run a parsed command; UserError for unknown commands and refusals. The reply
        carries the caller's channel's timezone: its times are shown there."""
        reply = await self._dispatch(caller, name, rest, attachment)
        return replace(reply, timezone=await self._timezone(caller))

    async def _dispatch(self, caller: Caller, name: str, rest: str,
                        attachment: Attachment | None) -> Reply:
        if name in self._public:
            if name in LOOKUPS and not caller.is_moderator:
                self._check_rate(caller, self._limiter)
            return await self._public[name](caller, rest.strip())
        if name in self._moderated:
            if not caller.is_moderator:
                raise UserError(f"/{name} is for moderators only.")
            self._check_rate(caller, self._moderation_limiter)
            if name == "feed" and self._moderation is not None:
                return await self._moderation.feed(caller, rest.strip(), attachment)
            return await self._moderated[name](caller, rest.strip())
        close = difflib.get_close_matches(name, [*self._public, *self._moderated], n=1)
        hint = f" Did you mean /{close[0]}?" if close else ""
        raise UserError(f"Unknown command /{name}.{hint} Try /help.")

    async def feed_names(self) -> list[str]:
        """Names of the feeds the bot polls (for autocomplete)."""
        return [feed.name for feed in await self._store.feeds.active_feeds()]

    async def tag_names(self) -> list[str]:
        """Tags of recent stories, most used first (for autocomplete)."""
        return await self._store.articles.recent_tags(limit=TAG_SAMPLE)

    async def _timezone(self, caller: Caller) -> str:
        """The caller's channel's timezone (set from chat, else configured, else the bot's)."""
        return (await self._digests.channel(caller.channel_id)).timezone

    def _check_rate(self, caller: Caller, limiter: RateLimiter) -> None:
        wait = limiter.wait_time(caller.user_id)
        if wait > timedelta(0):
            seconds = max(1, round(wait.total_seconds()))
            raise UserError(f"Slow down: you can ask again in {seconds} s.")

    async def _help(self, caller: Caller, rest: str) -> Reply:
        return Reply(text=HELP, ephemeral=True)

    async def _latest(self, caller: Caller, rest: str) -> Reply:
        args, count = rest.split(), 5
        if args and args[-1].isdigit():
            count = max(1, min(int(args.pop()), MAX_COUNT))
        tag = " ".join(args).lstrip("#")
        articles = await self._store.articles.latest(limit=count * _TAKES, tag=tag)
        if not articles:
            return Reply(text=f"No stories tagged #{tag} yet." if tag else "No stories yet.")
        heading = f"Latest #{tag}" if tag else "Latest stories"
        return Reply(text=heading, items=await self._one_per_story(articles, count))

    async def _search(self, caller: Caller, rest: str) -> Reply:
        words = rest
        if not words:
            raise UserError("Usage: /search <words>, for example /search japan tariffs")
        articles = await self._store.articles.search(words, limit=SEARCH_RESULTS * _TAKES)
        if not articles:
            return Reply(text=f"Nothing found for “{words}”.")
        return Reply(text=f"Search: {words}",
                      items=await self._one_per_story(articles, SEARCH_RESULTS))

    async def _one_per_story(self, found: list[Article], limit: int
                             ) -> tuple[DigestItem, ...]:
        """One item per story: five outlets' takes on one event are one result, the
        others named as "also", as in a digest."""
        stories = list(dict.fromkeys(a.cluster_id for a in found if a.cluster_id))[:limit]
        members = {c: await self._store.articles.story_members(c) for c in stories}
        return one_per_story(found, members, limit)

    async def _related(self, caller: Caller, rest: str) -> Reply:
        if not rest:
            raise UserError("Usage: /related <link to a story, or a few words>")
        if is_link(rest):
            article = await self._store.articles.by_url(canonical_url(rest) or rest)
            if article is None:
                raise UserError("I have no story with that link. Try /related with a few words.")
            found = await self._stories.related_to(article)
            heading = f"Related to “{article.title}”"
        else:
            found = await self._stories.related_to_words(rest)
            heading = f"Related: {rest}"
        if not found:
            return Reply(text=f"{heading}: nothing related found yet.")
        return Reply(text=heading, items=await self._one_per_story(found, len(found)))

    async def _explain(self, caller: Caller, rest: str) -> Reply:
        if not is_link(rest):
            raise UserError("Usage: /why <link to a story>")
        return Reply(text=await self._why.explain_url(caller.channel_id, rest), ephemeral=True)

    async def _digest(self, caller: Caller, rest: str) -> Reply:
        digest = await self._digests.post_now(caller.channel_id)
        if not digest.items:
            return Reply(text="Nothing new since the last digest.")
        return Reply(text=f"Posted a digest of {len(digest.items)} stories.", ephemeral=True)

    async def _status(self, caller: Caller, rest: str) -> Reply:
        status = await collect_status(self._store, await self._digests.channels(),
                                      self._clock())
        zone = await self._timezone(caller)
        states = Counter(feed.state for feed in status.feeds)
        lines = [*bot_lines(status, zone),
                 f"{len(status.feeds)} feeds ({states['ok']} ok, {states['backing off']} "
                 f"backing off, {states['disabled']} disabled), {status.articles} stories "
                 "stored."]
        for feed in status.failing[:10]:
            state = ("disabled" if feed.disabled else f"backing off ({feed.failures}x, next "
                     f"try {format_local(feed.next_poll, zone, TIME)})" if feed.next_poll
                     else "backing off")
            lines.append(f"• {feed.name}: {state}: {feed.last_error}")
        for channel in status.channels:
            if channel.id == caller.channel_id:
                when = (format_local(channel.next_digest, zone) if channel.next_digest
                        else "never")
                lines.append(f"Next digest here: {when} ({channel.digest}, {channel.timezone})")
                if channel.paused:
                    lines.append(f"Paused: {channel.paused}. Fix the bot's access, then "
                                 "/subscribe (or /feed add) resumes it.")
                if channel.failed_digests:
                    lines.append(f"Failed digests here: {channel.failed_digests} (a message "
                                 "the platform kept refusing; the log says why).")
        return Reply(text="\n".join(lines))


def is_link(text: str) -> bool:
    """Whether a command argument is a web link rather than words."""
    return text.startswith(("http://", "https://")) and " " not in text.strip()


def split_command(text: str) -> tuple[str, str]:
    """`/search@newsbot japan tariffs` -> ("search", "japan tariffs")."""
    text = text.strip()
    head, _, rest = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    if not text.startswith("/") or not name:
        raise UserError("Commands start with /. Try /help.")
    return name, rest.strip()
